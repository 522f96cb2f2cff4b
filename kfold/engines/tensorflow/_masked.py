"""Machinery of the two masked graphs (stacked and masked-step): compiled scores per row, step masks,
the epoch loop and its logs.

Both pad a fold's partial last batch to the batch size and mask it, compute the
compiled loss and metrics per row (:class:`RowScores`), run the same loop of
epochs and steps (:func:`masked_epochs`), and return per epoch and fold the
training and validation logs that :class:`kfold.engines.tensorflow.graph.EpochGraph` returns.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from kfold.core import import_keras, import_tensorflow

__all__ = ["LOSSES", "METRICS", "metric_fns", "RowScores", "per_row", "step_masks", "masked_epochs", "epoch_logs"]

# the losses the masked graphs compute per row (``y`` squeezed or expanded to the prediction's rank first)
LOSSES = ("mse", "mean_squared_error", "mae", "mean_absolute_error", "binary_crossentropy",
           "categorical_crossentropy", "sparse_categorical_crossentropy")
# the metrics they compute per row (each a plain mean of one of these functions)
METRICS = ("mean_absolute_error", "mean_squared_error", "accuracy", "binary_accuracy",
           "categorical_accuracy", "sparse_categorical_accuracy")


def _leaf_metrics(metric: Any) -> list:
    inner = getattr(metric, "metrics", None)
    if isinstance(inner, (list, tuple)) and inner and inner[0] is not metric:
        return [m for sub in inner for m in _leaf_metrics(sub)]
    return [metric]


def metric_fns(model: Any) -> list | None:
    """``(name, fn, kwargs)`` of each compiled metric, or None if one is not a plain mean of a :data:`METRICS` fn.

    Examples
    --------
    >>> import keras
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    >>> _ = model.evaluate(np.zeros((2, 2)), np.zeros(2), verbose=0)  # builds the compiled metrics
    >>> [(name, fn.__name__) for name, fn, _ in metric_fns(model)]
    [('mae', 'mean_absolute_error')]
    """
    from keras.src.metrics.reduction_metrics import MeanMetricWrapper

    found = []
    for metric in _leaf_metrics(model._compile_metrics) if model._compile_metrics is not None else []:
        fn = getattr(metric, "_fn", None)
        if type(metric).__bases__[0] is not MeanMetricWrapper and type(metric) is not MeanMetricWrapper:
            return None
        if getattr(fn, "__name__", None) not in METRICS:
            return None
        found.append((metric.name, fn, dict(metric._fn_kwargs)))
    return found


class RowScores:
    """A model's compiled loss and metrics, computed per row; ``keys`` sorted, as Keras' logs are.

    Examples
    --------
    >>> import keras
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    >>> _ = model.evaluate(np.zeros((2, 2)), np.zeros(2), verbose=0)
    >>> scores = RowScores(model)
    >>> scores.keys, sorted(scores.values(np.zeros((3, 1), "float32"), np.ones((3, 1), "float32")))
    (['loss', 'mae'], ['loss', 'mae'])
    """

    def __init__(self, model: Any) -> None:
        loss = import_keras().losses.get(model.loss)
        self.loss_fn = getattr(loss, "fn", loss)
        self.metrics = metric_fns(model)
        self.keys = sorted(["loss", *[name for name, _, _ in self.metrics]])

    def loss(self, y: Any, pred: Any) -> Any:
        """The loss per row."""
        return per_row(self.loss_fn, y, pred)

    def values(self, y: Any, pred: Any, loss: Any = None) -> dict:
        """Per row, the loss (``loss`` if already computed) and each metric, by key."""
        values = {"loss": self.loss(y, pred) if loss is None else loss}
        for name, fn, kwargs in self.metrics:
            values[name] = per_row(fn, y, pred, **kwargs)
        return values


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


def masked_epochs(n_epochs: Any, capacity: int, steps: int, n_keys: int, n_train: np.ndarray, n_val: np.ndarray,
                  step: Any, validation: Any) -> list:
    """(graph) Up to ``capacity`` epochs: ``steps`` steps each, then validation; per key training then validation logs.

    ``n_keys`` values per step and validation (the loss and the metrics);
    ``step(e, i)`` trains step ``i`` of epoch ``e`` and returns, per key, the K folds'
    summed values over their rows; ``validation()`` returns the same over each fold's
    held-out part. Sums are divided by ``n_train`` and ``n_val`` (K each). Returns
    ``2 * keys`` arrays shaped ``(capacity, K)``, as :func:`epoch_logs` reads them.

    Examples
    --------
    >>> import tensorflow as tf
    >>> out = masked_epochs(tf.constant(2), 2, 3, 1, np.array([3.0, 6.0]), np.array([1.0, 2.0]),
    ...                     lambda e, i: [tf.constant([1.0, 2.0])], lambda: [tf.constant([4.0, 4.0])])
    >>> [a.numpy().tolist() for a in out]
    [[[1.0, 1.0], [1.0, 1.0]], [[4.0, 2.0], [4.0, 2.0]]]
    """
    tf = import_tensorflow()
    k = len(n_train)
    n_train, n_val = tf.constant(np.asarray(n_train, np.float32)), tf.constant(np.asarray(n_val, np.float32))
    arrays = [tf.TensorArray(tf.float32, size=capacity, element_shape=[k]) for _ in range(2 * n_keys)]

    def epoch(e: Any, arrays: list) -> tuple:
        def one_step(i: Any, *sums: Any) -> tuple:
            return (i + 1, *[a + b for a, b in zip(sums, step(e, i))])

        sums = tf.while_loop(lambda i, *_: i < steps, one_step, (tf.constant(0), *[tf.zeros([k])] * n_keys),
                             parallel_iterations=1)[1:]
        logs = [s / n_train for s in sums] + [s / n_val for s in validation()]
        return e + 1, [array.write(e, value) for array, value in zip(arrays, logs)]

    _, arrays = tf.while_loop(lambda e, _: e < n_epochs, epoch, (tf.constant(0), arrays), parallel_iterations=1)
    return [array.stack() for array in arrays]


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
