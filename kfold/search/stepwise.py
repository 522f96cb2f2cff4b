"""A search's candidates trained in steps: a few epochs on every fold, a look at the curves, then more.

What :func:`kfold.halving_search` and a pruned :func:`kfold.grid_search` share.
Each candidate is the planned run a search makes for it
(:func:`kfold.search._training.plan_candidates`: same folds, same per-fold seeds,
same record), trained fused in this process by
:class:`~kfold.train.fused.continuation.ContinuedFolds`, which keeps its fold
models in memory between steps, so training on means continuing, never
starting over. With a run directory each candidate's joint state is saved after
every step (:meth:`Stepwise.save`, the engine's checkpoint in its candidate
folder) and a candidate that ended is saved as finished folds: a search run
again replays its decisions on the saved curves and trains only what is missing.

A candidate the search stops early keeps its per-fold curves up to the epoch at
which it stopped; its result's ``params["stop"]`` says when and why, and
:class:`~kfold.SearchResult` chooses among the candidates not stopped.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from kfold.core import fail
from kfold.core import FoldError
from kfold.core import write_json
from kfold.core import user_random_state
from kfold.results import best_epoch, fold_stats, smooth_curve
from kfold.results import FoldOutcome
from kfold.search.rundir import STOP_FILE
from kfold.train import ContinuedFolds, NotFusable, active_pool, non_finite_loss, search_pool

__all__ = ["Stepwise", "running_score", "smoothed_mean", "check_stepwise", "finished_curves", "record_stop"]


def check_stepwise(what: str, executor: Any, strategy: str) -> None:
    """Refuse ``strategy="sequential"`` for a search whose candidates pause and continue in this process.

    Examples
    --------
    >>> check_stepwise("a pruned search", None, "sequential")
    Traceback (most recent call last):
    ...
    ValueError: Invalid `strategy`. Expected "auto" or "fused": a pruned search pauses and continues each candidate with the fused engine. Received: strategy='sequential'
    """
    if strategy == "sequential":
        fail("strategy", f'"auto" or "fused": {what} pauses and continues each candidate with the fused engine',
             strategy)
    if executor is not None and not executor.in_process:
        fail("executor", f'"sequential": {what} continues each candidate\'s fold models in this process',
             executor.name, "Run it without executor= (worker processes keep no model between steps)")


def running_score(curves: np.ndarray, *, skip: int, smooth: float | None, mode: str) -> float:
    """The best value so far of the smoothed fold-mean curve: what candidates are ranked by.

    The search's own choice rule (:func:`kfold.best_epoch`) applied to the
    epochs trained so far; ``skip`` is cut to leave at least one epoch. NaN
    when there is no finite value.

    Examples
    --------
    >>> running_score(np.array([[3.0, 2.0, 2.5], [3.0, 1.0, 1.5]]), skip=0, smooth=None, mode="min")
    1.5
    """
    if curves.size == 0 or not np.isfinite(curves).any():
        return float("nan")
    try:
        return best_epoch(curves, skip=min(skip, curves.shape[1] - 1), smooth=smooth, mode=mode).value
    except ValueError:  # no finite value after skip
        return float("nan")


def smoothed_mean(curves: np.ndarray, smooth: float | None) -> np.ndarray:
    """The fold-mean curve, smoothed as the search asks.

    Examples
    --------
    >>> smoothed_mean(np.array([[1.0, 2.0], [3.0, 4.0]]), None).tolist()
    [2.0, 3.0]
    """
    mean = fold_stats(curves)[0]
    return mean if smooth is None else smooth_curve(mean, smooth)


class Stepwise:
    """The planned runs of a search's candidates, each trained fused, paused and continued on demand.

    Parameters
    ----------
    runs : list of PlannedRun
        One per candidate (opened: with a run directory, finished folds and a
        checkpoint are read from it).
    select : str
        The history key the search looks at.
    on_error : {"raise", "skip"}
        ``"skip"``: a candidate whose training fails (an error, or a loss that
        became NaN or infinite) is stopped there, its curves so far kept.

    Examples
    --------
    >>> from kfold.train import plan_run
    >>> from kfold.train.keras_fit import doctest_model
    >>> runs = [plan_run(doctest_model, np.random.rand(8, 2), np.random.rand(8), cv=2, epochs=3, seed=0)]
    >>> steps = Stepwise(runs, "val_loss")
    >>> steps.train(0, 2); steps.epochs_trained(0), steps.curves(0).shape
    (2, (2, 2))
    >>> steps.finish(0, {"epoch": 2, "reason": "a test"}).params["stop"]["epoch"]
    2
    """

    def __init__(self, runs: list, select: str, on_error: str = "raise") -> None:
        self.runs, self.select, self.on_error = runs, select, on_error
        self.pool = active_pool() or search_pool()
        self.live: dict[int, ContinuedFolds] = {}
        self.failures: dict[int, str] = {}

    def done(self, i: int) -> bool:
        """Whether candidate ``i`` ended in an earlier run of the search (its folds are all saved)."""
        run = self.runs[i]
        return i not in self.live and bool(run.finished) and not run.todo()

    def train(self, i: int, epochs: int) -> None:
        """Train candidate ``i`` until ``epochs`` epochs are done (from where it stopped)."""
        if i in self.failures or self.done(i):
            return
        run = self.runs[i]
        try:
            with user_random_state():
                if i not in self.live:
                    state = run.checkpoints.load() if run.checkpoints is not None else None
                    run.finished.clear()  # a candidate half saved trains again from its checkpoint
                    self.live[i] = ContinuedFolds(run.build_fn, run.data, run.tasks, run.config,
                                                  pool=self.pool, state=state)
                self.live[i].train_to(epochs)
        except NotFusable as error:
            fail("strategy", '"auto" or "fused" with a model and settings the fused engine can train',
                 run.params.get("strategy_asked"), f"Candidate {i + 1} cannot be trained in steps: {error}")
        except (ValueError, TypeError, KeyboardInterrupt):  # argument errors and Ctrl-C are never skipped
            raise
        except Exception as error:  # noqa: BLE001 - recorded, then raised or skipped
            if self.on_error == "raise":
                raise
            self.failures[i] = f"{type(error).__name__}: {error}"
            return
        for fold in self.live[i].folds:
            problem = non_finite_loss({"loss": [logs.get("loss", 0.0) for logs in fold.history]})
            if problem is not None and self.on_error == "raise":
                error = FoldError(fold.task.fold, problem)
                error.candidate = i
                raise error
            if problem is not None:
                self.failures[i] = f"fold {fold.task.fold + 1}: {problem}"
                return

    def save(self, i: int) -> None:
        """With a run directory: write candidate ``i``'s joint state (its checkpoint), to continue from it."""
        run = self.runs[i]
        if run.checkpoints is not None and i in self.live:
            run.checkpoints.save(self.live[i].state())

    def epochs_trained(self, i: int) -> int:
        """Epochs trained so far by candidate ``i``'s longest-running fold."""
        if i in self.live:
            return max(len(f.history) for f in self.live[i].folds)
        return max((len(next(iter(o.history.values()), [])) for o in self.runs[i].finished), default=0)

    def stopped_by_itself(self, i: int) -> bool:
        """Whether every fold of candidate ``i`` stopped on its own (``EarlyStopping``) or failed."""
        return i in self.failures or (i in self.live and self.live[i].stopped)

    def curves(self, i: int, epochs: int | None = None) -> np.ndarray:
        """``select`` per fold and epoch (the first ``epochs``), NaN-padded."""
        if i in self.live:
            return self.live[i].curves(self.select, epochs)
        return finished_curves(self.runs[i].finished, self.select, epochs)

    def finish(self, i: int, stop: dict | None, executor: Any = None) -> Any:
        """Candidate ``i``'s :class:`~kfold.CVResult`, its folds saved as finished; ``stop`` if stopped early.

        Its fold models are let go (the search keeps only the curves).
        """
        run, live = self.runs[i], self.live.pop(i, None)
        if live is not None:
            if i in self.failures:
                stop = {"epoch": self.epochs_trained_of(live), "reason": f"failed: {self.failures[i]}"}
                outcomes = [FoldOutcome(f.task.fold, _padded(f.history, self.select), {}, 0.0, 0.0)
                            for f in live.folds]
                self.pool.give_back(live)
            else:
                outcomes = live.outcomes()
            for outcome in outcomes:
                run.keep(outcome)
            if run.checkpoints is not None:
                run.checkpoints.remove()
        elif i in self.failures:  # failed before any epoch (building the models)
            stop = {"epoch": 0, "reason": f"failed: {self.failures[i]}"}
            for task in run.tasks:
                run.keep(FoldOutcome(task.fold, {self.select: [float("nan")]}, {}, 0.0, 0.0))
        run.ran, run.why = "fused", "fused, trained in steps and continued (kfold.train.fused.continuation)"
        return record_stop(run, run.result(executor or _InProcess()), stop)

    def train_all(self, indices: list[int], epochs: int) -> None:
        """:meth:`train` each of ``indices`` to ``epochs``."""
        for i in indices:
            self.train(i, epochs)

    @staticmethod
    def epochs_trained_of(live: ContinuedFolds) -> int:
        return max((len(f.history) for f in live.folds), default=0)


