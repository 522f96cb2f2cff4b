"""The outer progress display: one tqdm bar over the folds, one line per finished fold.

Keras' own per-epoch bar stays off while this bar shows (``verbose=1``).
"""
from __future__ import annotations

import sys
from typing import Any

from kfold.results.scores import held_out_name

__all__ = ["FoldProgress", "format_scores"]


def format_scores(scores: dict[str, float]) -> str:
    """Keras-style ``key: value`` pairs.

    Examples
    --------
    >>> format_scores({"loss": 9.53125, "mae": 2.1})
    'loss: 9.5312 - mae: 2.1000'
    """
    return " - ".join(f"{key}: {value:.4f}" for key, value in scores.items())


class FoldProgress:
    """A context manager that shows fold i/k, the elapsed time and each fold's score.

    Parameters
    ----------
    total : int
        Number of folds.
    verbose : int
        0 shows nothing; 1 or more shows the bar and one line per fold.
    label : str
        What is counted (``"fold"``).

    Examples
    --------
    >>> with FoldProgress(2, verbose=0) as progress:
    ...     progress.note("Training the folds one after another")
    ...     progress.done(0, {"mae": 2.5}, 1.2)
    """

    def __init__(self, total: int, verbose: int, label: str = "fold", file: Any = None) -> None:
        self.total, self.verbose, self.label = total, verbose, label
        self.file = file if file is not None else sys.stderr
        self._bar = None

    def __enter__(self) -> "FoldProgress":
        if self.verbose:
            from tqdm import tqdm

            self._bar = tqdm(total=self.total, desc=f"{self.label}s", unit=self.label,
                             file=self.file, dynamic_ncols=True)
        return self

    def note(self, message: str) -> None:
        """Print one line above the bar (nothing when silent)."""
        if self._bar is not None:
            self._bar.write(message, file=self.file)

    def done(self, index: int, scores: dict[str, float], seconds: float, *, name: str | None = None) -> None:
        """Report that fold ``index`` (0-based) finished with ``scores`` (``name`` replaces "Fold 2/5").

        The held-out scores are shown under held-out names: ``val_loss: 6.9891 - val_mae: 1.8953``.
        """
        if self._bar is None:
            return
        name = name or f"{self.label.capitalize()} {index + 1}/{self.total}"
        held_out = {held_out_name(k): v for k, v in scores.items()}  # evaluated on the fold's validation part
        self._bar.write(f"{name} - {seconds:.1f}s - {format_scores(held_out)}", file=self.file)
        self._bar.update(1)

    def __exit__(self, *exc: Any) -> None:
        if self._bar is not None:
            self._bar.close()
