"""Fused training, step 2: the epochs of every fold, trained by the engine, with their callbacks.

:class:`FusedRunner` asks the engine's session (:class:`kfold.engines.FusedSession`)
to train the folds still training for one or more epochs at a time, then gives each
fold its epoch's logs, runs its callbacks (:class:`~kfold.train.fused.fanout.FoldCallbacks`),
moves the progress bar and writes checkpoints on their schedule. It knows nothing of
the backend: a fold that stops (``model.stop_training``, e.g. ``EarlyStopping``) is
no longer trained while the others go on, and its history ends there.

Ctrl-C stops after the epoch in progress and keeps every fold's epochs so far; a
run can pause (``run(until=...)``) and go on later, in memory or from its state.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from kfold.core import StopAfterEpoch
from kfold.engines import FusedEngine, FusedFold, FusedSession
from kfold.train.fold import FitConfig
from kfold.train.fused.checkpoint import Checkpoints, FusedState, capture, restore

__all__ = ["FusedRunner"]


def _validates(epoch: int, validation_freq: Any) -> bool:
    """Whether ``model.fit`` reports validation logs after ``epoch`` (0-based)."""
    if isinstance(validation_freq, int):
        return (epoch + 1) % validation_freq == 0
    return epoch + 1 in validation_freq


class FusedRunner:
    """Runs the epochs: one engine call for the folds still training, then their callbacks.

    Made for one run (or one candidate kept in memory between the steps of a
    search) with the engine's session that trains its folds.
    """

    def __init__(self, folds: list[FusedFold], config: FitConfig, engine: FusedEngine, session: FusedSession, *,
                 progress: Any = None, checkpoints: Checkpoints | None = None) -> None:
        self.folds, self.config, self.engine, self.session = folds, config, engine, session
        self.progress, self.checkpoints = progress, checkpoints
        self.epochs_done, self.saved_at, self.interrupted = 0, None, False
        self.begun = self.ended = False  # the callbacks' on_train_begin / on_train_end were called

    def state(self) -> FusedState:
        """The joint state now (in memory): :func:`kfold.train.fused.checkpoint.restore` sets it back."""
        return capture(self.folds, self.epochs_done, self.session.held_state(), engine=self.engine)

    def _save(self) -> None:
        if self.checkpoints is not None and self.saved_at != self.epochs_done:
            self.checkpoints.save(self.state())
            self.saved_at = self.epochs_done

    def resume(self, state: FusedState) -> None:
        """Set ``state`` back on the (freshly prepared) folds: training goes on after its epoch."""
        restore(self.folds, state, engine=self.engine)  # fresh callbacks: started again, then given their state
        self.epochs_done = self.saved_at = state.epoch
        self.begun = True

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
            self.resume(state)
        elif not self.begun:
            for fold in self.folds:
                fold.model.stop_training = False
                fold.calls.train_begin()
        else:  # continuing a pause in memory (another run may have used the models meanwhile)
            for fold in self.folds:
                fold.model.stop_training = fold.stopped
        self.begun, self.ended = True, False
        if self.progress is not None:
            self.progress.fused(len(self.folds), epochs)
            self.progress.epoch(sum(epochs if f.stopped else len(f.history) for f in self.folds),
                                [f.history[-1] for f in self.folds if f.history])
        hard = False
        with StopAfterEpoch() as interrupt:
            try:
                while self.epochs_done < stop:
                    active = [f for f in self.folds if not f.stopped]
                    if not active:
                        break
                    due = self.checkpoints.epochs_to_next(self.epochs_done) if self.checkpoints else stop
                    n = min(self.session.epochs_per_call, stop - self.epochs_done, due)  # a call ends at a checkpoint
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
                self.session.release()
        if not hard:
            self._save()  # the state after the last finished epoch (if not saved yet)
        if self.interrupted or self.epochs_done >= epochs or all(f.stopped for f in self.folds):
            self.end()

    def end(self) -> None:
        """End the training: every callback's ``on_train_end`` (once; nothing if already ended)."""
        if self.begun and not self.ended:
            self.ended = True
            for fold in self.folds:
                fold.calls.train_end()

    def _epochs(self, first: int, active: list[FusedFold], n: int) -> None:
        """Epochs ``first .. first + n - 1`` in one engine call (``n`` is 1 whenever a fold has callbacks)."""
        for fold in active:
            fold.calls.epoch_begin(first)
        validation_freq = self.config.fit_kwargs.get("validation_freq", 1)
        orders = [[next(f.orders) for _ in range(n)] for f in active]
        for epoch, results in enumerate(self.session.train(active, orders), start=first):
            validates = _validates(epoch, validation_freq)
            steps = 0
            for fold, (train_logs, val_logs) in zip(active, results):
                fold.last_val = val_logs
                if validates:
                    fold.calls.validated(val_logs)
                    val_logs = {f"val_{k}": v for k, v in val_logs.items()}
                else:
                    val_logs = {}
                # sorted, as Keras' CallbackList passes (and the sequential path records) them
                logs = dict(sorted({**train_logs, **val_logs}.items()))
                fold.history.append(logs)
                fold.calls.epoch_end(epoch, logs)
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
