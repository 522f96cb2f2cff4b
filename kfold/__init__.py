"""kfold: honest k-fold cross-validation for Keras models.

The book's loop (*Deep Learning with Python*, listings 3.24-3.32) as a library:
splitters with scikit-learn's protocol, a fresh model per fold, every per-epoch
metric of every fold, averaged and smoothed curves, epoch selection and plots.

``import kfold`` is cheap: TensorFlow, Keras and matplotlib are imported only
when a function that needs them is called.

Examples
--------
>>> import kfold
>>> cv = kfold.KFold(n_splits=4)
>>> [len(val) for _, val in cv.split(list(range(10)))]
[3, 3, 2, 2]
"""
from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# Public name -> submodule that defines it. Submodules are imported on first use
# so that ``import kfold`` stays free of TensorFlow and matplotlib.
_EXPORTS = {
    # splitters
    "KFold": "split",
    "StratifiedKFold": "split",
    "GroupKFold": "split",
    "ShuffleSplit": "split",
    "HoldoutSplit": "split",
    "RepeatedKFold": "repeated",
    "RepeatedStratifiedKFold": "repeated",
    "check_cv": "cv",
    "folds_hash": "cv",
    # training
    "cross_validate": "trainer",
    "fit_final": "final",
    "FinalModel": "final",
    "Standardize": "preprocessing",
    "FoldError": "fold",
    "make_executor": "executors",
    # results
    "CVResult": "result",
    "CVHistory": "history",
    "load": "rundir",
    # reporting and plots
    "smooth_curve": "reporting",
    "mean_curve": "reporting",
    "std_curve": "reporting",
    "sem_curve": "reporting",
    "best_epoch": "reporting",
    "EpochSelection": "reporting",
    "plot_history": "plotting",
    "plot_folds": "plotting",
    # model selection
    "grid_search": "search",
    "random_search": "search",
    "SearchResult": "search_result",
    "compare": "comparison",
    "Comparison": "comparison",
    "nested_cross_validate": "nested",
    "NestedResult": "nested",
    "plot_search": "search_plots",
    "plot_search_heatmap": "search_plots",
}

__all__ = sorted(_EXPORTS) + ["datasets", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "datasets":
        return importlib.import_module("kfold.datasets")
    if name in _EXPORTS:
        module = importlib.import_module(f"kfold.{_EXPORTS[name]}")
        value = getattr(module, name)
        globals()[name] = value  # cache: the next access skips this hook
        return value
    raise AttributeError(f"module 'kfold' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
