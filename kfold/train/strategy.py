"""Which path trains the folds, and what happens to each fold when it ends.

``"sequential"`` is the book's loop (:func:`kfold.train.fold.run_fold` for each fold),
the readable reference. ``"fused"`` trains all fold models together in one
compiled graph (:mod:`kfold.train.fused.runner`): the same curves, many times faster for
small models. ``"auto"`` fuses when the model and settings allow it and says why
not otherwise. With an executor other than ``"sequential"`` (worker processes, a
Dask cluster), each fold is one task, trained by :func:`~kfold.train.fold.run_fold` in
a worker, and the folds come back as they finish.

Every finished fold is handed to ``on_outcome`` at once (the trainer saves it to
the run directory there), so a crash later loses nothing that finished. A fold
whose training raises, or whose loss becomes NaN or infinite, fails: with
``on_error="raise"`` that stops the run with a :class:`~kfold.train.fold.FoldError`;
with ``"skip"`` the failure is recorded and the other folds go on.
"""
from __future__ import annotations

import functools
import traceback
from typing import Any, Callable, NamedTuple

from kfold.core.checks import check_choice, fail
from kfold.executors.base import Executor, TaskError
from kfold.train.fold import FitConfig, FoldData, FoldTask, non_finite_loss, run_fold
from kfold.core.errors import FoldError
from kfold.results.outcome import FoldOutcome
from kfold.train.fused.runner import NotFusable, check_fusable, run_folds_fused
from kfold.train.fused.continuation import active_pool, train_pooled
from kfold.train.progress import FoldProgress

__all__ = ["STRATEGIES", "ON_ERROR", "check_strategy", "run_folds", "CandidateFold", "run_candidate_fold", "run_many"]

STRATEGIES = ("auto", "fused", "sequential")
ON_ERROR = ("raise", "skip")


class _Finish:
    """Checks each outcome for failure, then hands it on and reports it."""

    def __init__(self, on_error: str, on_outcome: Callable | None, progress: FoldProgress) -> None:
        self.on_error, self.on_outcome, self.progress = on_error, on_outcome, progress

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
            self.progress.done(outcome.fold, outcome.scores, outcome.fit_time + outcome.score_time)
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
           finish: _Finish) -> list[FoldOutcome]:
    pool = active_pool()  # issue 14: within a search, one compiled graph per architecture
    outcomes = run_folds_fused(build_fn, data, tasks, config) if pool is None else \
        train_pooled(build_fn, data, tasks, config, pool)
    finish.progress.note(f"Trained all {len(tasks)} folds together in one compiled graph (strategy=\"fused\")")
    return [finish(outcome) for outcome in outcomes]


def _on_executor(build_fn: Callable, data: FoldData, tasks: list[FoldTask], config: FitConfig,
                 finish: _Finish, executor: Executor) -> list[FoldOutcome]:
    """One task per fold on ``executor``; each outcome is finished (saved) as it arrives."""
    fold_fn = functools.partial(run_fold, build_fn, config=config)
    return [finish(_received(task.fold, outcome, finish.on_error))
            for task, outcome in executor.run(fold_fn, data, tasks)]


