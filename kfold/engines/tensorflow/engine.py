"""The TensorFlow engine: :class:`TensorFlowEngine` (the process's) and :class:`TensorFlowSession` (a run's).

A session keeps the compiled graph of the folds now training (lent by a
:class:`~kfold.engines.tensorflow.pool.GraphPool`, or its own), traces it at its
first call (with XLA, or without if XLA fails to compile) and frees TensorFlow's
record of the trace once compiled (:mod:`kfold.engines.tensorflow.custom_gradients`).
"""
from __future__ import annotations

import contextlib
import contextvars
import threading
from typing import Any, Iterator

import numpy as np

from kfold.core import get_config
from kfold.engines.base import FusedEngine, FusedFold, FusedSession, NotFusable
from kfold.engines.tensorflow import pool as pools
from kfold.engines.tensorflow import prepare
from kfold.engines.tensorflow.choice import epochs_per_call, make_graph, use_xla
from kfold.engines.tensorflow.custom_gradients import forget_traced
from kfold.engines.tensorflow.pool import GraphPool

__all__ = ["TensorFlowEngine", "TensorFlowSession"]


def _variables(model: Any) -> list:
    """What a fused graph trains and a checkpoint holds: the model's variables, then its optimizer's."""
    return [*model.variables, *model.optimizer.variables]


class TensorFlowSession(FusedSession):
    """One fused run's graphs: only the graph of the folds now training is kept (in ``graphs``).

    Made by :meth:`TensorFlowEngine.start` for a run and dropped with it; ``graphs``
    may be a pool's, shared by the runs of one architecture.

    Examples
    --------
    >>> from kfold.engines.tensorflow._examples import tiny_config, tiny_folds
    >>> folds = tiny_folds(2)
    >>> session = TensorFlowSession(folds, tiny_config(epochs=2), jit_compile=False)
    >>> epochs = session.train(folds, [[np.arange(4)], [np.arange(4)]])
    >>> len(epochs), [sorted(val) for _, val in epochs[0]]
    (1, [['loss'], ['loss']])
    >>> session.release()
    """

    def __init__(self, folds: list[FusedFold], config: Any, jit_compile: bool | None = None,
                 graphs: dict | None = None) -> None:
        self.config = config
        self.jit_compile = all(use_xla(f.model) for f in folds) if jit_compile is None else jit_compile
        self.graphs: dict[tuple, Any] = {} if graphs is None else graphs
        self.epochs_per_call = epochs_per_call(folds, config)

    def train(self, active: list[FusedFold], orders: list[list[np.ndarray]]) -> list:
        key = tuple(f.task.fold for f in active)
        args = (orders, [f.train for f in active], [f.val for f in active])
        if key not in self.graphs:
            self.release()
            self.graphs.clear()
            self.graphs[key] = make_graph(active, self.config, self.jit_compile, self.epochs_per_call)
            return self._first_call(key, active, args)
        return self.graphs[key](*args)

    def _first_call(self, key: tuple, active: list[FusedFold], args: tuple) -> list:
        """Trace and compile; without XLA if XLA fails; NotFusable if no graph can be made."""
        graph = self.graphs[key]
        try:
            return graph(*args)
        except Exception as error:  # noqa: BLE001 - compile errors come in many types
            if not self.jit_compile:
                raise NotFusable(f"the fold models could not be traced into one graph ({error})") from error
        finally:  # traced: TensorFlow need not keep the trace of the graph's tf.function (an attribute)
            forget_traced(*vars(graph).values())
        self.jit_compile = False
        self.graphs.clear()
        self.graphs[key] = make_graph(active, self.config, False, self.epochs_per_call)
        return self._first_call(key, active, args)

    def held_state(self) -> dict:
        return {key: values for graph in self.graphs.values() for key, values in graph.held_state().items()}

    def release(self) -> None:
        for graph in self.graphs.values():
            graph.release()


class TensorFlowEngine(FusedEngine):
    """Fused training with TensorFlow graphs; one object per process (:func:`kfold.engines.get_engine`).

    It holds, for the life of the process: the pool of the enclosing
    :meth:`sharing` block (a context variable, set and reset by the block), and
    each thread's pool of its recent architectures (:meth:`recent_pool`, made at
    the thread's first fused run, freed with the thread or by :meth:`forget_recent`).

    Examples
    --------
    >>> engine = TensorFlowEngine()
    >>> with engine.sharing() as pool:
    ...     engine.active_pool() is pool
    True
    >>> engine.active_pool() is None, engine.recent_pool() is engine.recent_pool()
    (True, True)
    """

    backend = "tensorflow"

    def __init__(self) -> None:
        self._shared: contextvars.ContextVar = contextvars.ContextVar("kfold_graph_pool", default=None)
        self._recent = threading.local()

    def why_not_fusable(self, model: Any) -> str | None:
        return prepare.check_model_fusable(model)

    def prepare_fold(self, fold: FusedFold) -> None:
        prepare.prepare_fold(fold)

    def check_folds(self, folds: list[FusedFold]) -> None:
        prepare.check_independent(folds)

    def start(self, folds: list[FusedFold], config: Any, *, jit_compile: bool | None = None,
              pool: GraphPool | None = None, owner: Any = None) -> TensorFlowSession:
        graphs = None if pool is None else pool.lend(folds, config, owner=folds if owner is None else owner)
        return TensorFlowSession(folds, config, jit_compile, graphs)

    def read_variables(self, model: Any) -> list[np.ndarray]:
        return [np.array(v.numpy(), copy=True) for v in _variables(model)]

    def write_variables(self, model: Any, values: list) -> None:
        for variable, value in zip(_variables(model), values):
            variable.assign(value)

    def variable_shapes(self, model: Any) -> list[tuple]:
        return [tuple(v.shape) for v in _variables(model)]

    def search_pool(self) -> GraphPool:
        """A new pool for a search: the slots of :data:`~kfold.engines.tensorflow.pool.SEARCH_ARCHITECTURES` at most."""
        return GraphPool(max_slots=pools.SEARCH_ARCHITECTURES)

    def recent_pool(self) -> GraphPool | None:
        """This thread's pool of its last few architectures; None with ``reuse_graphs=False`` (:func:`kfold.config_context`)."""
        if not get_config()["reuse_graphs"]:
            return None
        pool = getattr(self._recent, "pool", None)
        if pool is None:
            pool = self._recent.pool = GraphPool(max_slots=pools.RECENT_ARCHITECTURES, recent=True)
        return pool

    def forget_recent(self) -> None:
        """Drop this thread's pool of recent graphs (its models and compiled graphs can then be freed)."""
        self._recent.pool = None

    @contextlib.contextmanager
    def sharing(self, pool: GraphPool | None = None) -> Iterator[GraphPool]:
        """Within the block, fused runs of one architecture share compiled graphs (one pool)."""
        pool = pool or self.search_pool()
        token = self._shared.set(pool)
        try:
            yield pool
        finally:
            self._shared.reset(token)

    def active_pool(self) -> GraphPool | None:
        return self._shared.get()
