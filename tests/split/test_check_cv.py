"""Tests of check_cv, PredefinedSplits and folds_hash."""
from __future__ import annotations

import hashlib
import struct
import subprocess
import sys

import numpy as np
import pytest
import sklearn.model_selection as sk

from kfold import (
    GroupKFold,
    KFold,
    RepeatedKFold,
    ShuffleSplit,
    StratifiedKFold,
    check_cv,
    folds_hash,
)
from kfold.split.check import PredefinedSplits, choose_cv, missing_classes, target_type

PAIRS = [([2, 3, 4, 5], [0, 1]), ([0, 1, 4, 5], [2, 3]), ([0, 1, 2, 3], [4, 5])]


# ---------------------------------------------------------------- check_cv
@pytest.mark.parametrize("cv", [None, 5, np.int64(5)])
def test_int_gives_kfold(cv):
    splitter = check_cv(cv)
    assert type(splitter) is KFold and splitter.n_splits == 5 and not splitter.shuffle


@pytest.mark.parametrize("y", [
    [0, 1, 1, 0, 1, 0],
    ["cat", "dog", "cat", "bird", "dog", "cat"],
    [True, False, True, False, True, False],
    np.array([0.0, 1.0, 2.0, 1.0, 0.0, 2.0]),
    np.eye(3)[[0, 1, 2, 0, 1, 2]],  # one-hot, the usual Keras classification target
    np.array([[0], [1], [1], [0], [1], [0]]),
])
def test_int_with_classifier_and_class_labels_gives_stratified(y):
    splitter = check_cv(3, y, classifier=True)
    assert type(splitter) is StratifiedKFold and splitter.n_splits == 3
    assert type(check_cv(3, y)) is KFold  # not a classifier: no stratification


@pytest.mark.parametrize("y", [None, [0.5, 1.7, 2.2], np.random.rand(6, 3),
                               np.zeros((3, 2, 2))])
def test_int_with_classifier_and_other_targets_gives_kfold(y):
    assert type(check_cv(3, y, classifier=True)) is KFold


@pytest.mark.parametrize("splitter", [
    KFold(3), GroupKFold(2), RepeatedKFold(n_splits=2, n_repeats=2),
    ShuffleSplit(2), sk.KFold(4), sk.StratifiedKFold(2), sk.TimeSeriesSplit(3),
])
def test_splitters_pass_through_unchanged(splitter):
    assert check_cv(splitter) is splitter


def test_sklearn_splitter_still_works_after_check_cv():
    splitter = check_cv(sk.KFold(3), classifier=True)
    assert [val.tolist() for _, val in splitter.split(np.zeros(6))] == [[0, 1], [2, 3], [4, 5]]


@pytest.mark.parametrize("make", [
    lambda: PAIRS,
    lambda: tuple(PAIRS),
    lambda: ((np.array(train), np.array(val)) for train, val in PAIRS),  # a generator
    lambda: list(KFold(3).split(range(6))),
])
def test_pairs_are_replayed(make):
    splitter = check_cv(make())
    assert isinstance(splitter, PredefinedSplits)
    assert splitter.get_n_splits() == 3
    for _ in range(2):  # a generator was read once, and can be replayed
        splits = list(splitter.split(np.zeros(6)))
        assert [(t.tolist(), v.tolist()) for t, v in splits] == PAIRS
        assert all(t.dtype == np.intp and v.dtype == np.intp for t, v in splits)


def test_replayed_pairs_cannot_be_changed_through_the_yielded_arrays():
    splitter = check_cv(PAIRS)
    next(splitter.split())[0][:] = 0
    assert next(splitter.split())[0].tolist() == PAIRS[0][0]


