"""Memory of a fused search: does resident memory grow without bound over 20 candidates?

Runs ``kfold.grid_search`` (default strategy: each candidate's folds trained
fused, XLA-compiled) over 20 candidates whose hidden widths differ (every
candidate a new architecture, so a new compiled graph), 3 folds x 5 epochs on
the 404 Boston training samples, two model kinds: a Dense stack (the stacked
fast path) and a Dropout model (the masked-step graph); ``--kinds conv2d`` adds a
Conv2D model on 600 MNIST digits (filters 2..21: the masked-step graph, without XLA
on a CPU). A callback-free probe reads
the resident memory (RSS, ``/proc/self/statm``) after every candidate (the
search's ``on_candidate`` is not public, so the build function of the next
candidate records it). Prints RSS after candidates 1, 5, 10, 15, 20 and the
slope over the second half (MB per candidate).

    .venv/bin/python scripts/bench_fused_search_memory.py [--candidates 20] [--folds 3] [--epochs 5] [--out mem.json]

``--max-tasks-per-worker K`` trains the candidates in two worker processes
(``executor=kfold.Processes(n_jobs=2)``), each replaced after about K candidates, and prints
the peak RSS of each worker (a thread reads ``/proc`` four times a second).

``--tensorflow-only`` measures TensorFlow alone, no kfold: 30 small ``tf.function``
of distinct shapes, each called once, deleted and garbage collected, with and
without ``jit_compile`` (in two fresh processes); it prints the memory kept per function.
"""
from __future__ import annotations

import argparse
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

