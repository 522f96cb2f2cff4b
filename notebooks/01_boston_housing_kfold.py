# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,nbmake,-all
#     formats: ipynb,py:percent
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
# # Boston housing: K-fold validation, by hand and with `kfold`
#
# This notebook reproduces listings 3.24–3.32 of *Deep Learning with Python*
# (François Chollet, chapter 3): a small dense network predicts house prices of
# the Boston housing data; 4-fold validation records each fold's validation MAE
# at every epoch; the per-fold curves are averaged epoch by epoch, the first 10
# epochs are dropped, the rest is smoothed, the epoch where the smoothed curve is
# lowest is selected, and a final model trained on all the training data for
# that many epochs is scored on the test set. We first write the book's loop by
# hand, then do the same with `kfold` in a few lines. `kfold` fixes two things.
# The book normalizes the features with the mean and standard deviation of all
# 404 training samples *before* splitting them into folds, so every validation
# fold has already been seen by the normalization (a leak); here the statistics
# come from each fold's training part only. And the book shows only the mean
# curve; here every fold's curve and the spread across folds are shown too, so
# you can see how much of the curve is noise.

# %% [markdown]
# ## Parameters
#
# The book trains each fold for 500 epochs; 200 are enough to see the
# validation curve flatten out, and keep this notebook to a few minutes on a CPU.
# (The CI test runs it with fewer epochs: see the `nbmake` mock in this cell's
# metadata.)

# %% nbmake={"mock": {"K": 2, "NUM_EPOCHS": 15}} tags=["parameters"]
K = 4             # number of folds
NUM_EPOCHS = 200  # epochs per fold (the book uses 500)
BATCH_SIZE = 16
SKIP = 10         # epochs dropped before smoothing: the first ones are on another scale
SMOOTH = 0.9      # factor of the book's exponential moving average
SEED = 0

# %%
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # fewer TensorFlow log lines

import keras
import matplotlib.pyplot as plt
import numpy as np
from keras import layers

import kfold

# %% [markdown]
# ## The data (listing 3.24)
#
# 404 training and 102 test samples, 13 features each; the targets are median
# prices in thousands of dollars. `kfold.datasets.load_boston_housing()` returns
# exactly what `keras.datasets.boston_housing.load_data()` returns, without a
# download.

# %%
(x_train, y_train), (x_test, y_test) = kfold.datasets.load_boston_housing()
print(x_train.shape, x_test.shape)
print(y_train[0])  # $15,200

# %% [markdown]
# The folds: `KFold(4)` cuts the 404 samples into 4 contiguous blocks of 101,
# in order, as the book's slicing does. Each fold validates on one block and
# trains on the other three.

# %%
fig, ax = plt.subplots(figsize=(8, 2.5))
kfold.plot_folds(kfold.KFold(K), x_train, ax=ax)
plt.show()


# %% [markdown]
# ## 1. The book's loop, by hand (listings 3.26–3.29)
#
# The model is the book's. The loop is listing 3.27/3.28 with one change: the
# normalization (listing 3.25) moves *inside* the loop and uses the training
# part of the fold only.

# %%
def build_model():
    model = keras.Sequential([
        keras.Input(shape=(x_train.shape[1],)),
        layers.Dense(64, activation="relu"),
        layers.Dense(64, activation="relu"),
        layers.Dense(1),
    ])
    model.compile(optimizer="rmsprop", loss="mse", metrics=["mae"])
    return model


