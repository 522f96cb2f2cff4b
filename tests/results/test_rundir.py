"""RunFolder: manifest checks, atomic fold files, damaged files noticed."""
from __future__ import annotations

import json

import numpy as np
import pytest

from kfold.results.outcome import FoldOutcome
from kfold.results.rundir import RunFolder, data_hash
from kfold.results.outcome import outcome_from_dict, outcome_to_dict


def outcome(fold, loss=1.0):
    return FoldOutcome(fold, {"loss": [2.0, loss], "val_loss": [3.0, float("nan")]},
                       {"loss": loss}, fit_time=1.5, score_time=0.25)


def test_outcome_round_trip_keeps_nan():
    back = outcome_from_dict(json.loads(json.dumps(outcome_to_dict(outcome(2)), allow_nan=False)))
    assert back.fold == 2 and back.history["loss"] == [2.0, 1.0]
    assert np.isnan(back.history["val_loss"][1])
    assert back.scores == {"loss": 1.0} and back.fit_time == 1.5


def test_saved_folds_are_found_again(tmp_path):
    run = RunFolder(tmp_path / "run", {"epochs": 2})
    run.save(outcome(0))
    run.save(outcome(3, loss=0.5))
    again = RunFolder(tmp_path / "run", {"epochs": 2})
    done = again.finished()
    assert sorted(done) == [0, 3] and done[3].scores["loss"] == 0.5
    assert not list((tmp_path / "run").rglob("*.tmp"))


def test_a_different_run_is_refused_with_what_differs(tmp_path):
    RunFolder(tmp_path / "run", {"epochs": 2, "settings": {"seed": 1, "batch_size": 8}})
    with pytest.raises(ValueError, match=r"Invalid `run_dir`.*settings.seed: 1 in the run directory, 2 now.*overwrite=True"):
        RunFolder(tmp_path / "run", {"epochs": 2, "settings": {"seed": 2, "batch_size": 8}})


def test_overwrite_starts_fresh(tmp_path):
    run = RunFolder(tmp_path / "run", {"epochs": 2})
    run.save(outcome(0))
    fresh = RunFolder(tmp_path / "run", {"epochs": 3}, overwrite=True)
    assert fresh.finished() == {}
    assert json.loads((tmp_path / "run" / "manifest.json").read_text()) == {"epochs": 3}


@pytest.mark.parametrize("damage", ['{"fold": 0, "history": {"loss": [1.0', "", '{"fold": 0}'])
def test_damaged_fold_file_is_reported_and_redone(tmp_path, damage):
    run = RunFolder(tmp_path / "run", {"epochs": 2})
    run.save(outcome(0))
    run.save(outcome(1))
    run.fold_file(0).write_text(damage)  # a half-written or emptied file
    with pytest.warns(RuntimeWarning, match="fold_000.json is damaged"):
        done = run.finished()
    assert sorted(done) == [1]
    assert run.fold_file(0).read_text() == damage  # reading changes nothing (issue 13): the resume replaces it
    run.save(outcome(0))
    assert sorted(run.finished()) == [0, 1]


def test_unreadable_manifest_is_refused(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "manifest.json").write_text("{not json")
    with pytest.raises(ValueError, match="unreadable manifest.json.*overwrite=True"):
        RunFolder(tmp_path / "run", {"epochs": 2})


def test_data_hash_sees_values_shapes_and_dtypes():
    x = np.arange(6.0).reshape(3, 2)
    assert data_hash(x, None) == data_hash(x.copy(), None)
    assert data_hash(x) != data_hash(x.reshape(2, 3))
    assert data_hash(x) != data_hash(x.astype(np.float32))
    assert data_hash({"a": x}) != data_hash({"a": x + 1})
    assert data_hash(x, None) != data_hash(None, x)
