"""A fused task sent to a worker carries the caller's settings (``kfold.config_context``)."""
from __future__ import annotations

import numpy as np

import kfold
from kfold.train.fold import FitConfig, FoldData, FoldTask
from kfold.train.run.on_workers import CandidateFolds, run_candidate_folds

from conftest import make_regressor


def test_the_callers_settings_hold_while_a_worker_trains_the_folds():
    seen = []

    def build():
        seen.append(kfold.get_config()["fused_stacked"])
        return make_regressor()

    x, y = np.random.default_rng(0).normal(size=(16, 3)), np.zeros(16)
    folds = (FoldTask(0, np.arange(8, 16), np.arange(8), 1), FoldTask(1, np.arange(8), np.arange(8, 16), 2))
    jobs = [(build, FitConfig(epochs=1), "auto", {**kfold.get_config(), "fused_stacked": False})]
    outcomes, ran, _ = run_candidate_folds(jobs, FoldData(x, y), CandidateFolds(0, folds))
    assert ran == "fused" and seen == [False, False]
    assert kfold.get_config()["fused_stacked"] is True  # only while the task ran
