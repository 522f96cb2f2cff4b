"""Splitters with scikit-learn's protocol: ``split(X, y, groups)`` yields index pairs.

``KFold``, ``StratifiedKFold``, ``GroupKFold`` and ``ShuffleSplit`` give exactly
the indices (in the same order) of their scikit-learn namesakes for the same
arguments, shuffled or not. ``StratifiedKFold`` also stratifies continuous
targets on quantile bins and accepts one-hot targets. ``HoldoutSplit`` is the
book's single validation split. Only numpy is needed; X is never copied, only
its number of samples is read.
"""
from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from kfold.core import fail
from kfold.split._base import (
    BaseSplitter,
    Folds,
    FoldSplitter,
    check_n_splits,
    check_random_state,
    check_shuffle,
    check_size,
    resolve_rng,
    stratification_codes,
)

__all__ = ["KFold", "StratifiedKFold", "GroupKFold", "ShuffleSplit", "HoldoutSplit"]


class KFold(FoldSplitter):
    """K-fold splitter: consecutive folds, each used once for validation.

    The first ``n_samples % n_splits`` folds have one sample more than the others.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds, at least 2.
    shuffle : bool, default=False
        Shuffle the samples before cutting them into folds (the indices within
        each fold are still sorted).
    random_state : int, numpy.random.RandomState or None, default=None
        Used only when ``shuffle=True``. A seed gives the same splits on every
        call to ``split``; None draws from numpy's global random state.

    Examples
    --------
    >>> from kfold import KFold
    >>> cv = KFold(n_splits=3)
    >>> cv
    KFold(n_splits=3, random_state=None, shuffle=False)
    >>> [val.tolist() for _, val in cv.split(list(range(7)))]
    [[0, 1, 2], [3, 4], [5, 6]]
    >>> [val.tolist() for _, val in KFold(3, shuffle=True, random_state=0).split(range(7))]
    [[1, 2, 6], [0, 3], [4, 5]]
    """

    def __init__(self, n_splits: int = 5, *, shuffle: bool = False,
                 random_state: Any = None) -> None:
        self.n_splits = check_n_splits(n_splits)
        self.shuffle = check_shuffle(shuffle)
        self.random_state = check_random_state(random_state, self.shuffle)

    def _prepare(self, n_samples: int, y: Any, groups: Any) -> int:
        return n_samples

    def _assign(self, n_samples: int, rng: np.random.RandomState | None) -> np.ndarray:
        order = np.arange(n_samples)
        if rng is not None:
            rng.shuffle(order)
        sizes = np.full(self.n_splits, n_samples // self.n_splits)
        sizes[: n_samples % self.n_splits] += 1
        folds = np.empty(n_samples, dtype=np.intp)
        folds[order] = np.repeat(np.arange(self.n_splits), sizes)
        return folds


class StratifiedKFold(FoldSplitter):
    """K-fold splitter that keeps the class proportions of ``y`` in every fold.

    Identical to scikit-learn's ``StratifiedKFold`` for class labels, including
    its warning when the smallest class has fewer members than ``n_splits`` and
    its error when every class does. Two additions:

    * ``y`` may be a 2-D one-hot (or class-probability) array, as Keras models
      with a softmax output use; it is turned into labels with ``argmax``.
    * ``bins=N`` stratifies a continuous target (a regression) on ``N`` quantile
      bins: the bin edges are quantiles of ``y``, and every fold then gets its
      share of low, middle and high values.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds, at least 2.
    shuffle : bool, default=False
        Shuffle each class's samples before assigning them to folds.
    random_state : int, numpy.random.RandomState or None, default=None
        Used only when ``shuffle=True``. A seed gives the same splits on every
        call to ``split``; None draws from numpy's global random state.
    bins : int or None, default=None
        Number of quantile bins (at least 2) to cut a continuous ``y`` into.
        Without it, a float ``y`` that is not whole numbers raises an error.

    Examples
    --------
    >>> from kfold import StratifiedKFold
    >>> y = [0, 0, 0, 0, 1, 1]
    >>> [val.tolist() for _, val in StratifiedKFold(n_splits=2).split(y, y)]
    [[0, 1, 4], [2, 3, 5]]
    >>> prices = [10.5, 31.2, 12.0, 25.1, 40.7, 15.3, 22.8, 35.9]
    >>> cv = StratifiedKFold(n_splits=2, bins=2)
    >>> [sorted(prices[i] for i in val) for _, val in cv.split(prices, prices)]
    [[10.5, 12.0, 25.1, 31.2], [15.3, 22.8, 35.9, 40.7]]
    """

    def __init__(self, n_splits: int = 5, *, shuffle: bool = False,
                 random_state: Any = None, bins: int | None = None) -> None:
        self.n_splits = check_n_splits(n_splits)
        self.shuffle = check_shuffle(shuffle)
        self.random_state = check_random_state(random_state, self.shuffle)
        self.bins = None if bins is None else check_n_splits(bins, param="bins")

    def _prepare(self, n_samples: int, y: Any, groups: Any) -> np.ndarray:
        codes = stratification_codes(y, self.bins)
        counts = np.bincount(codes)
        if np.all(counts < self.n_splits):
            fail("n_splits", f"at most {counts.max()}, the size of the largest class in y",
                 self.n_splits, "Use fewer folds, or a plain KFold")
        if counts.min() < self.n_splits:
            warnings.warn(f"The least populated class in y has only {counts.min()} "
                          f"members, which is less than n_splits={self.n_splits}.",
                          UserWarning, stacklevel=4)
        return codes

    def _assign(self, codes: np.ndarray, rng: np.random.RandomState | None) -> np.ndarray:
        n_classes = codes.max() + 1
        # Deal the samples, sorted by class, round-robin over the folds: this fixes
        # how many members of each class every fold gets.
        by_class = np.sort(codes)
        per_fold = [np.bincount(by_class[k::self.n_splits], minlength=n_classes)
                    for k in range(self.n_splits)]
        folds = np.empty(len(codes), dtype=np.intp)
        for label in range(n_classes):
            counts = [fold_counts[label] for fold_counts in per_fold]
            class_folds = np.repeat(np.arange(self.n_splits), counts)
            if rng is not None:
                rng.shuffle(class_folds)
            folds[codes == label] = class_folds
        return folds


class GroupKFold(FoldSplitter):
    """K-fold splitter that never puts samples of one group on both sides.

    Without shuffling, groups go largest first to the fold with the fewest samples
    so far, which balances the fold sizes. With ``shuffle=True`` the groups are
    permuted and cut into ``n_splits`` runs of (nearly) equal numbers of groups.
    Identical to scikit-learn's ``GroupKFold`` either way.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds, at least 2 and at most the number of groups.
    shuffle : bool, default=False
        Shuffle the groups before assigning them to folds.
    random_state : int, numpy.random.RandomState or None, default=None
        Used only when ``shuffle=True``. A seed gives the same splits on every
        call to ``split``; None draws from numpy's global random state.

    Examples
    --------
    >>> from kfold import GroupKFold
    >>> groups = ["a", "a", "a", "b", "b", "c"]
    >>> [val.tolist() for _, val in GroupKFold(n_splits=2).split(groups, groups=groups)]
    [[0, 1, 2], [3, 4, 5]]
    """

    _uses_groups = True

    def __init__(self, n_splits: int = 5, *, shuffle: bool = False,
                 random_state: Any = None) -> None:
        self.n_splits = check_n_splits(n_splits)
        self.shuffle = check_shuffle(shuffle)
        self.random_state = check_random_state(random_state, self.shuffle)

    def _prepare(self, n_samples: int, y: Any, groups: Any) -> np.ndarray:
        if groups is None:
            fail("groups", "one group label per sample", None,
                 "GroupKFold needs them: call split(X, y, groups)")
        groups = np.asarray(groups)
        if groups.ndim != 1:
            fail("groups", "a 1-D array of group labels", groups)
        _, codes = np.unique(groups, return_inverse=True)
        n_groups = codes.max() + 1
        if self.n_splits > n_groups:
            fail("n_splits", f"at most the number of groups ({n_groups})", self.n_splits,
                 "Use fewer folds or more groups")
        return codes.ravel()

    def _assign(self, codes: np.ndarray, rng: np.random.RandomState | None) -> np.ndarray:
        n_groups = codes.max() + 1
        fold_of_group = np.empty(n_groups, dtype=np.intp)
        if rng is not None:
            for fold, members in enumerate(np.array_split(rng.permutation(n_groups),
                                                          self.n_splits)):
                fold_of_group[members] = fold
            return fold_of_group[codes]
        sizes = np.bincount(codes)
        load = np.zeros(self.n_splits, dtype=np.int64)
        # Largest groups first; among equal sizes the later group first (as sklearn).
        for group in np.argsort(sizes, kind="stable")[::-1]:
            fold = int(np.argmin(load))
            load[fold] += sizes[group]
            fold_of_group[group] = fold
        return fold_of_group[codes]


def _count(param: str, size: Any, n_samples: int, rounding: Any) -> int | None:
    if size is None:
        return None
    if isinstance(size, float):
        return int(rounding(size * n_samples))
    if size >= n_samples:
        fail(param, f"a count smaller than n_samples={n_samples}, or a fraction in (0, 1)",
             size)
    return size


def _shuffle_split_sizes(n_samples: int, test_size: Any, train_size: Any) -> tuple[int, int]:
    """``(n_train, n_test)`` as scikit-learn computes them (ceil test, floor train)."""
    if test_size is None and train_size is None:
        test_size = 0.1
    n_test = _count("test_size", test_size, n_samples, math.ceil)
    n_train = _count("train_size", train_size, n_samples, math.floor)
    if n_train is None:
        n_train = n_samples - n_test
    elif n_test is None:
        n_test = n_samples - n_train
    if n_train + n_test > n_samples:
        fail("test_size", f"test and train sizes that add up to at most n_samples="
             f"{n_samples} (here {n_test} + {n_train})", test_size,
             "Reduce test_size and/or train_size")
    if n_train == 0:
        fail("test_size", f"a size that leaves at least one training sample out of "
             f"n_samples={n_samples}", test_size, "Reduce test_size or raise train_size")
    return n_train, n_test


def _holdout_size(n_samples: int, val_size: int | float) -> int:
    """Number of validation samples of a hold-out split (ceil of a fraction)."""
    n_val = math.ceil(val_size * n_samples) if isinstance(val_size, float) else val_size
    if n_val > n_samples - 1:
        fail("val_size", f"a size that leaves at least one training sample out of "
             f"n_samples={n_samples} (a count in [1, {n_samples - 1}])", val_size)
    return n_val


class ShuffleSplit(BaseSplitter):
    """Independent random splits: a fresh permutation for each of ``n_splits``.

    Validation sets of different splits may overlap. Sizes follow scikit-learn:
    a fraction is rounded up for ``test_size`` and down for ``train_size``; when
    both are None, ``test_size`` is 0.1; a missing one is the complement.

    Parameters
    ----------
    n_splits : int, default=10
        Number of splits, at least 1.
    test_size : float, int or None, default=None
        Validation size: a fraction in (0, 1) or a number of samples.
    train_size : float, int or None, default=None
        Training size: a fraction in (0, 1) or a number of samples.
    random_state : int, numpy.random.RandomState or None, default=None
        A seed gives the same splits on every call to ``split``; None draws
        from numpy's global random state.

    Examples
    --------
    >>> from kfold import ShuffleSplit
    >>> cv = ShuffleSplit(n_splits=2, test_size=2, random_state=0)
    >>> for train, val in cv.split(range(6)):
    ...     print(train, val)
    [1 3 0 4] [5 2]
    [4 0 2 5] [1 3]
    """

    def __init__(self, n_splits: int = 10, *, test_size: float | int | None = None,
                 train_size: float | int | None = None, random_state: Any = None) -> None:
        self.n_splits = check_n_splits(n_splits, minimum=1)
        self.test_size = check_size("test_size", test_size)
        self.train_size = check_size("train_size", train_size)
        self.random_state = check_random_state(random_state)
        fractions = (self.test_size, self.train_size)
        if all(isinstance(size, float) for size in fractions) and sum(fractions) > 1:
            fail("train_size", f"at most 1 - test_size = {1 - self.test_size:g} when "
                 "both sizes are fractions", train_size, "Reduce test_size and/or train_size")

    def _split(self, n_samples: int, y: Any, groups: Any) -> Folds:
        n_train, n_test = _shuffle_split_sizes(n_samples, self.test_size, self.train_size)
        return self._draw(n_samples, n_train, n_test, resolve_rng(self.random_state))

    def _draw(self, n_samples: int, n_train: int, n_test: int,
              rng: np.random.RandomState) -> Folds:
        for _ in range(self.n_splits):
            order = rng.permutation(n_samples)
            yield order[n_test:n_test + n_train], order[:n_test]


class HoldoutSplit(BaseSplitter):
    """One train/validation split: the book's hold-out validation.

    Without shuffling, the validation set is the *first* ``n_val`` samples and
    the training set the rest, the book's convention for IMDB and Reuters::

        x_val = x_train[:10000]
        partial_x_train = x_train[10000:]

    With ``shuffle=True`` the samples are permuted first; the validation set is
    the first ``n_val`` of the permutation, which makes the split identical to
    ``ShuffleSplit(n_splits=1, test_size=val_size, random_state=...)``.

    Parameters
    ----------
    val_size : float or int, default=0.2
        A fraction in (0, 1) of the samples (rounded up), or a number of samples
        in ``[1, n_samples - 1]``.
    shuffle : bool, default=False
        Permute the samples before splitting.
    random_state : int, numpy.random.RandomState or None, default=None
        Used only when ``shuffle=True``. A seed gives the same splits on every
        call to ``split``; None draws from numpy's global random state.

    Examples
    --------
    >>> from kfold import HoldoutSplit
    >>> [(train.tolist(), val.tolist()) for train, val in HoldoutSplit(2).split(range(5))]
    [([2, 3, 4], [0, 1])]
    >>> HoldoutSplit().get_n_splits()
    1
    """

    def __init__(self, val_size: float | int = 0.2, *, shuffle: bool = False,
                 random_state: Any = None) -> None:
        self.val_size = check_size("val_size", val_size, allow_none=False)
        self.shuffle = check_shuffle(shuffle)
        self.random_state = check_random_state(random_state, self.shuffle)
        self.n_splits = 1

    def _split(self, n_samples: int, y: Any, groups: Any) -> Folds:
        n_val = _holdout_size(n_samples, self.val_size)
        if self.shuffle:
            order = resolve_rng(self.random_state).permutation(n_samples)
        else:
            order = np.arange(n_samples, dtype=np.intp)
        return iter([(order[n_val:], order[:n_val])])
