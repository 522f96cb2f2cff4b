"""Runs that lose nothing: resume after SIGKILL, damaged files, failing folds, bad input."""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import kfold
from kfold.core.errors import FoldError
from reliability_helpers import build, data, run

HELPERS = Path(__file__).with_name("reliability_helpers.py")


@pytest.mark.slow
def test_killed_run_resumes_to_the_same_result(tmp_path):
    run_dir = tmp_path / "run"
    child = subprocess.run([sys.executable, str(HELPERS), str(run_dir)], capture_output=True, timeout=300)
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()[-2000:]
    assert [f.name for f in (run_dir / "folds").glob("*.json")] == ["fold_000.json"]
    saved = json.loads((run_dir / "folds" / "fold_000.json").read_text())

    resumed = run(run_dir)          # only folds 2 and 3 are trained now
    uninterrupted = run(None)
    assert resumed.history == uninterrupted.history
    np.testing.assert_array_equal(resumed.scores["val_mae"], uninterrupted.scores["val_mae"])
    assert resumed.history[0, "loss"] == saved["history"]["loss"]  # fold 1 read back, not retrained
    assert kfold.load(run_dir).history == uninterrupted.history


@pytest.mark.slow
def test_damaged_fold_file_is_recomputed(tmp_path):
    first = run(tmp_path / "run")
    path = tmp_path / "run" / "folds" / "fold_001.json"
    path.write_text(path.read_text()[:40])  # as if the write had been cut off
    with pytest.warns(RuntimeWarning, match="fold_001.json is damaged"):
        again = run(tmp_path / "run")
    assert again.history == first.history
    assert json.loads(path.read_text())["fold"] == 1


@pytest.mark.slow
def test_finished_run_is_read_back_without_training(tmp_path, monkeypatch):
    first = run(kfold.RunDir(tmp_path / "run", save_weights=True))
    assert len(list((tmp_path / "run" / "folds").glob("*.weights.h5"))) == 0  # no models kept
    monkeypatch.setattr("kfold.train.run.strategy.run_fold", None)  # training now would fail
    again = run(kfold.RunDir(tmp_path / "run", save_weights=True))
    assert again.history == first.history and again.params["strategy"] == "none"


@pytest.mark.slow
def test_weights_are_saved_with_the_models(tmp_path):
    run(kfold.RunDir(tmp_path / "run", save_weights=True), return_models=True)
    assert len(list((tmp_path / "run" / "folds").glob("*.weights.h5"))) == 3


@pytest.mark.slow
def test_run_dir_of_another_run_is_refused_then_overwritten(tmp_path):
    run(tmp_path / "run")
    with pytest.raises(ValueError, match=r"Invalid `run_dir`.*settings.epochs: 3 in the run directory, 2 now.*overwrite=True"):
        run(tmp_path / "run", epochs=2)
    result = run(kfold.RunDir(tmp_path / "run", overwrite=True), epochs=2)
    assert result.history.n_epochs == 2


def test_other_data_is_refused(tmp_path):
    x, y = data()
    kfold.cross_validate(build, x, y, cv=2, epochs=1, verbose=0, seed=0, run_dir=tmp_path / "r")
    with pytest.raises(ValueError, match="data_hash"):
        kfold.cross_validate(build, x + 1, y, cv=2, epochs=1, verbose=0, seed=0, run_dir=tmp_path / "r")


def diverging_build():
    """Fold models whose second build diverges at once (a huge learning rate)."""
    diverging_build.calls += 1
    model = build()
    if diverging_build.calls == 2:
        model.compile(optimizer=__import__("keras").optimizers.SGD(1e12), loss="mse", metrics=["mae"])
    return model


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["sequential", "auto"])
def test_nan_loss_fails_the_fold_and_skip_goes_on(strategy):
    diverging_build.calls = 0
    x, y = data()
    result = kfold.cross_validate(diverging_build, x, y * 1e3, cv=3, epochs=3, batch_size=8, seed=0,
                                  verbose=0, on_error="skip", strategy=strategy)
    assert list(result.errors) == [1] and "the loss became" in result.errors[1]
    assert np.isnan(result.scores["val_mae"][1]) and np.isfinite(result.scores["val_mae"][[0, 2]]).all()
    assert result.best_epoch("val_mae").n_folds == 2
    lines = []
    result.summary(print_fn=lines.append)
    assert "mean ± std (ddof=1) over 2 folds" in lines[0] and "fold 2 failed: the loss became" in lines[0]


def test_nan_loss_raises_by_default_after_saving_finished_folds(tmp_path):
    diverging_build.calls = 0
    x, y = data()
    with pytest.raises(FoldError, match="Fold 2 failed: the loss became"):
        kfold.cross_validate(diverging_build, x, y * 1e3, cv=3, epochs=3, batch_size=8, seed=0,
                             verbose=0, strategy="sequential", run_dir=tmp_path / "r")
    assert sorted(f.name for f in (tmp_path / "r" / "folds").glob("*.json")) == ["fold_000.json", "fold_001.json"]


