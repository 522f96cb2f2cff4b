"""Tests for kfold.results.curves: curve statistics, the book's smoothing, epoch selection."""
from __future__ import annotations

import dataclasses
import json
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import kfold
from kfold.results.curves import (
    EpochSelection,
    _curves,
    best_epoch,
    mean_curve,
    sem_curve,
    smooth_curve,
    std_curve,
)


def book_smooth_curve(points, factor=0.9):
    """Listing 3.32 of Deep Learning with Python, verbatim."""
    smoothed_points = []
    for point in points:
        if smoothed_points:
            previous = smoothed_points[-1]
            smoothed_points.append(previous * factor + point * (1 - factor))
        else:
            smoothed_points.append(point)
    return smoothed_points


class FakeResult:
    """Duck-typed stand-in for CVResult: just a ``history`` dict of 2-D arrays."""

    def __init__(self, **history):
        self.history = {k: np.asarray(v, dtype=float) for k, v in history.items()}


@pytest.fixture
def padded():
    """Three folds of 6 epochs; fold 2 stopped after 4 epochs, fold 3 after 1."""
    nan = np.nan
    return np.array([
        [5.0, 4.0, 3.0, 2.0, 2.5, 3.0],
        [6.0, 5.0, 4.0, 3.5, nan, nan],
        [7.0, nan, nan, nan, nan, nan],
    ])


# --------------------------------------------------------------------------- exports, _curves

def test_public_names_exported_lazily():
    for name in ("smooth_curve", "mean_curve", "std_curve", "sem_curve", "best_epoch", "EpochSelection"):
        assert getattr(kfold, name) is getattr(kfold.results.curves, name)