def _received(fold: int, outcome: Any, on_error: str) -> FoldOutcome:
    """A worker's outcome; a failed task becomes a failed fold, or is raised."""
    if not isinstance(outcome, TaskError):
        return outcome
    if on_error == "raise":
        raise outcome.to_exception()  # leaving the executor's loop stops the other tasks
    return FoldOutcome(fold, {}, {}, 0.0, 0.0, error=str(outcome.to_exception()))


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
              executor: Executor | None = None) -> tuple[list[FoldOutcome], str, str]:
    """Train every fold with ``strategy``; return the outcomes, the strategy that ran and why.

    With an ``executor`` that runs elsewhere (worker processes, Dask), each fold
    is one task trained by ``model.fit`` in a worker: ``strategy="fused"`` is
    refused there, ``"auto"`` runs sequentially in each worker.

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
    check_strategy(strategy, executor)
    check_choice("on_error", on_error, ON_ERROR)
    finish = _Finish(on_error, on_outcome, progress)
    if executor is not None and not executor.in_process:
        why = f"executor={executor.name!r} trains one fold per task on {executor.n_workers} workers"
        return _on_executor(build_fn, data, tasks, config, finish, executor), "sequential", why
    if strategy == "sequential" or not tasks:
        return _sequential(build_fn, data, tasks, config, finish), strategy, 'strategy="sequential" was asked for'
    reason = check_fusable(config)
    if reason is None:
        try:
            outcomes = _fused(build_fn, data, tasks, config, finish)
            return outcomes, "fused", f"all {len(tasks)} folds trained together in one compiled graph"
        except NotFusable as error:
            reason = str(error)
    if strategy == "fused":
        fail("strategy", "settings and a model that fused training supports", strategy,
             f"Fused training is not possible: {reason}. Use strategy=\"auto\" or \"sequential\"")
    progress.note(f"Training the folds one after another (strategy=\"sequential\"): {reason}")
    return _sequential(build_fn, data, tasks, config, finish), "sequential", reason


class CandidateFold(NamedTuple):
    """One fold of one candidate of a search: the unit of work sent to a worker.

    Examples
    --------
    >>> import numpy as np
    >>> CandidateFold(2, FoldTask(0, np.arange(2, 4), np.arange(2), seed=0)).candidate
    2
    """

    candidate: int  #: 0-based candidate number
    fold: FoldTask


def run_candidate_fold(jobs: list[tuple[Callable, FitConfig]], data: FoldData, task: CandidateFold) -> FoldOutcome:
    """Train ``task``'s fold with its candidate's build function and settings (``jobs[candidate]``).

    Examples
    --------
    >>> import numpy as np
    >>> from kfold.train.keras_fit import doctest_model
    >>> task = CandidateFold(1, FoldTask(0, np.arange(2, 8), np.arange(2), seed=0))
    >>> jobs = [(None, None), (doctest_model, FitConfig(epochs=2))]
    >>> len(run_candidate_fold(jobs, FoldData(np.random.rand(8, 2), np.random.rand(8)), task).history["loss"])
    2
    """
    build_fn, config = jobs[task.candidate]
    return run_fold(build_fn, data, task.fold, config)


class _OfCandidate:
    """A candidate's view of the search's progress bar: its folds are named "Candidate 2, fold 3/5"."""

    def __init__(self, progress: FoldProgress, candidate: int, n_folds: int) -> None:
        self.progress, self.candidate, self.n_folds = progress, candidate, n_folds

    def note(self, message: str) -> None:
        self.progress.note(f"Candidate {self.candidate + 1}: {message}")

    def done(self, index: int, scores: dict[str, float], seconds: float) -> None:
        name = f"Candidate {self.candidate + 1}, fold {index + 1}/{self.n_folds}"
        self.progress.done(index, scores, seconds, name=name)


def run_many(runs: list[Any], executor: Executor, *, strategy: str, on_error: str, verbose: int) -> None:
    """Send the missing folds of every run (a search's candidates) to ``executor`` at once.

    Every fold of every candidate is one task, so no worker waits for a candidate
    to finish. Each outcome goes to its run (:class:`kfold.train.cross_validation.PlannedRun`),
    which keeps and saves it the moment it arrives. All runs share the data.

    Examples
    --------
    >>> import numpy as np
    >>> from kfold.executors import make_executor
    >>> from kfold.train.cross_validation import plan_run
    >>> from kfold.train.keras_fit import doctest_model
    >>> x, y = np.random.rand(8, 2), np.random.rand(8)
    >>> runs = [plan_run(doctest_model, x, y, cv=2, epochs=1, seed=0, verbose=0) for _ in range(2)]
    >>> run_many(runs, make_executor("sequential"), strategy="auto", on_error="raise", verbose=0)
    >>> [sorted(o.fold for o in run.finished) for run in runs]
    [[0, 1], [0, 1]]
    """
    check_strategy(strategy, executor)
    check_choice("on_error", on_error, ON_ERROR)
    tasks = [CandidateFold(i, task) for i, run in enumerate(runs) for task in run.todo()]
    if not tasks:
        return
    jobs = [(run.build_fn, run.config) for run in runs]
    with FoldProgress(len(tasks), verbose) as progress:
        finishes = [_Finish(on_error, run.keep, _OfCandidate(progress, i, len(run.tasks)))
                    for i, run in enumerate(runs)]
        for task, outcome in executor.run(functools.partial(run_candidate_fold, jobs), runs[0].data, tasks):
            try:
                finishes[task.candidate](_received(task.fold.fold, outcome, on_error))
            except FoldError as error:
                error.candidate = task.candidate
                raise
