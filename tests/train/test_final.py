"""fit_final: the final model on all training data, with its fitted preprocessing."""
from __future__ import annotations

import numpy as np
import pytest

import kfold
from conftest import make_regressor


def test_final_model_is_trained_on_all_rows_with_preprocessing(regression_data):
    x, y = regression_data
    final = kfold.fit_final(make_regressor, x, y, epochs=3, batch_size=8,
                            preprocess=kfold.Standardize(), seed=0)
    model, preprocess = final
    np.testing.assert_allclose(preprocess.mean_, x.mean(axis=0))
    assert len(model.history.history["loss"]) == 3
    np.testing.assert_allclose(final.predict(x), model.predict(preprocess.transform(x), verbose=0))
    scores = final.evaluate(x, y)
    assert set(scores) == {"loss", "mae"}


def test_same_seed_same_model(regression_data):
    x, y = regression_data
    a = kfold.fit_final(make_regressor, x, y, epochs=2, seed=3)
    b = kfold.fit_final(make_regressor, x, y, epochs=2, seed=3)
    for wa, wb in zip(a.model.get_weights(), b.model.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def test_final_model_bad_input(regression_data):
    x, y = regression_data
    with pytest.raises(ValueError, match="Invalid `epochs`.*Received: epochs=0"):
        kfold.fit_final(make_regressor, x, y, epochs=0)
    with pytest.raises(TypeError, match="Invalid `build_fn`"):
        kfold.fit_final(make_regressor(), x, y, epochs=1)
    with pytest.raises(ValueError, match="Invalid `y`"):
        kfold.fit_final(make_regressor, x, y[:5], epochs=1)
