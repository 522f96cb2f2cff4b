"""Grid and random search that keep every fold's curves and pick the epoch too.

The loop a reader would write, with what ``GridSearchCV`` cannot do::

    folds = plan the folds once                      # one manifest, hashed
    for params in candidates:
        results.append(cross_validate(build_fn(**params), x, y, cv=folds, ...))
    best (params, epoch) = the best point of any candidate's mean validation curve
    best_model = fit_final(build_fn(**best params), x, y, epochs=best epoch)

Every candidate is trained on the same folds with the same per-fold seeds, so
candidates are compared pair-wise (:func:`kfold.compare`), and every candidate
keeps its full :class:`~kfold.CVResult`.
"""
from __future__ import annotations

import contextlib
import os
from typing import Any, Callable, Iterator

import numpy as np

from kfold.core.checks import check_choice, check_positive_int, fail
from kfold.data.arrays import as_arrays, n_samples
from kfold.search.candidates import bind, check_candidates, parameter_grid, plain, sample_parameters
from kfold.split.check import PredefinedSplits, folds_hash
from kfold.executors.base import EXECUTOR_OPTIONS
from kfold.executors.factory import open_executor
from kfold.core.errors import FoldError
from kfold.results.curves import RULES, MODES, check_smooth
from kfold.search.refit import REFIT_POLICIES, refit_epochs_for
from kfold.search.search_result import SearchResult
from kfold.train.cross_validation import cross_validate
from kfold.train.travel import check_travel
from kfold.train.strategy import check_strategy, run_many
from kfold.train.cross_validation import plan_run
from kfold.train.final import fit_final
from kfold.core.seeds import resolve_seed
from kfold.train.cross_validation import plan_folds
from kfold.search.rundir import open_search_dir
from kfold.search.pruning import check_pruner, pruned_trainer
from kfold.train.fused.continuation import sharing_graphs

__all__ = ["grid_search", "random_search", "run_search", "describe_cv"]

def _check_options(select: Any, skip: Any, smooth: Any, rule: Any, mode: Any, refit_epochs: Any,
                   verbose: Any) -> None:
    if not isinstance(select, str):
        fail("select", "the name of a validation key, e.g. 'val_loss'", select, error=TypeError)
    if isinstance(skip, bool) or not isinstance(skip, (int, np.integer)) or skip < 0:
        fail("skip", "a non-negative integer", skip)
    check_smooth(smooth)
    check_choice("rule", rule, RULES)
    check_choice("mode", mode, MODES)
    if not isinstance(refit_epochs, (int, np.integer)) or isinstance(refit_epochs, bool):
        check_choice("refit_epochs", refit_epochs, REFIT_POLICIES)
    check_choice("verbose", verbose, (0, 1, 2))


def describe_cv(cv: Any) -> str:
    """``repr(cv)`` for a number or a splitter; a short note for explicit index pairs.

    Examples
    --------
    >>> describe_cv(5), describe_cv([([1], [0]), ([0], [1])])
    ('5', '<2 explicit (train, val) pairs>')
    """
    if isinstance(cv, (int, np.integer)) or hasattr(cv, "split"):
        return repr(cv)
    return f"<{len(list(cv))} explicit (train, val) pairs>" if hasattr(cv, "__len__") else repr(cv)


def _check_select(result: Any, select: str) -> None:
    if select not in result.history:
        fail("select", f"a key of the history, one of {result.history.keys()}", select,
             "Pass select='val_loss' or one of the validation metrics")


def _record(result: Any, cv: Any, index: int, candidate: dict) -> None:
    """Lay the candidate's parameters over cross_validate's own record."""
    result.params["cv"] = describe_cv(cv)
    result.params.update(plain(candidate))
    result.params["candidate"] = plain(candidate)
    result.params["candidate_index"] = index


@contextlib.contextmanager
def _naming_candidate(candidates: list[dict]) -> Iterator[None]:
    """A fold that fails also names its candidate (from 1) and the candidate's parameters."""
    try:
        yield
    except FoldError as error:
        i = error.candidate
        if i is not None:
            text = error.args[0].replace(f" (candidate {i + 1})", "")
            error.args = (f"Candidate {i + 1} {plain(candidates[i])!r}: {text}", *error.args[1:])
        raise


_OPEN_KWARGS = ("run_dir", "overwrite", "save_weights")  # what PlannedRun.open takes, not plan_run


def _one_by_one(build_fn: Callable, routed: list, x: Any, y: Any, cv: Any, shared: dict, run_dirs: list,
                executor: Any, report: Callable[[int, Any], None]) -> list:
    """In this process: one ``cross_validate`` per candidate (fused folds when possible)."""

    results = []
    for i, r in enumerate(routed):
        try:
            results.append(cross_validate(bind(build_fn, r["build"]), x, y, cv=cv, epochs=r["epochs"],
                                          batch_size=r["batch_size"], fit_kwargs=r["fit"], executor=executor,
                                          run_dir=run_dirs[i], **shared))
        except FoldError as error:
            error.candidate = i
            raise
        report(i, results[-1])
    return results


