"""Benchmark: kfold.cross_validate against the book's by-hand k-fold loop.

Boston Housing (404 training samples), the book's model (Dense 64 relu, Dense 64
relu, Dense 1; rmsprop, mse, mae), 4 contiguous folds. Both methods train on the
same folds with the same per-fold standardization; the runs are interleaved
(by-hand, kfold, then kfold, by-hand, ...) so both see the same machine load,
and the kfold/by-hand time ratio is taken within each repetition.

Run from the repository root::

    .venv/bin/python scripts/bench_core.py                      # 100 epochs, 3 repeats
    .venv/bin/python scripts/bench_core.py --quick              # smoke test
    .venv/bin/python scripts/bench_core.py --out bench_core.json
    .venv/bin/python scripts/bench_core.py --breakdown          # where the time goes, one fold

It prints a Markdown table for BENCHMARKS.md. It asserts nothing about time.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

import kfold  # noqa: E402

N_FOLDS = 4


def build_model():
    import keras

    model = keras.Sequential([
        keras.Input((13,)),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(1),
    ])
    model.compile(optimizer="rmsprop", loss="mse", metrics=["mae"])
    return model


def by_hand(x, y, epochs, batch_size, seed, strategy=None):
    """The book's listing 3.27, with standardization fitted on each training part.

    ``strategy`` is ignored: it is there so both methods are called the same way.
    """
    import keras

    num_val_samples = len(x) // N_FOLDS
    curves, scores = [], []
    for i in range(N_FOLDS):
        val = slice(i * num_val_samples, (i + 1) * num_val_samples)
        x_val, y_val = x[val], y[val]
        x_tr = np.concatenate([x[: i * num_val_samples], x[(i + 1) * num_val_samples:]])
        y_tr = np.concatenate([y[: i * num_val_samples], y[(i + 1) * num_val_samples:]])
        scaler = kfold.Standardize().fit(x_tr)
        x_tr, x_val = scaler.transform(x_tr), scaler.transform(x_val)
        keras.backend.clear_session()
        keras.utils.set_random_seed(seed * 100 + i)
        model = build_model()
        history = model.fit(x_tr, y_tr, validation_data=(x_val, y_val), epochs=epochs,
                            batch_size=batch_size, verbose=0)
        curves.append(history.history["val_mae"])
        scores.append(model.evaluate(x_val, y_val, verbose=0)[1])
    return np.array(curves), np.array(scores), {}


def with_kfold(x, y, epochs, batch_size, seed, strategy=None):
    """``strategy`` is passed on only when given (the library's default otherwise)."""
    extra = {} if strategy is None else {"strategy": strategy}
    result = kfold.cross_validate(build_model, x, y, cv=N_FOLDS, epochs=epochs, batch_size=batch_size,
                                  preprocess=kfold.Standardize(), seed=seed, verbose=0, **extra)
    # Libraries without a `strategy` argument always run one model.fit per fold.
    return result.history["val_mae"], result.scores["mae"], {
        "strategy": result.params.get("strategy", "sequential")}


METHODS = {"by-hand": by_hand, "kfold": with_kfold}


def check_same_folds(x):
    num_val_samples = len(x) // N_FOLDS
    for i, (_, val) in enumerate(kfold.KFold(N_FOLDS).split(x)):
        assert np.array_equal(val, np.arange(i * num_val_samples, (i + 1) * num_val_samples)), i


def summarize(curves, scores, epochs):
    mean = curves.mean(axis=0)
    skip = min(10, epochs - 1)
    selection = kfold.best_epoch(curves, key="val_mae", skip=skip, smooth=0.9)
    return {"final_mean_mae": float(mean[-1]), "min_mean_mae": float(mean.min()),
            "argmin_epoch": int(mean.argmin()) + 1, "selected_epoch": selection.epoch,
            "fold_final_mae": [float(s) for s in scores], "mean_curve": mean.tolist(),
            "fold_std_curve": curves.std(axis=0, ddof=1).tolist()}


def run(epochs, repeats, batch_size, strategy=None):
    (x, y), _ = kfold.datasets.load_boston_housing()
    check_same_folds(x)
    for fn in METHODS.values():  # warm-up: imports, first graph traces; not timed
        fn(x[:64], y[:64], 1, batch_size, seed=12345, strategy=strategy)
    runs = []
    for rep in range(repeats):
        order = list(METHODS) if rep % 2 == 0 else list(METHODS)[::-1]  # A, B then B, A
        record = {"repeat": rep, "order": order}
        for name in order:
            start = time.perf_counter()
            curves, scores, info = METHODS[name](x, y, epochs, batch_size, seed=rep, strategy=strategy)
            seconds = time.perf_counter() - start
            record[name] = {"seconds": seconds, **info, **summarize(curves, scores, epochs)}
            print(f"  repeat {rep + 1}/{repeats} {name:8s} {record[name]['seconds']:6.1f} s  "
                  f"final mean val MAE {record[name]['final_mean_mae']:.3f}", flush=True)
        record["ratio"] = record["kfold"]["seconds"] / record["by-hand"]["seconds"]
        runs.append(record)
    return runs


def breakdown(epochs, repeats, batch_size):
    """One fold, five ways: which part of ``model.fit`` makes the difference."""
    import keras

    from kfold.train.keras_fit import build_model as seeded_model, train_model

    (x, y), _ = kfold.datasets.load_boston_housing()
    train, val = next(kfold.KFold(N_FOLDS).split(x))
    scaler = kfold.Standardize().fit(x[train])
    x_tr, y_tr, x_val, y_val = scaler.transform(x[train]), y[train], scaler.transform(x[val]), y[val]

    def hand(n_epochs, **kwargs):
        keras.backend.clear_session()
        keras.utils.set_random_seed(0)
        build_model().fit(x_tr, y_tr, epochs=n_epochs, batch_size=batch_size, verbose=0, **kwargs)

    def lib(n_epochs, validation):
        train_model(seeded_model(build_model, 0), x_tr, y_tr, epochs=n_epochs, batch_size=batch_size,
                    seed=0, validation=validation)

    validation = (x_val, y_val)
    variants = {
        "by-hand fit(x, y, validation_data=...) (baseline)": lambda n: hand(n, validation_data=validation),
        f"by-hand, validation_batch_size={len(val)}": lambda n: hand(n, validation_data=validation,
                                                                    validation_batch_size=len(val)),
        "by-hand, no validation": lambda n: hand(n),
        "kfold train_model (tf.data feed), validation": lambda n: lib(n, validation),
        "kfold train_model (tf.data feed), no validation": lambda n: lib(n, None),
    }
    for variant in variants.values():  # warm-up, not timed
        variant(1)
    times = {name: [] for name in variants}
    for rep in range(repeats):
        names = list(variants)
        names = names[rep % len(names):] + names[:rep % len(names)]  # rotate the order
        for name in names:
            start = time.perf_counter()
            variants[name](epochs)
            times[name].append(time.perf_counter() - start)
    base = times[next(iter(variants))]
    lines = [f"One fold ({len(train)} train / {len(val)} val), {epochs} epochs, batch {batch_size}, "
             f"{repeats} interleaved repeats", "",
             "| variant | median (s) | ratio to baseline, median (each) |", "|---|---|---|"]
    for name, values in times.items():
        ratios = [v / b for v, b in zip(values, base)]
        lines.append(f"| {name} | {statistics.median(values):.1f} | {statistics.median(ratios):.2f} "
                     f"({', '.join(f'{r:.2f}' for r in ratios)}) |")
    return "\n".join(lines)


def report(runs, args, env):
    med = lambda values: statistics.median(values)  # noqa: E731
    col = lambda name, key: [r[name][key] for r in runs]  # noqa: E731
    lines = [f"{args.epochs} epochs, batch {args.batch_size}, {len(runs)} interleaved repeats; "
             f"{env['cpus']} CPUs, TF {env['tensorflow']}, Keras {env['keras']}, Python {env['python']}; "
             f"kfold strategy: {', '.join(sorted(set(col('kfold', 'strategy'))))}", "",
             "| | by-hand loop | kfold.cross_validate |", "|---|---|---|"]
    t = {name: col(name, "seconds") for name in METHODS}
    lines.append(f"| wall time, median (s) | {med(t['by-hand']):.1f} | {med(t['kfold']):.1f} |")
    lines.append("| wall time, each repeat (s) | " + " | ".join(
        ", ".join(f"{s:.1f}" for s in t[name]) for name in METHODS) + " |")
    ratios = [r["ratio"] for r in runs]
    lines.append(f"| time ratio kfold / by-hand, median (each) | 1 | {med(ratios):.2f} "
                 f"({', '.join(f'{r:.2f}' for r in ratios)}) |")
    for key, label, fmt in [("final_mean_mae", "mean val MAE, last epoch", ".3f"),
                            ("min_mean_mae", "min of mean val MAE curve", ".3f"),
                            ("argmin_epoch", "epoch of that min", "d"),
                            ("selected_epoch", "best_epoch(skip=10, smooth=0.9)", "d")]:
        cells = [", ".join(format(v, fmt) for v in col(name, key)) for name in METHODS]
        lines.append(f"| {label} (each repeat) | {cells[0]} | {cells[1]} |")
    folds = {name: np.mean(col(name, "fold_final_mae"), axis=0) for name in METHODS}
    lines.append("| final val MAE per fold (mean over repeats) | " + " | ".join(
        ", ".join(f"{v:.2f}" for v in folds[name]) for name in METHODS) + " |")
    # Curve agreement: |difference of the mean curves| against the fold-to-fold std.
    skip = min(10, args.epochs - 1)
    diffs = [np.abs(np.subtract(r["kfold"]["mean_curve"], r["by-hand"]["mean_curve"]))[skip:] for r in runs]
    stds = [np.mean([r[name]["fold_std_curve"] for name in METHODS], axis=0)[skip:] for r in runs]
    lines.append(f"| mean curves, epochs {skip + 1}-{args.epochs}: mean abs difference / fold std | | "
                 f"{np.mean([d.mean() for d in diffs]):.3f} / {np.mean([s.mean() for s in stds]):.3f} "
                 f"(max diff {max(d.max() for d in diffs):.3f}) |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--out", help="write the raw numbers to this JSON file")
    parser.add_argument("--quick", action="store_true", help="smoke test: 5 epochs, 1 repeat")
    parser.add_argument("--strategy", choices=["auto", "fused", "sequential"],
                        help="pass strategy=... to cross_validate (default: the library's default)")
    parser.add_argument("--breakdown", action="store_true",
                        help="instead: time one fold with and without validation and kfold's data feed")
    args = parser.parse_args()
    if args.quick:
        args.epochs, args.repeats = 5, 1
    import keras
    import tensorflow as tf

    env = {"cpus": os.cpu_count(), "tensorflow": tf.__version__, "keras": keras.__version__,
           "python": platform.python_version(), "load_before": os.getloadavg()}
    print(f"bench_core: {env}", flush=True)
    if args.breakdown:
        print(breakdown(args.epochs, args.repeats, args.batch_size))
        print(f"load average before {env['load_before']}, after {os.getloadavg()}")
        return
    runs = run(args.epochs, args.repeats, args.batch_size, args.strategy)
    env["load_after"] = os.getloadavg()
    print(f"load average before {env['load_before']}, after {env['load_after']}\n")
    print(report(runs, args, env))
    if args.out:
        with open(args.out, "w", encoding="utf-8") as file:
            json.dump({"args": vars(args), "env": env, "runs": runs}, file, indent=1)


if __name__ == "__main__":
    main()
