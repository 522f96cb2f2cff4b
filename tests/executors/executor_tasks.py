"""Plain task functions for tests/test_executors.py, in a module light enough to import fast.

Worker processes import a task function's module by name: this one only needs
the standard library, so a fresh worker starts in a fraction of a second.
"""
from __future__ import annotations

import os
import signal
import time

__all__ = ["wait_and_return", "describe_worker", "device_of_worker", "fail_on_fold_one", "die_in_fold_two",
           "TroubleOnSize", "mnist_like"]


def wait_and_return(data, task):
    """Sleep ``task`` seconds, return ``task``."""
    time.sleep(task)
    return task


def describe_worker(data, task):
    """What the worker got as data, its TensorFlow thread limit and its process id."""
    return type(data.x).__name__, os.environ.get("TF_NUM_INTRAOP_THREADS"), os.getpid()


def device_of_worker(data, task):
    """The worker's process id and the GPU it is pinned to."""
    time.sleep(0.3)
    return os.getpid(), os.environ.get("CUDA_VISIBLE_DEVICES"), os.environ.get("TF_FORCE_GPU_ALLOW_GROWTH")


def fail_on_fold_one(data, task):
    """Raise in fold 1; return the fold number otherwise."""
    if task.fold == 1:
        raise ZeroDivisionError("no data in this fold")
    return task.fold


def die_in_fold_two(folder, task, always=False):
    """Task 2 kills its own worker process (on its first attempt only, unless ``always``)."""
    marker = os.path.join(folder, f"died-{task}")
    if task == 2 and (always or not os.path.exists(marker)):
        open(marker, "w").close()
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(0.3)
    return task * 10


class TroubleOnSize:
    """A preprocessing step that fails, in the fold whose training part has ``size`` rows.

    ``how="raise"`` raises; ``how="die"`` kills its own process (once, leaving
    a marker file in ``folder``, unless ``always``). Other folds pass the data
    through unchanged. Used with explicit folds of different sizes, it makes
    one chosen fold fail inside a worker.
    """

    def __init__(self, size, how="raise", folder=None, always=False):
        self.size, self.how, self.folder, self.always = size, how, folder, always

    def __repr__(self):  # no address: a run directory compares it between runs
        return f"TroubleOnSize({self.size}, {self.how!r})"

    def fit(self, x):
        if len(x) != self.size:
            return self
        if self.how == "raise":
            raise ZeroDivisionError(f"no luck with {len(x)} rows")
        marker = os.path.join(self.folder, f"died-{len(x)}")
        if self.always or not os.path.exists(marker):
            open(marker, "w").close()
            os.kill(os.getpid(), signal.SIGKILL)
        return self

    def transform(self, x):
        return x


def mnist_like():
    """Issue 11's MNIST model on 16 features: Dense(128, relu), Dense(10, softmax), RMSprop (Keras imported here)."""
    import keras

    model = keras.Sequential([keras.Input((16,)), keras.layers.Dense(128, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def small_conv2d():
    """A small image model on 144 features seen as 12 x 12 x 1: Conv2D(8, 3), MaxPooling2D, softmax (no XLA on a CPU)."""
    import keras

    model = keras.Sequential([keras.Input((144,)), keras.layers.Reshape((12, 12, 1)),
                              keras.layers.Conv2D(8, 3, activation="relu"), keras.layers.MaxPooling2D(),
                              keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    return model
