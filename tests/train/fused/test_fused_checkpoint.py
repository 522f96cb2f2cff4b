"""Fused runs that lose nothing: killed (SIGKILL) anywhere, they resume bit for bit; Ctrl-C keeps the epochs."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

import kfold
import resume_helpers as helpers
from kfold.train.fused.checkpoint import CHECKPOINT_FILE, Checkpoints
from kfold.train.fused.runner import FusedRunner

HELPERS = Path(__file__).with_name("resume_helpers.py")


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    logs = tmp_path_factory.mktemp("logs")
    result = helpers.run(None, logs)
    assert result.params["strategy"] == "fused"
    return result, {f.name: f.read_text() for f in logs.iterdir()}


def kill_child(run_dir, log_dir, point, *extra):
    root = str(Path(kfold.__file__).parents[1])  # the child imports this kfold, not another install
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, *filter(None, [os.environ.get("PYTHONPATH")])])}
    child = subprocess.run([sys.executable, str(HELPERS), str(run_dir), str(log_dir), point, *extra],
                           capture_output=True, timeout=600, env=env)
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()[-3000:]


def count_epochs(monkeypatch):
    calls = []
    epochs = FusedRunner._epochs  # one graph call: epochs first .. first + n - 1
    monkeypatch.setattr(FusedRunner, "_epochs", lambda self, first, active, n: (calls.extend(range(first, first + n)),
                                                                           epochs(self, first, active, n))[1])
    return calls


def assert_same(resumed, uninterrupted, strategy="fused"):
    assert resumed.params.get("strategy", strategy) == strategy
    assert resumed.history == uninterrupted.history  # bit for bit: every value of every epoch
    for key in uninterrupted.scores:
        np.testing.assert_array_equal(resumed.scores[key], uninterrupted.scores[key])


@pytest.mark.slow
@pytest.mark.parametrize("point, checkpoint_epoch", [
    ("compile", None),           # nothing trained yet: no checkpoint, all epochs again
    ("epoch_end:4", 3),          # between the checkpoints of 3 and 6 epochs
    ("epoch_begin:6", 6),        # right after the checkpoint of 6 epochs
    ("train_end", helpers.EPOCHS),  # after the last checkpoint, before the fold files
])
def test_killed_fused_run_resumes_bitwise(tmp_path, monkeypatch, uninterrupted, point, checkpoint_epoch):
    run_dir, logs = tmp_path / "run", tmp_path / "logs"
    logs.mkdir()
    kill_child(run_dir, logs, point)
    assert not list((run_dir / "folds").glob("fold_*.json"))  # fused: no fold finished on its own
    saved = Checkpoints(run_dir, helpers.EPOCHS).load()
    assert (saved and saved.epoch) == checkpoint_epoch

    epochs = count_epochs(monkeypatch)
    resumed = helpers.run(run_dir, logs)
    assert epochs == list(range(checkpoint_epoch or 0, helpers.EPOCHS))  # only the epochs not saved
    assert_same(resumed, uninterrupted[0])
    assert_same(kfold.load(run_dir), uninterrupted[0])
    assert not (run_dir / CHECKPOINT_FILE).exists()  # every fold is saved: the checkpoint went
    assert {f.name: f.read_text() for f in logs.iterdir()} == uninterrupted[1]  # each epoch logged once


@pytest.mark.slow
def test_killed_candidate_of_a_search_resumes_mid_candidate(tmp_path, monkeypatch):
    logs = tmp_path / "logs"
    logs.mkdir()
    kill_child(tmp_path / "search", logs, "epoch_end:4@8", "search")  # in candidate 2, after 3 epochs saved
    assert Checkpoints(tmp_path / "search" / "candidate_001", helpers.EPOCHS).load().epoch == 3

    epochs = count_epochs(monkeypatch)
    resumed = helpers.search(tmp_path / "search", logs)
    assert epochs == list(range(3, helpers.EPOCHS))  # candidate 1 read back, candidate 2 from epoch 4
    again = helpers.search(None, tmp_path)
    for a, b in zip(resumed.results, again.results):
        assert_same(a, b, strategy=a.params["strategy"])  # candidate 1 was only read back: "none"


class InterruptOnce(keras.callbacks.Callback):
    """Presses Ctrl-C (SIGINT) once, at the end of epoch 3 of the first fold it runs in."""

    pressed: list = []

    def on_epoch_end(self, epoch, logs=None):
        if epoch == 2 and not InterruptOnce.pressed:
            InterruptOnce.pressed.append(epoch)
            signal.raise_signal(signal.SIGINT)


def test_ctrl_c_returns_every_folds_epochs_and_resumes(tmp_path, uninterrupted):
    InterruptOnce.pressed.clear()
    x, y = helpers.data()
    args = dict(cv=3, epochs=helpers.EPOCHS, batch_size=8, seed=3, verbose=0)
    with pytest.warns(RuntimeWarning, match="every fold's first 3 epochs"):
        partial = kfold.cross_validate(helpers.build, x, y,
                                       run_dir=kfold.RunDir(tmp_path / "run", checkpoint_every=helpers.EVERY),
                                       callbacks=[InterruptOnce(), *helpers.callbacks(tmp_path)], **args)
    assert partial.params["interrupted"] is True and partial.params["strategy"] == "fused"
    assert partial.history.n_folds == 3 and partial.history.n_epochs == 3
    full = uninterrupted[0].history
    for fold in range(3):
        assert partial.history[fold, "val_loss"] == full[fold, "val_loss"][:3]
    assert not list((tmp_path / "run" / "folds").glob("fold_*.json"))  # cut folds are not "finished"
    assert Checkpoints(tmp_path / "run", helpers.EPOCHS).load().epoch == 3  # written before returning

    resumed = kfold.cross_validate(helpers.build, x, y,
                                   run_dir=kfold.RunDir(tmp_path / "run", checkpoint_every=helpers.EVERY),
                                   callbacks=[InterruptOnce(), *helpers.callbacks(tmp_path)], **args)
    assert "interrupted" not in resumed.params
    assert_same(resumed, uninterrupted[0])


def test_damaged_checkpoint_trains_from_the_start(tmp_path, uninterrupted):
    InterruptOnce.pressed.clear()
    x, y = helpers.data()
    args = dict(cv=3, epochs=helpers.EPOCHS, batch_size=8, seed=3, verbose=0, run_dir=tmp_path / "run",
                callbacks=[InterruptOnce(), *helpers.callbacks(tmp_path)])
    with pytest.warns(RuntimeWarning, match="Interrupted"):
        kfold.cross_validate(helpers.build, x, y, **args)
    (tmp_path / "run" / CHECKPOINT_FILE).write_bytes(b"\x80\x04 cut off")
    with pytest.warns(RuntimeWarning, match="fused_checkpoint.pkl is damaged"):
        resumed = kfold.cross_validate(helpers.build, x, y, **args)
    assert_same(resumed, uninterrupted[0])


@pytest.mark.slow
def test_paused_in_memory_and_continued_bitwise(tmp_path):
    """A fused run paused after 3 epochs (its state kept in memory) continues to the same end."""
    from kfold.train import plan_folds
    from kfold.train.fold import FitConfig, FoldData
    from kfold.train.fused.folds import prepare_folds
    from kfold.train.fused.run import start_runner

    x, y = helpers.data()
    tasks = plan_folds(3, len(y), seed=3)

    def runner():
        config = FitConfig(epochs=helpers.EPOCHS, batch_size=8, callbacks=tuple(helpers.callbacks(tmp_path)[1:]))
        return start_runner(prepare_folds(helpers.build, FoldData(x, y), tasks, config), config)

    full, paused, continued = runner(), runner(), runner()
    full.run()
    paused.run(until=3)
    state = paused.state()
    assert state.epoch == 3 and all(len(f.history) == 3 for f in paused.folds)
    continued.run(state)
    assert [f.history for f in continued.folds] == [f.history for f in full.folds]
    for a, b in zip(continued.folds, full.folds):
        for v, w in zip(a.model.variables, b.model.variables):
            np.testing.assert_array_equal(v.numpy(), w.numpy())


def test_checkpoints_follow_checkpoint_every_when_a_call_trains_several_epochs(tmp_path, monkeypatch):
    saved, save = [], Checkpoints.save
    monkeypatch.setattr(Checkpoints, "save", lambda self, state: saved.append(state.epoch) or save(self, state))
    x, y = helpers.data()  # no callbacks: 20 epochs train 2 per graph call
    kfold.cross_validate(helpers.build, x, y, cv=3, epochs=20, batch_size=8, seed=3, verbose=0,
                         run_dir=kfold.RunDir(tmp_path / "run", checkpoint_every=3))
    assert saved == [3, 6, 9, 12, 15, 18, 20]
