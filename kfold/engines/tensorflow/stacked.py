"""The stacked fast path: K folds of a plain Dense stack trained as one model with a fold axis.

A ``keras.Sequential`` of ``Dense`` layers, trained on K folds, is K times the same
small matmuls. Here the K kernels of a layer are one ``(K, in, out)`` variable
(biases ``(K, out)``), a step is one batched matmul per layer on the ``(K, batch,
in)`` rows of all folds, and one optimizer (a copy of the folds' own, whose update
is elementwise) updates the stacked variables: far fewer, larger operations than
the generic path's K models side by side.

Numerics contract: the same per-fold histories as the generic path
(:class:`kfold.engines.tensorflow.graph.EpochGraph`) up to float rounding, and, like the
generic path, a fold's numbers do not depend on which folds share the graph (a
fold trained alone gives bit for bit its history among others, so a retried or
resumed fold matches). Three things keep that, each measured: the fold axis is at
least 2 (XLA simplifies an axis of 1 away and then rounds a matrix-vector product
otherwise; beside a lone fold trains a copy of fold 0), every fold's batch loss is
its masked mean (whether or not another fold has a partial batch), and validation
runs on each fold's own rows, unpadded (a matrix-vector product rounds by the
number of rows): the folds whose held-out parts have the same number of rows are
validated together, batched as in training, a lone one beside a copy of itself.
Each fold's gradient is that of its own loss (the folds' losses
are summed, and no variable is shared), the batches are the generic path's (the
same orders, the same full and partial batches), the loss and metrics are the
compiled ones, averaged as Keras averages them. Batched matmuls and masked sums
add in another order, so values move in the last bits (about 1e-6 relative over a
few epochs) against the generic path.

It applies (:func:`stack_reason` says why not) when every fold model is a
Sequential of Dense layers with the same shapes, no regularizer, constraint or
LoRA, float32; an optimizer with an elementwise update (no ``clipnorm`` or
``global_clipnorm``, no EMA, no gradient accumulation) configured alike; a loss
and metrics from :data:`LOSSES` and :data:`METRICS`; one input array, no sample
weights, and the same number of steps per epoch in every fold (parts of different
sizes are masked: a fold's partial batch is its own rows only).

State: the graph trains its own stacked copy of the fold models' weights and
optimizer state. It loads it from the fold models at its first call after
:meth:`StackedGraph.release` (a graph shared by the candidates of a search gets each
candidate's state that way) and writes it back at :meth:`~StackedGraph.sync`,
which the runner calls at the end of every run (or pause); a checkpoint reads the
state from the stacked variables (:meth:`~StackedGraph.held_state`).
"""
from __future__ import annotations

import functools
from typing import Any

import numpy as np

from kfold.core import import_keras, import_tensorflow
from kfold.engines.tensorflow._masked import LOSSES, METRICS, RowScores, epoch_logs, masked_epochs, metric_fns, step_masks

__all__ = ["LOSSES", "METRICS", "OPTIMIZERS", "stack_reason", "StackedGraph"]

OPTIMIZERS = ("SGD", "RMSprop", "Adam", "AdamW", "Adamax", "Nadam", "Adagrad")
_ACTIVATIONS = ("relu", "linear", "sigmoid", "tanh", "softmax", "elu", "selu", "softplus", "swish",
                "silu", "gelu", "leaky_relu", "relu6", "softsign", "hard_sigmoid", "exponential")


def _model_reason(model: Any) -> str | None:
    keras = import_keras()
    if type(model) is not keras.Sequential or not model.layers:
        return "not a keras.Sequential"
    for layer in model.layers:
        if type(layer) is not keras.layers.Dense:
            return f"layer {layer.name} is a {type(layer).__name__}, not Dense"
        if any(getattr(layer, a, None) is not None for a in (
                "kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint",
                "bias_constraint", "quantization_mode")) or getattr(layer, "lora_enabled", False):
            return f"layer {layer.name} has a regularizer, constraint, quantization or LoRA"
        if getattr(layer.activation, "__name__", None) not in _ACTIVATIONS or layer.compute_dtype != "float32":
            return f"layer {layer.name}: activation or dtype not supported"
    loss = model.loss
    if len(model.variables) != len(model.trainable_variables):
        return "a layer is frozen (trainable=False)"
    if getattr(loss, "__name__", loss) not in LOSSES:
        return f"loss {loss!r} is not one of {LOSSES}"
    if metric_fns(model) is None:
        return "a metric is not one of " + ", ".join(METRICS)
    opt = model.optimizer
    if type(opt).__name__ not in OPTIMIZERS or type(opt).__module__.split(".")[0] != "keras":
        return f"optimizer {type(opt).__name__} is not one of {OPTIMIZERS}"
    if opt.clipnorm or opt.global_clipnorm or opt.use_ema or opt.gradient_accumulation_steps:
        return "the optimizer clips by norm, keeps an EMA or accumulates gradients"
    return None