@pytest.mark.parametrize("cv, received", [
    ("5", r"cv='5'\. Pass the number of folds as an int: cv=5"),
    (1, r"cv=1"),
    (0, r"cv=0"),
    (3.0, r"cv=3\.0"),
    (True, r"cv=True"),
    ({"train": [0]}, r"cv=\{'train': \[0\]\}"),
    (object(), r"cv=<object object"),
])
def test_bad_cv_raises_naming_cv(cv, received):
    with pytest.raises(ValueError, match=r"Invalid `cv`\. Expected an integer >= 2.*splitter.*"
                                         r"\(train, val\).*Received: " + received):
        check_cv(cv)


@pytest.mark.parametrize("pairs, message", [
    ([], r"at least one \(train, val\) pair"),
    ([5], r"fold 0: int, not a pair"),
    ([([0, 1], [2], [3])], r"fold 0: tuple of 3 items, not a pair"),
    ([([0.0, 1.0], [2])], r"fold 0 train: array of dtype float64"),
    ([([0, 1], [[2]])], r"fold 0 val: array of dtype int64 and shape \(1, 1\)"),
    ([([0, 1], [2]), ([True, False], [1])], r"fold 1 train: array of dtype bool"),
    ([([0, 1], [])], r"fold 0 val"),
    ([([0, -1], [2])], r"non-negative"),
    ([([0, 1, 2], [2, 3])], r"disjoint.*fold 0: 1 indices on both sides, e\.g\. 2"),
])
def test_bad_pairs_raise_naming_cv(pairs, message):
    with pytest.raises(ValueError, match=r"Invalid `cv`.*" + message):
        check_cv(pairs)


def test_predefined_splits_check_indices_against_X():
    splitter = PredefinedSplits(PAIRS)
    with pytest.raises(ValueError, match=r"Invalid `X`.*at least 6 samples.*<4 samples>"):
        splitter.split(np.zeros(4))
    with pytest.raises(ValueError, match=r"Invalid `folds`"):
        PredefinedSplits([("ab", [1])])


# ---------------------------------------------------------------- folds_hash
def test_hash_is_deterministic_and_independent_of_dtype_and_container():
    folds = list(KFold(3).split(range(10)))
    as_lists = [(train.tolist(), val.tolist()) for train, val in folds]
    as_int32 = [(train.astype(np.int32), val.astype(np.uint16)) for train, val in folds]
    digest = folds_hash(folds)
    assert len(digest) == 64 and int(digest, 16) >= 0
    assert digest == folds_hash(folds) == folds_hash(as_lists) == folds_hash(as_int32)
    assert digest == folds_hash(KFold(3).split(range(10)))  # recomputed folds


def test_hash_is_stable_across_processes():
    code = ("from kfold import KFold, folds_hash; "
            "print(folds_hash(KFold(3, shuffle=True, random_state=0).split(range(20))))")
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True).stdout.strip()
    assert other == folds_hash(KFold(3, shuffle=True, random_state=0).split(range(20)))


def test_hash_of_known_folds_is_fixed():
    # Pinned so that a change of the hashing scheme is noticed (runs would no
    # longer be comparable with earlier ones). The encoding: a tag, the number
    # of folds, then for each array its length and its indices, all little-endian
    # 64-bit integers.
    expected = hashlib.sha256(b"kfold.folds_hash.v1" + struct.pack("<6q", 1, 2, 1, 2, 1, 0))
    assert folds_hash([([1, 2], [0])]) == expected.hexdigest() == (
        "d579c9eaef6ef09cce38057e6a294b20c4331f36db21cdec4d61a1320c2d050d")
    assert folds_hash(list(KFold(n_splits=2).split(range(4)))) == (
        "6c7b1dab9db9f54808b740c73a95789b60ed4151446272ac62261cee30aa4509")


@pytest.mark.parametrize("other", [
    list(KFold(3, shuffle=True, random_state=0).split(range(10))),  # another partition
    list(KFold(3).split(range(11))),  # one more sample
    list(KFold(2).split(range(10))),  # other number of folds
    [(val, train) for train, val in KFold(3).split(range(10))],  # sides swapped
    list(KFold(3).split(range(10)))[::-1],  # folds reordered
    [(train[1:], np.r_[train[:1], val]) for train, val in KFold(3).split(range(10))],
    list(KFold(3).split(range(10)))[:2],  # a fold missing
])
def test_hash_differs_for_different_folds(other):
    assert folds_hash(other) != folds_hash(list(KFold(3).split(range(10))))


