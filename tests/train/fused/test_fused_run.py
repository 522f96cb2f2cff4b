"""Fused training (all folds in one compiled graph) against the sequential reference path.

Two tolerances. Without XLA (``jit_compile=False``) the fused graph runs the same TensorFlow kernels
on the same batches in the same order as ``model.fit``, so every log is **bit for
bit** equal. With XLA (the default, also for models with random layers, whose XLA
draws differ from ``model.fit``'s: those are checked for run-to-run repeatability) XLA fuses and reorders the
float32 sums, which moves each value by a few units in the last place (about 1e-7
relative per epoch); training compounds it, so over the few epochs tested here the
curves agree to ``rtol=1e-5``, and no tighter bound holds in general.
"""
from __future__ import annotations

import numpy as np
import pytest

import kfold
from conftest import make_regressor
from kfold.train.fold import FitConfig, FoldData, run_fold
from kfold.engines import NotFusable
from kfold.train.fused.folds import prepare_folds
from kfold.train.fused.fusable import check_fusable
from kfold.train.fused.run import run_folds_fused
from kfold.results.outcome import collect
from kfold.train import plan_folds


def regressor(optimizer="adam", dropout=False):
    import keras

    layers = [keras.Input((3,)), keras.layers.Dense(8, activation="relu")]
    if dropout:
        layers += [keras.layers.BatchNormalization(), keras.layers.Dropout(0.3)]
    model = keras.Sequential([*layers, keras.layers.Dense(1)])
    model.compile(optimizer=optimizer() if callable(optimizer) else optimizer, loss="mse", metrics=["mae"])
    return model


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(41, 3))  # 41 rows, 4 folds: training parts of 30 and 31 rows
    y = x @ np.array([1.0, -2.0, 0.5]) + rng.normal(scale=0.1, size=41)
    return x, y, rng.uniform(0.0, 2.0, size=41)


def both_paths(build, fold_data, *, cv=2, jit_compile=False, **config):
    tasks = plan_folds(cv, len(fold_data.y), seed=0)
    config = FitConfig(**{"epochs": 2, "batch_size": 8, **config})
    sequential = [run_fold(build, fold_data, task, config) for task in tasks]
    return sequential, run_folds_fused(build, fold_data, tasks, config, jit_compile=jit_compile)


def assert_same(sequential, fused, rtol=0.0):
    for seq, fus in zip(sequential, fused):
        assert list(seq.history) == list(fus.history)
        for key in seq.history:
            np.testing.assert_allclose(fus.history[key], seq.history[key], rtol=rtol, atol=0)
        assert seq.scores.keys() == fus.scores.keys()
        np.testing.assert_allclose(list(fus.scores.values()), list(seq.scores.values()), rtol=rtol)


def test_initial_weights_equal_the_sequential_paths(data):
    from kfold.train.keras_fit import build_model

    x, y, _ = data
    tasks = plan_folds(2, len(x), seed=0)
    folds = prepare_folds(regressor, FoldData(x, y), tasks, FitConfig(epochs=1))
    for fold, task in zip(folds, tasks):
        expected = build_model(regressor, task.seed).get_weights()
        assert all(np.array_equal(a, b) for a, b in zip(fold.model.get_weights(), expected))
    assert not np.array_equal(folds[0].model.get_weights()[0], folds[1].model.get_weights()[0])


@pytest.mark.slow
def test_unequal_folds_and_sample_weights_match_bit_for_bit_without_xla(data):
    x, y, w = data
    sequential, fused = both_paths(regressor, FoldData(x, y, w), cv=3)  # 27, 27 and 28 rows: 3 + 4 left
    assert_same(sequential, fused)
    assert len(fused[0].history["loss"]) == 2


@pytest.mark.slow
def test_with_xla_curves_match_to_float_rounding(data):
    x, y, w = data
    sequential, fused = both_paths(lambda: regressor(lambda: __import__("keras").optimizers.RMSprop(
        clipnorm=1.0)), FoldData(x, y, w), jit_compile=True, epochs=3, batch_size=4)
    assert_same(sequential, fused, rtol=1e-5)


