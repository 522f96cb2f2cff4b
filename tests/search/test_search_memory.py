"""A search gives each finished candidate's memory back before the next one trains."""
from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import kfold
from kfold.search import searches

from conftest import make_regressor


@pytest.fixture
def no_automatic_gc():
    """Only explicit collections free reference cycles (a Keras model is full of them)."""
    gc.collect()
    gc.disable()
    yield
    gc.enable()


def built_models(log: list):
    """A build function that notes a weak reference to every model it builds, with its learning rate."""
    def build(lr=0.01):
        import keras

        model = make_regressor()
        model.compile(optimizer=keras.optimizers.SGD(lr), loss="mse")
        # alive: the models of the candidates before, at the time this one is built
        log.append((lr, weakref.ref(model), [ref() is not None for _, ref, _ in log]))
        return model
    return build


def alive_when_built(log: list, lr: float) -> list:
    """Which models of the earlier candidates were alive when the first model of ``lr`` was built."""
    first = next(i for i, (rate, _, _) in enumerate(log) if rate == lr)
    return [(log[j][0], alive) for j, alive in enumerate(log[first][2])]


@pytest.mark.slow
@pytest.mark.parametrize("release", [True, False])
def test_the_models_of_a_finished_candidate_are_freed_before_the_next(release, no_automatic_gc, monkeypatch):
    if not release:  # the check can fail: without the release, the cycles of candidate 2's models stay
        monkeypatch.setattr(searches, "release_memory", lambda: 0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3))
    y = x @ np.array([1.0, -2.0, 0.5])
    log: list = []
    kfold.grid_search(built_models(log), {"lr": [0.01, 0.02, 0.03]}, x, y, cv=2, epochs=1, batch_size=8,
                      seed=0, verbose=0, refit=False)
    second = [alive for lr, alive in alive_when_built(log, 0.03) if lr == 0.02]
    assert len(second) == 2  # candidate 2's two fold models (one architecture: their state went into the graph's)
    assert not any(second) if release else all(second)


def test_release_runs_once_per_candidate(monkeypatch):
    calls = []
    monkeypatch.setattr(searches, "release_memory", lambda: calls.append(1) or 0)
    x = np.random.default_rng(1).normal(size=(30, 3))
    search = kfold.grid_search(make_regressor, {"units": [2, 3]}, x, x.sum(axis=1), cv=2, epochs=1, batch_size=8,
                               seed=0, verbose=0, refit=False)
    assert len(search.results) == 2 and len(calls) == 2
