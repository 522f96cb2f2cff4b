"""The data: arrays (single, dict or list) sliced by rows, and preprocessing fitted on each fold's training part."""

from kfold.data.preprocessing import Standardize
from kfold.data.arrays import as_arrays, check_finite, check_numeric_targets, check_same_length, leaves, n_samples, take, to_tensors, validation_batch_size
from kfold.data.preprocessing import apply_preprocess, check_preprocess, fit_preprocess

__all__ = [
    "Standardize",
    "apply_preprocess",
    "as_arrays",
    "check_finite",
    "check_numeric_targets",
    "check_preprocess",
    "check_same_length",
    "fit_preprocess",
    "leaves",
    "n_samples",
    "take",
    "to_tensors",
    "validation_batch_size",
]
