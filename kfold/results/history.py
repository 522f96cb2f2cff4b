"""Per-fold, per-epoch training logs, indexable by fold, epoch and key.

One record per fold, holding Keras' own log names (``loss``, ``mae``,
``val_loss``, ``val_mae``) with one value per epoch. Epochs are 0-based when
indexing, 1-based when shown. Folds that stopped early are shorter; the 2-D view
pads them with NaN.
"""
from __future__ import annotations

import math
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from kfold.core import fail

__all__ = ["CVHistory", "records_to_history"]


class CVHistory:
    """The logs of every epoch of every fold.

    Parameters
    ----------
    folds : sequence of mapping
        One mapping per fold from a log key to its per-epoch values.

    Examples
    --------
    >>> h = CVHistory([{"val_mae": [3.0, 2.5]}, {"val_mae": [2.8]}])
    >>> h["val_mae"]                  # (n_folds, n_epochs), NaN-padded
    array([[3. , 2.5],
           [2.8, nan]])
    >>> h[0]                          # one fold, as a dict of lists
    {'val_mae': [3.0, 2.5]}
    >>> h[0, "val_mae"], h[0, 1, "val_mae"]
    ([3.0, 2.5], 2.5)
    >>> h.keys(), h.n_folds, h.epochs_run
    (['val_mae'], 2, [2, 1])
    """

    def __init__(self, folds: Sequence[Mapping[str, Iterable[float]]]) -> None:
        self._folds = [
            {str(key): [float(v) for v in values] for key, values in fold.items()}
            for fold in folds
        ]

    @property
    def n_folds(self) -> int:
        """Number of folds."""
        return len(self._folds)

    @property
    def epochs_run(self) -> list[int]:
        """Number of epochs each fold ran (fewer than asked for if it stopped early)."""
        return [max((len(v) for v in fold.values()), default=0) for fold in self._folds]

    @property
    def n_epochs(self) -> int:
        """Length of the longest fold's history."""
        return max(self.epochs_run, default=0)

    def keys(self) -> list[str]:
        """Log keys, in the order Keras first reported them."""
        seen: dict[str, None] = {}
        for fold in self._folds:
            seen.update(dict.fromkeys(fold))
        return list(seen)

    def __contains__(self, key: object) -> bool:
        return key in self.keys()

    def _check_key(self, key: str) -> None:
        if key not in self:
            fail("key", "one of the history's keys " + str(self.keys()), key)

    def _check_fold(self, fold: int) -> int:
        if not -self.n_folds <= fold < self.n_folds:
            fail("fold", f"an index in [0, {self.n_folds})", fold)
        return fold

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, str):
            return self.curves(index)
        if isinstance(index, (int, np.integer)):
            fold = self._folds[self._check_fold(int(index))]
            return {key: list(values) for key, values in fold.items()}
        if isinstance(index, tuple) and len(index) == 2:
            fold, key = index
            self._check_key(key)
            return list(self._folds[self._check_fold(fold)].get(key, []))
        if isinstance(index, tuple) and len(index) == 3:
            fold, epoch, key = index
            return self[fold, key][epoch]
        fail("index", "a key, a fold, (fold, key) or (fold, epoch, key)", index)

    def curves(self, key: str) -> np.ndarray:
        """The ``(n_folds, n_epochs)`` float array of ``key``, NaN-padded.

        Examples
        --------
        >>> CVHistory([{"loss": [1.0]}, {"loss": [2.0]}]).curves("loss").shape
        (2, 1)
        """
        self._check_key(key)
        out = np.full((self.n_folds, self.n_epochs), np.nan)
        for row, fold in zip(out, self._folds):
            values = fold.get(key, [])
            row[: len(values)] = values
        return out

    def to_dict(self) -> dict:
        """Plain Python types for JSON: NaN and infinities become ``None``.

        Examples
        --------
        >>> CVHistory([{"loss": [float("nan"), 1.0]}]).to_dict()
        {'folds': [{'loss': [None, 1.0]}]}
        """
        return {
            "folds": [
                {key: [v if math.isfinite(v) else None for v in values] for key, values in fold.items()}
                for fold in self._folds
            ]
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "CVHistory":
        """Rebuild a history from ``to_dict()`` output (``None`` back to NaN).

        Examples
        --------
        >>> h = CVHistory([{"loss": [1.0, 0.5]}])
        >>> CVHistory.from_dict(h.to_dict()) == h
        True
        """
        return cls(
            [
                {key: [np.nan if v is None else v for v in values] for key, values in fold.items()}
                for fold in data["folds"]
            ]
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CVHistory) or self.keys() != other.keys():
            return NotImplemented if not isinstance(other, CVHistory) else False
        return all(
            np.array_equal(self.curves(k), other.curves(k), equal_nan=True) for k in self.keys()
        )

    __hash__ = None  # mutable-looking container: not hashable, like a dict

    def __repr__(self) -> str:
        return f"CVHistory(n_folds={self.n_folds}, epochs_run={self.epochs_run}, keys={self.keys()})"


def records_to_history(records: list[dict]) -> dict[str, list[float]]:
    """Per-epoch log dicts (Keras' ``logs``) as one list per key; a key missing in an epoch is NaN.

    Examples
    --------
    >>> records_to_history([{"loss": 2.0}, {"loss": 1.0, "val_loss": 1.5}])
    {'loss': [2.0, 1.0], 'val_loss': [nan, 1.5]}
    """
    keys = list(dict.fromkeys(key for logs in records for key in logs))
    return {key: [float(logs.get(key, np.nan)) for logs in records] for key in keys}
