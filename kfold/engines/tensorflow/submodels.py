"""The fast generic path: K fold models called side by side in one masked step, for models of Keras' layers.

:class:`kfold.engines.tensorflow.graph.EpochGraph` runs each fold's own ``train_step``
and ``test_step``: four traced steps per fold (full and partial training batch,
full and partial validation batch) with Keras' loss and metric trackers, which
makes its XLA compile the larger part of a short run. For a model made of
Keras' own layers, with a loss and metrics kfold knows, one step serves every
fold and every batch: each fold's model is called on its batch
(``training=True``: its Dropout draws from its own seed generator), its loss is
the masked mean over its batch (a fold's partial last batch is padded to the
batch size and masked, so it is still one step on that batch's rows only), the
gradient of the folds' summed losses is each fold's own (no variable is
shared), and each fold's own optimizer applies it, as ``train_step`` does.
Validation is fold by fold, in batches of at most the validation batch size, all of one
size (the last filled up with masked rows), so one traced model call per fold.

Numerics contract: a fold's numbers do not depend on which folds share the graph
(each fold's operations are its own, with shapes fixed by the batch size and its
own validation part), the same seed gives the same histories, and against the
generic graph the logs agree to float rounding (masked sums add in another
order), except for random layers, whose draws differ (a padded batch draws for
the padding rows too). It trains the fold models' own variables, so nothing is
copied in or out.

Epoch-level callbacks run with it as with the generic graph: a callback's change
to its fold's model or optimizer between epochs (a new learning rate, restored
weights) is a change to the variables this graph trains.

It applies (:func:`submodel_reason` says why not) with XLA (the engine runs it
without XLA for image convolutions on a CPU, where TensorFlow's own kernels are
faster: :func:`kfold.engines.tensorflow.choice.xla_slower`; those kernels split their sums by
the number of threads, so a worker with fewer threads rounds such a model's numbers
otherwise in the last bits), for
one or several input arrays (a list or dict, as the model takes them) and one
output of shape ``(batch, units)``, no sample weights, the
same number of steps per epoch in every fold, a loss and metrics from
:data:`kfold.engines.tensorflow._masked.LOSSES` and ``METRICS``, a model class and
layers that are Keras' own (a model of one's own may train otherwise), without
regularizers, masks (``Masking``, ``mask_zero``) or batch statistics (no
``BatchNormalization``: padding rows would enter its statistics).
"""
from __future__ import annotations

import functools
from typing import Any

import numpy as np

from kfold.core import import_tensorflow
from kfold.engines.tensorflow._masked import LOSSES, RowScores, epoch_logs, masked_epochs, metric_fns, step_masks
from kfold.engines.tensorflow.graph import TrainsFoldModels

__all__ = ["submodel_reason", "SubmodelGraph"]

# layers whose training step depends on the other rows of the batch (padding would change them)
_BATCH_LAYERS = ("BatchNormalization", "SyncBatchNormalization")
_REGULARIZERS = ("kernel_regularizer", "bias_regularizer", "activity_regularizer", "depthwise_regularizer",
                 "pointwise_regularizer", "recurrent_regularizer", "beta_regularizer", "gamma_regularizer",
                 "embeddings_regularizer")


def _model_reason(model: Any) -> str | None:
    if not type(model).__module__.startswith("keras."):  # its own train_step, compute_loss or call
        return f"the model class {type(model).__name__} is not one of Keras' own"
    layers = model._flatten_layers(include_self=False) if hasattr(model, "_flatten_layers") else model.layers
    for layer in layers:
        if not type(layer).__module__.startswith("keras."):
            return f"layer {layer.name} is not one of Keras' own"
        if type(layer).__name__ in _BATCH_LAYERS:
            return f"layer {layer.name} keeps batch statistics"
        if type(layer).__name__ == "Masking" or getattr(layer, "mask_zero", False):
            return f"layer {layer.name} masks rows (Keras would weight the loss by its mask)"
        if any(getattr(layer, a, None) is not None for a in _REGULARIZERS):
            return f"layer {layer.name} has a regularizer"
    if getattr(model.dtype_policy, "name", "float32") != "float32":
        return f"dtype policy {model.dtype_policy.name!r}, not float32"
    if not model.inputs or len(model.outputs or []) != 1 or len(model.outputs[0].shape) != 2:
        return "not a model of known inputs and one output of shape (batch, units)"
    if getattr(model.loss, "__name__", model.loss) not in LOSSES:
        return f"loss {model.loss!r} is not one of {LOSSES}"
    if metric_fns(model) is None:
        return "a metric is not a plain mean of a known function"
    return None


