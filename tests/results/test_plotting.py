"""Tests for kfold.results.plotting: what is drawn, where, and under which label."""
from __future__ import annotations

import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import kfold  # noqa: E402
from kfold.results.plotting import plot_folds, plot_history  # noqa: E402
from kfold.results.curves import best_epoch, mean_curve, sem_curve, smooth_curve, std_curve  # noqa: E402


class FakeResult:
    def __init__(self, **history):
        self.history = {k: np.asarray(v, dtype=float) for k, v in history.items()}


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture
def result():
    rng = np.random.default_rng(0)
    epochs = np.arange(1, 41)
    val = 4 / np.sqrt(epochs) + (epochs / 40) ** 2 + rng.normal(0, 0.05, (3, 40))
    val[2, 30:] = np.nan  # fold 3 stopped early
    train = 4 / np.sqrt(epochs) - 0.3 + rng.normal(0, 0.02, (3, 40))
    train[2, 30:] = np.nan
    return FakeResult(val_mae=val, mae=train, loss=train**2, val_loss=val**2)


def lines_by_gid(ax):
    return {line.get_gid(): line for line in ax.get_lines()}


def legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


# --------------------------------------------------------------------------- import cost

def test_import_does_not_import_matplotlib():
    code = "import sys, kfold.results.plotting, kfold.results.curves; assert 'matplotlib' not in sys.modules, 'imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_exported_from_package():
    assert kfold.plot_history is plot_history and kfold.plot_folds is plot_folds


# --------------------------------------------------------------------------- plot_history

def test_plot_history_lines_band_and_selection(result):
    ax = plot_history(result, "val_mae")
    curves = result.history["val_mae"]
    lines = lines_by_gid(ax)
    x = np.arange(1, 41)
    for i in range(3):
        fold = lines[f"fold {i + 1}"]
        assert fold.get_label() == ("each fold (raw)" if i == 0 else f"_fold {i + 1}")
        np.testing.assert_array_equal(fold.get_xdata(), x)
        np.testing.assert_array_equal(fold.get_ydata(), curves[i])
    mean = lines["mean"]
    assert mean.get_label() == "mean val_mae"
    np.testing.assert_array_equal(mean.get_xdata(), x)
    np.testing.assert_array_equal(mean.get_ydata(), mean_curve(result, "val_mae"))
    sel = best_epoch(result, "val_mae")
    np.testing.assert_array_equal(lines["selected"].get_xdata(), [sel.epoch, sel.epoch])
    assert lines["selected point"].get_ydata()[0] == sel.value
    assert legend_texts(ax) == ["each fold (raw)", "mean val_mae", "± 1 std", f"selected: epoch {sel.epoch}"]
    (band,) = [c for c in ax.collections if c.get_gid() == "band"]
    assert band.get_label() == "± 1 std"
    assert ax.get_xlabel() == "Epoch" and ax.get_ylabel() == "Validation MAE" and "3 folds" in ax.get_title()


def test_plot_history_band_encloses_mean_plus_minus_std(result):
    ax = plot_history(result, "val_mae", mark_epoch=False)
    (band,) = ax.collections
    vertices = band.get_paths()[0].vertices
    mean, std = mean_curve(result, "val_mae"), std_curve(result, "val_mae")
    at_5 = np.unique(vertices[vertices[:, 0] == 5][:, 1])  # the polygon's two y values at epoch 5
    np.testing.assert_allclose(at_5, [mean[4] - std[4], mean[4] + std[4]])
    assert np.nanmax(vertices[:, 1]) == pytest.approx(np.nanmax(mean + std))


def test_plot_history_sem_band_and_no_band(result):
    ax = plot_history(result, "val_mae", band="sem", mark_epoch=False)
    (band,) = ax.collections
    vertices = band.get_paths()[0].vertices
    mean, sem = mean_curve(result, "val_mae"), sem_curve(result, "val_mae")
    np.testing.assert_allclose(np.unique(vertices[vertices[:, 0] == 1][:, 1]), [mean[0] - sem[0], mean[0] + sem[0]])
    assert "± 1 sem" in legend_texts(ax)
    for none in ("none", None):
        assert not plot_history(result, "val_mae", band=none).collections


