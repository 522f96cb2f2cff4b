"""halving_search: who goes on each round (by the stated rule), bitwise continuation, stopped curves."""
from __future__ import annotations

import numpy as np
import pytest

import kfold
from kfold.executors.base import SequentialExecutor
from kfold.search.halving import halving_schedule
from kfold.search.stepwise import running_score


def linear_data(n=45, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    return x, x @ np.array([1.0, -2.0, 0.5]) + rng.normal(scale=0.1, size=n)


def build_sgd(lr, units=4):
    """Learning rate 0 never improves; a larger (stable) rate improves faster."""
    import keras

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(units, activation="relu"),
                              keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=lr), loss="mse", metrics=["mae"])
    return model


GRID = {"lr": [0.0, 0.0, 0.0, 0.001, 0.003, 0.01, 0.02, 0.03, 0.05]}  # 9 candidates, 3 of them frozen


@pytest.fixture(scope="module")
def search():
    x, y = linear_data()
    return kfold.halving_search(build_sgd, GRID, x, y, cv=2, epochs=9, factor=3, batch_size=8,
                                seed=0, verbose=0, refit=False)


def test_schedule():
    assert halving_schedule(9, 9) == [(1, 9), (3, 3), (9, 1)]
    assert halving_schedule(15, 15, factor=3) == [(1, 15), (3, 5), (9, 2), (15, 1)]
    assert halving_schedule(4, 10, factor=2, min_epochs=3) == [(3, 4), (6, 2), (10, 1)]
    assert halving_schedule(1, 5) == [(5, 1)]
    with pytest.raises(ValueError, match="factor"):
        halving_schedule(4, 10, factor=1)
    with pytest.raises(ValueError, match="min_epochs"):
        halving_schedule(4, 10, min_epochs=11)


@pytest.mark.slow
def test_each_round_keeps_the_best_third_by_the_stated_rule(search):
    rounds = search.rounds
    assert [(r["epochs"], len(r["candidates"]), len(r["kept"])) for r in rounds] == [(1, 9, 3), (3, 3, 1), (9, 1, 1)]
    for r in rounds[:-1]:
        # the rule: best value so far of the fold-mean val_loss curve, on the epochs trained so far
        scores = {i: running_score(search.results[i].history["val_loss"][:, :r["epochs"]], skip=0,
                                   smooth=None, mode="min") for i in r["candidates"]}
        assert scores == pytest.approx({int(i): v for i, v in r["scores"].items()})
        best = sorted(scores, key=lambda i: (scores[i], i))[:len(r["kept"])]
        assert r["kept"] == sorted(best)
    assert not {0, 1, 2} & set(rounds[0]["kept"])  # the frozen candidates stop first
    assert search.best_index == rounds[-1]["kept"][0] and search.best_index not in search.stopped


def test_stopped_candidates_end_where_they_stopped(search):
    trained = search.cv_results["epochs_trained"].tolist()
    for i, stop in search.stopped.items():
        budget = search.rounds[stop["round"] - 1]["epochs"]
        assert search.results[i].history.n_epochs == stop["epoch"] == budget == trained[i]
        assert f"round {stop['round']}: ranked" in stop["reason"]
        assert search.cv_results["stop_reason"][i] == stop["reason"]
    assert trained[search.best_index] == 9 and search.cv_results["stop_reason"][search.best_index] == ""
    assert len(search.stopped) == 8
    assert search.cv_results["rank_val_loss"][search.best_index] == 1


def test_frozen_candidates_never_improve(search):
    for i in (0, 1, 2):
        curve = search.results[i].history["loss"]
        assert curve.shape[1] == 1 or np.allclose(curve, curve[:, :1])


