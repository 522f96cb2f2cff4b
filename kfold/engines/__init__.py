"""Backend engines for fused training: the interface the runner talks to, and the engine of each backend.

The fused runner (:mod:`kfold.train.fused`) uses only :class:`FusedEngine` and
:class:`FusedSession`; :func:`get_engine` gives the engine of Keras' active
backend (TensorFlow: :mod:`kfold.engines.tensorflow`).
"""

from kfold.engines.base import FusedEngine, FusedFold, FusedSession, GraphSharing, NotFusable
from kfold.engines.select import forget_fit_traces, get_engine

__all__ = ["FusedEngine", "FusedFold", "FusedSession", "GraphSharing", "NotFusable", "get_engine", "forget_fit_traces"]
