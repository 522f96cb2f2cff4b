"""Fused training's joint state: taken and set back in memory, saved atomically to a run directory.

The state of a fused run after some epochs is everything the next epoch depends
on, for every fold: the model's variables (weights, and the seed generators'
states that random layers draw from), the optimizer's variables (its iteration
counter, learning rate, moments), the epoch-order generator's state, the
callbacks' state (``EarlyStopping``'s wait and best weights, ...), whether the
fold stopped, and its logs so far. Setting it back on freshly prepared folds and
training on gives, on CPU, bit for bit the run that was never interrupted.

:func:`capture` and :func:`restore` work in memory (a :class:`FusedState`, e.g.
to pause a candidate and continue it later); :class:`Checkpoints` writes one
to ``run_dir/fused_checkpoint.pkl`` (a temporary file, then a rename) on a
schedule and reads it back on resume.
"""
from __future__ import annotations

import dataclasses
import math
import os
import pickle
import time
import warnings
from pathlib import Path

import numpy as np

from kfold.core import check_positive_int
from kfold.engines import FusedEngine, FusedFold, get_engine
from kfold.train.callbacks import callback_state, resume_callback

__all__ = ["CHECKPOINT_FILE", "DEFAULT_SECONDS", "FoldState", "FusedState", "capture", "fits", "restore",
           "Checkpoints"]

CHECKPOINT_FILE = "fused_checkpoint.pkl"
#: With ``checkpoint_every=None``: a checkpoint at least this often (seconds of training) ...
DEFAULT_SECONDS = 60.0
#: ... and every this share of the epochs, whichever comes first.
DEFAULT_SHARE = 0.1
_FORMAT = 1


@dataclasses.dataclass
class FoldState:
    """One fold's part of a :class:`FusedState` (plain data: NumPy arrays, dicts, bytes).

    Examples
    --------
    >>> FoldState([np.zeros(2)], {}, [], [{"loss": 1.0}], {"loss": 1.0}, False).history
    [{'loss': 1.0}]
    """

    variables: list          #: model variables, then optimizer variables, as NumPy arrays
    orders: dict             #: the epoch-order generator's state
    callbacks: list          #: each callback's :func:`~kfold.train.callbacks.callback_state`
    history: list            #: the logs of every epoch so far
    last_val: dict
    stopped: bool


@dataclasses.dataclass
class FusedState:
    """The joint state of a fused run after ``epoch`` epochs; ``folds`` maps fold number to its state.

    Examples
    --------
    >>> FusedState(epoch=3, folds={}).epoch
    3
    """

    epoch: int
    folds: dict
    format: int = _FORMAT


def capture(folds: list[FusedFold], epoch: int, held: dict | None = None, *,
            engine: FusedEngine | None = None) -> FusedState:
    """The joint state of ``folds`` after ``epoch`` finished epochs (a copy: training on leaves it as is).

    ``held``: ``{id(model): values}`` of variables the engine's session holds newer than the
    fold models' (:meth:`kfold.engines.FusedSession.held_state`), used instead of them.
    The variables are read by ``engine`` (default: the active backend's).

    Examples
    --------
    >>> from kfold.train.fused.checkpoint import doctest_folds
    >>> state = capture(doctest_folds(), epoch=0)
    >>> state.epoch, sorted(state.folds), len(state.folds[0].variables)  # 2 weights, 2 SGD variables
    (0, [0], 4)
    """
    held, engine = held or {}, engine or get_engine()
    return FusedState(epoch, {f.task.fold: FoldState(
        held.get(id(f.model)) or engine.read_variables(f.model), f.orders.state,
        [callback_state(c) for c in f.callbacks], [dict(logs) for logs in f.history],
        dict(f.last_val), bool(f.stopped)) for f in folds})


def fits(folds: list[FusedFold], state: FusedState | None, *, engine: FusedEngine | None = None) -> bool:
    """Whether ``state`` holds every fold of ``folds``, with variables of the same shapes.

    Examples
    --------
    >>> from kfold.train.fused.checkpoint import doctest_folds
    >>> folds = doctest_folds()
    >>> fits(folds, capture(folds, 0)), fits(folds, None)
    (True, False)
    """
    if state is None or getattr(state, "format", None) != _FORMAT:
        return False
    for fold in folds:
        saved = state.folds.get(fold.task.fold)
        if saved is None or len(saved.callbacks) != len(fold.callbacks):
            return False
        current = (engine or get_engine()).variable_shapes(fold.model)
        if len(saved.variables) != len(current) or any(
                tuple(a.shape) != shape for a, shape in zip(saved.variables, current)):
            return False
    return True


