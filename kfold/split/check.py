"""Turn whatever the user passed as ``cv`` into a splitter, and fingerprint folds.

``check_cv`` accepts a number of folds, any splitter (kfold's or scikit-learn's),
or ready-made ``(train, val)`` index pairs. ``folds_hash`` gives a stable
fingerprint of a list of folds, so that two runs can prove they used the very
same partition of the data.
"""
from __future__ import annotations

import copy
import hashlib
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

from kfold.core import Described, fail
from kfold.data import n_samples as count_samples
from kfold.split._base import BaseSplitter, Folds, is_class_target
from kfold.split.splitters import KFold, StratifiedKFold

__all__ = ["check_cv", "folds_hash", "PredefinedSplits", "target_type", "choose_cv", "missing_classes"]

_ACCEPTED_CV = ("an integer >= 2 (the number of folds), a splitter with split() and "
                "get_n_splits() (from kfold or sklearn.model_selection), or an iterable "
                "of (train, val) index-array pairs")


def _describe_part(index: int, name: str, arr: np.ndarray) -> Described:
    return Described(f"<fold {index} {name}: array of dtype {arr.dtype} and shape "
                     f"{arr.shape}>")


def _unpack(pair: Any, index: int, param: str) -> tuple[Any, Any]:
    try:
        train, val = pair
    except (TypeError, ValueError):
        size = f" of {len(pair)} items" if hasattr(pair, "__len__") else ""
        fail(param, "(train, val) pairs of index arrays",
             Described(f"<fold {index}: {type(pair).__name__}{size}, not a pair>"))
    return train, val


def _index_array(part: Any, index: int, name: str, param: str) -> np.ndarray:
    """``part`` as a 1-D array of non-negative integer indices, else raise."""
    arr = np.asarray(part)
    if arr.ndim != 1 or arr.dtype.kind not in "iu" or arr.size == 0 or arr.min() < 0:
        fail(param, "non-empty 1-D arrays of non-negative integer indices in every "
             "(train, val) pair", _describe_part(index, name, arr),
             "Turn a boolean mask into indices with np.flatnonzero(mask)")
    return arr.astype(np.intp, copy=False)


