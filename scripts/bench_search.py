"""Benchmark: kfold.grid_search against scikit-learn GridSearchCV + SciKeras KerasClassifier.

The same search on Sonar (208 samples, 60 features): a 3 x 2 grid (hidden
units x Adam learning rate), 5 stratified shuffled folds (the same index pairs
for both), standardization fitted inside each fold, a fixed number of epochs,
and a refit of the best candidate on all the data. The runs are interleaved
(kfold, scikit-learn, then scikit-learn, kfold, ...) so both see the same
machine load; the time ratio is taken within each repetition and the medians
are reported. ``--sequential`` adds kfold with ``strategy="sequential"`` (one
``model.fit`` per fold, no fused training).

It also counts what each method keeps: kfold every fold's per-epoch curves of
every candidate; GridSearchCV one final score per fold and candidate (SciKeras'
``history_`` holds only the last fit's, the refit's, curves).

Needs scikit-learn and SciKeras (``pip install -e ".[bench]"``). Run from the
repository root::

    .venv/bin/python scripts/bench_search.py                 # 30 epochs, 3 repeats
    .venv/bin/python scripts/bench_search.py --quick         # smoke test
    .venv/bin/python scripts/bench_search.py --out bench_search.json

It prints a Markdown table for BENCHMARKS.md. It asserts nothing about time.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

import kfold  # noqa: E402

GRID = {"units": [10, 30, 60], "lr": [0.001, 0.01]}


def build_model(units=10, lr=0.001):
    import keras

    model = keras.Sequential([
        keras.Input((60,)),
        keras.layers.Dense(units, activation="relu"),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=lr), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model


def run_kfold(x, y, folds, epochs, batch_size, strategy="auto"):
    search = kfold.grid_search(build_model, GRID, x, y, cv=folds, epochs=epochs, batch_size=batch_size,
                               preprocess=kfold.Standardize(), select="val_accuracy", seed=0,
                               verbose=0, strategy=strategy)
    last = [float(np.mean(r.scores["accuracy"])) for r in search.results]
    return {"best_params": search.best_params, "best_epoch": search.best_epoch,
            "best_score_selected_epoch": search.best_score, "best_last_epoch_accuracy": max(last),
            "fold_curves_kept": sum(r.n_folds for r in search.results),
            "keys_per_curve": len(search.results[0].history.keys()),
            "strategy": search.results[0].params.get("strategy")}


def run_sklearn(x, y, folds, epochs, batch_size):
    from scikeras.wrappers import KerasClassifier
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    clf = KerasClassifier(model=build_model, epochs=epochs, batch_size=batch_size, verbose=0,
                          random_state=0)
    pipe = Pipeline([("scale", StandardScaler()), ("clf", clf)])
    grid = {f"clf__model__{name}": values for name, values in GRID.items()}
    search = GridSearchCV(pipe, grid, cv=folds, scoring="accuracy", refit=True, n_jobs=1).fit(x, y)
    history = search.best_estimator_.named_steps["clf"].history_  # the refit's only: folds overwrote it
    return {"best_params": {k.removeprefix("clf__model__"): v for k, v in search.best_params_.items()},
            "best_last_epoch_accuracy": float(search.best_score_), "fold_curves_kept": 0,
            "keys_per_curve": len(history), "refit_history_epochs": len(next(iter(history.values())))}


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - start, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sequential", action="store_true", help="also time strategy='sequential'")
    parser.add_argument("--quick", action="store_true", help="2 epochs, 1 repeat")
    parser.add_argument("--out", help="write the measurements as JSON")
    args = parser.parse_args()
    if args.quick:
        args.epochs, args.repeats = 2, 1
    x, y = kfold.datasets.load_sonar()
    folds = list(kfold.StratifiedKFold(5, shuffle=True, random_state=0).split(x, y))
    runners = {"kfold": lambda: run_kfold(x, y, folds, args.epochs, args.batch_size),
               "sklearn": lambda: run_sklearn(x, y, folds, args.epochs, args.batch_size)}
    if args.sequential:
        runners["kfold_sequential"] = lambda: run_kfold(x, y, folds, args.epochs, args.batch_size, "sequential")
    load_start = os.getloadavg()[0]
    timed(runners["kfold"])  # warm-up: imports and first graph builds, not timed
    timed(runners["sklearn"])
    times = {name: [] for name in runners}
    details = {}
    for rep in range(args.repeats):
        order = list(runners) if rep % 2 == 0 else list(reversed(list(runners)))
        for name in order:
            seconds, details[name] = timed(runners[name])
            times[name].append(seconds)
            print(f"repeat {rep + 1}: {name} {seconds:.1f} s", flush=True)
    ratios = [s / k for s, k in zip(times["sklearn"], times["kfold"])]
    report = {"epochs": args.epochs, "batch_size": args.batch_size, "repeats": args.repeats,
              "grid": GRID, "n_folds": len(folds), "times_s": times,
              "median_s": {name: statistics.median(v) for name, v in times.items()},
              "sklearn_over_kfold": ratios, "median_ratio": statistics.median(ratios),
              "details": details, "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
              "python": platform.python_version(),
              "load_average": {"start": load_start, "end": os.getloadavg()[0]}}
    print(f"\n{args.epochs} epochs, batch {args.batch_size}, {args.repeats} interleaved repeats; "
          f"{report['machine']}, Python {report['python']}; load average {load_start:.1f} at the start, "
          f"{os.getloadavg()[0]:.1f} at the end")
    print("\n| method | median time (s) | runs (s) | best params | last-epoch CV accuracy | per-fold curves kept |"
          "\n|---|---|---|---|---|---|")
    for name in runners:
        d = details[name]
        print(f"| {name} | {report['median_s'][name]:.1f} | {', '.join(f'{t:.1f}' for t in times[name])} "
              f"| {d['best_params']} | {d['best_last_epoch_accuracy']:.3f} | {d['fold_curves_kept']} |")
    print(f"\nGridSearchCV+SciKeras / kfold time, per repeat: {', '.join(f'{r:.2f}' for r in ratios)}; "
          f"median {report['median_ratio']:.2f}")
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=2, default=str))


if __name__ == "__main__":
    main()
