"""The compiled graph behind fused training: several epochs of every fold in one call.

Each fold keeps its own Keras model, and the graph calls that model's own
``train_step`` and ``test_step`` (its compiled loss, metrics and optimizer), so a
fold's updates are exactly those ``model.fit`` makes. What changes is who drives
the steps: instead of one ``fit`` per fold, one ``tf.function`` runs up to
``epochs_per_call`` epochs of all folds, compiled with XLA when every layer allows it.

Three rules keep it fast and its numbers independent of its company:

* **static-size batches**: the batch rows of every step of every epoch of a call
  are precomputed (``full[k][e, i]``, shape ``(epochs, steps, batch)``, plus the
  last partial batch ``rest[k][e]``) and gathered with a dynamic index but a
  static size; the held-out part is cut into its batches with static slices.
  Nothing inside the loops has loop-dependent bounds (``tf.range`` or slices
  sized by the loop counter fall out of XLA);
* **one fold after the other**: inside an epoch, fold ``k`` runs its own loop of
  its own steps, so the operations of fold ``k`` are the same whichever folds
  share the graph (a fold trained alone gives bitwise the same history as
  in a group); a fold with fewer batches takes fewer steps, never a padded one;
* **one compiled function per graph, traced once**: the number of epochs of a
  call is a runtime value (the index arrays are padded to ``epochs_per_call``),
  so the last, shorter call reuses the compiled function.
"""
from __future__ import annotations

import functools
from typing import Any

import numpy as np

from kfold.core import import_tensorflow

__all__ = ["batch_indices", "TrainsFoldModels", "EpochGraph"]


def batch_indices(orders: list[np.ndarray], batch_size: int, epochs: int) -> tuple[np.ndarray, np.ndarray]:
    """The rows of each full batch and of the partial last batch, for each epoch's order.

    Returns ``full`` shaped ``(epochs, n // batch_size, batch_size)`` and ``rest``
    shaped ``(epochs, n % batch_size)``; epochs beyond ``len(orders)`` are zeros
    (padding, never trained).

    Examples
    --------
    >>> full, rest = batch_indices([np.array([4, 3, 2, 1, 0])], batch_size=2, epochs=2)
    >>> full.tolist(), rest.tolist()
    ([[[4, 3], [2, 1]], [[0, 0], [0, 0]]], [[0], [0]])
    """
    n = len(orders[0])
    n_full = n // batch_size
    padded = np.zeros((epochs, n), np.int32)
    padded[:len(orders)] = orders
    full = padded[:, :n_full * batch_size].reshape(epochs, n_full, batch_size)
    return np.ascontiguousarray(full), np.ascontiguousarray(padded[:, n_full * batch_size:])


def _map(fn: Any, data: tuple) -> tuple:
    """``fn`` applied to each tensor of ``data`` (nested); ``None`` (no sample weights) passes."""
    tf = import_tensorflow()
    return tf.nest.map_structure(lambda a: None if a is None else fn(a), data)


def _hide_size(data: tuple) -> tuple:
    """``data`` with the batch size hidden from Keras.

    The sequential path feeds batches of unknown static size (``tf.data``), and a
    few Keras trackers weight by the static size when it is known (the per-output
    losses of multi-output models). Hiding it keeps the logs identical.
    """
    tf = import_tensorflow()
    return _map(lambda a: tf.compat.v1.placeholder_with_default(a, [None, *a.shape[1:]]), data)


def _repeat(count: int, body: Any) -> None:
    """Call ``body(i)`` for ``i`` in ``0 .. count - 1`` (a static count): inline if once, else a loop."""
    tf = import_tensorflow()
    if count == 1:
        body(tf.constant(0))
    elif count > 1:
        def step(i: Any) -> Any:
            with tf.control_dependencies(body(i)):
                return (i + 1,)

        tf.while_loop(lambda i: i < count, step, (tf.constant(0),), parallel_iterations=1)


def _flat(logs: dict) -> list:
    return [logs[key] for key in sorted(logs)]


class TrainsFoldModels:
    """The state protocol of a graph that trains the fold models' own variables: nothing to copy.

    The runner calls :meth:`sync` and :meth:`release` when the fold models must
    hold the trained state, and a checkpoint reads :meth:`held_state`; the stacked
    graph, which trains a copy, does the work there
    (:class:`kfold.engines.tensorflow.stacked.StackedGraph`).

    Examples
    --------
    >>> TrainsFoldModels().held_state()
    {}
    """

    def sync(self) -> None:
        """Nothing to do: the fold models hold the state."""

    release = sync

    def held_state(self) -> dict:
        """Nothing held apart from the fold models."""
        return {}


