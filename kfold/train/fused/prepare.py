"""Fused training, step 1: every fold's data and model, built as the sequential path builds them.

The K models come from the user's build function with each fold's seed, after
``keras.backend.clear_session()`` as in :func:`kfold.train.keras_fit.build_model`, so
they have the sequential path's initial weights and layer names (and so its log
keys). Each is then built completely (weights, metrics, optimizer state) before
anything is compiled, and the models must not share any variable.
"""
from __future__ import annotations

import copy
import dataclasses
import math
import time
from typing import Any, Callable, Iterator

import numpy as np

from kfold.core.backend import import_keras, import_tensorflow
from kfold.data.arrays import n_samples, take
from kfold.data.arrays import to_tensors
from kfold.train.fold import FitConfig, FoldData, FoldTask
from kfold.data.preprocessing import apply_preprocess, fit_preprocess
from kfold.train.callbacks import fill_paths
from kfold.train.keras_fit import build_model

__all__ = ["NotFusable", "check_model_fusable", "EpochOrders", "class_weights", "FusedFold", "prepare_folds",
           "COLLECT_EVERY_S"]


class NotFusable(ValueError):
    """Raised when the fused path cannot train these folds; the message says why.

    Examples
    --------
    >>> str(NotFusable("fit_kwargs 'class_weight'"))
    "fit_kwargs 'class_weight'"
    """


