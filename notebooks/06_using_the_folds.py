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
# # Using what the folds learned
#
# A k-fold run trains K models and usually throws them away after reading off
# a score. They are worth more than that:
#
# 1. **Out-of-fold predictions**: every training sample predicted by the one
#    model that did not see it. A residual plot for Boston, a confusion matrix
#    for Sonar, both without touching the test set.
# 2. **The fold models as an ensemble**: average the K models on the test set,
#    instead of (or beside) refitting one model on all the data.
# 3. **A learning curve**: the same folds with less training data, to answer
#    "would more data help?".

# %% [markdown]
# ## Parameters
#
# The CI test runs this notebook with the quick values of this cell's `nbmake`
# mock (2 folds, 2-3 epochs).

# %% tags=["parameters"] nbmake={"mock": {"K": 2, "EPOCHS": 3, "SONAR_FOLDS": 2, "SONAR_EPOCHS": 2, "CURVE_EPOCHS": 2, "TRAIN_SIZES": [0.5, 1.0]}}
K = 4                 # Boston: the book's 4 folds
EPOCHS = 80           # the book's final model trains 80 epochs
BATCH_SIZE = 16
SONAR_FOLDS = 5
SONAR_EPOCHS = 60
CURVE_EPOCHS = 80
TRAIN_SIZES = [0.1, 0.325, 0.55, 0.775, 1.0]  # scikit-learn's default
SEED = 0

# %%
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's log lines out of the outputs

import tempfile

import keras
import matplotlib.pyplot as plt
import numpy as np
from keras import layers

import kfold

# %% [markdown]
# ## 1. Out-of-fold predictions for Boston
#
# The book's model and 4 folds, with `return_predictions=True` (each fold's
# model predicts its held-out rows once training ends) and `return_models=True`
# (kept for the ensemble below). The features are standardized inside each fold.

# %%
(x_train, y_train), (x_test, y_test) = kfold.datasets.load_boston_housing()


def build_model():
    model = keras.Sequential([
        keras.Input(shape=(13,)),
        layers.Dense(64, activation="relu"),
        layers.Dense(64, activation="relu"),
        layers.Dense(1),
    ])
    model.compile(optimizer="rmsprop", loss="mse", metrics=["mae"])
    return model


result = kfold.cross_validate(build_model, x_train, y_train, cv=K, epochs=EPOCHS, batch_size=BATCH_SIZE,
                              preprocess=kfold.Standardize(), seed=SEED, verbose=0,
                              return_predictions=True, return_models=True)
result.summary()

# %% [markdown]
# `result.oof_predictions` holds one prediction per training sample, in the
# order of `x_train`: the 404 houses, each priced by the model of the fold that
# held it out. Their mean absolute error is the cross-validated MAE over all
# samples at once (the mean of the fold scores weights each fold equally; with
# folds of equal size the two agree).

# %%
oof = result.oof_predictions.ravel()
print(oof.shape, f"out-of-fold MAE: {np.mean(np.abs(oof - y_train)):.3f}",
      f"mean of the fold MAEs: {np.mean(result.scores['mae']):.3f}")

# %% [markdown]
# The residuals against the predicted price, coloured by fold. A model that
# fits every price range equally would leave a flat band around zero.

# %%
fold_of = np.empty(len(y_train), dtype=int)
for i, (_, val) in enumerate(result.folds):
    fold_of[val] = i
fig, ax = plt.subplots(figsize=(7, 4))
for i in range(result.n_folds):
    rows = fold_of == i
    ax.scatter(oof[rows], y_train[rows] - oof[rows], s=12, alpha=0.7, label=f"fold {i + 1}")
ax.axhline(0, color="black", linewidth=0.8)
ax.set_xlabel("out-of-fold predicted price (k$)")
ax.set_ylabel("true - predicted (k$)")
ax.set_title("Boston: out-of-fold residuals")
ax.legend()
plt.show()

# %% [markdown]
# ## 2. A confusion matrix for Sonar
#
# `kfold.cross_val_predict` is scikit-learn's function: it returns only the
# out-of-fold predictions. Sonar's labels are sorted (all rocks, then all
# mines), so the folds must be stratified and shuffled; we say so explicitly.
# The predictions are the sigmoid's probabilities; `> 0.5` gives the labels.

# %%
x_sonar, y_sonar = kfold.datasets.load_sonar()


