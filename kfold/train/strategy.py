"""The one path every training takes (:func:`train_runs`), which strategy trains the folds, and what happens to each fold when it ends.

``"sequential"`` is the book's loop (:func:`kfold.train.fold.run_fold` for each fold),
the readable reference. ``"fused"`` trains all fold models together in one
compiled graph (:mod:`kfold.train.fused.runner`): the same curves, many times faster for
small models. ``"auto"`` fuses when the model and settings allow it and says why
not otherwise. With an executor other than ``"sequential"`` (worker processes, a
Dask cluster), each fold (of each candidate, in a search) is one task, trained by
:func:`~kfold.train.fold.run_fold` in a worker, and the folds come back as they finish.
:func:`kfold.cross_validate` and the searches all train through :func:`train_runs`.

Every finished fold is handed to ``on_outcome`` at once (the trainer saves it to
the run directory there), so a crash later loses nothing that finished. A fold
whose training raises, or whose loss becomes NaN or infinite, fails: with
``on_error="raise"`` that stops the run with a :class:`~kfold.train.fold.FoldError`;
with ``"skip"`` the failure is recorded and the other folds go on.
"""
from __future__ import annotations

import functools
import time
import traceback
import warnings
from typing import Any, Callable, NamedTuple

from kfold.core.checks import check_choice, fail
from kfold.executors.base import Executor, TaskError
from kfold.train.fold import FitConfig, FoldData, FoldTask, non_finite_loss, run_fold
from kfold.core.errors import FoldError
from kfold.core.seeds import user_random_state
from kfold.core.interrupts import catching_interrupts, deferring_interrupts
from kfold.results.outcome import FoldOutcome
from kfold.train.fused.runner import FusedInterrupted, NotFusable, check_fusable, run_folds_fused
from kfold.train.progress import FoldProgress

__all__ = ["STRATEGIES", "ON_ERROR", "check_strategy", "run_folds", "CandidateFold", "run_candidate_fold", "train_runs"]

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
    outcomes = run_folds_fused(build_fn, data, tasks, config, progress=finish.progress, checkpoints=checkpoints)
    finish.progress.note(f"Trained all {len(tasks)} folds together in one compiled graph in "
                         f"{time.perf_counter() - start:.1f}s (strategy=\"fused\")")
    finish.joint = True  # the folds' time is the joint time above, not a time of each
    with deferring_interrupts():  # a Ctrl-C now stops the run only once every trained fold is kept
        done = [finish(outcome) for outcome in outcomes]
    if checkpoints is not None:
        checkpoints.remove()  # every fold it held is saved now
    return done


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

    def done(self, index: int, scores: dict[str, float], seconds: float | None) -> None:
        name = f"Candidate {self.candidate + 1}, fold {index + 1}/{self.n_folds}"
        self.progress.done(index, scores, seconds, name=name)

    def __getattr__(self, name: str) -> Any:  # the fused engine's epoch counting goes to the bar itself
        return getattr(self.progress, name)


def _view(progress: FoldProgress, runs: list, index: int) -> Any:
    """What a run reports to: the bar itself for one cross-validation, a candidate's view in a search."""
    return progress if len(runs) == 1 else _OfCandidate(progress, index, len(runs[index].tasks))


def _in_process(runs: list, strategy: str, on_error: str, progress: FoldProgress,
                on_run_done: Callable[[int], None]) -> None:
    """One run after another in this process, each fused when it can be (else one fit per fold)."""
    for i, run in enumerate(runs):
        todo = run.todo()
        if todo:
            try:
                _, run.ran, run.why = run_folds(run.build_fn, run.data, todo, run.config, strategy,
                                                _view(progress, runs, i), on_error=on_error, on_outcome=run.keep,
                                                checkpoints=run.checkpoints)
            except FoldError as error:
                error.candidate = i if len(runs) > 1 else None
                raise
            except FusedInterrupted as error:  # every fold cut at its last finished epoch: kept, not saved as done
                _keep_fused_partial(run, error, _view(progress, runs, i))
                raise KeyboardInterrupt from None
        on_run_done(i)


def _keep_fused_partial(run: Any, error: FusedInterrupted, progress: Any) -> None:
    """After Ctrl-C in fused training: every fold's epochs so far go into the result (not the run directory)."""
    run.finished.extend(error.outcomes)
    run.ran, run.why = "fused", f"all {len(error.outcomes)} folds trained together in one compiled graph (interrupted)"
    run.params["interrupted_after_epoch"] = error.epoch
    where = f"; the checkpoint in {run.store.path} resumes it" if run.store is not None else ""
    progress.note(f"Interrupted after epoch {error.epoch}{where}.")
    warnings.warn(f"Interrupted: the result holds every fold's first {error.epoch} epochs "
                  f"(of {run.config.epochs}).", RuntimeWarning, stacklevel=5)


