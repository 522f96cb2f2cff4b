"""cross_validate: the fold loop, its guarantees and its errors."""
from __future__ import annotations

import numpy as np
import pytest

import kfold
from conftest import make_regressor


def run(x, y, **kwargs):
    kwargs.setdefault("epochs", 2)
    kwargs.setdefault("verbose", 0)
    kwargs.setdefault("seed", 0)
    return kfold.cross_validate(make_regressor, x, y, **kwargs)


def test_end_to_end_records_every_key_of_every_fold(regression_data):
    x, y = regression_data
    result = run(x, y, cv=4, epochs=3)
    assert result.history.keys() == ["loss", "mae", "val_loss", "val_mae"]
    assert result.history["val_mae"].shape == (4, 3)
    assert np.isfinite(result.history["val_mae"]).all()
    assert sorted(result.scores) == ["val_loss", "val_mae"]  # held-out scores, held-out names
    assert result.scores["val_mae"].shape == (4,)
    assert [len(v) for _, v in result.folds] == [10, 10, 10, 10]
    assert result.params["epochs"] == 3 and result.params["seed"] == 0
    # the held-out score is the model after the last epoch: equal to its last val_mae
    np.testing.assert_allclose(result.scores["val_mae"], result.history["val_mae"][:, -1], rtol=1e-5)


def test_folds_match_kfold_splitter(regression_data):
    x, y = regression_data
    result = run(x, y, cv=kfold.KFold(5, shuffle=True, random_state=3), epochs=1)
    expected = list(kfold.KFold(5, shuffle=True, random_state=3).split(x))
    for (train, val), (exp_train, exp_val) in zip(result.folds, expected):
        np.testing.assert_array_equal(train, exp_train)
        np.testing.assert_array_equal(val, exp_val)


def test_same_seed_same_histories_other_seed_differs(regression_data):
    x, y = regression_data
    a, b, c = run(x, y, cv=3, seed=5), run(x, y, cv=3, seed=5), run(x, y, cv=3, seed=6)
    assert a.history == b.history
    assert a.history != c.history


class RecordingStep(kfold.Standardize):
    """Standardize that remembers which rows it was fitted on (by their first feature)."""

    def fit(self, x, y=None):
        self.seen_ = np.asarray(x)[:, 0].copy()
        return super().fit(x)


def test_preprocessing_is_fitted_on_training_rows_only(regression_data):
    x, y = regression_data
    x = x.copy()
    x[:, 0] = np.arange(len(x))  # row ids in the first feature
    step = RecordingStep()
    result = run(x, y, cv=4, epochs=1, preprocess=step, return_models=True)
    assert not hasattr(step, "seen_")  # the user's object is never fitted itself
    for fitted, (train, val) in zip(result.preprocessors, result.folds):
        np.testing.assert_array_equal(np.sort(fitted.seen_), np.sort(train))
        assert not set(fitted.seen_.astype(int)) & set(val)
        np.testing.assert_allclose(fitted.mean_, x[train].mean(axis=0))


def test_each_fold_gets_a_fresh_model(regression_data):
    x, y = regression_data
    result = run(x, y, cv=3, epochs=1, return_models=True)
    assert len({id(m) for m in result.models}) == 3
    weights = [m.get_weights()[0] for m in result.models]
    assert not np.allclose(weights[0], weights[1])


def test_build_fn_returning_the_same_model_twice_is_rejected(regression_data):
    x, y = regression_data
    shared = make_regressor()
    with pytest.raises(ValueError, match="build_fn.*returned a model it had returned before"):
        kfold.cross_validate(lambda: shared, x, y, cv=2, epochs=1, verbose=0)


def test_a_model_instead_of_a_function_is_rejected(regression_data):
    x, y = regression_data
    with pytest.raises(TypeError, match=r"Invalid `build_fn`.*Sequential model instance.*not a model"):
        kfold.cross_validate(make_regressor(), x, y, cv=2, epochs=1, verbose=0)


def test_an_uncompiled_model_is_rejected_before_training(regression_data):
    import keras

    x, y = regression_data
    calls = []

    def build():
        calls.append(1)
        return keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])

    with pytest.raises(ValueError, match="never compiled.*model.compile"):
        kfold.cross_validate(build, x, y, cv=2, epochs=1, verbose=0)
    assert calls == [1]  # stopped at the first fold


@pytest.mark.parametrize("returned, name", [(None, "NoneType"), ("model", "str")])
def test_build_fn_returning_a_non_model_is_rejected(regression_data, returned, name):
    x, y = regression_data
    with pytest.raises(TypeError, match=f"build_fn\\(\\) returned {name}"):
        kfold.cross_validate(lambda: returned, x, y, cv=2, epochs=1, verbose=0)


def build_with_units(units):
    return make_regressor(units=units)


def test_build_fn_needing_arguments_is_rejected(regression_data):
    x, y = regression_data
    with pytest.raises(TypeError, match=r"Received: build_fn=build_with_units\(units\).*functools.partial"):
        kfold.cross_validate(build_with_units, x, y, cv=2, epochs=1, verbose=0)


def test_callbacks_do_not_share_state_across_folds(regression_data):
    import keras

    class StopAfterTwoEpochs(keras.callbacks.Callback):
        """Counts epochs in its own state: shared across folds, later folds would stop at once."""

        def __init__(self):
            super().__init__()
            self.seen = 0

        def on_epoch_end(self, epoch, logs=None):
            self.seen += 1
            if self.seen >= 2:
                self.model.stop_training = True

    x, y = regression_data
    stopper = StopAfterTwoEpochs()
    result = run(x, y, cv=3, epochs=5, callbacks=[stopper])
    assert result.history.epochs_run == [2, 2, 2]
    assert stopper.seen == 0  # the user's object itself was never used


