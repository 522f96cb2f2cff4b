"""Models and callbacks shared by the reliability tests and the child processes they start."""
from __future__ import annotations

import os
import signal
from pathlib import Path

import keras
import numpy as np


def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(48, 3))
    return x, x @ np.array([1.0, -2.0, 0.5]) + rng.normal(scale=0.1, size=48)


def build():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(1)])
    model.compile(optimizer="rmsprop", loss="mse", metrics=["mae"])
    return model


class KillAfterFirstFold(keras.callbacks.Callback):
    """SIGKILLs its own process in the middle of the second fold, if ``KFOLD_KILL_DIR`` is set.

    The run directory named by that variable tells it when: once one fold file
    is there, the process dies at the end of an epoch of the next fold.
    """

    def on_epoch_end(self, epoch, logs=None):
        run_dir = os.environ.get("KFOLD_KILL_DIR")
        if run_dir and epoch == 1 and list(Path(run_dir, "folds").glob("fold_*.json")):
            os.kill(os.getpid(), signal.SIGKILL)


def run(run_dir=None, **kwargs):
    import kfold

    x, y = data()
    kwargs.setdefault("epochs", 3)
    return kfold.cross_validate(build, x, y, cv=3, batch_size=8, seed=7, verbose=0,
                                strategy="sequential", callbacks=[KillAfterFirstFold()],
                                run_dir=run_dir, **kwargs)


if __name__ == "__main__":  # the child process: python reliability_helpers.py RUN_DIR
    import sys

    os.environ["KFOLD_KILL_DIR"] = sys.argv[1]
    run(sys.argv[1])
