"""Memory and time per fold over many folds: in this process, and in recycled worker processes.

Runs 50 folds of a small model (``ShuffleSplit(50, test_size=0.25)`` on the
404 Boston training samples, 13-32-32-1, 5 epochs, batch 16) through
``kfold.cross_validate(..., strategy="sequential")``, one run per setting:

* ``inprocess``: ``executor="sequential"``, every fold in this process (a
  ``clear_session`` and garbage collection before each);
* ``processes-K``: ``make_executor(kfold.Processes(n_jobs=2, max_tasks_per_worker=K))``
  (K = 1, 5, 10 by default), the workers replaced by fresh processes after
  about K folds each;
  ``processes-none`` keeps its two workers for all the folds.

A callback records, at the end of every epoch, the resident memory (RSS, from
``/proc/self/statm``) and process id of the process that trains the fold, and
the time, into the fold's logs: they come back in ``result.history``. For the
worker runs, a thread samples this (main) process's RSS too. Prints, for each
setting, the RSS after folds 1, 10, 20, 30, 40, 50, the RSS slope over the
second half of the folds (linear fit, folds in the order they ended), time per
fold, and the wall time of the run against the in-process run's.

    .venv/bin/python scripts/bench_memory.py                        # 50 folds, K = none, 1, 5, 10
    .venv/bin/python scripts/bench_memory.py --folds 8 --k 1        # a quick check
    .venv/bin/python scripts/bench_memory.py --out bench_memory.json  # also save every number
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import threading
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

import kfold  # noqa: E402
from kfold.executors.factory import make_executor  # noqa: E402

SHOWN = (1, 10, 20, 30, 40, 50)  # the folds shown in the tables


def rss_mib() -> float:
    """Resident memory of this process in MiB, from /proc (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class Probe(keras.callbacks.Callback):
    """Adds the training process's RSS, pid and the time (since ``t0``) to each epoch's logs.

    kfold keeps every key of the logs, so these come back in ``result.history``
    from whichever process trained the fold (the callback travels by value).
    """

    def __init__(self, t0: float) -> None:
        super().__init__()
        self.t0 = t0

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs.update(rss_mib=rss_mib(), pid=float(os.getpid()), t_end=time.time() - self.t0)


class MainSampler:
    """Samples this process's RSS every ``every`` seconds while the run lasts."""

    def __init__(self, every: float = 0.5) -> None:
        self.every, self.samples, self._stop = every, [], threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.samples.append(rss_mib())
            self._stop.wait(self.every)

    def __enter__(self) -> "MainSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append(rss_mib())


def build_model():
    model = keras.Sequential([keras.Input((13,)), keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(32, activation="relu"), keras.layers.Dense(1)])
    model.compile(optimizer="rmsprop", loss="mse", metrics=["mae"])
    return model


def run_setting(name: str, x, y, folds: int, epochs: int) -> dict:
    """One cross-validation run; per fold (in the order the folds ended): RSS, pid, times."""
    if name == "inprocess":
        executor, strategy = "sequential", "sequential"
    else:
        k = name.split("-", 1)[1]
        executor = make_executor(kfold.Processes(n_jobs=2, max_tasks_per_worker=None if k == "none" else int(k)))
        strategy = "sequential"
    cv = kfold.ShuffleSplit(folds, test_size=0.25, random_state=0)
    t0, load_before = time.time(), os.getloadavg()[0]
    main_before = rss_mib()
    with MainSampler() as sampler:
        result = kfold.cross_validate(build_model, x, y, cv=cv, epochs=epochs, batch_size=16,
                                      preprocess=kfold.Standardize(), callbacks=[Probe(t0)], seed=0,
                                      verbose=0, strategy=strategy, executor=executor)
    wall = time.time() - t0
    last = {key: result.history[key][:, -1] for key in ("rss_mib", "pid", "t_end")}
    order = np.argsort(last["t_end"])  # the order in which the folds ended
    ends = last["t_end"][order]
    return {
        "name": name, "wall_s": wall, "load": (load_before, os.getloadavg()[0]),
        "rss_mib": last["rss_mib"][order].tolist(), "pid": last["pid"][order].astype(int).tolist(),
        "fold": order.tolist(), "t_end": ends.tolist(), "since_previous_s": np.diff(ends, prepend=0.0).tolist(),
        "fit_s": np.asarray(result.fit_times)[order].tolist(),
        "main_rss": {"before": main_before, "peak": max(sampler.samples), "after": sampler.samples[-1]},
        "val_mae": result.scores["mae"].tolist(),
    }


def slope(values: list[float]) -> float:
    """MiB per fold: a linear fit over the second half of the folds."""
    values = np.asarray(values)
    half = len(values) // 2
    return float(np.polyfit(np.arange(half, len(values)), values[half:], 1)[0])


def per_worker(run: dict) -> dict[int, list[float]]:
    """Each worker's RSS after each of its folds, in order."""
    workers: dict[int, list[float]] = {}
    for pid, rss in zip(run["pid"], run["rss_mib"]):
        workers.setdefault(pid, []).append(rss)
    return workers


def report(runs: list[dict]) -> None:
    n = len(runs[0]["rss_mib"])
    shown = [f for f in SHOWN if f <= n] or [n]
    print("\nRSS of the process that trained the fold, after the fold (MiB), folds in the order they ended")
    print("| fold | " + " | ".join(run["name"] for run in runs) + " |")
    print("|---:|" + "---:|" * len(runs))
    for fold in shown:
        print(f"| {fold} | " + " | ".join(f"{run['rss_mib'][fold - 1]:.0f}" for run in runs) + " |")
    print("| slope, 2nd half (MiB/fold) | " + " | ".join(f"{slope(run['rss_mib']):+.2f}" for run in runs) + " |")
    print("| max RSS, folds 1-10 / last 10 | " + " | ".join(
        f"{max(run['rss_mib'][:10]):.0f} / {max(run['rss_mib'][-10:]):.0f}" for run in runs) + " |")
    print("\nTime per fold (s): fit time inside the process that trained it")
    print("| fold | " + " | ".join(run["name"] for run in runs) + " |")
    print("|---:|" + "---:|" * len(runs))
    for fold in shown:
        print(f"| {fold} | " + " | ".join(f"{run['fit_s'][fold - 1]:.2f}" for run in runs) + " |")
    print("| mean, folds 2-11 / last 10 | " + " | ".join(
        f"{np.mean(run['fit_s'][1:11]):.2f} / {np.mean(run['fit_s'][-10:]):.2f}" for run in runs) + " |")
    base = runs[0]["wall_s"]
    print("\n| setting | worker processes | wall (s) | wall / in-process | wall per fold (s) | "
          "main RSS before / peak / after (MiB) | load average before / after |")
    print("|---|---:|---:|---:|---:|---|---:|")
    for run in runs:
        main = run["main_rss"]
        print(f"| {run['name']} | {len(per_worker(run))} | {run['wall_s']:.0f} | {run['wall_s'] / base:.2f} | "
              f"{run['wall_s'] / n:.2f} | {main['before']:.0f} / {main['peak']:.0f} / {main['after']:.0f} | "
              f"{run['load'][0]:.1f} / {run['load'][1]:.1f} |")
    for run in runs[1:]:
        workers = per_worker(run)
        lengths = sorted(len(v) for v in workers.values())
        growth = [v[-1] - v[0] for v in workers.values() if len(v) > 1]
        print(f"{run['name']}: {len(workers)} worker processes ran {min(lengths)}-{max(lengths)} folds each; "
              f"RSS after a worker's first fold {np.median([v[0] for v in workers.values()]):.0f} MiB (median), "
              f"growth from its first to its last fold "
              + (f"{np.median(growth):+.1f} MiB (median), {max(growth):+.1f} max" if growth else "n/a"))
    same = all(np.allclose(run["val_mae"], runs[0]["val_mae"], rtol=0, atol=0) for run in runs)
    print(f"\nSame fold scores in every setting: {same}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=50)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--k", default="none,1,5,10",
                        help="max_tasks_per_worker values for the worker runs ('none': no recycling)")
    parser.add_argument("--out", help="save every number to this JSON file")
    args = parser.parse_args()
    (x, y), _ = kfold.datasets.load_boston_housing()
    print(f"Python {platform.python_version()}, Keras {keras.__version__} ({keras.backend.backend()}), "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the start")
    names = ["inprocess"] + [f"processes-{k.strip()}" for k in args.k.split(",") if k.strip()]
    runs = []
    for name in names:
        runs.append(run_setting(name, x, y, args.folds, args.epochs))
        print(f"{name}: {runs[-1]['wall_s']:.0f} s, load average {runs[-1]['load'][1]:.1f}", flush=True)
    report(runs)
    if args.out:
        with open(args.out, "w") as file:
            json.dump(runs, file, indent=1)


if __name__ == "__main__":
    main()
