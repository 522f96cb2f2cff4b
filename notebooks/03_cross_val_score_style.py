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
# # `cross_val_score`-style evaluation of Keras models, with `kfold`
#
# Many tutorials evaluate a Keras model the scikit-learn way: wrap it in
# SciKeras' `KerasClassifier`, call `cross_val_score(clf, X, y, cv=3)` and print
# "accuracy mean ± std". This notebook does the same two classic examples
# with `kfold.cross_validate` and no wrapper:
#
# 1. a small network on `make_classification(n_samples=10000, n_features=100,
#    n_informative=3)`, 3-fold;
# 2. a logistic regression written in Keras, 3-fold with shuffling, checked
#    against scikit-learn's own `LogisticRegression` on the same folds.
#
# The numbers come out the same way, and `kfold` also keeps what
# `cross_val_score` throws away: every fold's per-epoch curves, and paired
# folds for a test of the difference between two models.

# %% [markdown]
# ## Parameters
#
# The CI test runs this notebook with the quick values of this cell's `nbmake`
# mock (fewer samples and epochs).

# %% tags=["parameters"] nbmake={"mock": {"N_SAMPLES": 600, "EPOCHS": 2}}
N_SAMPLES = 10000
EPOCHS = 30
BATCH_SIZE = 64
SEED = 0

# %%
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's log lines out of the outputs

import keras
import matplotlib.pyplot as plt
import numpy as np
from keras import layers
from sklearn.datasets import make_classification

import kfold

# %% [markdown]
# ## 1. A small network, 3-fold
#
# With SciKeras this is `cross_val_score(KerasClassifier(model=build_model,
# epochs=EPOCHS, batch_size=BATCH_SIZE), X, y, cv=3)`. For a classifier,
# scikit-learn's `cv=3` means `StratifiedKFold(3)` without shuffling, and so
# does kfold's when `y` holds class labels (it prints the choice with
# `verbose=1` and keeps it in `result.params["cv_choice"]`): the same folds.

# %%
X, y = make_classification(n_samples=N_SAMPLES, n_features=100, n_informative=3, random_state=SEED)
print(X.shape, np.bincount(y))


# %%
def build_model():
    model = keras.Sequential([
        keras.Input(shape=(100,)),
        layers.Dense(32, activation="relu"),
        layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


result = kfold.cross_validate(build_model, X, y, cv=3, epochs=EPOCHS,
                              batch_size=BATCH_SIZE, seed=SEED, verbose=0)
print(result.params["cv_splitter"])
scores = result.scores["val_accuracy"]  # what cross_val_score returns: one held-out score per fold
print(scores.round(4))
print(f"accuracy {scores.mean():.3f} ± {scores.std(ddof=1):.3f} (std with ddof=1)")

# %% [markdown]
# `result.scores` holds each fold's model evaluated on its held-out part after
# the last epoch, like `cross_val_score`, under held-out names (`val_accuracy`). (The ± is the sample standard
# deviation, `ddof=1`; `scores.std()` in the scikit-learn examples uses
# `ddof=0` and is a little smaller.) What `cross_val_score` cannot return is
# the curve behind each score:

# %%
kfold.plot_history(result, "val_accuracy", training=True)
plt.show()

# %% [markdown]
# ## 2. Logistic regression in Keras, 3-fold with shuffling
#
# A single sigmoid unit on the 100 inputs is a logistic regression. The folds
# come from `KFold(3, shuffle=True, random_state=SEED)`, which gives exactly
# scikit-learn's `KFold` indices.


# %%
def build_logistic_regression():
    model = keras.Sequential([
        keras.Input(shape=(100,)),
        layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


cv = kfold.KFold(3, shuffle=True, random_state=SEED)
logistic = kfold.cross_validate(build_logistic_regression, X, y, cv=cv, epochs=EPOCHS,
                                batch_size=BATCH_SIZE, seed=SEED, verbose=0)
scores = logistic.scores["val_accuracy"]
print(f"accuracy {scores.mean():.3f} ± {scores.std(ddof=1):.3f}")

# %% [markdown]
# A check: scikit-learn's `LogisticRegression` on the very same folds (a list
# of `(train, test)` index pairs is a valid `cv` for scikit-learn too).

# %%
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score

sklearn_scores = cross_val_score(LogisticRegression(max_iter=1000), X, y, cv=logistic.folds)
print(f"scikit-learn LogisticRegression: accuracy {sklearn_scores.mean():.3f} ± {sklearn_scores.std(ddof=1):.3f}")
print("Keras logistic regression:       accuracy "
      f"{scores.mean():.3f} ± {scores.std(ddof=1):.3f}")

# %% [markdown]
# The two logistic regressions agree to within about half a point: same
# model, fitted by Adam in 30 epochs on one side and to convergence by L-BFGS
# (with a little L2 regularization) on the other.

# %% [markdown]
# ## 3. Network or logistic regression: is the difference real?
#
# `kfold.compare` pairs two runs fold by fold. It refuses the two runs above:
# they were made on different folds, and a paired test on unpaired folds
# would be meaningless.

# %%
try:
    kfold.compare(result, logistic, "val_accuracy")
except ValueError as error:
    print(error)

# %% [markdown]
# So we train the network on the logistic regression's folds, and test the
# difference of held-out accuracy at the last epoch with the corrected
# resampled t-test (Nadeau & Bengio), which allows for the overlap of the
# training sets of different folds.

# %%
network = kfold.cross_validate(build_model, X, y, cv=cv, epochs=EPOCHS, batch_size=BATCH_SIZE,
                               seed=SEED, verbose=0)
comparison = kfold.compare(network, logistic, "val_accuracy")
print(comparison)

# %% [markdown]
# `make_classification` places each class in clusters at the corners of a
# hypercube in the three informative dimensions, so no single straight
# boundary separates them: the logistic regression stays far below the
# network (both its Keras and its scikit-learn versions). The test agrees:
# the interval of the difference excludes zero and p is about 0.01, although
# three folds leave the test only two degrees of freedom, with which only
# large and consistent differences come out significant.
