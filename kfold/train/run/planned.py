"""A planned run: a cross-validation checked and split into folds (with their seeds), not trained yet.

:func:`plan_run` checks the arguments of :func:`kfold.cross_validate` and plans
its folds (:func:`plan_folds`); a search plans one :class:`PlannedRun` per
candidate on the same folds (:func:`new_run`). A run opens its run directory
(:meth:`PlannedRun.open`), keeps and saves each fold the moment it ends
(:meth:`PlannedRun.keep`) and gives its :class:`~kfold.results.cv_result.CVResult`
(:meth:`PlannedRun.result`); :func:`kfold.train.run.train.train_runs` trains it.
"""
from __future__ import annotations

import dataclasses
import warnings
from typing import Any, Callable, Sequence

import numpy as np

from kfold.core import Described, check_bool, check_choice, fail, message
from kfold.core import deferring_interrupts
from kfold.core import package_versions
from kfold.core import resolve_seed
from kfold.data import as_arrays, check_finite, check_numeric_targets, check_same_length, n_samples
from kfold.data import check_preprocess
from kfold.results import CVResult
from kfold.results import FoldOutcome, collect
from kfold.results import RunFolder, cv_manifest, data_hash
from kfold.results import RunDir
from kfold.split import choose_cv, missing_classes, target_type
from kfold.train.fold import FitConfig, FoldData, FoldTask, fold_seeds
from kfold.train.fused.checkpoint import Checkpoints
from kfold.train.keras_fit import check_build_fn, check_callbacks

__all__ = ["plan_folds", "plan_run", "check_inputs", "new_run", "PlannedRun"]



def plan_folds(cv: Any, n: int, y: Any = None, groups: Any = None, *, seed: int,
               info: dict | None = None) -> list[FoldTask]:
    """Split ``n`` samples with ``cv`` and give each fold its task and seed.

    The splitter is :func:`kfold.split.check.choose_cv`'s: an int with class
    labels stratifies, and a shuffling splitter without a ``random_state`` is
    seeded with ``seed``. ``info``, if given, receives what was chosen and why
    (``cv_splitter``, ``cv_choice``, ``cv_random_state``). A warning names the
    folds whose training part lacks a class that their validation part holds.

    Examples
    --------
    >>> [len(t.val) for t in plan_folds(3, 10, seed=0)]
    [4, 3, 3]
    >>> info = {}
    >>> tasks = plan_folds(2, 4, np.array([0, 0, 1, 1]), seed=0, info=info)
    >>> [np.sort(t.val).tolist() for t in tasks], info["cv_splitter"]
    ([[0, 2], [1, 3]], 'StratifiedKFold(bins=None, n_splits=2, random_state=None, shuffle=False)')
    """

    target = y if isinstance(y, np.ndarray) else None
    splitter, chosen = choose_cv(cv, target, seed=seed)
    if info is not None:
        info.update(chosen)
    placeholder = np.zeros((n, 0))  # splitters only need the number of rows of x
    folds = list(splitter.split(placeholder, target, groups))
    if not folds:
        fail("cv", "a splitter that yields at least one (train, val) pair", cv)
    for i, (train, val) in enumerate(folds):
        for name, part in (("train", train), ("val", val)):
            part = np.asarray(part)
            if part.ndim != 1 or len(part) == 0 or part.dtype.kind not in "iu" or part.min() < 0 or part.max() >= n:
                fail("cv", f"non-empty integer indices in [0, {n}) for every fold",
                     Described(f"fold {i + 1} with {name} indices {part[:10]!r}"))
    if target_type(target) in ("binary", "multiclass", "one-hot") and len(target) == n:
        lacking = missing_classes(target, folds)
        if lacking:
            where = "; ".join(f"fold {i + 1}: {classes}" for i, classes in lacking.items())
            warnings.warn(f"A training part lacks a class that its validation part holds ({where}): "
                          "those models never see the class they are scored on. Use a StratifiedKFold "
                          "or shuffle=True.", UserWarning, stacklevel=3)
    seeds = fold_seeds(seed, len(folds))
    return [FoldTask(i, np.asarray(t, dtype=np.intp), np.asarray(v, dtype=np.intp), s)
            for i, ((t, v), s) in enumerate(zip(folds, seeds))]


