"""Property-based tests: the splitters' invariants for random sizes, seeds and labels."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kfold

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check_partition(folds, n):
    """Each sample validated exactly once; train and val disjoint and covering."""
    counts = np.zeros(n, dtype=int)
    for train, val in folds:
        assert train.dtype.kind == "i" and val.dtype.kind == "i"
        assert not np.intersect1d(train, val).size
        assert np.union1d(train, val).size == n
        counts[val] += 1
    assert (counts == 1).all()


@SETTINGS
@given(n=st.integers(2, 200), data=st.data())
def test_kfold_partitions_and_balances(n, data):
    k = data.draw(st.integers(2, n))
    shuffle = data.draw(st.booleans())
    seed = data.draw(st.integers(0, 2**32 - 1)) if shuffle else None
    folds = list(kfold.KFold(k, shuffle=shuffle, random_state=seed).split(np.zeros(n)))
    assert len(folds) == k
    _check_partition(folds, n)
    sizes = [len(v) for _, v in folds]
    assert max(sizes) - min(sizes) <= 1


@SETTINGS
@given(labels=st.lists(st.integers(0, 3), min_size=4, max_size=150), data=st.data())
def test_stratified_kfold_partitions_and_stratifies(labels, data):
    y = np.array(labels)
    smallest = np.bincount(y)[np.bincount(y) > 0].min()
    k = data.draw(st.integers(2, max(2, min(len(y), 10))))
    splitter = kfold.StratifiedKFold(k, shuffle=True, random_state=data.draw(st.integers(0, 1000)))
    if k > np.bincount(y).max():
        with pytest.raises(ValueError, match="n_splits"):
            list(splitter.split(np.zeros(len(y)), y))
        return
    with pytest.warns(UserWarning) if smallest < k else _no_warning():
        folds = list(splitter.split(np.zeros(len(y)), y))
    _check_partition(folds, len(y))
    for _, val in folds:  # each class spread as evenly as possible over the folds
        for label in np.unique(y):
            share = np.sum(y[val] == label)
            expected = np.sum(y == label) / k
            assert abs(share - expected) < 1 + 1e-9


@pytest.mark.filterwarnings("ignore:The least populated class")
@SETTINGS
@given(values=st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=10, max_size=120),
       bins=st.integers(2, 5), data=st.data())
def test_stratified_bins_on_continuous_targets(values, bins, data):
    y = np.array(values) + np.linspace(0, 1e-3, len(values))  # continuous, mostly distinct
    k = data.draw(st.integers(2, 4))
    try:
        folds = list(kfold.StratifiedKFold(k, bins=bins).split(np.zeros(len(y)), y))
    except ValueError as error:  # too few members per bin for k folds: said clearly
        assert "n_splits" in str(error) or "bins" in str(error)
        return
    _check_partition(folds, len(y))


@SETTINGS
@given(groups=st.lists(st.integers(0, 12), min_size=3, max_size=100), data=st.data())
def test_group_kfold_never_splits_a_group(groups, data):
    groups = np.array(groups)
    n_groups = len(np.unique(groups))
    if n_groups < 2:
        return
    k = data.draw(st.integers(2, n_groups))
    folds = list(kfold.GroupKFold(k).split(np.zeros(len(groups)), groups=groups))
    _check_partition(folds, len(groups))
    for train, val in folds:
        assert not set(groups[train]) & set(groups[val])


@SETTINGS
@given(n=st.integers(3, 120), repeats=st.integers(1, 4), data=st.data())
def test_repeated_kfold_partitions_each_repeat(n, repeats, data):
    k = data.draw(st.integers(2, min(n, 8)))
    cv = kfold.RepeatedKFold(n_splits=k, n_repeats=repeats, random_state=data.draw(st.integers(0, 99)))
    folds = list(cv.split(np.zeros(n)))
    assert len(folds) == cv.get_n_splits() == k * repeats
    for r in range(repeats):
        _check_partition(folds[r * k:(r + 1) * k], n)


@SETTINGS
@given(n=st.integers(2, 300), data=st.data())
def test_shuffle_and_holdout_splits_are_disjoint_with_right_sizes(n, data):
    test_size = data.draw(st.floats(0.05, 0.9))
    n_test = int(np.ceil(test_size * n))
    if n_test >= n:
        return
    shuffle = data.draw(st.booleans())
    holdout = kfold.HoldoutSplit(test_size, shuffle=shuffle, random_state=0 if shuffle else None)
    for cv in (kfold.ShuffleSplit(3, test_size=test_size, random_state=0), holdout):
        for train, val in cv.split(np.zeros(n)):
            assert len(val) == n_test and len(train) == n - n_test
            assert not np.intersect1d(train, val).size


@SETTINGS
@given(n=st.integers(1, 30), k=st.integers(2, 40))
def test_more_folds_than_samples_is_a_clear_error(n, k):
    if k <= n:
        return
    with pytest.raises(ValueError, match=rf"n_splits.*Received: n_splits={k}"):
        list(kfold.KFold(k).split(np.zeros(n)))


class _no_warning:
    def __enter__(self):
        import warnings

        self._catch = warnings.catch_warnings()
        self._catch.__enter__()
        warnings.simplefilter("error", UserWarning)

    def __exit__(self, *exc):
        return self._catch.__exit__(*exc)
