"""``cross_validate``: the book's k-fold loop, as plan → run each fold → collect.

Listing 3.27 of *Deep Learning with Python*, with what it leaves out: folds
that match scikit-learn's, preprocessing fitted inside each fold, a fresh model
and fresh callbacks per fold, per-epoch shuffling from a seed, and every
per-epoch metric of every fold kept.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

from kfold.results import CVResult
from kfold.train.run.options import run_options
from kfold.train.run.planned import plan_run
from kfold.train.run.strategy import check_on_error
from kfold.train.run.train import train_run

__all__ = ["cross_validate"]


def cross_validate(
    build_fn: Callable[[], Any], x: Any, y: Any, *, cv: Any = 5, epochs: int,
    batch_size: int = 32, preprocess: Any = None, callbacks: Sequence[Any] | None = None,
    fit_kwargs: dict | None = None, sample_weight: Any = None, groups: Any = None,
    seed: int | None = None, verbose: int = 1, return_models: bool = False, strategy: str = "auto",
    run_dir: Any = None, on_error: str = "raise", nan_policy: str = "raise", executor: Any = "sequential",
    return_predictions: bool = False, **kwargs: Any,
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
    run_dir : path or kfold.RunDir, optional
        Save the run there: a manifest (folds, data hash, settings) first, then
        each fold the moment it finishes. Running again with the same ``run_dir``
        skips the finished folds (a fold that failed runs again), so a crashed
        run resumes where it stopped, on any executor;
        :func:`kfold.load` reads it back. A folder holding another run is refused
        (the message says what differs) unless
        ``run_dir=kfold.RunDir(path, overwrite=True)``. Fused training (all folds
        at once) also writes checkpoints of its joint state (every fold's
        weights, optimizer and callback state, histories so far) there, so a
        rerun continues from the last one mid-run and ends bit for bit (CPU) as
        an uninterrupted run would. :class:`kfold.RunDir` also sets
        ``save_weights`` (each fold's trained weights) and ``checkpoint_every``.
    on_error : {"raise", "skip"}
        What a failing fold does (its training raises, or its loss becomes NaN or
        infinite): stop the run with :class:`kfold.train.fold.FoldError` (finished folds
        are kept in ``run_dir``), or be recorded in ``result.errors`` while the
        other folds go on.
    nan_policy : {"raise", "warn"}
        NaN or infinite values in ``x``, ``y`` or ``sample_weight``: an error
        before any training, or only a warning.
    executor : {"sequential", "processes", "dask", "ray"}, kfold.Processes, kfold.Dask or kfold.Ray
        Where the folds run: in this process (default), in local worker
        processes (``kfold.Processes(n_jobs=2)``: spawned, safe in Jupyter,
        TensorFlow limited to ``cpu_count // n_jobs`` threads each), on a Dask
        cluster (``kfold.Dask(client)``) or on Ray (``kfold.Ray()``); a name
        means its defaults. Each fold is one task; the same seed gives the
        same histories on every executor. What cannot reach the workers is
        refused before any training. See docs/guide/parallel.md.
    **kwargs
        Deprecated spellings, warned about: ``n_jobs``, ``client``, ``devices``,
        ``retries``, ``max_tasks_per_worker`` (now options of ``executor``) and
        ``overwrite``, ``save_weights``, ``checkpoint_every`` (now of
        :class:`kfold.RunDir`).

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
    executor, run_dir = run_options("cross_validate", executor, run_dir, kwargs)
    run = plan_run(build_fn, x, y, cv=cv, epochs=epochs, batch_size=batch_size, preprocess=preprocess,
                   callbacks=callbacks, fit_kwargs=fit_kwargs, sample_weight=sample_weight, groups=groups,
                   seed=seed, verbose=verbose, return_models=return_models, strategy=strategy,
                   nan_policy=nan_policy, return_predictions=return_predictions)
    check_on_error(on_error)
    return train_run(run, executor, run_dir=run_dir, strategy=strategy, on_error=on_error, verbose=verbose)