def restore(folds: list[FusedFold], state: FusedState, *, engine: FusedEngine | None = None) -> None:
    """Set ``state`` back on freshly prepared ``folds`` (and start their callbacks as they were).

    The callbacks' ``on_train_begin`` is called here (a fresh run calls it when
    training starts).

    Examples
    --------
    >>> from kfold.train.fused.checkpoint import doctest_folds
    >>> folds = doctest_folds()
    >>> state = capture(folds, 0)
    >>> _ = folds[0].model.variables[0].assign(np.ones((2, 1)))
    >>> restore(folds, state)
    >>> bool((folds[0].model.variables[0].numpy() == state.folds[0].variables[0]).all())
    True
    """
    engine = engine or get_engine()
    for fold in folds:
        saved = state.folds[fold.task.fold]
        engine.write_variables(fold.model, saved.variables)
        fold.orders.state = saved.orders
        fold.history = [dict(logs) for logs in saved.history]
        fold.last_val, fold.stopped = dict(saved.last_val), saved.stopped
        fold.model.stop_training = saved.stopped
        for callback, callback_saved in zip(fold.callbacks, saved.callbacks):
            resume_callback(callback, callback_saved)


class Checkpoints:
    """When to write the joint state to ``run_dir``, and reading it back.

    Parameters
    ----------
    run_dir : path
        The run directory.
    epochs : int
        Epochs of the run.
    every : int, optional
        A checkpoint every ``every`` epochs; ``None``: at least every
        :data:`DEFAULT_SECONDS` seconds of training and every 10 % of the epochs.

    Examples
    --------
    >>> import tempfile
    >>> checkpoints = Checkpoints(tempfile.mkdtemp(), epochs=50)
    >>> [epoch for epoch in range(1, 51) if checkpoints.due(epoch)]
    [5, 10, 15, 20, 25, 30, 35, 40, 45, 50]
    >>> checkpoints.load() is None
    True
    """

    def __init__(self, run_dir: str | os.PathLike, epochs: int, every: int | None = None) -> None:
        if every is not None:
            check_positive_int("checkpoint_every", every)
        self.path = Path(run_dir) / CHECKPOINT_FILE
        self.epochs = epochs
        self.every = every if every is not None else max(1, math.ceil(DEFAULT_SHARE * epochs))
        self.seconds = None if every is not None else DEFAULT_SECONDS
        self._last = time.perf_counter()
        self.written = 0
        self.time_spent = 0.0  #: seconds spent writing checkpoints (the overhead)

    def epochs_to_next(self, epochs_done: int) -> int:
        """Epochs from ``epochs_done`` to the next checkpoint of the ``every`` schedule (a graph call ends there).

        Examples
        --------
        >>> import tempfile
        >>> Checkpoints(tempfile.mkdtemp(), epochs=20, every=3).epochs_to_next(4)
        2
        """
        return self.every - epochs_done % self.every

    def due(self, epochs_done: int) -> bool:
        """Whether to write one after ``epochs_done`` epochs (always after the last)."""
        if epochs_done >= self.epochs or epochs_done % self.every == 0:
            return True
        return self.seconds is not None and time.perf_counter() - self._last >= self.seconds

    def save(self, state: FusedState) -> None:
        """Write ``state`` atomically (a temporary file, then a rename)."""
        start = time.perf_counter()
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "wb") as file:
            pickle.dump(state, file, protocol=pickle.HIGHEST_PROTOCOL)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, self.path)
        self._last = time.perf_counter()
        self.written += 1
        self.time_spent += self._last - start

    def load(self) -> FusedState | None:
        """The saved state, or ``None`` (none saved, or unreadable: then training starts over)."""
        if not self.path.exists():
            return None
        try:
            with open(self.path, "rb") as file:
                return pickle.load(file)
        except Exception as error:  # noqa: BLE001 - a damaged checkpoint only costs the epochs
            warnings.warn(f"{self.path} is damaged ({type(error).__name__}: {error}); "
                          "the fused folds are trained from the start.", RuntimeWarning, stacklevel=2)
            return None

    def remove(self) -> None:
        """Delete the checkpoint (every fold it held is saved as a finished fold)."""
        self.path.unlink(missing_ok=True)


def doctest_folds() -> list[FusedFold]:
    """One prepared fold of a tiny model, for the examples."""
    from kfold.train.fold import FitConfig, FoldData, FoldTask
    from kfold.train.fused.folds import prepare_folds
    from kfold.train.keras_fit import doctest_model

    task = FoldTask(0, np.arange(2, 6), np.arange(2), seed=3)
    return prepare_folds(doctest_model, FoldData(np.ones((6, 2)), np.ones(6)), [task], FitConfig(epochs=1))
