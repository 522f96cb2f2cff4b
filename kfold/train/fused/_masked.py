"""Machinery of the two masked graphs (stacked and masked-step): per-row values, step masks, logs.

Both pad a fold's partial last batch to the batch size and mask it, and both return
per epoch and fold the training and validation logs that
:class:`kfold.train.fused.graph.EpochGraph` returns.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from kfold.core.backend import import_tensorflow

__all__ = ["LOSSES", "per_row", "step_masks", "epoch_logs"]

# the losses the masked graphs compute per row (``y`` squeezed or expanded to the prediction's rank first)
LOSSES = ("mse", "mean_squared_error", "mae", "mean_absolute_error", "binary_crossentropy",
           "categorical_crossentropy", "sparse_categorical_crossentropy")


def per_row(fn: Any, y: Any, pred: Any, **kwargs: Any) -> Any:
    """``fn`` per row, as on one fold's rows: on ``(K, B, ...)`` rows (flattened to K * B) or ``(B, ...)``.

    A loss first squeezes or expands ``y`` to ``pred``'s rank, as Keras' losses do;
    values with trailing axes (an elementwise metric) are averaged over them.

    Examples
    --------
    >>> import keras
    >>> per_row(keras.losses.mean_squared_error, np.zeros((2, 3), "float32"), np.ones((2, 3, 1), "float32")).shape
    TensorShape([2, 3])
    """
    from keras.src.losses.loss import squeeze_or_expand_to_same_rank

    tf = import_tensorflow()
    lead = [int(d) for d in pred.shape[:-1]]  # a Dense stack's output: (..., units)
    flat_y, flat_pred = tf.reshape(y, [-1, *y.shape[len(lead):]]), tf.reshape(pred, [-1, pred.shape[-1]])
    if fn.__name__ in LOSSES:
        flat_y, flat_pred = squeeze_or_expand_to_same_rank(flat_y, flat_pred)
    values = tf.cast(fn(flat_y, flat_pred, **kwargs), tf.float32)
    if len(values.shape) > 1:
        values = tf.reduce_mean(values, axis=list(range(1, len(values.shape))))
    return tf.reshape(values, lead)


def step_masks(n_train: np.ndarray, batch_size: int) -> np.ndarray:
    """``(steps, K, batch)``: 1 for each fold's rows of each step, 0 for the padding of a partial batch.

    Examples
    --------
    >>> step_masks(np.array([3, 4]), 2)[:, :, :].tolist()
    [[[1.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 1.0]]]
    """
    steps = -(-int(n_train.max()) // batch_size)
    rows = np.arange(steps * batch_size).reshape(steps, 1, batch_size)
    return (rows < n_train[None, :, None]).astype(np.float32)


def epoch_logs(out: list, keys: list[str], n_folds: int, n_epochs: int) -> list:
    """Per epoch and fold, ``(train_logs, val_logs)`` from ``out``: per key training then validation, ``(epochs, K)``.

    Examples
    --------
    >>> out = [np.array([[0.5, 0.25]]), np.array([[1.5, 1.25]])]  # loss, then val loss; one epoch, two folds
    >>> epoch_logs(out, ["loss"], 2, 1)
    [[({'loss': 0.5}, {'loss': 1.5}), ({'loss': 0.25}, {'loss': 1.25})]]
    """
    n_keys = len(keys)
    return [[({key: float(out[j][e, k]) for j, key in enumerate(keys)},
              {key: float(out[n_keys + j][e, k]) for j, key in enumerate(keys)})
             for k in range(n_folds)] for e in range(n_epochs)]
