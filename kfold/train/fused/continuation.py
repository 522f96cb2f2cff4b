"""Fused folds that pause and continue, and compiled graphs shared by one architecture.

A search that stops losing candidates early (:func:`kfold.halving_search`, or a
pruner in :func:`kfold.grid_search`) trains a candidate's K fold models for a
few epochs, looks at the fold-mean curve, and later trains the same models
further. :class:`ContinuedFolds` keeps everything a paused run needs in memory:
each fold's model (weights, optimizer state), its callbacks (``EarlyStopping``'s
counters), its history so far and its epoch-order generator, so the next epoch
gets exactly the permutation an uninterrupted run would draw
(:func:`kfold.train.keras_fit.epoch_orders`). Training 3 epochs, pausing, then 6
more gives bit for bit the curves of 9 epochs in one go.

:class:`GraphPool` makes candidates of one architecture share one compiled
graph. The fused graph reads every trainable value, optimizer slot and the
learning rate from variables, so two candidates whose models differ only in
those values (the learning rate, the initial weights) can run the same traced
and compiled function: the pool keeps one set of K fold models per architecture
(the *slot*), and before a candidate trains, its state is copied into the
slot's variables (and the previous owner's state out of them). A 5 nodes x 3
learning rates grid then traces and compiles 5 graphs, not 15. Two models have
one architecture when their classes, layer configs, compile configs (optimizer
config without the learning rate), variable paths and shapes, batch size and
fold sizes are all equal; only models built from Keras' own classes (no custom
layer, no subclassed model, whose Python attributes could change the graph
unseen) are pooled.

Not shared with :mod:`kfold.train.fused.runner`'s ``run_folds_fused``: one
epoch's bookkeeping (callbacks, logs) is the same code as ``_Runner.run``'s loop.
"""
from __future__ import annotations

import contextlib
import contextvars
import json
import time
from typing import Any, Callable, Iterator

import numpy as np

from kfold.results.outcome import FoldOutcome
from kfold.train.fold import FitConfig, FoldData, FoldTask
from kfold.train.fused.prepare import NotFusable, prepare_folds
from kfold.train.fused.runner import _Runner, _history, _scores, check_data_fusable, check_fusable

__all__ = ["ContinuedFolds", "GraphPool", "architecture_key", "sharing_graphs", "active_pool", "train_pooled"]

_POOL: contextvars.ContextVar = contextvars.ContextVar("kfold_graph_pool", default=None)


def _state_variables(model: Any) -> list:
    """Every variable whose value is the model's training state, in a fixed order."""
    seen: dict[int, Any] = {}
    for variable in [*model.variables, *model.optimizer.variables, *model.metrics_variables]:
        seen.setdefault(id(variable), variable)
    return list(seen.values())


def architecture_key(model: Any, batch_size: int, sizes: tuple) -> str | None:
    """A string equal for two models that one compiled fused graph can train, or None.

    None (never pooled) for a model or layer class that is not Keras' own, or a
    model whose configuration cannot be read. The optimizer's learning rate is
    left out when it is a number (it is a variable in the graph).

    Examples
    --------
    >>> import keras
    >>> def build(lr, units=2):
    ...     keras.backend.clear_session()  # as kfold does before each build: the same layer names
    ...     model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(units)])
    ...     model.compile(optimizer=keras.optimizers.SGD(lr), loss="mse")
    ...     model.optimizer.build(model.trainable_variables)
    ...     return model
    >>> architecture_key(build(0.1), 8, (4,)) == architecture_key(build(0.5), 8, (4,))
    True
    >>> architecture_key(build(0.1), 8, (4,)) == architecture_key(build(0.1, units=3), 8, (4,))
    False
    """
    classes = [type(model), *(type(layer) for layer in model._flatten_layers(include_self=False))]
    if any(not cls.__module__.startswith("keras.") for cls in classes):
        return None
    try:
        compiled = model.get_compile_config()
        config = model.get_config()
    except Exception:  # noqa: BLE001 - a model without configs is simply not pooled
        return None
    optimizer = (compiled or {}).get("optimizer")
    if isinstance(optimizer, dict) and isinstance(optimizer.get("config", {}).get("learning_rate"), float):
        optimizer = {**optimizer, "config": {**optimizer["config"], "learning_rate": "<variable>"}}
        compiled = {**compiled, "optimizer": optimizer}
    variables = [(v.path, tuple(v.shape), str(v.dtype)) for v in _state_variables(model)]
    parts = [[c.__module__ + "." + c.__qualname__ for c in classes], config, compiled, variables,
             batch_size, list(sizes)]
    return json.dumps(parts, sort_keys=True, default=repr)


