"""Benchmark: kfold's default (fused) strategy against the reference trainer, whole runs, one process.

Called by ``scripts/bench_speed.py --reference DIR`` (or directly). DIR holds
``fused_reference.py`` (a prototype trainer kept outside the repository); it is
imported from that path with importlib, so nothing here reads outside the
repository unless asked.

Workloads (every run timed start to finish: model build, XLA compile, training,
validation after every epoch; the same data, folds and model for both sides):

* ``boston-b1`` / ``boston-b16``: the book's Boston run, 4 contiguous folds x 500
  epochs, 13-64-64-1 relu, rmsprop, mse, mae, against ``impl="stacked"`` (kfold's
  stacked Dense path, its default for this model; ``--generic`` trains every
  workload on the generic graph instead);
* ``dropout``: 13-64-Dropout(0.3)-64-1, 4 folds x 200 epochs, batch 16, against
  ``impl="submodels"`` (kfold's masked-step graph, XLA);
* ``conv1d``: Reshape -> Conv1D(16, 3) -> Flatten -> Dense(1), same folds, against
  ``impl="submodels"``;
* ``conv2d``: MNIST 5k (shuffled once, 4 contiguous folds of 1250 images), Reshape ->
  Conv2D(8, 3) -> MaxPooling2D -> Flatten -> Dense(10, softmax), categorical
  cross-entropy and accuracy, 10 epochs, batch 64, against ``impl="submodels"`` (given
  accuracy as its metric);
* ``two-input``: a functional model of two inputs (Boston's first 8 and last 5
  columns), a Dense(32) branch each, concatenated, Dense(64), Dense(1); kfold is given
  the two arrays. The reference takes one array, so it trains the same layers behind
  one 13-column input that the model slices into the two (the same work, and two
  slices more), against ``impl="submodels"``.

A run of an architecture trained before in the process reuses its compiled graph
(``kfold.train.fused.recent_graphs``): in the interleaved repetitions,
kfold's first run of each workload compiles, the later ones do not. ``--cold`` turns
that off (``kfold.set_config(reuse_graphs=False)``), so every kfold run compiles, as the reference's do.

Repetitions are interleaved (the order rotates each repetition) so both sides see
the same machine load; the ratio is kfold / reference per repetition, and the
median is reported. Compile time is reported separately: the first graph call
minus the steady cost of the epochs it trained (median of the later calls).

Run from the repository root::

    .venv/bin/python scripts/bench_speed.py --reference ../shared/reference [--repeats 3] [--out ref.json]
    .venv/bin/python scripts/bench_reference.py --reference ../shared/reference --generic  # the generic graph only

It prints Markdown tables for BENCHMARKS.md. It asserts nothing about time.
"""
from __future__ import annotations

import dataclasses
import importlib.util
import os
import statistics
import time
from typing import Any, Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

import kfold  # noqa: E402

__all__ = ["run_reference_benchmark"]


