"""Fused training: all K fold models trained together, one compiled call per epoch.

``model.fit`` spends most of a small model's time on Keras' own per-step and
per-epoch work (about 7 ms a step on 2 CPU cores), not on arithmetic. The fused
path builds the K fold models exactly as the sequential path does (same build
function, same seeds, so the same initial weights), then trains them together:
each epoch is one ``tf.function`` call in which every fold model takes its own
batches, in the sequential path's order, from its own (preprocessed) training
part with its own ``train_step``, so with its own compiled loss, regularization,
metrics and optimizer, and then runs its own ``test_step`` on its held-out part.
The steps run in a ``tf.while_loop`` compiled with XLA. Nothing couples the
folds: each keeps its optimizer state, global-norm clipping and all. That is the
generic graph; with XLA, two faster forms take the models they can
(:func:`kfold.train.fused.engine.make_graph`): the stacked Dense path and one
masked step for every fold (:mod:`kfold.train.fused.submodels`).

What is kept from ``model.fit``:

* the logs of every epoch, under Keras' names and with Keras' averaging (the
  training ``loss`` is the batch losses' mean weighted by batch size), and the
  fold's score, equal to ``model.evaluate`` on its held-out part at the end;
* partial last batches, and folds of different sizes: a fold with fewer batches
  takes fewer optimizer steps, never an extra (empty) one;
* every epoch-level Keras callback, per fold (its own deep copy, ``set_model``
  with the fold's model, called with the fold's logs: ``on_train_begin/end``,
  ``on_epoch_begin/end``, and ``on_test_begin/end`` around validation): a
  stopped fold (``model.stop_training``, e.g. ``EarlyStopping``) is no longer
  trained while the others go on, and its history ends there; a new learning
  rate is used from the fold's next epoch. ``restore_best_weights=True`` is the
  best-weight restore;
* ``class_weight`` (per-sample weights of the training rows, as ``fit`` makes
  them) and ``validation_freq`` (validation logs only on those epochs);
* with a run directory, checkpoints of the joint state, from which a rerun
  continues bit for bit (:mod:`kfold.train.fused.checkpoint`); Ctrl-C stops after
  the epoch in progress and keeps every fold's epochs so far;
* the trained models are ordinary Keras models.

Numerics: without XLA the logs are bit for bit those of the sequential path.
XLA fuses and reorders float32 sums, so values move by about 1e-7 relative per
epoch. Random layers compile with XLA too (:func:`kfold.train.fused.engine.use_xla`):
seeded, so the same seed gives the same histories, but other draws than
``model.fit``'s. Image convolutions train without XLA on a CPU
(:func:`kfold.train.fused.engine.xla_slower`), where TensorFlow's kernels sum by
thread: a worker with fewer threads rounds them otherwise in the last bits. A
fold's numbers do not depend on which folds share its graph.

Costs: all K copies of the data are held at once (:data:`MAX_FUSED_BYTES`). A dropped
graph's trace is freed (:mod:`kfold.core.custom_gradients`), but TensorFlow keeps every
XLA executable until the process ends (10-25 MB per architecture, BENCHMARKS.md), which
adds up over a search of many architectures (:mod:`kfold.train.fused.pool`).

What the fused path cannot run is reported by :func:`check_fusable` (callbacks, ``fit``
arguments), :func:`check_data_fusable` and :func:`kfold.train.fused.prepare.check_model_fusable`;
with ``strategy="auto"`` the trainer then uses the sequential path and says why.
"""
from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np

from kfold.core.backend import import_keras
from kfold.core.checks import Described, fail
from kfold.core.custom_gradients import forget_traced
from kfold.core.interrupts import StopAfterEpoch
from kfold.data.arrays import leaves
from kfold.train.callbacks import batch_hook
from kfold.train.fused.checkpoint import Checkpoints, FusedState, capture, fits, restore
from kfold.train.fused.prepare import FusedFold, NotFusable, check_model_fusable, prepare_folds
from kfold.train.fused.engine import epochs_per_call, make_graph, use_xla
from kfold.train.fold import FitConfig, FoldData, FoldTask
from kfold.results.history import records_to_history
from kfold.results.predictions import predict_rows
from kfold.results.outcome import FoldOutcome
from kfold.train.keras_fit import validation_batch_size

