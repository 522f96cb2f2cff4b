"""Every fault a user can cause: a named error before any training, or handled without losing work.

One test (or a few) per fault of issue 13: Ctrl-C at any moment (SIGINT sent to
a child process), a run directory that cannot be written, ``kfold.load`` that
must not change the disk, a ``select`` the models do not log, a single callback,
a build function that returns the same model, ``verbose=0`` that must be silent,
and string labels.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pytest

import kfold
from conftest import make_regressor

ROOT = Path(__file__).resolve().parents[1]
CHILD = Path(__file__).with_name("interrupt_child.py")


def data(n=30):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 3))
    return x, x @ np.array([1.0, -2.0, 0.5])


class Builds:
    """A build function that counts its calls."""

    def __init__(self):
        self.calls = 0
        self.__qualname__ = "Builds"  # the same name in a run directory's manifest on every run

    def __call__(self):
        self.calls += 1
        return make_regressor()


TRAINED: list = []


class RecordsTraining(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        TRAINED.append(1)


# ---------------------------------------------------------------- 1. Ctrl-C at any moment


def interrupt_child(moment: str, run_dir: Path) -> dict:
    """Start the child, wait until it pauses at ``moment`` of fold 2, send SIGINT, let it go on."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "TF_CPP_MIN_LOG_LEVEL": "3"}
    child = subprocess.Popen([sys.executable, str(CHILD), moment, str(run_dir)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    try:
        lines = []
        while True:
            line = child.stdout.readline()
            assert line, f"the child ended before pausing at {moment}: {lines} {child.stderr.read()[-3000:]}"
            if line.strip() == "PAUSED":
                break
            lines.append(line)
        child.send_signal(signal.SIGINT)
        time.sleep(0.5)  # the signal is handled while the child waits for the line below
        out, err = child.communicate("go\n", timeout=300)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.parametrize("moment, kept", [
    ("train", 1),                   # in fold 2's model.fit
    ("evaluate", 1),                # in fold 2's model.evaluate
    ("save", 2),                    # while fold 2's file is written: the save completes first
    ("build", 1),                   # in build_fn, for fold 2
    ("clear_session", 1),           # inside a weakref callback of clear_session (Python swallows it there)
    ("between", 1),                 # after fold 1 is reported, before fold 2 starts
    ("swallowed_in_training", 2),   # inside a weakref callback during fold 2's training
])
def test_ctrl_c_at_any_moment_returns_the_finished_folds(tmp_path, moment, kept):
    report = interrupt_child(moment, tmp_path / "run")
    assert report["n_folds"] == kept and report["interrupted"], report
    assert any(f"only the {kept} folds that finished" in w for w in report["warnings"]), report
    assert report["files"] == [f"fold_{i:03d}.json" for i in range(kept)], report  # whole files only, no .tmp
    for i in range(kept):
        assert json.loads((tmp_path / "run" / "folds" / f"fold_{i:03d}.json").read_text())["fold"] == i


class InterruptsCandidate2(keras.callbacks.Callback):
    """Ctrl-C (as a KeyboardInterrupt) when candidate 2 (units=4) starts its second fold."""

    def on_train_begin(self, logs=None):
        TRAINED.append(self.model.layers[0].units)
        if TRAINED.count(4) == 2:
            raise KeyboardInterrupt


@pytest.mark.slow
def test_ctrl_c_in_a_search_stops_it_and_returns_the_finished_candidates():
    TRAINED.clear()
    with pytest.warns(RuntimeWarning, match="only the 1 of 3 candidates that finished"):
        search = kfold.grid_search(lambda units: make_regressor(units=units), {"units": [2, 4, 8]}, *data(),
                                   cv=3, epochs=1, seed=0, verbose=0, strategy="sequential",
                                   callbacks=[InterruptsCandidate2()])
    assert search.candidates == [{"units": 2}] and search.best_model is None
    assert search.params["interrupted"] and search.params["unfinished_candidates"] == [1, 2]
    assert 8 not in TRAINED  # candidate 3 never started


# ---------------------------------------------------------------- 2. a run directory that cannot be written


@pytest.mark.parametrize("layout", ["run_dir under a file", "run_dir is a file", "folds is a file"])
def test_unwritable_run_dir_is_refused_before_training(tmp_path, layout):
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    run_dir = {"run_dir under a file": blocker / "run", "run_dir is a file": blocker}.get(layout, tmp_path / "run")
    if layout == "folds is a file":  # e.g. a resumed run whose folds/ went wrong
        run_dir.mkdir()
        (run_dir / "folds").write_text("not a folder")
    build, (x, y) = Builds(), data()
    with pytest.raises(ValueError, match=r"Invalid `run_dir`. Expected a folder kfold can create and write files "
                                         r"in. Received: run_dir=.*Error.*Choose another run_dir"):
        kfold.cross_validate(build, x, y, cv=3, epochs=1, verbose=0, run_dir=run_dir, strategy="sequential")
    assert build.calls == 0


def test_unwritable_search_run_dir_is_refused_before_training(tmp_path):
    (tmp_path / "blocker").write_text("")
    calls = []
    with pytest.raises(ValueError, match=r"Invalid `run_dir`.*NotADirectoryError"):
        kfold.grid_search(lambda units: calls.append(units) or make_regressor(units=units), {"units": [2, 4]},
                          *data(), cv=2, epochs=1, verbose=0, run_dir=tmp_path / "blocker" / "search")
    assert calls == []


def test_read_only_folder_is_refused_before_training(tmp_path, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir()
    real_mkdir = Path.mkdir

    def refuse_inside_locked(self, *args, **kwargs):  # what a read-only folder does, even to root
        if locked in self.parents:
            raise PermissionError(13, "Permission denied", str(self))
        return real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", refuse_inside_locked)
    build, (x, y) = Builds(), data()
    with pytest.raises(ValueError, match=r"Invalid `run_dir`.*PermissionError"):
        kfold.cross_validate(build, x, y, cv=3, epochs=1, verbose=0, run_dir=locked / "run")
    assert build.calls == 0


@pytest.mark.slow
def test_a_failing_save_keeps_the_training_and_the_rerun_trains_only_what_is_missing(tmp_path):
    run_dir, (x, y) = tmp_path / "run", data()
    (run_dir / "folds" / "fold_001.json").mkdir(parents=True)  # fold 2's file cannot be written (even by root)
    with pytest.warns(RuntimeWarning, match=r"Invalid `run_dir`.*saving fold 2 failed.*kept in the returned result"):
        result = kfold.cross_validate(Builds(), x, y, cv=3, epochs=2, seed=0, verbose=0, run_dir=run_dir,
                                      strategy="sequential")
    assert result.n_folds == 3 and result.params["unsaved_folds"] == [1]
    assert sorted(p.name for p in (run_dir / "folds").glob("*.json.tmp")) == []  # nothing half written
    (run_dir / "folds" / "fold_001.json").rmdir()  # the folder fixed
    build = Builds()
    again = kfold.cross_validate(build, x, y, cv=3, epochs=2, seed=0, verbose=0, run_dir=run_dir,
                                 strategy="sequential")
    assert build.calls == 1 and again.history == result.history
    assert "unsaved_folds" not in again.params


# ---------------------------------------------------------------- 3. kfold.load is read-only


def snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_load_changes_nothing_on_disk_and_names_the_folds_it_leaves_out(tmp_path):
    run_dir, (x, y) = tmp_path / "run", data()
    kfold.cross_validate(Builds(), x, y, cv=3, epochs=1, seed=0, verbose=0, run_dir=run_dir, strategy="sequential")
    damaged = run_dir / "folds" / "fold_001.json"
    damaged.write_text(damaged.read_text()[:30])
    before = snapshot(run_dir)
    with pytest.warns(RuntimeWarning) as caught:
        result = kfold.load(run_dir)
    assert snapshot(run_dir) == before
    messages = " ".join(str(w.message) for w in caught)
    assert "fold_001.json is damaged" in messages and "will be computed again" not in messages
    assert "folds [2] of 3 are left out" in messages and "changed nothing on disk" in messages
    assert result.n_folds == 2


# ---------------------------------------------------------------- 4. select the models do not log


def test_select_the_models_do_not_log_is_refused_before_any_candidate_trains():
    calls = []

    def build(units):
        calls.append(units)
        return make_regressor(units=units)

    with pytest.raises(ValueError, match=r"Invalid `select`. Expected a key the models log, one of "
                                         r"\['loss', 'mae', 'val_loss', 'val_mae'\]. Received: select='val_accuracy'"):
        kfold.grid_search(build, {"units": [2, 4]}, *data(), cv=3, epochs=2, select="val_accuracy",
                          verbose=0, strategy="sequential")
    assert calls == [2]  # one model built and evaluated on a few rows, none trained


@pytest.mark.slow
def test_select_of_a_compiled_metric_is_accepted():
    search = kfold.grid_search(lambda units: make_regressor(units=units), {"units": [2]}, *data(), cv=2,
                               epochs=1, select="val_mae", seed=0, verbose=0, refit=False)
    assert search.best_params == {"units": 2}


# ---------------------------------------------------------------- 5. one callback, not in a list


@pytest.mark.slow
def test_a_single_callback_is_taken_as_a_list_of_one():
    x, y = data()
    stop = keras.callbacks.EarlyStopping(monitor="loss", patience=1)
    result = kfold.cross_validate(make_regressor, x, y, cv=2, epochs=2, seed=0, verbose=0, callbacks=stop)
    assert result.params["callbacks"] == ["EarlyStopping"]
    final = kfold.fit_final(make_regressor, x, y, epochs=1, seed=0, callbacks=stop)
    assert len(final.model.history.history["loss"]) == 1
    search = kfold.grid_search(lambda units: make_regressor(units=units), {"units": [2]}, x, y, cv=2, epochs=1,
                               seed=0, verbose=0, callbacks=stop)
    assert search.results[0].params["callbacks"] == ["EarlyStopping"]


@pytest.mark.parametrize("callbacks", ["EarlyStopping", 3, {"stop": 1}])
def test_callbacks_that_are_not_callbacks_are_named(callbacks):
    with pytest.raises(TypeError, match=r"Invalid `callbacks`. Expected a list of keras.callbacks.Callback"):
        kfold.cross_validate(make_regressor, *data(), cv=2, epochs=1, verbose=0, callbacks=callbacks)


# ---------------------------------------------------------------- 6. the same model twice, sequential


def test_a_build_fn_returning_an_existing_model_is_refused_before_fold_1_trains():
    shared = make_regressor()
    TRAINED.clear()
    with pytest.raises(ValueError, match=r"Invalid `build_fn`. Expected a function that builds a new model on "
                                         r"every call. Received: build_fn=build_fn\(\) returned a model that "
                                         r"existed before it was called"):
        kfold.cross_validate(lambda: shared, *data(), cv=3, epochs=1, verbose=0, strategy="sequential",
                             callbacks=[RecordsTraining()])
    assert TRAINED == []


# ---------------------------------------------------------------- 7. verbose=0 is silent


def diverging():
    model = make_regressor()
    model.compile(optimizer=keras.optimizers.SGD(1e12), loss="mse")
    return model


@pytest.mark.parametrize("strategy", ["sequential", "auto"])
def test_verbose_0_prints_nothing_even_when_a_fold_diverges(capfd, strategy):
    x, y = data()
    with pytest.raises(kfold.FoldError, match="the loss became"):
        kfold.cross_validate(diverging, x, y * 1e3, cv=2, epochs=3, seed=0, verbose=0, strategy=strategy)
    out, err = capfd.readouterr()
    assert out == "" and "Invalid loss" not in err


# ---------------------------------------------------------------- 9. string labels


LABELS = r"Invalid `y`. Expected numbers .*Received: y=an array of str values, e.g. \['M', 'R'\].*np.unique\(y, return_inverse=True\)"


@pytest.mark.parametrize("entry", ["cross_validate", "fit_final", "grid_search", "nested_cross_validate"])
def test_string_labels_are_refused_before_any_training(entry):
    x, _ = data(20)
    y = np.array(["M", "R"] * 10)
    calls = []

    def build(units=2):
        calls.append(units)
        return make_regressor(units=units)

    call = {
        "cross_validate": lambda: kfold.cross_validate(build, x, y, cv=2, epochs=1, verbose=0),
        "fit_final": lambda: kfold.fit_final(build, x, y, epochs=1),
        "grid_search": lambda: kfold.grid_search(build, {"units": [2]}, x, y, cv=2, epochs=1, verbose=0),
        "nested_cross_validate": lambda: kfold.nested_cross_validate(build, {"units": [2]}, x, y, outer_cv=2,
                                                                     inner_cv=2, epochs=1, verbose=0),
    }[entry]
    with pytest.raises(ValueError, match=LABELS):
        call()
    assert calls == []


# ---------------------------------------------------------------- more of the same kind (issue 13, item 4)


@pytest.mark.parametrize("kwargs, match", [
    ({"fit_kwargs": [("class_weight", None)]}, r"Invalid `fit_kwargs`. Expected a dict of other fit\(\) arguments"),
    ({"return_models": "no"}, r"Invalid `return_models`. Expected True or False. Received: return_models='no'"),
    ({"overwrite": "no"}, r"Invalid `overwrite`. Expected True or False"),
    ({"save_weights": "yes"}, r"Invalid `save_weights`. Expected True or False"),
    ({"run_dir": 3}, r"Invalid `run_dir`. Expected None, a folder path \(str or pathlib.Path\) or a kfold.RunDir"),
])
def test_other_arguments_are_checked_before_any_model_is_built(kwargs, match):
    build = Builds()
    with pytest.raises(TypeError, match=match):
        kfold.cross_validate(build, *data(), cv=2, epochs=1, verbose=0, **kwargs)
    assert build.calls == 0


def test_search_and_nested_arguments_are_named_as_given():
    build = Builds()
    with pytest.raises(TypeError, match=r"Invalid `refit`. Expected True or False. Received: refit='yes'"):
        kfold.grid_search(lambda units: build(), {"units": [2]}, *data(), cv=2, epochs=1, verbose=0, refit="yes")
    with pytest.raises(ValueError, match=r"Invalid `verbose`.*Received: verbose=5"):  # was shown as 4
        kfold.nested_cross_validate(lambda units: build(), {"units": [2]}, *data(), outer_cv=2, inner_cv=2,
                                    epochs=1, verbose=5)
    assert build.calls == 0


def test_saving_a_result_into_a_missing_folder_names_path(tmp_path):
    result = kfold.cross_validate(make_regressor, *data(), cv=2, epochs=1, seed=0, verbose=0)
    with pytest.raises(ValueError, match=r"Invalid `path`. Expected a file path in a folder that exists.*"
                                         r"FileNotFoundError.*Create the folder first"):
        result.save(tmp_path / "no" / "such" / "result.json")
    assert list(tmp_path.iterdir()) == []
