"""Seeds: the run's seed resolved once, and the user's global random state given back afterwards.

Each fold calls ``keras.utils.set_random_seed``, which seeds Python, NumPy and
TensorFlow globally. Left like that, a user's own ``model.fit(shuffle=True)``
afterwards would feed the samples in the same order every epoch, and
``np.random`` would repeat itself. :func:`user_random_state` puts things back.
"""
from __future__ import annotations

import contextlib
import numbers
import random
from typing import Iterator

import numpy as np

from kfold.core.backend import import_keras, import_tensorflow
from kfold.core.checks import fail

__all__ = ["resolve_seed", "user_random_state"]


def _keras_seed() -> int | None:
    """The seed given to ``keras.utils.set_random_seed``, if any (not public in Keras 3)."""
    try:
        from keras.src.utils.rng_utils import get_random_seed
    except ImportError:  # Keras < 3.9 keeps no record: the seed it set is TensorFlow's global seed
        from tensorflow.python.eager import context

        return context.global_seed()
    return get_random_seed()


@contextlib.contextmanager
def user_random_state() -> Iterator[None]:
    """Run the block, then restore Python's and NumPy's states and Keras' seed.

    TensorFlow's global seed goes back to the seed Keras knew before (set with
    ``keras.utils.set_random_seed``), or to none.

    Examples
    --------
    >>> import keras
    >>> before = np.random.get_state()[1].copy()
    >>> with user_random_state():
    ...     keras.utils.set_random_seed(1)
    >>> bool((np.random.get_state()[1] == before).all())
    True
    """
    keras, tf = import_keras(), import_tensorflow()
    previous_seed = _keras_seed()
    python_state, numpy_state = random.getstate(), np.random.get_state()
    try:
        yield
    finally:
        keras.backend.clear_session(free_memory=False)  # forgets the seed kfold set
        if previous_seed is None:
            tf.random.set_seed(None)
        else:
            keras.utils.set_random_seed(previous_seed)
        random.setstate(python_state)
        np.random.set_state(numpy_state)


def resolve_seed(seed: int | None) -> int:
    """``seed`` itself, or a fresh random seed (recorded in the result) when ``None``.

    Examples
    --------
    >>> resolve_seed(42)
    42
    """
    if seed is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed < 2**32:
        fail("seed", "None or an integer in [0, 2**32)", seed)
    return int(seed)
