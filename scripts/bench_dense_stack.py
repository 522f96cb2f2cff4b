"""Benchmark: would a Dense-stack fast path (K-way batched matmuls) beat the generic fused path?

The generic fused path (:mod:`kfold.train.fused.runner`) calls each fold model's own
``train_step`` inside one XLA-compiled epoch: K small models side by side. A
Dense-only model could instead be trained as one model whose weights are stacked
along a fold axis, ``(K, in, out)``, with batched matmuls: K times fewer ops per
step. This script builds that prototype for the book's Boston model (13-64-64-1,
RMSprop on the stacked weights, MSE, MAE, validation after each epoch, whole
epoch in one XLA-compiled ``tf.while_loop``) and times a steady-state epoch of
both, interleaved, at batch sizes 1 and 16.

Run from the repository root::

    .venv/bin/python scripts/bench_dense_stack.py            # 3 repeats, about 3 minutes

It prints a Markdown table for BENCHMARKS.md. It asserts nothing about time.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

import kfold  # noqa: E402
import kfold.train.fused.runner as fused  # noqa: E402
from kfold.train.fold import FitConfig, FoldData  # noqa: E402
from kfold.train.cross_validation import plan_folds  # noqa: E402


def build():
    import keras

    model = keras.Sequential([keras.Input((13,)), keras.layers.Dense(64, activation="relu"),
                              keras.layers.Dense(64, activation="relu"), keras.layers.Dense(1)])
    model.compile(optimizer="rmsprop", loss="mse", metrics=["mae"])
    return model


def generic_epoch_seconds(x, y, batch_size: int, epochs: int) -> float:
    """Median steady-state epoch of kfold's fused path (epoch graph calls after the second)."""
    times = []
    original = fused.EpochGraph.__call__

    def timed(self, *args):
        start = time.perf_counter()
        out = original(self, *args)
        times.append(time.perf_counter() - start)
        return out

    fused.EpochGraph.__call__ = timed
    try:
        config = FitConfig(epochs=epochs, batch_size=batch_size, preprocess=kfold.Standardize())
        fused.run_folds_fused(build, FoldData(x, y), plan_folds(4, len(x), seed=0), config)
    finally:
        fused.EpochGraph.__call__ = original
    return statistics.median(times[2:])


def stacked_epoch_seconds(x, y, batch_size: int, epochs: int) -> float:
    """Median steady-state epoch of the K-way batched-matmul prototype."""
    import keras
    import tensorflow as tf

    tasks = plan_folds(4, len(x), seed=0)
    folds = fused.prepare_folds(build, FoldData(x, y), tasks, FitConfig(epochs=1, preprocess=kfold.Standardize()))
    weights = [tf.Variable(np.stack([f.model.weights[i].numpy() for f in folds])) for i in range(6)]
    optimizer = keras.optimizers.RMSprop()
    optimizer.build(weights)
    x_train, y_train = (tf.stack([f.train[i] for f in folds]) for i in (0, 1))  # equal folds: 303 rows
    x_val, y_val = (tf.stack([f.val[i] for f in folds]) for i in (0, 1))
    n, k = x_train.shape[1], len(folds)
    steps = n // batch_size

    def forward(inputs):
        hidden = tf.nn.relu(tf.matmul(inputs, weights[0]) + weights[1][:, None])
        hidden = tf.nn.relu(tf.matmul(hidden, weights[2]) + weights[3][:, None])
        return (tf.matmul(hidden, weights[4]) + weights[5][:, None])[..., 0]

    @tf.function(jit_compile=True)
    def epoch(order):
        def body(step, loss_sum, mae_sum):
            index = order[:, step * batch_size:(step + 1) * batch_size]
            xb, yb = tf.gather(x_train, index, batch_dims=1), tf.gather(y_train, index, batch_dims=1)
            with tf.GradientTape() as tape:
                error = forward(xb) - yb
                loss = tf.reduce_mean(tf.square(error), axis=1)  # one loss per fold
                total = tf.reduce_sum(loss)  # disjoint weights: each fold gets its own gradient
            optimizer.apply_gradients(zip(tape.gradient(total, weights), weights))
            return step + 1, loss_sum + loss, mae_sum + tf.reduce_mean(tf.abs(error), axis=1)

        _, loss_sum, mae_sum = tf.while_loop(lambda s, *_: s < steps, body, (0, tf.zeros(k), tf.zeros(k)))
        val_error = forward(x_val) - y_val
        return loss_sum / steps, mae_sum / steps, tf.reduce_mean(tf.abs(val_error), axis=1)

    rng, times = np.random.default_rng(0), []
    for _ in range(epochs):
        order = tf.constant(np.stack([rng.permutation(n) for _ in range(k)]), tf.int32)
        start = time.perf_counter()
        [value.numpy() for value in epoch(order)]
        times.append(time.perf_counter() - start)
    return statistics.median(times[2:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    (x, y), _ = kfold.datasets.load_boston_housing()
    rows = []
    for batch_size, epochs in [(1, 12), (16, 40)]:
        generic, stacked = [], []
        for rep in range(args.repeats):  # interleaved: A, B then B, A
            pair = [(generic, generic_epoch_seconds), (stacked, stacked_epoch_seconds)]
            for out, fn in pair if rep % 2 == 0 else pair[::-1]:
                out.append(fn(x, y, batch_size, epochs))
        g, s = statistics.median(generic), statistics.median(stacked)
        rows.append(f"| {batch_size} | {g * 1e3:.1f} | {s * 1e3:.1f} | {s / g:.1f} |")
        print(rows[-1], flush=True)
    print(f"\nBoston, 4 folds, steady-state epoch (ms, median of {args.repeats}; load {os.getloadavg()}):\n")
    print("| batch size | generic fused (K models, one XLA graph) | Dense-stack prototype (K-way batched "
          "matmuls, XLA) | prototype / generic |\n|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
