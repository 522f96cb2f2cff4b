"""All folds trained together by a backend engine: prepare the fold models, run the epochs, keep the state.

The runner talks to the backend only through :class:`kfold.engines.FusedEngine`.
"""

from kfold.engines import NotFusable
from kfold.train.fused.continuation import ContinuedFolds
from kfold.train.fused.checkpoint import Checkpoints
from kfold.train.fused.fusable import check_fusable
from kfold.train.fused.run import FusedInterrupted, run_folds_fused
from kfold.train.fused.sharing import active_pool, recent_graphs, search_pool, sharing_graphs

__all__ = ["NotFusable", "ContinuedFolds", "Checkpoints", "check_fusable", "FusedInterrupted", "run_folds_fused",
           "active_pool", "recent_graphs", "search_pool", "sharing_graphs"]
