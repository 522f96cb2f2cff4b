"""The masked-step graph against the generic fused graph: the same histories up to float rounding."""
from __future__ import annotations

import numpy as np
import pytest

from kfold.train import plan_folds
from kfold.train.fold import FitConfig, FoldData
import kfold
from kfold.engines.tensorflow import choice as engine
from kfold.engines.tensorflow.graph import EpochGraph
from kfold.engines.tensorflow.submodels import SubmodelGraph
from kfold.train.fused.folds import prepare_folds
from kfold.train.fused.run import run_folds_fused

from graph_helpers import assert_close, graphs_made, two_inputs


def conv_model(optimizer="rmsprop", loss="mse", metrics=("mae",), out=1, activation=None, extra=()):
    import keras

    layers = [keras.Input((6,)), keras.layers.Reshape((6, 1)), keras.layers.Conv1D(4, 3, activation="relu"),
              keras.layers.Flatten(), *extra, keras.layers.Dense(out, activation=activation)]
    model = keras.Sequential(layers)
    model.compile(optimizer=optimizer, loss=loss, metrics=list(metrics))
    return model


def compiled(model):
    model.compile(optimizer="sgd", loss="mse")
    return model


def own_model():
    """A functional model of one's own class (its train_step could do anything): the generic graph runs it."""
    import keras

    class Own(keras.Model):
        pass

    inputs = keras.Input((6,))
    return compiled(Own(inputs, keras.layers.Dense(1)(inputs)))


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(46, 6))
    return x, x @ rng.normal(size=6) + rng.normal(scale=0.1, size=46)


def both(build, fold_data, monkeypatch, **config):
    """The same run on the masked-step graph (the default for these models) and on the generic one."""
    tasks = plan_folds(4, len(fold_data.y), seed=0)
    config = FitConfig(**{"epochs": 4, "batch_size": 5, "return_models": True, **config})
    made = graphs_made(monkeypatch)
    masked = run_folds_fused(build, fold_data, tasks, config)
    assert {type(g) for g in made} == {SubmodelGraph}
    with kfold.config_context(fused_submodels=False):
        generic = run_folds_fused(build, fold_data, tasks, config)
    assert type(made[-1]) is EpochGraph
    return masked, generic


@pytest.mark.slow
@pytest.mark.parametrize("optimizer", ["rmsprop", "adam", "sgd"])
def test_masked_steps_equal_generic_to_rounding_with_partial_batches_and_folds_of_two_sizes(
        data, monkeypatch, optimizer):
    x, y = data  # 46 rows, 4 folds: 34 and 35 training rows, batch 5: 7 steps each, the last partial
    masked, generic = both(lambda: conv_model(optimizer), FoldData(x, y), monkeypatch)
    assert_close(masked, generic)
    for a, b in zip(masked, generic):  # the same optimizer steps (no padded step), the same state
        assert int(a.model.optimizer.iterations.numpy()) == int(b.model.optimizer.iterations.numpy()) == 4 * 7
        for va, vb in zip(a.model.optimizer.variables, b.model.optimizer.variables):
            np.testing.assert_allclose(np.asarray(va), np.asarray(vb), rtol=1e-4, atol=1e-6)


@pytest.mark.slow
def test_each_fold_keeps_its_own_optimizer_with_clipping(data, monkeypatch):
    import keras

    x, y = data
    build = lambda: conv_model(keras.optimizers.Adam(learning_rate=0.05, global_clipnorm=0.1))  # noqa: E731
    assert_close(*both(build, FoldData(x, y), monkeypatch))


