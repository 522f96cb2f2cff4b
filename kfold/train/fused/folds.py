"""Fused training, step 1: every fold's data and model, built as the sequential path builds them.

The K models come from the user's build function with each fold's seed, after
``keras.backend.clear_session()`` as in :func:`kfold.train.keras_fit.build_model`, so
they have the sequential path's initial weights and layer names (and so its log
keys). The engine (:meth:`kfold.engines.FusedEngine.prepare_fold`) then makes each
fold ready: its data as the backend's arrays, every variable created.
"""
from __future__ import annotations

import copy
import math
import time
from typing import Any, Callable

import numpy as np

from kfold.data import n_samples, take
from kfold.data import apply_preprocess, fit_preprocess
from kfold.engines import FusedEngine, FusedFold, NotFusable, get_engine
from kfold.train.callbacks import fill_paths
from kfold.train.fold import FitConfig, FoldData, FoldTask
from kfold.train.keras_fit import build_model

__all__ = ["EpochOrders", "class_weights", "GarbageSchedule", "COLLECTIONS", "COLLECT_EVERY_S", "prepare_folds"]

# A full garbage collection walks every live object: about 0.17 s once TensorFlow is imported, whatever
# there is to free, a tenth of a short fused run. A fused run forces one before its first model at most
# once in this many seconds; Python's own collections run meanwhile.
COLLECT_EVERY_S = 60.0


class GarbageSchedule:
    """When a fused run last forced a garbage collection before its first model (see :data:`COLLECT_EVERY_S`).

    One object, :data:`COLLECTIONS`, made when this module is imported and kept for the
    life of the process (it holds one number).

    Examples
    --------
    >>> schedule = GarbageSchedule()
    >>> schedule.due(), schedule.due()
    (True, False)
    """

    def __init__(self) -> None:
        self.last = -math.inf

    def due(self) -> bool:
        """Whether this fused run should collect garbage before its first model (then noted as done)."""
        now = time.monotonic()
        if now - self.last < COLLECT_EVERY_S:
            return False
        self.last = now
        return True


#: The process's schedule of forced garbage collections.
COLLECTIONS = GarbageSchedule()


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


def _prepare(engine: FusedEngine, build_fn: Callable, data: FoldData, task: FoldTask, config: FitConfig,
             free_memory: bool) -> FusedFold:
    """Preprocess the fold's rows, build its model (the engine makes it ready) and its callbacks."""
    fitted, x_train = fit_preprocess(config.preprocess, take(data.x, task.train))
    x_val = apply_preprocess(fitted, take(data.x, task.val))
    y_train, w_train = take(data.y, task.train), take(data.sample_weight, task.train)
    class_weight = config.fit_kwargs.get("class_weight")
    if class_weight:  # as model.fit: the training rows are weighted, the held-out ones are not
        if w_train is not None:
            raise NotFusable("class_weight and sample_weight cannot be used together")
        w_train = class_weights(y_train, class_weight)
    n_train = n_samples(x_train)
    shuffle = bool(config.fit_kwargs.get("shuffle", True))
    fold = FusedFold(task, None, fitted, (x_train, y_train, w_train),
                     (x_val, take(data.y, task.val), take(data.sample_weight, task.val)), n_train, n_samples(x_val),
                     [], EpochOrders(n_train, task.seed, shuffle))
    fold.model = build_model(build_fn, task.seed, free_memory=free_memory)
    engine.prepare_fold(fold)
    fold.callbacks = fill_paths(config.callbacks, fold=task.fold)
    return fold


def prepare_folds(build_fn: Callable[[], Any], data: FoldData, tasks: list[FoldTask],
                  config: FitConfig, engine: FusedEngine | None = None) -> list[FusedFold]:
    """Build every fold's model (with its seed, as the sequential path does) and data, made ready by ``engine``.

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
    engine = engine or get_engine()
    collect = COLLECTIONS.due()
    folds = [_prepare(engine, build_fn, data, task, config, free_memory=collect and i == 0)
             for i, task in enumerate(tasks)]
    engine.check_folds(folds)
    return folds
