"""The compiled graph behind fused training: one epoch of every fold in one call.

Each fold keeps its own Keras model, and the graph calls that model's own
``train_step`` and ``test_step`` (its compiled loss, metrics and optimizer), so a
fold's updates are exactly those ``model.fit`` makes. What changes is who drives
the steps: instead of one ``fit`` per fold, one ``tf.function`` runs a whole epoch
of all folds, the steps in a ``tf.while_loop``, compiled with XLA when every layer
allows it. Folds whose training parts differ in size take different numbers of
steps: the epoch is cut into segments in which the same folds step with the same
batch shapes, so no fold ever takes an extra (padded or empty) step.
"""
from __future__ import annotations

import math
from typing import Any, NamedTuple, Sequence

import numpy as np

from kfold.core.backend import import_tensorflow
from kfold.data.arrays import to_tensors
from kfold.train.keras_fit import doctest_model, build_model

__all__ = ["Segment", "step_segments", "EpochGraph"]


class Segment(NamedTuple):
    """Steps ``start .. start + count - 1`` of an epoch, and the batch rows of each fold in them.

    ``rows`` maps a fold's position to its batch size in these steps: the full
    ``batch_size``, or the last, partial batch of that fold (then ``count`` is 1).
    """

    start: int
    count: int
    rows: dict


def step_segments(n_rows: Sequence[int], batch_size: int) -> list[Segment]:
    """Cut an epoch into segments in which the same folds take batches of the same size.

    Fold ``k`` takes ``n_rows[k] // batch_size`` full batches, then one partial
    batch if rows are left over, exactly as ``model.fit`` does.

    Examples
    --------
    >>> step_segments([8, 8], batch_size=4)
    [Segment(start=0, count=2, rows={0: 4, 1: 4})]
    >>> step_segments([9, 7], batch_size=4)
    [Segment(start=0, count=1, rows={0: 4, 1: 4}), Segment(start=1, count=1, rows={0: 4, 1: 3}), Segment(start=2, count=1, rows={0: 1})]
    """
    full = [n // batch_size for n in n_rows]
    steps = [math.ceil(n / batch_size) for n in n_rows]
    bounds = sorted({0, *full, *steps})
    segments = []
    for start, stop in zip(bounds, bounds[1:]):
        rows = {}
        for k, (n, f) in enumerate(zip(n_rows, full)):
            if f >= stop:
                rows[k] = batch_size
            elif f == start and n % batch_size:
                rows[k] = n % batch_size
        if rows:
            segments.append(Segment(start, stop - start, rows))
    return segments


def _map(fn: Any, data: tuple) -> tuple:
    """``fn`` applied to each tensor of ``data`` (nested); ``None`` (no sample weights) passes."""
    tf = import_tensorflow()
    return tf.nest.map_structure(lambda a: None if a is None else fn(a), data)


def _batch(data: tuple, index: Any) -> tuple:
    """Rows ``index`` of each tensor in ``data``, with the batch size hidden from Keras.

    The sequential path feeds batches of unknown static size (``tf.data``), and a
    few Keras trackers weight by the static size when it is known (the per-output
    losses of multi-output models). Hiding it here keeps the logs identical.
    """
    tf = import_tensorflow()
    index = tf.compat.v1.placeholder_with_default(index, [None])
    return _map(lambda a: tf.gather(a, index), data)


def _loop(first: int, count: int, body: Any) -> None:
    """Call ``body(i)`` for ``i`` in ``first .. first + count - 1``: inline if once, else a while loop."""
    tf = import_tensorflow()
    if count == 1:
        body(tf.constant(first))
        return

    def step(i: Any) -> Any:
        body(i)
        return (i + 1,)

    tf.while_loop(lambda i: i < first + count, step, (tf.constant(first),))


class EpochGraph:
    """One compiled function that trains the given folds for one epoch, then validates them.

    Parameters
    ----------
    models : list of keras.Model
        Built and compiled models (optimizer built too), one per fold.
    n_train, n_val : list of int
        Rows of each fold's training and held-out parts.
    batch_size : int
        Training batch size; ``val_batch_sizes`` the held-out batch size per fold.
    jit_compile : bool
        Compile with XLA.

    Calling it with each fold's epoch order and data returns, per fold, the
    training logs and the validation logs (Keras key names, floats).

    Examples
    --------
    >>> from kfold.train.fused.graph import doctest_graph
    >>> train_logs, val_logs = doctest_graph()[0]
    >>> sorted(train_logs), sorted(val_logs)
    (['loss'], ['loss'])
    """

    def __init__(self, models: list, n_train: list[int], n_val: list[int], batch_size: int,
                 val_batch_sizes: list[int], jit_compile: bool) -> None:
        tf = import_tensorflow()
        self.models, self.n_val, self.val_batch_sizes = models, n_val, val_batch_sizes
        self.batch_size, self.jit_compile = batch_size, jit_compile
        self.segments = step_segments(n_train, batch_size)
        self._function = tf.function(self._epoch, jit_compile=jit_compile, autograph=False)

    def _train(self, orders: list, train: list) -> None:
        tf = import_tensorflow()
        for start, count, rows in self.segments:
            def body(step: Any, rows: dict = rows) -> None:
                for k, size in rows.items():
                    index = tf.slice(orders[k], [step * self.batch_size], [size])
                    self.models[k].train_step(_batch(train[k], index))
            _loop(start, count, body)

    def _validate(self, k: int, data: tuple) -> dict:
        tf = import_tensorflow()
        model, n, size = self.models[k], self.n_val[k], self.val_batch_sizes[k]
        model.reset_metrics()
        if n // size:
            _loop(0, n // size, lambda i: model.test_step(_batch(data, tf.range(i * size, (i + 1) * size))))
        if n % size:
            model.test_step(_batch(data, tf.range((n // size) * size, n)))
        return model.get_metrics_result()

    def _epoch(self, orders: list, train: list, val: list) -> list:
        for model in self.models:
            model.reset_metrics()
        self._train(orders, train)
        logs = [model.get_metrics_result() for model in self.models]
        return [(logs[k], self._validate(k, val[k])) for k in range(len(self.models))]

    def __call__(self, orders: list[np.ndarray], train: list[tuple], val: list[tuple]) -> list:
        tf = import_tensorflow()
        orders = [tf.constant(order, dtype=tf.int32) for order in orders]
        out = self._function(orders, train, val)
        return [tuple({key: float(value) for key, value in logs.items()} for logs in pair)
                for pair in out]


def doctest_graph() -> list:

    model = build_model(doctest_model, seed=0)
    x, y = to_tensors(np.random.rand(6, 2)), to_tensors(np.random.rand(6))
    model._symbolic_build(data_batch=(x, y))
    graph = EpochGraph([model], [6], [6], 4, [6], jit_compile=False)
    return graph([np.arange(6)], [(x, y, None)], [(x, y, None)])
