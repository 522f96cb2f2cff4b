"""Issue 12 parts 5-6 without training: held-out names, ddof, one split, the selection key and its notes,
plots that say what they show."""
from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from matplotlib.figure import Figure

import kfold
from kfold import CVHistory, CVResult
from kfold.results.plotting import metric_label
from kfold.results.scores import HeldOutScores


def make_result(curves, scores=None, n_train=3):
    curves = np.asarray(curves, dtype=float)
    folds = [(np.arange(n_train) + 10 * i, np.array([10 * i + n_train])) for i in range(len(curves))]
    history = CVHistory([{"val_loss": list(c), "val_mae": list(c / 2)} for c in curves])
    scores = scores or {"loss": curves[:, -1], "mae": curves[:, -1] / 2}
    return CVResult(history, folds, scores, np.ones(len(curves)), np.zeros(len(curves)), {})


def test_old_json_with_evaluate_names_loads_under_held_out_names(tmp_path):
    result = make_result([[3.0, 2.0, 2.5], [3.2, 2.1, 2.4]])
    data = result.to_dict()
    assert list(data["scores"]) == ["val_loss", "val_mae"]
    data["scores"] = {"loss": data["scores"]["val_loss"], "mae": data["scores"]["val_mae"]}  # a file of the last release
    path = tmp_path / "old.json"
    path.write_text(json.dumps({"kind": "cv_result", **data}))
    back = kfold.load(path)
    assert list(back.scores) == ["val_loss", "val_mae"]
    with pytest.warns(DeprecationWarning, match="held-out scores are named 'val_loss'"):
        np.testing.assert_array_equal(back.scores["loss"], result.scores["val_loss"])
    with pytest.warns(DeprecationWarning):
        assert back.scores.get("mae") is back.scores["val_mae"]
    assert back.scores.get("accuracy", "none") == "none"


def test_new_keys_read_without_a_warning():
    scores = HeldOutScores({"mae": [1.0]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert scores["val_mae"] == [1.0] and "val_mae" in scores and "mae" not in scores


def test_summary_ddof_option_and_default(capsys):
    result = make_result([[3.0, 2.0, 2.5], [3.2, 2.1, 2.4], [3.1, 2.6, 2.9]])
    values = result.scores["val_mae"]
    result.summary()
    out = capsys.readouterr().out
    assert f"mean ± std (ddof=1) over 3 folds: val_loss" in out
    assert f"val_mae {values.mean():.4f} ± {np.std(values, ddof=1):.4f}" in out
    result.summary(ddof=0)
    out = capsys.readouterr().out
    assert f"val_mae {values.mean():.4f} ± {np.std(values):.4f}" in out and "(ddof=0)" in out
    assert f"std with ddof=0" in out  # the selected epoch's spread too
    with pytest.raises(ValueError, match="Invalid `ddof`"):
        result.summary(ddof=2)


def test_summary_and_searches_select_on_val_loss_by_default(capsys):
    result = make_result([[3.0, 2.0, 2.5], [3.2, 2.1, 2.4]])
    result.summary()
    assert "selected epoch: epoch 2 (val_loss" in capsys.readouterr().out
    assert kfold.search.search_result.SearchResult([result], [{}]).select == result.default_key()


def test_a_single_split_summary_has_no_nan_or_spread(capsys):
    make_result([[3.0, 2.0, 2.5]]).summary("val_mae")
    out = capsys.readouterr().out
    assert "nan" not in out and "±" not in out
    assert out.splitlines()[0].startswith("split ") and "held-out scores of the validation split" in out


def test_a_note_when_the_selected_epoch_is_the_last_one(capsys):
    make_result([[3.0, 2.0, 1.5], [3.2, 2.1, 1.4]]).summary()
    assert "note: still improving at epoch 3: train longer" in capsys.readouterr().out
    make_result([[3.0, 2.0, 2.5], [3.2, 2.1, 2.4]]).summary()
    assert "note:" not in capsys.readouterr().out


def test_a_note_when_the_curve_is_flat_within_noise():
    flat = kfold.best_epoch([[1.0, 1.01, 0.99, 1.0], [2.0, 2.01, 1.99, 2.0]])  # folds far apart, curve flat
    assert flat.flat and "flat within noise" in flat.note
    moving = kfold.best_epoch([[3.0, 1.0, 2.0], [3.1, 1.1, 2.1]])
    assert not moving.flat and moving.note is None


def test_metric_labels():
    assert [metric_label(k) for k in ("val_mae", "val_accuracy", "val_loss", "mae")] == \
        ["Validation MAE", "Validation accuracy", "Validation loss", "Training MAE"]


def test_band_is_the_spread_of_the_smoothed_fold_curves():
    curves = np.array([[5.0, 3.0, 2.0, 2.5, 2.2], [6.0, 2.0, 3.5, 2.0, 3.0], [5.5, 4.0, 2.5, 3.0, 2.4]])
    ax = kfold.plot_history(curves, "val_mae", skip=1, smooth=0.8, ax=Figure().subplots())
    (band,) = [c for c in ax.collections if c.get_gid() == "band"]
    smoothed = kfold.smooth_curve(curves[:, 1:], 0.8)
    upper = band.get_paths()[0].vertices[:, 1].max()
    assert np.isclose(upper, (smoothed.mean(axis=0) + smoothed.std(axis=0, ddof=1)).max())
    mean = [line for line in ax.get_lines() if line.get_gid() == "mean"][0].get_ydata()
    np.testing.assert_allclose(mean, smoothed.mean(axis=0))  # the mean sits in the band's middle
    assert band.get_label() == "± 1 std (smoothed folds)"


def test_fold_lines_one_legend_entry_and_hidden_beyond_five_folds():
    rng = np.random.default_rng(0)
    few = kfold.plot_history(rng.random((5, 4)), "val_mae", ax=Figure().subplots())
    assert len([line for line in few.get_lines() if (line.get_gid() or "").startswith("fold ")]) == 5
    assert [t.get_text() for t in few.get_legend().texts].count("each fold (raw)") == 1
    many = kfold.plot_history(rng.random((10, 4)), "val_mae", ax=Figure().subplots())
    assert not [line for line in many.get_lines() if (line.get_gid() or "").startswith("fold ")]
    forced = kfold.plot_history(rng.random((10, 4)), "val_mae", show_folds=True, ax=Figure().subplots())
    assert len([line for line in forced.get_lines() if (line.get_gid() or "").startswith("fold ")]) == 10


def test_plot_history_path_saves_the_figure(tmp_path):
    path = tmp_path / "curve.png"
    kfold.plot_history([[3.0, 2.0, 2.5], [3.2, 2.1, 2.4]], "val_mae", ax=Figure().subplots(), path=path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
