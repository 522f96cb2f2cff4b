"""Repeated K-fold: the K-fold splits run ``n_repeats`` times, reshuffled each time.

Repeating cross-validation with different shuffles averages out the luck of one
particular partition, and gives the repeated-CV statistics (such as a corrected
t-test) several independent partitions to work with. The splits come repeat by
repeat: split ``i`` belongs to repeat ``i // n_splits``.

Both splitters give exactly the indices of scikit-learn's ``RepeatedKFold`` and
``RepeatedStratifiedKFold`` for the same arguments: ``random_state`` is turned
into one ``RandomState`` when ``split`` is called, and every repeat draws its
shuffle from it in turn.
"""
from __future__ import annotations

from typing import Any

from kfold.split._base import (
    BaseSplitter,
    Folds,
    FoldSplitter,
    check_fold_count,
    check_n_splits,
    check_random_state,
    iter_folds,
    resolve_rng,
)
from kfold.split.splitters import KFold, StratifiedKFold

__all__ = ["RepeatedKFold", "RepeatedStratifiedKFold"]


class RepeatedKFold(BaseSplitter):
    """K-fold cross-validation repeated ``n_repeats`` times with new shuffles.

    Each repeat is a shuffled :class:`~kfold.KFold`; every sample is validated
    exactly once per repeat. ``split`` yields ``n_splits * n_repeats`` pairs,
    repeat by repeat.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds per repeat, at least 2.
    n_repeats : int, default=10
        Number of repeats, at least 1.
    random_state : int, numpy.random.RandomState or None, default=None
        A seed gives the same splits on every call to ``split``; None draws
        from numpy's global random state.

    Attributes
    ----------
    n_splits : int
        Folds per repeat.
    n_repeats : int
        Number of repeats; split ``i`` belongs to repeat ``i // n_splits``.

    Examples
    --------
    >>> from kfold import RepeatedKFold
    >>> cv = RepeatedKFold(n_splits=2, n_repeats=2, random_state=0)
    >>> cv
    RepeatedKFold(n_repeats=2, n_splits=2, random_state=0)
    >>> cv.get_n_splits()
    4
    >>> [val.tolist() for _, val in cv.split(range(4))]
    [[2, 3], [0, 1], [0, 2], [1, 3]]
    """

    def __init__(self, *, n_splits: int = 5, n_repeats: int = 10,
                 random_state: Any = None) -> None:
        self.n_splits = check_n_splits(n_splits)
        self.n_repeats = check_n_splits(n_repeats, minimum=1, param="n_repeats")
        self.random_state = check_random_state(random_state)

    def _one_repeat(self) -> FoldSplitter:
        """The shuffled K-fold splitter behind each repeat."""
        return KFold(self.n_splits, shuffle=True)

    def _split(self, n_samples: int, y: Any, groups: Any) -> Folds:
        check_fold_count(self.n_splits, n_samples)
        repeat = self._one_repeat()
        prepared = repeat._prepare(n_samples, y, groups)
        rng = resolve_rng(self.random_state)
        fold_labels = [repeat._assign(prepared, rng) for _ in range(self.n_repeats)]
        return iter_folds(fold_labels, self.n_splits)

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        """Return the number of splits, ``n_splits * n_repeats``.

        Parameters
        ----------
        X, y, groups : object, optional
            Ignored; present for compatibility with scikit-learn.

        Returns
        -------
        int
            The number of ``(train, val)`` pairs that ``split`` yields.

        Examples
        --------
        >>> from kfold import RepeatedKFold
        >>> RepeatedKFold(n_splits=5, n_repeats=3).get_n_splits()
        15
        """
        return self.n_splits * self.n_repeats

    def repeat_of(self, split_index: int) -> int:
        """Return the repeat (0-based) that split number ``split_index`` belongs to.

        Parameters
        ----------
        split_index : int
            Position of the split in the order ``split`` yields them.

        Returns
        -------
        int
            ``split_index // n_splits``.

        Examples
        --------
        >>> from kfold import RepeatedKFold
        >>> cv = RepeatedKFold(n_splits=5, n_repeats=3)
        >>> [cv.repeat_of(i) for i in (0, 4, 5, 14)]
        [0, 0, 1, 2]
        """
        return int(split_index) // self.n_splits


class RepeatedStratifiedKFold(RepeatedKFold):
    """Stratified K-fold repeated ``n_repeats`` times with new shuffles.

    Each repeat is a shuffled :class:`~kfold.StratifiedKFold`, so ``y`` accepts
    class labels, a one-hot array, or with ``bins`` a continuous target. The
    checks on ``y`` (and the warning about small classes) happen once.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds per repeat, at least 2.
    n_repeats : int, default=10
        Number of repeats, at least 1.
    random_state : int, numpy.random.RandomState or None, default=None
        A seed gives the same splits on every call to ``split``; None draws
        from numpy's global random state.
    bins : int or None, default=None
        Stratify a continuous ``y`` on this many quantile bins (at least 2).

    Attributes
    ----------
    n_splits : int
        Folds per repeat.
    n_repeats : int
        Number of repeats; split ``i`` belongs to repeat ``i // n_splits``.

    Examples
    --------
    >>> from kfold import RepeatedStratifiedKFold
    >>> y = [0, 0, 1, 1]
    >>> cv = RepeatedStratifiedKFold(n_splits=2, n_repeats=2, random_state=1)
    >>> [val.tolist() for _, val in cv.split(y, y)]
    [[0, 2], [1, 3], [1, 3], [0, 2]]
    """

    def __init__(self, *, n_splits: int = 5, n_repeats: int = 10,
                 random_state: Any = None, bins: int | None = None) -> None:
        super().__init__(n_splits=n_splits, n_repeats=n_repeats, random_state=random_state)
        self.bins = None if bins is None else check_n_splits(bins, param="bins")

    def _one_repeat(self) -> FoldSplitter:
        """The shuffled stratified K-fold splitter behind each repeat."""
        return StratifiedKFold(self.n_splits, shuffle=True, bins=self.bins)
