"""The TensorFlow engine: all folds trained together in compiled TensorFlow graphs.

:class:`~kfold.engines.tensorflow.engine.TensorFlowEngine` implements
:class:`kfold.engines.FusedEngine`; the graphs it chooses between are in
:mod:`~kfold.engines.tensorflow.graph` (generic), :mod:`~kfold.engines.tensorflow.submodels`
(masked step) and :mod:`~kfold.engines.tensorflow.stacked` (stacked Dense layers).
"""

from kfold.engines.tensorflow.engine import TensorFlowEngine

__all__ = ["TensorFlowEngine"]
