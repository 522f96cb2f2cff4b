"""Benchmark: the same folds sequentially, in 2 loky worker processes, and on a 2-worker Dask LocalCluster.

Boston Housing (404 training samples), the book's model (Dense 64 relu, Dense 64
relu, Dense 1; rmsprop, mse, mae), Standardize fitted per fold. Two workloads:

* a 5-fold cross-validation (5 tasks);
* a 4-candidate grid (units in {32, 64} x learning rate in {1e-3, 1e-2}), each
  candidate 5 folds: 20 tasks, candidates x folds.

Both run through the public API: ``kfold.cross_validate(..., executor=executor)``
and ``kfold.grid_search(..., executor=executor)`` (which sends all 20 tasks at
once), with one executor made by ``make_executor`` and passed to both. For each
executor, in one run of this script: the start (creating the executor
and ``check_travel``: importing Keras here, starting the workers or the
cluster, loading the build function in one worker), then each workload's wall
time, the peak memory (max RSS) of every process that ran a fold, and each
fold's fit time (a callback adds the peak RSS and pid of the training process
to the logs). The 5-fold run is "cold" (the workers import TensorFlow
during it), the grid "warm". The script compares every history with
the sequential run's, bit for bit, and prints any difference.

Run from the repository root::

    .venv/bin/python scripts/bench_executors.py                  # 40 epochs
    .venv/bin/python scripts/bench_executors.py --quick          # smoke test
    .venv/bin/python scripts/bench_executors.py --out bench_executors.json

It prints a Markdown table for BENCHMARKS.md. It asserts nothing about time.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import time
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

import kfold  # noqa: E402
from kfold.train import check_travel  # noqa: E402
from kfold.executors.factory import make_executor  # noqa: E402
from kfold.train import plan_folds  # noqa: E402

N_FOLDS = 5
GRID = {"units": [32, 64], "learning_rate": [1e-3, 1e-2]}
MEASURED = ("peak_rss_mb", "pid")  # the keys PeakMemory adds to the logs (not compared between executors)


def build_model(units: int = 64, learning_rate: float = 1e-3) -> Any:
    import keras

    model = keras.Sequential([
        keras.Input((13,)),
        keras.layers.Dense(units, activation="relu"),
        keras.layers.Dense(units, activation="relu"),
        keras.layers.Dense(1),
    ])
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate), loss="mse", metrics=["mae"])
    return model


def peak_memory_callback() -> Any:
    """A callback that adds the training process's peak RSS and pid to each epoch's logs.

    kfold keeps every key of the logs, so these come back in ``result.history``
    from whichever process trained the fold (the callback travels by value).
    """
    import keras

    class PeakMemory(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if logs is not None:
                logs.update(peak_rss_mb=peak_rss_mb(), pid=float(os.getpid()))

    return PeakMemory()


def peak_rss_mb() -> float:
    """This process's peak resident memory: VmHWM on Linux, else psutil's RSS now, else getrusage.

    Not ``getrusage``'s ``ru_maxrss`` on Linux: a worker started by fork + exec
    inherits the parent's peak there (the TensorFlow-sized RSS of the main
    process), while VmHWM counts this program's own pages only.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    try:
        import psutil

        return psutil.Process().memory_info().rss / 2**20
    except ImportError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def summarize(results: list, wall: float) -> dict:
    """Wall time, fit times, peak RSS by process and the histories (measured keys left out)."""
    rss: dict[int, float] = {}
    histories, fit_times = [], []
    for result in results:
        fit_times += result.fit_times.tolist()
        for fold in range(len(result.folds)):
            logs = result.history[fold]
            pid = int(logs["pid"][-1])
            rss[pid] = max(rss.get(pid, 0.0), max(logs["peak_rss_mb"]))
            histories.append({k: v for k, v in logs.items() if k not in MEASURED})
    return {"wall_s": wall, "n_tasks": len(histories), "max_rss_mb_by_pid": rss, "fit_times": fit_times,
            "histories": histories}


