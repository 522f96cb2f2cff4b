"""A search's candidates trained: planned on the same folds, run through the one training path, refit."""
from __future__ import annotations

import contextlib
import dataclasses
import warnings
from typing import Any, Callable, Iterator

from kfold.core import FoldError
from kfold.data import n_samples
from kfold.search.candidates import bind, plain
from kfold.search.refit import refit_epochs_for
from kfold.search.search_result import SearchResult
from kfold.train import FitConfig, check_travel, fill_paths, fit_final, new_run, train_runs

__all__ = ["SearchSettings", "plan_candidates", "train_candidates", "refit_best", "finished_candidates",
           "executor_here"]


@dataclasses.dataclass(frozen=True)
class SearchSettings:
    """What every candidate of a search trains with, from :func:`~kfold.search.searches.run_search` to its trainer.

    Examples
    --------
    >>> SearchSettings(strategy="auto", on_error="raise").fold_verbose
    0
    """

    preprocess: Any = None
    callbacks: list = dataclasses.field(default_factory=list)
    strategy: str = "auto"
    on_error: str = "raise"
    return_models: bool = False
    fold_verbose: int = 0  #: verbose of each candidate's fold progress
    keras_verbose: int = 0
    chosen: dict = dataclasses.field(default_factory=dict)  #: what plan_folds chose (cv_choice, ...)
    store: Any = None  #: the search's run directory (kfold.search.rundir.SearchRunDir), once open


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


def plan_candidates(build_fn: Callable, routed: list, data: Any, tasks: list, cv: Any, seed: int,
                    settings: SearchSettings) -> list:
    """One planned run per candidate, all on the same folds and fold seeds (checked once, before)."""
    runs = []
    for i, r in enumerate(routed):
        callbacks = fill_paths(settings.callbacks, candidate=i)  # {candidate} in log paths, from 1
        config = FitConfig(epochs=r["epochs"], batch_size=r["batch_size"], preprocess=settings.preprocess,
                           callbacks=callbacks, fit_kwargs=r["fit"],
                           keras_verbose=settings.keras_verbose, return_models=settings.return_models)
        runs.append(new_run(bind(build_fn, r["build"]), data, tasks, config, cv=cv, seed=seed,
                            strategy=settings.strategy, chosen=settings.chosen))
    return runs


def train_candidates(runs: list, candidates: list, executor: Any, settings: SearchSettings,
                      report: Callable[[int, Any], None]) -> list:
    """Every candidate through the one training path; its result is reported once its folds are all done."""
    if not executor.in_process:
        others = {f"build_fn of candidate {i + 1}": run.build_fn for i, run in enumerate(runs[1:], 1)}
        check_travel(executor, runs[0].build_fn, return_models=settings.return_models,
                     preprocess=settings.preprocess, callbacks=runs[0].config.callbacks, **others)
    results: list = [None] * len(runs)

    def done(i: int) -> None:
        results[i] = runs[i].result(executor)
        report(i, results[i])

    with _naming_candidate(candidates):
        train_runs(runs, executor, strategy=settings.strategy, on_error=settings.on_error,
                   verbose=settings.fold_verbose, on_run_done=done)
    return results


def executor_here(executor: Any) -> bool:
    """Whether the folds train in this process (a model may then be built here; not beside GPU workers)."""
    return executor == "sequential" or bool(getattr(executor, "in_process", False))


def refit_best(search: SearchResult, build_fn: Callable, routed: list, data: Any, folds: list,
           refit_epochs: Any, **fit: Any) -> None:
    """Retrain the best candidate on all the data (``search.best_model``)."""
    best = routed[search.best_index]
    search.refit_epochs = refit_epochs_for(refit_epochs, search.best_epoch, folds, n_samples(data.x))
    search.best_model = fit_final(bind(build_fn, best["build"]), data.x, data.y, epochs=search.refit_epochs,
                                  batch_size=best["batch_size"], fit_kwargs=best["fit"],
                                  sample_weight=data.sample_weight, **fit)


def finished_candidates(results: list, record: dict) -> list[int]:
    """The candidates whose folds all finished; after Ctrl-C, a warning (or the interrupt again, if none did)."""
    kept = [i for i, result in enumerate(results) if result is not None]
    if len(kept) < len(results):  # Ctrl-C: only whole candidates are compared
        if not kept:
            raise KeyboardInterrupt
        warnings.warn(f"Interrupted: the search holds only the {len(kept)} of {len(results)} candidates "
                      "that finished (no refit); with run_dir, running it again finishes the others.",
                      RuntimeWarning, stacklevel=4)
        record.update(interrupted=True, unfinished_candidates=[i for i, r in enumerate(results) if r is None])
    return kept
