"""Fused runs killed at chosen points (child processes) and the runs the tests compare them with.

``python resume_helpers.py RUN_DIR LOG_DIR POINT [search]`` trains the run below
and SIGKILLs itself at ``POINT``:

* ``compile``: while the fused graph is traced (the first call of the optimizer's ``apply``);
* ``epoch_end:N``: in the callbacks of epoch ``N`` (0-based), between checkpoints;
* ``epoch_begin:N``: as epoch ``N`` begins, right after the checkpoint of ``N`` epochs;
* ``train_end``: after the last checkpoint, before the fold files are written;
* ``POINT@U``: only in the model with ``U`` units (a search's second candidate).
"""
from __future__ import annotations

import os
import signal
import sys

import keras
import numpy as np

EPOCHS, EVERY = 8, 3  # checkpoints after 3, 6 and 8 epochs
KILL = "KFOLD_TEST_KILL_AT"


def data():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(45, 3))
    return x, x @ np.array([1.0, -2.0, 0.5]) + rng.normal(scale=0.1, size=45)


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def build(units=8):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(units, activation="relu"),
                              keras.layers.Dropout(0.2), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    if os.environ.get(KILL) == "compile":
        apply = model.optimizer.apply

        def dying_apply(*args, **kwargs):  # runs only while the graph is traced (every graph applies it)
            _die()
            return apply(*args, **kwargs)

        model.optimizer.apply = dying_apply
    return model


class KillAt(keras.callbacks.Callback):
    """SIGKILLs the process at the point named by ``KFOLD_TEST_KILL_AT`` (nothing when unset)."""

    def _at(self, point: str) -> None:
        asked, _, units = os.environ.get(KILL, "").partition("@")  # "epoch_end:4@8": the 8-unit model only
        if asked == point and (not units or self.model.layers[0].units == int(units)):
            _die()

    def on_epoch_begin(self, epoch, logs=None):
        self._at(f"epoch_begin:{epoch}")

    def on_epoch_end(self, epoch, logs=None):
        self._at(f"epoch_end:{epoch}")

    def on_train_end(self, logs=None):
        self._at("train_end")


def callbacks(log_dir):
    return [KillAt(), keras.callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True),
            keras.callbacks.ReduceLROnPlateau(monitor="val_loss", patience=1, factor=0.5),
            keras.callbacks.CSVLogger(os.path.join(str(log_dir), "fold_{fold}.csv"))]


def run_dir_of(path):
    """The run directory of these runs (a checkpoint every EVERY epochs), or None."""
    import kfold

    return None if path is None else kfold.RunDir(path, checkpoint_every=EVERY)


def run(run_dir, log_dir, **kwargs):
    import kfold

    x, y = data()
    return kfold.cross_validate(build, x, y, cv=3, epochs=EPOCHS, batch_size=8, seed=3, verbose=0,
                                callbacks=callbacks(log_dir), run_dir=run_dir_of(run_dir), **kwargs)


def search(run_dir, log_dir):
    import kfold

    x, y = data()
    return kfold.grid_search(build, {"units": [4, 8]}, x, y, cv=3, epochs=EPOCHS, batch_size=8, seed=3,
                             verbose=0, callbacks=callbacks(log_dir), refit=False,
                             run_dir=run_dir_of(run_dir))


if __name__ == "__main__":
    run_dir, log_dir, point = sys.argv[1:4]
    os.environ[KILL] = point
    (search if sys.argv[4:] == ["search"] else run)(run_dir, log_dir)
