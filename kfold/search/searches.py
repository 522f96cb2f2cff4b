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
import dataclasses
import warnings
from typing import Any, Callable

import numpy as np

from kfold.core import check_bool, check_choice, fail
from kfold.search.candidates import bind, check_candidates, parameter_grid, plain, sample_parameters
from kfold.split import PredefinedSplits, folds_hash
from kfold.executors import open_executor
from kfold.results import RULES, MODES, check_smooth
from kfold.search.refit import REFIT_POLICIES
from kfold.search.search_result import SearchResult
from kfold.train import (check_callbacks, check_inputs, check_on_error, check_strategy, plan_folds,
                         pop_run_options, run_options, sharing_graphs)
from kfold.core import release_memory
from kfold.core import resolve_seed
from kfold.search.rundir import open_search_dir
from kfold.search._training import (SearchSettings, _naming_candidate, executor_here, finished_candidates,
                                    plan_candidates, refit_best, train_candidates)
from kfold.search.select_check import check_select
from kfold.search.pruning import check_pruner, pruned_trainer
from kfold.search.stepwise import check_stepwise

__all__ = ["grid_search", "random_search", "run_search", "describe_cv"]

def _check_options(select: Any, skip: Any, smooth: Any, rule: Any, mode: Any, refit_epochs: Any,
                   verbose: Any, *, refit: Any = True) -> None:
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
    check_bool("refit", refit)


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


