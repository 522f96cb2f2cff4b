"""The outer progress display: one bar over the folds (or epochs × folds), one line per finished fold.

Sequential training counts folds; fused training counts fold-epochs (every fold's
epochs, all trained at once), so the bar moves every epoch. Both show the elapsed
and remaining time and the current mean of the selection metric (``val_loss``
by default) over the folds. On a terminal the bar is tqdm's; anywhere else (a
log file, a pipe, CI) plain lines are printed now and then instead, never a
``\\r`` or a bar fragment. Keras' own per-epoch bar stays off (``verbose=1``).
"""
from __future__ import annotations

import sys
import time
from typing import Any

import numpy as np

from kfold.results import held_out_name

__all__ = ["FoldProgress", "CandidateProgress", "run_view", "format_scores", "format_seconds"]

# Plain (not a terminal) output: a line when this share of the work or this many seconds passed.
LINE_EVERY_SHARE = 0.1
LINE_EVERY_SECONDS = 60.0


def format_scores(scores: dict[str, float]) -> str:
    """Keras-style ``key: value`` pairs.

    Examples
    --------
    >>> format_scores({"loss": 9.53125, "mae": 2.1})
    'loss: 9.5312 - mae: 2.1000'
    """
    return " - ".join(f"{key}: {value:.4f}" for key, value in scores.items())


def format_seconds(seconds: float) -> str:
    """``m:ss`` (or ``h:mm:ss``).

    Examples
    --------
    >>> format_seconds(75.2), format_seconds(3725)
    ('1:15', '1:02:05')
    """
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def _is_terminal(file: Any) -> bool:
    try:
        return bool(file.isatty())
    except (AttributeError, ValueError, OSError):
        return False


class _Lines:
    """A bar as plain lines: ``folds: 2/5 (40%) - 0:12 elapsed, ~0:18 left - mean val_loss: 1.2340``."""

    def __init__(self, total: int, desc: str, file: Any) -> None:
        self.total, self.desc, self.file, self.n = total, desc, file, 0
        self.start = self._last_time = time.perf_counter()
        self._last_n, self.postfix = 0, ""

    def update(self, n: int) -> None:
        self.n += n
        now = time.perf_counter()
        if (self.n >= self.total or self.n - self._last_n >= LINE_EVERY_SHARE * self.total
                or now - self._last_time >= LINE_EVERY_SECONDS):
            self._last_n, self._last_time = self.n, now
            elapsed = now - self.start
            left = elapsed / self.n * (self.total - self.n) if self.n else float("nan")
            share = f"{100 * self.n / self.total:.0f}%" if self.total else "-"
            parts = [f"{self.desc}: {self.n}/{self.total} ({share})", f"{format_seconds(elapsed)} elapsed"]
            if self.n < self.total and np.isfinite(left):
                parts[-1] += f", ~{format_seconds(left)} left"
            self.write(" - ".join(parts + ([self.postfix] if self.postfix else [])))

    def set_postfix_str(self, text: str, refresh: bool = True) -> None:
        self.postfix = text

    def reset(self, total: int) -> None:
        self.total, self.n, self._last_n = total, 0, 0

    def write(self, message: str, file: Any = None) -> None:
        print(message, file=self.file, flush=True)

    def close(self) -> None:
        pass


