"""Nested cross-validation: how good is the whole selection procedure?

The best score of a search is optimistic: it is the maximum over candidates and
epochs, read off the same folds that chose them. Nested CV wraps the whole
procedure in an outer loop::

    for outer_train, outer_test in outer folds:
        search = grid_search(build_fn, param_grid, x[outer_train], y[outer_train], cv=inner_cv)
        score = search.best_model.evaluate(x[outer_test], y[outer_test])

Each outer test part is seen neither by the inner search (candidates, epoch)
nor by the refit, so the outer scores estimate what the procedure delivers on
new data. Preprocessing is fitted inside every inner fold and on every outer
training part.
"""
from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterator
from typing import Any, Callable, ClassVar

import numpy as np

from kfold.core import check_choice
from kfold.data import as_arrays, check_numeric_targets, n_samples, take
from kfold.search.candidates import check_candidates, parameter_grid, plain, sample_parameters
from kfold.executors import open_executor
from kfold.search.searches import describe_cv, run_search
from kfold.search.search_result import SearchResult, Table, objects_column
from kfold.results import Saved
from kfold.split import folds_from_json, folds_to_json
from kfold.core import resolve_seed
from kfold.train import plan_folds, run_options
from kfold.split import check_cv, folds_hash
from kfold.results import fold_std

__all__ = ["NestedResult", "nested_cross_validate"]


@dataclasses.dataclass(eq=False)
class NestedResult(Saved):
    """Outer scores of a search-and-refit procedure, and what each outer fold selected.

    Attributes
    ----------
    scores : dict of str to numpy.ndarray
        Per outer fold, the refitted model evaluated on the outer held-out part
        (``model.evaluate`` names: ``loss``, ``accuracy``).
    searches : list of SearchResult
        The inner search of each outer fold (all its curves; no models).
    folds : list of (numpy.ndarray, numpy.ndarray)
        The outer ``(train, test)`` indices.
    params : dict
        The arguments of the run, as plain types.

    Examples
    --------
    >>> from kfold import CVHistory, CVResult, KFold
    >>> inner = list(KFold(2).split(range(4)))
    >>> def search(curve):
    ...     cv = CVResult(CVHistory([{"val_loss": curve}] * 2), inner, {}, np.ones(2), np.zeros(2), {})
    ...     search = SearchResult([cv], [{"units": 8}])
    ...     search.refit_epochs = search.best_epoch  # as refit_epochs="same" does
    ...     return search
    >>> nested = NestedResult({"loss": np.array([0.5, 0.7])}, [search([2.0, 1.0]), search([1.0, 2.0])],
    ...                       list(KFold(2).split(range(8))), {})
    >>> nested.best_epochs, nested.best_params
    ([2, 1], [{'units': 8}, {'units': 8}])
    >>> nested.summary()
    outer fold 1: loss 0.5 | selected {'units': 8}, epoch 2, refit 2 epochs (inner val_loss 1)
    outer fold 2: loss 0.7 | selected {'units': 8}, epoch 1, refit 1 epochs (inner val_loss 1)
    mean ± std over 2 outer folds: loss 0.6 ± 0.141
    """

    kind: ClassVar[str] = "nested_result"

    scores: dict
    searches: list
    folds: list
    params: dict

    @property
    def n_folds(self) -> int:
        """Number of outer folds."""
        return len(self.folds)

    @property
    def best_params(self) -> list[dict]:
        """The parameters each outer fold's inner search selected."""
        return [s.best_params for s in self.searches]

    @property
    def best_epochs(self) -> list[int]:
        """The epoch (1-based) each outer fold's inner search selected."""
        return [s.best_epoch for s in self.searches]

    @property
    def inner_scores(self) -> np.ndarray:
        """Each inner search's (optimistic) best score, for comparison with :attr:`scores`."""
        return np.array([s.best_score for s in self.searches])

    @property
    def folds_hash(self) -> str:
        """SHA-256 of the outer folds."""

        return folds_hash(self.folds)

    def table(self) -> Table:
        """One row per outer fold: what was selected, and the outer scores."""
        select = self.searches[0].select
        return Table({
            "fold": np.arange(1, self.n_folds + 1),
            "params": objects_column(self.best_params),
            "best_epoch": np.array(self.best_epochs),
            "refit_epochs": np.array([s.refit_epochs for s in self.searches], dtype=object),
            f"inner_{select}": self.inner_scores,
            **{key: np.asarray(values) for key, values in self.scores.items()},
        })

    def summary(self, print_fn: Callable[[str], Any] = print) -> None:
        """Print each outer fold's scores and selection, then the mean ± std of the scores."""
        lines = []
        for i, search in enumerate(self.searches):
            scores = ", ".join(f"{k} {v[i]:.4g}" for k, v in self.scores.items())
            lines.append(f"outer fold {i + 1}: {scores} | selected {search.best_params!r}, epoch "
                         f"{search.best_epoch}, refit {search.refit_epochs} epochs "
                         f"(inner {search.select} {search.best_score:.4g})")
        spread = ", ".join(f"{k} {np.mean(v):.4g} ± {fold_std(v):.3g}"
                           for k, v in self.scores.items())
        lines.append(f"mean ± std over {self.n_folds} outer folds: {spread}")
        print_fn("\n".join(lines))

    def to_dict(self) -> dict:
        """Plain Python types for JSON."""
        return {"scores": {k: [float(v) for v in values] for k, values in self.scores.items()},
                "searches": [s.to_dict() for s in self.searches],
                "folds": folds_to_json(self.folds), "params": plain(self.params)}

    @classmethod
    def from_dict(cls, data: dict) -> "NestedResult":
        """Rebuild a result from :meth:`to_dict` output."""
        return cls(scores={k: np.asarray(v, dtype=float) for k, v in data["scores"].items()},
                   searches=[SearchResult.from_dict(s) for s in data["searches"]],
                   folds=folds_from_json(data["folds"]),
                   params=data["params"])


    def __repr__(self) -> str:
        spread = {k: round(float(np.mean(v)), 4) for k, v in self.scores.items()}
        return f"NestedResult(n_folds={self.n_folds}, mean_scores={spread})"