def _check_folds(folds: Iterable, param: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """Validate ``(train, val)`` pairs: index arrays with no index on both sides."""
    checked = []
    for index, pair in enumerate(folds):
        train, val = _unpack(pair, index, param)
        train = _index_array(train, index, "train", param)
        val = _index_array(val, index, "val", param)
        shared = np.intersect1d(train, val)
        if shared.size:
            fail(param, "disjoint train and val indices in every pair (an index on both "
                 "sides leaks validation data into training)",
                 Described(f"<fold {index}: {shared.size} indices on both sides, "
                           f"e.g. {shared[0]}>"))
        checked.append((train, val))
    if not checked:
        fail(param, "at least one (train, val) pair", Described("<no pairs>"))
    return checked


class PredefinedSplits(BaseSplitter):
    """A splitter that replays fixed ``(train, val)`` index pairs.

    Parameters
    ----------
    folds : iterable of (array-like, array-like)
        The pairs; each side a non-empty 1-D array of integer indices, and no
        index on both sides of a pair. A generator is read once, at once.

    Examples
    --------
    >>> from kfold.split.check import PredefinedSplits
    >>> cv = PredefinedSplits([([2, 3], [0, 1]), ([0, 1], [2, 3])])
    >>> cv
    PredefinedSplits(n_splits=2)
    >>> [val.tolist() for _, val in cv.split()]
    [[0, 1], [2, 3]]
    """

    def __init__(self, folds: Iterable) -> None:
        self.folds = _check_folds(folds, "folds")
        self.n_splits = len(self.folds)

    def split(self, X: Any = None, y: Any = None, groups: Any = None) -> Folds:
        """Yield the stored ``(train, val)`` pairs.

        Parameters
        ----------
        X : array-like, list or dict of arrays, optional
            If given, the indices are checked to lie within its samples.
        y, groups : object, optional
            Ignored; present for compatibility with scikit-learn.

        Yields
        ------
        train, val : numpy.ndarray of numpy.intp
            Indices of the training and of the validation samples.

        Examples
        --------
        >>> from kfold.split.check import PredefinedSplits
        >>> next(PredefinedSplits([([1, 2], [0])]).split([10, 20, 30]))
        (array([1, 2]), array([0]))
        """
        if X is not None:
            n_samples = count_samples(X)
            largest = max(max(train.max(), val.max()) for train, val in self.folds)
            if largest >= n_samples:
                fail("X", f"at least {largest + 1} samples (the folds use index "
                     f"{largest})", Described(f"<{n_samples} samples>"))
        return iter([(train.copy(), val.copy()) for train, val in self.folds])

    def __repr__(self) -> str:
        return f"PredefinedSplits(n_splits={self.n_splits})"


def check_cv(cv: Any = 5, y: Any = None, *, classifier: bool = False, name: str = "cv") -> Any:
    """Return a splitter for ``cv``.

    Parameters
    ----------
    cv : int, splitter, iterable of (train, val) pairs, or None, default=5
        * an int: the number of folds. :class:`~kfold.StratifiedKFold` when
          ``classifier`` is True and ``y`` holds class labels (integers,
          strings, booleans, or a 2-D one-hot array), else :class:`~kfold.KFold`.
          None means 5.
        * an object with ``split`` and ``get_n_splits`` (a kfold or scikit-learn
          splitter): returned as is.
        * an iterable of ``(train, val)`` index-array pairs: wrapped in a
          :class:`PredefinedSplits` that replays them.
    y : array-like, optional
        The targets; only looked at when ``cv`` is an int.
    classifier : bool, default=False
        Whether the model is a classifier (stratify when ``y`` allows it).
    name : str, default="cv"
        The parameter's name in error messages (``outer_cv``, ``inner_cv``).

    Returns
    -------
    splitter
        An object with ``split(X, y, groups)`` and ``get_n_splits()``.

    Examples
    --------
    >>> from kfold import check_cv
    >>> check_cv(4)
    KFold(n_splits=4, random_state=None, shuffle=False)
    >>> check_cv(3, y=[0, 1, 1, 0, 1, 0], classifier=True)
    StratifiedKFold(bins=None, n_splits=3, random_state=None, shuffle=False)
    >>> check_cv([([1, 2], [0]), ([0, 2], [1])])
    PredefinedSplits(n_splits=2)
    """
    cv = 5 if cv is None else cv
    if isinstance(cv, numbers.Integral) and not isinstance(cv, (bool, np.bool_)):
        if cv < 2:
            fail(name, _ACCEPTED_CV, cv, f"Use {name}=5 for 5-fold cross-validation")
        if classifier and y is not None and is_class_target(y):
            return StratifiedKFold(int(cv))
        return KFold(int(cv))
    if hasattr(cv, "split") and hasattr(cv, "get_n_splits"):
        return cv
    if isinstance(cv, Iterable) and not isinstance(cv, (str, bytes, dict)):
        return PredefinedSplits(_check_folds(cv, name))
    fix = (f"Pass the number of folds as an int: {name}={int(cv)}"
           if isinstance(cv, str) and cv.strip().isdigit() else None)
    fail(name, _ACCEPTED_CV, cv, fix)


def target_type(y: Any) -> str:
    """What kind of target ``y`` is, in scikit-learn's ``type_of_target`` words (our own code).

    ``"binary"`` (two distinct labels: booleans, integers, strings, or floats
    that are whole numbers), ``"multiclass"`` (more than two integer, boolean or
    string labels), ``"one-hot"`` (a 2-D array of 0/1 with one 1 per row),
    ``"continuous"`` (any other numbers, including floats with more than two
    whole-number values, which may be a regression) or ``"unknown"`` (a dict
    for several outputs, None, or anything else).

    Examples
    --------
    >>> from kfold.split.check import target_type
    >>> target_type([0, 1, 1]), target_type([3, 1, 2]), target_type([[0, 1], [1, 0]])
    ('binary', 'multiclass', 'one-hot')
    >>> target_type([0.5, 1.2]), target_type([1.0, 2.0, 3.0]), target_type(None)
    ('continuous', 'continuous', 'unknown')
    """
    if y is None or isinstance(y, dict):
        return "unknown"
    try:
        arr = np.asarray(y)
    except (TypeError, ValueError):
        return "unknown"
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim == 2 and arr.shape[1] > 1 and arr.dtype.kind in "biuf":
        one_hot = np.all((arr == 0) | (arr == 1)) and np.all(arr.sum(axis=1) == 1)
        return "one-hot" if one_hot else "continuous"
    if arr.ndim != 1 or arr.size == 0:
        return "unknown"
    if arr.dtype.kind == "f":
        whole = bool(np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)))
        return "binary" if whole and len(np.unique(arr)) <= 2 else "continuous"
    if arr.dtype.kind in "biuUSO":
        if arr.dtype.kind == "O" and not all(isinstance(v, str) for v in arr):
            return "unknown"
        return "binary" if len(np.unique(arr)) <= 2 else "multiclass"
    return "unknown"


def _labels(y: Any) -> np.ndarray:
    arr = np.asarray(y)
    arr = arr[:, 0] if arr.ndim == 2 and arr.shape[1] == 1 else arr
    return arr.argmax(axis=1) if arr.ndim == 2 else arr