__all__ = ["NotFusable", "FusedInterrupted", "check_fusable", "check_data_fusable", "check_model_fusable",
           "use_xla", "prepare_folds", "run_folds_fused"]

# Every fold's copy of the data is held at once: above this, train the folds one by one.
MAX_FUSED_BYTES = 2 * 1024**3
# fit() arguments the fused path honours itself.
FUSED_FIT_KWARGS = ("shuffle", "class_weight", "validation_freq")


class FusedInterrupted(KeyboardInterrupt):
    """Ctrl-C during fused training: ``outcomes`` holds every fold cut at the last finished epoch.

    Examples
    --------
    >>> FusedInterrupted([], epoch=3).epoch
    3
    """

    def __init__(self, outcomes: list, epoch: int) -> None:
        super().__init__(f"fused training interrupted after epoch {epoch}")
        self.outcomes, self.epoch = outcomes, epoch


def check_fusable(config: FitConfig) -> str | None:
    """Why these training settings need the sequential path, or ``None`` if they can be fused.

    Fused training runs every callback that works per epoch (``EarlyStopping``, ``TensorBoard``,
    ``CSVLogger``, ``ReduceLROnPlateau``, ``LearningRateScheduler``, ``ModelCheckpoint``,
    ``TerminateOnNaN``, a ``LambdaCallback`` or one's own with train/epoch hooks:
    :func:`kfold.train.callbacks.batch_hook`) and the ``fit`` arguments ``shuffle``,
    ``class_weight`` and ``validation_freq``; a batch hook or any other needs a live ``fit`` loop.

    Examples
    --------
    >>> import keras
    >>> check_fusable(FitConfig(epochs=2, fit_kwargs={"class_weight": {0: 1.0, 1: 2.0}})) is None
    True
    >>> check_fusable(FitConfig(epochs=2, fit_kwargs={"steps_per_execution": 2}))
    "fit argument 'steps_per_execution' is not supported by fused training"
    >>> check_fusable(FitConfig(epochs=2, callbacks=[keras.callbacks.LambdaCallback(on_batch_end=print)]))
    'callback LambdaCallback has a batch hook (on_batch_end), which needs a live fit loop'
    """
    for key in config.fit_kwargs:
        if key not in FUSED_FIT_KWARGS:
            return f"fit argument {key!r} is not supported by fused training"
    for callback in config.callbacks:
        hook = batch_hook(callback)
        if hook is not None:
            return f"callback {type(callback).__name__} has a batch hook ({hook}), which needs a live fit loop"
    return None


def check_data_fusable(data: FoldData, tasks: list[FoldTask]) -> str | None:
    """Why the folds' data is too big to hold every fold's copy at once, or ``None``.

    Examples
    --------
    >>> tasks = [FoldTask(0, np.arange(2, 4), np.arange(2), seed=0)]
    >>> check_data_fusable(FoldData(np.zeros((4, 3)), np.zeros(4)), tasks) is None
    True
    """
    row_bytes = 0
    for part in (data.x, data.y, data.sample_weight):
        for array in leaves(part) if part is not None else []:
            itemsize = 4 if array.dtype.kind == "f" else array.dtype.itemsize  # floats become float32
            row_bytes += itemsize * int(np.prod(array.shape[1:]))
    total = row_bytes * sum(len(t.train) + len(t.val) for t in tasks)
    if total > MAX_FUSED_BYTES:
        return (f"every fold's copy of the data would be held at once "
                f"({total / 1024**3:.1f} GiB > {MAX_FUSED_BYTES / 1024**3:.0f} GiB)")
    return None


def _validates(epoch: int, validation_freq: Any) -> bool:
    """Whether ``model.fit`` reports validation logs after ``epoch`` (0-based)."""
    if isinstance(validation_freq, int):
        return (epoch + 1) % validation_freq == 0
    return epoch + 1 in validation_freq