def _params(build_fn: Callable, cv: Any, tasks: list[FoldTask], config: FitConfig, seed: int,
            n: int, preprocess: Any) -> dict:
    return {
        "build_fn": getattr(build_fn, "__qualname__", repr(build_fn)),
        "cv": repr(cv), "n_splits": len(tasks), "n_samples": n,
        "epochs": config.epochs, "batch_size": config.batch_size, "seed": seed,
        "fold_seeds": [t.seed for t in tasks],
        "preprocess": None if preprocess is None else repr(preprocess),
        "callbacks": [type(c).__name__ for c in config.callbacks],
        "fit_kwargs": {k: repr(v) for k, v in config.fit_kwargs.items()},
        "versions": package_versions(),
    }


@dataclasses.dataclass
class PlannedRun:
    """A cross-validation checked and planned (folds, seeds, settings), not trained yet.

    :func:`cross_validate` trains one, a search one per candidate, both through
    :func:`kfold.train.run.train.train_runs`, which records the strategy that ran
    (``ran``, ``why``).

    Examples
    --------
    >>> from kfold.train.keras_fit import doctest_model
    >>> run = plan_run(doctest_model, np.random.rand(10, 2), np.random.rand(10), cv=2, epochs=1, seed=0)
    >>> [t.fold for t in run.todo()], run.params["epochs"]
    ([0, 1], 1)
    """

    build_fn: Callable[[], Any]
    data: FoldData
    tasks: list[FoldTask]
    config: FitConfig
    params: dict
    store: RunFolder | None = None
    save_weights: bool = False
    finished: list[FoldOutcome] = dataclasses.field(default_factory=list)
    ran: str = "none"  #: the strategy that trained the folds
    why: str = "all folds were already done"
    unsaved: list[int] = dataclasses.field(default_factory=list)
    checkpoints: Checkpoints | None = None  #: mid-run checkpoints of fused training (with a run directory)

    def open(self, run_dir: RunDir | None) -> None:
        """Open (or resume) the run directory: finished folds are taken from it, failed ones run again."""
        if run_dir is None:
            return
        data = self.data
        manifest = cv_manifest(self.params, [(t.train, t.val) for t in self.tasks],
                               data_hash(data.x, data.y, data.sample_weight))
        self.store = RunFolder(run_dir.path, manifest, overwrite=run_dir.overwrite)
        self.save_weights = run_dir.save_weights
        self.finished = [o for o in self.store.finished().values() if o.error is None
                         and (o.predictions is not None or not self.config.return_predictions)]
        self.checkpoints = Checkpoints(self.store.path, self.config.epochs, run_dir.checkpoint_every)

    def todo(self) -> list[FoldTask]:
        """The folds still to train."""
        done = {o.fold for o in self.finished}
        return [t for t in self.tasks if t.fold not in done]

    def keep(self, outcome: FoldOutcome) -> None:
        """A fold that just ended: saved at once (with a run directory), then kept.

        Ctrl-C is held back until both are done (then raised), so a fold is never
        half saved or lost. A save that fails keeps the fold in memory, with a warning.
        """
        with deferring_interrupts():
            if self.store is not None:
                self._save(outcome)
            self.finished.append(outcome)

    def _save(self, outcome: FoldOutcome) -> None:
        try:
            self.store.save(outcome, save_weights=self.save_weights)
        except OSError as error:  # the training is kept: the result still holds this fold
            self.unsaved.append(outcome.fold)
            received = Described(f"{self.store.path}, where saving fold {outcome.fold + 1} failed "
                                 f"({type(error).__name__}: {error})")
            warnings.warn(message("run_dir", "a folder where every finished fold can be saved", received,
                                  "The fold is kept in the returned result but not on disk: fix the folder "
                                  "and run the same call again to train only the folds missing there"),
                          RuntimeWarning, stacklevel=2)

    def result(self, executor: Any) -> CVResult:
        """The :class:`CVResult` of the folds kept so far."""
        self.params.update(executor=executor.name, n_jobs=executor.n_workers)
        if self.unsaved:
            self.params["unsaved_folds"] = sorted(self.unsaved)
        params = {**self.params, "strategy": self.ran, "strategy_reason": self.why}
        return collect(self.finished, [(t.train, t.val) for t in self.tasks], params)


