"""``cross_val_predict``: every sample predicted by the fold model that did not train on it.

scikit-learn's ``cross_val_predict`` for Keras models: one :func:`kfold.cross_validate`
with ``return_predictions=True``, its out-of-fold predictions returned in the
original sample order, for residual plots, confusion matrices, calibration and
stacking. The folds must partition the samples (each sample validated exactly
once, once per repetition for ``RepeatedKFold``), as scikit-learn requires;
this is checked before any model is built.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from kfold.core import resolve_seed
from kfold.data import as_arrays, n_samples
from kfold.results import check_partition
from kfold.train.cross_validation import cross_validate
from kfold.train.run.options import pop_run_options
from kfold.train.run.planned import plan_folds

__all__ = ["cross_val_predict"]


def cross_val_predict(build_fn: Callable[[], Any], x: Any, y: Any, *, cv: Any = 5, epochs: int,
                      groups: Any = None, seed: int | None = None, **kwargs: Any) -> Any:
    """Out-of-fold predictions: each sample predicted by the model of the fold that held it out.

    Parameters
    ----------
    build_fn, x, y, epochs
        As in :func:`kfold.cross_validate`.
    cv : int, splitter or iterable of (train, val), default 5
        Folds whose validation parts partition the samples (``KFold``,
        ``StratifiedKFold``, ``GroupKFold``, ``RepeatedKFold``, ...); others
        (``ShuffleSplit``, a holdout) are refused before any training, as in
        scikit-learn: use ``cross_validate(..., return_predictions=True)`` and
        ``result.predictions`` for them.
    groups, seed
        As in :func:`kfold.cross_validate`; the folds are drawn once, checked,
        then trained.
    **kwargs
        Any other :func:`kfold.cross_validate` argument (``batch_size``,
        ``preprocess``, ``callbacks``, ``strategy``, ``executor``, ``run_dir``...).

    Returns
    -------
    np.ndarray or dict of np.ndarray
        ``(n_samples, *output_shape)`` in the order of ``x`` (``model.predict``'s
        output: probabilities for a classifier; take ``argmax`` for labels);
        ``(n_repeats, n_samples, ...)`` for a repeated splitter; a dict for
        several outputs. The same as ``cross_validate(...,
        return_predictions=True).oof_predictions``.

    Examples
    --------
    >>> import numpy as np, kfold
    >>> from kfold.train.keras_fit import doctest_model
    >>> x, y = np.random.rand(12, 2), np.random.rand(12)
    >>> kfold.cross_val_predict(doctest_model, x, y, cv=3, epochs=2, seed=0, verbose=0).shape
    (12, 1)
    >>> kfold.cross_val_predict(doctest_model, x, y, cv=kfold.HoldoutSplit(0.25), epochs=2, verbose=0)
    Traceback (most recent call last):
    ...
    ValueError: Invalid `cv`. Expected folds whose validation parts partition the samples (each sample validated exactly once per repetition). Received: cv=folds that validate 9 of 12 samples never. cross_val_predict needs a K-fold-like splitter (KFold, StratifiedKFold, GroupKFold, RepeatedKFold); for other splitters use cross_validate(return_predictions=True) and result.predictions
    """
    kwargs.pop("return_predictions", None)
    executor, run_dir = pop_run_options("cross_val_predict", kwargs)
    seed = resolve_seed(seed)
    arrays_x, arrays_y = as_arrays(x, "x"), as_arrays(y, "y")
    n = n_samples(arrays_x)
    groups_array = as_arrays(groups, "groups")
    tasks = plan_folds(cv, n, arrays_y, groups_array, seed=seed)
    repeats = getattr(cv, "n_repeats", None)
    n_repeats = repeats if hasattr(cv, "split") and isinstance(repeats, int) and repeats > 1 else 1
    check_partition([(t.train, t.val) for t in tasks], n, n_repeats, require_all=True)
    # the checked folds are the ones trained (a splitter without random_state would draw others)
    folds = [(t.train, t.val) for t in tasks]
    result = cross_validate(build_fn, x, y, cv=folds, epochs=epochs, groups=groups, seed=seed,
                            return_predictions=True, executor=executor, run_dir=run_dir, **kwargs)
    result.params["n_repeats"] = n_repeats
    return result.oof_predictions