@pytest.mark.slow
def test_a_fold_with_fewer_batches_takes_no_extra_optimizer_step(data):
    x, y, _ = data
    tasks = plan_folds(4, len(x), seed=0)  # training parts: 30, 31, 31, 31 rows
    outcomes = run_folds_fused(regressor, FoldData(x, y), tasks,
                               FitConfig(epochs=3, batch_size=10, return_models=True), jit_compile=False)
    steps = [int(o.model.optimizer.iterations.numpy()) for o in outcomes]
    assert steps == [3 * int(np.ceil(len(t.train) / 10)) for t in tasks] == [9, 12, 12, 12]


@pytest.mark.slow
def test_dropout_models_without_xla_keep_the_same_random_draws(data):
    x, y, _ = data
    sequential, fused = both_paths(lambda: regressor(dropout=True), FoldData(x, y), jit_compile=False)
    assert_same(sequential, fused)


@pytest.mark.slow
def test_dropout_models_compile_with_xla_and_repeat_their_draws(data):
    from kfold.engines.tensorflow.choice import use_xla

    x, y, _ = data
    assert use_xla(regressor(dropout=True))  # issue 11: random layers compile with XLA by default
    tasks = plan_folds(2, len(x), seed=0)
    config = FitConfig(epochs=3, batch_size=8)
    first, again = (run_folds_fused(lambda: regressor(dropout=True), FoldData(x, y), tasks, config)
                    for _ in range(2))
    assert_same(first, again)  # the same seed: the same draws, run to run
    other = run_folds_fused(lambda: regressor(dropout=True), FoldData(x, y), plan_folds(2, len(x), seed=1),
                            config)
    assert first[0].history["loss"] != other[0].history["loss"]


@pytest.mark.slow
def test_early_stopping_stops_each_fold_on_its_own(data):
    import keras

    x, y, _ = data
    stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=1, restore_best_weights=True)
    sgd = lambda: regressor(lambda: keras.optimizers.SGD(0.3))  # noqa: E731 - a noisy run
    sequential, fused = both_paths(sgd, FoldData(x, y), cv=3, epochs=12, callbacks=[stopper])
    assert_same(sequential, fused)
    epochs_run = [len(o.history["loss"]) for o in fused]
    assert len(set(epochs_run)) > 1 and max(epochs_run) < 12  # folds stopped at different epochs
    for outcome in fused:  # best weights restored: the score is the best epoch's
        assert outcome.scores["loss"] == pytest.approx(min(outcome.history["val_loss"]), rel=1e-6)
    history = collect(fused, [(t.train, t.val) for t in plan_folds(3, len(x), seed=0)], {}).history
    assert history.epochs_run == epochs_run and history["val_loss"].shape == (3, max(epochs_run))
    assert np.isnan(history["val_loss"]).sum() == sum(max(epochs_run) - e for e in epochs_run)


def two_input_model():
    import keras

    a, b = keras.Input((2,), name="a"), keras.Input((4,), name="b")
    hidden = keras.layers.Dense(4, activation="relu")(a)
    model = keras.Model({"a": a, "b": b}, keras.layers.Dense(1)(keras.layers.Concatenate()([hidden, b])))
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    return model


def two_output_model():
    import keras

    inputs = keras.Input((3,))
    hidden = keras.layers.Dense(8, activation="relu")(inputs)
    model = keras.Model(inputs, {"reg": keras.layers.Dense(1, name="reg")(hidden),
                                 "cls": keras.layers.Dense(1, activation="sigmoid", name="cls")(hidden)})
    model.compile(optimizer="adam", loss={"reg": "mse", "cls": "binary_crossentropy"},
                  metrics={"reg": ["mae"], "cls": ["accuracy"]}, loss_weights={"reg": 1.0, "cls": 0.5})
    return model


@pytest.mark.slow
def test_two_input_functional_model(data):
    x, y, _ = data
    rng = np.random.default_rng(1)
    inputs = {"a": rng.normal(size=(41, 2)), "b": rng.normal(size=(41, 4))}
    sequential, fused = both_paths(two_input_model, FoldData(inputs, y), preprocess={"a": kfold.Standardize()})
    assert_same(sequential, fused)


@pytest.mark.slow
def test_multi_output_model(data):
    x, y, _ = data
    sequential, fused = both_paths(two_output_model, FoldData(x, {"reg": y, "cls": (y > 0).astype(float)}))
    assert_same(sequential, fused)
    assert {"reg_loss", "val_cls_accuracy"} <= set(fused[0].history)