def test_survivors_continue_bitwise_as_if_never_paused(search):
    """The winner (trained 1, then to 3, then to 9 epochs, its graph shared) == an uninterrupted run."""
    x, y = linear_data()
    best = search.best_index
    alone = kfold.cross_validate(lambda: build_sgd(**search.candidates[best]), x, y,
                                 cv=search.folds, epochs=9, batch_size=8, seed=0,
                                 verbose=0)
    assert alone.params["strategy"] == "fused"
    for key in alone.history.keys():
        np.testing.assert_array_equal(search.results[best].history[key], alone.history[key])


def test_one_graph_for_candidates_that_differ_in_learning_rate_only(search):
    assert search.graph_traces == 1


def test_plot_draws_stopped_curves_to_where_they_end(search):
    from matplotlib.figure import Figure

    ax = kfold.plot_search(search, band=None, ax=Figure().subplots())
    ends = {int(line.get_gid().split()[1]): line.get_xdata()[-1] for line in ax.lines
            if (line.get_gid() or "").startswith("candidate ")}
    assert ends == {i: r.history.n_epochs for i, r in enumerate(search.results)}
    assert sorted(set(ends.values())) == [1, 3, 9]  # cut after rounds 1 and 2, the winner to the end


@pytest.mark.slow
def test_random_candidates_early_stopping_and_smoothing():
    import keras
    x, y = linear_data()
    stop = keras.callbacks.EarlyStopping(patience=1, min_delta=10.0)  # stops every fold after 2 epochs
    search = kfold.halving_search(build_sgd, {"lr": [0.0, 0.01, 0.02, 0.03]}, x, y, cv=2, epochs=4, factor=2,
                                  n_candidates=4, callbacks=[stop], smooth=0.5, seed=1, verbose=0, refit=False)
    assert search.params["kind"] == "halving" and len(search.candidates) == 4
    for result in search.results:  # EarlyStopping's state went on from round to round
        assert result.history.n_epochs <= 2


def test_compare_and_table_work(search):
    table = search.compare_to_best()
    assert table["rank"][0] == 1 and len(table["rank"]) == 9
    assert search.ranking()[0] == search.best_index


def test_refused_settings():
    x, y = linear_data()
    with pytest.raises(ValueError, match="Invalid `params`.*epochs"):
        kfold.halving_search(build_sgd, {"lr": [0.1], "epochs": [3]}, x, y, epochs=3, verbose=0)
    with pytest.raises(ValueError, match="Invalid `strategy`.*Received: strategy='sequential'"):
        kfold.halving_search(build_sgd, {"lr": [0.1]}, x, y, cv=2, epochs=1, strategy="sequential", verbose=0)
    with pytest.raises(ValueError, match="Invalid `factor`. Expected an integer of at least 2.*Received: factor=1"):
        kfold.halving_search(build_sgd, {"lr": [0.1]}, x, y, cv=2, epochs=3, factor=1, verbose=0)
    with pytest.raises(ValueError, match="Invalid `min_epochs`.*Received: min_epochs=4"):
        kfold.halving_search(build_sgd, {"lr": [0.1]}, x, y, cv=2, epochs=3, min_epochs=4, verbose=0)
    with pytest.raises(ValueError, match="Invalid `prune`"):
        kfold.halving_search(build_sgd, {"lr": [0.1]}, x, y, cv=2, epochs=3, prune=kfold.MedianPruner(), verbose=0)


def build_linear(lr):
    import keras

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=lr), loss="mse")
    return model


def test_on_error_skip_stops_a_diverging_candidate():
    x, y = linear_data()
    search = kfold.halving_search(build_linear, {"lr": [0.01, 1e30]}, x, y, cv=2, epochs=4, factor=2,
                                  on_error="skip", seed=0, verbose=0, refit=False)
    assert search.stopped[1]["reason"].startswith("failed: fold")
    assert search.best_index == 0
    with pytest.raises(kfold.FoldError, match="Candidate 2"):
        kfold.halving_search(build_linear, {"lr": [0.01, 1e30]}, x, y, cv=2, epochs=4, factor=2,
                             seed=0, verbose=0, refit=False)