def test_curves_from_result_array_and_1d():
    result = FakeResult(val_mae=[[1, 2], [3, 4]])
    np.testing.assert_array_equal(_curves(result, "val_mae"), [[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(_curves([[1, 2], [3, 4]], None), [[1.0, 2.0], [3.0, 4.0]])
    assert _curves([1, 2, 3], "ignored").shape == (1, 3)
    assert _curves(result, "val_mae").dtype == float


def test_curves_from_keras_style_history_of_lists():
    class History:  # keras.callbacks.History: a dict of per-epoch lists
        history = {"loss": [3.0, 2.0], "val_loss": [4.0, 3.5]}

    np.testing.assert_array_equal(mean_curve(History(), "val_loss"), [4.0, 3.5])


def test_curves_from_cvhistory_directly_and_dict():
    import kfold.results.history as history_module
    history = history_module.CVHistory([{"val_mae": [3.0, 2.5]}, {"val_mae": [2.8]}])
    np.testing.assert_array_equal(mean_curve(history, "val_mae"), [2.9, 2.5])
    np.testing.assert_array_equal(mean_curve({"val_mae": [[1.0, 3.0]]}, "val_mae"), [1.0, 3.0])


@pytest.mark.parametrize("key", ["val_acc", None])
def test_curves_unknown_or_missing_key_lists_available(key):
    result = FakeResult(loss=[[1.0]], val_mae=[[2.0]])
    with pytest.raises(ValueError, match="Invalid `key`") as info:
        mean_curve(result, key)
    message = str(info.value)
    assert f"Received: key={key!r}" in message
    assert "'loss'" in message and "'val_mae'" in message


@pytest.mark.parametrize("bad", [[], [[]], np.zeros((2, 2, 2))])
def test_curves_rejects_empty_or_3d(bad):
    with pytest.raises(ValueError, match="Invalid `source`"):
        mean_curve(bad)


# --------------------------------------------------------------------------- smooth_curve

@pytest.mark.parametrize("factor", [0.9, 0.5, 0.0, 0.99])
def test_smooth_curve_bitwise_equals_book(factor):
    points = np.random.default_rng(0).normal(3.0, 1.0, size=500)
    ours = smooth_curve(points, factor)
    assert np.array_equal(ours, np.array(book_smooth_curve(points, factor)))
    assert np.array_equal(smooth_curve(points.tolist(), factor), book_smooth_curve(points.tolist(), factor))


def test_smooth_curve_default_factor_is_book_default():
    points = np.random.default_rng(1).random(100)
    assert np.array_equal(smooth_curve(points), book_smooth_curve(points))


def test_smooth_curve_2d_smooths_each_row():
    curves = np.random.default_rng(2).random((4, 80))
    smoothed = smooth_curve(curves, 0.8)
    assert smoothed.shape == curves.shape
    for row, out in zip(curves, smoothed):
        assert np.array_equal(out, book_smooth_curve(row, 0.8))


def test_smooth_curve_does_not_modify_input_and_keeps_nan_tail():
    points = np.array([1.0, 2.0, 3.0, np.nan, np.nan])
    copy = points.copy()
    out = smooth_curve(points, 0.5)
    np.testing.assert_array_equal(points, copy)
    np.testing.assert_array_equal(out, [1.0, 1.5, 2.25, np.nan, np.nan])


def test_smooth_curve_empty_and_single_point():
    assert smooth_curve([]).shape == (0,)
    assert smooth_curve([4.0]).tolist() == [4.0]


@pytest.mark.parametrize("factor", [1.0, -0.1, 1.5, "0.9", True])
def test_smooth_curve_bad_factor(factor):
    with pytest.raises(ValueError, match=r"Invalid `factor`.*Received: factor="):
        smooth_curve([1.0, 2.0], factor)


# --------------------------------------------------------------------------- mean/std/sem

def test_stats_full_data_match_numpy():
    curves = np.random.default_rng(3).normal(size=(5, 30))
    result = FakeResult(val_mae=curves)
    np.testing.assert_array_equal(mean_curve(result, "val_mae"), curves.mean(axis=0))
    np.testing.assert_allclose(std_curve(result, "val_mae"), curves.std(axis=0, ddof=1))
    np.testing.assert_allclose(sem_curve(curves), curves.std(axis=0, ddof=1) / np.sqrt(5))


def test_stats_nan_padded(padded):
    mean = mean_curve(padded)
    std = std_curve(padded)
    sem = sem_curve(padded)
    for shape in (mean.shape, std.shape, sem.shape):
        assert shape == (6,)
    np.testing.assert_allclose(mean, [6.0, 4.5, 3.5, 2.75, 2.5, 3.0])
    expected_std = [np.std([5, 6, 7], ddof=1)] + [np.std(padded[:2, i], ddof=1) for i in (1, 2, 3)] + [np.nan] * 2
    np.testing.assert_allclose(std, expected_std)
    counts = np.array([3, 2, 2, 2, 1, 1])
    np.testing.assert_allclose(sem, np.array(expected_std) / np.sqrt(counts))


def test_stats_all_nan_epoch_and_single_fold_without_warnings():
    curves = np.array([[1.0, 2.0, np.nan], [3.0, np.nan, np.nan]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mean, std, sem = mean_curve(curves), std_curve(curves), sem_curve(curves)
        single = std_curve([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(mean, [2.0, 2.0, np.nan])
    assert np.isnan(std[1:]).all() and np.isnan(sem[1:]).all()
    assert np.isnan(single).all()


# --------------------------------------------------------------------------- best_epoch

def test_best_epoch_plain_minimum_is_one_based():
    sel = best_epoch([[5.0, 3.0, 1.0, 2.0], [5.0, 3.0, 3.0, 2.0]])
    assert sel.epoch == 3 and sel.value == 2.0 and sel.mean == 2.0
    assert sel.n_folds == 2 and sel.mode == "min" and sel.rule == "min" and sel.key is None


def test_best_epoch_skip_reports_original_epoch():
    curve = np.array([0.0, 0.5, 9.0, 8.0, 7.0, 6.5, 7.5])  # global minimum in the skipped part
    assert best_epoch(curve).epoch == 1
    sel = best_epoch(curve, skip=2)
    assert sel.epoch == 6 and sel.value == 6.5 and sel.skip == 2


def test_best_epoch_smoothing_changes_the_choice():
    # A single noisy dip at epoch 3 loses to a broad valley once smoothed.
    curve = np.array([10.0, 9.0, 1.0, 9.0, 9.0, 3.0, 3.0, 3.0, 3.0, 3.0])
    assert best_epoch(curve).epoch == 3
    sel = best_epoch(curve, smooth=0.5)
    smoothed = np.array(book_smooth_curve(curve, 0.5))
    assert sel.epoch == int(np.argmin(smoothed)) + 1 == 10
    assert sel.value == smoothed[-1] and sel.mean == 3.0 and sel.smooth == 0.5


def test_best_epoch_skip_then_smooth_like_the_book():
    rng = np.random.default_rng(4)
    curves = 5 / np.sqrt(np.arange(1, 101)) + (np.arange(100) / 100) ** 2 + rng.normal(0, 0.05, (4, 100))
    result = FakeResult(val_mae=curves, mae=curves - 0.5)
    sel = best_epoch(result, "val_mae", skip=10, smooth=0.9)
    smoothed = book_smooth_curve(curves.mean(axis=0)[10:], 0.9)
    assert sel.epoch == int(np.argmin(smoothed)) + 11
    assert sel.value == smoothed[sel.epoch - 11]
    assert sel.key == "val_mae" and sel.n_folds == 4
    assert sel.std == pytest.approx(curves[:, sel.epoch - 1].std(ddof=1))


@pytest.mark.parametrize(
    ("key", "mode", "epoch"),
    [("val_accuracy", "max", 2), ("accuracy", "max", 2), ("val_mae", "min", 4), ("val_loss", "min", 4),
     ("val_auc", "max", 2), ("val_sparse_top_k_categorical_accuracy", "max", 2), ("val_r2_score", "max", 2),
     ("val_mean_squared_error", "min", 4)],
)
def test_best_epoch_mode_auto_reads_the_key(key, mode, epoch):
    result = FakeResult(**{key: [[0.5, 0.9, 0.7, 0.2]]})
    sel = best_epoch(result, key)
    assert (sel.mode, sel.epoch) == (mode, epoch)


def test_best_epoch_explicit_mode_and_bare_array_auto_is_min():
    curve = [0.5, 0.9, 0.7, 0.2]
    assert best_epoch(curve).mode == "min"
    assert best_epoch(curve, mode="max").epoch == 2
    result = FakeResult(val_accuracy=[curve])
    assert best_epoch(result, "val_accuracy", mode="min").epoch == 4


def test_best_epoch_one_se_picks_earlier_epoch_on_flat_bottom():
    # Mean: 10, 6, 3.2, 3.1, 3.05, 3.0 (min at 6); sem at epoch 6 is 0.5, so 3.2 qualifies.
    mean = np.array([10.0, 6.0, 3.2, 3.1, 3.05, 3.0])
    curves = np.stack([mean - 0.5, mean + 0.5])  # std = 0.707, sem = 0.5 everywhere
    assert best_epoch(curves).epoch == 6
    sel = best_epoch(curves, rule="one_se")
    assert sel.epoch == 3 and sel.rule == "one_se"
    assert sel.value == pytest.approx(3.2)
    # With a tighter spread only the later epochs qualify.
    tight = np.stack([mean - 0.06, mean + 0.06])  # sem = 0.06
    assert best_epoch(tight, rule="one_se").epoch == 5


def test_best_epoch_one_se_max_mode_and_single_fold():
    acc = np.array([0.5, 0.8, 0.85, 0.86])
    curves = np.stack([acc - 0.05, acc + 0.05])  # sem = 0.05
    result = FakeResult(val_accuracy=curves)
    assert best_epoch(result, "val_accuracy").epoch == 4
    assert best_epoch(result, "val_accuracy", rule="one_se").epoch == 3  # 0.85 >= 0.86 - 0.05
    # One fold: sem is NaN, treated as 0 -> same as rule="min".
    assert best_epoch(acc, mode="max", rule="one_se").epoch == 4


def test_best_epoch_nan_padded_curves(padded):
    sel = best_epoch(padded)
    assert sel.epoch == 5 and sel.n_folds == 1 and np.isnan(sel.std) and np.isnan(sel.sem)
    assert "1 fold;" not in str(sel) and "1 fold)" in str(sel)


def test_best_epoch_all_nan_after_skip():
    curves = np.array([[1.0, 2.0, np.nan]])
    with pytest.raises(ValueError, match="Invalid `source`"):
        best_epoch(curves, skip=2)


def test_epoch_selection_is_frozen_plain_and_json_serialisable():
    result = FakeResult(val_mae=[[3.0, 2.0, 2.5, 2.6], [3.2, 2.4, 2.3, 2.9]])
    sel = best_epoch(result, "val_mae", skip=1, smooth=0.9)
    assert isinstance(sel, EpochSelection)
    with pytest.raises(dataclasses.FrozenInstanceError):
        sel.epoch = 1
    data = dataclasses.asdict(sel)
    assert set(data) == {"epoch", "value", "mean", "std", "sem", "n_folds", "key", "mode", "rule", "skip", "smooth",
                         "ddof", "n_epochs", "flat"}
    for name in ("epoch", "n_folds", "skip", "ddof", "n_epochs"):
        assert type(data[name]) is int
    for name in ("value", "mean", "std", "sem", "smooth"):
        assert type(data[name]) is float
    assert json.loads(json.dumps(data))["key"] == "val_mae"


def test_epoch_selection_str():
    curves = np.array([[3.0, 2.6, 2.2], [3.0, 2.6, 2.6], [3.0, 2.6, 2.4], [3.0, 2.6, 2.4]])
    assert str(best_epoch(curves, key="val_mae")) == "epoch 3 (val_mae: mean 2.4 ± 0.163 std with ddof=1; 4 folds)"
    text = str(best_epoch(FakeResult(val_mae=curves), "val_mae", smooth=0.5))
    assert text == "epoch 3 (val_mae: mean 2.4 ± 0.163 std with ddof=1, smoothed 2.6; 4 folds)"
    assert "one-SE rule" in str(best_epoch(curves, rule="one_se"))


# --------------------------------------------------------------------------- bad inputs

@pytest.mark.parametrize(
    ("kwargs", "param", "received"),
    [
        ({"skip": 100}, "skip", "skip=100"),
        ({"skip": 250}, "skip", "skip=250"),
        ({"skip": -1}, "skip", "skip=-1"),
        ({"skip": 2.0}, "skip", "skip=2.0"),
        ({"skip": True}, "skip", "skip=True"),
        ({"smooth": 1.0}, "smooth", "smooth=1.0"),
        ({"smooth": -0.5}, "smooth", "smooth=-0.5"),
        ({"mode": "best"}, "mode", "mode='best'"),
        ({"rule": "two_se"}, "rule", "rule='two_se'"),
        ({"key": "val_acc"}, "key", "key='val_acc'"),
    ],
)
def test_best_epoch_bad_inputs(kwargs, param, received):
    result = FakeResult(loss=np.ones((2, 100)), val_loss=np.ones((2, 100)))
    kwargs = {"key": "val_loss", **kwargs}
    with pytest.raises(ValueError) as info:
        best_epoch(result, **kwargs)
    message = str(info.value)
    assert f"Invalid `{param}`" in message and f"Received: {received}" in message


def test_skip_message_names_the_epoch_count():
    with pytest.raises(ValueError) as info:
        best_epoch(np.ones((3, 100)), skip=100)
    assert str(info.value).startswith(
        "Invalid `skip`. Expected an integer in [0, 100) (fewer than the 100 epochs of the curve). "
        "Received: skip=100")


# --------------------------------------------------------------------------- properties

@st.composite
def padded_curves(draw):
    n_folds = draw(st.integers(1, 5))
    n_epochs = draw(st.integers(1, 30))
    values = draw(hnp.arrays(float, (n_folds, n_epochs),
                             elements=st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)))
    lengths = draw(st.lists(st.integers(1, n_epochs), min_size=n_folds, max_size=n_folds))
    lengths[draw(st.integers(0, n_folds - 1))] = n_epochs  # the longest fold sets n_epochs
    for row, length in zip(values, lengths):
        row[length:] = np.nan
    return values


@settings(max_examples=150, deadline=None)
@given(curves=padded_curves(), data=st.data())
def test_property_best_epoch_in_range_and_mean_consistent(curves, data):
    n_epochs = curves.shape[1]
    skip = data.draw(st.integers(0, n_epochs - 1))
    smooth = data.draw(st.one_of(st.none(), st.floats(0.0, 0.99)))
    mode = data.draw(st.sampled_from(["min", "max", "auto"]))
    rule = data.draw(st.sampled_from(["min", "one_se"]))
    sel = best_epoch(curves, skip=skip, smooth=smooth, mode=mode, rule=rule)
    assert skip + 1 <= sel.epoch <= n_epochs
    assert sel.mean == mean_curve(curves)[sel.epoch - 1]
    assert np.isfinite(sel.value) and 1 <= sel.n_folds <= curves.shape[0]


@settings(max_examples=150, deadline=None)
@given(curves=padded_curves(), factor=st.floats(0.0, 0.999))
def test_property_smooth_curve_shape_and_bounds(curves, factor):
    smoothed = smooth_curve(curves, factor)
    assert smoothed.shape == curves.shape
    for row, out in zip(curves, smoothed):
        if np.isnan(row).any():
            continue
        tol = 1e-9 * (1 + np.abs(row).max())
        assert (out >= row.min() - tol).all() and (out <= row.max() + tol).all()
