"""Shared machinery of the splitters: the base class, argument checks, sample counts.

Everything here is private to :mod:`kfold`; the public splitters live in
:mod:`kfold.split.splitters` and :mod:`kfold.split.repeated`.
"""
from __future__ import annotations

import inspect
import numbers
import warnings
from typing import Any, Iterator

import numpy as np

from kfold.core import Described, fail
from kfold.data import check_same_length, n_samples

__all__ = [
    "BaseSplitter",
    "FoldSplitter",
    "Folds",
    "check_n_splits",
    "check_shuffle",
    "check_random_state",
    "check_size",
    "check_fold_count",
    "resolve_rng",
    "iter_folds",
    "stratification_codes",
    "is_class_target",
]

Folds = Iterator[tuple[np.ndarray, np.ndarray]]
_MAX_SEED = 2**32 - 1


# ---------------------------------------------------------------- argument checks
def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def check_n_splits(value: Any, minimum: int = 2, param: str = "n_splits") -> int:
    """Return ``value`` as an ``int`` if it is an integer ``>= minimum``, else raise."""
    if not _is_int(value) or value < minimum:
        fail(param, f"an integer >= {minimum}", value)
    return int(value)


def check_shuffle(value: Any) -> bool:
    """Return ``value`` if it is a bool, else raise."""
    if not isinstance(value, (bool, np.bool_)):
        fail("shuffle", "True or False", value)
    return bool(value)


def check_random_state(value: Any, shuffle: bool = True) -> Any:
    """Check a ``random_state``: None, a seed, or a ``np.random.RandomState``."""
    if not (value is None or isinstance(value, np.random.RandomState)
            or (_is_int(value) and 0 <= value <= _MAX_SEED)):
        fail("random_state", "None, an integer seed in [0, 2**32 - 1] or a "
             "numpy.random.RandomState", value,
             "Pass an integer seed for splits that are the same on every call")
    if not shuffle and value is not None:
        fail("random_state", "None when shuffle=False (unshuffled splits use no "
             "randomness)", value, "Pass shuffle=True as well, or leave random_state=None")
    return value


def check_size(param: str, value: Any, allow_none: bool = True) -> Any:
    """Check a split size: a fraction in (0, 1), a count >= 1 or (maybe) None."""
    if value is None and allow_none:
        return None
    if _is_int(value) and value >= 1:
        return int(value)
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)) \
            and not _is_int(value) and 0 < value < 1:
        return float(value)
    expected = "a fraction in (0, 1) or an integer count >= 1"
    fail(param, expected + (", or None" if allow_none else ""), value)


def check_fold_count(n_splits: int, n_samples: int) -> None:
    """Raise if there are more folds than samples."""
    if n_splits > n_samples:
        fail("n_splits", f"at most n_samples={n_samples} folds (each fold needs one "
             "sample at least)", n_splits, f"Use fewer folds than the {n_samples} samples")


def resolve_rng(random_state: Any) -> np.random.RandomState:
    """Turn a checked ``random_state`` into the ``RandomState`` to draw from.

    ``None`` gives numpy's global ``RandomState`` (as scikit-learn does), a seed a
    fresh one, and a ``RandomState`` itself (so its state carries across calls).
    """
    if random_state is None:
        return np.random.mtrand._rand
    if isinstance(random_state, np.random.RandomState):
        return random_state
    return np.random.RandomState(random_state)


# ---------------------------------------------------------------- targets
_LABELS = "class labels (integers, strings, booleans) or a 2-D one-hot array"


def _shape_of(arr: np.ndarray) -> Described:
    return Described(f"<array of dtype {arr.dtype} and shape {arr.shape}>")


def _is_one_hot(arr: np.ndarray) -> bool:
    return arr.dtype.kind in "biuf" and bool(np.all((arr == 0) | (arr == 1))) \
        and bool(np.all(arr.sum(axis=1) == 1))


def _target_array(y: Any, one_hot: bool) -> np.ndarray:
    """``y`` as a 1-D array; a column is flattened, a one-hot array argmax-ed."""
    try:
        arr = np.asarray(y)
    except ValueError:
        fail("y", _LABELS, Described(f"<ragged {type(y).__name__}>"))
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    elif arr.ndim == 2 and one_hot:
        if arr.dtype.kind not in "biuf" or not np.all(np.isfinite(arr)):
            fail("y", "a one-hot (or class-probability) array of finite numbers",
                 _shape_of(arr))
        if np.all((arr == 0) | (arr == 1)) and not _is_one_hot(arr):
            fail("y", "a one-hot array with exactly one 1 per row", _shape_of(arr),
                 "Multi-label targets cannot be stratified on one class; use KFold")
        arr = arr.argmax(axis=1)
    if arr.ndim != 1 or arr.dtype.kind == "c":
        fail("y", _LABELS if one_hot else "a 1-D numeric target", _shape_of(arr))
    return arr


def _finite_float(arr: np.ndarray) -> np.ndarray:
    if arr.dtype.kind not in "biuf":
        fail("y", "numbers when `bins` is set (bins are quantiles of y)", _shape_of(arr))
    arr = arr.astype(float)
    if not np.all(np.isfinite(arr)):
        fail("y", "finite values", Described("<array containing NaN or infinity>"))
    return arr


def _quantile_bins(y: np.ndarray, bins: int) -> np.ndarray:
    """Label each value of ``y`` with its quantile bin, ``0 .. bins - 1``."""
    values = _finite_float(y)
    inner_edges = np.quantile(values, np.linspace(0, 1, bins + 1)[1:-1])
    return np.digitize(values, inner_edges)


