"""Splitters with scikit-learn's protocol and indices, ``check_cv``, and folds as JSON."""

from kfold.split.splitters import KFold, StratifiedKFold, GroupKFold, ShuffleSplit, HoldoutSplit
from kfold.split.repeated import RepeatedKFold, RepeatedStratifiedKFold
from kfold.split.check import check_cv, folds_hash
from kfold.split.check import PredefinedSplits, choose_cv, missing_classes, target_type
from kfold.split.codec import folds_from_json, folds_to_json

__all__ = [
    "KFold",
    "StratifiedKFold",
    "GroupKFold",
    "ShuffleSplit",
    "HoldoutSplit",
    "RepeatedKFold",
    "RepeatedStratifiedKFold",
    "check_cv",
    "folds_hash",
    "PredefinedSplits",
    "choose_cv",
    "folds_from_json",
    "folds_to_json",
    "missing_classes",
    "target_type",
]
