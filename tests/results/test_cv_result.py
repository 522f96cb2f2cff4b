"""CVResult: summary, JSON round trip, default key, fold hash."""
from __future__ import annotations

import json

import numpy as np
import pytest

import kfold
from kfold import CVHistory, CVResult


@pytest.fixture
def result():
    history = CVHistory([
        {"loss": [5.0, 4.0, 3.0], "mae": [2.0, 1.8, 1.5], "val_loss": [6.0, 5.0, 5.5], "val_mae": [2.4, 2.1, 2.2]},
        {"loss": [5.5, 4.5], "mae": [2.1, 1.9], "val_loss": [6.5, 5.6], "val_mae": [2.6, 2.3]},
    ])
    folds = [(np.array([2, 3]), np.array([0, 1])), (np.array([0, 1]), np.array([2, 3]))]
    return CVResult(history, folds, {"loss": np.array([5.5, 5.6]), "mae": np.array([2.2, 2.3])},
                    np.array([1.5, 1.25]), np.array([0.1, 0.1]), {"epochs": 3, "seed": 0})


def test_default_key_is_val_loss_as_in_the_searches(result):
    assert result.default_key() == "val_loss"
    no_loss = CVResult(CVHistory([{"mae": [1.0], "val_mae": [1.0]}]), result.folds[:1],
                       {"mae": np.array([1.0])}, np.ones(1), np.ones(1), {})
    assert no_loss.default_key() == "val_mae"
    only_loss = CVResult(CVHistory([{"loss": [1.0], "val_loss": [1.0]}]), result.folds[:1],
                         {"loss": np.array([1.0])}, np.ones(1), np.ones(1), {})
    assert only_loss.default_key() == "val_loss"


def test_summary_prints_folds_mean_std_and_epoch(result, capsys):
    result.summary("val_mae", skip=1)
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["fold", "train", "val", "val_loss", "val_mae", "fit", "(s)"]
    assert out[1].split() == ["1", "2", "2", "5.5000", "2.2000", "1.5"]
    assert "mean ± std (ddof=1) over 2 folds:" in out[3] and "val_mae 2.2500 ± 0.0707" in out[3]
    assert out[4].startswith("selected epoch: epoch 2 (val_mae")


def test_summary_of_a_fused_run_says_its_time_is_joint(result):
    result.params["strategy"] = "fused"
    lines = []
    result.summary("val_mae", print_fn=lines.append)
    out = lines[0].splitlines()
    assert out[0].endswith("fit (s)*")
    assert out[3] == "* the folds trained together: 2.8 s in all, shared equally"


def test_summary_uses_print_fn(result):
    lines = []
    result.summary("val_loss", print_fn=lines.append)
    assert "selected epoch: epoch 2 (val_loss" in lines[0]


def test_json_round_trip(result, tmp_path):
    path = tmp_path / "result.json"
    result.save(path)
    json.loads(path.read_text())  # valid JSON
    back = CVResult.load(path)
    assert back.history == result.history
    for (t1, v1), (t2, v2) in zip(back.folds, result.folds):
        np.testing.assert_array_equal(t1, t2)
        np.testing.assert_array_equal(v1, v2)
    np.testing.assert_array_equal(back.scores["val_mae"], result.scores["val_mae"])
    np.testing.assert_array_equal(back.fit_times, result.fit_times)
    assert back.params == result.params and back.folds_hash == result.folds_hash
    assert not list(tmp_path.glob("*.tmp"))  # the temporary file was renamed away


def test_round_trip_of_a_real_run(tmp_path):
    from conftest import make_regressor

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(24, 3)), rng.normal(size=24)
    result = kfold.cross_validate(make_regressor, x, y, cv=3, epochs=2, seed=1, verbose=0)
    result.save(tmp_path / "r.json")
    back = CVResult.load(tmp_path / "r.json")
    assert back.history == result.history
    assert back.params == json.loads(json.dumps(result.params))
    assert back.best_epoch() == result.best_epoch()


def test_folds_hash_changes_with_the_folds(result):
    other = CVResult(result.history, [(v, t) for t, v in result.folds], result.scores,
                     result.fit_times, result.score_times, result.params)
    assert other.folds_hash != result.folds_hash
