"""The one path every training takes: :func:`train_runs` trains the missing folds of one cross-validation or of a search's candidates, here or on workers.

:func:`train_run` is that path for one planned run, from the executor it
opens to the :class:`~kfold.results.cv_result.CVResult`.
"""
from __future__ import annotations

import warnings
from typing import Any, Callable

from kfold.core import FoldError
from kfold.core import catching_interrupts
from kfold.core import user_random_state
from kfold.executors import Executor
from kfold.executors import open_executor
from kfold.results import CVResult
from kfold.results import RunDir
from kfold.train.fused import FusedInterrupted
from kfold.train.run.on_workers import on_executor
from kfold.train.run.progress import FoldProgress, run_view
from kfold.train.run.planned import PlannedRun
from kfold.train.run.strategy import check_strategy, run_folds
from kfold.train.travel import check_travel

__all__ = ["train_runs", "train_run"]


def _in_process(runs: list, strategy: str, on_error: str, progress: FoldProgress,
                on_run_done: Callable[[int], None]) -> None:
    """One run after another in this process, each fused when it can be (else one fit per fold)."""
    for i, run in enumerate(runs):
        todo = run.todo()
        if todo:
            try:
                _, run.ran, run.why = run_folds(run.build_fn, run.data, todo, run.config, strategy,
                                                run_view(progress, runs, i), on_error=on_error, on_outcome=run.keep,
                                                checkpoints=run.checkpoints)
            except FoldError as error:
                error.candidate = i if len(runs) > 1 else None
                raise
            except FusedInterrupted as error:  # every fold cut at its last finished epoch: kept, not saved as done
                _keep_fused_partial(run, error, run_view(progress, runs, i))
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


def train_runs(runs: list, executor: Executor, *, strategy: str, on_error: str, verbose: int,
               on_run_done: Callable[[int], None] | None = None) -> None:
    """Train the missing folds of every run: one :func:`~kfold.cross_validate`, or a search's candidates.

    The one path every training takes. In this process the runs train one after
    another (each fused when it can be); on worker processes or a cluster every
    fold of every run is one task, all sent at once, so no worker waits for a
    candidate to finish. Each outcome goes to its run
    (:class:`kfold.train.run.planned.PlannedRun`), which keeps and saves it
    the moment it arrives; ``on_run_done(i)`` is called when run ``i`` has all its
    folds. Ctrl-C keeps the finished folds of every run (with a warning) and
    marks the runs ``interrupted``; it is raised again when nothing finished.
    The arguments were checked by the public entry (:func:`check_strategy`).

    Examples
    --------
    >>> import numpy as np
    >>> from kfold.executors import make_executor
    >>> from kfold.train.run.planned import plan_run
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
                run_view(progress, runs, i).note(f"Resuming: {done} of {len(run.tasks)} folds already done{where}")
        try:
            with catching_interrupts():  # a Ctrl-C that Python swallows (e.g. in clear_session) still stops
                if executor.in_process:
                    _in_process(runs, strategy, on_error, progress, on_run_done)
                else:
                    on_executor(runs, executor, strategy, on_error, progress, on_run_done)
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


def train_run(run: PlannedRun, executor: Any, *, run_dir: RunDir | None, strategy: str, on_error: str,
              verbose: int) -> CVResult:
    """Train one planned run (:func:`kfold.cross_validate`'s) on ``executor``; its result.

    Opens the executor (a name, a :class:`kfold.Processes`, ... or an Executor),
    refuses a strategy or objects that cannot run there, opens the run
    directory (resuming what it holds) and trains the missing folds.

    Examples
    --------
    >>> import numpy as np
    >>> from kfold.train.run.planned import plan_run
    >>> from kfold.train.keras_fit import doctest_model
    >>> run = plan_run(doctest_model, np.random.rand(8, 2), np.random.rand(8), cv=2, epochs=1, seed=0, verbose=0)
    >>> train_run(run, "sequential", run_dir=None, strategy="auto", on_error="raise", verbose=0).n_folds
    2
    """
    with open_executor(executor) as runner:
        check_strategy(strategy, runner)
        check_travel(runner, run.build_fn, return_models=run.config.return_models, preprocess=run.config.preprocess,
                     callbacks=run.config.callbacks)
        run.open(run_dir)
        train_runs([run], runner, strategy=strategy, on_error=on_error, verbose=verbose)
    return run.result(runner)