def build_sonar():
    model = keras.Sequential([
        keras.Input(shape=(60,)),
        layers.Dense(60, activation="relu"),
        layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


cv = kfold.StratifiedKFold(SONAR_FOLDS, shuffle=True, random_state=SEED)
probabilities = kfold.cross_val_predict(build_sonar, x_sonar, y_sonar, cv=cv, epochs=SONAR_EPOCHS,
                                        batch_size=8, preprocess=kfold.Standardize(), seed=SEED, verbose=0)
predicted = (probabilities.ravel() > 0.5).astype(int)
confusion = np.array([[np.sum((y_sonar == t) & (predicted == p)) for p in (0, 1)] for t in (0, 1)])
print(confusion, f"out-of-fold accuracy: {np.mean(predicted == y_sonar):.3f}")

# %%
fig, ax = plt.subplots(figsize=(4, 3.5))
ax.imshow(confusion, cmap="Blues")
for t in range(2):
    for p in range(2):
        ax.text(p, t, confusion[t, p], ha="center", va="center",
                color="white" if confusion[t, p] > confusion.max() / 2 else "black", fontsize=14)
ax.set_xticks([0, 1], ["rock", "mine"])
ax.set_yticks([0, 1], ["rock", "mine"])
ax.set_xlabel("predicted (out of fold)")
ax.set_ylabel("true")
ax.set_title(f"Sonar, {SONAR_FOLDS} stratified folds")
plt.show()

# %% [markdown]
# ## 3. The fold models against a refit, on the Boston test set
#
# Two ways to get a model for the 102 test houses:
#
# * **refit** (the book's way, `kfold.fit_final`): one model on all 404
#   training houses, for the epoch count the folds selected;
# * **fold ensemble** (`result.ensemble()`): the K fold models, each with its own
#   fold's standardization, their predictions averaged. No extra training, and
#   averaging K models lowers the variance of the predictions; it costs K times
#   the prediction time and storage, and each model saw only `(K-1)/K` of the data.

# %%
selection = result.best_epoch()
print(f"selected: {selection}")
final = kfold.fit_final(build_model, x_train, y_train, epochs=selection.epoch, batch_size=BATCH_SIZE,
                        preprocess=kfold.Standardize(), seed=SEED)
ensemble = result.ensemble()
rows = {
    "refit on all 404 (fit_final)": final.evaluate(x_test, y_test)["mae"],
    f"fold ensemble, mean of {len(ensemble)}": ensemble.evaluate(x_test, y_test)["mae"],
    f"fold ensemble, median of {len(ensemble)}": ensemble.evaluate(x_test, y_test, method="median")["mae"],
}
for i, prediction in enumerate(ensemble.predict_each(x_test)):  # each model with its own standardization
    rows[f"fold {i + 1} model alone"] = np.mean(np.abs(prediction.ravel() - y_test))
for name, mae in rows.items():
    print(f"{name:<32} test MAE {mae:.3f}")

# %% [markdown]
# The ensemble saves as a folder of Keras files plus each fold's fitted
# standardization, and `kfold.load` reads it back.

# %%
with tempfile.TemporaryDirectory() as folder:
    ensemble.save(folder)
    print(sorted(os.listdir(folder)))
    again = kfold.load(folder)
    print(again, np.allclose(again.predict(x_test), ensemble.predict(x_test)))

# %% [markdown]
# ## 4. A learning curve: would more data help?
#
# `kfold.learning_curve` draws the folds once, then trains every fold again on
# nested subsets of its training rows (10 % ... 100 %), validated on the same
# held-out part. Each point is read at that size's own selected epoch. All the
# sizes' folds train together in one compiled graph.

# %%
curve = kfold.learning_curve(build_model, x_train, y_train, train_sizes=TRAIN_SIZES, cv=K,
                             epochs=CURVE_EPOCHS, batch_size=BATCH_SIZE, preprocess=kfold.Standardize(),
                             seed=SEED, verbose=0)
curve.summary()

# %%
ax = kfold.plot_learning_curve(curve)
ax.figure.set_size_inches(7, 4)
plt.show()

# %% [markdown]
# Read it from right to left: where the validation curve still falls at the
# largest size, more houses would lower the error further; the gap between the
# training and validation curves is how much the models overfit at each size.
#
# One caveat: a fold trained on fewer rows takes fewer optimizer steps per
# epoch (30 rows are 2 batches of 16), so at the smallest sizes the selected
# epoch is often the last one: those models are still learning. Training the
# curve for more epochs (or with a smaller batch) separates "too little data"
# from "too little training".
