"""Which path trains a run's folds in this process, and what happens to each fold when it ends.

``"sequential"`` is the book's loop (:func:`kfold.train.fold.run_fold` for each fold),
the readable reference. ``"fused"`` trains all fold models together in one
compiled graph (:mod:`kfold.train.fused.run`): the same curves, many times faster for
small models. ``"auto"`` fuses when the model and settings allow it and says why
not otherwise. :func:`kfold.train.run.train.train_runs` calls :func:`run_folds` for each
run in this process; :mod:`kfold.train.run.on_workers` calls it in the workers.

Every finished fold is handed to ``on_outcome`` at once (the trainer saves it to
the run directory there), so a crash later loses nothing that finished. A fold
whose training raises, or whose loss becomes NaN or infinite, fails: with
``on_error="raise"`` that stops the run with a :class:`~kfold.core.errors.FoldError`;
with ``"skip"`` the failure is recorded and the other folds go on.
"""
from __future__ import annotations

import time
import traceback
from typing import Any, Callable

from kfold.core import check_choice, fail
from kfold.executors import Executor
from kfold.train.fold import FitConfig, FoldData, FoldTask, non_finite_loss, run_fold
from kfold.core import FoldError
from kfold.core import deferring_interrupts
from kfold.results import FoldOutcome
from kfold.train.fused import NotFusable, active_pool, check_fusable, recent_graphs, run_folds_fused
from kfold.train.run.progress import FoldProgress

__all__ = ["STRATEGIES", "ON_ERROR", "check_on_error", "check_strategy", "run_folds"]

STRATEGIES = ("auto", "fused", "sequential")
ON_ERROR = ("raise", "skip")


class _Finish:
    """Checks each outcome for failure, then hands it on and reports it."""

    def __init__(self, on_error: str, on_outcome: Callable | None, progress: FoldProgress) -> None:
        self.on_error, self.on_outcome, self.progress = on_error, on_outcome, progress
        self.joint = False

    def __call__(self, outcome: FoldOutcome) -> FoldOutcome:
        if outcome.error is None:
            outcome.error = non_finite_loss(outcome.history)
        if self.on_outcome is not None:
            self.on_outcome(outcome)  # saved before anything can stop the run
        if outcome.error is not None and self.on_error == "raise":
            raise FoldError(outcome.fold, outcome.error)
        if outcome.error is not None:
            self.progress.note(f"Fold {outcome.fold + 1} failed and is left out: {outcome.error.splitlines()[-1]}")
        else:
            seconds = None if self.joint else outcome.fit_time + outcome.score_time
            self.progress.done(outcome.fold, outcome.scores, seconds)
        return outcome


def _failed(task: FoldTask) -> FoldOutcome:
    return FoldOutcome(task.fold, {}, {}, 0.0, 0.0, error=traceback.format_exc())


def _sequential(build_fn: Callable, data: FoldData, tasks: list[FoldTask], config: FitConfig,
                finish: _Finish) -> list[FoldOutcome]:
    outcomes = []
    for task in tasks:
        try:
            outcome = run_fold(build_fn, data, task, config)
        except Exception:  # noqa: BLE001 - every failure is recorded, then raised or skipped
            if finish.on_error == "raise":
                raise
            outcome = _failed(task)
        outcomes.append(finish(outcome))
    return outcomes


def _fused(build_fn: Callable, data: FoldData, tasks: list[FoldTask], config: FitConfig,
           finish: _Finish, checkpoints: Any = None) -> list[FoldOutcome]:
    start = time.perf_counter()
    # within a search (kfold.train.fused.sharing_graphs): one compiled graph per architecture;
    # else the graphs of this thread's last few architectures (a run of one of them again compiles nothing)
    outcomes = run_folds_fused(build_fn, data, tasks, config, progress=finish.progress, checkpoints=checkpoints,
                               pool=active_pool() or recent_graphs())
    finish.progress.note(f"Trained all {len(tasks)} folds together in one compiled graph in "
                         f"{time.perf_counter() - start:.1f}s (strategy=\"fused\")")
    finish.joint = True  # the folds' time is the joint time above, not a time of each
    with deferring_interrupts():  # a Ctrl-C now stops the run only once every trained fold is kept
        done = [finish(outcome) for outcome in outcomes]
    if checkpoints is not None:
        checkpoints.remove()  # every fold it held is saved now
    return done


def check_on_error(on_error: Any) -> None:
    """Raise unless ``on_error`` is ``"raise"`` or ``"skip"``.

    Examples
    --------
    >>> check_on_error("ignore")
    Traceback (most recent call last):
    ...
    ValueError: Invalid `on_error`. Expected one of 'raise', 'skip'. Received: on_error='ignore'
    """
    check_choice("on_error", on_error, ON_ERROR)


def check_strategy(strategy: Any, executor: Executor | None) -> None:
    """Raise unless ``strategy`` is known and can run on ``executor``.

    Examples
    --------
    >>> from kfold.executors import make_executor
    >>> check_strategy("fused", make_executor("sequential"))
    >>> check_strategy("fast", None)
    Traceback (most recent call last):
    ...
    ValueError: Invalid `strategy`. Expected one of 'auto', 'fused', 'sequential'. Received: strategy='fast'
    """
    check_choice("strategy", strategy, STRATEGIES)
    if strategy == "fused" and executor is not None and not executor.in_process:
        fail("strategy", '"auto" or "sequential" with a parallel executor', strategy,
             f"executor={executor.name!r} trains one fold per task; fused training runs all folds "
             "in one process: use executor=\"sequential\" for it")


def run_folds(build_fn: Callable[[], Any], data: FoldData, tasks: list[FoldTask], config: FitConfig,
              strategy: str, progress: FoldProgress, *, on_error: str = "raise",
              on_outcome: Callable[[FoldOutcome], None] | None = None,
              checkpoints: Any = None) -> tuple[list[FoldOutcome], str, str]:
    """Train every fold in this process with ``strategy``; return the outcomes, the strategy that ran and why.

    ``checkpoints`` (:class:`kfold.train.fused.checkpoint.Checkpoints`) saves and
    resumes fused training mid-run.

    Examples
    --------
    >>> import numpy as np
    >>> from kfold.train.keras_fit import doctest_model
    >>> x, y = np.random.rand(8, 2), np.random.rand(8)
    >>> tasks = [FoldTask(0, np.arange(4, 8), np.arange(4), 1), FoldTask(1, np.arange(4), np.arange(4, 8), 2)]
    >>> with FoldProgress(2, verbose=0) as progress:
    ...     _, ran, why = run_folds(doctest_model, FoldData(x, y), tasks, FitConfig(epochs=1),
    ...                             "sequential", progress)
    >>> ran, why
    ('sequential', 'strategy="sequential" was asked for')
    """
    finish = _Finish(on_error, on_outcome, progress)
    if strategy == "sequential" or not tasks:
        return _sequential(build_fn, data, tasks, config, finish), strategy, 'strategy="sequential" was asked for'
    reason = check_fusable(config)
    if reason is None:
        try:
            outcomes = _fused(build_fn, data, tasks, config, finish, checkpoints)
            return outcomes, "fused", f"all {len(tasks)} folds trained together in one compiled graph"
        except NotFusable as error:
            reason = str(error)
    if strategy == "fused":
        fail("strategy", "settings and a model that fused training supports", strategy,
             f"Fused training is not possible: {reason}. Use strategy=\"auto\" or \"sequential\"")
    progress.note(f"Training the folds one after another (strategy=\"sequential\"): {reason}")
    return _sequential(build_fn, data, tasks, config, finish), "sequential", reason


