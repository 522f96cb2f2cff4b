"""The one place fused training calls a fold's callbacks from: :class:`FoldCallbacks`.

Keras' ``keras.callbacks.CallbackList`` passes each hook a converted copy of the
logs; a fold's history must hold what its callbacks add to them
(``ReduceLROnPlateau`` writes ``learning_rate``), as the sequential path's
history does (its recorder is the last callback of ``fit``'s list). So a fold's
callbacks are called here, in their order, with the fold's own logs.

Fused training runs the train, epoch and test hooks only (see
:func:`kfold.train.callbacks.batch_hook`); ``TerminateOnNaN``, whose check sits in
its batch hook, is given each epoch's loss here, once an epoch.
"""
from __future__ import annotations

from typing import Any, Sequence

from kfold.core import import_keras

__all__ = ["FoldCallbacks"]


class FoldCallbacks:
    """One fold's callbacks, called together (each hook of each callback, in their order).

    Made by the runner once the fold's model is final, for as long as the run lasts.

    Examples
    --------
    >>> import keras
    >>> from kfold.train.keras_fit import doctest_model
    >>> seen = []
    >>> calls = FoldCallbacks([keras.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: seen.append(e))],
    ...                       doctest_model(), {"epochs": 1})
    >>> calls.epoch_end(0, {"loss": 1.0}); seen
    [0]
    """

    def __init__(self, callbacks: Sequence[Any], model: Any, params: dict) -> None:
        self.callbacks = list(callbacks)
        for callback in self.callbacks:
            callback.set_model(model)
            callback.set_params(params)
        terminate = import_keras().callbacks.TerminateOnNaN
        self._nan_checks = {id(c) for c in self.callbacks if type(c) is terminate}

    def train_begin(self) -> None:
        """Every callback's ``on_train_begin``."""
        for callback in self.callbacks:
            callback.on_train_begin()

    def train_end(self) -> None:
        """Every callback's ``on_train_end``."""
        for callback in self.callbacks:
            callback.on_train_end()

    def epoch_begin(self, epoch: int) -> None:
        """Every callback's ``on_epoch_begin``."""
        for callback in self.callbacks:
            callback.on_epoch_begin(epoch)

    def validated(self, val_logs: dict) -> None:
        """``on_test_begin`` and ``on_test_end`` (with the held-out logs) around an epoch's validation."""
        for callback in self.callbacks:
            callback.on_test_begin()
            callback.on_test_end(dict(val_logs))

    def epoch_end(self, epoch: int, logs: dict) -> None:
        """Every callback's ``on_epoch_end`` with ``logs`` itself (what a callback adds is kept in the history).

        A ``TerminateOnNaN`` checks the epoch's loss first (its check is its batch hook).
        """
        for callback in self.callbacks:
            if id(callback) in self._nan_checks:
                callback.on_batch_end(0, {"loss": logs.get("loss")})
            callback.on_epoch_end(epoch, logs)