def _by_first_appearance(labels: np.ndarray) -> np.ndarray:
    """Integer codes of ``labels``: 0 for the first label seen, 1 for the next..."""
    try:
        _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    except TypeError:
        fail("y", "labels of a single, comparable type", _shape_of(labels))
    rank = np.empty(len(first), dtype=np.intp)
    rank[np.argsort(first)] = np.arange(len(first))
    return rank[inverse.ravel()]


def stratification_codes(y: Any, bins: int | None) -> np.ndarray:
    """Integer class codes (by first appearance) to stratify on.

    ``y`` holds class labels, a one-hot array (argmax-ed), or with ``bins`` a
    continuous target cut into ``bins`` quantile bins.
    """
    if y is None:
        fail("y", "the targets, one per sample", None,
             "Stratified splitters need them: call split(X, y)")
    arr = _target_array(y, one_hot=bins is None)
    if bins is not None:
        return _by_first_appearance(_quantile_bins(arr, bins))
    if arr.dtype.kind == "f" and np.any(arr != np.round(_finite_float(arr))):
        fail("y", _LABELS, _shape_of(arr), "y looks continuous (float values that are "
             "not whole numbers); to stratify a regression target on its quantiles "
             "use StratifiedKFold(..., bins=5)")
    return _by_first_appearance(arr)


def is_class_target(y: Any) -> bool:
    """Whether ``y`` holds class labels: integers, strings, bools or one-hot rows."""
    try:
        arr = np.asarray(y)
    except (ValueError, TypeError):
        return False
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim == 2:
        return arr.size > 0 and _is_one_hot(arr)
    if arr.ndim != 1 or arr.size == 0:
        return False
    if arr.dtype.kind == "f":
        return bool(np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)))
    if arr.dtype.kind == "O":
        return all(isinstance(item, str) for item in arr)
    return arr.dtype.kind in "biuUS"


# ---------------------------------------------------------------- base classes
class BaseSplitter:
    """Base of every splitter: scikit-learn's ``split``/``get_n_splits`` protocol.

    Subclasses implement ``_split(n_samples, y, groups)``, which checks its inputs
    at once and returns an iterator of ``(train, val)`` index arrays.
    """

    _uses_groups = False

    def split(self, X: Any, y: Any = None, groups: Any = None) -> Folds:
        """Generate the ``(train, val)`` indices of every split.

        The inputs are checked when ``split`` is called, before the first split.

        Parameters
        ----------
        X : array-like, list, or dict/list of arrays
            The inputs; only their number of samples is used. A dict, or a list
            of arrays, holds the inputs of a multi-input model.
        y : array-like, optional
            The targets, one per sample (needed by the stratified splitters).
        groups : array-like, optional
            Group labels, one per sample (needed by ``GroupKFold``).

        Yields
        ------
        train, val : numpy.ndarray of numpy.intp
            Indices of the training and of the validation samples.

        Examples
        --------
        >>> from kfold import KFold
        >>> for train, val in KFold(n_splits=3).split(list(range(6))):
        ...     print(train, val)
        [2 3 4 5] [0 1]
        [0 1 4 5] [2 3]
        [0 1 2 3] [4 5]
        """
        n = n_samples(X, "X")
        check_same_length(n, y=y, groups=groups)
        if groups is not None:
            if not self._uses_groups:
                warnings.warn(f"The `groups` argument is ignored by {type(self).__name__}; "
                              "use GroupKFold to keep groups together.", UserWarning,
                              stacklevel=2)
        return self._split(n, y, groups)

    def _split(self, n_samples: int, y: Any, groups: Any) -> Folds:
        raise NotImplementedError

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        """Return the number of splits that ``split`` yields.

        Parameters
        ----------
        X, y, groups : object, optional
            Ignored; present for compatibility with scikit-learn.

        Returns
        -------
        int
            The number of ``(train, val)`` pairs.

        Examples
        --------
        >>> from kfold import KFold
        >>> KFold(n_splits=3).get_n_splits()
        3
        """
        return self.n_splits

    def __repr__(self) -> str:
        params = inspect.signature(type(self).__init__).parameters.values()
        names = sorted(p.name for p in params if p.name != "self"
                       and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD))
        args = ", ".join(f"{name}={getattr(self, name, None)!r}" for name in names)
        return f"{type(self).__name__}({args})"


def iter_folds(fold_labels: list[np.ndarray], n_splits: int) -> Folds:
    """Yield ``(train, val)`` for each fold of each array of per-sample fold labels."""
    for labels in fold_labels:
        indices = np.arange(len(labels), dtype=np.intp)
        for fold in range(n_splits):
            in_val = labels == fold
            yield indices[~in_val], indices[in_val]


class FoldSplitter(BaseSplitter):
    """Base of the K-fold splitters: every sample is validated exactly once.

    Subclasses implement ``_prepare(n_samples, y, groups)`` (deterministic checks
    and encoding) and ``_assign(prepared, rng)``, which returns the fold of every
    sample; ``rng`` is None when ``shuffle`` is False.
    """

    def _split(self, n_samples: int, y: Any, groups: Any) -> Folds:
        check_fold_count(self.n_splits, n_samples)
        prepared = self._prepare(n_samples, y, groups)
        rng = resolve_rng(self.random_state) if self.shuffle else None
        return iter_folds([self._assign(prepared, rng)], self.n_splits)

    def _prepare(self, n_samples: int, y: Any, groups: Any) -> Any:
        raise NotImplementedError

    def _assign(self, prepared: Any, rng: np.random.RandomState | None) -> np.ndarray:
        raise NotImplementedError