# %%
# No keras.utils.set_random_seed() here: once Keras is seeded, fit(shuffle=True)
# feeds the samples in the same order at every epoch (Keras 3, TensorFlow
# backend), unlike the book's loop. kfold seeds each fold and still draws a new
# order every epoch.
num_val_samples = len(x_train) // K
all_mae_histories = []
val_blocks = []  # kept only to compare these folds with kfold's below
for i in range(K):
    print(f"processing fold #{i}")
    start, stop = i * num_val_samples, (i + 1) * num_val_samples
    val_data = x_train[start:stop]
    val_targets = y_train[start:stop]
    partial_train_data = np.concatenate([x_train[:start], x_train[stop:]], axis=0)
    partial_train_targets = np.concatenate([y_train[:start], y_train[stop:]], axis=0)
    # Normalize with the mean and std of this fold's *training* part. The book
    # computes them on all 404 samples before the loop, so the validation
    # samples would help normalize themselves.
    mean = partial_train_data.mean(axis=0)
    std = partial_train_data.std(axis=0)
    partial_train_data = (partial_train_data - mean) / std
    val_data = (val_data - mean) / std
    model = build_model()
    history = model.fit(partial_train_data, partial_train_targets,
                        validation_data=(val_data, val_targets),
                        epochs=NUM_EPOCHS, batch_size=BATCH_SIZE, verbose=0)
    all_mae_histories.append(history.history["val_mae"])
    val_blocks.append(np.arange(start, stop))

# %% [markdown]
# These are exactly `kfold.KFold(K)`'s folds. (404 = 4 × 101; with a K that does
# not divide 404, the book's slices would never validate on the last
# `404 % K` samples, while `KFold` gives them to the first folds.)

# %%
kfold_val_blocks = [val for _, val in kfold.KFold(K).split(x_train)]
assert all(np.array_equal(mine, theirs) for mine, theirs in zip(val_blocks, kfold_val_blocks))
print("validation blocks:", [f"{val[0]}-{val[-1]}" for val in kfold_val_blocks])

# %% [markdown]
# The book averages the folds epoch by epoch (listing 3.29), drops the first
# 10 epochs and smooths the rest (listing 3.31), then reads the best epoch off
# the plot. Here we take the minimum of the smoothed curve.

# %%
average_mae_history = [np.mean([x[i] for x in all_mae_histories]) for i in range(NUM_EPOCHS)]


def smooth_curve(points, factor=0.9):
    smoothed_points = []
    for point in points:
        if smoothed_points:
            previous = smoothed_points[-1]
            smoothed_points.append(previous * factor + point * (1 - factor))
        else:
            smoothed_points.append(point)
    return smoothed_points


smoothed_mae_history = smooth_curve(average_mae_history[SKIP:], SMOOTH)
by_hand_epoch = SKIP + int(np.argmin(smoothed_mae_history)) + 1  # back to 1-based epochs
print(f"by hand: lowest smoothed mean val MAE {min(smoothed_mae_history):.3f} at epoch {by_hand_epoch}")

# kfold.smooth_curve is the book's smooth_curve, to the last bit:
assert np.array_equal(kfold.smooth_curve(average_mae_history[SKIP:], SMOOTH), smoothed_mae_history)

# %% [markdown]
# ## 2. The same with `kfold`
#
# One call trains a fresh model per fold, fits `Standardize` on each fold's
# training part only, and keeps every metric of every epoch of every fold.

# %%
result = kfold.cross_validate(
    build_model, x_train, y_train,
    cv=K,                            # kfold.KFold(K): the folds above
    epochs=NUM_EPOCHS, batch_size=BATCH_SIZE,
    preprocess=kfold.Standardize(),  # fitted on each fold's training part only
    seed=SEED, verbose=0,
)
print(result.history["val_mae"].shape)  # (folds, epochs)
result.summary("val_mae", skip=SKIP, smooth=SMOOTH)  # selected on the book's key

# %% [markdown]
# Same folds, same model, same normalization, a new sample order every epoch:
# the two runs differ only in their random draws (initial weights and sample
# orders; `kfold` derives them from `SEED`, the loop above from Keras' unseeded
# generators), not in method. Run either again with other random draws (for
# `kfold`, another `SEED`) and its numbers move by about as much as they differ
# here.

# %%
assert all(np.array_equal(val, mine) for (_, val), mine in zip(result.folds, val_blocks))
by_hand_mean = kfold.mean_curve(np.array(all_mae_histories))
kfold_mean = kfold.mean_curve(result, "val_mae")
print(f"mean val MAE at the last epoch:      by hand {by_hand_mean[-1]:.3f}   kfold {kfold_mean[-1]:.3f}")
kfold_best = result.best_epoch("val_mae", skip=SKIP, smooth=SMOOTH)
print(f"lowest smoothed mean val MAE (epoch): by hand {min(smoothed_mae_history):.3f} ({by_hand_epoch})"
      f"   kfold {kfold_best.value:.3f} ({kfold_best.epoch})")

