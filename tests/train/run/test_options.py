"""Old keywords (``n_jobs=``, ``overwrite=``, ...) still work for one release, with one warning per call naming the new spelling."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import kfold
from conftest import make_regressor
from kfold.train.run.options import pop_run_options, run_options

FAST = dict(epochs=1, seed=0, verbose=0)


def deprecations(call):
    """Run ``call()``; return its value and the DeprecationWarnings it gave (kfold's own)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = call()
    return value, [str(w.message) for w in caught if issubclass(w.category, DeprecationWarning)
                   and "kfold 0.3" in str(w.message)]


def test_run_options_folds_old_keywords_into_the_new_objects():
    (executor, run_dir), said = deprecations(lambda: run_options(
        "cross_validate", "processes", "runs/x", {"n_jobs": 2, "retries": 1, "overwrite": True,
                                                   "checkpoint_every": 3}))
    assert executor == kfold.Processes(2, retries=1)
    assert run_dir == kfold.RunDir("runs/x", overwrite=True, checkpoint_every=3)
    assert said == ["cross_validate(n_jobs=..., retries=..., overwrite=..., checkpoint_every=...) is deprecated and "
                    "will be removed in kfold 0.3; use executor=kfold.Processes(n_jobs=2, retries=1) and "
                    "run_dir=kfold.RunDir('runs/x', overwrite=True, checkpoint_every=3) instead."]


def test_new_spellings_do_not_warn():
    (executor, run_dir), said = deprecations(lambda: run_options("grid_search", kfold.Dask(n_jobs=2), "x", {}))
    assert (executor, run_dir, said) == (kfold.Dask(n_jobs=2), kfold.RunDir("x"), [])


@pytest.mark.parametrize("executor, run_dir, kwargs, error, match", [
    ("sequential", None, {"jobs": 2}, TypeError, r"cross_validate\(\) got an unexpected keyword argument 'jobs'"),
    (kfold.Processes(2), None, {"n_jobs": 4}, ValueError, r"Invalid `n_jobs`.*Configure the executor itself"),
    ("sequential", kfold.RunDir("x"), {"overwrite": True}, ValueError,
     r"Invalid `overwrite`.*not given when run_dir is a kfold.RunDir.*RunDir\('x', overwrite=True\)"),
    ("sequential", "x", {"overwrite": "yes"}, TypeError, r"Invalid `overwrite`"),
    ("sequential", None, {"n_jobs": 2}, ValueError, r"Invalid `n_jobs`.*executor='sequential'"),
])
def test_conflicts_and_bad_values_are_refused(executor, run_dir, kwargs, error, match):
    with pytest.raises(error, match=match):
        run_options("cross_validate", executor, run_dir, kwargs)


def test_a_function_without_a_run_directory_refuses_its_keywords():
    with pytest.raises(TypeError, match="unexpected keyword argument 'overwrite'"):
        run_options("nested_cross_validate", "sequential", None, {"overwrite": True}, with_run_dir=False)


def test_pop_run_options_takes_them_out_of_the_kwargs_passed_on():
    kwargs = {"executor": "processes", "n_jobs": 2, "run_dir": "x", "batch_size": 4}
    (executor, run_dir), said = deprecations(lambda: pop_run_options("learning_curve", kwargs))
    assert (executor, run_dir, kwargs) == (kfold.Processes(2), kfold.RunDir("x"), {"batch_size": 4})
    assert len(said) == 1 and said[0].startswith("learning_curve(n_jobs=...)")


def test_cross_validate_with_old_keywords_warns_once_and_still_works(regression_data, tmp_path):
    x, y = regression_data
    reference = kfold.cross_validate(make_regressor, x, y, cv=2, **FAST)
    result, said = deprecations(lambda: kfold.cross_validate(
        make_regressor, x, y, cv=2, run_dir=tmp_path / "run", n_jobs=1, save_weights=True, return_models=True,
        **FAST))
    assert len(said) == 1
    assert "use executor='sequential' and run_dir=kfold.RunDir(" in said[0] and "save_weights=True)" in said[0]
    assert result.history == reference.history
    assert len(list((tmp_path / "run" / "folds").glob("*.weights.h5"))) == 2  # save_weights=True acted
    again, said = deprecations(lambda: kfold.cross_validate(
        make_regressor, x, y, cv=2, run_dir=tmp_path / "run", overwrite=True, **FAST))
    assert len(said) == 1 and again.history == reference.history


@pytest.mark.slow
def test_searches_with_old_keywords_warn_once_and_still_work(regression_data, tmp_path):
    x, y = regression_data
    kwargs = dict(cv=2, refit=False, **FAST)
    grid, said = deprecations(lambda: kfold.grid_search(make_regressor, {"units": [4]}, x, y,
                                                        run_dir=tmp_path / "grid", overwrite=True, **kwargs))
    assert len(said) == 1 and said[0].startswith("grid_search(overwrite=...)")
    assert grid.params["run_dir"] == str(tmp_path / "grid")
    rand, said = deprecations(lambda: kfold.random_search(make_regressor, {"units": [4, 8]}, x, y, n_iter=1,
                                                          retries=0, **kwargs))
    assert len(said) == 1 and said[0].startswith("random_search(retries=...)")
    halving, said = deprecations(lambda: kfold.halving_search(make_regressor, {"units": [4, 8]}, x, y,
                                                              cv=2, epochs=2, seed=0, verbose=0, refit=False,
                                                              n_jobs=1))
    assert len(said) == 1 and said[0].startswith("halving_search(n_jobs=...)")
    nested, said = deprecations(lambda: kfold.nested_cross_validate(make_regressor, {"units": [4]}, x, y,
                                                                    outer_cv=2, inner_cv=2, n_jobs=1, **FAST))
    assert len(said) == 1 and said[0].startswith("nested_cross_validate(n_jobs=...)")
    assert nested.n_folds == 2 and len(halving.candidates) == 2 and len(rand.candidates) == 1


def test_learning_curve_and_cross_val_predict_with_old_keywords_warn_once(regression_data):
    x, y = regression_data
    curve, said = deprecations(lambda: kfold.learning_curve(make_regressor, x, y, train_sizes=[1.0], cv=2,
                                                            n_jobs=1, **FAST))
    assert len(said) == 1 and said[0].startswith("learning_curve(n_jobs=...)")
    oof, said = deprecations(lambda: kfold.cross_val_predict(make_regressor, x, y, cv=2, n_jobs=1, **FAST))
    assert len(said) == 1 and said[0].startswith("cross_val_predict(n_jobs=...)")
    assert oof.shape == (len(x), 1) and np.isfinite(oof).all() and len(curve.results) == 1
