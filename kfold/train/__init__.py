"""Training: one fold, the Keras fit, the strategies (sequential, fused, on an executor), ``cross_validate`` and ``fit_final``."""

from kfold.train.cross_validation import cross_validate
from kfold.train.final import FinalModel, fit_final

__all__ = ["cross_validate", "FinalModel", "fit_final"]
