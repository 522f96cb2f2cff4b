"""The engine interface: what fused training asks of a backend, and the fold it works on.

The fused runner (:mod:`kfold.train.fused`) builds every fold's model as the
sequential path does, then hands the folds to an engine and talks to it only
through the methods declared here:

1. :meth:`FusedEngine.why_not_fusable` and :meth:`FusedEngine.prepare_fold` /
   :meth:`FusedEngine.check_folds`: can this model and data be fused (else
   :class:`NotFusable`, with the reason), and the fold's state made ready
   (data as the backend's arrays, every variable created);
2. :meth:`FusedEngine.start` gives a :class:`FusedSession`, whose
   :meth:`~FusedSession.train` trains the folds still training for ``n`` epochs
   and hands back each epoch's logs per fold;
3. :meth:`FusedEngine.read_variables` / :meth:`FusedEngine.write_variables`
   (with :meth:`FusedSession.held_state`) read and write the joint state a
   checkpoint holds;
4. :meth:`FusedSession.release` leaves the trained state in the fold models,
   which are ordinary Keras models again.

Runs of one architecture may share what the engine compiled through a *pool*
(:class:`GraphSharing`), which the engine makes and lends.
"""
from __future__ import annotations

import abc
import contextlib
import dataclasses
from typing import Any, Iterator, Protocol

import numpy as np

__all__ = ["NotFusable", "FusedFold", "FusedSession", "GraphSharing", "FusedEngine"]


class NotFusable(ValueError):
    """Raised when the fused path cannot train these folds; the message says why.

    Examples
    --------
    >>> str(NotFusable("fit_kwargs 'class_weight'"))
    "fit_kwargs 'class_weight'"
    """


@dataclasses.dataclass
class FusedFold:
    """One fold's model, data, callbacks, epoch orders and logs so far.

    ``train`` and ``val`` are ``(x, y, sample_weight)``: NumPy arrays as the fold
    is built, the backend's arrays once :meth:`FusedEngine.prepare_fold` ran.
    ``callbacks`` is the fold's own copy of the callbacks, ``calls`` the one
    place they are called through (set by the runner).

    Examples
    --------
    >>> fold = FusedFold(None, None, None, (), (), n_train=4, n_val=2, callbacks=[], orders=iter([]))
    >>> fold.n_train, fold.n_val, fold.stopped
    (4, 2, False)
    """

    task: Any
    model: Any
    preprocess: Any
    train: tuple
    val: tuple
    n_train: int
    n_val: int
    callbacks: list
    orders: Iterator[np.ndarray]
    history: list = dataclasses.field(default_factory=list)
    last_val: dict = dataclasses.field(default_factory=dict)
    stopped: bool = False
    calls: Any = None


class FusedSession(abc.ABC):
    """One fused run's compiled training, made by :meth:`FusedEngine.start`.

    Lives as long as the run (or a paused run kept in memory); its compiled
    graphs may outlive it in the pool that lent them.
    """

    #: epochs one :meth:`train` call may train (the runner never asks for more)
    epochs_per_call: int = 1

    @abc.abstractmethod
    def train(self, active: list[FusedFold], orders: list[list[np.ndarray]]) -> list[list[tuple[dict, dict]]]:
        """Train ``active`` for ``len(orders[0])`` epochs (``orders[k][e]``: fold k's row order in epoch e).

        Returns one list per epoch of ``(train_logs, val_logs)`` per active fold.
        Raises :class:`NotFusable` if the folds cannot be traced into one graph.
        """

    @abc.abstractmethod
    def held_state(self) -> dict:
        """``{id(model): values}`` of variables the session holds newer than the fold models (else empty)."""

    @abc.abstractmethod
    def release(self) -> None:
        """The fold models hold the trained state again (ordinary Keras models)."""


class GraphSharing(Protocol):
    """A pool that lends the compiled state of one architecture to several runs (see the engine's pool)."""

    def acquire(self, owner: Any) -> None:
        """Put ``owner``'s state back into the shared models before it trains."""

    def give_back(self, owner: Any) -> None:
        """``owner`` is done with its shared models."""


class FusedEngine(abc.ABC):
    """What fused training needs from a backend (one engine object per backend and process).

    An engine object is made the first time a process trains fused with its
    backend (:func:`kfold.engines.get_engine`) and lives as long as the process;
    whatever it caches (compiled graphs of recent runs) is an attribute of it.
    """

    #: the Keras backend it trains with
    backend: str = ""

    @abc.abstractmethod
    def why_not_fusable(self, model: Any) -> str | None:
        """Why this built model needs the sequential path, or ``None`` if it can be fused."""

    @abc.abstractmethod
    def prepare_fold(self, fold: FusedFold) -> None:
        """Make ``fold``'s state ready: its data as the backend's arrays, every variable created.

        Raises :class:`NotFusable` when the model cannot be fused.
        """

    @abc.abstractmethod
    def check_folds(self, folds: list[FusedFold]) -> None:
        """Raise :class:`NotFusable` if the folds cannot train side by side (shared variables)."""

    @abc.abstractmethod
    def start(self, folds: list[FusedFold], config: Any, *, jit_compile: bool | None = None,
              pool: Any = None, owner: Any = None) -> FusedSession:
        """A session that trains ``folds``; ``pool`` (from this engine) lends shared graphs to ``owner``."""

    @abc.abstractmethod
    def read_variables(self, model: Any) -> list[np.ndarray]:
        """The model's and its optimizer's variables, as NumPy copies (what a checkpoint holds)."""

    @abc.abstractmethod
    def write_variables(self, model: Any, values: list) -> None:
        """Set the values :meth:`read_variables` gave back into the model."""

    @abc.abstractmethod
    def variable_shapes(self, model: Any) -> list[tuple]:
        """The shapes of the values :meth:`read_variables` gives."""

    @abc.abstractmethod
    def search_pool(self) -> GraphSharing:
        """A new pool for the candidates of one search."""

    @abc.abstractmethod
    def recent_pool(self) -> GraphSharing | None:
        """This thread's pool of its last few architectures (``None`` when graphs are not reused)."""

    @abc.abstractmethod
    def sharing(self, pool: GraphSharing | None = None) -> contextlib.AbstractContextManager:
        """A ``with`` block inside which fused runs share ``pool`` (a new search pool if None)."""

    @abc.abstractmethod
    def active_pool(self) -> GraphSharing | None:
        """The pool of the enclosing :meth:`sharing` block, or None."""