def submodel_reason(models: list, train: list, n_train: list, batch_size: int) -> str | None:
    """Why these folds cannot take the masked-step graph, or ``None`` if they can.

    Examples
    --------
    >>> import keras
    >>> from kfold.engines.tensorflow._examples import tiny_model
    >>> submodel_reason([tiny_model()], [], [4], batch_size=2) is None
    True
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.BatchNormalization(), keras.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> submodel_reason([model], [], [4], batch_size=2)
    'layer batch_normalization keeps batch statistics'
    """
    for model in models:
        reason = _model_reason(model)
        if reason:
            return reason
    if len({-(-n // batch_size) for n in n_train}) > 1:
        return "folds take different numbers of steps per epoch"
    tf = import_tensorflow()
    for x, y, weight in train:
        if weight is not None or not all(tf.is_tensor(t) for t in tf.nest.flatten(x)) or not tf.is_tensor(y):
            return "sample weights, or several target arrays"
    return None


def _rows(x: Any, cut: Any) -> Any:
    """``cut`` applied to the input array ``x``, or to each of its arrays (a list or dict of inputs)."""
    return import_tensorflow().nest.map_structure(cut, x)


class SubmodelGraph(TrainsFoldModels):
    """The fold models trained side by side, up to ``epochs_per_call`` epochs a call, one masked step for all.

    The same call as :class:`kfold.engines.tensorflow.graph.EpochGraph`: each fold's epoch
    orders and data in, per epoch and fold the training and validation logs out.

    Examples
    --------
    >>> from kfold.engines.tensorflow.submodels import doctest_submodels
    >>> epochs = doctest_submodels()
    >>> len(epochs), sorted(epochs[0][0][0])
    (2, ['loss'])
    """

    def __init__(self, models: list, n_train: list[int], n_val: list[int], batch_size: int,
                 val_batch_sizes: list[int], jit_compile: bool, epochs_per_call: int = 1) -> None:
        tf = import_tensorflow()
        self.models, self.batch_size, self.jit_compile = models, batch_size, jit_compile
        self.n_train, self.n_val = np.array(n_train), list(n_val)
        self.val_batch_sizes, self.epochs_per_call = list(val_batch_sizes), max(1, int(epochs_per_call))
        self.scores = RowScores(models[0])
        self.masks = step_masks(self.n_train, batch_size)
        self._function = tf.function(functools.partial(self._epochs), jit_compile=jit_compile, autograph=False)

    def _sums(self, y: Any, pred: Any, mask: Any = None, loss: Any = None) -> list:
        """The summed per-row loss and metrics (of the rows where ``mask`` is 1), in ``scores.keys`` order."""
        tf = import_tensorflow()
        values = self.scores.values(y, pred, loss)
        return [tf.reduce_sum(values[key] if mask is None else values[key] * mask) for key in self.scores.keys]

    def _step(self, train: list, index: Any, mask: Any) -> list:
        """One optimizer step of every fold on its rows ``index[k]`` where ``mask[k]`` is 1; per key, (K,) sums."""
        tf = import_tensorflow()
        batches = [(_rows(x, lambda t, k=k: tf.gather(t, index[k])), tf.gather(y, index[k]))
                   for k, (x, y, _) in enumerate(train)]
        with tf.GradientTape() as tape:
            preds = [model(x, training=True) for model, (x, _) in zip(self.models, batches)]
            rows = [self.scores.loss(y, pred) for (_, y), pred in zip(batches, preds)]
            # each fold's masked mean; the folds share no variable, so each gets its own loss's gradient
            loss = tf.add_n([tf.reduce_sum(r * mask[k]) / tf.reduce_sum(mask[k]) for k, r in enumerate(rows)])
        variables = [model.trainable_variables for model in self.models]
        grads = tape.gradient(loss, variables)
        for model, g, v in zip(self.models, grads, variables):
            model.optimizer.apply(g, v)
        sums = [self._sums(y, pred, mask[k], rows[k]) for k, ((_, y), pred) in enumerate(zip(batches, preds))]
        return [tf.stack([s[j] for s in sums]) for j in range(len(self.scores.keys))]

    def _validate(self, k: int, data: tuple) -> list:
        """Fold ``k``'s summed validation loss and metrics, in batches of one size: one traced model call.

        A part larger than the validation batch size is cut into the fewest batches of at
        most that size, all of one size; the last is filled up with copies of row 0 (fewer
        than the number of batches) that are masked out.
        """
        tf = import_tensorflow()
        (x, y, _), model, n = data, self.models[k], self.n_val[k]
        count = -(-n // self.val_batch_sizes[k])
        if count == 1:  # the whole part in one batch (the usual case): no loop
            return self._sums(y, model(x, training=False))
        size = -(-n // count)
        rows = np.arange(count * size)
        index = tf.constant(np.where(rows < n, rows, 0).reshape(count, size).astype(np.int32))
        mask = tf.constant((rows < n).reshape(count, size).astype(np.float32))

        def batch(i: Any, *acc: Any) -> tuple:
            pred = model(_rows(x, lambda t: tf.gather(t, index[i])), training=False)
            return (i + 1, *[a + b for a, b in zip(acc, self._sums(tf.gather(y, index[i]), pred, mask[i]))])
        start = (tf.constant(0), *[tf.zeros([]) for _ in self.scores.keys])
        return list(tf.while_loop(lambda i, *_: i < count, batch, start, parallel_iterations=1)[1:])

    def _validation(self, val: list) -> list:
        """Per key, the K folds' summed validation values (each fold on its own part)."""
        tf = import_tensorflow()
        sums = [self._validate(k, part) for k, part in enumerate(val)]
        return [tf.stack([s[j] for s in sums]) for j in range(len(self.scores.keys))]

    def _epochs(self, n_epochs: Any, index: Any, train: list, val: list) -> list:
        tf = import_tensorflow()
        masks = tf.constant(self.masks)  # index: (epochs, steps, K, batch)
        return masked_epochs(n_epochs, self.epochs_per_call, int(index.shape[1]), len(self.scores.keys),
                             self.n_train, np.array(self.n_val), lambda e, i: self._step(train, index[e, i], masks[i]),
                             lambda: self._validation(val))

    def _index(self, orders: list[list[np.ndarray]]) -> np.ndarray:
        """Every step's rows of each fold's own part, ``(epochs_per_call, steps, K, batch)``; padding is row 0."""
        steps, k, size = self.masks.shape
        index = np.zeros((self.epochs_per_call, k, steps * size), np.int32)
        for j, fold in enumerate(orders):
            index[:len(fold), j, :self.n_train[j]] = fold
        return np.ascontiguousarray(index.reshape(self.epochs_per_call, k, steps, size).transpose(0, 2, 1, 3))

    def __call__(self, orders: list[list[np.ndarray]], train: list, val: list) -> list:
        tf = import_tensorflow()
        n_epochs = len(orders[0])
        if not 1 <= n_epochs <= self.epochs_per_call:
            raise ValueError(f"{n_epochs} epochs in one call, expected 1 to {self.epochs_per_call}")
        out = self._function(tf.constant(n_epochs), tf.constant(self._index(orders)), list(train), list(val))
        return epoch_logs([np.asarray(v) for v in out], self.scores.keys, len(self.models), n_epochs)


def doctest_submodels() -> list:
    """Two epochs of a one-fold masked-step graph, for the examples."""
    from kfold.engines.tensorflow._examples import tiny_data, tiny_model

    model, (x, y) = tiny_model(), tiny_data()
    model._symbolic_build(data_batch=(x, y))
    graph = SubmodelGraph([model], [6], [6], 4, [6], jit_compile=False, epochs_per_call=2)
    return graph([[np.arange(6), np.arange(6)]], [(x, y, None)], [(x, y, None)])
