"""What training leaves: per-fold outcomes, the history and ``CVResult``, curve statistics and epoch selection, plots, run directories."""

from kfold.results.history import CVHistory
from kfold.results.cv_result import CVResult
from kfold.results.curves import smooth_curve, mean_curve, std_curve, sem_curve, best_epoch, EpochSelection
from kfold.results.plotting import plot_history, plot_folds
from kfold.results.curves import MODES, RULES, check_skip, check_smooth, fold_stats, fold_std, resolve_mode
from kfold.results.ensemble import ENSEMBLE_FILE, FoldEnsemble
from kfold.results.history import records_to_history
from kfold.results.outcome import FoldOutcome, collect
from kfold.results.plotting import BANDS, mean_line, metric_label, new_axes, save_figure, spread_line
from kfold.results.predictions import check_partition, predict_rows
from kfold.results.rundir import MANIFEST, ManifestDir, RunFolder, cv_manifest, data_hash, finished_folds, load_run, read_manifest
from kfold.results.rundir_options import RunDir, as_run_dir
from kfold.results.saving import Saved, read_result_file
from kfold.results.scores import held_out_name

__all__ = [
    "CVHistory",
    "CVResult",
    "smooth_curve",
    "mean_curve",
    "std_curve",
    "sem_curve",
    "best_epoch",
    "EpochSelection",
    "plot_history",
    "plot_folds",
    "BANDS",
    "ENSEMBLE_FILE",
    "FoldEnsemble",
    "FoldOutcome",
    "MANIFEST",
    "MODES",
    "ManifestDir",
    "RULES",
    "RunDir",
    "RunFolder",
    "Saved",
    "as_run_dir",
    "check_partition",
    "check_skip",
    "check_smooth",
    "collect",
    "cv_manifest",
    "data_hash",
    "finished_folds",
    "fold_stats",
    "fold_std",
    "held_out_name",
    "load_run",
    "mean_line",
    "metric_label",
    "new_axes",
    "predict_rows",
    "read_manifest",
    "read_result_file",
    "records_to_history",
    "resolve_mode",
    "save_figure",
    "spread_line",
]