def test_hash_separates_array_boundaries():
    assert folds_hash([([0, 1], [2, 3])]) != folds_hash([([0], [1, 2, 3])])
    assert folds_hash([([0, 1], [2])]) != folds_hash([([0], [1]), ([2], [])])


@pytest.mark.parametrize("folds, message", [
    ([([0.5], [1])], r"Invalid `folds`.*fold 0 train: array of dtype float64"),
    ([(np.zeros((2, 2), dtype=int), [1])], r"Invalid `folds`.*shape \(2, 2\)"),
    ([7], r"Invalid `folds`.*fold 0: int, not a pair"),
])
def test_hash_rejects_non_index_arrays(folds, message):
    with pytest.raises(ValueError, match=message):
        folds_hash(folds)


# ---------------------------------------------------------------- choose_cv: issue 12 part 4

@pytest.mark.parametrize(("y", "kind"), [
    (np.array([0, 1, 1, 0]), "binary"), (np.array([True, False]), "binary"),
    (np.array([0.0, 1.0, 1.0]), "binary"), (np.array([2, 0, 1]), "multiclass"),
    (np.array([[1], [2], [3]]), "multiclass"), (np.eye(3)[[0, 2, 1]], "one-hot"),
    (np.array([0.5, 1.5, 2.0]), "continuous"), (np.array([1.0, 2.0, 3.0]), "continuous"),
    (np.array([[0.2, 0.8], [0.5, 0.5]]), "continuous"), (None, "unknown"), ({"a": np.zeros(3)}, "unknown"),
])
def test_target_type(y, kind):
    assert target_type(y) == kind


def test_choose_cv_matches_sklearn_check_cv_for_classifiers():
    y = np.repeat([0, 1, 2], 6)
    ours, info = choose_cv(3, y, seed=0)
    theirs = sk.check_cv(3, y, classifier=True)
    x = np.zeros((len(y), 1))
    for (_, a), (_, b) in zip(ours.split(x, y), theirs.split(x, y)):
        np.testing.assert_array_equal(a, b)
    assert info["cv_splitter"].startswith("StratifiedKFold(") and info["cv_random_state"] is None


def test_choose_cv_keeps_kfold_for_regression_and_for_classes_too_small_to_stratify():
    assert isinstance(choose_cv(3, np.linspace(0, 1, 9))[0], KFold)
    splitter, info = choose_cv(3, np.arange(9))  # integer values, each once: not stratifiable
    assert isinstance(splitter, KFold) and "no class of y has 3 members" in info["cv_choice"]


def test_choose_cv_seeds_a_copy_of_a_shuffling_splitter_only():
    cv = ShuffleSplit(n_splits=2, test_size=0.5)
    seeded, info = choose_cv(cv, seed=3)
    assert seeded is not cv and cv.random_state is None and seeded.random_state == 3
    assert info["cv_random_state"] == 3 and "seed 3" in info["cv_choice"]
    unshuffled = KFold(3)
    assert choose_cv(unshuffled, seed=3)[0] is unshuffled
    fixed = KFold(3, shuffle=True, random_state=1)
    assert choose_cv(fixed, seed=3)[0] is fixed
    sk_cv = sk.KFold(3, shuffle=True)
    assert choose_cv(sk_cv, seed=3)[0].random_state == 3 and sk_cv.random_state is None


def test_missing_classes_names_each_fold():
    y = np.array([0, 0, 1, 1, 2, 2])
    folds = list(KFold(3).split(np.zeros((6, 1))))
    assert missing_classes(y, folds) == {0: [0], 1: [1], 2: [2]}
