"""grid_search / random_search / SearchResult: same folds, kept curves, joint (params, epoch) choice."""
from __future__ import annotations

import json

import numpy as np
import pytest

import kfold
import kfold.search._training
import kfold.search.searches
from kfold.results.outcome import FoldOutcome
from kfold import CVHistory, CVResult, KFold, SearchResult
from kfold.search.candidates import check_candidates, parameter_grid, route, sample_parameters
from kfold.search.refit import refit_epochs_for

from conftest import make_regressor

FOLDS = list(KFold(2).split(range(10)))


def cv_result(means, delta=0.2, key="val_loss", folds=FOLDS, extra=None):
    """Two folds at mean ± delta per epoch (so std = delta·√2 and sem = delta)."""
    means = np.asarray(means, dtype=float)
    fold_curves = [{key: list(means + delta)}, {key: list(means - delta)}]
    for name, values in (extra or {}).items():
        for fold, row in zip(fold_curves, values):
            fold[name] = list(row)
    return CVResult(CVHistory(fold_curves), folds, {}, np.array([1.0, 3.0]), np.array([0.1, 0.1]), {})


# A: a sharp dip at epoch 3 (noise); B: a broad, slightly higher minimum; C: worse everywhere.
A = [5, 3, 1.0, 4, 4, 4]
B = [5, 3, 2, 1.5, 1.4, 1.45]
C = [6, 5, 4, 3, 2.5, 2.2]


def search_of(*curves, **options):
    candidates = [{"units": 2 ** (i + 1)} for i in range(len(curves))]
    return SearchResult([cv_result(c) for c in curves], candidates, **options)


# ---------------------------------------------------------------- the joint choice


def test_joint_choice_of_candidate_and_epoch():
    search = search_of(A, B, C)
    assert (search.best_index, search.best_epoch) == (0, 3)  # the lowest point of any curve
    assert search.best_params == {"units": 2}
    assert search.best_score == pytest.approx(1.0)
    assert search.best_std == pytest.approx(0.2 * np.sqrt(2)) and search.best_sem == pytest.approx(0.2)


def test_smoothing_changes_the_choice():
    # smoothed (0.5): A bottoms out at 2.5, B keeps falling to 1.6375 at epoch 6
    search = search_of(A, B, C, smooth=0.5)
    assert (search.best_index, search.best_epoch) == (1, 6)
    assert search.best_selection.value == pytest.approx(1.6375)
    assert search.best_score == pytest.approx(1.45)  # the raw mean there, not the smoothed value


def test_skip_drops_the_early_epochs_of_every_candidate():
    assert (search_of(A, B, C, skip=3).best_index, search_of(A, B, C, skip=3).best_epoch) == (1, 5)


def test_one_se_rule_keeps_the_candidate_and_takes_an_earlier_epoch():
    search = search_of(B, C, rule="one_se")  # B's best 1.4 ± sem 0.2 at epoch 5: epoch 4 (1.5) is within
    assert (search.best_index, search.best_epoch) == (0, 4)
    assert search.selection_scores.tolist() == pytest.approx([1.4, 2.2])


def test_higher_is_better_for_accuracy():
    accuracy = [[1 - v / 10 for v in curve] for curve in (A, B, C)]
    results = [cv_result(c, key="val_accuracy") for c in accuracy]
    search = SearchResult(results, [{"u": 1}, {"u": 2}, {"u": 3}], select="val_accuracy")
    assert search.mode == "max" and (search.best_index, search.best_epoch) == (0, 3)


def test_reselect_chooses_again_from_the_same_curves():
    search = search_of(A, B, C)
    again = search.reselect(smooth=0.5)
    assert (again.best_index, again.best_epoch) == (1, 6) and again.results is search.results
    assert again.best_model is None
    with pytest.raises(TypeError, match="Invalid `epochs`"):
        search.reselect(epochs=3)


def test_select_key_must_exist():
    with pytest.raises(ValueError, match=r"Invalid `select`.*\['val_loss'\].*select='val_loss'"):
        search_of(A, B, select="val_mae")


def test_results_on_different_folds_are_refused():
    other = cv_result(B, folds=list(KFold(2, shuffle=True, random_state=0).split(range(10))))
    with pytest.raises(ValueError, match="one fold manifest"):
        SearchResult([cv_result(A), other], [{"u": 1}, {"u": 2}])


# ---------------------------------------------------------------- cv_results, summary, tables


