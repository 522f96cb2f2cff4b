"""Keras callbacks in a k-fold loop: one copy per fold, ``{fold}`` in paths, epoch-level or not.

Every fold gets its own deep copy of each callback. A path attribute
(``log_dir`` of ``TensorBoard``, ``filename`` of ``CSVLogger``, ``filepath`` of
``ModelCheckpoint``) may contain ``{fold}`` (and, in searches, ``{candidate}``),
replaced by the fold's (candidate's) number from 1, so each fold writes its own
files; Keras' own fields, such as ``{epoch:02d}``, are left to Keras.

Fused training calls only a callback's train and epoch hooks (and
``on_test_begin``/``on_test_end`` around validation); :func:`batch_hook` names
the batch hook that needs a live ``fit`` loop instead. The state a callback
keeps between epochs is saved in a fused checkpoint by :func:`callback_state`.
"""
from __future__ import annotations

import copy
import os
import pickle
from typing import Any, Sequence

from kfold.core import import_keras, profiles_batches

__all__ = ["PATH_ATTRIBUTES", "BATCH_HOOKS", "fill_paths", "batch_hook", "callback_state",
           "resume_callback"]

#: Callback attributes that hold a path in which ``{fold}`` and ``{candidate}`` are filled.
PATH_ATTRIBUTES = ("log_dir", "filename", "filepath")
#: Hooks that only a live ``fit`` loop calls (every batch).
BATCH_HOOKS = ("on_train_batch_begin", "on_train_batch_end", "on_batch_begin", "on_batch_end",
               "on_test_batch_begin", "on_test_batch_end")
# Attributes never saved in a checkpoint: the model (set again) and Keras' own bookkeeping.
_NOT_STATE = ("_model", "model", "_params", "params")
# Attributes that ``on_train_begin`` sets from the files on disk when a run resumes (``CSVLogger``'s
# file and whether it writes a header, ``TensorBoard``'s writers): not set back from a checkpoint.
_FROM_DISK = ("append_header", "csv_file", "writer", "_writers", "append")
_CSV_SIZE = "__kfold_csv_size__"


def fill_paths(callbacks: Sequence[Any], *, fold: int | None = None, candidate: int | None = None) -> list:
    """Deep copies of ``callbacks`` with ``{fold}`` / ``{candidate}`` (0-based numbers given) filled from 1.

    Examples
    --------
    >>> import keras
    >>> [logger] = fill_paths([keras.callbacks.CSVLogger("logs/c{candidate}/fold_{fold}.csv")], fold=0, candidate=2)
    >>> logger.filename
    'logs/c3/fold_1.csv'
    """
    copies = copy.deepcopy(list(callbacks))
    fields = {"{fold}": fold, "{candidate}": candidate}
    for callback in copies:
        for name in PATH_ATTRIBUTES:
            value = getattr(callback, name, None)
            if not isinstance(value, (str, os.PathLike)):
                continue
            filled = os.fspath(value)
            for field, number in fields.items():
                if number is not None:
                    filled = filled.replace(field, str(number + 1))
            if filled != os.fspath(value):
                setattr(callback, name, filled)
    return copies


def _overrides(callback: Any, hook: str) -> bool:
    keras = import_keras()
    return hook in vars(callback) or getattr(type(callback), hook) is not getattr(keras.callbacks.Callback, hook)


def batch_hook(callback: Any) -> str | None:
    """The batch hook that keeps ``callback`` from running fused, or ``None`` if it runs per epoch.

    Keras callbacks whose batch hooks do nothing with their settings count as
    epoch-level: ``TensorBoard`` with ``update_freq="epoch"``, no profiling and no
    ``write_steps_per_second`` (its graph is not written: there is no
    ``model.train_function``); ``ModelCheckpoint`` with ``save_freq="epoch"``;
    ``TerminateOnNaN``, which fused training calls with each epoch's loss.

    Examples
    --------
    >>> import keras
    >>> batch_hook(keras.callbacks.CSVLogger("log.csv")) is None
    True
    >>> batch_hook(keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: None))
    'on_train_batch_end'
    >>> batch_hook(keras.callbacks.ModelCheckpoint("m.keras", save_freq=10))
    'on_train_batch_end'
    """
    keras = import_keras()
    cb = keras.callbacks
    if type(callback) is cb.TensorBoard:
        if callback.update_freq != "epoch" or profiles_batches(callback) or callback.write_steps_per_second:
            return "on_train_batch_end"
        return None
    if type(callback) is cb.ModelCheckpoint:
        return None if callback.save_freq == "epoch" else "on_train_batch_end"
    if type(callback) is cb.TerminateOnNaN:
        return None
    return next((hook for hook in BATCH_HOOKS if _overrides(callback, hook)), None)


def callback_state(callback: Any) -> dict:
    """What ``callback`` keeps between epochs: its attributes that can be pickled (not its model).

    Open files and summary writers are left out; they are opened again on resume.

    Examples
    --------
    >>> import keras
    >>> stop = keras.callbacks.EarlyStopping(patience=3)
    >>> stop.wait = 2
    >>> pickle.loads(callback_state(stop)["wait"])
    2
    """
    state = {}
    for name, value in vars(callback).items():
        if name in _NOT_STATE or callable(value) and name.startswith("on_"):
            continue
        try:
            state[name] = pickle.dumps(value)
        except Exception:  # noqa: BLE001 - open files, writers, locks: not state to restore
            continue
    if isinstance(callback, import_keras().callbacks.CSVLogger) and os.path.exists(callback.filename):
        state[_CSV_SIZE] = os.path.getsize(callback.filename)  # it flushes every row it writes
    return state


def resume_callback(callback: Any, state: dict) -> None:
    """Start ``callback`` (``on_train_begin``) as it was when :func:`callback_state` saved ``state``.

    A ``CSVLogger``'s file is cut back to the rows written by then and appended
    to (its ``append`` argument), so a resumed run's log holds each epoch once.

    Examples
    --------
    >>> import keras
    >>> stop = keras.callbacks.EarlyStopping(patience=3)
    >>> stop.wait = 2
    >>> fresh = keras.callbacks.EarlyStopping(patience=3)
    >>> resume_callback(fresh, callback_state(stop))
    >>> fresh.wait
    2
    """
    size = state.get(_CSV_SIZE)
    if size is not None and os.path.exists(callback.filename):
        with open(callback.filename, "r+b") as file:
            file.truncate(size)
    if hasattr(callback, "append"):
        callback.append = True
    callback.on_train_begin()
    for name, value in state.items():
        if name not in _FROM_DISK and name != _CSV_SIZE:
            setattr(callback, name, pickle.loads(value))
