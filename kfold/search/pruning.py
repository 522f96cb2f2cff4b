"""Stop a search's candidate early when its fold-mean curve is clearly worse than the others'.

kfold trains all K folds of a candidate together, so the mean validation curve
across folds, and its standard error, exist at every epoch. A pruner compares
a candidate's curve with the curves of the candidates trained before it, epoch
by epoch, and stops it once it is clearly behind::

    search = kfold.grid_search(build, grid, x, y, cv=5, epochs=100,
                               prune=kfold.MedianPruner(warmup=10))
    search.stopped        # {candidate index: {"epoch": 23, "reason": "..."}}

Pruned candidates keep their curves up to the epoch at which they stopped and
are left out of the choice of the best (params, epoch).
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable

import numpy as np

from kfold.core import check_positive_int, fail
from kfold.results import fold_stats, resolve_mode
from kfold.search.stepwise import Stepwise, check_stepwise, smoothed_mean

__all__ = ["MedianPruner", "check_pruner", "pruned_trainer"]


@dataclasses.dataclass(frozen=True)
class MedianPruner:
    """Stop a candidate whose fold-mean curve is worse than the others' median by more than its SEM.

    The rule, checked after every ``interval``-th epoch once ``warmup`` epochs
    are done: let ``m`` be the candidate's mean of ``select`` across folds at
    that epoch (smoothed as the search's ``smooth`` asks), ``s`` the standard
    error across folds of ``select`` there (0 with one fold) and ``M`` the
    median of ``m`` over the candidates trained **before** it that reached that
    epoch (at least ``min_candidates`` of them, else nothing is decided). The
    candidate stops when ``m - s > M`` (a loss: lower is better) or
    ``m + s < M`` (an accuracy): even one standard error in its favour, it is
    worse than the median. Candidates are trained one after another, so the
    first ``min_candidates`` are never stopped, and the rule is the one
    Optuna's ``MedianPruner`` applies to one value per step, here on the
    cross-validated mean with its spread.

    Parameters
    ----------
    warmup : int, default 5
        Epochs a candidate always trains before it can be stopped.
    min_candidates : int, default 2
        Candidates that must have reached an epoch for a median there.
    interval : int, default 1
        Check every ``interval`` epochs after the warmup.

    Examples
    --------
    >>> pruner = MedianPruner(warmup=2)
    >>> pruner.decide(3, mean=1.5, sem=0.1, others=[1.0, 1.2, 2.0], mode="min")
    'epoch 3: mean 1.5 - SEM 0.1 > median 1.2 of 3 earlier candidates'
    >>> pruner.decide(3, mean=1.25, sem=0.1, others=[1.0, 1.2, 2.0], mode="min") is None
    True
    >>> pruner.decide(2, mean=9.0, sem=0.1, others=[1.0, 1.2, 2.0], mode="min") is None  # warmup
    True
    """

    warmup: int = 5
    min_candidates: int = 2
    interval: int = 1

    def __post_init__(self) -> None:
        if isinstance(self.warmup, bool) or not isinstance(self.warmup, (int, np.integer)) or self.warmup < 0:
            fail("warmup", "a non-negative integer (epochs before a candidate can be stopped)", self.warmup)
        check_positive_int("min_candidates", self.min_candidates)
        check_positive_int("interval", self.interval)

    def checks(self, epoch: int) -> bool:
        """Whether the rule is applied after ``epoch`` (1-based)."""
        return epoch > self.warmup and (epoch - self.warmup - 1) % self.interval == 0

    def decide(self, epoch: int, *, mean: float, sem: float, others: list[float], mode: str) -> str | None:
        """Why the candidate stops after ``epoch`` (1-based), or None if it goes on."""
        others = [v for v in others if np.isfinite(v)]
        if not self.checks(epoch) or len(others) < self.min_candidates:
            return None
        sem = 0.0 if not np.isfinite(sem) else float(sem)
        median = float(np.median(others))
        if not np.isfinite(mean):
            return f"epoch {epoch}: mean is {mean}"
        if mode == "min" and mean - sem > median:
            return f"epoch {epoch}: mean {mean:.4g} - SEM {sem:.4g} > median {median:.4g} of {len(others)} earlier candidates"
        if mode == "max" and mean + sem < median:
            return f"epoch {epoch}: mean {mean:.4g} + SEM {sem:.4g} < median {median:.4g} of {len(others)} earlier candidates"
        return None


def check_pruner(prune: Any) -> None:
    """Refuse anything but None or a pruner (an object with ``decide`` and ``checks``).

    Examples
    --------
    >>> check_pruner("median")
    Traceback (most recent call last):
    ...
    TypeError: Invalid `prune`. Expected None or a pruner such as kfold.MedianPruner(warmup=5). Received: prune='median'
    """
    if prune is not None and not (callable(getattr(prune, "decide", None)) and callable(getattr(prune, "checks", None))):
        fail("prune", "None or a pruner such as kfold.MedianPruner(warmup=5)", prune, error=TypeError)


def pruned_trainer(prune: Any, *, select: str, smooth: float | None, mode: str) -> Callable:
    """The trainer :func:`kfold.search.searches.run_search` uses with ``prune=``: one candidate after another.

    Each candidate trains epoch by epoch (fused, continued, never restarted) and
    is stopped as soon as ``prune`` says so; its result records ``params["stop"]``.
    With a run directory its state is checkpointed on the usual schedule, and a
    search run again replays the pruner's decisions on the saved curves.

    Examples
    --------
    >>> callable(pruned_trainer(MedianPruner(), select="val_loss", smooth=None, mode="auto"))
    True
    """
    mode = resolve_mode(mode, select)

    def train(runs: list, candidates: list, executor: Any, settings: Any, report: Callable) -> list:
        check_stepwise("a pruned search", executor, settings.strategy)
        steps = Stepwise(runs, select, settings.on_error)
        means: list[np.ndarray] = []
        results = []
        for i, run in enumerate(runs):
            stop, epochs = None, run.config.epochs
            for epoch in range(1, epochs + 1):
                steps.train(i, epoch)
                if steps.stopped_by_itself(i) or steps.epochs_trained(i) < epoch:
                    break  # failed, or every fold stopped on its own (EarlyStopping)
                if run.checkpoints is not None and run.checkpoints.due(epoch):
                    steps.save(i)
                curves = steps.curves(i, epoch)
                others = [m[epoch - 1] for m in means if len(m) >= epoch]
                reason = prune.decide(epoch, mean=float(smoothed_mean(curves, smooth)[-1]),
                                      sem=float(fold_stats(curves)[2][-1]), others=others, mode=mode)
                if reason is not None and epoch < epochs:
                    stop = {"epoch": epoch, "reason": f"pruned at {reason}"}
                    break
            means.append(smoothed_mean(steps.curves(i), smooth))
            results.append(steps.finish(i, stop, executor))
            report(i, results[-1])
        return results

    return train