def _all_at_once(build_fn: Callable, routed: list, x: Any, y: Any, cv: Any, shared: dict, run_dirs: list,
                 executor: Any, report: Callable[[int, Any], None]) -> list:
    """On workers or a cluster: every fold of every candidate is one task, all sent at once."""

    check_strategy(shared.get("strategy", "auto"), executor)
    shared = dict(shared)
    on_error = shared.pop("on_error", "raise")
    opening = {name: shared.pop(name) for name in _OPEN_KWARGS if name in shared}
    runs = [plan_run(bind(build_fn, r["build"]), x, y, cv=cv, epochs=r["epochs"], batch_size=r["batch_size"],
                     fit_kwargs=r["fit"], **shared) for r in routed]
    others = {f"build_fn of candidate {i + 1}": run.build_fn for i, run in enumerate(runs[1:], 1)}
    check_travel(executor, runs[0].build_fn, return_models=runs[0].config.return_model,
                 preprocess=shared.get("preprocess"), callbacks=runs[0].config.callbacks, **others)
    for run, run_dir in zip(runs, run_dirs):
        run.open(run_dir, **opening)
    why = f"executor={executor.name!r} trains one fold of one candidate per task on {executor.n_workers} workers"
    run_many(runs, executor, strategy=shared.get("strategy", "auto"), on_error=on_error,
             verbose=shared.get("verbose", 0))
    results = [run.result("sequential", why, executor) for run in runs]
    for i, result in enumerate(results):
        report(i, result)
    return results


def run_search(build_fn: Callable, candidates: list[dict], x: Any, y: Any, *, cv: Any = 5,
               epochs: int, batch_size: int = 32, select: str = "val_loss", skip: int = 0,
               smooth: float | None = None, rule: str = "min", mode: str = "auto",
               refit: bool = True, refit_epochs: Any = "same", preprocess: Any = None,
               callbacks: Any = None, fit_kwargs: dict | None = None, sample_weight: Any = None,
               groups: Any = None, seed: int | None = None, verbose: int = 1,
               record: dict | None = None, run_dir: str | os.PathLike | None = None,
               overwrite: bool = False, prune: Any = None, **cv_kwargs: Any) -> SearchResult:
    """Cross-validate each candidate on one fold manifest, choose, and refit.

    The engine behind :func:`grid_search` and :func:`random_search`; the
    arguments are theirs, with the candidates as a list of dicts. With
    ``run_dir``, the search manifest is written (or checked) before any training
    and candidate ``i`` runs in ``run_dir/candidate_<i>`` (:mod:`kfold.search.rundir`).

    Examples
    --------
    >>> import numpy as np
    >>> from kfold.train.keras_fit import doctest_model
    >>> def build(lr=0.01):
    ...     return doctest_model()
    >>> search = run_search(build, [{"lr": 0.1}], np.random.rand(12, 2), np.random.rand(12),
    ...                     cv=3, epochs=2, seed=0, verbose=0, refit=False)
    >>> search.best_params, search.results[0].params["lr"]
    ({'lr': 0.1}, 0.1)
    """

    _check_options(select, skip, smooth, rule, mode, refit_epochs, verbose)
    check_pruner(prune, run_dir)
    routed = check_candidates(build_fn, candidates, epochs=epochs, batch_size=batch_size,
                              fit_kwargs=fit_kwargs)
    x, y, groups = as_arrays(x, "x"), as_arrays(y, "y"), as_arrays(groups, "groups")
    seed = resolve_seed(seed)
    folds = [(t.train, t.val) for t in plan_folds(cv, n_samples(x), y, groups, seed=seed)]
    options = {name: cv_kwargs.pop(name) for name in EXECUTOR_OPTIONS if name in cv_kwargs}
    shared = dict(preprocess=preprocess, callbacks=callbacks, sample_weight=sample_weight,
                  seed=seed, verbose=max(0, verbose - 1), **cv_kwargs)
    record = {**(record or {}), "seed": seed, "cv": describe_cv(cv), "n_candidates": len(candidates),
              "folds_hash": folds_hash(folds), "refit_epochs_policy": plain(refit_epochs)}
    store = None
    if run_dir is not None:  # the manifest first, then each candidate in its own run directory

        settings = dict(build_fn=build_fn, epochs=epochs, batch_size=batch_size, preprocess=preprocess,
                        callbacks=callbacks, fit_kwargs=fit_kwargs,
                        strategy=cv_kwargs.get("strategy", "auto"))
        choice = dict(select=select, skip=skip, smooth=smooth, mode=mode, rule=rule, refit=refit,
                      refit_epochs=refit_epochs)
        store = open_search_dir(run_dir, candidates, folds, (x, y, sample_weight), record, settings,
                                choice, overwrite=overwrite)
        record["run_dir"] = str(run_dir)

    def report(i: int, result: Any) -> None:  # each candidate, once its folds are all done
        _record(result, cv, i, candidates[i])
        _check_select(result, select)  # with one candidate at a time: fails after the first
        if verbose:
            selection = result.best_epoch(select, skip=skip, smooth=smooth, mode=mode, rule=rule)
            print(f"[{i + 1}/{len(candidates)}] {candidates[i]!r}: {selection}")

    with open_executor(**options) as executor:  # one pool or cluster serves every candidate
        run_dirs = [None if store is None else store.candidate_dir(i) for i in range(len(candidates))]
        train = _one_by_one if executor.in_process else _all_at_once
        if prune is not None:  # issue 14: candidates trained epoch by epoch, stopped by the pruner
            train = pruned_trainer(prune, select=select, smooth=smooth, mode=mode, run_dir=run_dir)
            record["prune"] = repr(prune)
        with _naming_candidate(candidates), sharing_graphs() as pool:  # one compiled graph per architecture
            results = train(build_fn, routed, x, y, PredefinedSplits(folds), shared, run_dirs, executor, report)
    search = SearchResult(results, list(candidates), select=select, skip=skip, smooth=smooth,
                          mode=mode, rule=rule, params=record)
    search.graph_traces = pool.traces
    if refit:
        best = routed[search.best_index]
        search.refit_epochs = refit_epochs_for(refit_epochs, search.best_epoch, folds, n_samples(x))
        search.best_model = fit_final(bind(build_fn, best["build"]), x, y, epochs=search.refit_epochs,
                                      batch_size=best["batch_size"], fit_kwargs=best["fit"],
                                      preprocess=preprocess, callbacks=callbacks,
                                      sample_weight=sample_weight, seed=seed)
    return search