class _Runner:
    """Runs the epochs: one graph call for the folds still training, then their callbacks."""

    def __init__(self, folds: list[FusedFold], config: FitConfig, jit_compile: bool | None, *,
                 progress: Any = None, checkpoints: Checkpoints | None = None, graphs: dict | None = None) -> None:
        self.folds, self.config = folds, config
        self.jit_compile = all(use_xla(f.model) for f in folds) if jit_compile is None else jit_compile
        # only the graph of the folds now training is kept; runs of the same models may share ``graphs``
        self._graphs: dict[tuple, Any] = {} if graphs is None else graphs
        self.per_call = 1
        self.progress, self.checkpoints = progress, checkpoints
        self.epochs_done, self.saved_at, self.interrupted = 0, None, False
        self.begun = self.ended = False  # the callbacks' on_train_begin / on_train_end were called

    # the graph implementation (kfold.train.fused.engine.make_graph) and the epochs per call
    # (engine.epochs_per_call); a call returns one list of logs per epoch
    def _call(self, active: list[FusedFold], n_epochs: int) -> list:
        key = tuple(f.task.fold for f in active)
        args = ([[next(f.orders) for _ in range(n_epochs)] for f in active],
                [f.train for f in active], [f.val for f in active])
        if key not in self._graphs:
            self._release()
            self._graphs.clear()
            self._graphs[key] = make_graph(active, self.config, self.jit_compile, self.per_call)
            return self._first_call(key, active, args)
        return self._graphs[key](*args)

    def _first_call(self, key: tuple, active: list[FusedFold], args: tuple) -> list:
        """Trace and compile; without XLA if XLA fails; NotFusable if no graph can be made."""
        graph = self._graphs[key]
        try:
            return graph(*args)
        except Exception as error:  # noqa: BLE001 - compile errors come in many types
            if not self.jit_compile:
                raise NotFusable(f"the fold models could not be traced into one graph ({error})") from error
        finally:  # traced: TensorFlow need not keep the trace of the graph's tf.function (an attribute)
            forget_traced(*vars(graph).values())
        self.jit_compile = False
        self._graphs.clear()
        self._graphs[key] = make_graph(active, self.config, False, self.per_call)
        return self._first_call(key, active, args)

    def _release(self) -> None:
        """The fold models hold the trained state again (a graph may keep its own copy while it runs)."""
        for graph in self._graphs.values():
            graph.release()

    def state(self) -> FusedState:
        """The joint state now (in memory): :func:`kfold.train.fused.checkpoint.restore` sets it back."""
        held = {key: values for graph in self._graphs.values() for key, values in graph.held_state().items()}
        return capture(self.folds, self.epochs_done, held)

    def _save(self) -> None:
        if self.checkpoints is not None and self.saved_at != self.epochs_done:
            self.checkpoints.save(self.state())
            self.saved_at = self.epochs_done

    def run(self, state: FusedState | None = None, until: int | None = None) -> None:
        """Train the epochs left (all, or those after ``state``); Ctrl-C stops after the current one.

        ``until``: stop after that many epochs. Stopping there, before the last
        epoch and with folds still training, is a pause: the callbacks'
        ``on_train_end`` is not called, :meth:`state` holds everything to continue
        later, bit for bit, with ``run(state)`` on freshly prepared folds, and
        ``run(until=...)`` again on this runner continues it in memory (without
        calling ``on_train_begin`` again). :meth:`end` ends a paused run for good.
        """
        epochs = self.config.epochs
        stop = epochs if until is None else min(until, epochs)
        if state is not None:
            restore(self.folds, state)  # fresh callbacks: started again, then given their state
            self.epochs_done = self.saved_at = state.epoch
        elif not self.begun:
            for fold in self.folds:
                fold.model.stop_training = False
                for callback in fold.callbacks:
                    callback.on_train_begin()
        else:  # continuing a pause in memory (another run may have used the models meanwhile)
            for fold in self.folds:
                fold.model.stop_training = fold.stopped
        self.begun, self.ended = True, False
        if self.progress is not None:
            self.progress.fused(len(self.folds), epochs)
            self.progress.epoch(sum(epochs if f.stopped else len(f.history) for f in self.folds),
                                [f.history[-1] for f in self.folds if f.history])
        self.per_call = epochs_per_call(self.folds, self.config)
        hard = False
        with StopAfterEpoch() as interrupt:
            try:
                while self.epochs_done < stop:
                    active = [f for f in self.folds if not f.stopped]
                    if not active:
                        break
                    due = self.checkpoints.epochs_to_next(self.epochs_done) if self.checkpoints else stop
                    n = min(self.per_call, stop - self.epochs_done, due)  # a call ends where a checkpoint is due
                    self._epochs(self.epochs_done, active, n)
                    self.epochs_done += n
                    if self.checkpoints is not None and self.checkpoints.due(self.epochs_done):
                        self._save()
                    if interrupt.requested:
                        self.interrupted = True
                        break
            except KeyboardInterrupt:  # a second Ctrl-C, or one from a callback: this epoch is lost
                self.interrupted = hard = True
                for fold in self.folds:
                    del fold.history[self.epochs_done:]
            finally:
                self._release()
        if not hard:
            self._save()  # the state after the last finished epoch (if not saved yet)
        if self.interrupted or self.epochs_done >= epochs or all(f.stopped for f in self.folds):
            self.end()

    def end(self) -> None:
        """End the training: every callback's ``on_train_end`` (once; nothing if already ended)."""
        if self.begun and not self.ended:
            self.ended = True
            for fold in self.folds:
                for callback in fold.callbacks:
                    callback.on_train_end()

    def _epochs(self, first: int, active: list[FusedFold], n: int) -> None:
        """Epochs ``first .. first + n - 1`` in one graph call (``n`` is 1 whenever a fold has callbacks)."""
        for fold in active:
            for callback in fold.callbacks:
                callback.on_epoch_begin(first)
        validation_freq = self.config.fit_kwargs.get("validation_freq", 1)
        for epoch, results in enumerate(self._call(active, n), start=first):
            validates = _validates(epoch, validation_freq)
            steps = 0
            for fold, (train_logs, val_logs) in zip(active, results):
                fold.last_val = val_logs
                if validates:
                    for callback in fold.callbacks:
                        callback.on_test_begin()
                        callback.on_test_end(dict(val_logs))
                    val_logs = {f"val_{k}": v for k, v in val_logs.items()}
                else:
                    val_logs = {}
                # sorted, as Keras' CallbackList passes (and the sequential path records) them
                logs = dict(sorted({**train_logs, **val_logs}.items()))
                fold.history.append(logs)
                for callback in fold.callbacks:
                    if type(callback) is import_keras().callbacks.TerminateOnNaN:
                        callback.on_batch_end(0, {"loss": logs.get("loss")})  # its check, once an epoch
                    callback.on_epoch_end(epoch, logs)
                fold.stopped = bool(fold.model.stop_training)
                steps += 1 + (self.config.epochs - epoch - 1 if fold.stopped else 0)
            if self.progress is not None:
                self.progress.epoch(steps, [f.history[-1] for f in active])
            if self.config.keras_verbose:
                self._print_epoch(epoch, active)

    def _print_epoch(self, epoch: int, active: list[FusedFold]) -> None:
        keys = list(active[0].history[-1])
        means = " - ".join(f"{k}: {np.mean([f.history[-1][k] for f in active]):.4f}" for k in keys)
        print(f"Epoch {epoch + 1}/{self.config.epochs} - {len(active)} folds training - mean {means}")