@pytest.mark.slow
def test_a_classifier_keeps_keras_keys_and_numbers(data, monkeypatch):
    x, y = data
    labels = (y > np.median(y)).astype("float32")
    build = lambda: conv_model("adam", "binary_crossentropy", ("accuracy",), activation="sigmoid")  # noqa: E731
    masked, generic = both(build, FoldData(x, labels), monkeypatch)
    assert list(masked[0].history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert_close(masked, generic)


@pytest.mark.slow
@pytest.mark.parametrize("rows, batch_size", [(46, 5), (9001, 500)],
                         ids=["one-validation-batch", "validation-in-three-batches-of-751-the-last-filled-up"])
def test_a_model_of_two_inputs_equals_generic_to_rounding(monkeypatch, rows, batch_size):
    rng = np.random.default_rng(2)
    x, extra = rng.normal(size=(rows, 6)), rng.normal(size=(rows, 3))
    y = x.sum(axis=1) - extra[:, 0]
    masked, generic = both(two_inputs, FoldData([x, extra], y), monkeypatch, epochs=2, batch_size=batch_size)
    assert_close(masked, generic)


@pytest.mark.parametrize("case, reason", [
    ("batchnorm", "keeps batch statistics"),
    ("regularizer", "has a regularizer"),
    ("weights", "sample weights"),
    ("loss", "is not one of"),
    ("own-model", "is not one of Keras' own"),
    ("masking", "masks rows"),
])
def test_what_the_masked_step_cannot_train_takes_the_generic_graph(data, case, reason):
    import keras

    from kfold.engines.tensorflow.submodels import submodel_reason

    x, y = data
    build = {
        "batchnorm": lambda: conv_model(extra=[keras.layers.BatchNormalization()]),
        "regularizer": lambda: conv_model(extra=[keras.layers.Dense(3, kernel_regularizer="l2")]),
        "loss": lambda: conv_model(loss="huber"),
        "own-model": own_model,
        "masking": lambda: compiled(keras.Sequential([keras.Input((6,)), keras.layers.Masking(),
                                                      keras.layers.Dense(1)])),
    }.get(case, conv_model)
    weights = np.ones(len(x)) if case == "weights" else None
    folds = prepare_folds(build, FoldData(x, y, weights), plan_folds(4, len(x), seed=0), FitConfig(epochs=1))
    found = submodel_reason([f.model for f in folds], [f.train for f in folds], [f.n_train for f in folds], 5)
    assert found is not None and reason in found
    assert type(engine.make_graph(folds, FitConfig(epochs=1, batch_size=5), True, 1)) is EpochGraph


def test_without_xla_the_generic_graph_trains(data):
    x, y = data
    folds = prepare_folds(conv_model, FoldData(x, y), plan_folds(4, len(x), seed=0), FitConfig(epochs=1))
    assert type(engine.make_graph(folds, FitConfig(epochs=1, batch_size=5), False, 1)) is EpochGraph


@pytest.mark.slow
def test_callbacks_act_on_the_fold_models_it_trains(data, monkeypatch):
    """A learning rate a callback sets for one fold, and a stop, reach the masked-step graph as the generic one."""
    import keras

    x, y = data

    class Steer(keras.callbacks.Callback):
        filename = "{fold}"  # each fold's copy gets its fold's number, from 1

        def on_epoch_end(self, epoch, logs=None):
            if epoch == 0 and self.filename == "1":
                self.model.optimizer.learning_rate.assign(0.0)  # the first fold stops learning
            if epoch == 1 and self.filename == "2":
                self.model.stop_training = True  # the second fold stops

    runs = {}
    for kind in ("masked", "generic"):
        with monkeypatch.context() as patch, kfold.config_context(fused_submodels=kind == "masked",
                                                                  fused_stacked=False):
            made = graphs_made(patch)
            tasks = plan_folds(4, len(x), seed=0)
            runs[kind] = run_folds_fused(lambda: conv_model("adam"), FoldData(x, y), tasks, FitConfig(
                epochs=4, batch_size=5, return_models=True, callbacks=(Steer(),)))
            assert {type(g) for g in made} == {SubmodelGraph if kind == "masked" else EpochGraph}
    masked = runs["masked"]
    assert [len(o.history["loss"]) for o in masked] == [4, 2, 4, 4]  # fold 1 stopped after epoch 2
    assert masked[0].history["val_loss"][1:] == [masked[0].history["val_loss"][1]] * 3  # lr 0: frozen
    assert float(masked[0].model.optimizer.learning_rate.numpy()) == 0.0
    assert_close(masked, runs["generic"])