class FoldProgress:
    """A context manager that shows fold i/k (or fold-epochs), times and the mean selection metric.

    Parameters
    ----------
    total : int
        Number of folds.
    verbose : int
        0 shows nothing; 1 or more shows the bar and one line per fold.
    label : str
        What is counted (``"fold"``).
    file : file object, optional
        Where to write (``sys.stderr``); a bar only if it is a terminal.
    metric : str
        The selection metric whose mean over the folds is shown (``"val_loss"``).

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> with FoldProgress(2, verbose=1, file=out) as progress:
    ...     progress.done(0, {"loss": 2.5}, 1.2)
    ...     progress.done(1, {"loss": 1.5}, 1.0)
    >>> print(out.getvalue().replace("\\r", "?"))  # doctest: +ELLIPSIS
    Fold 1/2 - 1.2s - val_loss: 2.5000
    folds: 1/2 (50%) - 0:00 elapsed, ~0:00 left - mean val_loss: 2.5000
    Fold 2/2 - 1.0s - val_loss: 1.5000
    folds: 2/2 (100%) - 0:00 elapsed - mean val_loss: 2.0000
    <BLANKLINE>
    """

    def __init__(self, total: int, verbose: int, label: str = "fold", file: Any = None,
                 metric: str = "val_loss") -> None:
        self.total, self.verbose, self.label, self.metric = total, verbose, label, metric
        self.file = file if file is not None else sys.stderr
        self._bar: Any = None
        self._fused = False
        self._scores: dict[int, float] = {}

    def __enter__(self) -> "FoldProgress":
        if self.verbose:
            self._bar = self._make_bar(self.total, f"{self.label}s", self.label)
        return self

    def _make_bar(self, total: int, desc: str, unit: str) -> Any:
        if not _is_terminal(self.file):
            return _Lines(total, desc, self.file)
        from tqdm import tqdm

        return tqdm(total=total, desc=desc, unit=unit, file=self.file, dynamic_ncols=True)

    def _show_mean(self, values: list[float]) -> None:
        values = [v for v in values if np.isfinite(v)]
        if self._bar is not None and values:
            self._bar.set_postfix_str(f"mean {self.metric}: {np.mean(values):.4f}", refresh=False)

    def note(self, message: str) -> None:
        """Print one line above the bar (nothing when silent)."""
        if self._bar is not None:
            self._bar.write(message, file=self.file)

    def fused(self, n_folds: int, epochs: int) -> None:
        """From now on the bar counts fold-epochs: ``n_folds`` folds trained together for ``epochs``."""
        self._fused = True
        if self._bar is not None:
            self._bar.close()
            self._bar = self._make_bar(n_folds * epochs, "fold-epochs", "fold-epoch")

    def epoch(self, steps: int, logs: list[dict]) -> None:
        """``steps`` more fold-epochs are done; ``logs`` holds each training fold's latest epoch logs."""
        if self._bar is None:
            return
        self._show_mean([float(l[self.metric]) for l in logs if self.metric in l])
        self._bar.update(steps)

    def done(self, index: int, scores: dict[str, float], seconds: float | None, *,
             name: str | None = None) -> None:
        """Report that fold ``index`` (0-based) finished with ``scores`` (``name`` replaces "Fold 2/5").

        The held-out scores are shown under held-out names: ``val_loss: 6.9891 - val_mae: 1.8953``.
        ``seconds=None``: no time of its own (folds trained together report theirs once, in a note).
        """
        if self._bar is None:
            return
        name = name or f"{self.label.capitalize()} {index + 1}/{self.total}"
        took = "" if seconds is None else f" - {seconds:.1f}s"
        held_out = {held_out_name(k): v for k, v in scores.items()}  # evaluated on the fold's validation part
        self._bar.write(f"{name}{took} - {format_scores(held_out)}", file=self.file)
        if self._fused:
            return
        key = self.metric.removeprefix("val_")
        if key in scores:
            self._scores[index] = float(scores[key])
        self._show_mean(list(self._scores.values()))
        self._bar.update(1)

    def __exit__(self, *exc: Any) -> None:
        if self._bar is not None:
            self._bar.close()


class CandidateProgress:
    """A candidate's view of the search's progress bar: its folds are named "Candidate 2, fold 3/5"."""

    def __init__(self, progress: FoldProgress, candidate: int, n_folds: int) -> None:
        self.progress, self.candidate, self.n_folds = progress, candidate, n_folds

    def note(self, message: str) -> None:
        self.progress.note(f"Candidate {self.candidate + 1}: {message}")

    def done(self, index: int, scores: dict[str, float], seconds: float | None) -> None:
        name = f"Candidate {self.candidate + 1}, fold {index + 1}/{self.n_folds}"
        self.progress.done(index, scores, seconds, name=name)

    def __getattr__(self, name: str) -> Any:  # the fused engine's epoch counting goes to the bar itself
        return getattr(self.progress, name)


def run_view(progress: FoldProgress, runs: list, index: int) -> Any:
    """What a run reports to: the bar itself for one cross-validation, a candidate's view in a search.

    Examples
    --------
    >>> progress = FoldProgress(4, verbose=0)
    >>> run_view(progress, [object()], 0) is progress, type(run_view(progress, [object()] * 2, 1)).__name__
    (True, 'CandidateProgress')
    """
    return progress if len(runs) == 1 else CandidateProgress(progress, index, len(getattr(runs[index], "tasks", ())))
