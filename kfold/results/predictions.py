"""Out-of-fold predictions: each fold's predictions on its held-out rows, put back in sample order.

A fold's predictions are what its final model (its restored best weights, when
``EarlyStopping(restore_best_weights=True)`` restored them) predicts for its
validation rows, in the order of the fold's validation indices: an array
``(n_val, *output_shape)``, or a dict of them (output name -> array) for a model
with several outputs. :func:`oof_array` scatters them back into the original
sample order; rows no fold validated are NaN. For a repeated splitter
(``RepeatedKFold``) every repetition covers every sample once, so the array gets
a leading repetition axis (the repetition of fold ``i`` is ``i // n_splits``).

On disk (a run directory) a fold's predictions are one ``.npz`` file next to its
JSON file, written atomically; in a result's JSON they are nested lists.
"""
from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from kfold.core import Described, fail

__all__ = ["quiet_retracing", "predict_rows", "oof_array", "check_partition", "predictions_to_json", "predictions_from_json",
           "save_predictions", "load_predictions"]

_ARRAY_KEY = "predictions"      # an .npz of a single-output model
_OUTPUT_PREFIX = "output:"       # an .npz of a multi-output model: one entry per output


@contextlib.contextmanager
def quiet_retracing() -> Iterator[None]:
    """Silence TensorFlow's "triggered tf.function retracing" warning while several models predict.

    Every fold model has its own predict function, so predicting with K models
    one after another traces K functions: that is expected, not a problem.

    Examples
    --------
    >>> with quiet_retracing():
    ...     logging.getLogger("tensorflow").level >= logging.ERROR
    True
    """
    logger = logging.getLogger("tensorflow")
    level = logger.level
    logger.setLevel(max(level, logging.ERROR))
    try:
        yield
    finally:
        logger.setLevel(level)


def predict_rows(model: Any, x: Any, batch_size: int = 256) -> Any:
    """``model.predict(x)`` as a NumPy array, or a dict of arrays (output name -> array) for several outputs.

    Examples
    --------
    >>> import keras
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> predict_rows(model, np.zeros((3, 2)), batch_size=32).shape
    (3, 1)
    """
    with quiet_retracing():
        predictions = model.predict(x, batch_size=batch_size, verbose=0)
    if isinstance(predictions, dict):
        return {str(name): np.asarray(value) for name, value in predictions.items()}
    if isinstance(predictions, (list, tuple)):
        names = list(getattr(model, "output_names", None) or [f"output_{i}" for i in range(len(predictions))])
        return {str(name): np.asarray(value) for name, value in zip(names, predictions)}
    return np.asarray(predictions)


def _scatter(parts: list, folds: Sequence[tuple], n_samples: int) -> np.ndarray:
    """One array (n_samples, ...) from per-fold arrays; NaN where no fold has a row."""
    given = [np.asarray(p) for p in parts if p is not None]
    inner, dtype = given[0].shape[1:], np.result_type(given[0].dtype, np.float32)
    out = np.full((n_samples, *inner), np.nan, dtype=dtype)
    for part, (_, val) in zip(parts, folds):
        if part is not None:
            out[np.asarray(val)] = np.asarray(part)
    return out


def check_partition(folds: Sequence[tuple], n_samples: int, n_repeats: int = 1,
                    *, require_all: bool = False) -> None:
    """Raise unless no sample is validated twice within a repetition (and, if asked, each once).

    Examples
    --------
    >>> folds = [(np.array([1, 2]), np.array([0])), (np.array([0, 2]), np.array([1, 2]))]
    >>> check_partition(folds, 3, require_all=True)
    >>> check_partition(folds[:1], 3, require_all=True)
    Traceback (most recent call last):
    ...
    ValueError: Invalid `cv`. Expected folds whose validation parts partition the samples (each sample validated exactly once per repetition). Received: cv=folds that validate 2 of 3 samples never. cross_val_predict needs a K-fold-like splitter (KFold, StratifiedKFold, GroupKFold, RepeatedKFold); for other splitters use cross_validate(return_predictions=True) and result.predictions
    """
    n_folds = len(folds)
    if n_repeats < 1 or n_folds % n_repeats:
        fail("n_repeats", f"a divisor of the number of folds ({n_folds})", n_repeats)
    per = n_folds // n_repeats
    expected = "folds whose validation parts partition the samples (each sample validated exactly once per repetition)"
    fix = ("cross_val_predict needs a K-fold-like splitter (KFold, StratifiedKFold, GroupKFold, "
           "RepeatedKFold); for other splitters use cross_validate(return_predictions=True) and "
           "result.predictions")
    for repeat in range(n_repeats):
        counts = np.zeros(n_samples, dtype=int)
        for _, val in folds[repeat * per:(repeat + 1) * per]:
            np.add.at(counts, np.asarray(val), 1)
        if (counts > 1).any():
            fail("cv", expected, Described(f"folds that validate {int((counts > 1).sum())} samples more than once"
                                           + (f" in repetition {repeat + 1}" if n_repeats > 1 else "")), fix)
        if require_all and (counts == 0).any():
            fail("cv", expected, Described(f"folds that validate {int((counts == 0).sum())} of {n_samples} "
                                           "samples never"), fix)


