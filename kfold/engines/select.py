"""The engine of the active Keras backend: :func:`get_engine`.

The engines made so far are kept in :data:`ENGINES` (one per backend), from the
first fused run of a process until the process ends.
"""
from __future__ import annotations

from typing import Any

from kfold.core import import_keras
from kfold.engines.base import FusedEngine, NotFusable

__all__ = ["get_engine", "forget_fit_traces", "ENGINES"]

#: The engine of each backend, made at its first use and kept for the life of the process.
ENGINES: dict[str, FusedEngine] = {}


def get_engine(backend: str | None = None) -> FusedEngine:
    """The fused-training engine of ``backend`` (default: Keras' active backend).

    Raises :class:`~kfold.engines.base.NotFusable` for a backend without one.

    Examples
    --------
    >>> get_engine().backend
    'tensorflow'
    >>> get_engine("jax")
    Traceback (most recent call last):
    ...
    kfold.engines.base.NotFusable: fused training needs the TensorFlow backend, not 'jax'
    """
    backend = backend or import_keras().backend.backend()
    if backend not in ENGINES:
        if backend != "tensorflow":
            raise NotFusable(f"fused training needs the TensorFlow backend, not {backend!r}")
        from kfold.engines.tensorflow.engine import TensorFlowEngine

        ENGINES[backend] = TensorFlowEngine()
    return ENGINES[backend]


def forget_fit_traces(model: Any) -> None:
    """Free what the backend keeps of ``model.fit``'s traced steps once ``fit`` returned.

    On TensorFlow every traced training step registers gradient functions that hold
    its whole graph until the process ends
    (:mod:`kfold.engines.tensorflow.custom_gradients`); other backends keep nothing.

    Examples
    --------
    >>> import keras, numpy as np
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> _ = model.fit(np.zeros((4, 2)), np.zeros(4), verbose=0)
    >>> forget_fit_traces(model)  # the model still trains
    >>> _ = model.fit(np.zeros((4, 2)), np.zeros(4), verbose=0)
    """
    if import_keras().backend.backend() == "tensorflow":
        from kfold.engines.tensorflow.custom_gradients import forget_traced

        forget_traced(getattr(model, "train_function", None), getattr(model, "test_function", None))