class EpochGraph(TrainsFoldModels):
    """One compiled function that trains the given folds for up to ``epochs_per_call`` epochs.

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
    epochs_per_call : int
        The most epochs one call trains (every epoch ends with the validation of every fold).

    Calling it with each fold's epoch orders (one array per epoch, at most
    ``epochs_per_call``) and data returns, per epoch and per fold, the training
    logs and the validation logs (Keras key names, floats).

    Examples
    --------
    >>> from kfold.engines.tensorflow.graph import doctest_graph
    >>> epochs = doctest_graph()
    >>> len(epochs), [sorted(logs) for logs in epochs[0][0]]
    (2, [['loss'], ['loss']])
    """

    def __init__(self, models: list, n_train: list[int], n_val: list[int], batch_size: int,
                 val_batch_sizes: list[int], jit_compile: bool, epochs_per_call: int = 1) -> None:
        tf = import_tensorflow()
        self.models, self.n_train, self.n_val = models, list(n_train), list(n_val)
        self.val_batch_sizes, self.batch_size = list(val_batch_sizes), batch_size
        self.jit_compile, self.epochs_per_call = jit_compile, max(1, int(epochs_per_call))
        self._keys: list[list[str]] = []
        # a partial, not a bound method: TensorFlow counts traces per Python function, and one
        # trace per graph (a new graph per candidate of a search) is not retracing
        self._function = tf.function(functools.partial(self._epochs), jit_compile=jit_compile,
                                     autograph=False)

    def _train(self, k: int, full: Any, rest: Any, data: tuple) -> list:
        """One epoch of fold ``k``: its full batches in a loop, then its partial batch."""
        tf = import_tensorflow()
        model = self.models[k]
        model.reset_metrics()
        _repeat(int(full.shape[0]), lambda i: _flat(model.train_step(_hide_size(_map(
            lambda a: tf.gather(a, full[i]), data)))))
        if rest.shape[0]:
            model.train_step(_hide_size(_map(lambda a: tf.gather(a, rest), data)))
        return _flat(model.get_metrics_result())

    def _validate(self, k: int, data: tuple) -> list:
        """The held-out logs of fold ``k``: its batches cut with static slices."""
        tf = import_tensorflow()
        model, n, size = self.models[k], self.n_val[k], self.val_batch_sizes[k]
        model.reset_metrics()
        n_full = n // size
        if n_full:
            shaped = _map(lambda a: tf.reshape(a[:n_full * size], [n_full, size, *a.shape[1:]]), data)
            _repeat(n_full, lambda i: _flat(model.test_step(_hide_size(_map(lambda a: a[i], shaped)))))
        if n % size:
            model.test_step(_hide_size(_map(lambda a: a[n_full * size:], data)))
        return _flat(model.get_metrics_result())

    def _epochs(self, n_epochs: Any, full: list, rest: list, train: list, val: list) -> list:
        tf = import_tensorflow()
        self._keys = [sorted(model.get_metrics_result()) for model in self.models]
        arrays = [[tf.TensorArray(tf.float32, size=self.epochs_per_call) for _ in range(2 * len(keys))]
                  for keys in self._keys]

        def epoch(e: Any, arrays: list) -> tuple:
            out = []
            for k in range(len(self.models)):
                logs = self._train(k, full[k][e], rest[k][e], train[k])
                logs += self._validate(k, val[k])
                out.append([array.write(e, tf.cast(value, tf.float32)) for array, value in zip(arrays[k], logs)])
            return e + 1, out

        _, arrays = tf.while_loop(lambda e, _: e < n_epochs, epoch, (tf.constant(0), arrays),
                                  parallel_iterations=1)
        return [[array.stack() for array in fold] for fold in arrays]

    def __call__(self, orders: list[list[np.ndarray]], train: list[tuple], val: list[tuple]) -> list:
        """Train ``len(orders[0])`` epochs; ``orders[k][e]`` is fold ``k``'s order in epoch ``e``."""
        tf = import_tensorflow()
        n_epochs = len(orders[0])
        if not 1 <= n_epochs <= self.epochs_per_call:
            raise ValueError(f"{n_epochs} epochs in one call, expected 1 to {self.epochs_per_call}")
        indices = [batch_indices(o, self.batch_size, self.epochs_per_call) for o in orders]
        out = self._function(tf.constant(n_epochs), [tf.constant(f) for f, _ in indices],
                             [tf.constant(r) for _, r in indices], train, val)
        out = [[np.asarray(v) for v in fold] for fold in out]
        epochs = []
        for e in range(n_epochs):
            pairs = []
            for keys, values in zip(self._keys, out):
                train_logs = {key: float(v[e]) for key, v in zip(keys, values)}
                val_logs = {key: float(v[e]) for key, v in zip(keys, values[len(keys):])}
                pairs.append((train_logs, val_logs))
            epochs.append(pairs)
        return epochs


def doctest_graph() -> list:
    """Two epochs of a one-fold graph, for the examples."""
    from kfold.engines.tensorflow._examples import tiny_data, tiny_model

    model, (x, y) = tiny_model(), tiny_data()
    model._symbolic_build(data_batch=(x, y))
    graph = EpochGraph([model], [6], [6], 4, [6], jit_compile=False, epochs_per_call=3)
    return graph([[np.arange(6), np.arange(6)]], [(x, y, None)], [(x, y, None)])
