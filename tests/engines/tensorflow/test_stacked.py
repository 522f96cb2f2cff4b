"""The stacked Dense fast path against the generic fused graph: the same histories up to float rounding."""
from __future__ import annotations

import numpy as np
import pytest

from kfold.train import plan_folds
from kfold.train.fold import FitConfig, FoldData
import kfold
from kfold.engines.tensorflow import choice as engine
from kfold.engines.tensorflow.stacked import StackedGraph
from kfold.train.fused.folds import prepare_folds
from kfold.train.fused.run import run_folds_fused

from graph_helpers import assert_close


def dense_stack(optimizer="rmsprop", loss="mse", metrics=("mae",), units=(8, 8), out=1, activation=None):
    import keras

    layers = [keras.Input((5,)), *[keras.layers.Dense(u, activation="relu") for u in units],
              keras.layers.Dense(out, activation=activation)]
    model = keras.Sequential(layers)
    model.compile(optimizer=optimizer, loss=loss, metrics=list(metrics))
    return model


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(48, 5))
    y = x @ rng.normal(size=5) + rng.normal(scale=0.1, size=48)
    return x, y


@pytest.fixture(autouse=True)
def stacked_on(kfold_settings):
    """The stacked path is the default; ``both`` turns it off for the generic run (``EpochGraph``)."""
    kfold_settings(fused_stacked=True)


def both(build, fold_data, monkeypatch, *, cv=4, **config):
    tasks = plan_folds(cv, len(fold_data.y), seed=0)
    config = FitConfig(**{"epochs": 4, "batch_size": 5, "return_models": True, **config})
    stacked = run_folds_fused(build, fold_data, tasks, config)
    with kfold.config_context(fused_stacked=False, fused_submodels=False):
        generic = run_folds_fused(build, fold_data, tasks, config)
    return stacked, generic


def test_the_book_model_is_stacked(data):
    x, y = data
    folds = prepare_folds(dense_stack, FoldData(x, y), plan_folds(4, len(x), seed=0), FitConfig(epochs=1))
    graph = engine.make_graph(folds, FitConfig(epochs=1, batch_size=5), True, 1)
    assert isinstance(graph, StackedGraph)


@pytest.mark.slow
@pytest.mark.parametrize("optimizer", ["rmsprop", "adam", "sgd"])
def test_stacked_equals_generic_to_rounding_with_a_partial_batch(data, monkeypatch, optimizer):
    x, y = data  # 4 folds of 36 training rows, batch 5: 7 full batches and one of 1 row
    stacked, generic = both(lambda: dense_stack(optimizer), FoldData(x, y), monkeypatch)
    assert_close(stacked, generic)
    for a, b in zip(stacked, generic):  # the same number of optimizer steps, and the same state
        assert int(a.model.optimizer.iterations.numpy()) == int(b.model.optimizer.iterations.numpy()) == 4 * 8
        for va, vb in zip(a.model.optimizer.variables, b.model.optimizer.variables):
            np.testing.assert_allclose(np.asarray(va), np.asarray(vb), rtol=1e-4, atol=1e-6)


@pytest.mark.slow
def test_folds_of_different_sizes_with_the_same_steps_are_stacked_and_masked(data, monkeypatch):
    x, y = data  # 46 rows, 4 folds: 34 and 35 training rows, 12 and 11 held out; batch 5: 7 steps each
    stacked, generic = both(dense_stack, FoldData(x[:46], y[:46]), monkeypatch)
    assert_close(stacked, generic)
    assert [int(o.model.optimizer.iterations.numpy()) for o in stacked] == [28] * 4


@pytest.mark.slow
def test_stacked_classifier_equals_generic(data, monkeypatch):
    x, y = data
    labels = (y > np.median(y)).astype("float32")
    build = lambda: dense_stack("adam", "binary_crossentropy", ["accuracy"], activation="sigmoid")  # noqa: E731
    stacked, generic = both(build, FoldData(x, labels), monkeypatch, batch_size=6)
    assert_close(stacked, generic)
    assert {"accuracy", "val_accuracy", "loss", "val_loss"} == set(stacked[0].history)


