"""``cross_validate``: the book's k-fold loop, as plan → run each fold → collect.

Listing 3.27 of *Deep Learning with Python*, with what it leaves out: folds
that match scikit-learn's, preprocessing fitted inside each fold, a fresh model
and fresh callbacks per fold, per-epoch shuffling from a seed, and every
per-epoch metric of every fold kept.
"""
from __future__ import annotations

import dataclasses
import os
import warnings
from typing import Any, Callable, Sequence

import numpy as np

from kfold.core.checks import Described, check_bool, check_choice, check_path, check_positive_int, fail, message
from kfold.core.interrupts import deferring_interrupts
from kfold.data.arrays import as_arrays, check_finite, check_numeric_targets, check_same_length, n_samples
from kfold.core.seeds import resolve_seed
from kfold.train.fold import FitConfig, FoldData, FoldTask, fold_seeds
from kfold.results.outcome import FoldOutcome, collect
from kfold.train.travel import check_travel
from kfold.executors.factory import open_executor
from kfold.data.preprocessing import check_preprocess
from kfold.results.cv_result import CVResult
from kfold.results.rundir import RunDir, cv_manifest, data_hash
from kfold.core.files import package_versions
from kfold.train.runs import train_runs
from kfold.train.strategy import ON_ERROR, check_strategy
from kfold.train.fused import Checkpoints
from kfold.train.keras_fit import check_build_fn, check_callbacks
from kfold.split.check import choose_cv, missing_classes, target_type

__all__ = ["cross_validate", "plan_folds", "plan_run", "check_inputs", "new_run", "PlannedRun"]


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


