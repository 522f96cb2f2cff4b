"""MedianPruner's rule, pruned grid search, and one compiled graph per architecture."""
from __future__ import annotations

import numpy as np
import pytest

import kfold
from kfold.results.curves import fold_stats

from test_halving import Elsewhere, build_sgd, linear_data


# ---------------------------------------------------------------- the rule


def test_rule_for_a_loss_and_an_accuracy():
    pruner = kfold.MedianPruner(warmup=1, min_candidates=2)
    others = [1.0, 2.0, 3.0]  # median 2
    assert pruner.decide(2, mean=2.5, sem=0.4, others=others, mode="min").startswith("epoch 2: mean 2.5 - SEM 0.4 > median 2")
    assert pruner.decide(2, mean=2.5, sem=0.5, others=others, mode="min") is None  # within one SEM: goes on
    assert pruner.decide(2, mean=1.5, sem=0.4, others=others, mode="max") is not None
    assert pruner.decide(2, mean=1.5, sem=0.5, others=others, mode="max") is None
    assert pruner.decide(2, mean=2.5, sem=float("nan"), others=others, mode="min") is not None  # one fold: SEM 0
    assert pruner.decide(2, mean=float("nan"), sem=0.0, others=others, mode="min") is not None


def test_warmup_min_candidates_and_interval():
    pruner = kfold.MedianPruner(warmup=3, min_candidates=3, interval=2)
    others = [1.0, 1.0, 1.0]
    assert [pruner.checks(e) for e in range(1, 9)] == [False, False, False, True, False, True, False, True]
    assert pruner.decide(3, mean=9.0, sem=0.0, others=others, mode="min") is None  # warmup
    assert pruner.decide(6, mean=9.0, sem=0.0, others=others, mode="min") is not None
    assert pruner.decide(5, mean=9.0, sem=0.0, others=others, mode="min") is None  # not a checked epoch
    assert pruner.decide(4, mean=9.0, sem=0.0, others=[1.0, 1.0, float("nan")], mode="min") is None  # 2 < 3


def test_bad_pruners_are_refused():
    with pytest.raises(ValueError, match="warmup"):
        kfold.MedianPruner(warmup=-1)
    with pytest.raises(ValueError, match="interval"):
        kfold.MedianPruner(interval=0)
    x, y = linear_data()
    with pytest.raises(TypeError, match="prune"):
        kfold.grid_search(build_sgd, {"lr": [0.1]}, x, y, epochs=1, prune="median", verbose=0)
    with pytest.raises(ValueError, match="Invalid `strategy`"):
        kfold.grid_search(build_sgd, {"lr": [0.1]}, x, y, epochs=1, prune=kfold.MedianPruner(),
                          strategy="sequential", verbose=0)
    with pytest.raises(ValueError, match="Invalid `executor`.*Received: executor='elsewhere'"):
        kfold.grid_search(build_sgd, {"lr": [0.1]}, x, y, cv=2, epochs=1, prune=kfold.MedianPruner(),
                          executor=Elsewhere(), verbose=0)


# ---------------------------------------------------------------- in a search

GRID = {"lr": [0.01, 0.02, 0.03, 0.0, 0.0]}  # each better than the ones before, but the frozen two


@pytest.fixture(scope="module")
def searches():
    x, y = linear_data()
    options = dict(cv=2, epochs=6, batch_size=8, seed=0, verbose=0, refit=False)
    pruned = kfold.grid_search(build_sgd, GRID, x, y, prune=kfold.MedianPruner(warmup=2), **options)
    full = kfold.grid_search(build_sgd, GRID, x, y, **options)
    return pruned, full


@pytest.mark.slow
def test_frozen_candidates_are_pruned_after_the_warmup(searches):
    pruned, _ = searches
    assert sorted(pruned.stopped) == [3, 4]
    for i, stop in pruned.stopped.items():
        assert stop["epoch"] == 3 and stop["reason"].startswith("pruned at epoch 3: mean")
        assert pruned.results[i].history.n_epochs == 3
    assert pruned.cv_results["epochs_trained"].tolist() == [6, 6, 6, 3, 3]
    assert pruned.best_index not in pruned.stopped


def test_the_stops_follow_the_rule_on_the_recorded_curves(searches):
    pruned, _ = searches
    pruner = kfold.MedianPruner(warmup=2)
    means = [fold_stats(r.history["val_loss"])[0] for r in pruned.results]
    for i, result in enumerate(pruned.results):
        curves = result.history["val_loss"]
        sem = fold_stats(curves)[2]
        decisions = [pruner.decide(e, mean=means[i][e - 1], sem=sem[e - 1], mode="min",
                                   others=[m[e - 1] for m in means[:i] if len(m) >= e])
                     for e in range(1, curves.shape[1] + 1)]
        if i in pruned.stopped:  # stopped at the first epoch the rule said so
            assert decisions[-1] is not None and all(d is None for d in decisions[:-1])
        else:
            assert all(d is None for d in decisions[:-1])


def test_candidates_not_pruned_are_bitwise_those_of_the_full_grid(searches):
    pruned, full = searches
    for i in range(3):
        for key in full.results[i].history.keys():
            np.testing.assert_array_equal(pruned.results[i].history[key], full.results[i].history[key])
    for i in (3, 4):  # pruned: the full grid's first epochs
        np.testing.assert_array_equal(pruned.results[i].history["val_loss"],
                                      full.results[i].history["val_loss"][:, :3])
    assert (pruned.best_index, pruned.best_epoch) == (full.best_index, full.best_epoch)


@pytest.mark.slow
def test_one_compiled_graph_per_architecture(searches):
    """2 architectures x 2 learning rates: 2 graphs traced and compiled, not 4; 1 for a grid of learning rates."""
    x, y = linear_data()
    grid = {"units": [2, 4], "lr": [0.01, 0.03]}
    search = kfold.grid_search(build_sgd, grid, x, y, cv=2, epochs=1, batch_size=8, seed=0, verbose=0, refit=False)
    assert search.graph_traces == 2
    assert all(r.params["strategy"] == "fused" for r in search.results)
    assert [s.graph_traces for s in searches] == [1, 1]  # pruned and full: 5 learning rates, one graph


@pytest.mark.slow
def test_random_search_prunes_and_a_pruned_run_dir_resumes(tmp_path):
    x, y = linear_data()
    options = dict(n_iter=4, cv=2, epochs=5, batch_size=8, seed=0, verbose=0, refit=False,
                   prune=kfold.MedianPruner(warmup=2))
    first = kfold.random_search(build_sgd, GRID, x, y, run_dir=tmp_path / "s", **options)
    assert first.stopped and first.params["prune"].startswith("MedianPruner(")
    again = kfold.random_search(build_sgd, GRID, x, y, run_dir=tmp_path / "s", **options)  # all on disk
    assert again.stopped == first.stopped and again.best_index == first.best_index
    assert kfold.load(tmp_path / "s").stopped == first.stopped
