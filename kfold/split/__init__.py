"""Splitters with scikit-learn's protocol and indices, ``check_cv``, and folds as JSON."""

from kfold.split.splitters import KFold, StratifiedKFold, GroupKFold, ShuffleSplit, HoldoutSplit
from kfold.split.repeated import RepeatedKFold, RepeatedStratifiedKFold
from kfold.split.check import check_cv, folds_hash

__all__ = ["KFold", "StratifiedKFold", "GroupKFold", "ShuffleSplit", "HoldoutSplit", "RepeatedKFold", "RepeatedStratifiedKFold", "check_cv", "folds_hash"]