def cross_validate(
    build_fn: Callable[[], Any], x: Any, y: Any, *, cv: Any = 5, epochs: int,
    batch_size: int = 32, preprocess: Any = None, callbacks: Sequence[Any] | None = None,
    fit_kwargs: dict | None = None, sample_weight: Any = None, groups: Any = None,
    seed: int | None = None, verbose: int = 1, return_models: bool = False, strategy: str = "auto",
    run_dir: str | os.PathLike | None = None, overwrite: bool = False, save_weights: bool = False,
    on_error: str = "raise", nan_policy: str = "raise", executor: Any = "sequential",
    n_jobs: int | None = None, client: Any = None, devices: Any = None, retries: int = 0,
    max_tasks_per_worker: int | None = None, return_predictions: bool = False,
    checkpoint_every: int | None = None,
) -> CVResult:
    """Train a fresh model per fold and record every per-epoch metric of every fold.

    Parameters
    ----------
    build_fn : callable
        Called with no arguments once per fold (after ``keras.backend.clear_session()``
        and seeding); returns a new compiled Keras model.
    x, y : array, or dict/list of arrays
        Features and targets (dicts/lists for multi-input/-output models).
    cv : int, splitter or iterable of (train, val), default 5
        An int means ``KFold(cv)`` (contiguous folds, as in the book), or
        ``StratifiedKFold(cv)`` when ``y`` holds class labels (integer or boolean
        labels, two whole-number float values, or one-hot rows), as scikit-learn
        does for classifiers; the choice is printed and kept in
        ``result.params["cv_choice"]``. Any object with ``split`` (scikit-learn's
        too) or explicit index pairs also work; a shuffling splitter with
        ``random_state=None`` is copied with ``random_state=seed``.
    epochs, batch_size : int
        As in ``model.fit``.
    preprocess : object with fit/transform, optional
        Fitted on each fold's training part only (e.g. ``kfold.Standardize()``);
        a dict/list of them for a dict/list ``x``.
    callbacks : list of keras.callbacks.Callback, optional
        Deep-copied for each fold, so no state carries over between folds.
    fit_kwargs : dict, optional
        Other ``fit`` arguments (``class_weight``, ``validation_freq``;
        ``shuffle=False`` keeps the data's order every epoch).
    sample_weight, groups : array, optional
        Per-sample weights (sliced per fold, also weighting validation) and the
        groups used by group splitters.
    seed : int, optional
        Per-fold seeds (weights, shuffling, dropout) derive from it; the same
        seed gives the same histories on CPU. ``None`` draws one, recorded in
        ``result.params["seed"]``. It also seeds a shuffling splitter whose
        ``random_state`` is None (``result.params["cv_random_state"]``).
    verbose : {0, 1, 2}
        0 silent; 1 a progress bar with one line per fold; 2 also Keras' line per epoch.
    return_models : bool
        Keep each fold's trained model and fitted preprocessing in the result.
    return_predictions : bool
        Keep each fold's final model's predictions on its held-out rows
        (``result.predictions``; ``result.oof_predictions`` in sample order, see
        :func:`kfold.cross_val_predict`). Saved in ``run_dir`` too, and resumed
        runs recompute the finished folds saved without them.
    strategy : {"auto", "fused", "sequential"}
        ``"sequential"`` trains the folds one ``model.fit`` after another;
        ``"fused"`` trains all fold models together in one compiled graph, with
        the same curves up to float rounding and much faster for small models
        (see :mod:`kfold.train.fused.run`); ``"auto"`` fuses when the callbacks, ``fit_kwargs``
        and model allow it and otherwise runs sequentially, saying why. The
        strategy that ran and why are in ``result.params["strategy"]`` and
        ``result.params["strategy_reason"]``.
    run_dir : path, optional
        Save the run there: a manifest (folds, data hash, settings) first, then
        each fold the moment it finishes. Running again with the same ``run_dir``
        skips the finished folds (a fold that failed runs again), so a crashed
        run resumes where it stopped, on any executor;
        :func:`kfold.load` reads it back. A folder holding another run is refused
        (the message says what differs) unless ``overwrite=True``.
        Fused training (all folds at once) also writes checkpoints of its joint
        state (every fold's weights, optimizer and callback state, histories
        so far) there, so a rerun continues from the last one mid-run and ends
        bit for bit (CPU) as an uninterrupted run would.
    checkpoint_every : int, optional
        With ``run_dir`` and fused training: a checkpoint every this many
        epochs. ``None``: at least every 60 s of training and every 10 % of the
        epochs, whichever comes first.
    save_weights : bool
        With ``run_dir``, also save each fold's trained weights (``.weights.h5``).
    on_error : {"raise", "skip"}
        What a failing fold does (its training raises, or its loss becomes NaN or
        infinite): stop the run with :class:`kfold.train.fold.FoldError` (finished folds
        are kept in ``run_dir``), or be recorded in ``result.errors`` while the
        other folds go on.
    nan_policy : {"raise", "warn"}
        NaN or infinite values in ``x``, ``y`` or ``sample_weight``: an error
        before any training, or only a warning.
    executor : {"sequential", "processes", "dask", "ray"} or Executor
        Where the folds run: in this process (default), in ``n_jobs`` local
        worker processes (spawned, safe in Jupyter, TensorFlow limited to
        ``cpu_count // n_jobs`` threads each), or on a Dask cluster (``client``).
        Each fold is one task; the same seed gives the same histories on every
        executor. What cannot reach the workers is refused before any training.
        See :func:`kfold.executors.base.make_executor` and docs/parallel.md.
    n_jobs, client, devices, retries, max_tasks_per_worker
        Worker count, Dask client or scheduler address, GPUs (one per worker),
        how often a fold whose worker died runs again, and (``"processes"``)
        fresh workers after this many folds each, so that memory stays flat over
        long runs: see :func:`kfold.executors.base.make_executor`.

    Returns
    -------
    CVResult

    Examples
    --------
    >>> import numpy as np, keras, kfold
    >>> def build_model():
    ...     model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(8, activation="relu"),
    ...                               keras.layers.Dense(1)])
    ...     model.compile(optimizer="rmsprop", loss="mse", metrics=["mae"])
    ...     return model
    >>> x, y = np.random.rand(40, 3), np.random.rand(40)
    >>> result = kfold.cross_validate(build_model, x, y, cv=4, epochs=3, seed=0, verbose=0,
    ...                               preprocess=kfold.Standardize())
    >>> result.history["val_mae"].shape, sorted(result.scores)
    ((4, 3), ['val_loss', 'val_mae'])
    """
    check_path("run_dir", run_dir)
    check_bool("overwrite", overwrite)
    check_bool("save_weights", save_weights)
    if checkpoint_every is not None:
        check_positive_int("checkpoint_every", checkpoint_every)
    run = plan_run(build_fn, x, y, cv=cv, epochs=epochs, batch_size=batch_size, preprocess=preprocess,
                   callbacks=callbacks, fit_kwargs=fit_kwargs, sample_weight=sample_weight, groups=groups,
                   seed=seed, verbose=verbose, return_models=return_models, strategy=strategy,
                   nan_policy=nan_policy, return_predictions=return_predictions)
    check_choice("on_error", on_error, ON_ERROR)
    with open_executor(executor, n_jobs=n_jobs, client=client, devices=devices, retries=retries,
                       max_tasks_per_worker=max_tasks_per_worker) as runner:
        check_strategy(strategy, runner)
        check_travel(runner, build_fn, return_models=run.config.return_models, preprocess=preprocess,
                     callbacks=run.config.callbacks)
        run.open(run_dir, overwrite=overwrite, save_weights=save_weights, checkpoint_every=checkpoint_every)
        train_runs([run], runner, strategy=strategy, on_error=on_error, verbose=verbose)
    return run.result(runner)


@dataclasses.dataclass
class PlannedRun:
    """A cross-validation checked and planned (folds, seeds, settings), not trained yet.

    :func:`cross_validate` trains one, a search one per candidate, both through
    :func:`kfold.train.runs.train_runs`, which records the strategy that ran
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
    store: RunDir | None = None
    save_weights: bool = False
    finished: list[FoldOutcome] = dataclasses.field(default_factory=list)
    ran: str = "none"  #: the strategy that trained the folds
    why: str = "all folds were already done"
    unsaved: list[int] = dataclasses.field(default_factory=list)
    checkpoints: Checkpoints | None = None  #: mid-run checkpoints of fused training (with a run directory)
    def open(self, run_dir: str | os.PathLike | None, *, overwrite: bool = False,
             save_weights: bool = False, checkpoint_every: int | None = None) -> None:
        """Open (or resume) the run directory: finished folds are taken from it, failed ones run again."""
        if run_dir is None:
            return
        data = self.data
        manifest = cv_manifest(self.params, [(t.train, t.val) for t in self.tasks],
                               data_hash(data.x, data.y, data.sample_weight))
        self.store, self.save_weights = RunDir(run_dir, manifest, overwrite=overwrite), save_weights
        self.finished = [o for o in self.store.finished().values() if o.error is None
                         and (o.predictions is not None or not self.config.return_predictions)]
        self.checkpoints = Checkpoints(self.store.path, self.config.epochs, checkpoint_every)

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
    """Check the arguments of :func:`cross_validate` and plan its folds; train nothing.

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