epochs = np.arange(1, NUM_EPOCHS + 1)
fig, ax = plt.subplots()
ax.plot(epochs[SKIP:], kfold.smooth_curve(by_hand_mean[SKIP:], SMOOTH), label="by hand")
ax.plot(epochs[SKIP:], kfold.smooth_curve(kfold_mean[SKIP:], SMOOTH), label="kfold")
ax.set(xlabel="Epoch", ylabel="Validation MAE (smoothed mean of the folds)",
       title=f"By hand vs kfold (first {SKIP} epochs dropped)")
ax.legend()
plt.show()

# %% [markdown]
# ## 3. The book's figures, with every fold
#
# Mean validation MAE per epoch (the book's figure for listing 3.30). The thin
# lines are the folds, the band is ± 1 standard deviation across folds. The
# first epochs are on a much larger scale than the rest, which squashes the
# interesting part (the mark here is simply the lowest point of the raw mean).

# %%
kfold.plot_history(result, "val_mae", band="std", show_folds=True)
plt.show()

# %% [markdown]
# Without the first `SKIP` epochs, and smoothed (listing 3.31). The dashed line
# marks the selected epoch, where the smoothed mean is lowest. The per-fold
# lines are not smoothed, but the band is: it is ± 1 standard deviation of the
# smoothed fold curves, so the smoothed mean sits in its middle. The folds
# differ far more from one another than the mean moves after the first few
# dozen epochs.

# %%
kfold.plot_history(result, "val_mae", skip=SKIP, smooth=SMOOTH, band="std", show_folds=True)
plt.show()

# %% [markdown]
# Training vs validation MAE: the training error keeps falling while the
# validation error stops improving after about 100 epochs. The widening gap is
# overfitting: more epochs fit the training part better, not new data.

# %%
kfold.plot_history(result, "val_mae", skip=SKIP, smooth=SMOOTH, training=True)
plt.show()

# %% [markdown]
# ## 4. Selecting the epoch
#
# `best_epoch` does what the book does by eye: mean across folds, drop the
# first `SKIP` epochs, smooth, take the lowest point. Epochs are counted on the
# original curve, 1-based. Past about 100 epochs the smoothed curve is nearly
# flat, so where exactly its minimum falls depends on the random draws: another
# `SEED` can move it by a few dozen epochs.

# %%
selection = result.best_epoch("val_mae", skip=SKIP, smooth=SMOOTH)
print(selection)

# %% [markdown]
# The one-standard-error rule picks the earliest epoch whose smoothed mean is
# within one standard error (across the folds) of the best one: a shorter
# training that the folds cannot tell apart from the best.

# %%
print(result.best_epoch("val_mae", skip=SKIP, smooth=SMOOTH, rule="one_se"))

# %% [markdown]
# ## 5. The final model (listing 3.32)
#
# Train a fresh model on all 404 training samples for the selected number of
# epochs (the book uses 80), with `Standardize` fitted on those 404 samples, then
# score it on the test set. `final.evaluate` applies the same normalization to
# the test data.

# %%
final = kfold.fit_final(build_model, x_train, y_train, epochs=selection.epoch,
                        batch_size=BATCH_SIZE, preprocess=kfold.Standardize(), seed=SEED)
test_scores = final.evaluate(x_test, y_test)
print(f"test MAE: {test_scores['mae']:.2f}, i.e. off by about ${test_scores['mae'] * 1000:,.0f}")

# %% [markdown]
# The book gets a test MAE of about 2.5, i.e. predictions off by about $2,500.
# Do not read much into the second decimal of one test score: the summary above
# shows the folds' validation MAEs differing by about ± 0.1 from one another,
# and another `SEED` moves every number a little.