import kfold  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as file:
        return int(file.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1024**2


def builder(samples: list, dropout: bool, conv: bool = False):
    def build(units: int = 8):
        import keras

        samples.append((units, rss_mb()))  # memory before this build: after the previous candidate
        if conv:
            model = keras.Sequential([keras.Input((784,)), keras.layers.Reshape((28, 28, 1)),
                                      keras.layers.Conv2D(units // 4, 3, activation="relu"),
                                      keras.layers.MaxPooling2D(), keras.layers.Flatten(),
                                      keras.layers.Dense(10, activation="softmax")])
            model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
            return model
        layers = [keras.layers.Dense(units, activation="relu"),
                  *([keras.layers.Dropout(0.2)] if dropout else []), keras.layers.Dense(units, activation="relu")]
        model = keras.Sequential([keras.Input((13,)), *layers, keras.layers.Dense(1)])
        model.compile(optimizer="rmsprop", loss="mse", metrics=["mae"])
        return model
    return build


def _children_rss() -> dict[int, float]:
    """RSS in MB of every process below this one (loky's workers), by pid."""
    parents, rss = {}, {}
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii") as file:
                fields = file.read().rsplit(")", 1)[1].split()
            parents[int(entry)], rss[int(entry)] = int(fields[1]), int(fields[21]) * os.sysconf("SC_PAGE_SIZE") / 1024**2
        except (OSError, ValueError, IndexError):  # not a process, or it ended meanwhile
            continue
    below, todo = {}, [os.getpid()]
    while todo:
        pid = todo.pop()
        for child, parent in parents.items():
            if parent == pid and child not in below:
                below[child] = rss[child]
                todo.append(child)
    return below


class WorkerPeaks:
    """A thread that keeps the highest RSS of every worker process while the search runs."""

    def __init__(self, every: float = 0.25) -> None:
        import threading

        self.peaks: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, args=(every,), daemon=True)

    def _watch(self, every: float) -> None:
        while not self._stop.wait(every):
            for pid, mb in _children_rss().items():
                if pid not in self._before:  # not a worker an earlier search left idle
                    self.peaks[pid] = max(mb, self.peaks.get(pid, 0.0))

    def __enter__(self) -> "WorkerPeaks":
        self._before = set(_children_rss())
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run(kind: str, candidates: int, folds: int = 3, epochs: int = 5, workers_k: int | None = None) -> dict:
    if kind == "conv2d":
        x, labels = kfold.datasets.load_mnist_5k()
        rows = np.random.default_rng(0).permutation(len(x))[:600]  # the file is sorted by digit
        x, y, preprocess = x[rows] / 255.0, np.eye(10)[labels[rows]], None
    else:
        (x, y), _ = kfold.datasets.load_boston_housing()
        preprocess = kfold.Standardize()
    samples: list = []
    grid = {"units": list(range(8, 8 + 4 * candidates, 4))}
    build = builder(samples, kind == "dropout", kind == "conv2d")
    if workers_k is not None:  # two worker processes, each replaced after about workers_k candidates
        with WorkerPeaks() as watch:
            kfold.grid_search(build, grid, x, y, cv=folds, epochs=epochs, batch_size=16, seed=0, verbose=0,
                              refit=False, preprocess=preprocess,
                              executor=kfold.Processes(n_jobs=2, max_tasks_per_worker=workers_k))
        peaks = [mb for mb in watch.peaks.values() if mb > 300]  # the workers (TensorFlow loaded), in start order
        return {"kind": kind, "workers_k": workers_k, "worker_peaks": peaks, "main_rss": rss_mb()}
    result = kfold.grid_search(build, grid, x, y, cv=folds, epochs=epochs, batch_size=16,
                               seed=0, verbose=0, refit=False, preprocess=preprocess)
    first = {}
    for units, rss in samples:  # the first build of each candidate: memory after the candidate before
        first.setdefault(units, rss)
    after = [first[u] for u in grid["units"][1:] if u in first] + [rss_mb()]
    half = after[len(after) // 2:]
    slope = float(np.polyfit(np.arange(len(half)), half, 1)[0])
    return {"kind": kind, "rss_after_each": after, "slope_mb_per_candidate": slope,
            "strategy": result.params.get("strategy", "?") if hasattr(result, "params") else "?"}


def tensorflow_only(jit: bool, functions: int = 30) -> float:
    """MB of resident memory kept per deleted ``tf.function`` (the second half of ``functions`` of them)."""
    import gc

    import tensorflow as tf

    after = []
    for n in range(8, 8 + 4 * functions, 4):
        weights = tf.Variable(tf.random.normal([n, n]))

        @tf.function(jit_compile=jit)
        def f(x, w=weights):
            h = x
            for _ in range(20):
                h = tf.nn.relu(tf.matmul(h, w)) + tf.reduce_mean(h)
            return tf.reduce_sum(h)
        f(tf.ones([16, n]))
        del f, weights
        gc.collect()
        after.append(rss_mb())
    half = functions // 2
    return (after[-1] - after[half - 1]) / (functions - half)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=20)
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--out")
    parser.add_argument("--kinds", default="dense-stack,dropout", help="comma-separated: dense-stack, dropout, conv2d")
    parser.add_argument("--tensorflow-only", action="store_true")
    parser.add_argument("--max-tasks-per-worker", type=int,
                        help="train the candidates in two worker processes replaced after about this many each; print each worker's peak RSS")
    parser.add_argument("--jit", choices=["on", "off"], help=argparse.SUPPRESS)  # one process of --tensorflow-only
    args = parser.parse_args()
    if args.jit:
        print(f"{tensorflow_only(args.jit == 'on'):.2f}")
        return
    if args.tensorflow_only:
        import subprocess
        import sys

        for jit in ("on", "off"):
            done = subprocess.run([sys.executable, __file__, "--jit", jit], capture_output=True, text=True, check=True)
            print(f"jit_compile={jit == 'on'}: {done.stdout.strip().splitlines()[-1]} MB kept per deleted tf.function")
        return
    if args.max_tasks_per_worker:
        rows = [run(kind, args.candidates, args.folds, args.epochs, args.max_tasks_per_worker)
                for kind in args.kinds.split(",")]
        print(f"| model | peak RSS MB of each worker ({args.max_tasks_per_worker} candidates each) | this process after |")
        print("|---|---|---|")
        for row in rows:
            print(f"| {row['kind']} | {' / '.join(f'{mb:.0f}' for mb in row['worker_peaks'])} | {row['main_rss']:.0f} |")
        if args.out:
            with open(args.out, "w", encoding="utf-8") as file:
                json.dump(rows, file)
        return
    rows = [run(kind, args.candidates, args.folds, args.epochs) for kind in args.kinds.split(",")]
    print("| model | RSS MB after candidate 1 / 5 / 10 / 15 / 20 | slope over the second half (MB / candidate) |")
    print("|---|---|---|")
    for row in rows:
        rss = row["rss_after_each"]
        picks = " / ".join(f"{rss[i - 1]:.0f}" for i in (1, 5, 10, 15, 20) if i <= len(rss))
        print(f"| {row['kind']} | {picks} | {row['slope_mb_per_candidate']:.1f} |")
    if args.out:
        with open(args.out, "w", encoding="utf-8") as file:
            json.dump(rows, file)


if __name__ == "__main__":
    main()
