"""Fused training: all K fold models trained together, one compiled call for one or more epochs.

``model.fit`` spends most of a small model's time on Keras' own per-step and
per-epoch work (about 7 ms a step on 2 CPU cores), not on arithmetic. The fused
path builds the K fold models exactly as the sequential path does (same build
function, same seeds, so the same initial weights: :mod:`kfold.train.fused.folds`),
then an engine (:mod:`kfold.engines`; TensorFlow's: :mod:`kfold.engines.tensorflow`)
trains them together: every fold model takes its own batches, in the sequential
path's order, from its own (preprocessed) training part with its own compiled loss,
regularization, metrics and optimizer, and is validated on its held-out part.
Nothing couples the folds: each keeps its optimizer state, global-norm clipping and all.

What is kept from ``model.fit``:

* the logs of every epoch, under Keras' names and with Keras' averaging (the
  training ``loss`` is the batch losses' mean weighted by batch size), and the
  fold's score, equal to ``model.evaluate`` on its held-out part at the end;
* partial last batches, and folds of different sizes: a fold with fewer batches
  takes fewer optimizer steps, never an extra (empty) one;
* every epoch-level Keras callback, per fold (its own deep copy, given the fold's
  model, called with the fold's logs: ``on_train_begin/end``, ``on_epoch_begin/end``,
  and ``on_test_begin/end`` around validation; :mod:`kfold.train.fused.fanout`):
  a stopped fold (``model.stop_training``, e.g. ``EarlyStopping``) is no longer
  trained while the others go on, and its history ends there; a new learning
  rate is used from the fold's next epoch. ``restore_best_weights=True`` is the
  best-weight restore;
* ``class_weight`` (per-sample weights of the training rows, as ``fit`` makes
  them) and ``validation_freq`` (validation logs only on those epochs);
* with a run directory, checkpoints of the joint state, from which a rerun
  continues bit for bit (:mod:`kfold.train.fused.checkpoint`); Ctrl-C stops after
  the epoch in progress and keeps every fold's epochs so far;
* the trained models are ordinary Keras models.

Numerics (TensorFlow engine): without XLA the logs are bit for bit those of the
sequential path. XLA fuses and reorders float32 sums, so values move by about 1e-7
relative per epoch (:mod:`kfold.engines.tensorflow.choice`). A fold's numbers do not
depend on which folds share its graph. All K copies of the data are held at once
(:data:`kfold.train.fused.fusable.MAX_FUSED_BYTES`).
"""
from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np

from kfold.core import Described, fail
from kfold.data import validation_batch_size
from kfold.engines import FusedEngine, FusedFold, NotFusable, get_engine
from kfold.results import records_to_history
from kfold.results import FoldOutcome
from kfold.results import predict_rows
from kfold.train.fold import FitConfig, FoldData, FoldTask
from kfold.train.fused.checkpoint import Checkpoints, fits
from kfold.train.fused.fanout import FoldCallbacks
from kfold.train.fused.folds import prepare_folds
from kfold.train.fused.fusable import check_data_fusable, check_fusable
from kfold.train.fused.runner import FusedRunner

__all__ = ["FusedInterrupted", "start_runner", "prepared_runner", "fold_outcomes", "run_folds_fused"]


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


def start_runner(folds: list[FusedFold], config: FitConfig, *, jit_compile: bool | None = None, pool: Any = None,
                 owner: Any = None, engine: FusedEngine | None = None, **options: Any) -> FusedRunner:
    """A runner for prepared ``folds``: the engine's session (graphs lent by ``pool``), each fold's callbacks.

    ``options``: ``progress`` and ``checkpoints`` of :class:`~kfold.train.fused.runner.FusedRunner`.

    Examples
    --------
    >>> from kfold.train.keras_fit import doctest_model
    >>> tasks = [FoldTask(0, np.arange(2, 6), np.arange(2), seed=3)]
    >>> folds = prepare_folds(doctest_model, FoldData(np.ones((6, 2)), np.ones(6)), tasks, FitConfig(epochs=2))
    >>> runner = start_runner(folds, FitConfig(epochs=2), jit_compile=False)
    >>> runner.run(); [len(f.history) for f in runner.folds]
    [2]
    """
    engine = engine or get_engine()
    session = engine.start(folds, config, jit_compile=jit_compile, pool=pool, owner=owner)
    for fold in folds:  # the fold's model is final now (a pool may have lent its own)
        fold.calls = FoldCallbacks(fold.callbacks, fold.model, {
            "verbose": 0, "epochs": config.epochs, "steps": -(-fold.n_train // config.batch_size)})
    return FusedRunner(folds, config, engine, session, **options)


def prepared_runner(build_fn: Callable[[], Any], data: FoldData, tasks: list[FoldTask], config: FitConfig,
                    pool: Any = None, owner: Any = None, **options: Any) -> FusedRunner:
    """The folds prepared (NotFusable first, if they cannot be fused) and their runner (:func:`start_runner`)."""
    reason = check_fusable(config) or check_data_fusable(data, tasks)
    if reason:
        raise NotFusable(reason)
    engine = get_engine()
    folds = prepare_folds(build_fn, data, tasks, config, engine)
    return start_runner(folds, config, pool=pool, owner=owner, engine=engine, **options)


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


def fold_outcomes(folds: list[FusedFold], config: FitConfig, share: float) -> list[FoldOutcome]:
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


def run_folds_fused(build_fn: Callable[[], Any], data: FoldData, tasks: list[FoldTask],
                    config: FitConfig, *, jit_compile: bool | None = None, progress: Any = None,
                    checkpoints: Checkpoints | None = None, pool: Any = None) -> list[FoldOutcome]:
    """Train every fold's model together; the same outcomes as :func:`kfold.train.fold.run_fold` per task.

    Raises :class:`~kfold.engines.NotFusable` (before any training) when the settings or the
    model need the sequential path. Each fold's ``fit_time`` is an equal share of the joint
    training time. ``jit_compile=None`` lets the engine choose (TensorFlow: XLA when every
    layer supports it, a plain graph if XLA fails to compile). ``progress`` (a
    :class:`kfold.train.run.progress.FoldProgress`) is moved every epoch. With ``checkpoints``,
    the joint state is saved on their schedule and a saved state that holds these folds is
    resumed from. Ctrl-C stops after the epoch in progress (a checkpoint is written) and
    raises :class:`FusedInterrupted` with every fold's outcome so far. ``pool`` (from
    :mod:`kfold.train.fused.sharing`) lends the compiled graph of earlier runs of the
    same architecture.

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
    runner = prepared_runner(build_fn, data, tasks, config, pool, jit_compile=jit_compile, progress=progress,
                             checkpoints=checkpoints)
    folds, state = runner.folds, checkpoints.load() if checkpoints is not None else None
    try:
        runner.run(state if fits(folds, state, engine=runner.engine) else None)
        outcomes = fold_outcomes(folds, config, (time.perf_counter() - start) / len(folds))
    finally:
        if pool is not None:
            pool.give_back(folds)
    if runner.interrupted and not runner.epochs_done:
        raise KeyboardInterrupt  # before the first epoch ended: nothing to return
    if runner.interrupted:
        raise FusedInterrupted(outcomes, runner.epochs_done)
    return outcomes