def test_cv_results_keys_values_and_ranks():
    train = {"loss": [[9, 8, 7, 6, 5, 4]] * 2}
    results = [cv_result(A, extra=train), cv_result(B, extra=train), cv_result(C, extra=train)]
    search = SearchResult(results, [{"units": 8}, {"units": 16, "lr": 0.1}, {"units": 32, "lr": 0.01}])
    table = search.cv_results
    stats = ["mean_fit_time", "std_fit_time", "mean_score_time", "std_score_time"]
    per_key = [f"{p}_{k}" for k in ("val_loss", "loss") for p in ("split0", "split1", "mean", "std", "rank")]
    assert set(table) == set(stats + ["param_units", "param_lr", "params", "best_epoch", "selection_score"] + per_key)
    assert all(len(column) == 3 for column in table.values())
    assert table["best_epoch"].tolist() == [3, 5, 6]
    assert table["split0_val_loss"].tolist() == pytest.approx([1.2, 1.6, 2.4])
    assert table["mean_val_loss"].tolist() == pytest.approx([1.0, 1.4, 2.2])
    assert table["std_val_loss"].tolist() == pytest.approx([0.2 * np.sqrt(2)] * 3)
    assert table["rank_val_loss"].tolist() == [1, 2, 3]
    assert table["mean_loss"].tolist() == [7, 5, 4] and table["rank_loss"].tolist() == [3, 2, 1]
    assert table["mean_fit_time"].tolist() == [2.0] * 3
    assert table["param_lr"].mask.tolist() == [True, False, False]  # masked where absent, as in sklearn
    assert table["params"][1] == {"units": 16, "lr": 0.1}


def test_rank_of_select_follows_the_smoothed_choice():
    table = search_of(A, B, C, smooth=0.5).cv_results
    assert table["rank_val_loss"].tolist() == [2, 1, 3]
    assert table["selection_score"][1] == pytest.approx(1.6375)


def test_to_frame():
    import pandas  # noqa: F401 - part of the test extra
    frame = search_of(A, B).to_frame()
    assert frame.shape[0] == 2 and frame.loc[0, "best_epoch"] == 3 and frame.loc[1, "param_units"] == 4
    mixed = SearchResult([cv_result(A), cv_result(B)], [{"units": 8}, {"lr": 0.1}]).to_frame()
    assert mixed["param_lr"].isna().tolist() == [True, False] and mixed.loc[1, "param_lr"] == 0.1


def test_summary_prints_the_ranked_table(capsys):
    search_of(C, A, B).summary()
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Best: 1.000000 (0.282843) using {'units': 4}, epoch 3 (val_loss, mean (std with ddof=1) over 2 folds)"
    assert lines[1:] == ["1.000000 (0.282843) with: {'units': 4}, epoch 3",
                         "1.400000 (0.282843) with: {'units': 8}, epoch 5",
                         "2.200000 (0.282843) with: {'units': 2}, epoch 6"]


def test_compare_to_best_table():
    table = search_of(C, A, B).compare_to_best()
    assert table["rank"].tolist() == [1, 2, 3]
    assert [p["units"] for p in table["params"]] == [4, 8, 2]
    assert table["epoch"].tolist() == [3, 5, 6]
    assert table["mean_difference"].tolist() == pytest.approx([0.0, 0.4, 1.2])
    assert table["p_value"][0] == 1.0
    assert "mean_difference" in str(table)


def test_save_and_load_round_trip(tmp_path):
    search = search_of(A, B, C, smooth=0.5)
    search.params = {"seed": 3, "weights": np.float32(0.5)}
    search.save(tmp_path / "search.json")
    loaded = SearchResult.load(tmp_path / "search.json")
    assert json.loads((tmp_path / "search.json").read_text())["params"]["weights"] == 0.5
    assert loaded.best_params == search.best_params and loaded.best_epoch == search.best_epoch
    assert loaded.results[2].history == search.results[2].history
    assert loaded.folds_hash == search.folds_hash and repr(loaded) == repr(search)


# ---------------------------------------------------------------- candidates and routing


def test_parameter_grid_order_and_lists_of_grids():
    assert parameter_grid({"a": [1, 2], "b": ["x"]}) == [{"a": 1, "b": "x"}, {"a": 2, "b": "x"}]
    assert parameter_grid([{"a": [1]}, {"b": [2, 3]}]) == [{"a": 1}, {"b": 2}, {"b": 3}]


@pytest.mark.parametrize("grid, match", [
    ({}, "Expected a dict of non-empty lists"), ([], "Expected a dict of non-empty lists"),
    ({"units": []}, "at least one value for 'units'"), ({"units": 8}, r"Wrap a single value in a list: units=\[8\]"),
    ({"act": "relu"}, "a list of values for 'act'"),
])
def test_bad_grids(grid, match):
    with pytest.raises(ValueError, match=match):
        parameter_grid(grid)


