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

import math
from typing import Any, Callable

import numpy as np

from kfold.core.checks import check_positive_int, fail
from kfold.core.seeds import resolve_seed
from kfold.data.arrays import as_arrays, n_samples
from kfold.executors.base import EXECUTOR_OPTIONS
from kfold.executors.factory import open_executor
from kfold.results.curves import resolve_mode
from kfold.search.candidates import bind, check_candidates, parameter_grid, plain, sample_parameters
from kfold.search.refit import refit_epochs_for
from kfold.search.search_result import SearchResult
from kfold.search.searches import _check_options, _check_select, _naming_candidate, _record, describe_cv
from kfold.search.stepwise import Stepwise, check_in_process, running_score
from kfold.split.check import PredefinedSplits, folds_hash
from kfold.train.cross_validation import plan_folds
from kfold.train.final import fit_final

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


def _ranked(scores: dict[int, float], mode: str) -> list[int]:
    """Candidate indices best first; NaN last; ties keep candidate order."""
    sign = 1.0 if mode == "min" else -1.0
    return sorted(scores, key=lambda i: (not np.isfinite(scores[i]), sign * scores[i] if np.isfinite(scores[i]) else 0.0, i))


def halving_search(build_fn: Callable, params: Any, x: Any, y: Any, *, cv: Any = 5, epochs: int,
                   factor: int = 3, min_epochs: int | None = None, n_candidates: int | None = None,
                   batch_size: int = 32, select: str = "val_loss", skip: int = 0,
                   smooth: float | None = None, rule: str = "min", mode: str = "auto", refit: bool = True,
                   refit_epochs: Any = "same", preprocess: Any = None, callbacks: Any = None,
                   fit_kwargs: dict | None = None, sample_weight: Any = None, groups: Any = None,
                   seed: int | None = None, verbose: int = 1, run_dir: Any = None,
                   **cv_kwargs: Any) -> SearchResult:
    """Successive halving over epochs: the losing candidates stop early, the others continue.

    Parameters
    ----------
    build_fn, x, y, cv, batch_size, select, skip, smooth, rule, mode, refit, refit_epochs
        As in :func:`kfold.grid_search`; ``select``, ``skip``, ``smooth`` and
        ``mode`` also rank the candidates after every round (the best value so
        far of each one's smoothed mean curve across folds).
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
    preprocess, callbacks, fit_kwargs, sample_weight, groups, seed, verbose
        As in :func:`kfold.grid_search`. Callbacks (``EarlyStopping``) keep
        their state from round to round.
    run_dir : None
        Not implemented for halving (refused): the fold models live in memory.
    **cv_kwargs
        ``strategy`` ("auto" or "fused": every candidate is trained fused, in
        this process) and ``on_error``: ``"skip"`` stops a failing candidate
        (its stop reason says why) instead of raising.

    Returns
    -------
    SearchResult
        Every candidate with its per-fold curves up to the epoch it reached;
        ``search.rounds`` (per round: the epochs reached, the candidates trained,
        their scores, who went on), ``search.stopped`` (when and why each
        stopped) and ``cv_results["epochs_trained"]``. The best (params, epoch)
        is chosen among the candidates of the last round.

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
    _check_options(select, skip, smooth, rule, mode, refit_epochs, verbose)
    check_in_process("halving_search", None, run_dir)
    seed = resolve_seed(seed)
    if n_candidates is None:
        candidates = parameter_grid(params)
    else:
        candidates = sample_parameters(params, check_positive_int("n_candidates", n_candidates), seed)
    if any("epochs" in c or "fit__epochs" in c for c in candidates):
        fail("params", "parameters other than epochs (halving_search sets each candidate's epochs)",
             "epochs", "Pass epochs=... (the last round's) instead")
    schedule = halving_schedule(len(candidates), epochs, factor, min_epochs)
    routed = check_candidates(build_fn, candidates, epochs=epochs, batch_size=batch_size, fit_kwargs=fit_kwargs)
    x, y, groups = as_arrays(x, "x"), as_arrays(y, "y"), as_arrays(groups, "groups")
    folds = [(t.train, t.val) for t in plan_folds(cv, n_samples(x), y, groups, seed=seed)]
    options = {name: cv_kwargs.pop(name) for name in EXECUTOR_OPTIONS if name in cv_kwargs}
    shared = dict(preprocess=preprocess, callbacks=callbacks, sample_weight=sample_weight,
                  seed=seed, verbose=max(0, verbose - 1), **cv_kwargs)
    mode = resolve_mode(mode, select)
    record = {"kind": "halving", "seed": seed, "cv": describe_cv(cv), "n_candidates": len(candidates),
              "folds_hash": folds_hash(folds), "refit_epochs_policy": plain(refit_epochs), "factor": factor,
              "schedule": [list(r) for r in schedule]}
    with open_executor(**options) as executor, _naming_candidate(candidates):
        check_in_process("halving_search", executor, None)
        steps = Stepwise(build_fn, routed, x, y, PredefinedSplits(folds), shared, select)
        results, rounds = _rounds(steps, schedule, factor, candidates, executor.name,
                                  dict(skip=skip, smooth=smooth, mode=mode), verbose)
    for i, result in enumerate(results):
        _record(result, cv, i, candidates[i])
        _check_select(result, select)
    record["rounds"] = rounds
    search = SearchResult(results, list(candidates), select=select, skip=skip, smooth=smooth,
                          mode=mode, rule=rule, params=record, graph_traces=steps.pool.traces)
    if refit:
        best = routed[search.best_index]
        search.refit_epochs = refit_epochs_for(refit_epochs, search.best_epoch, folds, n_samples(x))
        search.best_model = fit_final(bind(build_fn, best["build"]), x, y, epochs=search.refit_epochs,
                                      batch_size=best["batch_size"], fit_kwargs=best["fit"],
                                      preprocess=preprocess, callbacks=callbacks,
                                      sample_weight=sample_weight, seed=seed)
    return search


def _rounds(steps: Stepwise, schedule: list, factor: int, candidates: list, executor_name: str,
            choice: dict, verbose: int) -> tuple[list, list]:
    """Train the rounds; return every candidate's result (in order) and the rounds' record."""
    results: dict[int, Any] = {}
    alive, rounds = list(range(len(candidates))), []
    for number, (budget, _) in enumerate(schedule, start=1):
        for i in alive:
            steps.train(i, budget)
        scores = {i: running_score(steps.curves(i), **choice) for i in alive}
        for i in alive:
            if i in steps.failures:
                scores[i] = float("nan")
        order = _ranked(scores, choice["mode"])
        last = number == len(schedule)
        kept = order if last else order[:max(1, math.ceil(len(alive) / factor))]
        kept = [i for i in kept if i not in steps.failures] or kept[:0]
        rounds.append({"round": number, "epochs": budget, "candidates": list(alive),
                       "scores": {str(i): scores[i] for i in alive}, "kept": sorted(kept)})
        for place, i in enumerate(order, start=1):
            if i in kept and not last:
                continue
            stop = None
            if i not in kept:
                stop = {"epoch": steps.epochs_trained(i), "round": number,
                        "reason": f"round {number}: ranked {place} of {len(alive)} by {choice['mode']} "
                                  f"{steps.select} after {budget} epochs; the best {len(kept)} went on"}
            results[i] = steps.result(i, stop, executor_name)
        if verbose:
            print(f"Round {number}/{len(schedule)}: {len(alive)} candidates to epoch {budget}, "
                  f"{len(kept)} {'finished' if last else 'go on'}: {[plain(candidates[i]) for i in kept]}")
        alive = sorted(kept)
        if not alive:
            break
    return [results[i] for i in range(len(candidates))], rounds