def test_auto_is_the_default_and_returns_usable_models(regression_data):
    x, y = regression_data
    result = kfold.cross_validate(make_regressor, x, y, cv=2, epochs=2, seed=0, verbose=0, return_models=True)
    assert result.params["strategy"] == "fused"
    assert "one compiled graph" in result.params["strategy_reason"]
    for model, fitted, (_, val), mae in zip(result.models, result.preprocessors, result.folds,
                                            result.scores["val_mae"]):
        assert fitted is None and model.predict(x[val], verbose=0).shape == (len(val), 1)
        scores = model.evaluate(x[val], y[val], return_dict=True, verbose=0)
        assert scores["mae"] == pytest.approx(mae, rel=1e-5)


def eager_model():
    model = make_regressor()
    model.compile(optimizer="sgd", loss="mse", run_eagerly=True)
    return model


def shared_metric_builder():
    import keras

    shared = keras.metrics.MeanAbsoluteError()
    return lambda: make_regressor(metrics=[shared])


class Counting:
    """A callback with batch hooks: it needs a live fit loop."""

    @staticmethod
    def make():
        import keras

        class CountBatches(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                pass

        return CountBatches()


@pytest.mark.slow
@pytest.mark.parametrize("build, kwargs, reason", [
    ("regressor", {"callbacks": "counting"}, "callback CountBatches has a batch hook (on_train_batch_end)"),
    ("regressor", {"fit_kwargs": {"validation_steps": 1}}, "fit argument 'validation_steps'"),
    ("eager", {}, "run_eagerly=True"),
    ("shared", {}, "share 'mean_absolute_error/total'"),
])
def test_what_cannot_be_fused_falls_back_or_raises_with_the_reason(regression_data, capsys, build, kwargs,
                                                                     reason):
    x, y = regression_data
    build_fn = {"regressor": make_regressor, "eager": eager_model, "shared": shared_metric_builder()}[build]
    if kwargs.get("callbacks") == "counting":
        kwargs = {"callbacks": [Counting.make()]}
    result = kfold.cross_validate(build_fn, x, y, cv=2, epochs=1, seed=0, verbose=1, **kwargs)
    assert result.params["strategy"] == "sequential" and reason in result.params["strategy_reason"]
    printed = capsys.readouterr().err
    assert 'Training the folds one after another (strategy="sequential"): ' in printed and reason in printed
    with pytest.raises(ValueError, match=r"Invalid `strategy`.*Fused training is not possible: .*" + reason[:20]):
        kfold.cross_validate(build_fn, x, y, cv=2, epochs=1, seed=0, verbose=0, strategy="fused", **kwargs)


def test_check_fusable_accepts_epoch_level_callbacks_and_shuffle():
    import keras

    config = FitConfig(epochs=1, callbacks=[keras.callbacks.EarlyStopping()], fit_kwargs={"shuffle": False})
    assert check_fusable(config) is None
    tasks = plan_folds(2, 4, seed=0)
    with pytest.raises(NotFusable, match="ModelCheckpoint"):
        run_folds_fused(make_regressor, FoldData(np.zeros((4, 3)), np.zeros(4)), tasks,
                        FitConfig(epochs=1, callbacks=[keras.callbacks.ModelCheckpoint("m.keras", save_freq=2)]))


def test_data_too_big_to_copy_per_fold_is_trained_sequentially(regression_data, monkeypatch):
    import kfold.train.fused.fusable

    x, y = regression_data
    monkeypatch.setattr(kfold.train.fused.fusable, "MAX_FUSED_BYTES", 1000)  # 4 folds x 40 rows x 16 bytes > 1000
    result = kfold.cross_validate(make_regressor, x, y, cv=2, epochs=1, seed=0, verbose=0)
    assert result.params["strategy"] == "sequential"
    assert "every fold's copy of the data" in result.params["strategy_reason"]


def test_sequential_strategy_is_kept_when_asked(regression_data):
    x, y = regression_data
    result = kfold.cross_validate(make_regressor, x, y, cv=2, epochs=1, seed=0, verbose=0,
                                  strategy="sequential")
    assert result.params["strategy"] == "sequential"
    with pytest.raises(ValueError, match="Invalid `strategy`"):
        kfold.cross_validate(make_regressor, x, y, cv=2, epochs=1, verbose=0, strategy="fast")
