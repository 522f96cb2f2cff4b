"""Fused runs that pause and continue: a candidate's fold models trained further on demand.

A search that stops losing candidates early (:func:`kfold.halving_search`, or a
pruner in :func:`kfold.grid_search`) trains a candidate's K fold models for a
few epochs, looks at the fold-mean curve, and later trains the same models
further. :class:`ContinuedFolds` is a candidate's fused run
(:class:`kfold.train.fused.runner.FusedRunner`) kept in memory between steps:
``train_to(e)`` is ``run(until=e)``, a pause that ends no callback, and the next
call continues where it stopped (weights, optimizer and callback state, epoch
orders), so training 3 epochs, pausing, then 6 more gives bit for bit the curves
of 9 epochs in one go. Its :meth:`~ContinuedFolds.state` is the run's
:class:`~kfold.train.fused.checkpoint.FusedState`, from which a new process
continues too (a search's ``run_dir``).

The graphs that the runs of one architecture share are lent by the engine's pool
(:mod:`kfold.train.fused.sharing`).
"""
from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np

from kfold.results import FoldOutcome
from kfold.train.fold import FitConfig, FoldData, FoldTask
from kfold.engines import GraphSharing
from kfold.train.fused.checkpoint import FusedState, fits
from kfold.train.fused.run import fold_outcomes, prepared_runner

__all__ = ["ContinuedFolds"]


class ContinuedFolds:
    """A candidate's K fold models, trained fused for some epochs, then further on demand.

    Parameters
    ----------
    build_fn, data, tasks, config
        As :func:`kfold.train.fused.runner.run_folds_fused` takes them;
        ``config.epochs`` is the most epochs this run may reach.
    pool : GraphSharing, optional
        Share compiled graphs with other runs of the same architecture.
    state : FusedState, optional
        Continue from this saved state (a checkpoint) instead of the start.

    Raises :class:`NotFusable` (before any training) when the fused path cannot
    train these folds, and ``KeyboardInterrupt`` after the epoch in progress on Ctrl-C.

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
                 *, pool: GraphSharing | None = None, state: FusedState | None = None) -> None:
        start = time.perf_counter()
        self.config, self.pool = config, pool
        self.runner = prepared_runner(build_fn, data, tasks, config, pool, owner=self)
        self.folds = self.runner.folds
        if fits(self.folds, state, engine=self.runner.engine):  # resumed: started as it was, then given its state
            self.runner.resume(state)
        self.fit_time = time.perf_counter() - start

    @property
    def epoch(self) -> int:
        """Epochs done so far."""
        return self.runner.epochs_done

    @property
    def stopped(self) -> bool:
        """Whether every fold has stopped (``EarlyStopping``), so training further changes nothing."""
        return all(f.stopped for f in self.folds)

    def train_to(self, epochs: int) -> None:
        """Train every fold still training until ``epochs`` epochs are done (at most ``config.epochs``)."""
        if epochs <= self.epoch or self.stopped or self.runner.ended:
            return
        start = time.perf_counter()
        if self.pool is not None:
            self.pool.acquire(self)
        self.runner.run(until=epochs)
        self.fit_time += time.perf_counter() - start
        if self.runner.interrupted:
            raise KeyboardInterrupt

    def curves(self, key: str, epochs: int | None = None) -> np.ndarray:
        """``key`` per fold and epoch (the first ``epochs``), ``(n_folds, n_epochs)``, NaN after a fold stopped."""
        n = max((len(f.history) for f in self.folds), default=0) if epochs is None else epochs
        return np.array([[logs.get(key, np.nan) for logs in f.history[:n]] + [np.nan] * (n - len(f.history[:n]))
                         for f in self.folds], dtype=float)

    def state(self) -> FusedState:
        """The joint state now (what a checkpoint holds)."""
        if self.pool is not None:
            self.pool.acquire(self)
        return self.runner.state()

    def outcomes(self) -> list[FoldOutcome]:
        """End the training (callbacks' ``on_train_end``) and return each fold's outcome; the slot is given back."""
        if self.pool is not None:
            self.pool.acquire(self)
        self.runner.end()
        outcomes = fold_outcomes(self.folds, self.config, self.fit_time / len(self.folds))
        if self.pool is not None:
            self.pool.give_back(self)
        return outcomes