@pytest.mark.slow
def test_a_raising_fold_is_recorded_with_its_traceback():
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) == 2:
            raise MemoryError("out of memory in fold 2")
        return build()

    x, y = data()
    result = kfold.cross_validate(flaky, x, y, cv=3, epochs=1, verbose=0, on_error="skip",
                                  strategy="sequential", seed=0)
    assert "MemoryError: out of memory in fold 2" in result.errors[1]
    assert "Traceback" in result.errors[1]


def test_every_fold_failing_raises():
    x, y = data()
    with pytest.raises(FoldError, match=r"Fold 1 failed: RuntimeError: Invalid `build_fn`.*ZeroDivisionError.*every other fold failed"):
        kfold.cross_validate(lambda: 1 / 0, x, y, cv=2, epochs=1, verbose=0, on_error="skip",
                             strategy="sequential")


def test_ctrl_c_keeps_the_finished_folds(tmp_path):
    import keras

    class Interrupt(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            if list((tmp_path / "r" / "folds").glob("*.json")):
                raise KeyboardInterrupt

    x, y = data()
    with pytest.warns(RuntimeWarning, match="only the 1 folds that finished"):
        result = kfold.cross_validate(build, x, y, cv=3, epochs=1, verbose=0, seed=0, strategy="sequential",
                                      callbacks=[Interrupt()], run_dir=tmp_path / "r")
    assert result.n_folds == 1 and result.params["interrupted"]


@pytest.mark.parametrize("where", ["x", "y"])
def test_nan_in_the_data_is_refused_before_training(where):
    x, y = data()
    (x if where == "x" else y)[3] = np.nan
    with pytest.raises(ValueError, match=rf"Invalid `{where}`.*Received: {where}=an array with \d+ NaN.*nan_policy='warn'"):
        kfold.cross_validate(build, x, y, cv=2, epochs=1, verbose=0)


def test_nan_policy_warn_trains_anyway():
    x, y = data()
    x[0, 0] = np.inf
    with pytest.warns(RuntimeWarning, match="`x` holds 1 NaN or infinite values out of 144"):
        kfold.cross_validate(build, x, y, cv=2, epochs=1, verbose=0, nan_policy="warn",
                             strategy="sequential", on_error="skip")


def test_build_fn_that_raises_names_build_fn():
    def broken():
        raise KeyError("units")

    x, y = data()
    with pytest.raises(RuntimeError, match=r"Invalid `build_fn`.*Received: build_fn=build_fn\(\) raised KeyError: 'units'"):
        kfold.cross_validate(broken, x, y, cv=2, epochs=1, verbose=0)


@pytest.mark.parametrize("kwargs, param", [({"on_error": "ignore"}, "on_error"), ({"nan_policy": "drop"}, "nan_policy"),
                                           ({"strategy": "fast"}, "strategy")])
def test_bad_choices_are_named(kwargs, param):
    x, y = data()
    value = next(iter(kwargs.values()))
    with pytest.raises(ValueError, match=f"Invalid `{param}`.*Received: {param}='{value}'"):
        kfold.cross_validate(build, x, y, cv=2, epochs=1, verbose=0, **kwargs)


def test_user_random_state_is_given_back():
    import keras
    import tensorflow as tf

    keras.backend.clear_session()  # forget any seed an earlier test gave Keras
    tf.random.set_seed(None)
    np.random.seed(123)
    random.seed(5)
    numpy_before, python_before = np.random.get_state()[1].copy(), random.getstate()
    x, y = data()
    kfold.cross_validate(build, x, y, cv=2, epochs=1, verbose=0, seed=0)
    assert (np.random.get_state()[1] == numpy_before).all() and random.getstate() == python_before
    from tensorflow.python.eager import context

    assert context.global_seed() is None  # TensorFlow unseeded again: fit(shuffle=True) reshuffles
    try:
        from keras.src.utils.rng_utils import get_random_seed
    except ImportError:  # Keras < 3.9 keeps no record of its seed (TensorFlow's, checked above)
        return
    assert get_random_seed() is None  # Keras unseeded again


def test_user_seed_is_given_back():
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(7)
    x, y = data()
    kfold.cross_validate(build, x, y, cv=2, epochs=1, verbose=0, seed=0)
    after = tf.random.uniform([4]).numpy()
    keras.utils.set_random_seed(7)
    np.testing.assert_array_equal(after, tf.random.uniform([4]).numpy())  # seeded as the user left it
    keras.backend.clear_session()
    tf.random.set_seed(None)


CHILD = """
import json, sys
sys.path.insert(0, {tests!r})
from reliability_helpers import run
print(json.dumps(run(None, epochs=4).history.to_dict()))
"""


@pytest.mark.slow
def test_same_seed_same_histories_in_two_processes():
    code = CHILD.format(tests=str(HELPERS.parent))
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    outs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                           check=True, timeout=300).stdout for _ in range(2)]
    assert outs[0] == outs[1] and json.loads(outs[0])["folds"]
