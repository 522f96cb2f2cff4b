"""Training on an executor's workers: the tasks sent (a fusable candidate's folds together, else one fold each) and the outcomes received."""
from __future__ import annotations

import functools
from typing import Any, Callable, NamedTuple

from kfold.core import config_context, get_config
from kfold.core import FoldError
from kfold.executors import Executor, TaskError
from kfold.results import FoldOutcome
from kfold.train.fold import FitConfig, FoldData, FoldTask, run_fold
from kfold.train.fused import check_fusable
from kfold.train.run.progress import FoldProgress, run_view
from kfold.train.run.strategy import _Finish, run_folds

__all__ = ["CandidateFold", "CandidateFolds", "run_candidate_fold", "run_candidate_folds", "on_executor"]


def _received(fold: int, outcome: Any, on_error: str) -> FoldOutcome:
    """A worker's outcome; a failed task becomes a failed fold, or is raised."""
    if not isinstance(outcome, TaskError):
        return outcome
    if on_error == "raise":
        raise outcome.to_exception()  # leaving the executor's loop stops the other tasks
    return FoldOutcome(fold, {}, {}, 0.0, 0.0, error=str(outcome.to_exception()))


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
    build_fn, config = jobs[task.candidate][:2]
    return run_fold(build_fn, data, task.fold, config)


class CandidateFolds(NamedTuple):
    """All the missing folds of one candidate, trained together in one task, as in this process.

    Sent to a worker when the candidate's folds can be fused: the worker trains
    exactly the graph this process would, so every executor gives the same histories.

    Examples
    --------
    >>> import numpy as np
    >>> task = CandidateFolds(0, (FoldTask(1, np.arange(2, 4), np.arange(2), seed=0),))
    >>> task.fold.fold
    1
    """

    candidate: int  #: 0-based candidate number
    folds: tuple  #: its FoldTasks

    @property
    def fold(self) -> FoldTask:
        """The first of its folds (what an error message names)."""
        return self.folds[0]


def run_candidate_folds(jobs: list[tuple], data: FoldData, task: CandidateFolds) -> tuple[list, str, str]:
    """In a worker: train ``task``'s folds together as :func:`run_folds` does here; failed folds come back as such.

    ``jobs[candidate]`` is ``(build_fn, config, strategy)``, and the settings of
    :func:`kfold.get_config` in the caller's process, which hold while the folds train.

    Examples
    --------
    >>> import numpy as np
    >>> from kfold.train.keras_fit import doctest_model
    >>> folds = (FoldTask(0, np.arange(4, 8), np.arange(4), 1), FoldTask(1, np.arange(4), np.arange(4, 8), 2))
    >>> jobs = [(doctest_model, FitConfig(epochs=1), "auto")]
    >>> outcomes, ran, _ = run_candidate_folds(jobs, FoldData(np.random.rand(8, 2), np.random.rand(8)),
    ...                                        CandidateFolds(0, folds))
    >>> [o.fold for o in outcomes], ran
    ([0, 1], 'fused')
    """
    build_fn, config, strategy, *settings = jobs[task.candidate]  # settings: the caller's kfold.get_config()
    with config_context(**(settings[0] if settings else {})), FoldProgress(len(task.folds), verbose=0) as quiet:
        return run_folds(build_fn, data, list(task.folds), config, strategy, quiet, on_error="skip")


def _worker_tasks(runs: list, strategy: str) -> list:
    """A candidate whose folds can be fused is one task (so workers train the graph this process would);
    otherwise each of its folds is one task."""
    tasks: list = []
    for i, run in enumerate(runs):
        todo = run.todo()
        if todo and strategy != "sequential" and check_fusable(run.config) is None:
            tasks.append(CandidateFolds(i, tuple(todo)))
        else:
            tasks += [CandidateFold(i, task) for task in todo]
    return tasks


def _run_task(jobs: list, data: FoldData, task: Any) -> Any:
    """In a worker: one task of :func:`_worker_tasks`."""
    return (run_candidate_folds if isinstance(task, CandidateFolds) else run_candidate_fold)(jobs, data, task)


def on_executor(runs: list, executor: Executor, strategy: str, on_error: str, progress: FoldProgress,
                 on_run_done: Callable[[int], None]) -> None:
    """Every missing fold of every run goes out at once (a fusable candidate's folds as one task); each
    outcome is kept as it arrives.

    A candidate's task that fails (it raised, or its worker died) is sent again as
    one task per fold, so a fold that fails, fails alone and says which it is.
    """
    left = {i: len(run.todo()) for i, run in enumerate(runs)}
    finishes = [_Finish(on_error, run.keep, run_view(progress, runs, i)) for i, run in enumerate(runs)]
    for i in (i for i, n in left.items() if n == 0):
        on_run_done(i)
    settings = get_config()  # the settings in force here (fused_stacked, ...) hold in the workers too
    jobs = [(run.build_fn, run.config, strategy, settings) for run in runs]
    where = f"executor={executor.name!r} on {executor.n_workers} workers"
    tasks = _worker_tasks(runs, strategy)
    while tasks:
        again = []
        for task, outcome in executor.run(functools.partial(_run_task, jobs), runs[0].data, tasks):
            i, run = task.candidate, runs[task.candidate]
            grouped = isinstance(task, CandidateFolds)
            if grouped and isinstance(outcome, TaskError) and len(task.folds) > 1:
                again += [CandidateFolds(i, (fold,)) for fold in task.folds]  # each alone, next round
                continue
            if grouped and not isinstance(outcome, TaskError):
                outcomes, ran, why = outcome
                run.ran, run.why = ran, f"{why} ({where}: one task for the candidate's folds)"
            else:
                outcomes = [_received(task.fold.fold, outcome, on_error)]
                if not grouped:
                    run.ran, run.why = "sequential", f"{where}: one fold per task"
            try:
                for fold_outcome in outcomes:
                    finishes[i](fold_outcome)
            except FoldError as error:
                error.candidate = i if len(runs) > 1 else None
                raise
            left[i] -= len(outcomes)
            if left[i] == 0:
                on_run_done(i)
        tasks = again