def test_early_stopping_ends_the_fold_history(regression_data):
    import keras

    x, y = regression_data
    # a min_delta no epoch can beat: each fold stops after its second epoch
    stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=0, min_delta=1e9)
    result = run(x, y, cv=2, epochs=6, callbacks=[stopper])
    assert result.history["val_loss"].shape == (2, 2)
    assert result.history.epochs_run == [2, 2]


def test_sample_weight_is_sliced_per_fold(regression_data):
    x, y = regression_data
    weights = np.ones(len(y))
    base = run(x, y, cv=2, epochs=2)
    same = run(x, y, cv=2, epochs=2, sample_weight=weights)
    np.testing.assert_allclose(base.history["loss"], same.history["loss"], rtol=1e-5)
    zeroed = weights.copy()
    zeroed[::2] = 0.0
    other = run(x, y, cv=2, epochs=2, sample_weight=zeroed)
    assert not np.allclose(base.history["loss"], other.history["loss"])


def test_multi_input_dict_with_per_input_preprocessing():
    import keras

    rng = np.random.default_rng(1)
    x = {"a": rng.normal(size=(30, 2)), "b": rng.normal(size=(30, 4))}
    y = rng.normal(size=30)

    def build():
        a, b = keras.Input((2,), name="a"), keras.Input((4,), name="b")
        out = keras.layers.Dense(1)(keras.layers.Concatenate()([a, b]))
        model = keras.Model({"a": a, "b": b}, out)
        model.compile(optimizer="adam", loss="mse")
        return model

    result = kfold.cross_validate(build, x, y, cv=3, epochs=2, verbose=0, seed=0,
                                  preprocess={"a": kfold.Standardize()}, return_models=True)
    assert result.history["val_loss"].shape == (3, 2)
    assert result.preprocessors[0]["a"].mean_.shape == (2,)


def test_training_order_changes_every_epoch_and_covers_the_fold():
    import keras

    seen = []

    class Record(keras.layers.Layer):
        def call(self, inputs):
            seen.append(np.asarray(inputs)[:, 0].astype(int).tolist())
            return inputs

    def build():
        model = keras.Sequential([keras.Input((1,)), Record(), keras.layers.Dense(1)])
        model.compile(optimizer="sgd", loss="mse", run_eagerly=True)
        return model

    x = np.arange(12, dtype=float)[:, None]
    y = np.zeros(12)
    cv = [(np.arange(4, 12), np.arange(4))]
    kfold.cross_validate(build, x, y, cv=cv, epochs=3, batch_size=8, verbose=0, seed=0)
    # training batches only: the 8 training rows in one batch, then validation (4 rows)
    epochs = [order for order in seen if len(order) == 8]
    assert len(epochs) == 3
    assert all(sorted(order) == list(range(4, 12)) for order in epochs)
    assert epochs[0] != epochs[1] != epochs[2]


def test_epoch_orders_are_reproducible():
    from kfold.train.keras_fit import epoch_orders

    a, b = epoch_orders(20, seed=1), epoch_orders(20, seed=1)
    for _ in range(3):
        np.testing.assert_array_equal(next(a), next(b))
    np.testing.assert_array_equal(next(epoch_orders(5, 0, shuffle=False)), np.arange(5))


@pytest.mark.parametrize(
    "kwargs, param, received",
    [
        ({"epochs": 0}, "epochs", "epochs=0"),
        ({"epochs": 2.5}, "epochs", "epochs=2.5"),
        ({"batch_size": -1}, "batch_size", "batch_size=-1"),
        ({"verbose": 3}, "verbose", "verbose=3"),
        ({"seed": -1}, "seed", "seed=-1"),
        ({"fit_kwargs": {"validation_split": 0.2}}, "fit_kwargs", "validation_split"),
        ({"preprocess": "standardize"}, "preprocess", "preprocess='standardize'"),
        ({"sample_weight": np.ones(3)}, "sample_weight", "3 entries"),
    ],
)
def test_bad_arguments_name_the_parameter(regression_data, kwargs, param, received):
    x, y = regression_data
    with pytest.raises(ValueError, match=f"Invalid `{param}`") as error:
        run(x, y, cv=2, **kwargs)
    assert received in str(error.value)


def test_length_mismatch_and_empty_data(regression_data):
    x, y = regression_data
    with pytest.raises(ValueError, match=r"Invalid `y`.*40 samples.*Received: y=39 entries"):
        run(x, y[:-1], cv=2)
    with pytest.raises(ValueError, match="Invalid `x`"):
        run(np.zeros((0, 3)), np.zeros(0), cv=2)


def test_callbacks_must_be_keras_callbacks(regression_data):
    x, y = regression_data
    with pytest.raises(TypeError, match="Invalid `callbacks`"):
        run(x, y, cv=2, callbacks=[print])


def test_cv_pairs_out_of_range_are_rejected(regression_data):
    x, y = regression_data
    with pytest.raises(ValueError, match=r"Invalid `X`.*use index 49.*Received: X=<40 samples>"):
        run(x, y, cv=[(np.arange(5, 50), np.arange(5))])


def test_verbose_shows_fold_progress(regression_data, capsys):
    x, y = regression_data
    run(x, y, cv=2, epochs=1, verbose=1)
    err = capsys.readouterr().err
    assert "Fold 1/2" in err and "Fold 2/2" in err and "mae:" in err


def test_user_objects_are_not_modified(regression_data):
    import keras

    x, y = regression_data
    x0, y0 = x.copy(), y.copy()
    callbacks = [keras.callbacks.EarlyStopping(patience=1)]
    run(x, y, cv=2, callbacks=callbacks)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(y, y0)
    assert callbacks[0].model is None and callbacks[0].wait == 0
