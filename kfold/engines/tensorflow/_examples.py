"""Tiny models and tensors for the TensorFlow engine's examples (doctests)."""
from __future__ import annotations

from typing import Any

import numpy as np

from kfold.core import import_keras
from kfold.data import to_tensors

__all__ = ["tiny_model", "tiny_data"]


def tiny_model(seed: int = 0) -> Any:
    """A fresh compiled ``Dense(1)`` model of 2 inputs (SGD, MSE), built after clearing Keras' session.

    Examples
    --------
    >>> tiny_model().count_params()
    3
    """
    keras = import_keras()
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    return model


def tiny_data(n: int = 6) -> tuple:
    """``(x, y)`` tensors of ``n`` random rows for :func:`tiny_model`.

    Examples
    --------
    >>> [tuple(t.shape) for t in tiny_data()]
    [(6, 2), (6,)]
    """
    return to_tensors(np.random.rand(n, 2)), to_tensors(np.random.rand(n))


def tiny_config(**settings: Any) -> Any:
    """The training settings the engine reads (``batch_size``, ``epochs``, ...), as a namespace.

    Examples
    --------
    >>> tiny_config(epochs=3).epochs
    3
    """
    from types import SimpleNamespace

    return SimpleNamespace(**{"epochs": 1, "batch_size": 4, "fit_kwargs": {}, "return_models": False, **settings})


def tiny_folds(k: int = 1, build: Any = None) -> list:
    """``k`` prepared folds of :func:`tiny_model` (or ``build(seed)`` in a fresh session), 4 training and 2 held-out rows each.

    Examples
    --------
    >>> [(f.n_train, f.n_val) for f in tiny_folds(2)]
    [(4, 2), (4, 2)]
    """
    from types import SimpleNamespace

    from kfold.engines.base import FusedFold
    from kfold.engines.tensorflow.prepare import check_independent, prepare_fold

    folds = []
    for i in range(k):
        x, y = np.ones((6, 2)), np.ones(6)
        if build is not None:  # as kfold builds a fold's model: a fresh session, seeded
            import_keras().backend.clear_session()
            import_keras().utils.set_random_seed(i)
        fold = FusedFold(SimpleNamespace(fold=i, seed=i), (build or tiny_model)(i), None, (x[2:], y[2:], None),
                         (x[:2], y[:2], None), 4, 2, [], iter(lambda: np.arange(4), None))
        prepare_fold(fold)
        folds.append(fold)
    check_independent(folds)
    return folds