def check_inputs(x: Any, y: Any, sample_weight: Any = None, groups: Any = None, *, preprocess: Any = None,
                 nan_policy: str = "raise") -> tuple[FoldData, Any, int]:
    """The data checked once (lengths, NaN/inf, preprocessing): ``(FoldData, groups, n_samples)``.

    Examples
    --------
    >>> data, groups, n = check_inputs(np.ones((4, 2)), np.ones(4))
    >>> n, data.x.shape
    (4, (4, 2))
    """
    x, y = as_arrays(x, "x"), as_arrays(y, "y")
    sample_weight, groups = as_arrays(sample_weight, "sample_weight"), as_arrays(groups, "groups")
    n = n_samples(x)
    if n == 0:
        fail("x", "at least one sample", Described("an empty array"))
    check_same_length(n, y=y, sample_weight=sample_weight, groups=groups)
    check_numeric_targets(y)
    check_preprocess(preprocess, x)
    check_finite(nan_policy, x=x, y=y, sample_weight=sample_weight)
    return FoldData(x, y, sample_weight), groups, n


def new_run(build_fn: Callable[[], Any], data: FoldData, tasks: list[FoldTask], config: FitConfig, *,
            cv: Any, seed: int, strategy: str, chosen: dict | None = None) -> PlannedRun:
    """A :class:`PlannedRun` of checked parts (a search plans one per candidate on the same folds).

    ``chosen`` is what :func:`plan_folds` recorded about the splitter it chose (``cv_choice``, ...).

    Examples
    --------
    >>> from kfold.train.keras_fit import doctest_model
    >>> data, _, n = check_inputs(np.random.rand(6, 2), np.random.rand(6))
    >>> run = new_run(doctest_model, data, plan_folds(2, n, seed=0), FitConfig(epochs=1), cv=2, seed=0,
    ...               strategy="auto")
    >>> run.params["n_splits"], run.params["strategy_asked"]
    (2, 'auto')
    """
    params = {**_params(build_fn, cv, tasks, config, seed, n_samples(data.x), config.preprocess),
              **(chosen or {}), "strategy_asked": strategy}
    return PlannedRun(build_fn, data, tasks, config, params)

def plan_run(build_fn: Callable[[], Any], x: Any, y: Any, *, cv: Any = 5, epochs: int, batch_size: int = 32,
             preprocess: Any = None, callbacks: Sequence[Any] | None = None, fit_kwargs: dict | None = None,
             sample_weight: Any = None, groups: Any = None, seed: int | None = None, verbose: int = 1,
             return_models: bool = False, strategy: str = "auto", nan_policy: str = "raise",
             return_predictions: bool = False) -> PlannedRun:
    """Check the arguments of :func:`kfold.cross_validate` and plan its folds; train nothing.

    Examples
    --------
    >>> from kfold.train.keras_fit import doctest_model
    >>> plan_run(doctest_model, np.ones((4, 2)), np.ones(3), epochs=1)
    Traceback (most recent call last):
    ...
    ValueError: Invalid `y`. Expected one entry per sample of x (4 samples). Received: y=3 entries. x, y, sample_weight and groups must all have the same length
    """
    check_build_fn(build_fn)
    check_choice("verbose", verbose, (0, 1, 2))
    check_bool("return_models", return_models)
    data, groups, n = check_inputs(x, y, sample_weight, groups, preprocess=preprocess, nan_policy=nan_policy)
    config = FitConfig(epochs=epochs, batch_size=batch_size, preprocess=preprocess,
                       callbacks=check_callbacks(callbacks), fit_kwargs=fit_kwargs,
                       keras_verbose=2 if verbose == 2 else 0, return_models=bool(return_models),
                       return_predictions=bool(return_predictions))
    seed = resolve_seed(seed)
    chosen: dict = {}
    tasks = plan_folds(cv, n, data.y, groups, seed=seed, info=chosen)
    run = new_run(build_fn, data, tasks, config, cv=cv, seed=seed, strategy=strategy, chosen=chosen)
    repeats = getattr(cv, "n_repeats", None)
    if hasattr(cv, "split") and isinstance(repeats, int) and repeats > 1:  # RepeatedKFold: oof per repetition
        run.params["n_repeats"] = int(cv.n_repeats)
    return run