def test_plot_history_skip_and_smooth_like_the_book(result):
    ax = plot_history(result, "val_mae", skip=10, smooth=0.9, show_folds=False)
    lines = lines_by_gid(ax)
    assert not any(gid.startswith("fold") for gid in lines)
    mean = lines["mean"]
    np.testing.assert_array_equal(mean.get_xdata(), np.arange(11, 41))
    np.testing.assert_array_equal(mean.get_ydata(), smooth_curve(mean_curve(result, "val_mae")[10:], 0.9))
    assert mean.get_label() == "mean val_mae, smoothed"
    sel = best_epoch(result, "val_mae", skip=10, smooth=0.9)
    assert lines["selected"].get_xdata()[0] == sel.epoch >= 11
    assert f"selected: epoch {sel.epoch}" in legend_texts(ax)
    assert "from epoch 11" in ax.get_title() and "smoothed (0.9)" in ax.get_title()  # a shorter title on purpose


def test_plot_history_folds_start_at_skip_plus_one(result):
    ax = plot_history(result, "val_mae", skip=5)
    fold = lines_by_gid(ax)["fold 2"]
    np.testing.assert_array_equal(fold.get_xdata(), np.arange(6, 41))
    np.testing.assert_array_equal(fold.get_ydata(), result.history["val_mae"][1, 5:])


def test_plot_history_training_curve(result):
    ax = plot_history(result, "val_mae", training=True, mark_epoch=False, show_folds=False)
    train = lines_by_gid(ax)["training"]
    assert train.get_label() == "training mae"
    np.testing.assert_array_equal(train.get_ydata(), mean_curve(result, "mae"))
    assert legend_texts(ax) == ["mean val_mae", "± 1 std", "training mae"]
    assert train.get_color() != lines_by_gid(ax)["mean"].get_color()
    assert ax.get_ylabel() == "MAE"  # both curves drawn: the metric's own name


def test_plot_history_training_missing_or_not_validation_key():
    with pytest.raises(ValueError, match="Invalid `training`.*'mae'"):
        plot_history(FakeResult(val_mae=[[1.0, 2.0]]), "val_mae", training=True)
    with pytest.raises(ValueError, match="Invalid `training`"):
        plot_history(FakeResult(mae=[[1.0, 2.0]]), "mae", training=True)
    with pytest.raises(ValueError, match="Invalid `training`"):
        plot_history([[1.0, 2.0]], "val_mae", training=True)


def test_plot_history_mode_auto_for_accuracy_and_one_se():
    acc = np.array([[0.5, 0.8, 0.85, 0.86], [0.6, 0.9, 0.95, 0.96]])
    ax = plot_history(FakeResult(val_accuracy=acc), "val_accuracy")
    assert lines_by_gid(ax)["selected"].get_xdata()[0] == 4
    ax = plot_history(FakeResult(val_accuracy=acc), "val_accuracy", rule="one_se")
    assert lines_by_gid(ax)["selected"].get_xdata()[0] == 3


def test_plot_history_array_source_uses_given_axes():
    fig, ax = plt.subplots()
    out = plot_history([3.0, 2.0, 1.0, 1.5], None, ax=ax)
    assert out is ax and ax.get_ylabel() == "Value"
    # one curve is one split: no "mean", no band
    assert legend_texts(ax) == ["curve", "selected: epoch 3"] and "validation split" in ax.get_title()


def test_plot_history_new_figure_when_no_axes(result):
    before = plt.get_fignums()
    ax = plot_history(result, "val_loss")
    assert len(plt.get_fignums()) == len(before) + 1 and ax.figure.number in plt.get_fignums()


@pytest.mark.parametrize(
    ("kwargs", "param", "received"),
    [
        ({"key": "val_acc"}, "key", "key='val_acc'"),
        ({"skip": 40}, "skip", "skip=40"),
        ({"skip": -1}, "skip", "skip=-1"),
        ({"smooth": 1.0}, "smooth", "smooth=1.0"),
        ({"band": "iqr"}, "band", "band='iqr'"),
        ({"mode": "up"}, "mode", "mode='up'"),
        ({"rule": "one"}, "rule", "rule='one'"),
    ],
)
def test_plot_history_bad_inputs_before_drawing(result, kwargs, param, received):
    kwargs = {"key": "val_mae", **kwargs}
    before = plt.get_fignums()
    with pytest.raises(ValueError) as info:
        plot_history(result, **kwargs)
    assert f"Invalid `{param}`" in str(info.value) and f"Received: {received}" in str(info.value)
    assert plt.get_fignums() == before


