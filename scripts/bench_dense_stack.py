"""Benchmark: the stacked Dense fast path against the generic fused graph, steady-state epochs.

The first version of this script concluded that a Dense stack trained as one model
with a fold axis is 3-15x *slower* than K models side by side. Its prototype sliced
each step's batch as ``order[:, step * batch : (step + 1) * batch]``, bounds that
depend on the loop counter inside the XLA while loop, which XLA cannot size
statically (measured at ~20x the per-step cost of a static-size index). Both graphs
of kfold now take every step's rows from index arrays precomputed per call
(static-size gathers), so this script times the real implementations:
:class:`kfold.engines.tensorflow.stacked.StackedGraph` (``fused_stacked=True``, the
default for Dense stacks) against :class:`kfold.engines.tensorflow.graph.EpochGraph`
(``kfold.config_context(fused_stacked=False)``) on the book's Boston model (13-64-64-1, rmsprop, mse,
mae, 4 folds, per-fold standardization), interleaved. The steady-state epoch is
the median per-epoch time of the graph calls after the first (which compiles).

    .venv/bin/python scripts/bench_dense_stack.py [--repeats 3] [--epochs 100]

It prints a Markdown table for BENCHMARKS.md. It asserts nothing about time.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import kfold  # noqa: E402
from kfold.train import plan_folds  # noqa: E402
from kfold.train.fold import FitConfig, FoldData  # noqa: E402
from kfold.train.fused import run_folds_fused  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_reference import CallTimes, book_model, compile_estimate  # noqa: E402


def epoch_and_compile(x, y, batch_size: int, epochs: int, stacked: bool, timer: CallTimes) -> tuple:
    timer.calls.clear()
    config = FitConfig(epochs=epochs, batch_size=batch_size, preprocess=kfold.Standardize())
    with kfold.config_context(fused_stacked=stacked):
        run_folds_fused(book_model(), FoldData(x, y), plan_folds(4, len(x), seed=0), config)
    per_epoch = statistics.median(t / n for n, t in timer.calls[1:])
    return per_epoch, compile_estimate(timer.calls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=100)
    args = parser.parse_args()
    (x, y), _ = kfold.datasets.load_boston_housing()
    timer, rows = CallTimes(), []
    for batch_size in (1, 16):
        found = {True: [], False: []}
        for rep in range(args.repeats):  # interleaved: A, B then B, A
            for stacked in ((True, False) if rep % 2 == 0 else (False, True)):
                found[stacked].append(epoch_and_compile(x, y, batch_size, args.epochs, stacked, timer))
        g = statistics.median(e for e, _ in found[False])
        s = statistics.median(e for e, _ in found[True])
        gc, sc = (statistics.median(c for _, c in found[k]) for k in (False, True))
        rows.append(f"| {batch_size} | {g * 1e3:.2f} | {s * 1e3:.2f} | {s / g:.2f} | {gc:.1f} / {sc:.1f} |")
        print(rows[-1], flush=True)
    print(f"\nBoston, 4 folds, steady-state epoch (ms, median of {args.repeats}; load {os.getloadavg()}):\n")
    print("| batch size | generic fused graph (K models) | stacked Dense path (K-way batched matmuls) | "
          "stacked / generic | compile s generic / stacked |\n|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