def finished_curves(outcomes: list, key: str, epochs: int | None = None) -> np.ndarray:
    """``key`` of finished fold outcomes, ``(n_folds, epochs)`` in fold order, NaN-padded.

    Examples
    --------
    >>> finished_curves([FoldOutcome(0, {"val_loss": [2.0, 1.0]}, {}, 0.0, 0.0)], "val_loss", 3).tolist()
    [[2.0, 1.0, nan]]
    """
    records = [list(o.history.get(key, [])) for o in sorted(outcomes, key=lambda o: o.fold)]
    n = max((len(r) for r in records), default=0) if epochs is None else epochs
    return np.array([r[:n] + [np.nan] * (n - len(r[:n])) for r in records], dtype=float).reshape(len(records), n)


def record_stop(run: Any, result: Any, stop: dict | None) -> Any:
    """Put the epochs reached and ``stop`` (if stopped early) in ``result.params``, and in the run directory.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> result = NS(params={}, history=NS(n_epochs=3))
    >>> record_stop(NS(store=None), result, {"epoch": 3, "reason": "a test"}).params["epochs_trained"]
    3
    """
    extra = {"epochs_trained": result.history.n_epochs, **({"stop": dict(stop)} if stop else {})}
    result.params.update(extra)
    if run.store is not None:  # read back by kfold.load
        write_json(run.store.path / STOP_FILE, extra)
    return result


def _padded(records: list[dict], select: str) -> dict:
    """A failed candidate's history so far; one NaN epoch of ``select`` if it has none."""
    keys = list(dict.fromkeys(k for logs in records for k in logs)) or [select]
    return {k: [float(logs.get(k, np.nan)) for logs in records] or [float("nan")] for k in keys}


class _InProcess:
    """What ``PlannedRun.result`` records of the executor: this process."""

    name, n_workers = "sequential", 1
