"""Out-of-fold predictions: the fold models' own predictions on their held-out rows, in sample order."""
from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import kfold
from conftest import make_regressor
from kfold.executors.factory import make_executor


def early_stopping():
    import keras

    return keras.callbacks.EarlyStopping(monitor="val_loss", patience=1, restore_best_weights=True)


def assert_oof_is_each_models_predict(result, x):
    oof = result.oof_predictions
    assert oof.shape == (len(x), 1)
    assert np.isfinite(oof).all()  # KFold: every row validated once
    for (_, val), model, step in zip(result.folds, result.models, result.preprocessors):
        own = model.predict(step.transform(x[val]), verbose=0)
        np.testing.assert_allclose(oof[val], own, rtol=1e-6, atol=1e-6)


def fast_learner():
    import keras

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(32, activation="relu"), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    return model


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["sequential", "fused"])
def test_oof_equals_each_fold_models_predict_with_restored_weights(regression_data, strategy):
    x, _ = regression_data
    y = np.random.default_rng(0).normal(size=len(x))  # noise: the validation loss soon rises, weights are restored
    result = kfold.cross_validate(fast_learner, x, y, cv=4, epochs=10, batch_size=8, seed=0, verbose=0,
                                  strategy=strategy, preprocess=kfold.Standardize(), callbacks=[early_stopping()],
                                  return_predictions=True, return_models=True)
    assert result.params["strategy"] == strategy
    assert np.isnan(result.history["val_loss"]).any()  # a fold stopped early, its best weights restored
    assert_oof_is_each_models_predict(result, x)
    for i, (_, val) in enumerate(result.folds):
        np.testing.assert_array_equal(result.predictions[i], result.oof_predictions[val])


@pytest.mark.slow
def test_fused_and_sequential_give_the_same_oof(regression_data):
    x, y = regression_data
    kwargs = dict(cv=3, epochs=3, batch_size=8, seed=1, verbose=0, preprocess=kfold.Standardize(),
                  return_predictions=True)
    fused = kfold.cross_validate(make_regressor, x, y, strategy="fused", **kwargs)
    sequential = kfold.cross_validate(make_regressor, x, y, strategy="sequential", **kwargs)
    np.testing.assert_allclose(fused.oof_predictions, sequential.oof_predictions, rtol=1e-4, atol=1e-5)


def executor_names():
    names = ["processes"]
    if importlib.util.find_spec("distributed") is not None:
        names.append("dask")
    return names


@pytest.mark.slow
@pytest.mark.parametrize("name", executor_names())
def test_oof_travels_back_from_workers(regression_data, name):
    x, y = regression_data
    kwargs = dict(cv=3, epochs=2, batch_size=8, seed=0, verbose=0, preprocess=kfold.Standardize(),
                  return_predictions=True, strategy="sequential")  # one fold per task, as the reference
    reference = kfold.cross_validate(make_regressor, x, y, **kwargs)
    spec = kfold.Processes(n_jobs=2) if name == "processes" else kfold.Dask(n_jobs=2)
    with make_executor(spec) as executor:
        result = kfold.cross_validate(make_regressor, x, y, executor=executor, return_models=True, **kwargs)
    assert result.params["executor"] == name
    np.testing.assert_array_equal(result.oof_predictions, reference.oof_predictions)  # bitwise, as histories
    assert_oof_is_each_models_predict(result, x)


@pytest.mark.slow
def test_run_dir_saves_predictions_and_a_resumed_run_has_them(regression_data, tmp_path, monkeypatch):
    x, y = regression_data
    kwargs = dict(cv=4, epochs=2, batch_size=8, seed=0, verbose=0, return_predictions=True,
                  preprocess=kfold.Standardize(), run_dir=tmp_path / "run")
    first = kfold.cross_validate(make_regressor, x, y, **kwargs)
    files = sorted(p.name for p in (tmp_path / "run" / "folds").glob("*.npz"))
    assert files == [f"fold_{i:03d}.predictions.npz" for i in range(4)]
    np.testing.assert_array_equal(kfold.load(tmp_path / "run").oof_predictions, first.oof_predictions)

    (tmp_path / "run" / "folds" / "fold_002.json").unlink()  # as if the run had stopped before fold 3
    (tmp_path / "run" / "folds" / "fold_002.predictions.npz").unlink()
    resumed = kfold.cross_validate(make_regressor, x, y, **kwargs)
    np.testing.assert_array_equal(resumed.oof_predictions, first.oof_predictions)

    monkeypatch.setattr("kfold.train.run.strategy.run_fold", None)  # no training now
    monkeypatch.setattr("kfold.train.run.strategy.run_folds_fused", None)
    again = kfold.cross_validate(make_regressor, x, y, **kwargs)
    assert again.params["strategy"] == "none"
    np.testing.assert_array_equal(again.oof_predictions, first.oof_predictions)


def test_folds_saved_without_predictions_are_trained_again_when_asked(regression_data, tmp_path):
    x, y = regression_data
    kwargs = dict(cv=3, epochs=2, batch_size=8, seed=0, verbose=0, run_dir=tmp_path / "run")
    kfold.cross_validate(make_regressor, x, y, **kwargs)
    result = kfold.cross_validate(make_regressor, x, y, return_predictions=True, **kwargs)
    assert result.params["strategy"] != "none"
    assert np.isfinite(result.oof_predictions).all()
    with pytest.raises(AttributeError, match="return_predictions=True"):
        kfold.cross_validate(make_regressor, x, y, cv=3, epochs=1, verbose=0).oof_predictions


