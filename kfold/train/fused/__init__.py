"""All folds trained together in one compiled graph: prepare the fold models, build the graph, run it."""

from kfold.train.fused.runner import check_fusable, run_folds_fused

__all__ = ["check_fusable", "run_folds_fused"]
