"""Successive halving with epochs as the resource, on cross-validated curves.

Every candidate trains a few epochs on all folds; the best ``1/factor`` by the
fold-mean selection curve go on, **from where they stopped** (their fold
models, optimizer state and callbacks are kept in memory), to ``factor`` times
the epochs; and so on up to ``epochs``::

    round 1: 15 candidates x  1 epoch  -> the best 5 go on
    round 2:  5 candidates to 3 epochs -> the best 2 go on
    round 3:  2 candidates to 9 epochs -> the best 1 goes on
    round 4:  1 candidate  to 15 epochs

43 epochs per fold instead of the full grid's 225. The ranking is the
search's own choice rule (:class:`~kfold.SearchResult`): the best value so far
of each candidate's mean ``select`` curve across folds, after ``skip`` and
``smooth``. A survivor continues bit for bit as if it had never paused, so its
curves are those the full grid would have recorded.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any, Callable

import numpy as np

from kfold.core import check_positive_int, fail
from kfold.core import write_json
from kfold.core import resolve_seed
from kfold.results import resolve_mode
from kfold.search.candidates import parameter_grid, plain, sample_parameters
from kfold.search.rundir import ROUNDS_FILE
from kfold.search.search_result import SearchResult
from kfold.search.searches import run_search
from kfold.search.stepwise import Stepwise, check_stepwise, finished_curves, record_stop, running_score
from kfold.results import RunDir
from kfold.train import pop_run_options, train_runs

__all__ = ["halving_schedule", "halving_search"]

def halving_schedule(n_candidates: int, epochs: int, factor: int = 3,
                     min_epochs: int | None = None) -> list[tuple[int, int]]:
    """The rounds of a halving search: (epochs reached, candidates trained) per round.

    Round ``r`` trains ``ceil(n / factor**r)`` candidates to
    ``min(epochs, min_epochs * factor**r)`` epochs; the last round reaches
    ``epochs``. ``min_epochs`` defaults to ``epochs // factor**(R - 1)`` (at
    least 1), ``R = 1 + floor(log_factor(n_candidates))``: so many rounds that
    one candidate is left at the end.

    Examples
    --------
    >>> halving_schedule(15, 15)
    [(1, 15), (3, 5), (9, 2), (15, 1)]
    >>> halving_schedule(6, 30, factor=2, min_epochs=5)
    [(5, 6), (10, 3), (20, 2), (30, 1)]
    """
    n_candidates, epochs = check_positive_int("n_candidates", n_candidates), check_positive_int("epochs", epochs)
    if isinstance(factor, bool) or not isinstance(factor, (int, np.integer)) or factor < 2:
        fail("factor", "an integer of at least 2 (1/factor of the candidates go on each round)", factor)
    if min_epochs is None:
        n_rounds = 1 + int(math.floor(math.log(n_candidates, factor) + 1e-9))
        min_epochs = max(1, epochs // factor ** (n_rounds - 1))
    min_epochs = check_positive_int("min_epochs", min_epochs)
    if min_epochs > epochs:
        fail("min_epochs", f"at most epochs={epochs}", min_epochs)
    rounds, budget, alive = [], min_epochs, n_candidates
    while True:
        rounds.append((min(budget, epochs), alive))
        if budget >= epochs:
            return rounds
        budget, alive = budget * factor, max(1, math.ceil(alive / factor))


def halving_search(build_fn: Callable, params: Any, x: Any, y: Any, *, cv: Any = 5, epochs: int,
                   factor: int = 3, min_epochs: int | None = None, n_candidates: int | None = None,
                   seed: int | None = None, verbose: int = 1, **kwargs: Any) -> SearchResult:
    """Successive halving over epochs: the losing candidates stop early, the others continue.

    Parameters
    ----------
    build_fn, x, y, cv, seed, verbose
        As in :func:`kfold.grid_search`.
    params : dict of lists, list of such dicts, or distributions
        A grid as :func:`kfold.grid_search` takes; with ``n_candidates``,
        distributions as :func:`kfold.random_search` takes. ``epochs`` cannot be
        a parameter (it is the resource).
    epochs : int
        The epochs the last round reaches.
    factor : int, default 3
        Each round keeps the best ``ceil(n / factor)`` candidates and trains
        them to ``factor`` times the epochs.
    min_epochs : int, optional
        Epochs of the first round (:func:`halving_schedule` for the default).
    n_candidates : int, optional
        Draw this many candidates from ``params`` (random search) instead of the grid.
    **kwargs
        Every other argument of :func:`kfold.grid_search` (``batch_size``,
        ``select``, ``skip``, ``smooth``, ``mode``, ``rule``, ``refit``,
        ``callbacks``, ``run_dir``, ``on_error``, ``executor``, ...). ``select``,
        ``skip``, ``smooth`` and ``mode`` also rank the candidates after every
        round: by the best value so far of each one's (smoothed) mean curve
        across folds. In this process the survivors continue from where they
        stopped (fold models, optimizer and callback state kept in memory; with
        ``run_dir`` also saved after each round, so a killed search resumes);
        ``on_error="skip"`` stops a failing candidate (its stop reason says
        why). On worker processes or a cluster (``executor=``) a worker keeps
        no model between rounds: each round trains its candidates from the
        start to the round's epochs (the same curves, more epochs trained).

    Returns
    -------
    SearchResult
        Every candidate with its per-fold curves up to the epoch it reached;
        ``search.rounds`` (per round: the epochs reached, the candidates trained,
        their scores, who went on), ``search.stopped`` (when and why each
        stopped) and ``cv_results["epochs_trained"]``. The best (params, epoch)
        is chosen among the candidates that reached the last round.

    Examples
    --------
    >>> import numpy as np, keras, kfold
    >>> def build(lr):
    ...     model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    ...     model.compile(optimizer=keras.optimizers.SGD(lr), loss="mse")
    ...     return model
    >>> x = np.random.rand(30, 3); y = x @ [1.0, 2.0, 3.0]
    >>> search = kfold.halving_search(build, {"lr": [0.0, 0.0001, 0.1]}, x, y, cv=3, epochs=9,
    ...                               seed=0, verbose=0, refit=False)
    >>> [(r["epochs"], r["candidates"], r["kept"]) for r in search.rounds]
    [(3, [0, 1, 2], [2]), (9, [2], [2])]
    >>> search.best_params, search.cv_results["epochs_trained"].tolist()
    ({'lr': 0.1}, [3, 3, 9])
    >>> search.stopped[0]["reason"]
    'round 1: ranked 3 of 3 by min val_loss after 3 epochs; the best 1 went on'
    """
    executor, run_dir = pop_run_options("halving_search", kwargs)
    seed = resolve_seed(seed)
    if n_candidates is None:
        candidates = parameter_grid(params)
    else:
        candidates = sample_parameters(params, check_positive_int("n_candidates", n_candidates), seed)
    if any("epochs" in c or "fit__epochs" in c for c in candidates):
        fail("params", "parameters other than epochs (halving_search sets each candidate's epochs)",
             "epochs", "Pass epochs=... (the last round's) instead")
    schedule = halving_schedule(len(candidates), epochs, factor, min_epochs)
    if kwargs.get("prune") is not None:
        fail("prune", "None: halving_search makes its own cuts", kwargs["prune"])
    select = kwargs.get("select", "val_loss")
    choice = dict(skip=kwargs.get("skip", 0), smooth=kwargs.get("smooth"), mode=kwargs.get("mode", "auto"))
    rounds: list = []
    trainer = _halving(schedule, factor, select, choice, rounds, verbose)
    record = {"kind": "halving", "factor": factor, "schedule": [list(r) for r in schedule],
              **({"n_iter": n_candidates} if n_candidates is not None else {})}
    search = run_search(build_fn, candidates, x, y, cv=cv, epochs=epochs, seed=seed, verbose=verbose,
                        record=record, trainer=trainer, executor=executor, run_dir=run_dir, **kwargs)
    search.params["rounds"] = rounds
    return search


def _ranked(scores: dict[int, float], mode: str) -> list[int]:
    """Candidate indices best first; NaN last; ties keep candidate order."""
    sign = 1.0 if mode == "min" else -1.0
    return sorted(scores, key=lambda i: (not np.isfinite(scores[i]),
                                         sign * scores[i] if np.isfinite(scores[i]) else 0.0, i))


def _halving(schedule: list, factor: int, select: str, choice: dict, rounds: list, verbose: int) -> Callable:
    """The trainer :func:`run_search` calls: the rounds, in this process or on an executor's workers."""

    def train(runs: list, candidates: list, executor: Any, settings: Any, report: Callable) -> list:
        choice["mode"] = resolve_mode(choice["mode"], select)
        if executor.in_process:
            check_stepwise("halving_search", executor, settings.strategy)
            steps: Any = Stepwise(runs, select, settings.on_error)
        else:
            steps = _Restarted(runs, executor, settings, select)
        results: dict[int, Any] = {}
        alive = list(range(len(runs)))
        for number, (budget, _) in enumerate(schedule, start=1):
            steps.train_all(alive, budget)
            scores = {i: (float("nan") if i in steps.failures else running_score(steps.curves(i, budget), **choice))
                      for i in alive}
            order, last = _ranked(scores, choice["mode"]), number == len(schedule)
            kept = order if last else order[:max(1, math.ceil(len(alive) / factor))]
            kept = [i for i in kept if i not in steps.failures]
            rounds.append({"round": number, "epochs": budget, "candidates": list(alive),
                           "scores": {str(i): scores[i] for i in alive}, "kept": sorted(kept)})
            for place, i in enumerate(order, start=1):
                if i in kept and not last:
                    steps.save(i)  # with a run directory: continued from here if the search is killed
                    continue
                stop = None if i in kept else {
                    "epoch": min(budget, steps.epochs_trained(i)), "round": number,
                    "reason": f"round {number}: ranked {place} of {len(alive)} by {choice['mode']} {select} "
                              f"after {budget} epochs; the best {len(kept)} went on"}
                results[i] = steps.finish(i, stop, executor)
                report(i, results[i])
            if verbose:
                print(f"Round {number}/{len(schedule)}: {len(alive)} candidates to epoch {budget}, {len(kept)} "
                      f"{'finished' if last else 'go on'}: {[plain(candidates[i]) for i in kept]}")
            alive = sorted(kept)
            if settings.store is not None:
                write_json(settings.store.path / ROUNDS_FILE, rounds)
            if not alive:
                break
        return [results.get(i) for i in range(len(runs))]

    return train