class _Slot:
    """One architecture's fold models and compiled graphs, and which candidate's state they hold."""

    def __init__(self, models: list) -> None:
        self.models = models
        self.graphs: dict = {}
        self.jit_compile: bool | None = None
        self.owner: "ContinuedFolds | None" = None


class GraphPool:
    """Compiled fused graphs shared by the candidates of a search that have one architecture.

    ``traces`` counts the graphs traced (and, with XLA, compiled) so far, over
    every slot: the number a test or a benchmark reads.

    Examples
    --------
    >>> pool = GraphPool()
    >>> pool.traces, len(pool.slots)
    (0, 0)
    """

    def __init__(self) -> None:
        self.slots: dict[str, _Slot] = {}
        self._private: list[_Slot] = []
        self._released = 0  # traces of private slots already let go

    def slot_for(self, key: str | None, models: list) -> _Slot:
        """The slot of ``key`` (created with ``models`` the first time); a private slot for None."""
        if key is None:
            slot = _Slot(models)
            self._private.append(slot)
            return slot
        return self.slots.setdefault(key, _Slot(models))

    def release(self, slot: _Slot) -> None:
        """Let a private slot (its models and graphs) go once its candidate is done; its traces stay counted."""
        if any(s is slot for s in self._private):
            self._released += _traces(slot)
            self._private = [s for s in self._private if s is not slot]

    @property
    def traces(self) -> int:
        """Graphs traced so far (each ``tf.function`` counts its own traces)."""
        return self._released + sum(_traces(slot) for slot in [*self.slots.values(), *self._private])


def _traces(slot: _Slot) -> int:
    return sum(graph._function.experimental_get_tracing_count() for graph in slot.graphs.values())


class _Epochs(_Runner):
    """``_Runner`` driven one epoch at a time, with its graphs kept in a slot."""

    def __init__(self, folds: list, config: FitConfig, slot: _Slot, jit_compile: bool | None) -> None:
        super().__init__(folds, config, jit_compile if slot.jit_compile is None else slot.jit_compile)
        self.slot = slot
        slot.jit_compile = self.jit_compile
        self._graphs = slot.graphs

    def _first_call(self, key: tuple, active: list, args: tuple) -> list:
        try:
            return super()._first_call(key, active, args)
        finally:  # XLA may have been given up: every candidate of the slot follows
            self.slot.jit_compile, self.slot.graphs = self.jit_compile, self._graphs

    def epoch(self, epoch: int) -> None:
        """Train the folds still training for epoch ``epoch`` (0-based); the body of ``_Runner.run``."""
        active = [f for f in self.folds if not f.stopped]
        if not active:
            return
        for fold in active:
            for callback in fold.callbacks:
                callback.on_epoch_begin(epoch)
        for fold, (train_logs, val_logs) in zip(active, self._call(active)):
            logs = dict(sorted({**train_logs, **{f"val_{k}": v for k, v in val_logs.items()}}.items()))
            fold.history.append(logs)
            fold.last_val = val_logs
            for callback in fold.callbacks:
                callback.on_epoch_end(epoch, logs)
            fold.stopped = bool(fold.model.stop_training)
        if self.config.keras_verbose:
            self._print_epoch(epoch, active)


