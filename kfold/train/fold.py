"""One fold as a self-contained task: plan it, run it anywhere, collect its outcome.

The trainer is "plan the folds, run each fold, collect the results". A
:class:`FoldTask` holds only indices and a seed, a :class:`FitConfig` the training
settings and :class:`FoldData` the arrays, so a fold can run in this process,
another process or another machine, and its :class:`FoldOutcome` holds only plain
data (plus the model, when asked for).
"""
from __future__ import annotations

import dataclasses
import time
from typing import Any, Callable

import numpy as np

from kfold.core import check_positive_int, fail
from kfold.results import FoldOutcome
from kfold.results import predict_rows
from kfold.data import take
from kfold.data import fit_preprocess, apply_preprocess
from kfold.train.callbacks import fill_paths
from kfold.train.keras_fit import RESERVED_FIT_KWARGS, build_model, train_model, validation_batch_size

__all__ = ["FoldTask", "FitConfig", "FoldData", "fold_seeds", "run_fold", "non_finite_loss"]


@dataclasses.dataclass(frozen=True)
class FoldTask:
    """Which rows a fold trains and validates on, and the seed it uses.

    Examples
    --------
    >>> FoldTask(fold=0, train=np.array([1, 2]), val=np.array([0]), seed=7).fold
    0
    """

    fold: int  #: 0-based fold number
    train: np.ndarray
    val: np.ndarray
    seed: int


@dataclasses.dataclass(frozen=True)
class FoldData:
    """The arrays every fold slices its rows from.

    Examples
    --------
    >>> FoldData(x=np.zeros((4, 2)), y=np.zeros(4)).sample_weight is None
    True
    """

    x: Any
    y: Any
    sample_weight: Any = None


@dataclasses.dataclass(frozen=True)
class FitConfig:
    """How each fold's model is trained (the same for every fold).

    Examples
    --------
    >>> FitConfig(epochs=10, batch_size=16).fit_kwargs
    {}
    >>> FitConfig(epochs=10, batch_size=16, fit_kwargs={"validation_split": 0.2})
    Traceback (most recent call last):
    ...
    ValueError: Invalid `fit_kwargs`. Expected fit() arguments that kfold does not set itself. Received: fit_kwargs={'validation_split': 0.2}. Pass it as cross_validate(cv=...) instead
    """

    epochs: int
    batch_size: int = 32
    preprocess: Any = None
    callbacks: tuple = ()
    fit_kwargs: dict = dataclasses.field(default_factory=dict)
    keras_verbose: int = 0
    return_models: bool = False
    return_predictions: bool = False  #: predict the held-out rows with the final model

    def __post_init__(self) -> None:
        check_positive_int("epochs", self.epochs)
        check_positive_int("batch_size", self.batch_size)
        if self.fit_kwargs is not None and not isinstance(self.fit_kwargs, dict):
            fail("fit_kwargs", "a dict of other fit() arguments, e.g. {'class_weight': {0: 1, 1: 3}}",
                 self.fit_kwargs, error=TypeError)
        kwargs = dict(self.fit_kwargs or {})
        for key in kwargs:
            if key in RESERVED_FIT_KWARGS:
                fail("fit_kwargs", "fit() arguments that kfold does not set itself", kwargs,
                     f"Pass it as cross_validate({RESERVED_FIT_KWARGS[key]}=...) instead")
        object.__setattr__(self, "fit_kwargs", kwargs)
        object.__setattr__(self, "callbacks", tuple(self.callbacks or ()))


def non_finite_loss(history: dict[str, list[float]]) -> str | None:
    """Say where the training loss first became NaN or infinite, or return None.

    Examples
    --------
    >>> non_finite_loss({"loss": [2.0, float("nan")]})
    'the loss became nan at epoch 2'
    >>> non_finite_loss({"loss": [2.0, 1.0]}) is None
    True
    """
    for epoch, value in enumerate(history.get("loss", []), start=1):
        if not np.isfinite(value):
            return f"the loss became {value} at epoch {epoch}"
    return None


def fold_seeds(seed: int, n_folds: int) -> list[int]:
    """One seed per fold, derived from ``seed`` and the fold number only.

    A fold's seed does not depend on which folds run before it, or where, so
    folds can run in any order or in parallel and still give the same result.

    Examples
    --------
    >>> fold_seeds(0, 3) == fold_seeds(0, 3), len(set(fold_seeds(0, 3)))
    (True, 3)
    """
    return [int(np.random.SeedSequence([seed, fold]).generate_state(1)[0]) for fold in range(n_folds)]


def run_fold(build_fn: Callable[[], Any], data: FoldData, task: FoldTask,
             config: FitConfig) -> FoldOutcome:
    """Train a fresh model on the fold's training rows and score it on its held-out rows.

    Preprocessing is fitted on the training rows only; callbacks are deep-copied
    so none carries state from another fold (``{fold}`` in their paths filled); the held-out rows are passed as
    ``validation_data`` and evaluated once more at the end (the fold's score).

    Examples
    --------
    >>> from kfold.train.keras_fit import doctest_model
    >>> x, y = np.random.rand(10, 2), np.random.rand(10)
    >>> task = FoldTask(fold=0, train=np.arange(2, 10), val=np.arange(2), seed=0)
    >>> outcome = run_fold(doctest_model, FoldData(x, y), task, FitConfig(epochs=3))
    >>> len(outcome.history["val_loss"]), sorted(outcome.scores)
    (3, ['loss'])
    """
    start = time.perf_counter()
    fitted, x_train = fit_preprocess(config.preprocess, take(data.x, task.train))
    x_val = apply_preprocess(fitted, take(data.x, task.val))
    y_val, w_val = take(data.y, task.val), take(data.sample_weight, task.val)
    model = build_model(build_fn, task.seed, check_fresh=True)
    history = train_model(
        model, x_train, take(data.y, task.train), take(data.sample_weight, task.train),
        epochs=config.epochs, batch_size=config.batch_size, seed=task.seed,
        validation=(x_val, y_val, w_val), callbacks=fill_paths(config.callbacks, fold=task.fold),
        fit_kwargs=config.fit_kwargs, verbose=config.keras_verbose,
    )
    fit_time = time.perf_counter() - start
    start = time.perf_counter()
    scores = model.evaluate(x_val, y_val, sample_weight=w_val, return_dict=True, verbose=0,
                            batch_size=validation_batch_size(config.batch_size, len(task.val)))
    score_time = time.perf_counter() - start
    predictions = (predict_rows(model, x_val, validation_batch_size(config.batch_size, len(task.val)))
                   if config.return_predictions else None)
    keep = config.return_models
    return FoldOutcome(
        fold=task.fold, history=history, scores={k: float(v) for k, v in scores.items()},
        fit_time=fit_time, score_time=score_time,
        model=model if keep else None, preprocess=fitted if keep else None, predictions=predictions,
    )
