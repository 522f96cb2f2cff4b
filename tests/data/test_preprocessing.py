"""Standardize and per-fold fitting of preprocessing steps."""
from __future__ import annotations

import numpy as np
import pytest

from kfold import Standardize
from kfold.data.preprocessing import apply_preprocess, check_preprocess, fit_preprocess


def test_standardize_matches_the_book():
    rng = np.random.default_rng(0)
    train, test = rng.normal(3.0, 2.0, size=(50, 4)), rng.normal(size=(10, 4))
    step = Standardize().fit(train)
    # the book: mean = train.mean(axis=0); train -= mean; std = train.std(axis=0); train /= std
    mean, std = train.mean(axis=0), train.std(axis=0)
    np.testing.assert_allclose(step.transform(train), (train - mean) / std, rtol=1e-6)
    np.testing.assert_allclose(step.transform(test), (test - mean) / std, rtol=1e-6)


def test_constant_feature_is_not_divided_by_zero():
    x = np.array([[1.0, 5.0], [3.0, 5.0]])
    out = Standardize().fit_transform(x)
    assert np.isfinite(out).all() and (out[:, 1] == 0).all()


def test_unfitted_transform_raises():
    with pytest.raises(RuntimeError, match="not fitted"):
        Standardize().transform(np.ones((2, 2)))


def test_fit_preprocess_fits_a_copy_on_training_rows():
    step = Standardize()
    x_train = np.array([[0.0], [2.0]])
    fitted, out = fit_preprocess(step, x_train)
    assert fitted is not step and not hasattr(step, "mean_")
    np.testing.assert_array_equal(fitted.mean_, [1.0])
    np.testing.assert_array_equal(apply_preprocess(fitted, np.array([[4.0]])), [[3.0]])
    assert fit_preprocess(None, x_train) == (None, x_train)


def test_works_with_a_scikit_learn_scaler():
    from sklearn.preprocessing import MinMaxScaler

    fitted, out = fit_preprocess(MinMaxScaler(), np.array([[0.0], [4.0]]))
    np.testing.assert_array_equal(out, [[0.0], [1.0]])
    np.testing.assert_array_equal(apply_preprocess(fitted, np.array([[2.0]])), [[0.5]])


def test_dict_and_list_inputs_get_one_step_per_input():
    x = {"a": np.array([[0.0], [2.0]]), "b": np.array([[5.0], [7.0]])}
    fitted, out = fit_preprocess({"a": Standardize(), "b": None}, x)
    np.testing.assert_array_equal(out["a"], [[-1.0], [1.0]])
    np.testing.assert_array_equal(out["b"], x["b"])  # no step: untouched
    fitted, out = fit_preprocess([None, Standardize()], [x["a"], x["b"]])
    np.testing.assert_array_equal(out[1], [[-1.0], [1.0]])


@pytest.mark.parametrize("preprocess, x, match", [
    ("scale", np.ones((2, 2)), "Invalid `preprocess`.*fit\\(\\) and transform\\(\\).*Received: preprocess='scale'"),
    (Standardize(), {"a": np.ones(2)}, "Invalid `preprocess`.*dict keyed by input names \\['a'\\]"),
    ({"c": Standardize()}, {"a": np.ones(2)}, "Invalid `preprocess`.*\\['a'\\]"),
    ([Standardize()], [np.ones(2), np.ones(2)], "Invalid `preprocess`.*list of 2 steps"),
    ({"a": 3}, {"a": np.ones(2)}, "Invalid `preprocess\\['a'\\]`"),
])
def test_check_preprocess_errors(preprocess, x, match):
    with pytest.raises(ValueError, match=match):
        check_preprocess(preprocess, x)
