# ---
# jupyter:
#   execution:
#     timeout: 600
#   jupytext:
#     cell_metadata_filter: tags,nbmake,-all
#     formats: ipynb,py:percent
#     notebook_metadata_filter: execution
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Folds in parallel worker processes, from a notebook
#
# "Whenever I chose `n_jobs=2` or more, the Jupyter Notebook just froze
# forever": a pool that *forks* the notebook's kernel copies TensorFlow's
# threads and locks in a state they cannot get out of, once TensorFlow has
# run. kfold's `"processes"` executor starts fresh worker processes instead
# (joblib's loky), sends them the data once, and limits TensorFlow in each
# worker to its share of the cores.
#
# This notebook first trains a model in the kernel itself (the situation that
# used to freeze), then runs the folds in 2 worker processes, checks that they
# give exactly the histories of the same run in the kernel with the same seed,
# and shows what happens with a custom layer defined in the notebook.

# %% [markdown]
# ## Parameters
#
# (The CI test runs this notebook with fewer epochs: see the `nbmake` mock in
# this cell's metadata. The notebook's own timeout is in its metadata,
# `execution.timeout`.)

# %% tags=["parameters"] nbmake={"mock": {"EPOCHS": 3}}
K = 4           # folds
EPOCHS = 40     # epochs per fold
BATCH_SIZE = 16
N_JOBS = 2      # worker processes
SEED = 0

# %%
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's log lines out of the outputs

import time

import keras
import numpy as np
from keras import layers

import kfold

(x_train, y_train), _ = kfold.datasets.load_boston_housing()


def build_model():
    model = keras.Sequential([
        keras.Input(shape=(x_train.shape[1],)),
        layers.Dense(64, activation="relu"),
        layers.Dense(64, activation="relu"),
        layers.Dense(1),
    ])
    model.compile(optimizer="rmsprop", loss="mse", metrics=["mae"])
    return model


# %% [markdown]
# ## 1. TensorFlow runs in this kernel first
#
# A plain `model.fit` here starts TensorFlow's thread pools in the kernel. A
# fork-based pool started after this point is what hung.

# %%
warm = build_model()
warm.fit(x_train[:64], y_train[:64], epochs=1, verbose=0)
print("trained in the kernel, process", os.getpid())


# %% [markdown]
# ## 2. The folds in worker processes
#
# `executor=kfold.Processes(n_jobs=N_JOBS)` with `strategy="sequential"` runs each fold as one
# `model.fit` task in `N_JOBS` fresh worker processes. Before any training,
# kfold checks that the build function and the preprocessing can reach the
# workers; then the folds come back as they finish (the progress lines may
# come out of order) and the result is in fold order.
#
# (With the default strategy, a run's folds train together in one compiled
# graph, as one task: one `cross_validate` then keeps one worker busy, and a
# search keeps all of them busy, one candidate per worker. Section 3 shows it.)

# %%
start = time.perf_counter()
parallel = kfold.cross_validate(build_model, x_train, y_train, cv=K, epochs=EPOCHS, batch_size=BATCH_SIZE,
                                preprocess=kfold.Standardize(), seed=SEED,
                                executor=kfold.Processes(n_jobs=N_JOBS), strategy="sequential")
parallel_time = time.perf_counter() - start
print(f"{N_JOBS} worker processes: {parallel_time:.1f} s (workers start and import TensorFlow once)")
print(parallel.params["strategy_reason"])
print(parallel.history["val_mae"].shape)

# %% [markdown]
# ## 3. The same histories as the sequential run
#
# Each fold's seed comes from `SEED` and the fold number, never from which
# worker ran it or when, so running the same folds one `model.fit` after
# another in the kernel (`strategy="sequential"`) gives the same numbers, to
# the last bit.

# %%
start = time.perf_counter()
sequential = kfold.cross_validate(build_model, x_train, y_train, cv=K, epochs=EPOCHS, batch_size=BATCH_SIZE,
                                  preprocess=kfold.Standardize(), seed=SEED, strategy="sequential")
print(f"sequential, in the kernel: {time.perf_counter() - start:.1f} s")
assert parallel.history == sequential.history
assert all(np.array_equal(parallel.scores[k], sequential.scores[k]) for k in sequential.scores)
print("identical histories and scores")

# %% [markdown]
# For a model this small, the default in the kernel, `strategy="auto"`, is
# faster still: it trains all folds together in one compiled graph (the same
# curves as the sequential run up to float rounding). Worker processes pay off
# when one fold keeps a core busy (bigger models, bigger data), for many
# candidates, and on a Dask cluster (`executor="dask"`).

# %%
start = time.perf_counter()
fused = kfold.cross_validate(build_model, x_train, y_train, cv=K, epochs=EPOCHS, batch_size=BATCH_SIZE,
                             preprocess=kfold.Standardize(), seed=SEED, verbose=0)
print(f'strategy="{fused.params["strategy"]}" in the kernel: {time.perf_counter() - start:.1f} s; '
      f"largest difference from the sequential curves: "
      f"{np.nanmax(np.abs(fused.history['val_mae'] - sequential.history['val_mae'])):.2g}")

# %% [markdown]
# The fused run, sent to a worker as one task, gives the kernel's fused
# numbers to the last bit: the same seed gives the same histories on every
# executor, for each strategy.

# %%
fused_on_worker = kfold.cross_validate(build_model, x_train, y_train, cv=K, epochs=EPOCHS, batch_size=BATCH_SIZE,
                                       preprocess=kfold.Standardize(), seed=SEED, verbose=0,
                                       executor=kfold.Processes(n_jobs=N_JOBS))
assert fused_on_worker.history == fused.history
print("fused on a worker = fused in the kernel")


# %% [markdown]
# ## 4. A custom layer defined in the notebook
#
# A build function and the layers it uses travel to the workers by value, so a
# layer defined right here trains there. Only the trained *models* cannot come
# back (`return_models=True`): Keras loads a model again only if its custom
# layers are registered and importable, and a class defined in a notebook is
# neither in the worker. kfold says so before any work starts.

# %%
class Doubling(layers.Layer):
    def call(self, inputs):
        return inputs * 2.0


def build_custom_model():
    model = keras.Sequential([keras.Input(shape=(x_train.shape[1],)), Doubling(), layers.Dense(1)])
    model.compile(optimizer="rmsprop", loss="mse", metrics=["mae"])
    return model


custom = kfold.cross_validate(build_custom_model, x_train, y_train, cv=2, epochs=1, batch_size=BATCH_SIZE,
                              preprocess=kfold.Standardize(), seed=SEED, verbose=0,
                              executor=kfold.Processes(n_jobs=N_JOBS))
print("held-out MAE per fold:", custom.scores["val_mae"].round(2))

try:
    kfold.cross_validate(build_custom_model, x_train, y_train, cv=2, epochs=1, seed=SEED,
                         executor=kfold.Processes(n_jobs=N_JOBS), return_models=True)
except ValueError as error:
    print(error)