def bench_executor(name: str, spec: object, x: np.ndarray, y: np.ndarray, folds: list, epochs: int) -> dict:
    """One executor, made once and passed to ``cross_validate`` and ``grid_search`` as ``executor=``."""
    common = dict(cv=folds, epochs=epochs, batch_size=16, preprocess=kfold.Standardize(), seed=0,
                  verbose=0, strategy="sequential", callbacks=[peak_memory_callback()])
    start = time.perf_counter()
    with make_executor(spec) as executor:
        check_travel(executor, build_model)  # imports Keras here; starts the workers
        startup = time.perf_counter() - start
        start = time.perf_counter()
        result = kfold.cross_validate(build_model, x, y, executor=executor, **common)
        cv = summarize([result], time.perf_counter() - start)
        start = time.perf_counter()
        search = kfold.grid_search(build_model, GRID, x, y, executor=executor, refit=False, **common)
        grid = summarize(search.results, time.perf_counter() - start)
    return {"executor": name, "workers": getattr(spec, "n_jobs", None) or 1, "startup_s": startup,
            "cv": cv, "grid": grid, "main_peak_rss_mb": peak_rss_mb()}


def difference(row: dict, reference: dict, workload: str) -> str:
    """Which folds' histories differ from the reference run, and by how much ('' if none)."""
    diffs = []
    for i, (mine, ref) in enumerate(zip(row[workload]["histories"], reference[workload]["histories"])):
        if mine != ref:
            worst = max(float(np.max(np.abs(np.subtract(mine[k], ref[k])))) for k in ref)
            diffs.append(f"task {i} (max abs diff {worst:.2g})")
    return f"{row['executor']} {workload}: " + ", ".join(diffs) if diffs else ""


def table(rows: list[dict]) -> str:
    lines = ["| executor | workers | start (s) | 5-fold CV wall, cold (s) | 4x5 grid wall, warm (s) | "
             "mean fold fit (s) | peak RSS per worker process (MB) |",
             "|---|---|---|---|---|---|---|"]
    for row in rows:
        fits = row["cv"]["fit_times"] + row["grid"]["fit_times"]
        rss: dict[int, float] = {}
        for by_pid in (row["cv"]["max_rss_mb_by_pid"], row["grid"]["max_rss_mb_by_pid"]):
            for pid, mb in by_pid.items():
                rss[pid] = max(rss.get(pid, 0.0), mb)
        lines.append(f"| {row['executor']} | {row['workers']} | {row['startup_s']:.1f} | "
                     f"{row['cv']['wall_s']:.1f} | {row['grid']['wall_s']:.1f} | "
                     f"{statistics.mean(fits):.2f} | {', '.join(f'{mb:.0f}' for mb in sorted(rss.values()))} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--quick", action="store_true", help="3 epochs: a smoke test")
    parser.add_argument("--out", help="write the raw numbers to this JSON file")
    args = parser.parse_args()
    epochs = 3 if args.quick else args.epochs

    (x, y), _ = kfold.datasets.load_boston_housing()
    folds = [(t.train, t.val) for t in plan_folds(N_FOLDS, len(x), seed=0)]
    load_before = os.getloadavg()
    executors = [("sequential", "sequential"), ("processes", kfold.Processes(n_jobs=2)), ("dask", kfold.Dask(n_jobs=2))]
    rows = [bench_executor(name, spec, x, y, folds, epochs) for name, spec in executors]
    differences = [difference(row, rows[0], workload) for row in rows[1:] for workload in ("cv", "grid")]
    differences = [d for d in differences if d]
    info = {"epochs": epochs, "cpu_count": os.cpu_count(), "loadavg_before": load_before,
            "loadavg_after": os.getloadavg(), "python": platform.python_version(),
            "numpy": np.__version__}
    info["differences"] = differences
    print(f"epochs={epochs}, cpus={os.cpu_count()}, load average before/after: "
          f"{load_before[0]:.1f}/{info['loadavg_after'][0]:.1f}; histories identical to sequential: "
          f"{'no: ' + '; '.join(differences) if differences else 'yes, bitwise'}\n")
    print(table(rows))
    if args.out:
        for row in rows:
            for workload in ("cv", "grid"):
                row[workload].pop("histories")
        with open(args.out, "w") as file:
            json.dump({"info": info, "rows": rows}, file, indent=1)


if __name__ == "__main__":
    main()