def nested_cross_validate(
    build_fn: Callable, param_grid: Any, x: Any, y: Any, *, outer_cv: Any = 5, inner_cv: Any = 3,
    epochs: int, batch_size: int = 32, n_iter: int | None = None, preprocess: Any = None,
    sample_weight: Any = None, groups: Any = None, seed: int | None = None, verbose: int = 1,
    select: str = "val_loss", skip: int = 0, smooth: float | None = None, rule: str = "min",
    mode: str = "auto", refit_epochs: Any = "same", callbacks: Any = None, fit_kwargs: dict | None = None,
    strategy: str = "auto", on_error: str = "raise", nan_policy: str = "raise",
    executor: Any = "sequential", **kwargs: Any,
) -> NestedResult:
    """Estimate the performance of search + epoch selection + refit with an outer CV.

    Parameters
    ----------
    build_fn, param_grid, epochs, batch_size, preprocess
        As in :func:`kfold.grid_search`.
    x, y : array, or dict/list of arrays
        All the data; the outer folds split it.
    outer_cv, inner_cv : int, splitter or iterable of (train, val)
        The outer split (scores) and the split of each outer training part
        (selection). Explicit index pairs for ``inner_cv`` index the outer
        training part.
    n_iter : int, optional
        If given, a :func:`kfold.random_search` of ``n_iter`` candidates, with
        ``param_grid`` as its distributions, instead of the full grid.
    sample_weight, groups : array, optional
        Sliced for each outer training part (and weighting its test part).
    seed : int, optional
        Each outer fold's search (its training and refit) gets its own seed derived from it.
    verbose : {0, 1, 2}
        0 silent; 1 a line per outer fold; 2 also a line per inner candidate.
    select, skip, smooth, rule, mode, refit_epochs, callbacks, fit_kwargs, strategy, on_error, nan_policy
        As in :func:`kfold.grid_search`, for each inner search.
    executor : {"sequential", "processes", "dask", "ray"}, kfold.Processes, kfold.Dask or kfold.Ray
        As in :func:`kfold.cross_validate`; one executor serves every outer fold.
    **kwargs
        Deprecated spellings, warned about: ``n_jobs``, ``client``, ``devices``,
        ``retries``, ``max_tasks_per_worker`` (now options of ``executor``).

    Returns
    -------
    NestedResult

    Examples
    --------
    >>> import numpy as np
    >>> from kfold.train.keras_fit import doctest_model
    >>> def build(lr=0.01):
    ...     return doctest_model()
    >>> x, y = np.random.rand(24, 2), np.random.rand(24)
    >>> nested = nested_cross_validate(build, {"lr": [0.1]}, x, y, outer_cv=2, inner_cv=2,
    ...                                epochs=2, seed=0, verbose=0)
    >>> nested.n_folds, sorted(nested.scores), len(nested.best_epochs)
    (2, ['loss'], 2)
    """
    executor, _ = run_options("nested_cross_validate", executor, None, kwargs, with_run_dir=False)
    x, y = as_arrays(x, "x"), as_arrays(y, "y")
    sample_weight, groups = as_arrays(sample_weight, "sample_weight"), as_arrays(groups, "groups")
    check_numeric_targets(y)
    check_choice("verbose", verbose, (0, 1, 2))
    seed = resolve_seed(seed)
    candidates = (parameter_grid(param_grid) if n_iter is None
                  else sample_parameters(param_grid, n_iter, seed))
    check_candidates(build_fn, candidates, epochs=epochs, batch_size=batch_size, fit_kwargs=fit_kwargs)
    search = functools.partial(run_search, select=select, skip=skip, smooth=smooth, rule=rule, mode=mode,
                               refit_epochs=refit_epochs, callbacks=callbacks, fit_kwargs=fit_kwargs,
                               strategy=strategy, on_error=on_error, nan_policy=nan_policy)
    for name, cv in (("outer_cv", outer_cv), ("inner_cv", inner_cv)):
        if not isinstance(cv, Iterator):  # checked here, so that its error names it (a generator would be used up)
            check_cv(cv, name=name)
    tasks = plan_folds(outer_cv, n_samples(x), y, groups, seed=seed)
    scores: dict[str, list[float]] = {}
    searches = []
    with open_executor(executor) as pool:  # started once for all outer folds
        for task in tasks:
            searches.append(_outer_fold(functools.partial(search, executor=pool), build_fn, candidates, x, y, task,
                                        inner_cv=inner_cv, epochs=epochs, batch_size=batch_size,
                                        preprocess=preprocess, sample_weight=sample_weight, groups=groups,
                                        verbose=verbose, n_outer=len(tasks), scores=scores))
    params = {"outer_cv": describe_cv(outer_cv), "inner_cv": describe_cv(inner_cv), "epochs": epochs,
              "batch_size": batch_size, "n_iter": n_iter, "seed": seed, "candidates": plain(candidates),
              "outer_fold_seeds": [t.seed for t in tasks]}
    return NestedResult({k: np.array(v) for k, v in scores.items()}, searches,
                        [(t.train, t.val) for t in tasks], params)


