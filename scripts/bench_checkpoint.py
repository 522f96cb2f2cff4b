"""Checkpoint overhead of fused training: the time checkpoints take, against the run's.

Usage: ``python scripts/bench_checkpoint.py [--epochs 100] [--batch-size 16] [--repeats 2]``.
Trains the book's Boston model (64-64-1, rmsprop) on Boston-sized random data (404 x 13),
4 folds fused, after one untimed warm-up run, interleaved: without a run directory (the
baseline), with one and the default schedule (``checkpoint_every=None``), and with a
checkpoint after every epoch (the worst case). Prints the time spent checkpointing (the
runner's whole save: the stacked graph's write-back to the fold models, the capture of the
joint state and the file) and each whole run against the baseline's.
"""
from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np


def build():
    import keras

    model = keras.Sequential([keras.Input((13,)), keras.layers.Dense(64, activation="relu"),
                              keras.layers.Dense(64, activation="relu"), keras.layers.Dense(1)])
    model.compile(optimizer="rmsprop", loss="mse", metrics=["mae"])
    return model


def main() -> None:
    import kfold
    from kfold.train.fused import runner

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(404, 13)), rng.normal(size=404)
    spent = []
    save = runner.FusedRunner._save

    def timed_save(self):
        start = time.perf_counter()
        save(self)
        if self.checkpoints is not None:
            spent.append(time.perf_counter() - start)

    runner.FusedRunner._save = timed_save

    def run(every, epochs=args.epochs, run_dir=True):
        spent.clear()
        start = time.perf_counter()
        kfold.cross_validate(build, x, y, cv=4, epochs=epochs, batch_size=args.batch_size, seed=0, verbose=0,
                             run_dir=kfold.RunDir(tempfile.mkdtemp(), checkpoint_every=every) if run_dir else None)
        return time.perf_counter() - start, list(spent)

    run(None, epochs=2)  # warm-up: TensorFlow's start-up, not timed
    for repeat in range(args.repeats):
        baseline, _ = run(None, run_dir=False)
        print(f"repeat {repeat + 1}: no run_dir: {baseline:.2f}s")
        for every in (None, 1):
            total, times = run(every)
            print(f"repeat {repeat + 1}: checkpoint_every={every}: {len(times)} checkpoints, {sum(times):.3f}s "
                  f"of {total:.2f}s ({100 * sum(times) / total:.2f}%), {1000 * np.mean(times):.1f} ms each; "
                  f"whole run / no run_dir {total / baseline:.3f}")


if __name__ == "__main__":
    main()
