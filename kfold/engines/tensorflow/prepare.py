"""The TensorFlow engine's preparation: a built fold model checked and made ready to be traced.

The runner builds each fold's model as the sequential path does
(:mod:`kfold.train.fused.folds`); here its data becomes tensors (as the
sequential path's ``tf.data`` pipeline converts it) and every variable is
created (weights, metrics, optimizer state) before anything is compiled, and
the models must not share any variable.
"""
from __future__ import annotations

from typing import Any

from kfold.core import import_keras, import_tensorflow
from kfold.data import to_tensors
from kfold.engines.base import FusedFold, NotFusable

__all__ = ["check_model_fusable", "prepare_fold", "check_independent", "build_state", "symbolic_batch"]


def check_model_fusable(model: Any) -> str | None:
    """Why this built model needs the sequential path, or ``None`` if it can be fused.

    Examples
    --------
    >>> from kfold.engines.tensorflow._examples import tiny_model
    >>> check_model_fusable(tiny_model()) is None
    True
    """
    keras = import_keras()
    if keras.backend.backend() != "tensorflow":
        return f"fused training needs the TensorFlow backend, not {keras.backend.backend()!r}"
    if model.run_eagerly:
        return "the model is compiled with run_eagerly=True"
    if model.optimizer is None:
        return "the model has no optimizer"
    for method in ("fit", "evaluate", "make_train_function", "make_test_function"):
        if getattr(type(model), method) is not getattr(keras.Model, method):
            return f"{type(model).__name__} overrides {method}()"
    return None


def symbolic_batch(part: Any) -> Any:
    """Shapes and dtypes of a batch of ``part`` (tensors), for building the model."""
    keras, tf = import_keras(), import_tensorflow()
    if part is None:
        return None
    return tf.nest.map_structure(lambda t: keras.KerasTensor((None, *t.shape[1:]), t.dtype.name), part)


def build_state(model: Any, train: tuple) -> None:
    """Create the model's metric and optimizer variables (and its weights), as ``model.fit`` would first.

    A model of Keras' own classes already built (``keras.Input`` given) with one
    output gets its compiled loss and metrics built from its symbolic output and its
    optimizer from its weights: the same variables as Keras' ``_symbolic_build``,
    without tracing the model, loss and metrics three times (a fifth of a short
    run's set-up). Any other model goes through ``_symbolic_build``.
    """
    keras = import_keras()
    outputs = getattr(model, "outputs", None) if type(model).__module__.startswith("keras.") else None
    y = train[1]
    if outputs and len(outputs) == 1 and train[2] is None and import_tensorflow().is_tensor(y) and \
            all(layer.built for layer in model._flatten_layers()):
        y_spec = keras.KerasTensor((None, *y.shape[1:]), y.dtype.name)
        for compiled in (model._compile_metrics, model._compile_loss):
            if compiled is not None and not compiled.built:
                compiled.build(y_spec, outputs[0])
        if not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        model._post_build()
        return
    model._symbolic_build(data_batch=tuple(symbolic_batch(p) for p in train))


def prepare_fold(fold: FusedFold) -> None:
    """``fold``'s data as tensors and its model's every variable created; NotFusable if it cannot be fused."""
    fold.train = tuple(to_tensors(p) for p in fold.train)
    fold.val = tuple(to_tensors(p) for p in fold.val)
    reason = check_model_fusable(fold.model)
    if reason:
        raise NotFusable(reason)
    try:  # create every variable now: the compiled graph may not create any
        build_state(fold.model, fold.train)
    except Exception as error:  # noqa: BLE001 - any failure means "run it sequentially"
        raise NotFusable(f"the model could not be built for fused training ({error})") from error


def check_independent(folds: list[FusedFold]) -> None:
    """Raise NotFusable if two fold models share a variable (a layer, metric or optimizer object)."""
    owner: dict[int, int] = {}
    for k, fold in enumerate(folds):
        model = fold.model
        for variable in [*model.variables, *model.metrics_variables, *model.optimizer.variables]:
            if owner.setdefault(id(variable), k) != k:
                raise NotFusable(f"the models of folds {owner[id(variable)] + 1} and {k + 1} share "
                                 f"{variable.path!r}: create every layer, metric and optimizer inside build_fn")