def run_search(build_fn: Callable, candidates: list[dict], x: Any, y: Any, *, cv: Any = 5,
               epochs: int, batch_size: int = 32, select: str = "val_loss", skip: int = 0,
               smooth: float | None = None, rule: str = "min", mode: str = "auto",
               refit: bool = True, refit_epochs: Any = "same", preprocess: Any = None,
               callbacks: Any = None, fit_kwargs: dict | None = None, sample_weight: Any = None,
               groups: Any = None, seed: int | None = None, verbose: int = 1, return_models: bool = False,
               strategy: str = "auto", run_dir: Any = None, on_error: str = "raise",
               nan_policy: str = "raise", executor: Any = "sequential",
               prune: Any = None, record: dict | None = None, trainer: Callable | None = None,
               **kwargs: Any) -> SearchResult:
    """Cross-validate each candidate on one fold manifest, choose, and refit.

    The engine behind :func:`grid_search` and :func:`random_search`; the
    arguments are theirs, with the candidates as a list of dicts. With
    ``run_dir``, the search manifest is written (or checked) before any training
    and candidate ``i`` runs in ``run_dir/candidate_<i>`` (:mod:`kfold.search.rundir`).
    ``trainer(runs, candidates, executor, settings, report)`` trains the planned
    runs (``settings``: a :class:`kfold.search._training.SearchSettings`; default
    :func:`kfold.search._training.train_candidates`;
    :func:`kfold.halving_search` passes its rounds). Fused candidates of one
    architecture share one compiled graph (``search.graph_traces`` counts them).

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
    executor, run_dir = run_options("run_search", executor, run_dir, kwargs)
    _check_options(select, skip, smooth, rule, mode, refit_epochs, verbose, refit=refit)
    check_on_error(on_error)
    check_strategy(strategy, None)
    check_pruner(prune)
    if prune is not None:
        check_stepwise("a pruned search", None, strategy)
        trainer = pruned_trainer(prune, select=select, smooth=smooth, mode=mode)
    routed = check_candidates(build_fn, candidates, epochs=epochs, batch_size=batch_size,
                              fit_kwargs=fit_kwargs)
    data, groups, n = check_inputs(x, y, sample_weight, groups, preprocess=preprocess, nan_policy=nan_policy)
    callbacks = check_callbacks(callbacks)  # one callback is a list of one, as in cross_validate
    seed = resolve_seed(seed)
    chosen: dict = {}
    tasks = plan_folds(cv, n, data.y, groups, seed=seed, info=chosen)
    folds = [(t.train, t.val) for t in tasks]
    settings = SearchSettings(preprocess=preprocess, callbacks=callbacks, strategy=strategy,
                              on_error=on_error, return_models=bool(return_models), fold_verbose=max(0, verbose - 1),
                              keras_verbose=2 if verbose == 2 else 0, chosen=chosen)
    runs = plan_candidates(build_fn, routed, data, tasks, PredefinedSplits(folds), seed, settings)
    record = {**(record or {}), **chosen, "seed": seed, "cv": describe_cv(cv), "n_candidates": len(candidates),
              "folds_hash": folds_hash(folds), "refit_epochs_policy": plain(refit_epochs),
              **({"prune": repr(prune)} if prune is not None else {})}
    if verbose and chosen["cv_choice"]:
        print(f"Folds: {chosen['cv_choice']}")  # as cross_validate prints it
    store = None
    if run_dir is not None:  # the manifest first, then each candidate in its own run directory
        training = dict(build_fn=build_fn, epochs=epochs, batch_size=batch_size, preprocess=preprocess,
                        callbacks=callbacks, fit_kwargs=fit_kwargs, strategy=strategy)
        choice = dict(select=select, skip=skip, smooth=smooth, mode=mode, rule=rule, refit=refit,
                      refit_epochs=refit_epochs)
        store = open_search_dir(run_dir.path, candidates, folds, (data.x, data.y, data.sample_weight), record,
                                training, choice, overwrite=run_dir.overwrite)
        record["run_dir"] = str(run_dir.path)
    if executor_here(executor):  # a select the models will not log: refused now, not after the first candidate
        check_select(select, bind(build_fn, routed[0]["build"]), data.x, data.y, preprocess=preprocess,
                     callbacks=callbacks, seed=seed, saved=None if store is None else store.candidate_dir(0))

    def report(i: int, result: Any) -> None:  # each candidate, once its folds are all done
        _record(result, cv, i, candidates[i])
        _check_select(result, select)  # what check_select could not tell beforehand
        if verbose:
            selection = result.best_epoch(select, skip=skip, smooth=smooth, mode=mode, rule=rule)
            print(f"[{i + 1}/{len(candidates)}] {candidates[i]!r}: {selection}")
        release_memory()  # the candidate's fold models are garbage cycles now: freed before the next one

    with open_executor(executor) as pool:  # one pool serves every candidate
        check_strategy(strategy, pool)
        for i, run in enumerate(runs):
            run.open(None if store is None else run_dir.at(store.candidate_dir(i)))
        settings = dataclasses.replace(settings, store=store)
        naming = _naming_candidate(candidates) if trainer else contextlib.nullcontext()  # train_candidates names
        with sharing_graphs() as graphs, naming:  # one compiled graph per architecture
            results = (trainer or train_candidates)(runs, candidates, pool, settings, report)
    kept = finished_candidates(results, record)
    search = SearchResult([results[i] for i in kept], [candidates[i] for i in kept], select=select, skip=skip,
                          smooth=smooth, mode=mode, rule=rule, params=record, graph_traces=graphs.graphs_made)
    if refit and not record.get("interrupted"):
        try:
            refit_best(search, build_fn, routed, data, folds, refit_epochs, preprocess=preprocess,
                   callbacks=callbacks, seed=seed, verbose=min(verbose, 1))
        except KeyboardInterrupt:  # the candidates' curves are kept; only the refit is lost
            warnings.warn("Interrupted during the refit: the search is returned without best_model; "
                          "refit it with kfold.fit_final.", RuntimeWarning, stacklevel=3)
            search.refit_epochs, search.best_model = None, None
            record["interrupted"] = True
    return search


def grid_search(build_fn: Callable, param_grid: Any, x: Any, y: Any, *, cv: Any = 5, epochs: int,
                batch_size: int = 32, select: str = "val_loss", skip: int = 0,
                smooth: float | None = None, rule: str = "min", mode: str = "auto",
                refit: bool = True, refit_epochs: Any = "same", preprocess: Any = None,
                callbacks: Any = None, fit_kwargs: dict | None = None, sample_weight: Any = None,
                groups: Any = None, seed: int | None = None, verbose: int = 1, return_models: bool = False,
                strategy: str = "auto", run_dir: Any = None, on_error: str = "raise",
                nan_policy: str = "raise", executor: Any = "sequential", prune: Any = None,
                **kwargs: Any) -> SearchResult:
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
    run_dir : path or kfold.RunDir, optional
        Save the search there: a manifest (candidates, folds and their hash, data
        hash, seed, settings, package versions) before any training, then
        candidate ``i`` as the ``cross_validate`` run directory
        ``run_dir/candidate_<i>``, each fold written the moment it ends. Running
        again with the same ``run_dir`` skips the finished folds and candidates;
        ``kfold.load(run_dir)`` returns the :class:`SearchResult` (without
        ``best_model``). A folder holding another search is refused (the message
        says what differs); changing only ``select``, ``skip``, ``smooth``,
        ``mode``, ``rule`` or the refit reuses every candidate.
        ``run_dir=kfold.RunDir(path, overwrite=True)`` deletes the folder's old
        search and starts fresh; its ``save_weights`` and ``checkpoint_every``
        apply to every candidate (a killed candidate resumes from its last checkpoint).
    return_models, strategy, on_error, nan_policy
        As in :func:`kfold.cross_validate`, for every candidate.
    executor : {"sequential", "processes", "dask", "ray"}, kfold.Processes, kfold.Dask or kfold.Ray
        As in :func:`kfold.cross_validate`. One executor (its worker processes,
        or its Dask cluster) serves every candidate; each fold of each candidate
        is one task, and a failing fold's error names its candidate.
    prune : kfold.MedianPruner, optional
        Stop a candidate early once its fold-mean ``select`` curve is clearly
        worse than the earlier candidates' (the rule is the pruner's). The
        candidates then train one after another in this process, fused, epoch
        by epoch (continued, never restarted); a stopped one keeps its curves
        up to that epoch (``search.stopped`` says when and why) and is not
        chosen. ``run_dir`` resumes it; worker executors are refused.
    **kwargs
        Deprecated spellings, warned about: ``n_jobs``, ``client``, ``devices``,
        ``retries``, ``max_tasks_per_worker``, ``overwrite``, ``save_weights``,
        ``checkpoint_every`` (as in :func:`kfold.cross_validate`).

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
    executor, run_dir = run_options("grid_search", executor, run_dir, kwargs)
    return run_search(build_fn, parameter_grid(param_grid), x, y, cv=cv, epochs=epochs, batch_size=batch_size,
                      select=select, skip=skip, smooth=smooth, rule=rule, mode=mode, refit=refit,
                      refit_epochs=refit_epochs, preprocess=preprocess, callbacks=callbacks, fit_kwargs=fit_kwargs,
                      sample_weight=sample_weight, groups=groups, seed=seed, verbose=verbose,
                      return_models=return_models, strategy=strategy, run_dir=run_dir, on_error=on_error,
                      nan_policy=nan_policy, executor=executor, prune=prune, record={"kind": "grid"})


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
        Every other argument of :func:`grid_search` (``cv``, ``epochs``, ``run_dir``, ``prune``, ...).

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

    executor, run_dir = pop_run_options("random_search", kwargs)
    seed = resolve_seed(seed)
    candidates = sample_parameters(param_distributions, n_iter, seed)
    record = {"kind": "random", "n_iter": n_iter}
    return run_search(build_fn, candidates, x, y, seed=seed, record=record, executor=executor, run_dir=run_dir,
                      **kwargs)
