"""Epoch-level Keras callbacks, class_weight and validation_freq run fused, with the sequential path's numbers."""
from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

import kfold

RTOL = 1e-5  # XLA against model.fit's kernels (see test_fused.py)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3))
    return x, x @ np.array([1.0, -2.0, 0.5]) + rng.normal(scale=0.1, size=40)


def build():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse", metrics=["mae"])
    return model


def classifier():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


def both(build_fn, x, y, **kwargs):
    args = {"cv": 4, "epochs": 6, "batch_size": 8, "seed": 0, "verbose": 0, **kwargs}
    fused = kfold.cross_validate(build_fn, x, y, strategy="fused", **args)
    sequential = kfold.cross_validate(build_fn, x, y, strategy="sequential", **args)
    return fused, sequential


def assert_close(fused, sequential):
    assert fused.params["strategy"] == "fused" and sequential.params["strategy"] == "sequential"
    assert fused.history.keys() == sequential.history.keys()
    assert fused.history.epochs_run == sequential.history.epochs_run
    for key in fused.history.keys():
        np.testing.assert_allclose(fused.history.curves(key), sequential.history.curves(key), rtol=RTOL)
    for key in sequential.scores:
        np.testing.assert_allclose(fused.scores[key], sequential.scores[key], rtol=RTOL)


class Stopper(keras.callbacks.Callback):
    """A user's own callback: stops its fold once val_loss is below ``below``."""

    def __init__(self, below):
        super().__init__()
        self.below = below

    def on_epoch_end(self, epoch, logs=None):
        if logs["val_loss"] < self.below:
            self.model.stop_training = True


def scalars(events, tag):
    """The values a TF2 summary writer logged under ``tag`` (stored as tensors)."""
    import tensorflow as tf

    return [float(tf.make_ndarray(event.tensor_proto)) for event in events.Tensors(tag)]


def test_epoch_level_callbacks_run_fused_per_fold(tmp_path, data):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    x, y = data
    epochs_seen = []
    callbacks = [
        keras.callbacks.TensorBoard(log_dir=str(tmp_path / "tb" / "fold_{fold}")),
        keras.callbacks.CSVLogger(str(tmp_path / "csv" / "fold_{fold}.csv")),
        keras.callbacks.ReduceLROnPlateau(monitor="val_loss", patience=0, factor=0.5, min_delta=0.02),
        keras.callbacks.LearningRateScheduler(lambda epoch, lr: lr),
        keras.callbacks.ModelCheckpoint(str(tmp_path / "models" / "fold_{fold}_epoch_{epoch}.weights.h5"),
                                        save_weights_only=True),
        keras.callbacks.TerminateOnNaN(),
        keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: epochs_seen.append(epoch)),
        Stopper(below=0.0),
    ]
    (tmp_path / "csv").mkdir()
    result = kfold.cross_validate(build, x, y, cv=4, epochs=6, batch_size=8, seed=0, verbose=0,
                                  callbacks=callbacks, return_models=True)
    assert result.params["strategy"] == "fused", result.params["strategy_reason"]
    history = result.history
    assert len(epochs_seen) == sum(history.epochs_run)  # the LambdaCallback ran in every fold's epochs

    for fold in range(4):
        name = f"fold_{fold + 1}"
        train = EventAccumulator(str(tmp_path / "tb" / name / "train")).Reload()
        val = EventAccumulator(str(tmp_path / "tb" / name / "validation")).Reload()
        np.testing.assert_allclose(scalars(train, "epoch_loss"), history[fold, "loss"], rtol=1e-6)
        np.testing.assert_allclose(scalars(val, "epoch_loss"), history[fold, "val_loss"], rtol=1e-6)
        assert [e.step for e in train.Tensors("epoch_loss")] == list(range(6))
        with open(tmp_path / "csv" / f"{name}.csv") as file:
            rows = list(csv.DictReader(file))
        assert [float(r["val_loss"]) for r in rows] == history[fold, "val_loss"]
        assert len(list((tmp_path / "models").glob(f"{name}_epoch_*.weights.h5"))) == history.epochs_run[fold]

    # ReduceLROnPlateau acted on the folds whose val_loss stalled only. The learning rate logged at
    # an epoch is the one after that epoch's callbacks (LearningRateScheduler logs it last).
    rates = np.array([history[fold, "learning_rate"] for fold in range(4)])
    reduced = [fold for fold in range(4) if rates[fold, -1] < 0.05 - 1e-6]
    assert 0 < len(reduced) < 4, rates
    for fold in reduced:
        first = int(np.argmax(rates[fold] < 0.05 - 1e-6))
        val_loss = history[fold, "val_loss"]
        assert val_loss[first] > min(val_loss[:first]) - 0.02  # no improvement by min_delta
    optimizers = [float(m.optimizer.learning_rate.numpy()) for m in result.models]
    assert all(optimizers[f] <= rates[f, -1] + 1e-9 for f in range(4))  # each fold's own optimizer
    assert all(optimizers[f] < 0.05 - 1e-6 for f in reduced)