class Elsewhere(SequentialExecutor):
    """An executor that runs its tasks here but, as worker processes do, keeps nothing between them."""

    name, in_process = "elsewhere", False


def test_on_workers_each_round_trains_from_the_start_and_cuts_by_the_rule():
    x, y = linear_data()
    there = kfold.halving_search(build_sgd, {"lr": [0.0, 0.01, 0.05]}, x, y, executor=Elsewhere(), cv=2, epochs=2,
                                 factor=2, batch_size=8, seed=0, verbose=0, refit=False)
    (first, last), results = there.rounds, there.results
    scores = {i: running_score(results[i].history["val_loss"][:, :1], skip=0, smooth=None, mode="min")
              for i in range(3)}
    assert first["kept"] == sorted(sorted(scores, key=scores.get)[:2]) and 0 not in first["kept"]
    assert there.cv_results["epochs_trained"].tolist() == [1 if i not in first["kept"] else 2 for i in range(3)]
    assert there.best_index in last["kept"] and there.best_index not in there.stopped
    assert "each round trained from the start" in results[0].params["strategy_reason"]


@pytest.mark.slow
def test_on_worker_processes_the_rounds_and_curves_are_those_of_any_executor():
    x, y = linear_data()
    settings = dict(cv=2, epochs=2, factor=2, batch_size=8, seed=0, verbose=0, refit=False)
    here = kfold.halving_search(build_sgd, {"lr": [0.0, 0.01, 0.05]}, x, y, executor=Elsewhere(), **settings)
    there = kfold.halving_search(build_sgd, {"lr": [0.0, 0.01, 0.05]}, x, y, executor=kfold.Processes(n_jobs=2),
                                 **settings)
    assert [r["kept"] for r in there.rounds] == [r["kept"] for r in here.rounds]
    assert there.stopped.keys() == here.stopped.keys()
    for a, b in zip(there.results, here.results):
        for key in b.history.keys():
            assert np.array_equal(a.history[key], b.history[key], equal_nan=True)  # bitwise
    assert (there.best_index, there.best_epoch) == (here.best_index, here.best_epoch)


class Interrupt:
    """Raises Ctrl-C once, at the end of epoch ``at`` (0-based) of the first run that reaches it."""

    fired = []

    def __new__(cls, at):
        import keras

        class _Interrupt(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                if epoch == at and not Interrupt.fired:
                    Interrupt.fired.append(epoch)
                    raise KeyboardInterrupt

        return _Interrupt()


@pytest.mark.slow
def test_run_dir_resumes_after_a_kill_mid_round_and_loads(tmp_path):
    x, y = linear_data()
    options = dict(cv=2, epochs=9, factor=3, batch_size=8, seed=0, verbose=0, refit=False)
    # the same search with a callback that never fires: a callback sends a Dense stack from the
    # stacked graph to the generic one, whose numbers differ in the last bits
    uninterrupted = kfold.halving_search(build_sgd, GRID, x, y, callbacks=[Interrupt(at=-1)], **options)
    options["callbacks"] = [Interrupt(at=5)]  # only the last round reaches epoch 6
    Interrupt.fired.clear()
    with pytest.raises(KeyboardInterrupt):
        kfold.halving_search(build_sgd, GRID, x, y, run_dir=tmp_path / "search", **options)
    assert Interrupt.fired == [5]
    assert len(list((tmp_path / "search").glob("candidate_*/stop.json"))) == 8  # those stopped before
    resumed = kfold.halving_search(build_sgd, GRID, x, y, run_dir=tmp_path / "search", **options)
    assert resumed.rounds == uninterrupted.rounds
    assert resumed.stopped == uninterrupted.stopped
    for a, b in zip(resumed.results, uninterrupted.results):
        np.testing.assert_array_equal(a.history["val_loss"], b.history["val_loss"])
    loaded = kfold.load(tmp_path / "search")
    assert loaded.rounds == resumed.rounds and loaded.stopped == resumed.stopped
    assert loaded.best_index == resumed.best_index
