"""Candidates trained in steps: a few epochs on every fold, a look at the curves, then more.

What :func:`kfold.halving_search` and a pruned :func:`kfold.grid_search` share.
Each candidate is planned as :func:`kfold.cross_validate` plans a run (same
folds, same per-fold seeds, same record), then trained fused in this process by
:class:`~kfold.train.fused.continuation.ContinuedFolds`, which keeps its fold
models in memory between steps, so training on means continuing, never
starting over. Candidates of one architecture share one compiled graph
(:class:`~kfold.train.fused.continuation.GraphPool`).

A candidate the search stops early keeps its full per-fold curves up to the
epoch at which it stopped; its result's ``params["stop"]`` says when and why,
and :class:`~kfold.SearchResult` chooses only among the candidates not stopped.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from kfold.core.checks import fail
from kfold.core.errors import FoldError
from kfold.core.seeds import user_random_state
from kfold.results.curves import best_epoch, fold_stats, smooth_curve
from kfold.results.outcome import FoldOutcome
from kfold.search.candidates import bind
from kfold.train.cross_validation import plan_run
from kfold.train.fold import non_finite_loss
from kfold.train.fused.continuation import ContinuedFolds, GraphPool, active_pool
from kfold.train.fused.prepare import NotFusable

__all__ = ["Stepwise", "running_score", "check_in_process"]

_NOT_PLANNED = ("on_error", "run_dir", "overwrite", "save_weights")


def check_in_process(what: str, executor: Any, run_dir: Any) -> None:
    """Refuse an executor that trains elsewhere, and a run directory, for a search trained in steps.

    Examples
    --------
    >>> check_in_process("halving_search", None, "runs/a")
    Traceback (most recent call last):
    ...
    ValueError: Invalid `run_dir`. Expected None: halving_search keeps its candidates' fold models in memory between steps. Received: run_dir='runs/a'. Run it without run_dir (saving and resuming a search trained in steps is not implemented yet)
    """
    if run_dir is not None:
        fail("run_dir", f"None: {what} keeps its candidates' fold models in memory between steps", str(run_dir),
             "Run it without run_dir (saving and resuming a search trained in steps is not implemented yet)")
    if executor is not None and not executor.in_process:
        fail("executor", f'"sequential": {what} continues each candidate\'s fold models in this process',
             executor.name, "Run it without executor= (worker processes do not keep models between steps)")


def running_score(curves: np.ndarray, *, skip: int, smooth: float | None, mode: str) -> float:
    """The best value so far of the smoothed fold-mean curve: what candidates are ranked by.

    The same value :class:`~kfold.SearchResult` chooses on (``rule="min"``), on
    the epochs trained so far; ``skip`` is cut to leave at least one epoch. NaN
    when there is no finite value.

    Examples
    --------
    >>> running_score(np.array([[3.0, 2.0, 2.5], [3.0, 1.0, 1.5]]), skip=0, smooth=None, mode="min")
    1.5
    """
    if curves.size == 0 or not np.isfinite(curves).any():
        return float("nan")
    skip = min(skip, curves.shape[1] - 1)
    try:
        return best_epoch(curves, skip=skip, smooth=smooth, mode=mode).value
    except ValueError:  # no finite value after skip
        return float("nan")


def smoothed_mean(curves: np.ndarray, smooth: float | None) -> np.ndarray:
    """The fold-mean curve, smoothed as the search asks."""
    mean = fold_stats(curves)[0]
    return mean if smooth is None else smooth_curve(mean, smooth)


class Stepwise:
    """The candidates of one search, each trained fused, paused and continued on demand.

    Parameters
    ----------
    build_fn, routed
        The user's build function and each candidate's routing
        (:func:`kfold.search.candidates.check_candidates`).
    x, y, cv
        The data and the search's fold manifest (a splitter giving its pairs).
    shared : dict
        The settings every candidate's :func:`~kfold.train.cross_validation.plan_run`
        takes (``preprocess``, ``callbacks``, ``seed``, ``strategy``...), plus ``on_error``.
    select : str
        The history key the search looks at.

    Examples
    --------
    >>> from kfold.search.candidates import check_candidates
    >>> from kfold.split.check import PredefinedSplits
    >>> from kfold.train.keras_fit import doctest_model
    >>> def build(lr):
    ...     return doctest_model()
    >>> routed = check_candidates(build, [{"lr": 1}, {"lr": 2}], epochs=3, batch_size=4, fit_kwargs=None)
    >>> x, y = np.random.rand(8, 2), np.random.rand(8)
    >>> folds = PredefinedSplits([(np.arange(4, 8), np.arange(4)), (np.arange(4), np.arange(4, 8))])
    >>> steps = Stepwise(build, routed, x, y, folds, {"seed": 0, "verbose": 0}, "val_loss")
    >>> steps.train(1, 2); steps.epochs_trained(1), steps.curves(1).shape
    (2, (2, 2))
    >>> steps.result(1, {"epoch": 2, "reason": "a test"}).params["stop"]["epoch"]
    2
    """

    def __init__(self, build_fn: Callable, routed: list, x: Any, y: Any, cv: Any, shared: dict,
                 select: str) -> None:
        shared = dict(shared)
        self.on_error = shared.get("on_error", "raise")
        for name in _NOT_PLANNED:
            shared.pop(name, None)
        if shared.get("strategy", "auto") == "sequential":
            fail("strategy", '"auto" or "fused": candidates are paused and continued by the fused engine',
                 "sequential", "Leave strategy at its default")
        self.build_fn, self.routed, self.x, self.y, self.cv = build_fn, routed, x, y, cv
        self.shared, self.select = shared, select
        self.pool = active_pool() or GraphPool()
        self.runs: dict[int, Any] = {}
        self.trained: dict[int, ContinuedFolds] = {}
        self.failures: dict[int, str] = {}

    def _start(self, i: int) -> ContinuedFolds:
        r = self.routed[i]
        run = plan_run(bind(self.build_fn, r["build"]), self.x, self.y, cv=self.cv, epochs=r["epochs"],
                       batch_size=r["batch_size"], fit_kwargs=r["fit"], **self.shared)
        try:
            folds = ContinuedFolds(run.build_fn, run.data, run.tasks, run.config, pool=self.pool)
        except NotFusable as error:  # noqa: F841 - named in the message
            fail("build_fn", "a model and settings the fused engine can train (it pauses and continues them)",
                 f"candidate {i + 1}", f"Fused training is not possible: {error}")
        self.runs[i] = run
        return folds

    def train(self, i: int, epochs: int) -> None:
        """Train candidate ``i`` until ``epochs`` epochs are done (from where it stopped).

        A failure (an error, or a loss that became NaN or infinite) raises a
        :class:`FoldError` naming the candidate with ``on_error="raise"``; with
        ``"skip"`` it is recorded in :attr:`failures` and the candidate trains no further.
        """
        if i in self.failures:
            return
        try:
            with user_random_state():
                if i not in self.trained:
                    self.trained[i] = self._start(i)
                self.trained[i].train_to(epochs)
        except (ValueError, TypeError):  # argument errors (fail) are never skipped
            raise
        except Exception as error:  # noqa: BLE001 - recorded, then raised or skipped
            if self.on_error == "raise":
                raise
            self.failures[i] = f"{type(error).__name__}: {error}"
            return
        for fold in self.trained[i].folds:
            problem = non_finite_loss({"loss": [logs.get("loss", 0.0) for logs in fold.history]})
            if problem is None:
                continue
            if self.on_error == "raise":
                error = FoldError(fold.task.fold, problem)
                error.candidate = i
                raise error
            self.failures[i] = f"fold {fold.task.fold + 1}: {problem}"
            return

    def epochs_trained(self, i: int) -> int:
        """Epochs trained so far by candidate ``i``'s longest-running fold."""
        run = self.trained.get(i)
        return 0 if run is None else max((len(f.history) for f in run.folds), default=0)

    def curves(self, i: int, key: str | None = None) -> np.ndarray:
        """``key`` (the search's ``select`` by default) per fold and epoch so far."""
        run = self.trained.get(i)
        return np.zeros((0, 0)) if run is None else run.curves(key or self.select)

    def result(self, i: int, stop: dict | None, executor_name: str = "sequential") -> Any:
        """Candidate ``i``'s :class:`~kfold.CVResult`; ``stop`` (epoch, reason) if the search stopped it.

        Its fold models are let go (the search keeps only the curves).
        """
        run, folds = self.runs.get(i), self.trained.pop(i, None)
        if run is None or folds is None:
            fail("candidate", "a candidate that trained at least once", i + 1)
        if i in self.failures:
            outcomes = [FoldOutcome(f.task.fold, _padded(f.history, self.select), {}, 0.0, 0.0)
                        for f in folds.folds]
            stop = {"epoch": self.epochs_trained_of(folds), "reason": f"failed: {self.failures[i]}"}
        else:
            outcomes = folds.outcomes()
        for outcome in outcomes:
            run.keep(outcome)
        why = "fused, trained in steps and continued (kfold.train.fused.continuation)"
        result = run.result("fused", why, _InProcess(executor_name))
        result.params["epochs_trained"] = self.epochs_trained_of(folds)
        if stop is not None:
            result.params["stop"] = dict(stop)
        return result

    @staticmethod
    def epochs_trained_of(folds: ContinuedFolds) -> int:
        return max((len(f.history) for f in folds.folds), default=0)


def _padded(records: list[dict], select: str) -> dict:
    """A failed candidate's history so far; one NaN epoch of ``select`` if it has none."""
    keys = list(dict.fromkeys(k for logs in records for k in logs)) or [select]
    return {k: [float(logs.get(k, np.nan)) for logs in records] or [float("nan")] for k in keys}


class _InProcess:
    """What ``PlannedRun.result`` records of the executor: this process."""

    def __init__(self, name: str) -> None:
        self.name, self.n_workers = name, 1

    def __repr__(self) -> str:
        return f"_InProcess({self.name!r})"