class ContinuedFolds:
    """A candidate's K fold models, trained fused for some epochs, then further on demand.

    Parameters
    ----------
    build_fn, data, tasks, config
        As :func:`kfold.train.fused.runner.run_folds_fused` takes them;
        ``config.epochs`` is the most epochs this run may reach.
    pool : GraphPool, optional
        Share compiled graphs with other candidates of the same architecture.
    jit_compile : bool, optional
        As in ``run_folds_fused``.

    Raises :class:`NotFusable` (before any training) when the fused path cannot
    train these folds.

    Examples
    --------
    >>> from kfold.train.keras_fit import doctest_model
    >>> x, y = np.random.rand(12, 2), np.random.rand(12)
    >>> tasks = [FoldTask(0, np.arange(6, 12), np.arange(6), 1), FoldTask(1, np.arange(6), np.arange(6, 12), 2)]
    >>> run = ContinuedFolds(doctest_model, FoldData(x, y), tasks, FitConfig(epochs=5, batch_size=4))
    >>> run.train_to(2); run.epoch, run.curves("val_loss").shape
    (2, (2, 2))
    >>> run.train_to(5); [len(o.history["loss"]) for o in run.outcomes()]
    [5, 5]
    """

    def __init__(self, build_fn: Callable[[], Any], data: FoldData, tasks: list[FoldTask], config: FitConfig,
                 *, pool: GraphPool | None = None, jit_compile: bool | None = None) -> None:
        reason = check_fusable(config) or check_data_fusable(data, tasks)
        if reason:
            raise NotFusable(reason)
        start = time.perf_counter()
        self.config, self.epoch, self._state, self._done = config, 0, None, False
        self.folds = prepare_folds(build_fn, data, tasks, config)
        self._own = [f.model for f in self.folds]
        self.pool = pool = pool or GraphPool()
        sizes = tuple((f.n_train, f.n_val) for f in self.folds)
        keys = {architecture_key(m, config.batch_size, sizes) for m in self._own}
        # a returned model must stay this candidate's: such runs never lend their models to a slot
        key = keys.pop() if len(keys) == 1 and not config.return_model else None
        self.slot = pool.slot_for(key, self._own)
        if self.slot.models is not self._own:  # a shared slot: keep only our state, train its models
            self._state = [[v.numpy() for v in _state_variables(m)] for m in self._own]
            for fold, model in zip(self.folds, self.slot.models):
                fold.model = model
                for callback in fold.callbacks:
                    callback.set_model(model)
            if not config.return_model:
                self._own = None
        else:
            self.slot.owner = self
        self._epochs = _Epochs(self.folds, config, self.slot, jit_compile)
        for fold in self.folds:
            fold.model.stop_training = False
            for callback in fold.callbacks:
                callback.on_train_begin()
        self.fit_time = time.perf_counter() - start
        self.finished = False

    def _swap_in(self) -> None:
        """Put this candidate's state into the slot's models (saving the previous owner's)."""
        owner = self.slot.owner
        if owner is self:
            return
        if self._done:
            raise RuntimeError("this run's outcomes were taken: its state is no longer kept")
        if owner is not None:
            owner._state = [[v.numpy() for v in _state_variables(m)] for m in self.slot.models]
        for model, values in zip(self.slot.models, self._state):
            for variable, value in zip(_state_variables(model), values):
                variable.assign(value)
        self._state, self.slot.owner = None, self

    @property
    def stopped(self) -> bool:
        """Whether every fold has stopped (``EarlyStopping``), so training further changes nothing."""
        return all(f.stopped for f in self.folds)

    def train_to(self, epochs: int) -> None:
        """Train every fold still training until ``epochs`` epochs are done (at most ``config.epochs``)."""
        epochs = min(int(epochs), self.config.epochs)
        if epochs <= self.epoch or self.stopped:
            self.epoch = max(self.epoch, epochs)
            return
        start = time.perf_counter()
        self._swap_in()
        for fold in self.folds:  # the slot's models may have been another candidate's
            fold.model.stop_training = fold.stopped
        for epoch in range(self.epoch, epochs):
            self._epochs.epoch(epoch)
            self.epoch = epoch + 1
            if self.stopped:
                break
        self.epoch = max(self.epoch, epochs)
        self.fit_time += time.perf_counter() - start

    def curves(self, key: str) -> np.ndarray:
        """``key`` per fold and epoch so far, ``(n_folds, n_epochs)``, NaN after a fold stopped."""
        n = max((len(f.history) for f in self.folds), default=0)
        return np.array([[logs.get(key, np.nan) for logs in f.history] + [np.nan] * (n - len(f.history))
                         for f in self.folds], dtype=float)

    def outcomes(self) -> list[FoldOutcome]:
        """End the training (callbacks' ``on_train_end``) and return each fold's outcome.

        The fold models are the slot's, holding this candidate's final state,
        until another candidate of the slot trains; with ``config.return_model``
        each outcome gets a model of its own with that state.
        """
        self._swap_in()
        if not self.finished:
            for fold in self.folds:
                for callback in fold.callbacks:
                    callback.on_train_end()
            self.finished = True
        share = self.fit_time / len(self.folds)
        outcomes = []
        for k, fold in enumerate(self.folds):
            start = time.perf_counter()
            scores = _scores(fold, self.config) if fold.history else {}
            model = None
            if self.config.return_model:
                model = self._own[k]
                if model is not fold.model:
                    for target, source in zip(_state_variables(model), _state_variables(fold.model)):
                        target.assign(source)
            outcomes.append(FoldOutcome(
                fold=fold.task.fold, history=_history(fold.history), scores=scores, fit_time=share,
                score_time=time.perf_counter() - start, model=model,
                preprocess=fold.preprocess if self.config.return_model else None))
        self.pool.release(self.slot)
        if self.slot.owner is self:  # done: the next candidate of the slot need not save this state
            self.slot.owner = None
        self._done = True
        return outcomes