def load_reference(directory: str) -> Any:
    path = os.path.join(directory, "fused_reference.py")
    spec = importlib.util.spec_from_file_location("fused_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def book_model(dropout: bool = False, conv: bool = False) -> Callable[[], Any]:
    def build() -> Any:
        import keras

        if conv:
            layers = [keras.layers.Reshape((13, 1)), keras.layers.Conv1D(16, 3, activation="relu"),
                      keras.layers.Flatten()]
        else:
            layers = [keras.layers.Dense(64, activation="relu"),
                      *([keras.layers.Dropout(0.3)] if dropout else []),
                      keras.layers.Dense(64, activation="relu")]
        model = keras.Sequential([keras.Input((13,)), *layers, keras.layers.Dense(1)])
        model.compile(optimizer="rmsprop", loss="mse", metrics=["mae"])
        return model
    return build


def two_inputs(split: bool) -> Callable[[], Any]:
    """The two-input model; ``split``: behind one 13-column input that it slices (for the reference)."""
    def build() -> Any:
        import keras

        if split:
            whole = keras.Input((13,))
            inputs, (a, b) = whole, (whole[:, :8], whole[:, 8:])
        else:
            a, b = keras.Input((8,)), keras.Input((5,))
            inputs = [a, b]
        merged = keras.layers.Concatenate()([keras.layers.Dense(32, activation="relu")(a),
                                             keras.layers.Dense(32, activation="relu")(b)])
        out = keras.layers.Dense(1)(keras.layers.Dense(64, activation="relu")(merged))
        model = keras.Model(inputs, out)
        model.compile(optimizer="rmsprop", loss="mse", metrics=["mae"])
        return model
    return build


def conv2d() -> Any:
    import keras

    model = keras.Sequential([keras.Input((784,)), keras.layers.Reshape((28, 28, 1)),
                              keras.layers.Conv2D(8, 3, activation="relu"), keras.layers.MaxPooling2D(),
                              keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def contiguous_folds(n: int, k: int = 4) -> list:
    size = n // k
    return [(np.concatenate([np.arange(0, i * size), np.arange((i + 1) * size, n)]),
             np.arange(i * size, (i + 1) * size)) for i in range(k)]


def mnist() -> tuple:
    x, y = kfold.datasets.load_mnist_5k()
    order = np.random.default_rng(0).permutation(len(x))  # the file is sorted by digit
    return (x[order] / 255.0).astype("float32"), np.eye(10, dtype="float32")[y[order]], contiguous_folds(len(x))


def boston() -> tuple:
    (x, y), _ = kfold.datasets.load_boston_housing()
    x = ((x - x.mean(0)) / x.std(0)).astype("float32")
    return x, y.astype("float32"), contiguous_folds(len(x))


class CallTimes:
    """Records the duration and epochs of every fused graph call (both graph kinds)."""

    def __init__(self) -> None:
        from kfold.engines.tensorflow.graph import EpochGraph
        from kfold.engines.tensorflow.stacked import StackedGraph
        from kfold.engines.tensorflow.submodels import SubmodelGraph

        self.calls: list[tuple[int, float]] = []
        for cls in (EpochGraph, StackedGraph, SubmodelGraph):
            original = cls.__call__

            def timed(graph: Any, orders: list, *args: Any, _original: Any = original) -> Any:
                start = time.perf_counter()
                out = _original(graph, orders, *args)
                self.calls.append((len(orders[0]), time.perf_counter() - start))
                return out
            cls.__call__ = timed

    def compile_seconds(self) -> float:
        return compile_estimate(self.calls)


def compile_estimate(calls: list[tuple[int, float]]) -> float:
    """First call minus the steady cost of its epochs (median per-epoch time of the later calls)."""
    if len(calls) < 2:
        return float("nan")
    per_epoch = statistics.median(t / n for n, t in calls[1:])
    return calls[0][1] - calls[0][0] * per_epoch


@dataclasses.dataclass
class Workload:
    """One model on one data set, trained by kfold and by the reference's ``impl``."""

    build: Callable
    epochs: int
    batch: int
    impl: str
    ref_build: Callable | None = None  # the reference's model, if not ``build``'s
    data: Callable = boston
    inputs: Callable | None = None  # kfold's inputs from the data's x, if not x itself
    metric: str = "mae"  # the metric compared at the end (the reference's metric_fn)


def run_kfold(w: Workload, x: Any, y: Any, folds: list, epochs: int, timer: CallTimes) -> dict:
    timer.calls.clear()
    start = time.perf_counter()
    inputs = w.inputs(x) if w.inputs else x
    result = kfold.cross_validate(w.build, inputs, y, cv=folds, epochs=epochs, batch_size=w.batch, seed=0, verbose=0)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "compile": timer.compile_seconds(), "strategy": result.params["strategy"],
            "val_score": float(np.nanmean(np.asarray(result.history["val_" + w.metric])[:, -1]))}


def run_ref(ref: Any, w: Workload, x: Any, y: Any, folds: list, epochs: int) -> dict:
    import keras

    metric_fn = keras.metrics.categorical_accuracy if w.metric == "accuracy" else None  # None: MAE
    start = time.perf_counter()
    trainer = ref.FusedKFold(w.ref_build or w.build, x, y, folds, w.batch, impl=w.impl, metric_fn=metric_fn,
                             epochs_per_call=min(epochs, 100), jit_compile=True, seed=0)
    history = trainer.fit(epochs)
    return {"seconds": time.perf_counter() - start, "compile": compile_estimate(trainer.call_times),
            "val_score": float(history["val_metric"][-1].mean())}


WORKLOADS = {
    "boston-b1": Workload(book_model(), 500, 1, "stacked"),
    "boston-b16": Workload(book_model(), 500, 16, "stacked"),
    "dropout": Workload(book_model(dropout=True), 200, 16, "submodels"),
    "conv1d": Workload(book_model(conv=True), 200, 16, "submodels"),
    "conv2d": Workload(conv2d, 10, 64, "submodels", data=mnist, metric="accuracy"),
    "two-input": Workload(two_inputs(split=False), 200, 16, "submodels", ref_build=two_inputs(split=True),
                          inputs=lambda x: [x[:, :8], x[:, 8:]]),
}


def run_reference_benchmark(directory: str, repeats: int, only: str | None = None, quick: bool = False,
                            cold: bool = False) -> dict:
    """Every workload, ``repeats`` interleaved repetitions of kfold and the reference; the raw numbers.

    ``cold``: no kfold run reuses the graph an earlier run compiled.
    """
    import kfold

    kfold.set_config(reuse_graphs=not cold)
    ref, timer, data = load_reference(directory), CallTimes(), {}
    out: dict = {}
    for name, w in WORKLOADS.items():
        if only and only not in name:
            continue
        if w.data not in data:
            data[w.data] = w.data()
        x, y, folds = data[w.data]
        epochs = min(20, w.epochs) if quick else w.epochs
        runs: dict = {"kfold": [], w.impl: []}
        for rep in range(repeats):
            order = ["kfold", w.impl] if rep % 2 == 0 else [w.impl, "kfold"]
            for who in order:
                done = (run_kfold(w, x, y, folds, epochs, timer) if who == "kfold"
                        else run_ref(ref, w, x, y, folds, epochs))
                runs[who].append(done)
                print(f"{name} rep {rep} {who}: {done['seconds']:.2f} s (compile {done['compile']:.2f} s, "
                      f"final mean val_{w.metric} {done['val_score']:.3f})", flush=True)
        out[name] = {"epochs": epochs, "batch": w.batch, "impl": w.impl, "runs": runs,
                     "load": os.getloadavg(), "cold": cold}
    return out


def reference_table(data: dict) -> str:
    rows = ["| workload | reference | kfold s (each) | reference s (each) | ratio kfold / reference (each) | "
            "median ratio | compile s kfold / reference (median) | kfold strategy |",
            "|---|---|---|---|---|---|---|---|"]
    for name, w in data.items():
        mine, theirs = w["runs"]["kfold"], w["runs"][w["impl"]]
        ratios = [a["seconds"] / b["seconds"] for a, b in zip(mine, theirs)]
        each = lambda runs: ", ".join(f"{r['seconds']:.2f}" for r in runs)  # noqa: E731
        rows.append(f"| {name} ({w['epochs']} epochs, batch {w['batch']}) | impl={w['impl']} | {each(mine)} | "
                    f"{each(theirs)} | {', '.join(f'{r:.2f}' for r in ratios)} | **{statistics.median(ratios):.2f}** | "
                    f"{statistics.median(r['compile'] for r in mine):.2f} / "
                    f"{statistics.median(r['compile'] for r in theirs):.2f} | {mine[0]['strategy']} |")
    return "\n".join(rows)


if __name__ == "__main__":
    import argparse
    import json

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", required=True, help="directory holding fused_reference.py")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out")
    parser.add_argument("--cold", action="store_true",
                        help="every kfold run compiles its graph (no reuse of an earlier run's: reuse_graphs=False)")
    parser.add_argument("--generic", action="store_true",
                        help="only the generic graph: fused_stacked=False, fused_submodels=False (kfold.set_config)")
    args = parser.parse_args()
    if args.generic:
        import kfold

        kfold.set_config(fused_stacked=False, fused_submodels=False)
    found = run_reference_benchmark(args.reference, args.repeats, args.only, args.quick, cold=args.cold)
    print(reference_table(found))
    if args.out:
        with open(args.out, "w", encoding="utf-8") as file:
            json.dump(found, file)
