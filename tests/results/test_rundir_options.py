"""kfold.RunDir: a run directory and its options in one argument."""
from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

import kfold
from kfold.results.rundir_options import as_run_dir


def test_repr_path_and_options():
    run_dir = kfold.RunDir(Path("runs") / "x", overwrite=True, save_weights=True, checkpoint_every=5)
    assert repr(run_dir) == "RunDir('runs/x', overwrite=True, save_weights=True, checkpoint_every=5)"
    assert os.fspath(run_dir) == os.path.join("runs", "x")
    assert run_dir.options() == {"overwrite": True, "save_weights": True, "checkpoint_every": 5}
    assert pickle.loads(pickle.dumps(run_dir)) == run_dir
    assert run_dir.at("elsewhere") == kfold.RunDir("elsewhere", overwrite=True, save_weights=True,
                                                   checkpoint_every=5)


def test_a_plain_path_means_the_defaults():
    assert as_run_dir("runs/x") == kfold.RunDir("runs/x")
    assert as_run_dir(None) is None
    same = kfold.RunDir("runs/x")
    assert as_run_dir(same) is same


@pytest.mark.parametrize("make, error, match", [
    (lambda: kfold.RunDir(3), TypeError, r"Invalid `path`"),
    (lambda: kfold.RunDir(None), TypeError, r"Invalid `path`"),
    (lambda: kfold.RunDir("x", overwrite="yes"), TypeError, r"Invalid `overwrite`.*True or False"),
    (lambda: kfold.RunDir("x", save_weights=1), TypeError, r"Invalid `save_weights`"),
    (lambda: kfold.RunDir("x", checkpoint_every=0), ValueError, r"Invalid `checkpoint_every`.*positive integer"),
    (lambda: as_run_dir(3.5), TypeError, r"Invalid `run_dir`.*kfold.RunDir"),
])
def test_bad_options_are_refused_when_made(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_cross_validate_refuses_a_bad_run_dir_before_training(regression_data, monkeypatch):
    monkeypatch.setattr("kfold.train.run.strategy.run_fold", None)  # training would fail
    with pytest.raises(TypeError, match=r"Invalid `run_dir`"):
        kfold.cross_validate(lambda: None, *regression_data, epochs=1, run_dir=3)