def check_model_fusable(model: Any) -> str | None:
    """Why this built model needs the sequential path, or ``None`` if it can be fused.

    Examples
    --------
    >>> from kfold.train.keras_fit import doctest_model
    >>> check_model_fusable(doctest_model()) is None
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


class EpochOrders:
    """The training order of every epoch, as :func:`kfold.train.keras_fit.epoch_orders` draws it, with a state.

    ``state`` (the generator's state, plain data) can be saved and set back, so a
    resumed run draws the orders an uninterrupted run would have drawn.

    Examples
    --------
    >>> from kfold.train.keras_fit import epoch_orders
    >>> orders, reference = EpochOrders(5, seed=0), epoch_orders(5, seed=0)
    >>> state = orders.state
    >>> bool((next(orders) == next(reference)).all())
    True
    >>> orders.state = state
    >>> bool((next(orders) == next(epoch_orders(5, seed=0))).all())
    True
    """

    def __init__(self, n: int, seed: int, shuffle: bool = True) -> None:
        self.n, self.shuffle = n, shuffle
        self._rng = np.random.default_rng(seed)

    def __iter__(self) -> "EpochOrders":
        return self

    def __next__(self) -> np.ndarray:
        return self._rng.permutation(self.n) if self.shuffle else np.arange(self.n)

    @property
    def state(self) -> dict:
        """The random generator's state (a dict of plain values)."""
        return copy.deepcopy(self._rng.bit_generator.state)

    @state.setter
    def state(self, value: dict) -> None:
        self._rng.bit_generator.state = copy.deepcopy(value)


def class_weights(y: Any, class_weight: dict) -> np.ndarray:
    """Per-sample weights from ``class_weight``, as ``model.fit`` makes them (float32).

    A class missing from ``class_weight`` weighs 1; one-hot ``y`` counts by its
    largest entry, a single column or a vector by its value.

    Examples
    --------
    >>> class_weights(np.array([0, 1, 1, 2]), {1: 2.0, 2: 0.5})
    array([1. , 2. , 2. , 0.5], dtype=float32)
    >>> class_weights(np.eye(2)[[1, 0]], {0: 0.5, 1: 3.0})
    array([3. , 0.5], dtype=float32)
    """
    if isinstance(y, (dict, list, tuple)):
        raise NotFusable("class_weight is only supported for models with a single output")
    table = np.array([class_weight.get(int(c), 1.0) for c in range(max(class_weight) + 1)], dtype=np.float32)
    y = np.asarray(y)
    if y.ndim >= 2 and y.shape[-1] > 1:
        classes = np.argmax(y, axis=-1)
    else:
        classes = np.rint(y.reshape(len(y), -1)[:, 0] if y.ndim >= 2 else y).astype(np.int64)
    if classes.size and (classes.min() < 0 or classes.max() >= len(table)):
        raise NotFusable(f"class_weight has no entry for class {int(classes.max())}")  # fit says more
    return table[classes]


@dataclasses.dataclass
class FusedFold:
    """One fold's model, data (as tensors), callbacks, epoch orders and logs so far.

    Examples
    --------
    >>> from kfold.train.keras_fit import doctest_model
    >>> task = FoldTask(0, np.arange(2, 6), np.arange(2), seed=3)
    >>> fold = prepare_folds(doctest_model, FoldData(np.ones((6, 2)), np.ones(6)), [task], FitConfig(epochs=1))[0]
    >>> fold.n_train, fold.n_val, fold.stopped
    (4, 2, False)
    """

    task: FoldTask
    model: Any
    preprocess: Any
    train: tuple
    val: tuple
    n_train: int
    n_val: int
    callbacks: list
    orders: Iterator[np.ndarray]
    history: list = dataclasses.field(default_factory=list)
    last_val: dict = dataclasses.field(default_factory=dict)
    stopped: bool = False


def _symbolic_batch(part: Any) -> Any:
    """Shapes and dtypes of a batch of ``part`` (tensors), for building the model."""
    keras, tf = import_keras(), import_tensorflow()
    if part is None:
        return None
    return tf.nest.map_structure(lambda t: keras.KerasTensor((None, *t.shape[1:]), t.dtype.name), part)


# A full garbage collection walks every live object: about 0.17 s once TensorFlow is imported, whatever
# there is to free, a tenth of a short fused run. A fused run forces one before its first model at most
# once in this many seconds; Python's own collections run meanwhile.
COLLECT_EVERY_S = 60.0
_last_collection = [-math.inf]


def _collection_due() -> bool:
    """Whether this fused run should collect garbage before its first model (then noted as done)."""
    now = time.monotonic()
    if now - _last_collection[0] < COLLECT_EVERY_S:
        return False
    _last_collection[0] = now
    return True


def _build_state(model: Any, train: tuple) -> None:
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
    model._symbolic_build(data_batch=tuple(_symbolic_batch(p) for p in train))


def _prepare(build_fn: Callable, data: FoldData, task: FoldTask, config: FitConfig,
             free_memory: bool) -> FusedFold:
    """Preprocess the fold's rows, build its model (weights, metrics, optimizer) and callbacks."""
    fitted, x_train = fit_preprocess(config.preprocess, take(data.x, task.train))
    x_val = apply_preprocess(fitted, take(data.x, task.val))
    y_train, w_train = take(data.y, task.train), take(data.sample_weight, task.train)
    class_weight = config.fit_kwargs.get("class_weight")
    if class_weight:  # as model.fit: the training rows are weighted, the held-out ones are not
        if w_train is not None:
            raise NotFusable("class_weight and sample_weight cannot be used together")
        w_train = class_weights(y_train, class_weight)
    train = tuple(to_tensors(p) for p in (x_train, y_train, w_train))
    val = tuple(to_tensors(p) for p in (x_val, take(data.y, task.val), take(data.sample_weight, task.val)))
    model = build_model(build_fn, task.seed, free_memory=free_memory)
    reason = check_model_fusable(model)
    if reason:
        raise NotFusable(reason)
    try:  # create every variable now: the compiled graph may not create any
        _build_state(model, train)
    except Exception as error:  # noqa: BLE001 - any failure means "run it sequentially"
        raise NotFusable(f"the model could not be built for fused training ({error})") from error
    n_train = n_samples(x_train)
    callbacks = fill_paths(config.callbacks, fold=task.fold)
    for callback in callbacks:
        callback.set_model(model)
        callback.set_params({"verbose": 0, "epochs": config.epochs,
                             "steps": -(-n_train // config.batch_size)})
    shuffle = bool(config.fit_kwargs.get("shuffle", True))
    return FusedFold(task, model, fitted, train, val, n_train, n_samples(x_val), callbacks,
                     EpochOrders(n_train, task.seed, shuffle))


def _check_independent(folds: list[FusedFold]) -> None:
    """Raise NotFusable if two fold models share a variable (a layer, metric or optimizer object)."""
    owner: dict[int, int] = {}
    for k, fold in enumerate(folds):
        model = fold.model
        for variable in [*model.variables, *model.metrics_variables, *model.optimizer.variables]:
            if owner.setdefault(id(variable), k) != k:
                raise NotFusable(f"the models of folds {owner[id(variable)] + 1} and {k + 1} share "
                                 f"{variable.path!r}: create every layer, metric and optimizer inside build_fn")


def prepare_folds(build_fn: Callable[[], Any], data: FoldData, tasks: list[FoldTask],
                  config: FitConfig) -> list[FusedFold]:
    """Build every fold's model (with its seed, as the sequential path does) and data.

    Keras' session is cleared before each model, as in :func:`kfold.train.keras_fit.build_model`
    (so layer names, and the log keys derived from them, are those of the
    sequential path), but garbage is collected at most once (see :data:`COLLECT_EVERY_S`).

    Examples
    --------
    >>> from kfold.train.keras_fit import doctest_model
    >>> tasks = [FoldTask(0, np.arange(2, 6), np.arange(2), seed=3)]
    >>> [f.model.count_params() for f in prepare_folds(doctest_model, FoldData(np.ones((6, 2)), np.ones(6)),
    ...                                                 tasks, FitConfig(epochs=1))]
    [3]
    """
    collect = _collection_due()
    folds = [_prepare(build_fn, data, task, config, free_memory=collect and i == 0) for i, task in enumerate(tasks)]
    _check_independent(folds)
    return folds
