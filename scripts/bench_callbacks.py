"""Epoch-level callbacks, fused against sequential: TensorBoard + ReduceLROnPlateau per fold.

Usage: ``python scripts/bench_callbacks.py [--epochs 100] [--batch-size 16] [--repeats 2]``.
Before issue 11 any callback but EarlyStopping sent a run to the sequential path (one
``model.fit`` per fold); now the fused path runs every epoch-level callback itself.
This trains the book's Boston model (64-64-1, rmsprop) on Boston-sized random data
(404 x 13), 4 folds, with a TensorBoard folder per fold and a ReduceLROnPlateau,
once with each strategy per repetition (alternating which goes first), and prints
the seconds of each whole run and their ratio.
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


def timed_run(strategy: str, x, y, epochs: int, batch_size: int) -> tuple[float, str]:
    import keras

    import kfold

    callbacks = [keras.callbacks.TensorBoard(log_dir=tempfile.mkdtemp() + "/fold_{fold}"),
                 keras.callbacks.ReduceLROnPlateau(monitor="val_loss", patience=5)]
    start = time.perf_counter()
    result = kfold.cross_validate(build, x, y, cv=4, epochs=epochs, batch_size=batch_size, seed=0,
                                  verbose=0, callbacks=callbacks, strategy=strategy)
    return time.perf_counter() - start, result.params["strategy"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(404, 13)), rng.normal(size=404)
    for repeat in range(args.repeats):
        order = ("auto", "sequential") if repeat % 2 == 0 else ("sequential", "auto")
        seconds = {}
        for strategy in order:
            seconds[strategy], ran = timed_run(strategy, x, y, args.epochs, args.batch_size)
            print(f"repeat {repeat + 1}: strategy={strategy!r} ran {ran}: {seconds[strategy]:.1f} s")
        print(f"repeat {repeat + 1}: sequential / fused = {seconds['sequential'] / seconds['auto']:.1f}x")


if __name__ == "__main__":
    main()
