"""Tests of the splitters: invariants, identity with scikit-learn, errors."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import sklearn.model_selection as sk

import kfold
from kfold import (
    GroupKFold,
    HoldoutSplit,
    KFold,
    RepeatedKFold,
    RepeatedStratifiedKFold,
    ShuffleSplit,
    StratifiedKFold,
)


# ---------------------------------------------------------------- helpers
def make_data(n, k, seed):
    """X, class labels (every class >= k members) and groups (>= k groups)."""
    rng = np.random.RandomState(seed)
    n_classes = max(1, min(3, n // k))
    y = rng.permutation(np.arange(n) % n_classes)
    groups = rng.permutation(np.arange(n) % max(k, n // 3))
    return rng.rand(n, 2), y, groups


def assert_same_splits(ours, theirs):
    ours, theirs = list(ours), list(theirs)
    assert len(ours) == len(theirs)
    for (train, val), (sk_train, sk_val) in zip(ours, theirs):
        np.testing.assert_array_equal(train, sk_train)
        np.testing.assert_array_equal(val, sk_val)


def as_lists(splits):
    return [(train.tolist(), val.tolist()) for train, val in splits]


# Every splitter, built from (n_splits, seed); flags: K-fold type, shuffled.
SPLITTERS = {
    "KFold": (lambda k, s: KFold(k), True, False),
    "KFold-shuffle": (lambda k, s: KFold(k, shuffle=True, random_state=s), True, True),
    "StratifiedKFold": (lambda k, s: StratifiedKFold(k), True, False),
    "StratifiedKFold-shuffle": (
        lambda k, s: StratifiedKFold(k, shuffle=True, random_state=s), True, True),
    "GroupKFold": (lambda k, s: GroupKFold(k), True, False),
    "GroupKFold-shuffle": (
        lambda k, s: GroupKFold(k, shuffle=True, random_state=s), True, True),
    "RepeatedKFold": (
        lambda k, s: RepeatedKFold(n_splits=k, n_repeats=3, random_state=s), True, True),
    "RepeatedStratifiedKFold": (
        lambda k, s: RepeatedStratifiedKFold(n_splits=k, n_repeats=3, random_state=s),
        True, True),
    "ShuffleSplit": (
        lambda k, s: ShuffleSplit(k, test_size=0.25, random_state=s), False, True),
    "HoldoutSplit": (lambda k, s: HoldoutSplit(0.25), False, False),
    "HoldoutSplit-shuffle": (
        lambda k, s: HoldoutSplit(0.25, shuffle=True, random_state=s), False, True),
}
SIZES = [4, 5, 7, 12, 23, 50]


def split_all(name, n, k, seed):
    factory, _, _ = SPLITTERS[name]
    X, y, groups = make_data(n, k, seed)
    cv = factory(k, seed)
    group_arg = groups if name.startswith("GroupKFold") else None
    return cv, list(cv.split(X, y, group_arg)), (X, y, groups)


# ---------------------------------------------------------------- invariants
@pytest.mark.parametrize("name", list(SPLITTERS))
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("seed", [0, 1])
def test_invariants(name, n, k, seed):
    cv, splits, (X, y, groups) = split_all(name, n, k, seed)
    assert len(splits) == cv.get_n_splits() == cv.get_n_splits(X, y, groups)
    for train, val in splits:
        for part in (train, val):
            assert part.dtype == np.intp and part.ndim == 1 and part.size > 0
            assert part.min() >= 0 and part.max() < n
        assert not np.intersect1d(train, val).size
        assert train.size + val.size == n  # train and val cover every sample
        assert np.unique(train).size == train.size and np.unique(val).size == val.size


@pytest.mark.parametrize("name", [name for name, spec in SPLITTERS.items() if spec[1]])
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("k", [2, 3])
def test_each_sample_validated_once_per_repeat(name, n, k):
    cv, splits, _ = split_all(name, n, k, seed=0)
    n_repeats = getattr(cv, "n_repeats", 1)
    assert len(splits) == k * n_repeats
    for repeat in range(n_repeats):
        vals = [val for _, val in splits[repeat * k:(repeat + 1) * k]]
        np.testing.assert_array_equal(np.sort(np.concatenate(vals)), np.arange(n))
        if n_repeats > 1:
            assert [cv.repeat_of(repeat * k + i) for i in range(k)] == [repeat] * k


@pytest.mark.parametrize("cv", [KFold(3), KFold(4, shuffle=True, random_state=0),
                                RepeatedKFold(n_splits=4, n_repeats=2, random_state=0)])
@pytest.mark.parametrize("n", [4, 5, 7, 10, 23, 50])
def test_kfold_fold_sizes_differ_by_at_most_one(cv, n):
    sizes = [val.size for _, val in cv.split(np.zeros(n))]
    assert max(sizes) - min(sizes) <= 1


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("n", [12, 23, 50, 101])
@pytest.mark.parametrize("k", [2, 3, 5])
def test_stratification_keeps_class_counts_balanced(shuffle, n, k):
    y = np.random.RandomState(n).choice(3, size=n, p=[0.6, 0.3, 0.1])
    cv = StratifiedKFold(k, shuffle=shuffle, random_state=0 if shuffle else None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        splits = list(cv.split(y, y))
    for label in np.unique(y):
        per_fold = [np.sum(y[val] == label) for _, val in splits]
        assert max(per_fold) - min(per_fold) <= 1


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("n", [6, 20, 50])
@pytest.mark.parametrize("k", [2, 3])
def test_groups_never_split(shuffle, n, k):
    groups = np.random.RandomState(n).randint(0, n // 2, size=n)
    cv = GroupKFold(k, shuffle=shuffle, random_state=1 if shuffle else None)
    seen = []
    for train, val in cv.split(np.zeros(n), groups=groups):
        assert not set(groups[train]) & set(groups[val])
        seen.extend(np.unique(groups[val]))
    assert sorted(seen) == sorted(np.unique(groups))


@pytest.mark.parametrize("name", list(SPLITTERS))
def test_same_seed_gives_same_splits(name):
    cv, first, (X, y, groups) = split_all(name, 50, 3, seed=7)
    _, again, _ = split_all(name, 50, 3, seed=7)
    groups = groups if name.startswith("GroupKFold") else None
    assert as_lists(first) == as_lists(again) == as_lists(cv.split(X, y, groups))


@pytest.mark.parametrize("name", [name for name, spec in SPLITTERS.items() if spec[2]])
def test_different_seeds_give_different_splits(name):
    runs = [as_lists(split_all(name, 50, 3, seed)[1]) for seed in (0, 1)]
    assert runs[0] != runs[1]


def test_random_state_instance_advances_between_calls():
    cv = KFold(3, shuffle=True, random_state=np.random.RandomState(0))
    assert as_lists(cv.split(range(30))) != as_lists(cv.split(range(30)))


def test_none_random_state_uses_numpy_global_state():
    np.random.seed(5)
    first = as_lists(ShuffleSplit(3).split(range(30)))
    np.random.seed(5)
    assert as_lists(ShuffleSplit(3).split(range(30))) == first


# ---------------------------------------------------------------- inputs
@pytest.mark.parametrize("X", [
    list(range(10)),
    range(10),
    np.zeros((10, 3, 2)),
    {"text": np.zeros((10, 4)), "meta": np.zeros(10)},
    [np.zeros((10, 4)), np.zeros(10)],
    (np.zeros((10, 4)), np.zeros((10, 1))),
])
def test_only_the_number_of_samples_matters(X):
    assert as_lists(KFold(3).split(X)) == as_lists(KFold(3).split(np.zeros(10)))


def test_y_and_groups_may_be_multi_output():
    y = {"a": np.zeros(6), "b": np.zeros((6, 2))}
    assert len(list(KFold(2).split(np.zeros(6), y))) == 2


# ---------------------------------------------------------------- scikit-learn
ORACLE_SIZES = [5, 8, 13, 30, 64]


@pytest.mark.parametrize("n", ORACLE_SIZES)
@pytest.mark.parametrize("k", [2, 3, 5])
def test_kfold_matches_sklearn(n, k):
    X = np.zeros(n)
    assert_same_splits(KFold(k).split(X), sk.KFold(k).split(X))
    for seed in range(3):
        assert_same_splits(KFold(k, shuffle=True, random_state=seed).split(X),
                           sk.KFold(k, shuffle=True, random_state=seed).split(X))
        ours = KFold(k, shuffle=True, random_state=np.random.RandomState(seed))
        theirs = sk.KFold(k, shuffle=True, random_state=np.random.RandomState(seed))
        for _ in range(2):  # the shared state advances identically
            assert_same_splits(ours.split(X), theirs.split(X))


def _label_layouts(n, seed):
    rng = np.random.RandomState(seed)
    return {
        "balanced": rng.permutation(np.arange(n) % 3),
        "imbalanced": rng.choice(3, size=n, p=[0.7, 0.2, 0.1]),
        "sorted-binary": np.repeat([0, 1], [n // 2, n - n // 2]),
        "strings": np.array(["cat", "dog", "bird"])[rng.randint(0, 3, n)],
        "floats": (rng.rand(n) < 0.3).astype(float),
    }


@pytest.mark.parametrize("n", ORACLE_SIZES + [101])
@pytest.mark.parametrize("k", [2, 3, 5])
@pytest.mark.parametrize("layout", ["balanced", "imbalanced", "sorted-binary", "strings",
                                    "floats"])
def test_stratified_kfold_matches_sklearn(n, k, layout):
    X = np.zeros(n)
    for seed in range(3):
        y = _label_layouts(n, seed)[layout]
        if np.unique(y, return_counts=True)[1].max() < k:
            continue  # both refuse; see test_stratified_errors_like_sklearn
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            assert_same_splits(StratifiedKFold(k).split(X, y), sk.StratifiedKFold(k).split(X, y))
            for random_state in (seed, np.random.RandomState(seed)):
                theirs = sk.StratifiedKFold(k, shuffle=True, random_state=random_state)
                if isinstance(random_state, np.random.RandomState):
                    random_state = np.random.RandomState(seed)
                ours = StratifiedKFold(k, shuffle=True, random_state=random_state)
                assert_same_splits(ours.split(X, y), theirs.split(X, y))


def test_stratified_warns_and_errors_like_sklearn():
    y = np.array([0] * 8 + [1] * 2)
    with pytest.warns(UserWarning, match="least populated class in y has only 2 members"):
        list(StratifiedKFold(3).split(y, y))
    with pytest.raises(ValueError, match="n_splits"):
        sk_splits = sk.StratifiedKFold(3).split(np.zeros(4), [0, 0, 1, 1])
        list(sk_splits)
    with pytest.raises(ValueError, match=r"Invalid `n_splits`.*Received: n_splits=3"):
        StratifiedKFold(3).split(np.zeros(4), [0, 0, 1, 1])


@pytest.mark.parametrize("n", ORACLE_SIZES)
@pytest.mark.parametrize("k", [2, 3, 5])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_group_kfold_matches_sklearn(n, k, seed):
    rng = np.random.RandomState(seed)
    groups = rng.randint(0, max(k, n // 2), size=n)
    groups[:k] = np.arange(k)  # at least k groups
    names = np.array([f"g{g}" for g in groups])
    X = np.zeros(n)
    assert_same_splits(GroupKFold(k).split(X, groups=groups),
                       sk.GroupKFold(k).split(X, groups=groups))
    assert_same_splits(GroupKFold(k, shuffle=True, random_state=seed).split(X, groups=names),
                       sk.GroupKFold(k, shuffle=True, random_state=seed).split(X, groups=names))


@pytest.mark.parametrize("n", ORACLE_SIZES)
@pytest.mark.parametrize("sizes", [(None, None), (0.25, None), (None, 0.5), (0.3, 0.5),
                                   (2, None), (None, 3), (1, 2), (0.2, 3)])
def test_shuffle_split_matches_sklearn(n, sizes):
    test_size, train_size = sizes
    X = np.zeros(n)
    for seed in range(3):
        ours = ShuffleSplit(4, test_size=test_size, train_size=train_size, random_state=seed)
        theirs = sk.ShuffleSplit(4, test_size=test_size, train_size=train_size,
                                 random_state=seed)
        assert_same_splits(ours.split(X), theirs.split(X))


@pytest.mark.parametrize("n", ORACLE_SIZES)
@pytest.mark.parametrize("k", [2, 3, 5])
def test_repeated_kfold_matches_sklearn(n, k):
    X = np.zeros(n)
    for seed in range(3):
        assert_same_splits(RepeatedKFold(n_splits=k, n_repeats=3, random_state=seed).split(X),
                           sk.RepeatedKFold(n_splits=k, n_repeats=3, random_state=seed).split(X))
    ours = RepeatedKFold(n_splits=k, n_repeats=2, random_state=np.random.RandomState(4))
    theirs = sk.RepeatedKFold(n_splits=k, n_repeats=2, random_state=np.random.RandomState(4))
    assert_same_splits(ours.split(X), theirs.split(X))


@pytest.mark.parametrize("n", [10, 13, 30, 64])
@pytest.mark.parametrize("k", [2, 3, 5])
@pytest.mark.parametrize("layout", ["balanced", "imbalanced", "strings"])
def test_repeated_stratified_kfold_matches_sklearn(n, k, layout):
    X = np.zeros(n)
    for seed in range(2):
        y = _label_layouts(n, seed)[layout]
        if np.unique(y, return_counts=True)[1].max() < k:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            ours = RepeatedStratifiedKFold(n_splits=k, n_repeats=3, random_state=seed)
            theirs = sk.RepeatedStratifiedKFold(n_splits=k, n_repeats=3, random_state=seed)
            assert_same_splits(ours.split(X, y), theirs.split(X, y))


@pytest.mark.parametrize("ours, theirs", [
    (KFold(4), sk.KFold(4)),
    (KFold(3, shuffle=True, random_state=2), sk.KFold(3, shuffle=True, random_state=2)),
    (GroupKFold(), sk.GroupKFold()),
    (ShuffleSplit(3, test_size=0.3), sk.ShuffleSplit(3, test_size=0.3)),
    (RepeatedKFold(n_repeats=2, random_state=1), sk.RepeatedKFold(n_repeats=2, random_state=1)),
])
def test_repr_matches_sklearn(ours, theirs):
    assert repr(ours) == repr(theirs)


def test_repr_of_the_extensions():
    assert repr(StratifiedKFold(3, bins=4)) == \
        "StratifiedKFold(bins=4, n_splits=3, random_state=None, shuffle=False)"
    assert repr(HoldoutSplit(100, shuffle=True, random_state=0)) == \
        "HoldoutSplit(random_state=0, shuffle=True, val_size=100)"


# ---------------------------------------------------------------- extensions
def test_bins_stratify_a_continuous_target():
    y = np.random.RandomState(0).gamma(2.0, 10.0, size=200)  # skewed, like prices
    edges = np.quantile(y, [0.25, 0.5, 0.75])
    bin_of = np.digitize(y, edges)
    for cv in (StratifiedKFold(5, bins=4),
               StratifiedKFold(5, shuffle=True, random_state=0, bins=4),
               RepeatedStratifiedKFold(n_splits=5, n_repeats=2, random_state=0, bins=4)):
        for _, val in cv.split(y, y):
            counts = np.bincount(bin_of[val], minlength=4)
            assert counts.min() >= 1 and counts.max() - counts.min() <= 1


def test_bins_give_sklearn_splits_of_the_bin_labels():
    y = np.random.RandomState(1).rand(60) * 50
    labels = np.digitize(y, np.quantile(y, [0.2, 0.4, 0.6, 0.8]))
    assert_same_splits(StratifiedKFold(3, shuffle=True, random_state=0, bins=5).split(y, y),
                       sk.StratifiedKFold(3, shuffle=True, random_state=0).split(y, labels))


@pytest.mark.parametrize("cv", [StratifiedKFold(3), RepeatedStratifiedKFold(n_splits=3)])
def test_continuous_target_without_bins_raises(cv):
    boston_like = np.array([24.0, 21.6, 34.7, 33.4, 36.2, 28.7, 22.9, 27.1, 16.5])
    with pytest.raises(ValueError, match=r"Invalid `y`.*continuous.*bins=5"):
        next(cv.split(boston_like, boston_like))


def test_one_hot_target_is_stratified_on_its_argmax():
    labels = np.random.RandomState(0).choice(4, size=40)
    one_hot = np.eye(4)[labels]
    for seed in range(3):
        assert_same_splits(
            StratifiedKFold(3, shuffle=True, random_state=seed).split(one_hot, one_hot),
            sk.StratifiedKFold(3, shuffle=True, random_state=seed).split(one_hot, labels))
    column = labels.reshape(-1, 1)
    assert_same_splits(StratifiedKFold(3).split(column, column),
                       sk.StratifiedKFold(3).split(column, labels))


def test_holdout_split_is_the_books_first_samples():
    (train, val), = HoldoutSplit(10000).split(np.zeros(25000))
    np.testing.assert_array_equal(val, np.arange(10000))
    np.testing.assert_array_equal(train, np.arange(10000, 25000))
    (train, val), = HoldoutSplit(0.25).split(range(10))
    assert val.tolist() == [0, 1, 2]  # a fraction is rounded up


@pytest.mark.parametrize("val_size", [0.2, 0.5, 3])
def test_shuffled_holdout_equals_one_shuffle_split(val_size):
    for seed in range(3):
        assert_same_splits(HoldoutSplit(val_size, shuffle=True, random_state=seed).split(range(20)),
                           sk.ShuffleSplit(1, test_size=val_size, random_state=seed).split(
                               np.zeros(20)))


def test_repeated_exposes_repeats():
    cv = RepeatedStratifiedKFold(n_splits=4, n_repeats=3, bins=3)
    assert (cv.n_splits, cv.n_repeats, cv.get_n_splits()) == (4, 3, 12)
    assert [cv.repeat_of(i) for i in range(12)] == [0] * 4 + [1] * 4 + [2] * 4


def test_groups_given_to_a_splitter_that_ignores_them_warn():
    with pytest.warns(UserWarning, match="ignored by KFold"):
        KFold(2).split(range(4), groups=[0, 0, 1, 1])


def test_lazy_public_exports():
    assert kfold.KFold is KFold and kfold.RepeatedKFold is RepeatedKFold


# ---------------------------------------------------------------- errors
CTOR_ERRORS = [
    (lambda: KFold(1), r"Invalid `n_splits`\. Expected an integer >= 2\. Received: n_splits=1"),
    (lambda: KFold(2.0), r"Received: n_splits=2\.0"),
    (lambda: KFold(True), r"Received: n_splits=True"),
    (lambda: KFold(3, shuffle=1), r"Invalid `shuffle`.*Received: shuffle=1"),
    (lambda: KFold(3, random_state=0), r"Invalid `random_state`.*shuffle=False.*"
                                       r"random_state=0"),
    (lambda: KFold(3, shuffle=True, random_state=-1), r"Received: random_state=-1"),
    (lambda: KFold(3, shuffle=True, random_state="0"), r"Received: random_state='0'"),
    (lambda: StratifiedKFold(0), r"Received: n_splits=0"),
    (lambda: StratifiedKFold(3, bins=1), r"Invalid `bins`.*Received: bins=1"),
    (lambda: GroupKFold("5"), r"Received: n_splits='5'"),
    (lambda: GroupKFold(3, random_state=1), r"Invalid `random_state`"),
    (lambda: ShuffleSplit(0), r"Invalid `n_splits`\. Expected an integer >= 1"),
    (lambda: ShuffleSplit(test_size=1.5), r"Invalid `test_size`.*test_size=1\.5"),
    (lambda: ShuffleSplit(test_size=0), r"Received: test_size=0"),
    (lambda: ShuffleSplit(train_size=-0.1), r"Invalid `train_size`.*train_size=-0\.1"),
    (lambda: ShuffleSplit(test_size=0.6, train_size=0.6), r"Invalid `train_size`.*0\.6"),
    (lambda: HoldoutSplit(None), r"Invalid `val_size`.*val_size=None"),
    (lambda: HoldoutSplit(1.0), r"Received: val_size=1\.0"),
    (lambda: HoldoutSplit(0.2, random_state=3), r"Invalid `random_state`"),
    (lambda: RepeatedKFold(n_repeats=0), r"Invalid `n_repeats`.*n_repeats=0"),
    (lambda: RepeatedKFold(n_splits=1), r"Invalid `n_splits`.*n_splits=1"),
    (lambda: RepeatedStratifiedKFold(random_state=2.5), r"random_state=2\.5"),
]


@pytest.mark.parametrize("make, message", CTOR_ERRORS)
def test_constructor_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make()


SPLIT_ERRORS = [
    (KFold(5), dict(X=range(3)), r"Invalid `n_splits`.*n_samples=3.*Received: n_splits=5"),
    (RepeatedKFold(n_splits=5), dict(X=range(3)), r"n_samples=3.*n_splits=5"),
    (KFold(2), dict(X=range(6), y=[0, 1]), r"Invalid `y`.*x \(6 samples\).*Received: y=2 entries"),
    (KFold(2), dict(X={"a": np.zeros(3), "b": np.zeros(4)}), r"Invalid `X`.*\[3, 4\]"),
    (KFold(2), dict(X=5), r"Invalid `X`.*Received: X=5"),
    (StratifiedKFold(2), dict(X=range(4)), r"Invalid `y`.*Received: y=None"),
    (StratifiedKFold(2), dict(X=range(4), y=[0, 1, 0]), r"Invalid `y`.*Received: y=3 entries"),
    (StratifiedKFold(2), dict(X=range(4), y=[0.0, np.nan, 1.0, 2.5]), r"Invalid `y`.*NaN"),
    (StratifiedKFold(2), dict(X=range(4), y=[[1, 1], [0, 1], [1, 0], [0, 1]]),
     r"Invalid `y`.*one-hot.*Multi-label"),
    (StratifiedKFold(2, bins=2), dict(X=range(4), y=list("abcd")), r"Invalid `y`.*bins"),
    (GroupKFold(2), dict(X=range(4)), r"Invalid `groups`.*Received: groups=None"),
    (GroupKFold(2), dict(X=range(4), groups=[1, 2, 3]),
     r"Invalid `groups`.*x \(4 samples\).*Received: groups=3 entries"),
    (GroupKFold(3), dict(X=range(4), groups=[1, 1, 2, 2]),
     r"Invalid `n_splits`.*number of groups \(2\).*n_splits=3"),
    (ShuffleSplit(test_size=10), dict(X=range(10)), r"Invalid `test_size`.*n_samples=10"),
    (ShuffleSplit(test_size=6, train_size=6), dict(X=range(10)), r"Invalid `test_size`"),
    (ShuffleSplit(test_size=0.95), dict(X=range(10)), r"at least one training sample"),
    (HoldoutSplit(10), dict(X=range(10)), r"Invalid `val_size`.*\[1, 9\].*val_size=10"),
]


@pytest.mark.parametrize("cv, args, message", SPLIT_ERRORS)
def test_split_errors_are_raised_before_the_first_split(cv, args, message):
    with pytest.raises(ValueError, match=message):
        cv.split(**args)  # raised by the call itself, not at the first next()
    with pytest.raises(ValueError, match=message):
        next(cv.split(**args))
