"""The engine of the active Keras backend: :func:`get_engine`.

The engines made so far are kept in :data:`ENGINES` (one per backend), from the
first fused run of a process until the process ends.
"""
from __future__ import annotations

from kfold.core.backend import import_keras
from kfold.engines.base import FusedEngine, NotFusable

__all__ = ["get_engine", "ENGINES"]

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