@contextlib.contextmanager
def sharing_graphs(pool: GraphPool | None = None) -> Iterator[GraphPool]:
    """Within the block, fused runs of one architecture share compiled graphs (one pool).

    What a search wraps around its candidates' ``cross_validate`` calls;
    :func:`kfold.train.strategy.run_folds` then trains fused folds with
    :func:`train_pooled`.

    Examples
    --------
    >>> with sharing_graphs() as pool:
    ...     active_pool() is pool
    True
    >>> active_pool() is None
    True
    """
    pool = pool or GraphPool()
    token = _POOL.set(pool)
    try:
        yield pool
    finally:
        _POOL.reset(token)


def active_pool() -> GraphPool | None:
    """The pool of the enclosing :func:`sharing_graphs` block, or None."""
    return _POOL.get()


def train_pooled(build_fn: Callable[[], Any], data: FoldData, tasks: list[FoldTask], config: FitConfig,
                 pool: GraphPool) -> list[FoldOutcome]:
    """``run_folds_fused``'s outcomes, training with (and adding to) ``pool``'s compiled graphs.

    Examples
    --------
    >>> from kfold.train.keras_fit import doctest_model
    >>> x, y = np.random.rand(12, 2), np.random.rand(12)
    >>> tasks = [FoldTask(0, np.arange(6, 12), np.arange(6), 1), FoldTask(1, np.arange(6), np.arange(6, 12), 2)]
    >>> pool = GraphPool()
    >>> for lr in (0.1, 0.2):
    ...     _ = train_pooled(doctest_model, FoldData(x, y), tasks, FitConfig(epochs=2, batch_size=4), pool)
    >>> pool.traces
    1
    """
    run = ContinuedFolds(build_fn, data, tasks, config, pool=pool)
    run.train_to(config.epochs)
    return run.outcomes()
