"""A fused run of an architecture this thread trained before reuses its compiled graph, with the same numbers.

Also what makes a short run's set-up cheap: the fold models' state built without
tracing (the variables ``_symbolic_build`` makes) and garbage collected at most
once a minute.
"""
from __future__ import annotations

import numpy as np
import pytest

import kfold
from kfold.engines import get_engine
from kfold.engines.tensorflow import pool, prepare
from kfold.train.fused import folds

from conftest import make_regressor


@pytest.fixture
def fresh_pool(monkeypatch):
    """An empty pool of recent graphs for this test (others in the process keep theirs)."""
    monkeypatch.setattr(get_engine(), "_recent", __import__("threading").local())
    return get_engine().recent_pool


def data(n=40):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 3))
    return x, x @ np.array([1.0, -2.0, 0.5]) + rng.normal(scale=0.1, size=n)


def run(build=make_regressor, n=40, **kwargs):
    x, y = data(n)
    return kfold.cross_validate(build, x, y, cv=3, epochs=4, batch_size=8, seed=0, verbose=0, **kwargs)


def assert_same_histories(a, b):
    assert list(a.history.keys()) == list(b.history.keys())
    for key in a.history.keys():
        np.testing.assert_array_equal(a.history[key], b.history[key])


def test_a_run_again_compiles_nothing_and_equals_a_run_without_reuse(fresh_pool, monkeypatch, kfold_settings):
    first = run()
    assert fresh_pool().graphs_made == 1
    again = run()
    assert fresh_pool().graphs_made == 1  # the graph of the first run trained the second
    assert again.params["strategy"] == "fused"
    kfold_settings(reuse_graphs=False)
    assert get_engine().recent_pool() is None
    cold = run()
    assert_same_histories(first, again)
    assert_same_histories(first, cold)


def test_another_seed_reuses_the_graph_and_gets_its_own_numbers(fresh_pool, monkeypatch, kfold_settings):
    x, y = data()
    runs = [kfold.cross_validate(make_regressor, x, y, cv=3, epochs=4, batch_size=8, seed=s, verbose=0)
            for s in (1, 2)]
    assert fresh_pool().graphs_made == 1
    kfold_settings(reuse_graphs=False)
    cold = kfold.cross_validate(make_regressor, x, y, cv=3, epochs=4, batch_size=8, seed=2, verbose=0)
    assert_same_histories(runs[1], cold)
    assert not np.array_equal(runs[0].history["loss"], runs[1].history["loss"])


@pytest.mark.slow
def test_the_pool_keeps_the_last_architectures_only(fresh_pool, monkeypatch, kfold_settings):
    monkeypatch.setattr(pool, "RECENT_ARCHITECTURES", 2)
    for units in (2, 3, 4):
        run(lambda units=units: make_regressor(units=units))
    assert fresh_pool().max_slots == 2 and len(fresh_pool().slots) == 2
    run(lambda: make_regressor(units=4))  # still kept: nothing new to compile
    assert fresh_pool().graphs_made == 3
    run(lambda: make_regressor(units=2))  # dropped earlier: compiled again
    assert fresh_pool().graphs_made == 4


@pytest.mark.slow
def test_a_slot_in_use_is_not_lent_and_a_failed_run_frees_its_slot(fresh_pool):
    import keras

    class Fails(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            raise RuntimeError("a callback failed")

    run()
    (slot,) = fresh_pool().slots.values()
    slot.owner = "another run"  # as if a run held it (a run inside a callback of that run)
    run()
    assert fresh_pool().graphs_made == 2 and len(fresh_pool().slots) == 1
    slot.owner = None
    with pytest.raises(RuntimeError, match="a callback failed"):
        run(callbacks=[Fails()], strategy="fused")
    assert all(s.owner is None for s in fresh_pool().slots.values())


def test_runs_that_return_their_models_get_models_of_their_own(fresh_pool):
    a, b = run(return_models=True), run(return_models=True)
    assert fresh_pool().slots == {}
    assert not {id(m) for m in a.models} & {id(m) for m in b.models}


def test_the_state_built_without_tracing_is_the_one_symbolic_build_makes():
    import keras

    from kfold.data.arrays import to_tensors

    def variables(model):
        return [(v.path.split("/", 1)[-1], tuple(v.shape)) for v in
                [*model.variables, *model.metrics_variables, *model.optimizer.variables]]

    x, y = data()
    train = (to_tensors(x.astype("float32")), to_tensors(y.astype("float32")), None)
    found = []
    for build_state in (prepare.build_state,
                        lambda m, t: m._symbolic_build(data_batch=tuple(prepare.symbolic_batch(p) for p in t))):
        keras.backend.clear_session()
        model = make_regressor(metrics=("mae", "mse"))
        build_state(model, train)
        found.append((variables(model), model.optimizer.built, model.metrics_names))
    assert found[0] == found[1]
    assert found[0][0][-1][0].endswith("velocity")


def test_garbage_is_collected_at_most_once_a_minute(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(folds.time, "monotonic", lambda: clock[0])
    schedule = folds.GarbageSchedule()
    assert schedule.due() and not schedule.due()
    clock[0] += folds.COLLECT_EVERY_S
    assert schedule.due()


@pytest.mark.slow
def test_a_function_of_ones_own_defined_again_is_not_mistaken_for_the_old_one(fresh_pool, monkeypatch, kfold_settings):
    """Keras serializes a function of one's own by its name: such models are not pooled."""
    import keras

    def builder(act):
        def build():
            model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation=act), keras.layers.Dense(1)])
            model.compile(optimizer="rmsprop", loss="mse")
            return model
        return build

    def act(x):  # as first written in a notebook cell ...
        return keras.ops.relu(x)
    first = act

    def act(x):  # noqa: F811 - ... and as edited: the same name, another function
        return keras.ops.tanh(x)
    runs = [run(builder(f)) for f in (first, act)]
    assert fresh_pool().slots == {}
    kfold_settings(reuse_graphs=False)
    assert_same_histories(runs[1], run(builder(act)))
    assert not np.array_equal(runs[0].history["loss"], runs[1].history["loss"])


def test_models_larger_than_the_limit_are_not_kept(fresh_pool, monkeypatch, kfold_settings):
    monkeypatch.setattr(pool, "RECENT_MAX_BYTES", 500)  # the 3 folds of the 3-8-1 model: about 1 kB
    run()
    assert fresh_pool().slots == {}
    monkeypatch.setattr(pool, "RECENT_MAX_BYTES", 10**6)
    run()
    assert len(fresh_pool().slots) == 1
