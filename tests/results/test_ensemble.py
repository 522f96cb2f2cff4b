"""FoldEnsemble: the fold models, each with its own fold's preprocessing, as one predictor."""
from __future__ import annotations

import numpy as np
import pytest

import kfold
from conftest import make_regressor
from kfold.results.ensemble import FoldEnsemble


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(0)
    x = rng.normal(loc=[0.0, 5.0, -3.0], scale=[1.0, 4.0, 0.5], size=(48, 3))
    y = x @ np.array([1.0, -0.5, 2.0])
    result = kfold.cross_validate(make_regressor, x[:40], y[:40], cv=4, epochs=3, batch_size=8, seed=0,
                                  verbose=0, preprocess=kfold.Standardize(), return_models=True,
                                  return_predictions=True)
    return result, x[40:], y[40:], x[:40], y[:40]


def own_predictions(result, x):
    """Each fold model on x after its own fold's Standardize (whose statistics differ per fold)."""
    return np.stack([m.predict(p.transform(x), verbose=0) for m, p in zip(result.models, result.preprocessors)])


def test_predict_is_the_mean_of_the_fold_models_with_their_own_preprocessing(fitted):
    result, x_test, _, _, _ = fitted
    ensemble = result.ensemble()
    assert len(ensemble) == 4
    each = own_predictions(result, x_test)
    assert not np.allclose(result.preprocessors[0].mean_, result.preprocessors[1].mean_)  # really per fold
    np.testing.assert_allclose(ensemble.predict(x_test), each.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(ensemble.predict(x_test, method="median"), np.median(each, axis=0), rtol=1e-6)


def test_evaluate_scores_the_mean_prediction_with_the_compiled_loss_and_metrics(fitted):
    result, x_test, y_test, _, _ = fitted
    mean = own_predictions(result, x_test).mean(axis=0).ravel()
    scores = result.ensemble().evaluate(x_test, y_test)
    assert sorted(scores) == ["loss", "mae"]
    np.testing.assert_allclose(scores["mae"], np.mean(np.abs(mean - y_test)), rtol=1e-5)
    np.testing.assert_allclose(scores["loss"], np.mean((mean - y_test) ** 2), rtol=1e-5)


def test_save_and_load_give_the_same_predictions(fitted, tmp_path):
    result, x_test, y_test, _, _ = fitted
    ensemble = result.ensemble(method="median")
    ensemble.save(tmp_path / "ensemble")
    assert sorted(p.name for p in (tmp_path / "ensemble").iterdir()) == [
        "ensemble.json", "fold_000.keras", "fold_001.keras", "fold_002.keras", "fold_003.keras"]
    loaded = kfold.load(tmp_path / "ensemble")
    assert isinstance(loaded, FoldEnsemble) and loaded.method == "median"
    np.testing.assert_allclose(loaded.predict(x_test), ensemble.predict(x_test), rtol=1e-6)
    np.testing.assert_array_equal([p.mean_ for p in loaded.preprocessors], [p.mean_ for p in result.preprocessors])
    np.testing.assert_array_equal([p.std_ for p in loaded.preprocessors], [p.std_ for p in result.preprocessors])
    assert loaded.evaluate(x_test, y_test) == pytest.approx(ensemble.evaluate(x_test, y_test))


class Shift:
    """A preprocessing step that Standardize's JSON does not cover: pickled."""

    def fit(self, x):
        self.shift_ = np.asarray(x).min(axis=0)
        return self

    def transform(self, x):
        return (np.asarray(x) - self.shift_).astype("float32")


def test_other_preprocessing_is_pickled(tmp_path, regression_data):
    x, y = regression_data
    result = kfold.cross_validate(make_regressor, x, y, cv=2, epochs=1, seed=0, verbose=0, preprocess=Shift(),
                                  return_models=True)
    result.ensemble().save(tmp_path / "e")
    loaded = FoldEnsemble.load(tmp_path / "e")
    np.testing.assert_array_equal(loaded.preprocessors[1].shift_, result.preprocessors[1].shift_)
    np.testing.assert_allclose(loaded.predict(x), result.ensemble().predict(x), rtol=1e-6)


def test_vote_takes_the_most_frequent_class():
    import keras

    def constant(probabilities):
        model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(
            len(probabilities), activation="softmax", kernel_initializer="zeros",
            bias_initializer=keras.initializers.Constant(np.log(probabilities)))])
        model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    ensemble = FoldEnsemble([constant([0.9, 0.05, 0.05]), constant([0.3, 0.4, 0.3]),
                             constant([0.3, 0.4, 0.3])], method="vote")
    assert ensemble.predict(np.zeros((2, 1))).tolist() == [1, 1]  # two votes of three
    np.testing.assert_allclose(ensemble.predict(np.zeros((1, 1)), method="mean"), [[0.5, 0.28333, 0.21667]],
                               atol=1e-4)  # the mean probabilities say class 0
    # a loss cannot score labels: evaluate scores the mean probabilities
    assert ensemble.evaluate(np.zeros((2, 1)), np.array([0, 0]))["accuracy"] == pytest.approx(1.0)


def test_a_result_without_models_says_how_to_get_them(regression_data, tmp_path):
    x, y = regression_data
    result = kfold.cross_validate(make_regressor, x, y, cv=2, epochs=1, seed=0, verbose=0)
    with pytest.raises(ValueError, match=r"Invalid `result`.*return_models=True.*from_run_dir"):
        result.ensemble()
    with pytest.raises(ValueError, match=r"Invalid `method`.*'mean', 'median', 'vote'"):
        FoldEnsemble([make_regressor()], method="average")
    with pytest.raises(ValueError, match=r"Invalid `path`.*FoldEnsemble.save"):
        FoldEnsemble.load(tmp_path)


@pytest.mark.slow
def test_from_run_dir_rebuilds_the_models_and_their_preprocessing(fitted, tmp_path):
    result, x_test, _, x, y = fitted
    kwargs = dict(cv=4, epochs=3, batch_size=8, seed=0, verbose=0, preprocess=kfold.Standardize())
    kfold.cross_validate(make_regressor, x, y, run_dir=kfold.RunDir(tmp_path / "run", save_weights=True),
                         return_models=True, **kwargs)
    rebuilt = FoldEnsemble.from_run_dir(tmp_path / "run", make_regressor, x, preprocess=kfold.Standardize())
    np.testing.assert_allclose(rebuilt.predict(x_test), result.ensemble().predict(x_test), rtol=1e-5)
    kfold.cross_validate(make_regressor, x, y, run_dir=tmp_path / "bare", **kwargs)
    with pytest.raises(ValueError, match=r"Invalid `path`.*save_weights=True.*weights.h5"):
        FoldEnsemble.from_run_dir(tmp_path / "bare", make_regressor, x, preprocess=kfold.Standardize())
