"""Memory and time per fold over many folds: both must stay flat.

Runs 50 folds of a small model through ``kfold.cross_validate`` (the sequential
path: one ``fit`` per fold, a ``clear_session`` and garbage collection before
each) and records, after each fold, the process's resident memory (RSS) and the
fold's wall time. Prints a table per fold and a summary: the RSS slope over the
second half of the folds and the ratio of the last 10 folds' mean time to that
of folds 2-11.

    .venv/bin/python scripts/bench_memory.py            # 50 folds
    .venv/bin/python scripts/bench_memory.py --folds 8  # a quick check
"""
from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

import kfold  # noqa: E402

PROBES: list[tuple[float, float]] = []  # (RSS in MiB, time) at the end of each fold


def rss_mib() -> float:
    """Resident memory of this process, from /proc (Linux)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class Probe(keras.callbacks.Callback):
    """Appends (RSS, time) when a fold's training ends (kfold copies it per fold)."""

    def on_train_end(self, logs=None):
        PROBES.append((rss_mib(), time.perf_counter()))


def build_model():
    model = keras.Sequential([keras.Input((13,)), keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(32, activation="relu"), keras.layers.Dense(1)])
    model.compile(optimizer="rmsprop", loss="mse", metrics=["mae"])
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=50)
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    (x, y), _ = kfold.datasets.load_boston_housing()
    print(f"Python {platform.python_version()}, TensorFlow {keras.backend.backend()} "
          f"Keras {keras.__version__}, load average {os.getloadavg()[0]:.1f}")
    cv = kfold.ShuffleSplit(args.folds, test_size=0.25, random_state=0)
    start, rss_start = time.perf_counter(), rss_mib()
    kfold.cross_validate(build_model, x, y, cv=cv, epochs=args.epochs, batch_size=16,
                         preprocess=kfold.Standardize(), callbacks=[Probe()], seed=0,
                         verbose=0, strategy="sequential")
    rss = np.array([p[0] for p in PROBES])
    ends = np.array([start] + [p[1] for p in PROBES])
    seconds = np.diff(ends)
    print(f"RSS before the first fold: {rss_start:.0f} MiB\n")
    print("| fold | RSS after (MiB) | time (s) |\n|---:|---:|---:|")
    for i, (r, s) in enumerate(zip(rss, seconds), start=1):
        print(f"| {i} | {r:.0f} | {s:.2f} |")
    half = len(rss) // 2
    slope = np.polyfit(np.arange(half, len(rss)), rss[half:], 1)[0]
    early, late = seconds[1:11].mean(), seconds[-10:].mean()
    print(f"\nRSS slope over folds {half + 1}-{len(rss)}: {slope:+.2f} MiB per fold "
          f"(RSS {rss[0]:.0f} -> {rss[-1]:.0f} MiB)")
    print(f"mean time per fold: folds 2-11 {early:.2f} s, last 10 {late:.2f} s, ratio {late / early:.2f}")


if __name__ == "__main__":
    main()
