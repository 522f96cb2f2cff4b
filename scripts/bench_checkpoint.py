"""Checkpoint overhead of fused training: the seconds spent writing checkpoints, against the run's.

Usage: ``python scripts/bench_checkpoint.py [--epochs 100] [--batch-size 16]``. Trains the book's
Boston model (64-64-1, rmsprop) on Boston-sized random data (404 x 13), 4 folds fused, with a
run directory: once with the default schedule (``checkpoint_every=None``) and once with a
checkpoint after every epoch (the worst case), and prints the time spent in checkpoints.
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
    from kfold.train.fused import checkpoint

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(404, 13)), rng.normal(size=404)
    spent = []
    save = checkpoint.Checkpoints.save

    def timed_save(self, state):
        start = time.perf_counter()
        save(self, state)
        spent.append(time.perf_counter() - start)

    checkpoint.Checkpoints.save = timed_save
    for every in (None, 1):
        spent.clear()
        start = time.perf_counter()
        kfold.cross_validate(build, x, y, cv=4, epochs=args.epochs, batch_size=args.batch_size, seed=0,
                             verbose=0, run_dir=tempfile.mkdtemp(), checkpoint_every=every)
        total = time.perf_counter() - start
        print(f"checkpoint_every={every}: {len(spent)} checkpoints, {sum(spent):.3f}s of {total:.1f}s "
              f"({100 * sum(spent) / total:.2f}%), {1000 * np.mean(spent):.1f} ms each")


if __name__ == "__main__":
    main()