def test_random_sampling_from_lists_and_distributions():
    from scipy import stats

    grid = sample_parameters({"a": [1, 2, 3], "b": [4, 5]}, n_iter=4, seed=0)
    assert len(grid) == 4 and len({tuple(c.items()) for c in grid}) == 4  # without replacement
    assert len(sample_parameters({"a": [1, 2]}, n_iter=10, seed=0)) == 2
    drawn = sample_parameters({"lr": stats.loguniform(1e-4, 1e-1), "units": [8, 16]}, n_iter=5, seed=1)
    assert drawn == sample_parameters({"lr": stats.loguniform(1e-4, 1e-1), "units": [8, 16]}, n_iter=5, seed=1)
    assert all(1e-4 <= c["lr"] <= 1e-1 and type(c["lr"]) is float for c in drawn)
    with pytest.raises(ValueError, match="Invalid `n_iter`"):
        sample_parameters({"a": [1]}, n_iter=0, seed=0)


def test_routing_of_fit_and_model_prefixes():
    routed = route({"units": 8, "epochs": 5, "fit__batch_size": 4, "fit__shuffle": False, "model__epochs": 2},
                   epochs=10, batch_size=32, fit_kwargs={"verbose_extra": 1})
    assert routed["build"] == {"units": 8, "epochs": 2}
    assert (routed["epochs"], routed["batch_size"]) == (5, 4)
    assert routed["fit"] == {"verbose_extra": 1, "shuffle": False}


def build_units(units, activation="relu"):
    return make_regressor(units=units)


@pytest.mark.parametrize("candidate, error, match", [
    ({"units": 4, "dropout": 0.5}, TypeError, r"Received: param_grid='dropout', which build_units does not "
                                              r"accept. Add `dropout` to build_units's parameters, or pass it "
                                              r"to fit as fit__dropout"),
    ({"activation": "tanh"}, TypeError, "no value for 'units'"),
    ({"units": 4, "seed": 1}, ValueError, "Pass a build_fn parameter of that name as model__seed"),
    ({"units": 4, "fit__validation_split": 0.2}, TypeError, "Received: param_grid='fit__validation_split'"),
    ({"units": 4, "fit__bogus": 1}, TypeError, "fit__<name> for a model.fit argument"),
    ({"units": 4, "batch_size": 0}, ValueError, "Invalid `batch_size`"),
])
def test_bad_candidates_are_refused_before_training(monkeypatch, candidate, error, match):
    def no_training(*args, **kwargs):
        raise AssertionError("trained before checking the candidates")

    monkeypatch.setattr(kfold.search._training, "train_runs", no_training)
    with pytest.raises(error, match=match):
        kfold.grid_search(build_units, {k: [v] for k, v in candidate.items()}, np.zeros((10, 3)),
                          np.zeros(10), cv=2, epochs=1, verbose=0)


def test_a_model_instead_of_a_function_is_refused():
    with pytest.raises(TypeError, match="Pass the function itself"):
        check_candidates(make_regressor(), [{"units": 2}], epochs=1, batch_size=1, fit_kwargs=None)


def test_refit_epochs_policies():
    folds = list(KFold(4).split(range(100)))  # training parts of 75: scaled = 4/3
    assert refit_epochs_for("same", 30, folds, 100) == 30
    assert refit_epochs_for("scaled", 30, folds, 100) == 40
    assert refit_epochs_for(12, 30, folds, 100) == 12
    with pytest.raises(ValueError, match="Invalid `refit_epochs`"):
        refit_epochs_for("double", 30, folds, 100)


# ---------------------------------------------------------------- the search loop, without training


def fake_train_runs(calls):
    """A stand-in for the one training path: records each candidate's run, gives it curves by units."""
    def fake(runs, executor, *, strategy, on_error, verbose, on_run_done=None):
        for i, run in enumerate(runs):
            units = run.build_fn()
            calls.append(dict(folds=[(t.train, t.val) for t in run.tasks], fold_seeds=[t.seed for t in run.tasks],
                              epochs=run.config.epochs, batch_size=run.config.batch_size, seed=run.params["seed"],
                              units=units, strategy=strategy))
            means = np.asarray({2: A, 4: B, 8: C}[units][:run.config.epochs], dtype=float)
            for task, sign in zip(run.tasks, (1, -1)):  # two folds at mean ± 0.2, as cv_result makes them
                curve = list(means + sign * 0.2)
                run.keep(FoldOutcome(task.fold, {"val_loss": curve}, {"loss": curve[-1]}, 1.0, 0.1))
            run.ran, run.why = strategy, "faked"
            on_run_done(i)
    return fake