def oof_array(predictions: Sequence[Any], folds: Sequence[tuple], n_samples: int,
              n_repeats: int = 1) -> Any:
    """Scatter per-fold predictions into sample order: ``(n_samples, ...)`` or ``(n_repeats, n_samples, ...)``.

    ``predictions[i]`` holds fold ``i``'s predictions on its validation rows (None for
    a failed fold: its rows stay NaN); a dict of arrays gives a dict of arrays.

    Examples
    --------
    >>> folds = [(np.array([1, 2]), np.array([0])), (np.array([0]), np.array([1, 2]))]
    >>> oof_array([np.array([[0.5]]), np.array([[1.5], [2.5]])], folds, 3).ravel()
    array([0.5, 1.5, 2.5])
    >>> oof_array([np.array([[0.5]]), None], folds, 3).ravel()
    array([0.5, nan, nan])
    """
    if all(p is None for p in predictions):
        fail("predictions", "at least one fold with predictions", Described("no fold's predictions"))
    check_partition(folds, n_samples, n_repeats)
    first = next(p for p in predictions if p is not None)
    if isinstance(first, dict):
        return {name: oof_array([None if p is None else p[name] for p in predictions], folds, n_samples, n_repeats)
                for name in first}
    if n_repeats == 1:
        return _scatter(list(predictions), folds, n_samples)
    per = len(folds) // n_repeats
    return np.stack([_scatter(list(predictions[r * per:(r + 1) * per]), folds[r * per:(r + 1) * per], n_samples)
                     for r in range(n_repeats)])


def _nan_to_none(value: Any) -> Any:
    if isinstance(value, list):
        return [_nan_to_none(v) for v in value]
    return None if not np.isfinite(value) else value


def predictions_to_json(prediction: Any) -> Any:
    """One fold's predictions as plain lists (a dict stays a dict; NaN becomes ``None``).

    Examples
    --------
    >>> predictions_to_json(np.array([[1.0], [np.nan]], dtype=np.float32))
    [[1.0], [None]]
    >>> predictions_to_json(None) is None
    True
    """
    if prediction is None:
        return None
    if isinstance(prediction, dict):
        return {name: predictions_to_json(value) for name, value in prediction.items()}
    return _nan_to_none(np.asarray(prediction, dtype=float).tolist())


def predictions_from_json(data: Any) -> Any:
    """Rebuild :func:`predictions_to_json` output as float32 arrays.

    Examples
    --------
    >>> predictions_from_json({"a": [[1.0], [None]]})["a"].ravel()
    array([ 1., nan], dtype=float32)
    """
    if data is None:
        return None
    if isinstance(data, dict):
        return {name: predictions_from_json(value) for name, value in data.items()}
    return np.array(_none_to_nan(data), dtype=np.float32)


def _none_to_nan(value: Any) -> Any:
    if isinstance(value, list):
        return [_none_to_nan(v) for v in value]
    return np.nan if value is None else value


def save_predictions(path: str | os.PathLike, prediction: Any) -> None:
    """Write one fold's predictions to ``path`` (``.npz``) atomically (a temporary file, then a rename).

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "fold_000.predictions.npz"
    >>> save_predictions(path, {"price": np.ones((2, 1))})
    >>> load_predictions(path)["price"].shape
    (2, 1)
    """
    path = Path(path)
    if isinstance(prediction, dict):
        entries = {_OUTPUT_PREFIX + name: np.asarray(value) for name, value in prediction.items()}
    else:
        entries = {_ARRAY_KEY: np.asarray(prediction)}
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as file:
        np.savez(file, **entries)
        file.flush()
        os.fsync(file.fileno())
    os.replace(tmp, path)


def load_predictions(path: str | os.PathLike) -> Any:
    """Read what :func:`save_predictions` wrote: an array, or a dict of arrays."""
    with np.load(Path(path), allow_pickle=False) as data:
        if _ARRAY_KEY in data.files:
            return data[_ARRAY_KEY]
        return {name[len(_OUTPUT_PREFIX):]: data[name] for name in data.files}
