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
    "KFold": "split.splitters",
    "StratifiedKFold": "split.splitters",
    "GroupKFold": "split.splitters",
    "ShuffleSplit": "split.splitters",
    "HoldoutSplit": "split.splitters",
    "RepeatedKFold": "split.repeated",
    "RepeatedStratifiedKFold": "split.repeated",
    "check_cv": "split.check",
    "folds_hash": "split.check",
    # training
    "cross_validate": "train.cross_validation",
    "fit_final": "train.final",
    "cross_val_predict": "train.oof",
    "FinalModel": "train.final",
    "Standardize": "data.preprocessing",
    "FoldError": "core.errors",
    "make_executor": "executors.factory",
    # where the folds run, and where a run is saved
    "Processes": "executors.specs",
    "Dask": "executors.specs",
    "Ray": "executors.specs",
    "RunDir": "results.rundir_options",
    # settings
    "get_config": "core.config",
    "set_config": "core.config",
    "config_context": "core.config",
    # results
    "CVResult": "results.cv_result",
    "CVHistory": "results.history",
    "load": "loading",
    "FoldEnsemble": "results.ensemble",
    # reporting and plots
    "smooth_curve": "results.curves",
    "mean_curve": "results.curves",
    "std_curve": "results.curves",
    "sem_curve": "results.curves",
    "best_epoch": "results.curves",
    "EpochSelection": "results.curves",
    "plot_history": "results.plotting",
    "plot_folds": "results.plotting",
    # model selection
    "grid_search": "search.searches",
    "random_search": "search.searches",
    "halving_search": "search.halving",
    "halving_schedule": "search.halving",
    "MedianPruner": "search.pruning",
    "SearchResult": "search.search_result",
    "compare": "search.comparison",
    "Comparison": "search.comparison",
    "nested_cross_validate": "search.nested",
    "NestedResult": "search.nested",
    "plot_search": "search.plots",
    "plot_search_heatmap": "search.plots",
    "learning_curve": "search.learning_curve",
    "LearningCurveResult": "search.learning_curve",
    "plot_learning_curve": "search.learning_plot",
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
