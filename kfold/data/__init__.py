"""The data: arrays (single, dict or list) sliced by rows, and preprocessing fitted on each fold's training part."""

from kfold.data.preprocessing import Standardize

__all__ = ["Standardize"]