def grid_search(build_fn: Callable, param_grid: Any, x: Any, y: Any, *, cv: Any = 5, epochs: int,
                batch_size: int = 32, select: str = "val_loss", skip: int = 0,
                smooth: float | None = None, rule: str = "min", mode: str = "auto",
                refit: bool = True, refit_epochs: Any = "same", preprocess: Any = None,
                callbacks: Any = None, fit_kwargs: dict | None = None, sample_weight: Any = None,
                groups: Any = None, seed: int | None = None, verbose: int = 1,
                run_dir: str | os.PathLike | None = None, overwrite: bool = False,
                prune: Any = None, **cv_kwargs: Any) -> SearchResult:
    """Cross-validate every combination of ``param_grid`` and pick the best (params, epoch).

    Parameters
    ----------
    build_fn : callable
        ``build_fn(**params)`` returns a new compiled Keras model.
    param_grid : dict of lists, or list of such dicts
        The values to try. Names route as follows: ``epochs`` and ``batch_size``
        go to training; ``fit__<name>`` goes to ``model.fit(<name>=...)`` (e.g.
        ``fit__class_weight``); ``model__<name>`` and every other name go to
        ``build_fn(<name>=...)``. A name ``build_fn`` does not accept is refused
        before any training.
    x, y : array, or dict/list of arrays
        All the data the folds are drawn from.
    cv : int, splitter or iterable of (train, val), default 5
        As in :func:`kfold.cross_validate`. The folds are planned **once** and
        every candidate uses them (``search.folds_hash``).
    epochs, batch_size : int
        Defaults for candidates that do not set them.
    select : str, default "val_loss"
        History key the choice is made on (e.g. ``"val_accuracy"``).
    skip, smooth, mode, rule
        As in :func:`kfold.best_epoch`, applied to each candidate's mean curve.
        The best candidate is the one whose (smoothed) mean curve reaches the
        best value at any epoch, jointly with that epoch. ``rule="one_se"``
        then takes the earliest epoch within one standard error of it.
    refit : bool, default True
        Retrain the best candidate on all of ``x, y`` (``search.best_model``).
    refit_epochs : {"same", "scaled"} or int, default "same"
        Epochs of the refit: ``"same"``, the selected epoch (the book's choice);
        ``"scaled"``, the selected epoch × n / mean training size (k/(k-1) for
        k-fold), assuming the best length grows with the training set; or an int.
    preprocess, callbacks, fit_kwargs, sample_weight, groups, seed
        As in :func:`kfold.cross_validate`; ``seed`` also seeds the refit.
    verbose : {0, 1, 2}
        0 silent; 1 one line per candidate; 2 also each candidate's fold progress.
    run_dir : path, optional
        Save the search there: a manifest (candidates, folds and their hash, data
        hash, seed, settings, package versions) before any training, then
        candidate ``i`` as the ``cross_validate`` run directory
        ``run_dir/candidate_<i>``, each fold written the moment it ends. Running
        again with the same ``run_dir`` skips the finished folds and candidates;
        ``kfold.load(run_dir)`` returns the :class:`SearchResult` (without
        ``best_model``). A folder holding another search is refused (the message
        says what differs); changing only ``select``, ``skip``, ``smooth``,
        ``mode``, ``rule`` or the refit reuses every candidate.
    overwrite : bool
        With ``run_dir``: delete the folder's old search and start fresh.
    prune : kfold.MedianPruner, optional
        Stop a candidate early when its fold-mean ``select`` curve is clearly
        worse than the candidates' before it (the rule is the pruner's).
        Candidates then train one after another in this process, fused and
        epoch by epoch; a stopped one keeps its curves up to that epoch
        (``search.stopped`` says when and why) and is not chosen. Not with
        ``run_dir`` nor with an executor of worker processes.
    **cv_kwargs
        Passed on to :func:`kfold.cross_validate`: ``strategy``, ``on_error``,
        ``executor``, ``n_jobs``, ``client``, ``devices``, ``retries``,
        ``max_tasks_per_worker``... One
        executor (its worker processes, or its Dask cluster) serves every
        candidate; each fold of each candidate is one task, and a failing fold's
        error names its candidate.

    Returns
    -------
    SearchResult

    Examples
    --------
    >>> import numpy as np, keras, kfold
    >>> def build_model(units):
    ...     model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(units, activation="relu"),
    ...                               keras.layers.Dense(1)])
    ...     model.compile(optimizer="rmsprop", loss="mse")
    ...     return model
    >>> x, y = np.random.rand(30, 3), np.random.rand(30)
    >>> search = kfold.grid_search(build_model, {"units": [4, 8]}, x, y, cv=3, epochs=3,
    ...                            seed=0, verbose=0)
    >>> search.results[1].history["val_loss"].shape, search.results[1].params["units"]
    ((3, 3), 8)
    >>> search.results[0].folds_hash == search.results[1].folds_hash == search.folds_hash
    True
    >>> 1 <= search.best_epoch <= 3, search.best_model.predict(x[:2]).shape
    (True, (2, 1))
    """
    return run_search(build_fn, parameter_grid(param_grid), x, y, cv=cv, epochs=epochs,
                      batch_size=batch_size, select=select, skip=skip, smooth=smooth, rule=rule,
                      mode=mode, refit=refit, refit_epochs=refit_epochs, preprocess=preprocess,
                      callbacks=callbacks, fit_kwargs=fit_kwargs, sample_weight=sample_weight,
                      groups=groups, seed=seed, verbose=verbose, record={"kind": "grid"}, run_dir=run_dir,
                      overwrite=overwrite, prune=prune, **cv_kwargs)