def test_damaged_predictions_file_is_recomputed(regression_data, tmp_path):
    x, y = regression_data
    kwargs = dict(cv=3, epochs=2, batch_size=8, seed=0, verbose=0, return_predictions=True, run_dir=tmp_path / "r")
    first = kfold.cross_validate(make_regressor, x, y, **kwargs)
    path = tmp_path / "r" / "folds" / "fold_001.predictions.npz"
    path.write_bytes(path.read_bytes()[:30])
    with pytest.warns(RuntimeWarning, match="fold_001.predictions.npz is damaged"):
        again = kfold.cross_validate(make_regressor, x, y, **kwargs)
    np.testing.assert_array_equal(again.oof_predictions, first.oof_predictions)


def test_predictions_survive_json(regression_data, tmp_path):
    x, y = regression_data
    result = kfold.cross_validate(make_regressor, x, y, cv=kfold.HoldoutSplit(0.25), epochs=1, seed=0,
                                  verbose=0, return_predictions=True)
    oof = result.oof_predictions
    train, val = result.folds[0]
    assert np.isnan(oof[train]).all() and np.isfinite(oof[val]).all()  # rows never validated are NaN
    result.save(tmp_path / "result.json")
    loaded = kfold.load(tmp_path / "result.json")
    np.testing.assert_array_equal(loaded.oof_predictions, oof)
    assert kfold.CVResult.from_dict(kfold.CVResult(**{**vars(result), "predictions": None}).to_dict()).predictions is None


@pytest.mark.slow
def test_repeated_splitter_gives_one_full_set_per_repetition(regression_data):
    x, y = regression_data
    cv = kfold.RepeatedKFold(n_splits=4, n_repeats=3, random_state=0)
    result = kfold.cross_validate(make_regressor, x, y, cv=cv, epochs=1, seed=0, verbose=0,
                                  return_predictions=True)
    oof = result.oof_predictions
    assert oof.shape == (3, len(x), 1) and np.isfinite(oof).all()
    for i, (_, val) in enumerate(result.folds):
        np.testing.assert_array_equal(oof[i // 4][val], result.predictions[i])  # repetition = fold // n_splits
    np.testing.assert_array_equal(kfold.cross_val_predict(make_regressor, x, y, cv=cv, epochs=1, seed=0, verbose=0),
                                  oof)


@pytest.mark.slow
def test_multi_output_model_gives_a_dict():
    import keras

    def build():
        inputs = keras.Input((3,))
        hidden = keras.layers.Dense(4)(inputs)
        model = keras.Model(inputs, {"price": keras.layers.Dense(1, name="price")(hidden),
                                     "kind": keras.layers.Dense(2, activation="softmax", name="kind")(hidden)})
        model.compile(optimizer="adam", loss={"price": "mse", "kind": "sparse_categorical_crossentropy"})
        return model

    rng = np.random.default_rng(0)
    x = rng.normal(size=(24, 3))
    y = {"price": rng.normal(size=24), "kind": rng.integers(0, 2, size=24)}
    result = kfold.cross_validate(build, x, y, cv=3, epochs=1, seed=0, verbose=0, return_predictions=True,
                                  return_models=True)
    oof = result.oof_predictions
    assert set(oof) == {"price", "kind"} and oof["price"].shape == (24, 1) and oof["kind"].shape == (24, 2)
    for (_, val), model in zip(result.folds, result.models):
        own = model.predict(x[val], verbose=0)
        for name in oof:
            np.testing.assert_allclose(oof[name][val], own[name], rtol=1e-6, atol=1e-6)


@pytest.mark.slow
def test_a_failed_fold_leaves_its_rows_nan(regression_data):
    x, y = regression_data
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) == 2:
            raise MemoryError("fold 2")
        return make_regressor()

    result = kfold.cross_validate(flaky, x, y, cv=4, epochs=1, seed=0, verbose=0, on_error="skip",
                                  strategy="sequential", return_predictions=True)
    oof = result.oof_predictions
    _, failed = result.folds[1]
    assert np.isnan(oof[failed]).all() and np.isfinite(np.delete(oof, failed, axis=0)).all()


def test_cross_val_predict_equals_the_results_oof(regression_data):
    x, y = regression_data
    kwargs = dict(cv=kfold.KFold(5, shuffle=True, random_state=3), epochs=2, batch_size=8, seed=0, verbose=0,
                  preprocess=kfold.Standardize())
    predicted = kfold.cross_val_predict(make_regressor, x, y, **kwargs)
    result = kfold.cross_validate(make_regressor, x, y, return_predictions=True, **kwargs)
    np.testing.assert_array_equal(predicted, result.oof_predictions)
    assert predicted.shape == (len(x), 1)


@pytest.mark.parametrize("cv, received", [
    (kfold.ShuffleSplit(n_splits=4, test_size=0.5, random_state=0), "more than once"),
    (kfold.HoldoutSplit(0.2), "never"),
])
def test_cross_val_predict_refuses_folds_that_are_not_a_partition_before_training(regression_data, cv, received):
    x, y = regression_data

    def never():
        raise AssertionError("no model may be built")

    with pytest.raises(ValueError, match=rf"Invalid `cv`.*partition.*{received}.*return_predictions=True"):
        kfold.cross_val_predict(never, x, y, cv=cv, epochs=1, verbose=0)
