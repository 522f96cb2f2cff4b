"""Shared fixtures: tiny Keras models and data that train in well under a second."""
from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest


def make_regressor(n_features: int = 3, units: int = 8, metrics=("mae",)):
    import keras

    model = keras.Sequential([keras.Input((n_features,)),
                              keras.layers.Dense(units, activation="relu"),
                              keras.layers.Dense(1)])
    model.compile(optimizer="rmsprop", loss="mse", metrics=list(metrics))
    return model


@pytest.fixture
def regression_data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3))
    y = x @ np.array([1.0, -2.0, 0.5]) + rng.normal(scale=0.1, size=40)
    return x, y


@pytest.fixture
def kfold_settings():
    """``kfold_settings(fused_stacked=False, ...)``: kfold's settings changed until the test ends (``kfold.config_context``)."""
    import contextlib

    import kfold

    with contextlib.ExitStack() as stack:
        yield lambda **settings: stack.enter_context(kfold.config_context(**settings))


def pytest_collection_modifyitems(config, items):
    """The notebooks run at their quick values, but still take minutes: they belong to the slow tier."""
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.slow)