# --------------------------------------------------------------------------- plot_folds

class ThreeFold:
    """Contiguous 3-fold splitter stub."""

    def split(self, x, y=None, groups=None):
        folds = np.array_split(np.arange(len(x)), 3)
        for i, val in enumerate(folds):
            yield np.concatenate([f for j, f in enumerate(folds) if j != i]), val


class PartialSplit:
    """Two splits that leave some samples out (like ShuffleSplit with train_size)."""

    def split(self, x, y=None, groups=None):
        yield np.array([0, 1, 2]), np.array([5])
        yield np.array([3, 4, 5]), np.array([0, 1])


def test_plot_folds_matrix_ticks_and_labels():
    ax = plot_folds(ThreeFold(), np.zeros((9, 2)))
    (image,) = ax.images
    assert image.get_gid() == "splits"
    expected = np.ones((3, 9), dtype=int)
    for i in range(3):
        expected[i, 3 * i: 3 * i + 3] = 2
    np.testing.assert_array_equal(image.get_array(), expected)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["fold 1", "fold 2", "fold 3"]
    assert ax.get_xlabel() == "Sample index"
    assert legend_texts(ax) == ["training", "validation"]
    assert ax.get_xlim() == (-0.5, 8.5)


def test_plot_folds_unused_samples_third_colour():
    ax = plot_folds(PartialSplit(), list(range(6)))
    np.testing.assert_array_equal(ax.images[0].get_array(), [[1, 1, 1, 0, 0, 2], [2, 2, 0, 1, 1, 1]])
    assert legend_texts(ax) == ["training", "validation", "unused"]
    colors = ax.images[0].cmap(ax.images[0].norm([0, 1, 2]))
    assert len({tuple(c) for c in colors}) == 3


def test_plot_folds_class_and_group_rows():
    y = np.array(["a", "b", "a", "b", "a", "b"])
    groups = [10, 10, 20, 20, 30, 30]
    ax = plot_folds(ThreeFold(), np.zeros(6), y, groups)
    gids = [im.get_gid() for im in ax.images]
    assert gids == ["splits", "classes", "groups"]
    np.testing.assert_array_equal(ax.images[1].get_array(), [[0, 1, 0, 1, 0, 1]])
    np.testing.assert_array_equal(ax.images[2].get_array(), [[0, 0, 1, 1, 2, 2]])
    assert [t.get_text() for t in ax.get_yticklabels()] == ["fold 1", "fold 2", "fold 3", "class", "group"]
    assert ax.get_ylim() == (4.5, -0.5)


def test_plot_folds_one_hot_targets():
    y = np.eye(3)[[0, 1, 2, 0, 1, 2]]
    ax = plot_folds(ThreeFold(), np.zeros(6), y)
    np.testing.assert_array_equal(ax.images[1].get_array(), [[0, 1, 2, 0, 1, 2]])


def test_plot_folds_bad_inputs():
    with pytest.raises(TypeError, match="Invalid `cv`"):
        plot_folds(object(), [1, 2, 3])
    with pytest.raises(ValueError, match=r"Invalid `y`.*Received: y='2 values'"):
        plot_folds(ThreeFold(), np.zeros(6), [0, 1])

    class Empty:
        def split(self, x, y=None, groups=None):
            return iter(())

    with pytest.raises(ValueError, match="Invalid `cv`"):
        plot_folds(Empty(), [1, 2, 3])


def test_plot_folds_with_library_kfold():
    import kfold.split.splitters as split
    ax = plot_folds(split.KFold(n_splits=4), np.zeros(10))
    matrix = ax.images[0].get_array()
    assert matrix.shape == (4, 10)
    np.testing.assert_array_equal((np.asarray(matrix) == 2).sum(axis=0), np.ones(10))