def _outer_fold(run_inner: Callable, build_fn: Callable, candidates: list, x: Any, y: Any, task: Any, *,
                inner_cv: Any, epochs: int, batch_size: int, preprocess: Any, sample_weight: Any, groups: Any,
                verbose: int, n_outer: int, scores: dict) -> Any:
    """Search on the outer fold's training part, refit, score on its test part (into ``scores``).

    ``run_inner`` is :func:`run_search` with the inner search's settings and executor.
    """
    search = run_inner(build_fn, candidates, take(x, task.train), take(y, task.train),
                       cv=inner_cv, epochs=epochs, batch_size=batch_size, preprocess=preprocess,
                       sample_weight=take(sample_weight, task.train), groups=take(groups, task.train),
                       seed=task.seed, verbose=max(0, verbose - 1), refit=True)
    outer = search.best_model.evaluate(take(x, task.val), take(y, task.val),
                                       sample_weight=take(sample_weight, task.val))
    for key, value in outer.items():
        scores.setdefault(key, []).append(float(value))
    search.best_model = None  # keep the curves, not the models
    if verbose:
        text = ", ".join(f"{k} {v:.4g}" for k, v in outer.items())
        print(f"outer fold {task.fold + 1}/{n_outer}: {text} | selected {search.best_params!r}, "
              f"epoch {search.best_epoch}")
    return search
