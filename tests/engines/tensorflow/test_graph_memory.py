"""What training leaves in TensorFlow once it is done: no traced step per fold model or dropped graph.

TensorFlow's gradient registry would keep every traced training step for good
(:mod:`kfold.engines.tensorflow.custom_gradients`); a search keeps the graphs of
:data:`kfold.engines.tensorflow.pool.SEARCH_ARCHITECTURES` architectures at most.
"""
from __future__ import annotations

import gc

import numpy as np
import pytest

import kfold
from kfold.engines.tensorflow import pool

from conftest import make_regressor


def custom_gradients() -> set:
    """The custom gradients TensorFlow holds now."""
    from tensorflow.python.framework import ops

    return {name for name in ops._gradient_registry._registry if name.startswith("CustomGradient-")}


def traced_graphs() -> int:
    """How many traced graphs are alive (after a garbage collection)."""
    from tensorflow.python.framework.func_graph import FuncGraph

    gc.collect()
    return sum(isinstance(o, FuncGraph) for o in gc.get_objects())


def data(n=40):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 3))
    return x, x @ np.array([1.0, -2.0, 0.5]) + rng.normal(scale=0.1, size=n)


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["sequential", "fused"])
def test_a_finished_run_leaves_no_traced_step_behind(strategy, monkeypatch, kfold_settings):
    kfold_settings(reuse_graphs=False)  # no graph kept for a later run
    x, y = data()
    before, graphs = custom_gradients(), traced_graphs()
    result = kfold.cross_validate(make_regressor, x, y, cv=3, epochs=2, batch_size=8, seed=0, verbose=0,
                                  strategy=strategy)
    assert result.params["strategy"] == strategy
    assert custom_gradients() == before and traced_graphs() == graphs


def test_returned_models_keep_their_steps_and_train_on(monkeypatch, kfold_settings):
    kfold_settings(reuse_graphs=False)
    x, y = data()
    before = custom_gradients()
    result = kfold.cross_validate(make_regressor, x, y, cv=2, epochs=1, batch_size=8, seed=0, verbose=0,
                                  strategy="sequential", return_models=True)
    assert custom_gradients() == before
    history = result.models[0].fit(x, y, epochs=2, batch_size=8, verbose=0).history  # traces anew
    assert len(history["loss"]) == 2 and np.isfinite(history["loss"]).all()


def build(lr=0.01, units=2):
    import keras

    model = make_regressor(units=units)
    model.compile(optimizer=keras.optimizers.SGD(lr), loss="mse")
    return model


@pytest.mark.slow
def test_a_search_keeps_the_first_architectures_and_frees_the_rest(monkeypatch):
    monkeypatch.setattr(pool, "SEARCH_ARCHITECTURES", 2)
    x, y = data()
    before, graphs = custom_gradients(), traced_graphs()
    grid = {"lr": [0.01, 0.02], "units": [2, 3, 4]}  # the architecture varies fastest: 2, 3, 4, 2, 3, 4
    search = kfold.grid_search(build, grid, x, y, cv=2, epochs=1, batch_size=8, seed=0, verbose=0, refit=False)
    assert all(r.params["strategy"] == "fused" for r in search.results)
    # units=2 keeps its graph; 3 and 4 take the other slot in turn: 5 graphs (3 unbounded, 6 if the
    # least recently used were dropped)
    assert search.graph_traces == 5
    assert custom_gradients() == before and traced_graphs() == graphs