def _scores(fold: FusedFold, config: FitConfig) -> dict[str, float]:
    """The last epoch's validation logs, or ``model.evaluate`` if a callback restored weights."""
    restored = any(getattr(c, "restore_best_weights", False) and getattr(c, "best_weights", None) is not None
                   for c in fold.callbacks)
    if not restored:
        return dict(sorted(fold.last_val.items()))
    x, y, w = fold.val
    scores = fold.model.evaluate(x, y, sample_weight=w, return_dict=True, verbose=0,
                                 batch_size=validation_batch_size(config.batch_size, fold.n_val))
    return {k: float(v) for k, v in scores.items()}


def _predictions(fold: FusedFold, config: FitConfig) -> Any:
    """The fold's final model on its validation rows (``return_predictions=True``), else None."""
    if not config.return_predictions:
        return None
    return predict_rows(fold.model, fold.val[0], validation_batch_size(config.batch_size, fold.n_val))


def _fold_outcomes(folds: list[FusedFold], config: FitConfig, share: float) -> list[FoldOutcome]:
    """Each trained fold's outcome (scores, history, the model if kept); ``share``: each fold's ``fit_time``."""
    outcomes = []
    for fold in folds:
        start, keep = time.perf_counter(), config.return_models
        scores = _scores(fold, config)
        outcomes.append(FoldOutcome(
            fold=fold.task.fold, history=records_to_history(fold.history), scores=scores, fit_time=share,
            score_time=time.perf_counter() - start, model=fold.model if keep else None,
            preprocess=fold.preprocess if keep else None, predictions=_predictions(fold, config)))
    return outcomes


