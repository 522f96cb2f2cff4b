"""nested_cross_validate: outer scores of the whole search-and-refit procedure."""
from __future__ import annotations

import numpy as np
import pytest

import kfold
import kfold.train.cross_validation
from kfold import CVHistory, CVResult, KFold, NestedResult, SearchResult

from conftest import make_regressor


def build(units):
    return make_regressor(units=units)


def synthetic_nested():
    inner = list(KFold(2).split(range(6)))

    def search(curve_a, curve_b):
        results = [CVResult(CVHistory([{"val_loss": c}] * 2), inner, {}, np.ones(2), np.zeros(2), {})
                   for c in (curve_a, curve_b)]
        found = SearchResult(results, [{"units": 2}, {"units": 4}])
        found.refit_epochs = found.best_epoch
        return found

    return NestedResult({"loss": np.array([0.5, 0.7]), "mae": np.array([0.4, 0.6])},
                        [search([2.0, 1.0], [3.0, 3.0]), search([3.0, 3.0], [1.0, 2.0])],
                        list(KFold(2).split(range(12))), {"seed": 0})


@pytest.mark.slow
def test_nested_structure_with_training(regression_data):
    x, y = regression_data
    nested = kfold.nested_cross_validate(build, {"units": [2, 4]}, x, y, outer_cv=2,
                                         inner_cv=KFold(2, shuffle=True, random_state=0), epochs=2,
                                         batch_size=8, select="val_mae", preprocess=kfold.Standardize(),
                                         seed=0, verbose=0)
    assert nested.n_folds == 2 and sorted(nested.scores) == ["loss", "mae"]
    assert all(len(v) == 2 and np.isfinite(v).all() for v in nested.scores.values())
    assert len(nested.searches) == 2 and nested.params["outer_fold_seeds"] != [0, 0]
    for (train, test), search in zip(nested.folds, nested.searches):
        assert len(np.intersect1d(train, test)) == 0
        # the inner search saw only the outer training part: its folds index into it
        assert search.results[0].params["n_samples"] == len(train)
        assert max(max(t.max(), v.max()) for t, v in search.folds) == len(train) - 1
        assert search.best_params in [{"units": 2}, {"units": 4}] and 1 <= search.best_epoch <= 2
        assert search.refit_epochs == search.best_epoch and search.best_model is None
    assert nested.best_epochs == [s.best_epoch for s in nested.searches]
    assert nested.table()["mae"].tolist() == nested.scores["mae"].tolist()


@pytest.mark.parametrize("cvs, message", [
    ({"outer_cv": 1, "inner_cv": 2}, "Invalid `outer_cv`.*Use outer_cv=5"),
    ({"outer_cv": 2, "inner_cv": "3"}, "Invalid `inner_cv`.*inner_cv=3"),
])
def test_a_bad_outer_or_inner_cv_is_named_before_any_training(monkeypatch, cvs, message):
    def no_training(*args, **kwargs):
        raise AssertionError("trained before checking the folds")

    monkeypatch.setattr(kfold.train.cross_validation, "cross_validate", no_training)
    with pytest.raises(ValueError, match=message):
        kfold.nested_cross_validate(build, {"units": [2]}, np.zeros((12, 3)), np.zeros(12), epochs=1, verbose=0,
                                    **cvs)


def test_outer_seeds_differ_and_the_grid_is_checked_first(monkeypatch):
    def no_training(*args, **kwargs):
        raise AssertionError("trained before checking the grid")

    monkeypatch.setattr(kfold.train.cross_validation, "cross_validate", no_training)
    with pytest.raises(TypeError, match="'dropout', which build does not accept"):
        kfold.nested_cross_validate(build, {"units": [2], "dropout": [0.1]}, np.zeros((12, 3)),
                                    np.zeros(12), outer_cv=2, inner_cv=2, epochs=1, verbose=0)


def test_summary_and_table(capsys):
    nested = synthetic_nested()
    nested.summary()
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == ("outer fold 1: loss 0.5, mae 0.4 | selected {'units': 2}, epoch 2, refit 2 epochs "
                        "(inner val_loss 1)")
    assert lines[1].startswith("outer fold 2: loss 0.7, mae 0.6 | selected {'units': 4}, epoch 1")
    assert lines[2] == "mean ± std over 2 outer folds: loss 0.6 ± 0.141, mae 0.5 ± 0.141"
    table = nested.table()
    assert table["best_epoch"].tolist() == [2, 1] and table["inner_val_loss"].tolist() == [1.0, 1.0]
    assert list(table["params"]) == [{"units": 2}, {"units": 4}]


def test_save_and_load(tmp_path):
    nested = synthetic_nested()
    nested.save(tmp_path / "nested.json")
    loaded = NestedResult.load(tmp_path / "nested.json")
    assert loaded.best_params == nested.best_params and loaded.best_epochs == nested.best_epochs
    assert loaded.folds_hash == nested.folds_hash and repr(loaded) == repr(nested)
    assert loaded.scores["mae"].tolist() == [0.4, 0.6]