def _signature(model: Any) -> tuple:
    config = {k: v for k, v in model.optimizer.get_config().items() if k != "name"}
    return ([(layer.units, layer.use_bias, layer.activation.__name__, tuple(layer.kernel.shape))
             for layer in model.layers], str(model.loss), str(config),
            [(name, fn.__name__) for name, fn, _ in metric_fns(model)])


def stack_reason(models: list, train: list, val: list, n_train: list, batch_size: int) -> str | None:
    """Why these folds cannot take the stacked fast path, or ``None`` if they can.

    Examples
    --------
    >>> import keras
    >>> from kfold.engines.tensorflow._examples import tiny_model
    >>> stack_reason([tiny_model()], [], [], [4], batch_size=2) is None
    True
    >>> dropout = keras.Sequential([keras.Input((2,)), keras.layers.Dropout(0.5)])
    >>> stack_reason([dropout], [], [], [4], batch_size=2).endswith("is a Dropout, not Dense")
    True
    """
    for model in models:
        reason = _model_reason(model)
        if reason:
            if reason.startswith("layer") and "Dense" in reason:
                reason = "not a keras.Sequential of Dense layers: " + reason
            return reason
    if len({str(_signature(m)) for m in models}) > 1:
        return "the fold models differ"
    if len({-(-n // batch_size) for n in n_train}) > 1:
        return "folds take different numbers of steps per epoch"
    tf = import_tensorflow()
    for part in [*train, *val]:
        x, _, weight = part
        if weight is not None or not tf.is_tensor(x) or len(x.shape) != 2:
            return "sample weights, several inputs or inputs that are not a 2-D array"
    return None


def _val_groups(n_val: np.ndarray) -> list[tuple]:
    """The folds (of the graph's fold axis) whose held-out parts have one size, each group at least two wide.

    Examples
    --------
    >>> _val_groups(np.array([16, 16, 15, 15, 14]))
    [(0, 1), (2, 3), (4, 4)]
    """
    groups: dict = {}
    for k, n in enumerate(n_val):
        groups.setdefault(int(n), []).append(k)
    return [tuple(g) if len(g) > 1 else (g[0], g[0]) for g in groups.values()]


def _stack(parts: list) -> Any:
    """The folds' parts stacked on a new first axis, the shorter ones padded with zero rows."""
    tf = import_tensorflow()
    rows = max(int(p.shape[0]) for p in parts)
    return tf.stack([tf.concat([p, tf.zeros([rows - int(p.shape[0]), *p.shape[1:]], p.dtype)], 0)
                     if p.shape[0] < rows else p for p in parts])


class StackedGraph:
    """The folds' Dense stacks as ``(K, in, out)`` variables, trained up to ``epochs_per_call`` epochs a call.

    The same call as :class:`kfold.engines.tensorflow.graph.EpochGraph`: each fold's epoch
    orders and data in, per epoch and fold the training and validation logs out.

    Examples
    --------
    >>> from kfold.engines.tensorflow.stacked import doctest_stacked
    >>> epochs = doctest_stacked()
    >>> len(epochs), sorted(epochs[0][0][0])
    (2, ['loss'])
    """

    def __init__(self, models: list, train: list, val: list, batch_size: int, jit_compile: bool,
                 epochs_per_call: int = 1) -> None:
        keras, tf = import_keras(), import_tensorflow()
        self.models, self.batch_size, self.k = models, batch_size, len(models)
        self.epochs_per_call = max(1, int(epochs_per_call))
        # the graph's fold axis, at least 2 (a copy of fold 0 beside a lone fold): XLA simplifies a fold
        # axis of 1 away and then rounds a matrix-vector product otherwise than for 2 or more folds
        self.width = max(2, self.k)
        first = models[0]
        self.variables = [keras.Variable(np.zeros((self.width, *v.shape), np.float32), name=f"stacked_{i}")
                          for i, v in enumerate(first.trainable_variables)]
        self.optimizer = type(first.optimizer).from_config(first.optimizer.get_config())
        self.optimizer.build(self.variables)
        self._slots = self._optimizer_pairs(self._pad(models))
        self.load()  # raises ValueError if the folds' optimizer states cannot be stacked
        self.scores = RowScores(first)
        self.n_train = np.array([int(t[0].shape[0]) for t in self._pad(train)])
        self.n_val = np.array([int(v[0].shape[0]) for v in self._pad(val)], np.float32)
        self.val_groups = _val_groups(self.n_val)
        self.rows = int(self.n_train.max())  # the training rows of fold k start at k * rows
        self._data, self._sources = None, None
        self.masks = step_masks(self.n_train, batch_size)
        self._function = tf.function(functools.partial(self._epochs), jit_compile=jit_compile,
                                     autograph=False)

    def _pad(self, parts: list) -> list:
        """One entry per fold of the graph's fold axis (fold 0 again beside a lone fold)."""
        return [*parts, *[parts[0]] * (self.width - self.k)]

    def _tensors(self, train: list, val: list) -> tuple:
        """The folds' training rows laid end to end and each fold's validation part (made again for new data)."""
        tf = import_tensorflow()
        sources = [part[:2] for part in [*train, *val]]
        if self._sources is None or any(a is not b for old, new in zip(self._sources, sources)
                                        for a, b in zip(old, new)):
            train, val = self._pad(train), self._pad(val)
            x, y = _stack([t[0] for t in train]), _stack([t[1] for t in train])
            self._data = (tf.reshape(x, [self.width * self.rows, *x.shape[2:]]),
                          tf.reshape(y, [self.width * self.rows, *y.shape[2:]]),
                          # validation: each group's parts of one size stacked, unpadded
                          [tf.stack([val[k][0] for k in group]) for group in self.val_groups],
                          [tf.stack([val[k][1] for k in group]) for group in self.val_groups])
            self._sources = sources
        return self._data

    def _optimizer_pairs(self, models: list) -> list:
        """Each stacked optimizer variable with the matching variable of every fold's optimizer."""
        pairs = []
        folds = [m.optimizer.variables for m in models]
        if any(len(v) != len(self.optimizer.variables) for v in folds):
            raise ValueError("the fold optimizers' state does not match the stacked optimizer's")
        for i, variable in enumerate(self.optimizer.variables):
            pairs.append((variable, [v[i] for v in folds]))
        return pairs

    def load(self) -> None:
        """The stacked weights and optimizer state from the fold models (they may have changed meanwhile)."""
        for i, stacked in enumerate(self.variables):
            stacked.assign(np.stack([np.asarray(m.trainable_variables[i]) for m in self._pad(self.models)]))
        for variable, per_fold in self._slots:
            values = [np.asarray(v) for v in per_fold]
            if tuple(variable.shape) == tuple(values[0].shape):
                if any(not np.array_equal(values[0], v) for v in values):
                    raise ValueError(f"the folds' {variable.path} differ")
                variable.assign(values[0])
            else:
                variable.assign(np.stack(values))
        self._loaded, self._dirty = True, False

    def held_state(self) -> dict:
        """``{id(model): values}`` of the state this graph holds and the fold models do not have yet.

        ``values`` are in :meth:`kfold.engines.FusedEngine.read_variables`' order (the
        model's variables, then its optimizer's): a checkpoint reads them here, from the
        few stacked variables, instead of writing every fold's variables back first.
        """
        if not self._dirty:
            return {}
        weights = [np.asarray(v) for v in self.variables]
        slots = [(np.asarray(v), tuple(v.shape) == tuple(per_fold[0].shape)) for v, per_fold in self._slots]
        return {id(model): [*[w[k].copy() for w in weights], *[v.copy() if shared else v[k].copy() for v, shared in slots]]
                for k, model in enumerate(self.models)}

    def sync(self) -> None:
        """Each fold model's weights and optimizer state from the stacked ones, if a call changed them."""
        if not self._dirty:
            return
        for i, stacked in enumerate(self.variables):
            values = np.asarray(stacked)
            for k, model in enumerate(self.models):
                model.trainable_variables[i].assign(values[k])
        for variable, per_fold in self._slots:
            values = np.asarray(variable)
            for k, target in enumerate(per_fold[:self.k]):
                target.assign(values if tuple(variable.shape) == tuple(target.shape) else values[k])
        self._dirty = False

    def release(self) -> None:
        """:meth:`sync`, then hand the state back to the fold models: the next call loads it from them.

        The run's data are let go too (a graph kept for later runs must not hold them).
        """
        self.sync()
        self._loaded = False
        self._data = self._sources = None

    def _forward(self, x: Any, folds: tuple | None = None) -> Any:
        """Predictions of every fold on its rows ``x`` (K, B, in), or of the given ``folds`` (a group) on theirs."""
        tf = import_tensorflow()
        if folds == tuple(range(self.width)):
            folds = None
        h, i = x, 0
        for layer in self.models[0].layers:
            h = tf.matmul(h, self.variables[i] if folds is None else tf.gather(self.variables[i], folds))
            i += 1
            if layer.use_bias:
                h = h + (self.variables[i] if folds is None else tf.gather(self.variables[i], folds))[:, None, :]
                i += 1
            h = layer.activation(h)
        return h

    def _validation(self, x_val: list, y_val: list) -> list:
        """Each fold's summed validation loss and metrics, by key: a group of same-sized folds at a time.

        Each fold's own rows, unpadded: how XLA rounds a matrix-vector product depends on the
        number of rows, so padding a fold to its group's largest part would tie its numbers to
        the group. A batch of two or more folds rounds each fold alike (XLA simplifies a batch
        of one away), so a lone fold is validated beside a copy of itself.
        """
        tf = import_tensorflow()
        sums: dict = {}
        for group, x, y in zip(self.val_groups, x_val, y_val):
            values = self.scores.values(y, self._forward(x, group))
            totals = [tf.reduce_sum(values[key], axis=1) for key in self.scores.keys]  # (group,) each
            for j, k in enumerate(group):
                sums.setdefault(k, [total[j] for total in totals])
        return [tf.stack([sums[k][i] for k in range(self.width)]) for i in range(len(self.scores.keys))]

    def _step(self, x: Any, y: Any, index: Any, mask: Any) -> list:
        """One optimizer step of every fold on rows ``index`` (K, batch) where ``mask`` (K, batch) is 1.

        A fold's partial last batch is padded to the batch size and masked (every fold's
        loss is its masked mean, so a fold's step does not depend on whether another fold
        has a partial batch); it is still one step on that batch's rows only, as in
        ``model.fit``. ``index`` points into the folds' training rows laid end to end.
        """
        tf = import_tensorflow()
        x, y = tf.gather(x, index), tf.gather(y, index)
        with tf.GradientTape() as tape:
            pred = self._forward(x)
            losses = self.scores.loss(y, pred)
            # the folds share no variable: the gradient of the sum for fold k's weights is that of fold k's loss
            loss = tf.reduce_sum(tf.reduce_sum(losses * mask, axis=1) / tf.reduce_sum(mask, axis=1))
        self.optimizer.apply(tape.gradient(loss, self.variables), self.variables)
        values = self.scores.values(y, pred, losses)
        return [tf.reduce_sum(values[key] * mask, axis=1) for key in self.scores.keys]

    def _epochs(self, n_epochs: Any, index: Any, data: tuple) -> list:
        tf = import_tensorflow()
        (x, y, x_val, y_val), masks = data, tf.constant(self.masks)  # index: (epochs, steps, K, batch)
        return masked_epochs(n_epochs, self.epochs_per_call, int(index.shape[1]), len(self.scores.keys),
                             self.n_train, self.n_val, lambda e, i: self._step(x, y, index[e, i], masks[i]),
                             lambda: self._validation(x_val, y_val))

    def _index(self, orders: list[list[np.ndarray]]) -> np.ndarray:
        """Every step's rows, ``(epochs_per_call, steps, K, batch)``; the partial batch padded with row 0."""
        steps, _, size = self.masks.shape
        index = np.zeros((self.epochs_per_call, self.width, steps * size), np.int32)
        for k, fold in enumerate(self._pad(orders)):
            index[:len(fold), k, :self.n_train[k]] = fold
            index[:, k] += k * self.rows
        return np.ascontiguousarray(index.reshape(self.epochs_per_call, self.width, steps, size)
                                    .transpose(0, 2, 1, 3))

    def __call__(self, orders: list[list[np.ndarray]], train: list, val: list) -> list:
        tf = import_tensorflow()
        n_epochs = len(orders[0])
        if not 1 <= n_epochs <= self.epochs_per_call:
            raise ValueError(f"{n_epochs} epochs in one call, expected 1 to {self.epochs_per_call}")
        if not self._loaded:
            self.load()
        data = self._tensors(train, val)
        out = [np.asarray(v) for v in self._function(tf.constant(n_epochs), tf.constant(self._index(orders)), data)]
        self._dirty = True  # the fold models get the new state at sync()
        return epoch_logs(out, self.scores.keys, self.k, n_epochs)


def doctest_stacked() -> list:
    """Two epochs of a one-fold stacked graph, for the examples."""
    from kfold.engines.tensorflow._examples import tiny_data, tiny_model

    model, (x, y) = tiny_model(), tiny_data()
    model._symbolic_build(data_batch=(x, y))
    graph = StackedGraph([model], [(x, y, None)], [(x, y, None)], 4, jit_compile=False, epochs_per_call=2)
    epochs = graph([[np.arange(6), np.arange(6)]], [(x, y, None)], [(x, y, None)])
    graph.release()
    return epochs