def choose_cv(cv: Any, y: Any = None, *, seed: int | None = None) -> tuple[Any, dict]:
    """The splitter ``cross_validate`` and the searches use for ``cv``, and why.

    With an int, class labels (:func:`target_type` ``"binary"``, ``"multiclass"``
    or ``"one-hot"``) get a :class:`~kfold.StratifiedKFold`, as scikit-learn's
    ``check_cv`` does for classifiers, so that every fold holds every class;
    other targets (and class labels with no class of at least ``cv`` members)
    get a :class:`~kfold.KFold`. Only ``y`` is looked at, not the model's loss.
    A splitter that shuffles with ``random_state=None`` is copied with
    ``random_state=seed`` (the user's object is left as it is), so the same
    ``seed`` gives the same folds.

    Returns
    -------
    splitter, dict
        The splitter and ``{"cv_splitter", "cv_choice", "cv_random_state"}``,
        recorded in ``result.params``.

    Examples
    --------
    >>> from kfold import KFold
    >>> from kfold.split.check import choose_cv
    >>> choose_cv(2, [0, 0, 1, 1])[0]
    StratifiedKFold(bins=None, n_splits=2, random_state=None, shuffle=False)
    >>> splitter, info = choose_cv(KFold(2, shuffle=True), seed=7)
    >>> splitter.random_state, info["cv_random_state"]
    (7, 7)
    """
    kind = target_type(y)
    if isinstance(cv, numbers.Integral) and not isinstance(cv, (bool, np.bool_)) and cv >= 2 \
            and kind in ("binary", "multiclass", "one-hot"):
        counts = np.unique(_labels(y), return_counts=True)[1]
        if counts.max() >= cv:
            splitter = StratifiedKFold(int(cv))
            why = (f"cv={cv} with class labels ({kind} y, {len(counts)} classes): {splitter!r}, "
                   "so that every fold keeps the class proportions (pass cv=KFold(...) to not stratify)")
        else:
            splitter = KFold(int(cv))
            why = f"cv={cv}: {splitter!r} (no class of y has {cv} members to stratify on)"
    else:
        splitter = check_cv(cv)
        why = f"cv={cv}: {splitter!r}" if isinstance(cv, numbers.Integral) else None
    splitter, random_state = _seeded(splitter, seed)
    if random_state is not None:
        why = f"{splitter!r}: random_state=None set to the seed {random_state}, so the same seed gives the same folds"
    return splitter, {"cv_splitter": repr(splitter), "cv_choice": why, "cv_random_state": random_state}


def _seeded(splitter: Any, seed: int | None) -> tuple[Any, int | None]:
    """A copy of a shuffling splitter whose ``random_state`` is None, seeded with ``seed``."""
    if seed is None or getattr(splitter, "random_state", 0) is not None \
            or not getattr(splitter, "shuffle", True):
        return splitter, None
    clone = copy.deepcopy(splitter)
    clone.random_state = int(seed) % 2**32
    return clone, clone.random_state


def missing_classes(y: Any, folds: list) -> dict[int, list]:
    """Per fold (0-based), the classes its validation part holds and its training part lacks.

    Examples
    --------
    >>> import numpy as np
    >>> from kfold.split.check import missing_classes
    >>> missing_classes([0, 0, 1, 1], [(np.array([0, 1]), np.array([2, 3]))])
    {0: [1]}
    """
    labels = _labels(y)
    out = {}
    for i, (train, val) in enumerate(folds):
        lacking = np.setdiff1d(labels[val], labels[train])
        if lacking.size:
            out[i] = lacking.tolist()
    return out


def _hash_indices(part: Any, index: int, name: str) -> np.ndarray:
    arr = np.asarray(part)
    if arr.size == 0 and arr.ndim == 1:
        return np.zeros(0, dtype="<i8")
    if arr.ndim != 1 or arr.dtype.kind not in "iu":
        fail("folds", "1-D integer index arrays in every (train, val) pair",
             _describe_part(index, name, arr))
    return np.ascontiguousarray(arr, dtype="<i8")


def folds_hash(folds: Iterable) -> str:
    """Return a SHA-256 fingerprint of a list of ``(train, val)`` index arrays.

    The digest covers the number of folds and, for every array, its length and
    its indices as little-endian 64-bit integers, in order. Equal folds give
    the same digest in any process and on any platform; any change to the
    partition (or to the order of indices or folds) changes it.

    Parameters
    ----------
    folds : iterable of (array-like, array-like)
        The ``(train, val)`` pairs, e.g. ``list(cv.split(X, y))``.

    Returns
    -------
    str
        64 hexadecimal characters.

    Examples
    --------
    >>> from kfold import KFold, folds_hash
    >>> folds = list(KFold(n_splits=2).split(range(4)))
    >>> folds_hash(folds) == folds_hash(KFold(n_splits=2).split(range(4)))
    True
    >>> folds_hash(folds) == folds_hash(list(KFold(n_splits=2).split(range(5))))
    False
    >>> folds_hash(folds)[:16]
    '6c7b1dab9db9f548'
    """
    digest = hashlib.sha256(b"kfold.folds_hash.v1")
    pairs = list(folds)
    digest.update(np.array([len(pairs)], dtype="<i8").tobytes())
    for index, pair in enumerate(pairs):
        for name, part in zip(("train", "val"), _unpack(pair, index, "folds")):
            arr = _hash_indices(part, index, name)
            digest.update(np.array([arr.size], dtype="<i8").tobytes())
            digest.update(arr.tobytes())
    return digest.hexdigest()