@pytest.mark.slow
def test_softmax_classifier_equals_generic(data, monkeypatch):
    x, y = data
    labels = np.digitize(y, np.quantile(y, [0.33, 0.66]))
    build = lambda: dense_stack("adam", "sparse_categorical_crossentropy", ["accuracy"], out=3,  # noqa: E731
                                activation="softmax")
    stacked, generic = both(build, FoldData(x, labels), monkeypatch, batch_size=8)
    assert_close(stacked, generic)


@pytest.mark.parametrize("case, reason", [
    ("unequal", "different numbers of steps"),
    ("weights", "sample weights"),
    ("clipnorm", "clips by norm"),
    ("dropout", "is a Dropout, not Dense"),
])
def test_what_is_not_stacked_takes_another_graph(data, case, reason):
    import keras

    from kfold.engines.tensorflow.graph import EpochGraph
    from kfold.engines.tensorflow.stacked import stack_reason
    from kfold.engines.tensorflow.submodels import SubmodelGraph

    x, y = data
    n = {"unequal": 42}.get(case, 48)  # 4 folds of 42 rows: 31 and 32 training rows
    batch = 31 if case == "unequal" else 5  # 1 and 2 steps
    weights = np.ones(n) if case == "weights" else None
    build = {"clipnorm": lambda: dense_stack(keras.optimizers.RMSprop(clipnorm=1.0)),
             "dropout": lambda: keras.Sequential([keras.Input((5,)), keras.layers.Dense(4), keras.layers.Dropout(0.2),
                                                  keras.layers.Dense(1)])}.get(case, dense_stack)
    if case == "dropout":
        inner = build
        build = lambda: (lambda m: (m.compile(optimizer="sgd", loss="mse"), m)[1])(inner())  # noqa: E731
    folds = prepare_folds(build, FoldData(x[:n], y[:n], weights), plan_folds(4, n, seed=0), FitConfig(epochs=1))
    found = stack_reason([f.model for f in folds], [f.train for f in folds], [f.val for f in folds],
                         [f.n_train for f in folds], batch)
    assert found is not None and reason in found
    graph = engine.make_graph(folds, FitConfig(epochs=1, batch_size=batch), True, 1)
    # the masked-step graph takes what it can (one optimizer per fold: clipping is fine; Dropout too)
    expected = SubmodelGraph if case in ("clipnorm", "dropout") else EpochGraph
    assert type(graph) is expected


def test_a_checkpoint_reads_the_stacked_state_that_the_fold_models_get_at_sync(data):
    from kfold.train.fused.checkpoint import capture

    x, y = data
    config = FitConfig(epochs=2, batch_size=5)
    folds = prepare_folds(dense_stack, FoldData(x, y), plan_folds(4, len(x), seed=0), config)
    graph = engine.make_graph(folds, config, True, 2)
    before = capture(folds, 0)
    graph([[next(f.orders) for _ in range(2)] for f in folds], [f.train for f in folds], [f.val for f in folds])
    held = graph.held_state()
    assert sorted(held) == sorted(id(f.model) for f in folds)
    from_graph = capture(folds, 2, held)
    stale = capture(folds, 2)  # the fold models: not written back yet
    graph.sync()
    assert graph.held_state() == {}
    synced = capture(folds, 2)
    for k in synced.folds:
        assert len(from_graph.folds[k].variables) == len(synced.folds[k].variables)
        for a, b, c, d in zip(from_graph.folds[k].variables, synced.folds[k].variables,
                              stale.folds[k].variables, before.folds[k].variables):
            np.testing.assert_array_equal(a, b)
            np.testing.assert_array_equal(c, d)
