"""Dropout fused with XLA against the sequential path: other random draws, the same statistics?

Random layers compile with XLA in the fused graph, whose random numbers are not
those TensorFlow's kernels draw in ``model.fit``. This runs one Dropout model
(13-64-Dropout(0.3)-64-1, rmsprop, mse, mae) on the 404 Boston training samples,
4 folds x 60 epochs, batch 16, per-fold standardization, with
``strategy="fused"`` and ``strategy="sequential"`` (same seed, folds, initial
weights and batch orders) and compares the mean validation curves with the
fold-to-fold spread: the largest gap between the two mean curves over the
epochs, the median gap, and the median fold-to-fold standard deviation.

    .venv/bin/python scripts/bench_dropout_draws.py [--epochs 60]
"""
from __future__ import annotations

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

import kfold  # noqa: E402


def build():
    import keras

    model = keras.Sequential([keras.Input((13,)), keras.layers.Dense(64, activation="relu"),
                              keras.layers.Dropout(0.3), keras.layers.Dense(64, activation="relu"),
                              keras.layers.Dense(1)])
    model.compile(optimizer="rmsprop", loss="mse", metrics=["mae"])
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=60)
    args = parser.parse_args()
    (x, y), _ = kfold.datasets.load_boston_housing()
    curves = {}
    for strategy in ("fused", "sequential"):
        result = kfold.cross_validate(build, x, y, cv=4, epochs=args.epochs, batch_size=16, seed=0, verbose=0,
                                      preprocess=kfold.Standardize(), strategy=strategy)
        curves[strategy] = np.asarray(result.history["val_mae"])  # (folds, epochs)
    fused, seq = curves["fused"], curves["sequential"]
    gap = np.abs(fused.mean(0) - seq.mean(0))
    spread = seq.std(0, ddof=1)
    print("| model | epochs | max gap of mean val_mae | median gap | median fold-to-fold std (sequential) | "
          "epochs where gap > std | final mean val_mae fused / sequential |")
    print("|---|---|---|---|---|---|---|")
    print(f"| 13-64-Dropout(0.3)-64-1 | {args.epochs} | {gap.max():.3f} | {np.median(gap):.3f} | "
          f"{np.median(spread):.3f} | {int((gap > spread).sum())} of {args.epochs} | "
          f"{fused.mean(0)[-1]:.3f} / {seq.mean(0)[-1]:.3f} |")


if __name__ == "__main__":
    main()