def _on_executor(runs: list, executor: Executor, on_error: str, progress: FoldProgress,
                 on_run_done: Callable[[int], None]) -> None:
    """Every missing fold of every run is one task, all sent at once; each outcome is kept as it arrives."""
    tasks = [CandidateFold(i, task) for i, run in enumerate(runs) for task in run.todo()]
    left = {i: len(run.todo()) for i, run in enumerate(runs)}
    why = f"executor={executor.name!r} trains one fold per task on {executor.n_workers} workers"
    finishes = [_Finish(on_error, run.keep, _view(progress, runs, i)) for i, run in enumerate(runs)]
    for run in runs:
        run.ran, run.why = ("sequential", why) if run.todo() else (run.ran, run.why)
    for i in (i for i, n in left.items() if n == 0):
        on_run_done(i)
    jobs = [(run.build_fn, run.config) for run in runs]
    for task, outcome in executor.run(functools.partial(run_candidate_fold, jobs), runs[0].data, tasks):
        try:
            finishes[task.candidate](_received(task.fold.fold, outcome, on_error))
        except FoldError as error:
            error.candidate = task.candidate if len(runs) > 1 else None
            raise
        left[task.candidate] -= 1
        if left[task.candidate] == 0:
            on_run_done(task.candidate)


def train_runs(runs: list, executor: Executor, *, strategy: str, on_error: str, verbose: int,
               on_run_done: Callable[[int], None] | None = None) -> None:
    """Train the missing folds of every run: one :func:`~kfold.cross_validate`, or a search's candidates.

    The one path every training takes. In this process the runs train one after
    another (each fused when it can be); on worker processes or a cluster every
    fold of every run is one task, all sent at once, so no worker waits for a
    candidate to finish. Each outcome goes to its run
    (:class:`kfold.train.cross_validation.PlannedRun`), which keeps and saves it
    the moment it arrives; ``on_run_done(i)`` is called when run ``i`` has all its
    folds. Ctrl-C keeps the finished folds of every run (with a warning) and
    marks the runs ``interrupted``; it is raised again when nothing finished.
    The arguments were checked by the public entry (:func:`check_strategy`).

    Examples
    --------
    >>> import numpy as np
    >>> from kfold.executors import make_executor
    >>> from kfold.train.cross_validation import plan_run
    >>> from kfold.train.keras_fit import doctest_model
    >>> x, y = np.random.rand(8, 2), np.random.rand(8)
    >>> runs = [plan_run(doctest_model, x, y, cv=2, epochs=1, seed=0, verbose=0) for _ in range(2)]
    >>> train_runs(runs, make_executor("sequential"), strategy="auto", on_error="raise", verbose=0)
    >>> [sorted(o.fold for o in run.finished) for run in runs], runs[0].ran
    ([[0, 1], [0, 1]], 'fused')
    """
    on_run_done = on_run_done or (lambda index: None)
    total = sum(len(run.todo()) for run in runs)
    with FoldProgress(total, verbose) as progress, user_random_state():
        if runs and runs[0].params.get("cv_choice"):  # the splitter kfold chose for cv=<int>
            progress.note(f"Folds: {runs[0].params['cv_choice']}")
        for i, run in enumerate(runs):
            done = len(run.tasks) - len(run.todo())
            if done:
                where = f" in {run.store.path}" if run.store is not None else ""
                _view(progress, runs, i).note(f"Resuming: {done} of {len(run.tasks)} folds already done{where}")
        try:
            with catching_interrupts():  # a Ctrl-C that Python swallows (e.g. in clear_session) still stops
                if executor.in_process:
                    _in_process(runs, strategy, on_error, progress, on_run_done)
                else:
                    _on_executor(runs, executor, on_error, progress, on_run_done)
        except KeyboardInterrupt:
            if not _keep_partial(runs, progress):
                raise


def _keep_partial(runs: list, progress: FoldProgress) -> bool:
    """After Ctrl-C: mark the runs interrupted, say what was kept; return whether anything finished."""
    kept = sum(len(run.finished) for run in runs)
    stores = [str(run.store.path) for run in runs if run.store is not None]
    where = f" and saved in {', '.join(stores[:3])}{', ...' if len(stores) > 3 else ''}" if stores else ""
    progress.note(f"Interrupted: {kept} finished folds are kept{where}.")
    for run in runs:
        run.params["interrupted"] = True
    if kept and not any("interrupted_after_epoch" in run.params for run in runs):  # else said already
        warnings.warn(f"Interrupted: the result holds only the {kept} folds that finished.",
                      RuntimeWarning, stacklevel=4)
    return bool(kept)
