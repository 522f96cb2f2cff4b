"""A search's ``select`` checked against what the models will log, before any candidate trains.

Keras 3 knows a compiled model's metric names only once the model has run
(``model.metrics_names`` is ``['loss', 'compile_metrics']`` before), so one model
of the first candidate is built and evaluated on a few rows: its keys, and the
same keys with ``val_``, are what every fold's history holds.
"""
from __future__ import annotations

import warnings
from typing import Any, Callable

import numpy as np

from kfold.core import fail
from kfold.core import user_random_state
from kfold.data import n_samples, take
from kfold.data import fit_preprocess
from kfold.results import finished_folds
from kfold.train import build_model

__all__ = ["logged_keys", "saved_keys", "check_select"]

_ALWAYS = ("loss", "val_loss")


def logged_keys(build_fn: Callable[[], Any], x: Any, y: Any, *, preprocess: Any = None,
                seed: int = 0) -> set[str] | None:
    """The history keys a cross-validation of ``build_fn`` logs, or ``None`` if that cannot be told cheaply.

    Examples
    --------
    >>> from kfold.train.keras_fit import doctest_model
    >>> sorted(logged_keys(doctest_model, np.random.rand(6, 2), np.random.rand(6)))
    ['loss', 'val_loss']
    """
    rows = np.arange(min(n_samples(x), 4))
    try:
        with user_random_state():
            model = build_model(build_fn, seed)
            _, x_few = fit_preprocess(preprocess, take(x, rows))
            scores = model.evaluate(x_few, take(y, rows), return_dict=True, verbose=0)
    except Exception:  # noqa: BLE001 - the check after the first candidate still applies
        return None
    return set(scores) | {f"val_{key}" for key in scores}


def saved_keys(run_dir: Any) -> set[str] | None:
    """The history keys of the folds saved in the ``cross_validate`` run directory ``run_dir``, if any.

    Examples
    --------
    >>> saved_keys("/no/such/run") is None
    True
    """
    if run_dir is None:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a damaged file is reported when the run resumes
        outcomes = [o for o in finished_folds(run_dir).values() if o.error is None]
    return {key for o in outcomes for key in o.history} or None


def check_select(select: str, build_fn: Callable[[], Any], x: Any, y: Any, *, preprocess: Any = None,
                 callbacks: Any = (), seed: int = 0, saved: Any = None) -> None:
    """Refuse, before any training, a ``select`` that the models of ``build_fn`` will not log.

    A callback may add keys of its own to the logs (``"learning_rate"``), so with
    callbacks only ``val_`` keys are checked. ``saved``, the first candidate's
    run directory: when it holds finished folds (a resumed search), their keys
    are used and no model is built.

    Examples
    --------
    >>> from kfold.train.keras_fit import doctest_model
    >>> check_select("val_accuracy", doctest_model, np.random.rand(6, 2), np.random.rand(6))
    Traceback (most recent call last):
    ...
    ValueError: Invalid `select`. Expected a key the models log, one of ['loss', 'val_loss']. Received: select='val_accuracy'. Pass select='val_loss', or compile the model with that metric (metrics=['accuracy'] logs 'val_accuracy')
    """
    if select in _ALWAYS or (callbacks and not select.startswith("val_")):
        return
    keys = saved_keys(saved) or logged_keys(build_fn, x, y, preprocess=preprocess, seed=seed)
    if keys is not None and select not in keys:
        metric = select.removeprefix("val_")
        fail("select", f"a key the models log, one of {sorted(keys)}", select,
             f"Pass select='val_loss', or compile the model with that metric "
             f"(metrics=[{metric!r}] logs 'val_{metric}')")
