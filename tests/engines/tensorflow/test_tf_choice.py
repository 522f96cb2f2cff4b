"""A fold's fused numbers do not depend on which folds share its graph, and random layers repeat.

A fold trained again alone (a failed fold retried, a resumed run that lacks one
fold, a fold trained on a worker) gives its result among the others only if a fold
trained alone equals, bit for bit, the same fold trained with others. Checked here
on every graph: the stacked Dense path (the default for plain Dense stacks), the
masked-step graph (other models of Keras' layers) and the generic one, for a small
Dense model, folds of different sizes and the 128-unit MNIST-like model, and, on the
masked-step and generic graphs, for a Dropout and a Conv1D model, and for a Conv2D
model, which the masked-step graph trains without XLA on a CPU.
"""
from __future__ import annotations

import numpy as np
import pytest

from kfold.train import plan_folds
from kfold.train.fold import FitConfig, FoldData
from kfold.engines.tensorflow import choice as engine
from kfold.train.fused.run import run_folds_fused

from graph_helpers import graphs_made, two_inputs


def small_dense():
    import keras

    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(1)])
    model.compile(optimizer="rmsprop", loss="mse", metrics=["mae"])
    return model


def mnist_like():
    import keras

    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(128, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def with_dropout():
    import keras

    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dropout(0.3), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    return model


def small_conv():
    import keras

    model = keras.Sequential([keras.Input((6,)), keras.layers.Reshape((6, 1)),
                              keras.layers.Conv1D(4, 3, activation="relu"), keras.layers.Flatten(),
                              keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    return model


def small_conv2d():
    import keras

    model = keras.Sequential([keras.Input((64,)), keras.layers.Reshape((8, 8, 1)),
                              keras.layers.Conv2D(4, 3, activation="relu"), keras.layers.MaxPooling2D(),
                              keras.layers.Flatten(), keras.layers.Dense(1)])
    model.compile(optimizer="rmsprop", loss="mse", metrics=["mae"])
    return model


def images(n=62):
    rng = np.random.default_rng(2)
    x = rng.uniform(size=(n, 64)).astype("float32")
    return FoldData(x, x[:, :8].sum(axis=1))


def regression(n=62):  # 62 rows, 4 folds: training parts of 46 and 47 rows
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 6))
    return FoldData(x, x @ rng.normal(size=6) + rng.normal(scale=0.1, size=n))


def mnist_shaped(n=240):
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 10, size=n)
    return FoldData(rng.uniform(size=(n, 784)).astype("float32"), np.eye(10, dtype="float32")[labels])


def alone_and_together(build, data, config, jit_compile=None, rtol=None):
    tasks = plan_folds(4, len(data.y), seed=0)
    together = run_folds_fused(build, data, tasks, config, jit_compile=jit_compile)
    for task, grouped in zip(tasks[:2], together[:2]):
        alone = run_folds_fused(build, data, [task], config, jit_compile=jit_compile)[0]
        assert list(alone.history) == list(grouped.history)
        for key in alone.history:
            if rtol is None:
                assert alone.history[key] == grouped.history[key], key  # bit for bit
            else:
                np.testing.assert_allclose(alone.history[key], grouped.history[key], rtol=rtol)
        if rtol is None:
            assert alone.scores == grouped.scores


GRAPHS = {"stacked": "StackedGraph", "submodels": "SubmodelGraph", "generic": "EpochGraph"}


@pytest.fixture
def graph_kinds(monkeypatch, kfold_settings):
    """``graph_kinds(kind)``: train on one kind of fused graph (the others turned off); the graphs made, to check."""
    def choose(kind):
        kfold_settings(fused_stacked=kind == "stacked", fused_submodels=kind == "submodels")
        return graphs_made(monkeypatch)
    return choose


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(GRAPHS))
@pytest.mark.parametrize("rows", [64, 62], ids=["equal-folds", "folds-of-46-and-47-rows"])
def test_a_dense_fold_alone_equals_the_fold_in_a_group(graph_kinds, monkeypatch, kind, rows):
    made = graph_kinds(kind)
    alone_and_together(small_dense, regression(rows), FitConfig(epochs=3, batch_size=8))
    assert {type(g).__name__ for g in made} == {GRAPHS[kind]}


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(GRAPHS))
def test_the_mnist_like_model_alone_equals_the_group(graph_kinds, monkeypatch, kind):
    made = graph_kinds(kind)
    alone_and_together(mnist_like, mnist_shaped(), FitConfig(epochs=2, batch_size=32))
    assert {type(g).__name__ for g in made} == {GRAPHS[kind]}


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["submodels", "generic"])
@pytest.mark.parametrize("build", [with_dropout, small_conv], ids=["dropout", "conv1d"])
def test_a_dropout_or_conv_fold_alone_equals_the_group_with_xla(graph_kinds, monkeypatch, kind, build):
    made = graph_kinds(kind)
    alone_and_together(build, regression(62), FitConfig(epochs=3, batch_size=8))
    assert {type(g).__name__ for g in made} == {GRAPHS[kind]}


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["submodels", "generic"])
def test_a_fold_of_a_two_input_model_alone_equals_the_group(graph_kinds, monkeypatch, kind):
    made = graph_kinds(kind)
    data = regression(62)
    alone_and_together(two_inputs, FoldData([data.x, data.x[:, :3] ** 2], data.y), FitConfig(epochs=3, batch_size=8))
    assert {type(g).__name__ for g in made} == {GRAPHS[kind]}


@pytest.mark.slow
def test_dropout_histories_repeat_run_to_run_and_change_with_the_seed():
    data, config = regression(64), FitConfig(epochs=3, batch_size=8)
    runs = [run_folds_fused(with_dropout, data, plan_folds(2, 64, seed=seed), config) for seed in (0, 0, 1)]
    assert [o.history for o in runs[0]] == [o.history for o in runs[1]]
    assert runs[0][0].history["loss"] != runs[2][0].history["loss"]


@pytest.mark.slow
def test_a_conv2d_fold_alone_equals_the_group_and_repeats_without_xla(monkeypatch):
    made = graphs_made(monkeypatch)
    config = FitConfig(epochs=3, batch_size=8)
    alone_and_together(small_conv2d, images(), config)
    assert {(type(g).__name__, g.jit_compile) for g in made} == {("SubmodelGraph", False)}  # no GPU here
    runs = [run_folds_fused(small_conv2d, images(), plan_folds(2, 62, seed=0), config) for _ in range(2)]
    assert [o.history for o in runs[0]] == [o.history for o in runs[1]]


def test_a_conv2d_model_keeps_xla_where_a_gpu_is_visible(monkeypatch):
    import tensorflow as tf

    real = tf.config.list_logical_devices
    monkeypatch.setattr(tf.config, "list_logical_devices", lambda kind=None: ["GPU:0"] if kind == "GPU" else real(kind))
    assert engine.xla_slower([small_conv2d()]) is False
    assert engine.xla_slower([small_dense()]) is False
    monkeypatch.setattr(engine, "SLOWER_WITH_XLA", ())
    monkeypatch.setattr(tf.config, "list_logical_devices", real)
    assert engine.xla_slower([small_conv2d()]) is False
