"""Which compiled graph trains a group of folds, with or without XLA, and how many epochs a call.

* :func:`make_graph`: with XLA and no callbacks, the stacked fast path for plain Dense
  stacks (:class:`kfold.engines.tensorflow.stacked.StackedGraph`), else the masked-step graph
  for other models of Keras' layers (:class:`kfold.engines.tensorflow.submodels.SubmodelGraph`);
  else the generic graph (:class:`kfold.engines.tensorflow.graph.EpochGraph`), which trains any
  model through its own ``train_step``. All three give a fold the same numbers whichever
  folds share its graph; between them, numbers agree to float rounding;
* :func:`use_xla`: XLA unless a layer does not support it. Random layers (``Dropout``,
  ``GaussianNoise``, ...) are compiled with XLA too: their draws come from Keras'
  seed generators (each fold's seeded from the fold's seed), so the same seed gives
  the same histories run to run, but XLA's random numbers are not the ones
  TensorFlow's kernels draw in ``model.fit`` (statistically the same; see BENCHMARKS.md);
* :func:`xla_slower`: on a CPU, XLA's kernels for image convolutions (``Conv2D`` and
  friends) are slower than TensorFlow's own (oneDNN) and take longer to compile, so such
  models take the masked-step graph without XLA there (BENCHMARKS.md measures both);
* :func:`epochs_per_call`: one epoch per call while any fold has callbacks (they
  run between epochs), else about a tenth of the run per call.

The settings ``fused_stacked`` and ``fused_submodels`` (:func:`kfold.config_context`)
turn the first two graphs off.
"""
from __future__ import annotations

import math
from typing import Any

from kfold.core import import_tensorflow
from kfold.core import get_config
from kfold.data import validation_batch_size
from kfold.engines.tensorflow.graph import EpochGraph
from kfold.engines.tensorflow.stacked import StackedGraph, stack_reason
from kfold.engines.tensorflow.submodels import SubmodelGraph, submodel_reason

__all__ = ["use_xla", "xla_slower", "epochs_per_call", "make_graph", "SLOWER_WITH_XLA", "MAX_INDEX_BYTES"]

# The precomputed batch rows of one call (int32, every fold): at most this many bytes.
MAX_INDEX_BYTES = 64 * 1024**2
# Layers whose XLA kernels on a CPU are slower than TensorFlow's own: with one of them and no GPU, the
# masked-step graph runs without XLA (measured in BENCHMARKS.md; Conv1D, on short sequences, is faster with XLA).
SLOWER_WITH_XLA = ("Conv2D", "Conv3D", "Conv2DTranspose", "Conv3DTranspose", "SeparableConv2D",
                   "DepthwiseConv2D")


def use_xla(model: Any) -> bool:
    """Whether the fused graph of this model is compiled with XLA: unless a layer does not support it.

    Examples
    --------
    >>> import keras
    >>> use_xla(keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]))
    True
    >>> use_xla(keras.Sequential([keras.Input((2,)), keras.layers.Dropout(0.5)]))
    True
    """
    layers = model._flatten_layers() if hasattr(model, "_flatten_layers") else model.layers
    return all(getattr(layer, "supports_jit", True) for layer in layers)


def xla_slower(models: list) -> bool:
    """Whether these models train faster without XLA here: a layer of :data:`SLOWER_WITH_XLA`, and no GPU.

    Examples
    --------
    >>> import keras
    >>> dense = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    >>> conv = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3), keras.layers.Flatten()])
    >>> import tensorflow as tf
    >>> xla_slower([dense]), xla_slower([conv]) == (not tf.config.list_logical_devices("GPU"))
    (False, True)
    """
    layers = [layer for model in models for layer in (model._flatten_layers() if hasattr(model, "_flatten_layers")
                                                      else model.layers)]
    if not any(type(layer).__name__ in SLOWER_WITH_XLA for layer in layers):
        return False
    return not import_tensorflow().config.list_logical_devices("GPU")


def epochs_per_call(folds: list, config: Any) -> int:
    """How many epochs one graph call trains: 1 if a fold has callbacks, else about a tenth of the run.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> epochs_per_call([NS(callbacks=[], n_train=100)], NS(epochs=500))
    50
    >>> epochs_per_call([NS(callbacks=["a callback"], n_train=100)], NS(epochs=500))
    1
    """
    if any(fold.callbacks for fold in folds):
        return 1
    rows = sum(fold.n_train for fold in folds)
    return max(1, min(math.ceil(config.epochs / 10), MAX_INDEX_BYTES // (4 * max(rows, 1))))


def make_graph(folds: list, config: Any, jit_compile: bool, per_call: int) -> Any:
    """The graph that trains these folds: stacked where :func:`stack_reason` allows, else masked-step
    where :func:`~kfold.engines.tensorflow.submodels.submodel_reason` allows, else generic.

    The first two only with XLA (without XLA the generic graph runs ``model.fit``'s
    own kernels and keeps its numbers bit for bit, which the other two cannot), and
    the stacked one only for folds without callbacks: a callback changes its own
    fold's optimizer or model between epochs, which the stacked copy would not see.
    Where XLA is on but :func:`xla_slower` says it is the slower choice (image
    convolutions on a CPU), the masked-step graph runs without it.

    Examples
    --------
    >>> import kfold
    >>> from kfold.engines.tensorflow._examples import tiny_config, tiny_folds
    >>> folds = tiny_folds()
    >>> type(make_graph(folds, tiny_config(), True, 1)).__name__
    'StackedGraph'
    >>> type(make_graph(folds, tiny_config(), False, 1)).__name__
    'EpochGraph'
    >>> with kfold.config_context(fused_stacked=False):
    ...     type(make_graph(folds, tiny_config(), True, 1)).__name__
    'SubmodelGraph'
    """
    models, train, val = [f.model for f in folds], [f.train for f in folds], [f.val for f in folds]
    n_train, n_val = [f.n_train for f in folds], [f.n_val for f in folds]
    # callbacks act on each fold's own model and optimizer (a new learning rate, a stop, restored weights),
    # which the stacked graph's copy would not see; the masked-step graph trains the fold models themselves
    callbacks = any(getattr(f, "callbacks", None) for f in folds)
    settings = get_config()
    if settings["fused_stacked"] and jit_compile and not callbacks and \
            stack_reason(models, train, val, n_train, config.batch_size) is None:
        try:
            return StackedGraph(models, train, val, config.batch_size, jit_compile, per_call)
        except ValueError:  # the fold optimizers' states differ: train them generically
            pass
    val_batch_sizes = [validation_batch_size(config.batch_size, n) for n in n_val]
    if settings["fused_submodels"] and jit_compile and submodel_reason(models, train, n_train, config.batch_size) is None:
        return SubmodelGraph(models, n_train, n_val, config.batch_size, val_batch_sizes,
                             jit_compile=not xla_slower(models), epochs_per_call=per_call)
    return EpochGraph(models, n_train, n_val, config.batch_size, val_batch_sizes, jit_compile, per_call)
