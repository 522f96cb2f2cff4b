"""The fused graphs: one trace per graph, so no retracing warning over a search's candidates."""
from __future__ import annotations

import logging

import numpy as np
import pytest

from kfold.train import plan_folds
from kfold.train.fold import FitConfig, FoldData
from kfold.train.fused.run import run_folds_fused

pytestmark = pytest.mark.slow  # the whole file is in the slow tier


def dropout_model(units=4):
    import keras

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(units, activation="relu"),
                              keras.layers.Dropout(0.2), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    return model


def data(n=30):
    rng = np.random.default_rng(0)
    return FoldData(rng.normal(size=(n, 3)), rng.normal(size=n))


def test_many_graphs_in_a_row_do_not_warn_about_retracing(caplog):
    import tensorflow as tf

    tf.get_logger().propagate = True
    with caplog.at_level(logging.WARNING):
        for units in range(2, 8):  # six candidates of a search: a new graph each
            run_folds_fused(lambda: dropout_model(units), data(), plan_folds(2, 30, seed=0),
                            FitConfig(epochs=2, batch_size=8), jit_compile=False)
    assert not [r for r in caplog.records if "retracing" in r.getMessage()]
