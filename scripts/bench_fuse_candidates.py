"""Benchmark: would fusing a search's candidates together (folds x candidates in one graph) pay?

kfold's fused path trains the K folds of one candidate in one compiled graph, one
candidate after another. This script measures the alternative the speed issue
asks about: every fold of every candidate in one graph. It reuses kfold's fused
engine on ``candidates x folds`` tasks (a build function that hands out each
task's candidate in turn), so both sides run exactly the same code per model.

Workload: 6 candidates of the same depth on Sonar (one hidden layer of 10, 20,
30, 40, 50 or 60 units, Adam, binary cross-entropy), 3 folds, batch 5, per-fold
standardization; the two ways are interleaved (A, B, then B, A) over the repeats.

Run from the repository root::

    .venv/bin/python scripts/bench_fuse_candidates.py            # about 5 minutes

It prints a Markdown table for BENCHMARKS.md. It asserts nothing about time.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

import kfold  # noqa: E402
from kfold.train.fold import FitConfig, FoldData, FoldTask  # noqa: E402
from kfold.train.fused import run_folds_fused  # noqa: E402
from kfold.train import plan_folds  # noqa: E402

UNITS = [10, 20, 30, 40, 50, 60]


def build(units: int):
    import keras

    model = keras.Sequential([keras.Input((60,)), keras.layers.Dense(units, activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


def per_candidate(data: FoldData, folds: list[FoldTask], config: FitConfig) -> float:
    """Seconds for kfold's way: one fused graph per candidate, candidates one after another."""
    start = time.perf_counter()
    for units in UNITS:
        run_folds_fused(lambda: build(units), data, folds, config)
    return time.perf_counter() - start


def all_together(data: FoldData, folds: list[FoldTask], config: FitConfig) -> float:
    """Seconds for every fold of every candidate in one fused graph."""
    tasks = [FoldTask(c * len(folds) + f.fold, f.train, f.val, f.seed)
             for c in range(len(UNITS)) for f in folds]
    queue = [units for units in UNITS for _ in folds]  # prepare_folds builds the models in task order
    start = time.perf_counter()
    run_folds_fused(lambda: build(queue.pop(0)), data, tasks, config)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=50)
    args = parser.parse_args()
    x, y = kfold.datasets.load_sonar()
    data = FoldData(x, y)
    folds = plan_folds(kfold.StratifiedKFold(3, shuffle=True, random_state=0), len(x), y, seed=0)
    config = FitConfig(epochs=args.epochs, batch_size=5, preprocess=kfold.Standardize())
    warm = FitConfig(epochs=1, batch_size=5, preprocess=kfold.Standardize())
    per_candidate(data, folds, warm), all_together(data, folds, warm)  # imports, first traces
    times: dict[str, list[float]] = {"per candidate": [], "all together": []}
    for rep in range(args.repeats):
        pair = [("per candidate", per_candidate), ("all together", all_together)]
        for name, fn in pair if rep % 2 == 0 else pair[::-1]:
            times[name].append(fn(data, folds, config))
            print(f"repeat {rep + 1}: {name} {times[name][-1]:.1f} s", flush=True)
    ratios = [a / b for a, b in zip(times["per candidate"], times["all together"])]
    print(f"\nSonar, {len(UNITS)} candidates x 3 folds x {args.epochs} epochs, batch 5; "
          f"load {os.getloadavg()}\n")
    print("| per candidate (kfold today), s | all candidates in one graph, s | per candidate / together |")
    print("|---|---|---|")
    print(f"| {statistics.median(times['per candidate']):.1f} | {statistics.median(times['all together']):.1f} "
          f"| {statistics.median(ratios):.2f} (each repeat: {', '.join(f'{r:.2f}' for r in ratios)}) |")


if __name__ == "__main__":
    main()
