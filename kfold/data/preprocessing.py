"""Preprocessing fitted inside each fold, never on the held-out part.

The book standardizes with the mean and standard deviation of all 404 training
samples before splitting, so every validation fold has already been seen. kfold
fits a fresh copy of ``preprocess`` on the training part of each fold and only
applies it to the held-out part.
"""
from __future__ import annotations

import copy
from typing import Any

import numpy as np

from kfold.core import fail

__all__ = ["Standardize", "check_preprocess", "fit_preprocess", "apply_preprocess"]


class Standardize:
    """Feature-wise standardization: subtract the mean, divide by the std.

    The book's normalization (listing 3.25) as an object with ``fit`` and
    ``transform``, so it can be fitted on each fold's training part. Features with
    zero spread are divided by 1 instead of 0.

    Attributes
    ----------
    mean_, std_ : np.ndarray
        Per-feature statistics of the data given to ``fit``.

    Examples
    --------
    >>> x = np.array([[1.0, 10.0], [3.0, 10.0]])
    >>> Standardize().fit(x).transform(x)
    array([[-1.,  0.],
           [ 1.,  0.]], dtype=float32)
    """

    def fit(self, x: Any, y: Any = None) -> "Standardize":
        """Store the mean and std of each feature of ``x`` (axis 0)."""
        x = np.asarray(x, dtype=np.float64)
        self.mean_ = x.mean(axis=0)
        std = x.std(axis=0)
        self.std_ = np.where(std > 0, std, 1.0)
        return self

    def transform(self, x: Any) -> np.ndarray:
        """Return ``(x - mean_) / std_``, in float32 (the Keras default)."""
        if not hasattr(self, "mean_"):
            raise RuntimeError("This Standardize is not fitted yet: call fit(x) first.")
        x = np.asarray(x, dtype=np.float64)
        return ((x - self.mean_) / self.std_).astype(np.float32)

    def fit_transform(self, x: Any, y: Any = None) -> np.ndarray:
        """``fit(x)`` then ``transform(x)``."""
        return self.fit(x).transform(x)

    def __repr__(self) -> str:
        return "Standardize()"


def _check_one(step: Any, param: str) -> None:
    if step is not None and not (hasattr(step, "fit") and hasattr(step, "transform")):
        fail(param, "an object with fit() and transform() methods, e.g. kfold.Standardize()", step)


def check_preprocess(preprocess: Any, x: Any) -> None:
    """Raise unless ``preprocess`` fits the shape of ``x``.

    One object for an array ``x``; for a dict (or list) of input arrays, a dict
    (or list) with one object or ``None`` per input.

    Examples
    --------
    >>> check_preprocess({"a": Standardize(), "b": None}, {"a": np.ones(2), "b": np.ones(2)})
    """
    if preprocess is None:
        return
    if isinstance(x, dict):
        if not isinstance(preprocess, dict) or not set(preprocess) <= set(x):
            fail("preprocess", f"a dict keyed by input names {sorted(x)} for a dict x", preprocess)
        for name, step in preprocess.items():
            _check_one(step, f"preprocess[{name!r}]")
    elif isinstance(x, (list, tuple)):
        if not isinstance(preprocess, (list, tuple)) or len(preprocess) != len(x):
            fail("preprocess", f"a list of {len(x)} steps (or None) for a list x", preprocess)
        for i, step in enumerate(preprocess):
            _check_one(step, f"preprocess[{i}]")
    else:
        _check_one(preprocess, "preprocess")


def _pairs(preprocess: Any, x: Any) -> list:
    """(key, step) for each input that has a step; key None for a plain array."""
    if isinstance(preprocess, dict):
        return [(name, step) for name, step in preprocess.items() if step is not None]
    if isinstance(preprocess, (list, tuple)):
        return [(i, step) for i, step in enumerate(preprocess) if step is not None]
    return [(None, preprocess)]


def apply_preprocess(fitted: Any, x: Any) -> Any:
    """Transform ``x`` with already fitted step(s) (the result of ``fit_preprocess``).

    Examples
    --------
    >>> step, _ = fit_preprocess(Standardize(), np.array([[0.0], [2.0]]))
    >>> apply_preprocess(step, np.array([[4.0]]))
    array([[3.]], dtype=float32)
    """
    if fitted is None:
        return x
    pairs = _pairs(fitted, x)
    if pairs[0][0] is None:
        return fitted.transform(x)
    out = dict(x) if isinstance(x, dict) else list(x)
    for key, step in pairs:
        out[key] = step.transform(x[key])
    return out if isinstance(x, dict) else type(x)(out)


def fit_preprocess(preprocess: Any, x_train: Any) -> tuple[Any, Any]:
    """Fit a fresh copy of ``preprocess`` on ``x_train``; return it and ``x_train`` transformed.

    ``preprocess`` itself is never modified: each fold gets a deep copy, so no
    statistics leak from one fold to another.

    Examples
    --------
    >>> step, x = fit_preprocess(Standardize(), np.array([[0.0], [2.0]]))
    >>> step.mean_, x.ravel()
    (array([1.]), array([-1.,  1.], dtype=float32))
    """
    if preprocess is None:
        return None, x_train
    fitted = copy.deepcopy(preprocess)
    for key, step in _pairs(fitted, x_train):
        step.fit(x_train if key is None else x_train[key])
    return fitted, apply_preprocess(fitted, x_train)