def _fused_runner(build_fn: Callable[[], Any], data: FoldData, tasks: list[FoldTask], config: FitConfig,
                  pool: Any, owner: Any = None, **options: Any) -> _Runner:
    """The folds prepared (NotFusable first, if they cannot be fused), their graphs lent by ``pool``, a runner."""
    reason = check_fusable(config) or check_data_fusable(data, tasks)
    if reason:
        raise NotFusable(reason)
    folds = prepare_folds(build_fn, data, tasks, config)
    graphs = None if pool is None else pool.lend(folds, config, owner=folds if owner is None else owner)
    return _Runner(folds, config, options.pop("jit_compile", None), graphs=graphs, **options)


def run_folds_fused(build_fn: Callable[[], Any], data: FoldData, tasks: list[FoldTask],
                    config: FitConfig, *, jit_compile: bool | None = None, progress: Any = None,
                    checkpoints: Checkpoints | None = None, pool: Any = None) -> list[FoldOutcome]:
    """Train every fold's model together; the same outcomes as :func:`kfold.train.fold.run_fold` per task.

    Raises :class:`NotFusable` (before any training) when the settings or the model need
    the sequential path. Each fold's ``fit_time`` is an equal share of the joint training
    time. ``jit_compile=None`` uses XLA when every layer supports it (and falls back to a
    plain graph if XLA fails to compile). ``progress`` (a :class:`kfold.train.progress.FoldProgress`)
    is moved every epoch. With ``checkpoints``, the joint state is saved on their schedule
    and a saved state that holds these folds is resumed from. Ctrl-C stops after the epoch
    in progress (a checkpoint is written) and raises :class:`FusedInterrupted` with every
    fold's outcome so far. ``pool`` (a :class:`~kfold.train.fused.pool.GraphPool`) lends the
    compiled graph of earlier runs of the same architecture.

    Examples
    --------
    >>> from kfold.train.keras_fit import doctest_model
    >>> x, y = np.random.rand(12, 2), np.random.rand(12)
    >>> tasks = [FoldTask(0, np.arange(6, 12), np.arange(6), 1), FoldTask(1, np.arange(6), np.arange(6, 12), 2)]
    >>> outcomes = run_folds_fused(doctest_model, FoldData(x, y), tasks, FitConfig(epochs=2, batch_size=4))
    >>> [len(o.history["val_loss"]) for o in outcomes], sorted(outcomes[0].scores)
    ([2, 2], ['loss'])
    """
    if not tasks:
        fail("tasks", "at least one fold", Described("no folds"))
    start = time.perf_counter()
    runner = _fused_runner(build_fn, data, tasks, config, pool, jit_compile=jit_compile, progress=progress,
                           checkpoints=checkpoints)
    folds, state = runner.folds, checkpoints.load() if checkpoints is not None else None
    try:
        runner.run(state if fits(folds, state) else None)
        outcomes = _fold_outcomes(folds, config, (time.perf_counter() - start) / len(folds))
    finally:
        if pool is not None:
            pool.give_back(folds)
    if runner.interrupted and not runner.epochs_done:
        raise KeyboardInterrupt  # before the first epoch ended: nothing to return
    if runner.interrupted:
        raise FusedInterrupted(outcomes, runner.epochs_done)
    return outcomes
