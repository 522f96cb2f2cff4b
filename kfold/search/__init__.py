"""Model selection: candidates, grid and random search, their result and run directory, paired comparison, nested CV, plots."""

from kfold.search.searches import grid_search, random_search
from kfold.search.search_result import SearchResult
from kfold.search.comparison import Comparison, compare
from kfold.search.nested import NestedResult, nested_cross_validate
from kfold.search.plots import plot_search, plot_search_heatmap
from kfold.search.learning_curve import LearningCurveResult
from kfold.search.rundir import load_search

__all__ = [
    "grid_search",
    "random_search",
    "SearchResult",
    "Comparison",
    "compare",
    "NestedResult",
    "nested_cross_validate",
    "plot_search",
    "plot_search_heatmap",
    "LearningCurveResult",
    "load_search",
]
