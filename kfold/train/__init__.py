"""Training: one fold, the Keras fit, a planned run and the one path that trains runs (:mod:`kfold.train.run`), ``cross_validate`` and ``fit_final``.

What the other subpackages use of training is exported here; they import it
from ``kfold.train``, never from its modules (``tests/test_architecture.py``).
"""

from kfold.train.cross_validation import cross_validate
from kfold.train.final import FinalModel, fit_final
from kfold.train.callbacks import fill_paths
from kfold.train.fold import FitConfig, non_finite_loss
from kfold.train.keras_fit import RESERVED_FIT_KWARGS, build_model, check_build_fn, check_callbacks
from kfold.train.travel import check_travel
from kfold.train.run import (PlannedRun, check_inputs, check_on_error, check_strategy, new_run, plan_folds, plan_run,
                             pop_run_options, run_options, train_run, train_runs)
from kfold.train.fused import ContinuedFolds, NotFusable, active_pool, search_pool, sharing_graphs

__all__ = ["cross_validate", "FinalModel", "fit_final", "fill_paths", "FitConfig", "non_finite_loss",
           "RESERVED_FIT_KWARGS", "build_model", "check_build_fn", "check_callbacks", "check_travel",
           "check_on_error", "PlannedRun", "check_inputs", "check_strategy", "new_run", "plan_folds", "plan_run",
           "pop_run_options", "run_options", "train_run", "train_runs", "ContinuedFolds", "active_pool",
           "search_pool", "sharing_graphs", "NotFusable"]
