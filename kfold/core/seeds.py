"""Seeds: the run's seed resolved once, and the user's global random state given back afterwards.

Each fold calls ``keras.utils.set_random_seed``, which seeds Python, NumPy and
TensorFlow globally. Left like that, a user's own ``model.fit(shuffle=True)``
afterwards would feed the samples in the same order every epoch, and
``np.random`` would repeat itself. :func:`user_random_state` puts things back.

A thread that other threads share Python's ``random`` with (a Dask worker's)
can have its own stream (:func:`own_thread_stream`): :func:`seed_keras` then seeds
it too, and Keras draws its default seeds in that thread from it.
"""
from __future__ import annotations

import contextlib
import numbers
import random
import threading
from typing import Any, Iterator

import numpy as np

from kfold.core.backend import forget_tf_seed, import_keras, keras_seed, route_keras_seed_draws
from kfold.core.checks import fail

__all__ = ["resolve_seed", "user_random_state", "seed_keras", "own_thread_stream", "ThreadStreams", "STREAMS"]


class ThreadStreams:
    """Python random streams of their own for some threads; the others use the ``random`` module's.

    Attribute access gives the calling thread's stream's function (``STREAMS.randint``),
    so Keras, given this object in place of the ``random`` module, draws in each
    thread from that thread's stream. One object, :data:`STREAMS`, lives as long as
    the process; a thread's stream goes with the thread.

    Examples
    --------
    >>> streams = ThreadStreams()
    >>> streams.own()
    >>> streams.seed(0); streams.random() == random.Random(0).random()
    True
    """

    def __init__(self) -> None:
        self._local = threading.local()

    def own(self) -> None:
        """Give the calling thread its own stream (kept if it has one)."""
        if getattr(self._local, "stream", None) is None:
            self._local.stream = random.Random()

    def stream(self) -> random.Random | None:
        """The calling thread's own stream, or None."""
        return getattr(self._local, "stream", None)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream() or random, name)


#: The process's thread streams (see :func:`own_thread_stream`).
STREAMS = ThreadStreams()


def own_thread_stream() -> None:
    """The calling thread draws Keras' default seeds from a stream of its own, which :func:`seed_keras` seeds.

    ``keras.utils.set_random_seed`` seeds Python's global ``random``, and Keras
    draws every unseeded initializer's seed from it. In a Dask worker, the worker's
    own threads draw from it too (retry back-off, choosing peers), so a draw between
    the seeding and the model's creation now and then changed a fold's initial
    weights (about 1 fold in 20 in scripts/bench_executors.py). With its own stream,
    a thread's seeds no longer depend on other threads' draws.

    Examples
    --------
    >>> import keras
    >>> def task(out):
    ...     own_thread_stream()
    ...     seed_keras(0)
    ...     out.append(keras.random.SeedGenerator().state.numpy().tolist())
    >>> out = []
    >>> thread = threading.Thread(target=task, args=(out,)); thread.start(); thread.join()
    >>> seed_keras(0); out == [keras.random.SeedGenerator().state.numpy().tolist()]
    True
    """
    STREAMS.own()


def seed_keras(seed: int) -> None:
    """``keras.utils.set_random_seed(seed)``, and the calling thread's own stream seeded too (if it has one).

    Examples
    --------
    >>> seed_keras(3); random.random() == random.Random(3).random()
    True
    """
    import_keras().utils.set_random_seed(seed)
    stream = STREAMS.stream()
    if stream is not None:
        stream.seed(seed)
        route_keras_seed_draws(STREAMS)


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
    keras = import_keras()
    previous_seed = keras_seed()
    python_state, numpy_state = random.getstate(), np.random.get_state()
    try:
        yield
    finally:
        keras.backend.clear_session(free_memory=False)  # forgets the seed kfold set
        if previous_seed is None:
            forget_tf_seed()
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