class _Restarted:
    """Halving on workers: each round trains its candidates from the start to the round's epochs."""

    def __init__(self, runs: list, executor: Any, settings: Any, select: str) -> None:
        self.runs, self.executor, self.settings, self.select = runs, executor, settings, select
        self.failures: dict[int, str] = {}
        self.last: dict[int, Any] = {}

    def train_all(self, alive: list[int], budget: int) -> None:
        """Every candidate of the round, to ``budget`` epochs, as one batch of tasks."""
        planned = {}
        for i in alive:
            run = self.runs[i]
            planned[i] = dataclasses.replace(run, config=dataclasses.replace(run.config, epochs=budget),
                                             params={**run.params, "epochs": budget}, finished=[], store=None,
                                             checkpoints=None, unsaved=[])
            if run.store is not None:  # each round's run in its own folder, resumed as any run is
                planned[i].open(RunDir(run.store.path / f"epochs_{budget}"))
        train_runs(list(planned.values()), self.executor, strategy=self.settings.strategy,
                   on_error=self.settings.on_error, verbose=self.settings.fold_verbose)
        self.last.update(planned)

    def curves(self, i: int, epochs: int | None = None) -> np.ndarray:
        return finished_curves(self.last[i].finished, self.select, epochs)

    def epochs_trained(self, i: int) -> int:
        return finished_curves(self.last[i].finished, self.select).shape[1]

    def save(self, i: int) -> None:
        """Nothing to save: the round's folds were saved as they finished."""

    def finish(self, i: int, stop: dict | None, executor: Any) -> Any:
        """Candidate ``i``'s result: its last round's run (also saved in its own folder, for kfold.load)."""
        run, last = self.runs[i], self.last[i]
        if run.todo():
            for outcome in last.finished:
                run.keep(outcome)
        last.why = f"{last.why} (halving on workers: each round trained from the start)"
        return record_stop(run, last.result(executor), stop)
