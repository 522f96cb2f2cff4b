"""What training leaves: per-fold outcomes, the history and ``CVResult``, curve statistics and epoch selection, plots, run directories."""

from kfold.results.history import CVHistory
from kfold.results.cv_result import CVResult
from kfold.results.curves import smooth_curve, mean_curve, std_curve, sem_curve, best_epoch, EpochSelection
from kfold.results.plotting import plot_history, plot_folds

__all__ = ["CVHistory", "CVResult", "smooth_curve", "mean_curve", "std_curve", "sem_curve", "best_epoch", "EpochSelection", "plot_history", "plot_folds"]
