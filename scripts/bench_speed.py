"""Benchmark: fused k-fold training against one ``model.fit`` per fold, on identical work.

Methods (each trains the same models on the same folds, with per-fold standardization):

* ``by-hand``: the book's listing 3.27, one ``model.fit(validation_data=...)`` per fold;
* ``keras-best``: the same loop with Keras' fastest settings,
  ``compile(steps_per_execution=<steps per epoch>, jit_compile=True)``;
* ``scikeras``: SciKeras ``cross_val_score`` (``GridSearchCV`` for the grid), which
  trains the same epochs but validates only once per fold (less work);
* ``sequential`` / ``fused``: ``kfold.cross_validate(strategy=...)`` (``grid_search``).

Workloads: the book's Boston run (4 folds x 500 epochs, batch 1 and 16), Sonar
10-fold stratified (100 epochs, batch 5), ``make_classification`` 3-fold (30
epochs, batch 64) and a 6-candidate grid search on Sonar (3 folds, 100 epochs).

Every repetition runs every method on every workload, in a rotated order, so all
see the same machine load. ``fused`` always runs the full length. The others run
``short`` epochs and are extrapolated to the full length from their steady-state
epochs (median epoch time after the first, from a callback):
``t_full = t_short + (epochs - short) * steady``. With ``--validate`` the by-hand
loop also runs the full length once on some workloads, and the report shows how
close the extrapolation came. Curves: the mean validation curve of ``fused`` is
compared with those of ``by-hand`` and ``sequential`` over the epochs both ran.

Run from the repository root (SciKeras is an optional dependency:
``pip install -e ".[bench]"``)::

    .venv/bin/python scripts/bench_speed.py --out bench_speed.json   # 1-2 hours on 2 busy cores
    .venv/bin/python scripts/bench_speed.py --quick                  # smoke test
    .venv/bin/python scripts/bench_speed.py --report bench_speed.json  # the tables again
    .venv/bin/python scripts/bench_speed.py --reference ../shared/reference  # against the reference trainer

It prints Markdown tables for BENCHMARKS.md. It asserts nothing about time.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import statistics
import time
from typing import Any, Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

import kfold  # noqa: E402

EPOCH_TIMES: list[list[float]] = []  # one list of epoch durations per model.fit


def timer() -> Any:
    """A callback that records each epoch's duration (validation included) into EPOCH_TIMES."""
    import keras

    class EpochTimer(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            EPOCH_TIMES.append([])

        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            EPOCH_TIMES[-1].append(time.perf_counter() - self.start)

    return EpochTimer()


def mlp(n_inputs: int, hidden: list[int], *, output: str, **compile_kwargs: Any) -> Any:
    import keras

    model = keras.Sequential([keras.Input((n_inputs,))])
    for units in hidden:
        model.add(keras.layers.Dense(units, activation="relu"))
    if output == "regression":
        model.add(keras.layers.Dense(1))
        model.compile(optimizer="rmsprop", loss="mse", metrics=["mae"], **compile_kwargs)
    else:
        model.add(keras.layers.Dense(1, activation="sigmoid"))
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"], **compile_kwargs)
    return model


@dataclasses.dataclass
class Workload:
    name: str
    x: np.ndarray
    y: np.ndarray
    cv: Any
    hidden: list          # hidden units, or a list of candidates (lists) for a grid
    output: str           # "regression" or "binary"
    epochs: int
    batch_size: int
    short: int            # epochs the slow methods run before extrapolation
    grid: bool = False

    @property
    def key(self) -> str:
        return "val_mae" if self.output == "regression" else "val_accuracy"

    def candidates(self) -> list:
        return self.hidden if self.grid else [self.hidden]

    def build(self, hidden: list, **compile_kwargs: Any) -> Callable[[], Any]:
        return lambda: mlp(self.x.shape[1], hidden, output=self.output, **compile_kwargs)


def workloads(quick: bool) -> list[Workload]:
    from sklearn.datasets import make_classification

    (bx, by), _ = kfold.datasets.load_boston_housing()
    sx, sy = kfold.datasets.load_sonar()
    cx, cy = make_classification(n_samples=10000, n_features=100, n_informative=3, random_state=0)
    grid = [[], [2], [3], [6], [12], [24]]
    loads = [
        Workload("Boston, batch 1", bx, by, kfold.KFold(4), [64, 64], "regression", 500, 1, 5),
        Workload("Boston, batch 16", bx, by, kfold.KFold(4), [64, 64], "regression", 500, 16, 40),
        Workload("Sonar 10-fold stratified", sx, sy, kfold.StratifiedKFold(10, shuffle=True, random_state=7),
                 [60], "binary", 100, 5, 8),
        Workload("make_classification 3-fold", cx, cy, kfold.StratifiedKFold(3), [32], "binary", 30, 64, 6),
        Workload("grid search, 6 candidates x 3 folds (Sonar)", sx, sy,
                 kfold.KFold(3, shuffle=True, random_state=7), grid, "binary", 100, 5, 3, grid=True),
    ]
    if quick:
        for w in loads:
            w.epochs, w.short = max(3, w.short), 2
    return loads


# ---------------------------------------------------------------- the methods
def by_hand(w: Workload, epochs: int, seed: int, keras_best: bool = False) -> np.ndarray:
    """Listing 3.27: one model.fit per fold (and per candidate), validation_data each epoch.

    ``keras_best``: compile with XLA and one execution per epoch (``steps_per_execution``).
    """
    import keras

    curves = []
    for c, hidden in enumerate(w.candidates()):
        for i, (train, val) in enumerate(w.cv.split(w.x, w.y)):
            scaler = kfold.Standardize().fit(w.x[train])
            x_train, x_val = scaler.transform(w.x[train]), scaler.transform(w.x[val])
            keras.backend.clear_session()
            keras.utils.set_random_seed(seed * 1000 + c * 100 + i)
            steps = -(-len(train) // w.batch_size)
            options = {"jit_compile": True, "steps_per_execution": steps} if keras_best else {}
            model = w.build(hidden, **options)()
            history = model.fit(x_train, w.y[train], validation_data=(x_val, w.y[val]), epochs=epochs,
                                batch_size=w.batch_size, verbose=0, callbacks=[timer()])
            curves.append(history.history[w.key])
    return np.array(curves)


def scikeras(w: Workload, epochs: int, seed: int) -> None:
    import keras
    from scikeras.wrappers import KerasClassifier, KerasRegressor
    from sklearn.model_selection import GridSearchCV, cross_val_score
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    keras.utils.set_random_seed(seed)
    wrapper = KerasRegressor if w.output == "regression" else KerasClassifier
    model = lambda hidden: mlp(w.x.shape[1], hidden, output=w.output)  # noqa: E731
    estimator = wrapper(model=model, hidden=w.candidates()[0], epochs=epochs, batch_size=w.batch_size,
                        verbose=0, callbacks=[timer()])
    pipeline = Pipeline([("scale", StandardScaler()), ("net", estimator)])
    if w.grid:
        GridSearchCV(pipeline, {"net__hidden": w.hidden}, cv=w.cv, refit=False).fit(w.x, w.y)
    else:
        cross_val_score(pipeline, w.x, w.y, cv=w.cv)


def with_kfold(w: Workload, epochs: int, seed: int, strategy: str) -> np.ndarray | None:
    settings = dict(cv=w.cv, epochs=epochs, batch_size=w.batch_size, preprocess=kfold.Standardize(),
                    seed=seed, verbose=0, strategy=strategy)
    if strategy == "sequential":
        settings["callbacks"] = [timer()]
    if w.grid:
        build = lambda hidden: mlp(w.x.shape[1], hidden, output=w.output)  # noqa: E731
        search = kfold.grid_search(build, {"hidden": w.hidden}, w.x, w.y, refit=False, **settings)
        assert all(r.params["strategy"] == strategy for r in search.results)
        return None
    result = kfold.cross_validate(w.build(w.hidden), w.x, w.y, **settings)
    assert result.params["strategy"] == strategy, result.params["strategy_reason"]
    return result.history[w.key]


METHODS = {
    "by-hand": by_hand,
    "keras-best": lambda w, e, s: by_hand(w, e, s, keras_best=True),
    "scikeras": scikeras,
    "sequential": lambda w, e, s: with_kfold(w, e, s, "sequential"),
    "fused": lambda w, e, s: with_kfold(w, e, s, "fused"),
}


def timed_run(name: str, w: Workload, epochs: int, seed: int) -> dict:
    EPOCH_TIMES.clear()
    start = time.perf_counter()
    curves = METHODS[name](w, epochs, seed)
    seconds = time.perf_counter() - start
    steady = sum(statistics.median(t[1:]) for t in EPOCH_TIMES if len(t) > 1)
    record = {"epochs": epochs, "seconds": seconds, "steady_epoch_s": steady,
              "full_s": seconds + (w.epochs - epochs) * steady,
              "curves": None if curves is None else np.asarray(curves).tolist()}
    print(f"    {name:10s} {epochs:4d} epochs {seconds:8.1f} s -> {w.epochs} epochs {record['full_s']:8.1f} s",
          flush=True)
    return record


def run(loads: list[Workload], repeats: int, validate: bool) -> dict:
    names = list(METHODS)
    for w in loads[:3]:  # warm-up (imports, first traces; regression and binary), not timed
        small = dataclasses.replace(w, x=w.x[:60], y=w.y[:60], epochs=1, short=1)
        for name in names:
            METHODS[name](small, 1, 12345)
    runs: dict = {w.name: [] for w in loads}
    for rep in range(repeats):
        order = names[rep % len(names):] + names[:rep % len(names)]
        for w in loads:
            print(f"repeat {rep + 1}/{repeats}: {w.name}", flush=True)
            runs[w.name].append({name: timed_run(name, w, w.epochs if name == "fused" else w.short, rep)
                                 for name in order})
    checks = {}
    if validate:  # the full length once, to check the extrapolation
        for w in loads:
            if w.name.startswith(("Boston, batch 16", "make_classification")):
                print(f"full length: {w.name}", flush=True)
                checks[w.name] = timed_run("by-hand", w, w.epochs, repeats)
    return {"runs": runs, "checks": checks}


# ---------------------------------------------------------------- the report
def _med(values: list[float]) -> float:
    return statistics.median(values)


def speed_table(loads: list[Workload], data: dict) -> str:
    lines = ["| workload | by-hand loop | Keras spe+jit | SciKeras | kfold sequential | kfold fused | "
             "fused speed-up vs by-hand / Keras best / sequential |", "|---|---|---|---|---|---|---|"]
    for w in loads:
        runs = data["runs"][w.name]
        cells = []
        for name in METHODS:
            full = _med([r[name]["full_s"] for r in runs])
            cells.append(f"{full:.1f}" + ("" if name == "fused" else "*"))
        ratios = {name: _med([r[name]["full_s"] / r["fused"]["full_s"] for r in runs])
                  for name in ("by-hand", "keras-best", "sequential")}
        lines.append(f"| {w.name} ({w.epochs} epochs, batch {w.batch_size}) | " + " | ".join(cells) + " | "
                     + " / ".join(f"{ratios[n]:.1f}x" for n in ratios) + " |")
    return "\n".join(lines)


def check_table(loads: list[Workload], data: dict) -> str:
    lines = ["| workload | by-hand, full length measured (s) | extrapolated from the short runs, median (s) |",
             "|---|---|---|"]
    for w in loads:
        if w.name in data["checks"]:
            predicted = _med([r["by-hand"]["full_s"] for r in data["runs"][w.name]])
            lines.append(f"| {w.name} | {data['checks'][w.name]['seconds']:.1f} | {predicted:.1f} |")
    return "\n".join(lines)


def curve_table(loads: list[Workload], data: dict) -> str:
    lines = ["| workload | epochs compared | mean val curve: mean abs diff fused vs by-hand | fold-to-fold std "
             "| fused vs sequential, max abs diff of the mean curve | last compared epoch: by-hand / fused |",
             "|---|---|---|---|---|---|"]
    for w in loads:
        if w.grid:
            continue
        runs = data["runs"][w.name]
        check = data["checks"].get(w.name)
        diffs, stds, seq_diffs, ends = [], [], [], []
        for r in runs:
            fused = np.array(r["fused"]["curves"])
            for hand in [np.array(r["by-hand"]["curves"])] + ([np.array(check["curves"])] if check else []):
                n = hand.shape[1]
                diffs.append(np.abs(hand.mean(0) - fused[:, :n].mean(0)).mean())
                stds.append(np.mean([hand.std(0, ddof=1).mean(), fused[:, :n].std(0, ddof=1).mean()]))
                ends.append((n, hand.mean(0)[-1], fused[:, :n].mean(0)[-1]))
            seq = np.array(r["sequential"]["curves"])
            seq_diffs.append(np.abs(seq.mean(0) - fused[:, :seq.shape[1]].mean(0)).max())
        n, hand_end, fused_end = max(ends)
        lines.append(f"| {w.name} | 1-{n} | {np.mean(diffs):.4f} | {np.mean(stds):.4f} | "
                     f"{max(seq_diffs):.2e} | {hand_end:.3f} / {fused_end:.3f} |")
    return "\n".join(lines)


def print_report(loads: list[Workload], data: dict, repeats: int, env: dict) -> None:
    print(f"\n{repeats} interleaved repeats; {env}\n")
    print("Seconds for the full length (median over repeats; * = extrapolated from steady-state epochs):\n")
    print(speed_table(loads, data) + "\n")
    if data["checks"]:
        print(check_table(loads, data) + "\n")
    print(curve_table(loads, data))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", help="run only workloads whose name contains this text")
    parser.add_argument("--no-validate", dest="validate", action="store_false",
                        help="skip the full-length by-hand runs that check the extrapolation")
    parser.add_argument("--out", help="write the raw numbers to this JSON file")
    parser.add_argument("--quick", action="store_true", help="smoke test: a few epochs, 1 repeat")
    parser.add_argument("--report", metavar="JSON", help="print the tables of an earlier --out file; run nothing")
    parser.add_argument("--reference", metavar="DIR",
                        help="instead: kfold's default against the reference trainer DIR/fused_reference.py "
                             "(scripts/bench_reference.py: Boston batch 1 and 16, Dropout, Conv1D, Conv2D, two inputs)")
    parser.add_argument("--cold", action="store_true",
                        help="with --reference: no kfold run reuses the graph an earlier run compiled")
    args = parser.parse_args()
    if args.reference:
        import sys

        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from bench_reference import reference_table, run_reference_benchmark

        found = run_reference_benchmark(args.reference, args.repeats, args.only, args.quick, cold=args.cold)
        print(f"load average after: {os.getloadavg()}\n\n" + reference_table(found))
        if args.out:
            with open(args.out, "w", encoding="utf-8") as file:
                json.dump(found, file)
        return
    if args.report:
        with open(args.report, encoding="utf-8") as file:
            saved = json.load(file)
        print_report(workloads(saved["args"]["quick"]), saved, saved["args"]["repeats"], saved["env"])
        return
    if args.quick:
        args.repeats = 1
    import keras
    import tensorflow as tf

    loads = [w for w in workloads(args.quick) if not args.only or args.only in w.name]
    env = {"cpus": os.cpu_count(), "tensorflow": tf.__version__, "keras": keras.__version__,
           "python": platform.python_version(), "load_before": os.getloadavg()}
    print(f"bench_speed: {env}", flush=True)
    start = time.perf_counter()
    data = run(loads, args.repeats, args.validate)
    env.update(load_after=os.getloadavg(), total_minutes=(time.perf_counter() - start) / 60)
    print_report(loads, data, args.repeats, env)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as file:
            json.dump({"args": vars(args), "env": env, **data}, file)


if __name__ == "__main__":
    main()
