"""learning_curve: every training size on the same folds, with the stated sizes, at each size's selected epoch."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import kfold
from conftest import make_regressor
from kfold.search.learning_curve import translate_train_sizes


@pytest.fixture(scope="module")
def curve():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(42, 3))
    y = x @ np.array([1.0, -2.0, 0.5]) + rng.normal(scale=0.1, size=42)
    cv = kfold.KFold(4, shuffle=True, random_state=1)
    result = kfold.learning_curve(make_regressor, x, y, train_sizes=[0.25, 0.5, 1.0], cv=cv, epochs=3,
                                  batch_size=8, seed=0, verbose=0, preprocess=kfold.Standardize())
    return result, x, cv


@pytest.mark.slow
def test_every_size_trains_on_the_same_folds_with_the_stated_sizes(curve):
    result, x, cv = curve
    folds = list(cv.split(x))
    smallest = min(len(train) for train, _ in folds)
    assert smallest == 31
    assert result.train_sizes_abs.tolist() == [7, 15, 31]  # int(0.25 * 31), int(0.5 * 31), 31
    assert len(result.results) == 3
    for size, cv_result in zip(result.train_sizes_abs, result.results):
        assert cv_result.n_folds == 4 and cv_result.params["train_size"] == size
        for (train, val), (all_train, all_val) in zip(cv_result.folds, folds):
            np.testing.assert_array_equal(val, all_val)  # the validation part is unchanged
            assert len(train) == size and np.isin(train, all_train).all()  # a subset of the fold's training rows
            assert len(np.unique(train)) == size
    for small, large in zip(result.results, result.results[1:]):
        for (a, _), (b, _) in zip(small.folds, large.folds):
            assert np.isin(a, b).all()  # nested: a larger size adds rows
    assert all(r.params["strategy"] == "fused" for r in result.results)  # explicit pairs fuse


def test_scores_are_read_at_each_sizes_selected_epoch(curve):
    result, _, _ = curve
    assert result.key == "val_loss" and result.train_key == "loss"  # summary()'s default key (issue 12)
    for i, cv_result in enumerate(result.results):
        epoch = cv_result.best_epoch("val_loss").epoch
        assert result.selected_epochs[i] == epoch
        np.testing.assert_array_equal(result.val_scores[i], cv_result.history["val_loss"][:, epoch - 1])
        np.testing.assert_array_equal(result.train_scores[i], cv_result.history["loss"][:, epoch - 1])
    np.testing.assert_allclose(result.val_mean, result.val_scores.mean(axis=1))
    np.testing.assert_allclose(result.val_std, result.val_scores.std(axis=1, ddof=1))
    lines = []
    result.summary(print_fn=lines.append)
    assert lines[0].splitlines()[1].startswith("7 ") and "ddof=1" in lines[0]


def test_saved_and_loaded(curve, tmp_path):
    result, _, _ = curve
    result.save(tmp_path / "curve.json")
    loaded = kfold.load(tmp_path / "curve.json")
    assert isinstance(loaded, kfold.LearningCurveResult)
    np.testing.assert_array_equal(loaded.train_sizes_abs, result.train_sizes_abs)
    np.testing.assert_array_equal(loaded.val_scores, result.val_scores)
    assert loaded.results[2].history == result.results[2].history


def test_plot_draws_both_curves_with_bands(curve):
    from matplotlib.figure import Figure

    result, _, _ = curve
    ax = kfold.plot_learning_curve(result, ax=Figure().subplots())
    lines = {line.get_gid(): line for line in ax.get_lines()}
    np.testing.assert_array_equal(lines["train"].get_xdata(), result.train_sizes_abs)
    np.testing.assert_allclose(lines["validation"].get_ydata(), result.val_mean)
    assert {c.get_gid() for c in ax.collections} == {"band train", "band validation"}
    assert not kfold.plot_learning_curve(result, band=None, ax=Figure().subplots()).collections


@pytest.mark.parametrize("sizes", [[0.1, 0.325, 0.55, 0.775, 1.0], [0.5], [1, 10, 40], [0.01, 0.02, 1.0]])
def test_sizes_translate_as_in_scikit_learn(sizes):
    from sklearn.model_selection._validation import _translate_train_sizes

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # duplicates removed, in both
        expected = _translate_train_sizes(np.asarray(sizes), 40)
        mine = translate_train_sizes(sizes, 40)
    np.testing.assert_array_equal(mine, expected)


@pytest.mark.slow
def test_absolute_counts_and_duplicates(regression_data):
    x, y = regression_data
    with pytest.warns(RuntimeWarning, match=r"Removed duplicate entries from train_sizes: 2 sizes instead of 3"):
        assert translate_train_sizes([0.01, 0.02, 1.0], 30).tolist() == [1, 30]
    result = kfold.learning_curve(make_regressor, x, y, train_sizes=[5, 30], cv=4, epochs=1, seed=0, verbose=0,
                                  strategy="sequential")
    assert [len(r.folds[0][0]) for r in result.results] == [5, 30]


@pytest.mark.parametrize("sizes", [[0.0, 0.5], [1.5], [31], [], "half"])
def test_bad_sizes_are_refused_before_training(regression_data, sizes):
    x, y = regression_data

    def never():
        raise AssertionError("no model may be built")

    with pytest.raises(ValueError, match=r"Invalid `train_sizes`.*30 training rows"):
        kfold.learning_curve(never, x, y, train_sizes=sizes, cv=4, epochs=1, verbose=0)


def test_a_key_without_its_training_metric_is_refused(regression_data):
    x, y = regression_data

    def never():
        raise AssertionError("no model may be built")

    with pytest.raises(ValueError, match=r"Invalid `key`.*training metric"):
        kfold.learning_curve(never, x, y, train_sizes=[1.0], cv=2, epochs=1, seed=0, verbose=0, key="mae")
    with pytest.raises(ValueError, match=r"Invalid `key`.*training metric.*Received: key='val_r2'"):
        kfold.learning_curve(make_regressor, x, y, train_sizes=[1.0], cv=2, epochs=1, seed=0, verbose=0,
                             key="val_r2")
