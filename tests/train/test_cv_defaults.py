"""Issue 12 parts 4-5 on real runs: cv=<int> stratifies class labels, seed= seeds shuffling splitters,
held-out names, a single split reported as one."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import kfold
from conftest import make_regressor


def make_classifier(n_features: int = 4, n_classes: int = 3):
    import keras

    model = keras.Sequential([keras.Input((n_features,)), keras.layers.Dense(n_classes, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


@pytest.fixture
def sorted_labels():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 10)  # sorted by class, as load_mnist_5k is by digit
    return rng.normal(size=(30, 4)), y


def test_cv_int_on_sorted_class_labels_gives_every_validation_fold_every_class(sorted_labels, capsys):
    x, y = sorted_labels
    result = kfold.cross_validate(make_classifier, x, y, cv=3, epochs=1, seed=0, verbose=1)
    per_fold = np.array([np.bincount(y[val], minlength=3) for _, val in result.folds])
    assert (per_fold >= 3).all() and (per_fold.max(axis=0) - per_fold.min(axis=0) <= 1).all()  # proportions kept
    assert result.params["cv_splitter"].startswith("StratifiedKFold(")
    assert "class labels" in result.params["cv_choice"]
    assert "Folds: cv=3 with class labels" in capsys.readouterr().err  # the choice is printed


def test_one_hot_targets_are_stratified_too(sorted_labels):
    x, y = sorted_labels
    tasks = kfold.train.plan_folds(3, len(y), np.eye(3)[y], seed=0)
    assert all(sorted(np.unique(y[t.val])) == [0, 1, 2] for t in tasks)


def test_a_regression_target_keeps_contiguous_kfold(regression_data):
    x, y = regression_data
    result = kfold.cross_validate(make_regressor, x, y, cv=4, epochs=1, seed=0, verbose=0)
    assert result.params["cv_splitter"] == "KFold(n_splits=4, random_state=None, shuffle=False)"
    np.testing.assert_array_equal(result.folds[0][1], np.arange(10))


def test_a_training_part_without_a_validation_class_warns(sorted_labels):
    x, y = sorted_labels
    with pytest.warns(UserWarning, match=r"training part lacks a class.*fold 1: \[0\]"):
        kfold.train.plan_folds(kfold.KFold(3), len(y), y, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # stratified folds: no warning
        kfold.train.plan_folds(3, len(y), y, seed=0)


@pytest.mark.slow
def test_the_same_seed_gives_the_same_shuffled_folds(regression_data):
    x, y = regression_data
    cv = kfold.KFold(3, shuffle=True)  # random_state=None
    runs = [kfold.cross_validate(make_regressor, x, y, cv=cv, epochs=1, seed=s, verbose=0) for s in (5, 5, 6)]
    assert runs[0].folds_hash == runs[1].folds_hash != runs[2].folds_hash
    assert runs[0].params["cv_random_state"] == 5
    assert cv.random_state is None  # the user's splitter is not changed
    searches = [kfold.grid_search(lambda units: make_regressor(units=units), {"units": [4]}, x, y, cv=cv,
                                  epochs=1, seed=5, verbose=0, refit=False) for _ in range(2)]
    assert searches[0].best_result.folds_hash == searches[1].best_result.folds_hash == runs[0].folds_hash


def test_a_seeded_splitter_is_left_as_it_is(regression_data):
    x, y = regression_data
    result = kfold.cross_validate(make_regressor, x, y, cv=kfold.KFold(3, shuffle=True, random_state=1),
                                  epochs=1, seed=5, verbose=0)
    assert result.params["cv_random_state"] is None
    expected = [val for _, val in kfold.KFold(3, shuffle=True, random_state=1).split(x)]
    for (_, val), want in zip(result.folds, expected):
        np.testing.assert_array_equal(val, want)


def test_held_out_scores_carry_held_out_names_and_old_keys_still_read(regression_data, capsys):
    x, y = regression_data
    result = kfold.cross_validate(make_regressor, x, y, cv=2, epochs=2, seed=0, verbose=1)
    assert list(result.scores) == ["val_loss", "val_mae"]
    assert "- val_loss: " in capsys.readouterr().err  # the fold lines
    with pytest.warns(DeprecationWarning, match="'val_mae'"):
        old = result.scores["mae"]
    np.testing.assert_array_equal(old, result.scores["val_mae"])
    with pytest.raises(KeyError):
        result.scores["accuracy"]


def test_a_holdout_summary_has_no_nan_and_its_plot_is_one_split(regression_data, capsys):
    from matplotlib.figure import Figure

    x, y = regression_data
    result = kfold.cross_validate(make_regressor, x, y, cv=kfold.HoldoutSplit(0.25), epochs=3, seed=0,
                                  verbose=0)
    result.summary("val_mae")
    out = capsys.readouterr().out
    assert "nan" not in out and "±" not in out.split("selected epoch")[0]
    assert "held-out scores of the validation split: val_loss" in out
    ax = kfold.plot_history(result, "val_mae", ax=Figure().subplots())
    assert "validation split" in ax.get_title()
    assert not [c for c in ax.collections if c.get_gid() == "band"]
    assert [t.get_text() for t in ax.get_legend().texts][0] == "val_mae"
