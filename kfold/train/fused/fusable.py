"""Whether a run can be fused, before any model is built: its training settings and the size of its data.

What the fused path cannot run is reported by :func:`check_fusable` (callbacks, ``fit``
arguments), :func:`check_data_fusable` and, once the models are built, the engine
(:meth:`kfold.engines.FusedEngine.why_not_fusable`); with ``strategy="auto"`` the
trainer then uses the sequential path and says why.
"""
from __future__ import annotations

import numpy as np

from kfold.data import leaves
from kfold.train.callbacks import batch_hook
from kfold.train.fold import FitConfig, FoldData, FoldTask

__all__ = ["MAX_FUSED_BYTES", "FUSED_FIT_KWARGS", "check_fusable", "check_data_fusable"]

# Every fold's copy of the data is held at once: above this, train the folds one by one.
MAX_FUSED_BYTES = 2 * 1024**3
# fit() arguments the fused path honours itself.
FUSED_FIT_KWARGS = ("shuffle", "class_weight", "validation_freq")


def check_fusable(config: FitConfig) -> str | None:
    """Why these training settings need the sequential path, or ``None`` if they can be fused.

    Fused training runs every callback that works per epoch (``EarlyStopping``, ``TensorBoard``,
    ``CSVLogger``, ``ReduceLROnPlateau``, ``LearningRateScheduler``, ``ModelCheckpoint``,
    ``TerminateOnNaN``, a ``LambdaCallback`` or one's own with train/epoch hooks:
    :func:`kfold.train.callbacks.batch_hook`) and the ``fit`` arguments ``shuffle``,
    ``class_weight`` and ``validation_freq``; a batch hook or any other needs a live ``fit`` loop.

    Examples
    --------
    >>> import keras
    >>> check_fusable(FitConfig(epochs=2, fit_kwargs={"class_weight": {0: 1.0, 1: 2.0}})) is None
    True
    >>> check_fusable(FitConfig(epochs=2, fit_kwargs={"steps_per_execution": 2}))
    "fit argument 'steps_per_execution' is not supported by fused training"
    >>> check_fusable(FitConfig(epochs=2, callbacks=[keras.callbacks.LambdaCallback(on_batch_end=print)]))
    'callback LambdaCallback has a batch hook (on_batch_end), which needs a live fit loop'
    """
    for key in config.fit_kwargs:
        if key not in FUSED_FIT_KWARGS:
            return f"fit argument {key!r} is not supported by fused training"
    for callback in config.callbacks:
        hook = batch_hook(callback)
        if hook is not None:
            return f"callback {type(callback).__name__} has a batch hook ({hook}), which needs a live fit loop"
    return None


def check_data_fusable(data: FoldData, tasks: list[FoldTask]) -> str | None:
    """Why the folds' data is too big to hold every fold's copy at once (:data:`MAX_FUSED_BYTES`), or ``None``.

    Examples
    --------
    >>> tasks = [FoldTask(0, np.arange(2, 4), np.arange(2), seed=0)]
    >>> check_data_fusable(FoldData(np.zeros((4, 3)), np.zeros(4)), tasks) is None
    True
    """
    row_bytes = 0
    for part in (data.x, data.y, data.sample_weight):
        for array in leaves(part) if part is not None else []:
            itemsize = 4 if array.dtype.kind == "f" else array.dtype.itemsize  # floats become float32
            row_bytes += itemsize * int(np.prod(array.shape[1:]))
    total = row_bytes * sum(len(t.train) + len(t.val) for t in tasks)
    if total > MAX_FUSED_BYTES:
        return (f"every fold's copy of the data would be held at once "
                f"({total / 1024**3:.1f} GiB > {MAX_FUSED_BYTES / 1024**3:.0f} GiB)")
    return None
