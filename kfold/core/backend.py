"""The one adapter to TensorFlow outside the engine: lazy imports, and the few TensorFlow calls kfold makes.

kfold trains with Keras 3 and feeds data through ``tf.data``, so TensorFlow must be
installed: ``pip install "keras-kfold[tensorflow-cpu]"`` (or ``[tensorflow]`` for
GPUs). Nothing here runs at ``import kfold`` time.

Outside :mod:`kfold.engines.tensorflow`, this is the only module that imports
TensorFlow, reaches into ``keras.src`` or reads a private attribute of Keras or
TensorFlow (``tests/test_architecture.py`` checks it): converting arrays to
tensors, the sequential path's ``tf.data`` pipeline, the seed Keras was given,
TensorFlow's global seed, its GPUs and thread pools, and whether a ``TensorBoard``
callback profiles batches.
"""
from __future__ import annotations

import sys
from types import ModuleType
from typing import Any

import numpy as np

__all__ = ["import_keras", "import_tensorflow", "as_tensor", "batches_dataset", "keras_seed", "forget_tf_seed",
           "gpu_count", "limit_loaded_threads", "profiles_batches", "route_keras_seed_draws"]

_INSTALL_HINT = (
    "kfold trains Keras models with the TensorFlow backend, and TensorFlow is not "
    "installed. Install it with the package: pip install \"keras-kfold[tensorflow-cpu]\" "
    "(CPU only) or pip install \"keras-kfold[tensorflow]\" (GPU)."
)


def import_tensorflow() -> ModuleType:
    """Return the ``tensorflow`` module, or raise ImportError saying how to install it.

    Examples
    --------
    >>> tf = import_tensorflow()
    >>> tf.__name__
    'tensorflow'
    """
    try:
        import tensorflow
    except ImportError as error:
        raise ImportError(_INSTALL_HINT) from error
    return tensorflow


def import_keras() -> ModuleType:
    """Return the ``keras`` module (Keras 3), after checking TensorFlow is there.

    Examples
    --------
    >>> keras = import_keras()
    >>> int(keras.__version__.split(".")[0]) >= 3
    True
    """
    import_tensorflow()
    import keras

    if int(keras.__version__.split(".")[0]) < 3:
        raise ImportError(
            f"kfold needs Keras 3. Received: keras=={keras.__version__}. "
            "Upgrade with: pip install -U keras"
        )
    return keras


def as_tensor(array: Any) -> Any:
    """``array`` as a TensorFlow tensor, floats in Keras' float type (``keras.config.floatx()``).

    Examples
    --------
    >>> as_tensor(np.zeros(2)).dtype.name
    'float32'
    """
    tf = import_tensorflow()
    floatx = import_keras().config.floatx()
    array = np.asarray(array)
    if array.dtype.kind == "f" and array.dtype != floatx:
        array = array.astype(floatx)
    return tf.constant(array)


def batches_dataset(arrays: tuple, orders: np.ndarray, batch_size: int) -> Any:
    """A ``tf.data.Dataset`` of the batches of ``arrays`` (tensors), epoch after epoch.

    ``orders`` is ``(epochs, n)`` int32: each epoch's row order, cut into batches
    of ``batch_size`` rows (the last one partial).

    Examples
    --------
    >>> dataset = batches_dataset((as_tensor(np.arange(3.0)),), np.array([[2, 0, 1]], np.int32), 2)
    >>> [batch[0].numpy().tolist() for batch in dataset]
    [[2.0, 0.0], [1.0]]
    """
    tf = import_tensorflow()
    epochs = tf.data.Dataset.from_tensor_slices(orders)
    batches = epochs.flat_map(lambda order: tf.data.Dataset.from_tensor_slices(order).batch(batch_size))
    gather = lambda idx: tf.nest.map_structure(lambda a: tf.gather(a, idx), arrays)  # noqa: E731
    dataset = batches.map(gather, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return dataset.prefetch(tf.data.AUTOTUNE)


def keras_seed() -> int | None:
    """The seed given to ``keras.utils.set_random_seed``, if any (not public in Keras 3).

    Keras before 3.9 has no ``get_random_seed`` and keeps no record of the seed:
    then it is TensorFlow's global seed, which ``set_random_seed`` also sets.

    Examples
    --------
    >>> import keras
    >>> keras.utils.set_random_seed(7)
    >>> keras_seed()
    7
    """
    import_keras()
    try:
        from keras.src.utils.rng_utils import get_random_seed
    except ImportError:  # a Keras before 3.9: the seed it set is TensorFlow's global seed
        from tensorflow.python.eager import context

        return context.global_seed()
    return get_random_seed()


def forget_tf_seed() -> None:
    """TensorFlow's global seed unset (as in a fresh process).

    Examples
    --------
    >>> forget_tf_seed()
    """
    import_tensorflow().random.set_seed(None)


def gpu_count() -> int:
    """How many GPUs TensorFlow sees in this process.

    Examples
    --------
    >>> gpu_count() >= 0
    True
    """
    return len(import_tensorflow().config.list_physical_devices("GPU"))


def limit_loaded_threads(threads: int | None) -> None:
    """Limit the thread pools of a TensorFlow imported already, if it has not run yet (else nothing changes).

    Examples
    --------
    >>> limit_loaded_threads(None)
    """
    if threads is None or "tensorflow" not in sys.modules:
        return
    threading = sys.modules["tensorflow"].config.threading
    try:
        threading.set_intra_op_parallelism_threads(threads)
        threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:  # TensorFlow has run in this process: its pools are fixed
        pass


def profiles_batches(callback: Any) -> bool:
    """Whether a ``keras.callbacks.TensorBoard`` profiles batches (``profile_batch`` set), which needs a live fit loop.

    Examples
    --------
    >>> import keras
    >>> profiles_batches(keras.callbacks.TensorBoard("logs")), profiles_batches(keras.callbacks.TensorBoard(
    ...     "logs", profile_batch=(2, 3)))
    (False, True)
    """
    return bool(getattr(callback, "_should_trace", False))


def route_keras_seed_draws(source: Any) -> None:
    """Make Keras draw the seeds of unseeded initializers and layers from ``source`` (once per process).

    ``source`` has the functions of Python's ``random`` module (``randint``, ...);
    Keras otherwise draws them from that module's global stream. Nothing of the
    ``random`` module itself changes.

    Examples
    --------
    >>> import random
    >>> route_keras_seed_draws(random)
    """
    import_keras()
    try:
        from keras.src.random import seed_generator
    except ImportError:  # pragma: no cover - a Keras that keeps them elsewhere
        return
    if getattr(seed_generator, "python_random", None) is not None:
        seed_generator.python_random = source