def random_search(build_fn: Callable, param_distributions: Any, x: Any, y: Any, *, n_iter: int = 10,
                  seed: int | None = None, **kwargs: Any) -> SearchResult:
    """Cross-validate ``n_iter`` candidates drawn at random; pick the best (params, epoch).

    Parameters
    ----------
    build_fn, x, y
        As in :func:`grid_search`.
    param_distributions : dict, or list of dicts
        Per name, a list to draw from uniformly, or an object with
        ``rvs(random_state=...)`` (e.g. ``scipy.stats.loguniform(1e-4, 1e-2)``).
        Names route as in :func:`grid_search`. With a list of dicts, each
        candidate first draws one of them.
    n_iter : int, default 10
        Number of candidates; with only lists, at most the size of their grid.
    seed : int, optional
        Seeds the draws and the training, as in :func:`grid_search` (recorded when None).
    **kwargs
        Every other argument of :func:`grid_search` (``cv``, ``epochs``, ``run_dir``, ...).

    Returns
    -------
    SearchResult

    Examples
    --------
    >>> import numpy as np
    >>> from kfold.train.keras_fit import doctest_model
    >>> def build(lr):
    ...     return doctest_model()
    >>> search = random_search(build, {"lr": [0.1, 0.01, 0.001]}, np.random.rand(12, 2),
    ...                        np.random.rand(12), n_iter=2, seed=0, cv=2, epochs=1, verbose=0,
    ...                        refit=False)
    >>> len(search.candidates), search.params["kind"]
    (2, 'random')
    """

    seed = resolve_seed(seed)
    candidates = sample_parameters(param_distributions, n_iter, seed)
    record = {"kind": "random", "n_iter": n_iter}
    return run_search(build_fn, candidates, x, y, seed=seed, record=record, **kwargs)