def test_every_candidate_gets_the_same_folds_and_seed(monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(kfold.search._training, "train_runs", fake_train_runs(calls))
    cv = KFold(2, shuffle=True)  # no random_state: planned once, so still the same folds for all
    search = kfold.grid_search(lambda units: units, {"units": [2, 4, 8], "batch_size": [5]}, np.zeros((10, 1)),
                               np.zeros(10), cv=cv, epochs=6, refit=False, seed=7, strategy="sequential")
    assert len({kfold.folds_hash(c["folds"]) for c in calls}) == 1 and len({tuple(c["fold_seeds"]) for c in calls}) == 1
    assert {r.folds_hash for r in search.results} == {search.folds_hash} == {search.params["folds_hash"]}
    assert [c["seed"] for c in calls] == [7, 7, 7] and [c["batch_size"] for c in calls] == [5, 5, 5]
    assert all(c["strategy"] == "sequential" for c in calls)  # extra arguments forwarded
    assert search.results[1].params["units"] == 4 and search.results[1].params["candidate_index"] == 1
    assert search.results[1].params["candidate"] == {"units": 4, "batch_size": 5}
    assert search.results[1].params["cv"] == repr(cv)
    assert (search.best_params, search.best_epoch) == ({"units": 2, "batch_size": 5}, 3)
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Folds: KFold(n_splits=2, random_state=7, shuffle=True)")  # seeded copy, said
    assert cv.random_state is None and search.params["cv_random_state"] == 7
    assert out[1].startswith("[1/3] {'units': 2, 'batch_size': 5}: epoch 3 (val_loss: mean 1")


def test_unknown_select_is_refused_before_any_candidate_trains(monkeypatch):
    calls = []
    monkeypatch.setattr(kfold.search._training, "train_runs", fake_train_runs(calls))
    with pytest.raises(ValueError, match=r"Invalid `select`.*\['loss', 'val_loss'\]"):
        kfold.grid_search(lambda units: make_regressor(n_features=1, units=units, metrics=()), {"units": [2, 4]},
                          np.zeros((10, 1)), np.zeros(10), cv=2, epochs=3, select="val_accuracy", verbose=0)
    assert len(calls) == 0


def test_unknown_select_the_early_check_cannot_tell_fails_after_the_first_candidate(monkeypatch):
    calls = []
    monkeypatch.setattr(kfold.search._training, "train_runs", fake_train_runs(calls))
    with pytest.raises(ValueError, match=r"Invalid `select`.*\['val_loss'\]"):
        kfold.grid_search(lambda units: units, {"units": [2, 4]}, np.zeros((10, 1)), np.zeros(10),
                          cv=2, epochs=3, select="val_accuracy", verbose=0)
    assert len(calls) == 1


# ---------------------------------------------------------------- with training (tiny)


def build_regressor(units):
    return make_regressor(units=units)


@pytest.mark.slow
def test_grid_search_trains_keeps_every_curve_and_refits(regression_data):
    x, y = regression_data[0][:30], regression_data[1][:30]
    search = kfold.grid_search(build_regressor, {"units": [2, 4], "batch_size": [8]}, x, y, cv=3, epochs=3,
                               select="val_mae", refit_epochs="scaled", preprocess=kfold.Standardize(),
                               seed=0, verbose=0)
    assert len(search.results) == 2 and search.params["kind"] == "grid"
    for i, result in enumerate(search.results):
        assert result.history["val_mae"].shape == (3, 3) and result.history["loss"].shape == (3, 3)
        assert result.params["units"] == [2, 4][i] and result.params["batch_size"] == 8
        assert result.params["fold_seeds"] == search.results[0].params["fold_seeds"]
        assert result.folds_hash == search.folds_hash
    assert search.refit_epochs == round(search.best_epoch * 1.5)  # 30 samples / 20 per training part
    assert len(search.best_model.model.history.history["loss"]) == search.refit_epochs
    assert search.best_model.preprocess is not None
    assert search.best_model.predict(x[:4]).shape == (4, 1)


@pytest.mark.slow
def test_fit_prefix_reaches_fit(regression_data):
    x, y = regression_data
    y = (y > 0).astype(int)

    def build(units):
        import keras

        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(units, activation="relu"),
                                  keras.layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
        return model

    search = kfold.grid_search(build, {"units": [2], "fit__class_weight": [{0: 1.0, 1: 5.0}]}, x, y,
                               cv=2, epochs=1, select="val_accuracy", refit=False, seed=0, verbose=0)
    params = search.results[0].params
    assert params["fit_kwargs"] == {"class_weight": repr({0: 1.0, 1: 5.0})}
    assert params["fit__class_weight"] == {"0": 1.0, "1": 5.0}  # plain (JSON) types in the record
    assert search.candidates[0]["fit__class_weight"] == {0: 1.0, 1: 5.0}  # the real value
