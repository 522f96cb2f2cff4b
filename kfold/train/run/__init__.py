"""A run, named: planned (folds, seeds, run directory), trained on one path (in this process or on an executor), its progress shown and its outcomes collected."""

from kfold.train.run.options import EXECUTOR_KEYWORDS, RUN_DIR_KEYWORDS, pop_run_options, run_options
from kfold.train.run.planned import PlannedRun, check_inputs, new_run, plan_folds, plan_run
from kfold.train.run.progress import FoldProgress, format_scores
from kfold.train.run.strategy import ON_ERROR, STRATEGIES, check_on_error, check_strategy, run_folds
from kfold.train.run.train import train_run, train_runs

__all__ = ["EXECUTOR_KEYWORDS", "RUN_DIR_KEYWORDS", "pop_run_options", "run_options", "PlannedRun", "check_inputs",
           "new_run", "plan_folds", "plan_run", "FoldProgress", "format_scores", "ON_ERROR", "STRATEGIES",
           "check_on_error",
           "check_strategy", "run_folds", "train_run", "train_runs"]
