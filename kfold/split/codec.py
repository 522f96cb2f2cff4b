"""Folds as JSON: ``[[train indices], [val indices]]`` per fold, and back to index arrays."""
from __future__ import annotations

from typing import Any, Iterable, Sequence

import numpy as np

__all__ = ["folds_to_json", "folds_from_json"]


def folds_to_json(folds: Iterable[tuple[Any, Any]]) -> list[list[list[int]]]:
    """``(train, val)`` index pairs as plain lists, for a JSON file.

    Examples
    --------
    >>> folds_to_json([(np.array([1, 2]), np.array([0]))])
    [[[1, 2], [0]]]
    """
    return [[np.asarray(train).tolist(), np.asarray(val).tolist()] for train, val in folds]


def folds_from_json(data: Sequence[Sequence[Sequence[int]]]) -> list[tuple[np.ndarray, np.ndarray]]:
    """The ``(train, val)`` index arrays that :func:`folds_to_json` wrote.

    Examples
    --------
    >>> [(t.dtype == np.intp, v.tolist()) for t, v in folds_from_json([[[1, 2], [0]]])]
    [(True, [0])]
    """
    return [(np.asarray(train, dtype=np.intp), np.asarray(val, dtype=np.intp)) for train, val in data]