@pytest.mark.slow
def test_fused_callbacks_give_the_sequential_numbers(tmp_path, data):
    x, y = data
    callbacks = [keras.callbacks.ReduceLROnPlateau(monitor="val_loss", patience=0, factor=0.5, min_delta=0.02),
                 keras.callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.95), Stopper(below=0.2),
                 keras.callbacks.EarlyStopping(patience=1, restore_best_weights=True)]
    fused, sequential = both(build, x, y, callbacks=callbacks, epochs=8)
    assert_close(fused, sequential)
    assert len(set(fused.history.epochs_run)) > 1  # Stopper stopped some folds, not all at once


def test_callback_paths_name_the_fold_on_the_sequential_path_too(tmp_path, data):
    x, y = data
    kfold.cross_validate(build, x, y, cv=2, epochs=2, seed=0, verbose=0, strategy="sequential",
                         callbacks=[keras.callbacks.CSVLogger(str(tmp_path / "fold_{fold}.csv"))])
    assert sorted(f.name for f in tmp_path.iterdir()) == ["fold_1.csv", "fold_2.csv"]


def test_candidate_in_paths_of_a_search(tmp_path, data):
    x, y = data
    kfold.grid_search(lambda lr: build(), {"lr": [0.1, 0.2]}, x, y, cv=2, epochs=2, seed=0, verbose=0,
                      refit=False, callbacks=[keras.callbacks.CSVLogger(str(tmp_path / "c{candidate}_f{fold}.csv"))])
    assert sorted(f.name for f in tmp_path.iterdir()) == ["c1_f1.csv", "c1_f2.csv", "c2_f1.csv", "c2_f2.csv"]


@pytest.mark.slow
def test_batch_hooks_go_sequential_and_the_reason_names_the_hook(tmp_path, data):
    x, y = data
    result = kfold.cross_validate(build, x, y, cv=2, epochs=1, seed=0, verbose=0, callbacks=[
        keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: None)])
    assert result.params["strategy"] == "sequential"
    assert "on_train_batch_end" in result.params["strategy_reason"]
    result = kfold.cross_validate(build, x, y, cv=2, epochs=1, seed=0, verbose=0, callbacks=[
        keras.callbacks.TensorBoard(log_dir=str(tmp_path / "tb"), update_freq="batch")])
    assert result.params["strategy"] == "sequential" and "batch hook" in result.params["strategy_reason"]


@pytest.mark.slow
def test_class_weight_fused_equals_sequential(data):
    x, y = data
    labels = (y > 0.5).astype(int)
    fused, sequential = both(classifier, x, labels, fit_kwargs={"class_weight": {0: 1.0, 1: 3.0}})
    assert_close(fused, sequential)
    plain, _ = both(classifier, x, labels)
    assert not np.allclose(plain.history.curves("loss"), fused.history.curves("loss"))  # the weights count


@pytest.mark.slow
def test_class_weight_of_a_search_runs_fused(data):
    x, y = data
    search = kfold.grid_search(classifier, {"fit__class_weight": [{0: 1.0, 1: 2.0}, {0: 2.0, 1: 1.0}]}, x,
                               (y > 0.5).astype(int), cv=2, epochs=2, seed=0, verbose=0, refit=False)
    assert [r.params["strategy"] for r in search.results] == ["fused", "fused"]


@pytest.mark.slow
def test_validation_freq_fused_equals_sequential(data):
    x, y = data
    fused, sequential = both(build, x, y, fit_kwargs={"validation_freq": 2})
    assert_close(fused, sequential)
    assert np.isnan(fused.history.curves("val_loss")[:, 0::2]).all()
    assert np.isfinite(fused.history.curves("val_loss")[:, 1::2]).all()


PIPED = """
import numpy as np, keras, kfold
x = np.random.default_rng(0).normal(size=(30, 3)); y = x.sum(axis=1)
def build():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    return model
for strategy in ("fused", "sequential"):
    kfold.cross_validate(build, x, y, cv=3, epochs=20, seed=0, verbose=1, strategy=strategy)
"""


@pytest.mark.slow
def test_progress_written_to_a_pipe_holds_no_carriage_return():
    root = str(Path(kfold.__file__).parents[1])
    child = subprocess.run([sys.executable, "-c", PIPED], capture_output=True, timeout=600, cwd=root,
                           env={**os.environ, "PYTHONPATH": root, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert child.returncode == 0, child.stderr.decode()[-3000:]
    err = child.stderr.decode()
    assert "\r" not in err
    lines = [line for line in err.splitlines() if line.startswith(("fold-epochs:", "folds:", "Fold ", "Trained"))]
    assert "fold-epochs: 60/60 (100%)" in err and "folds: 3/3 (100%)" in err
    assert "Trained all 3 folds together in one compiled graph in " in err
    assert [line for line in lines if line.startswith("Fold 1/3")][0].count("s - ") == 0  # fused: no split time
    assert any(line.startswith("Fold 1/3 - ") and "s - val_loss" in line for line in lines)  # sequential: its own
    assert all("mean val_loss:" in line for line in lines if line.startswith(("fold-epochs:", "folds:")))
