"""Compiled fused graphs shared by the runs of one architecture: in a search, and across runs.

:class:`GraphPool` makes runs of one architecture share one compiled graph. The
fused graph reads every weight, optimizer slot and the learning rate from
variables, so two candidates whose models differ only in those values (the
learning rate, the initial weights) can run the same traced and compiled
function: the pool keeps one set of K fold models per architecture (a *slot*);
a run's own freshly built state is copied into the slot's variables, and the
previous owner's state out of them when it is paused. A 5 nodes x 3 learning
rates grid then compiles 5 graphs, not 15; a search keeps the slots of
:data:`SEARCH_ARCHITECTURES` architectures at most. Two runs have one architecture when
their model and layer classes (Keras' own only: a custom layer could change the
graph unseen), configs, compile configs (the optimizer's with its learning rate
left out), variables, data shapes, batch size, fold sizes and epochs per call
are all equal. Runs that return their models are never pooled.

Outside a search, :meth:`~kfold.engines.tensorflow.engine.TensorFlowEngine.recent_pool` is each thread's pool of the last
:data:`RECENT_ARCHITECTURES` architectures it trained: ``cross_validate`` run again
(a notebook cell run twice, another seed or learning rate) trains on the graph
compiled the first time, with the same numbers, bit for bit. It lends only a free
slot (a run inside a run's callback gets graphs of its own), and keeps no fold models
whose state is larger than :data:`RECENT_MAX_BYTES` (they would stay in memory).
"""
from __future__ import annotations

import json
from typing import Any

import numpy as np

from kfold.core import import_tensorflow
from kfold.core import get_config
from kfold.engines.base import FusedFold
from kfold.engines.tensorflow.choice import epochs_per_call, use_xla

__all__ = ["architecture_key", "GraphCache", "GraphPool", "RECENT_ARCHITECTURES", "RECENT_MAX_BYTES",
           "SEARCH_ARCHITECTURES"]

# outside a search, a later run of one of the last few architectures a thread trained reuses its graph
RECENT_ARCHITECTURES = 4
# ... unless its fold models' state (weights and optimizer slots, all folds) is larger than this
RECENT_MAX_BYTES = 256 * 1024**2
# a search keeps the graphs of this many architectures (each holds its fold models and compiled code)
SEARCH_ARCHITECTURES = 8


def _state_variables(model: Any) -> list:
    """The variables a fused graph trains: the model's, then its optimizer's (learning rate included)."""
    return [*model.variables, *model.optimizer.variables]


def _state_bytes(folds: list[FusedFold]) -> int:
    """The bytes of the state the folds' models hold (what a pool slot would keep)."""
    return sum(int(np.prod(v.shape)) * np.dtype(v.dtype).itemsize
               for f in folds for v in _state_variables(f.model))


def _keras_objects_only(config: Any) -> bool:
    """Whether a serialized Keras config names only Keras' own objects (no function or class of one's own).

    A function of one's own (an activation, a loss, a metric) is serialized by its name
    only, so a function edited and defined again would look the same.
    """
    if isinstance(config, dict):
        if "module" in config and not str(config["module"]).startswith("keras"):
            return False
        if config.get("registered_name") is not None and "module" in config:
            return False
        return all(_keras_objects_only(v) for v in config.values())
    if isinstance(config, (list, tuple)):
        return all(_keras_objects_only(v) for v in config)
    return True


def architecture_key(folds: list[FusedFold], config: Any) -> str | None:
    """A string equal for two prepared runs that one compiled fused graph can train, or None.

    None (never pooled) for a model or layer class that is not Keras' own, a
    function or object of one's own in its configs (an activation, loss or metric
    edited and defined again keeps its name), a model whose configuration cannot be
    read, or ``return_models``. The
    optimizer's learning rate is left out when it is a number (a variable in the graph).

    Examples
    --------
    >>> import keras
    >>> def build(lr, units=2):
    ...     model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(units)])
    ...     model.compile(optimizer=keras.optimizers.SGD(lr), loss="mse")
    ...     return model
    >>> from kfold.engines.tensorflow._examples import tiny_config, tiny_folds
    >>> def key(**kw):
    ...     return architecture_key(tiny_folds(build=lambda seed: build(**kw)), tiny_config(epochs=2))
    >>> key(lr=0.1) == key(lr=0.5), key(lr=0.1) == key(lr=0.1, units=3)
    (True, False)
    """
    if config.return_models or not folds:
        return None
    tf, keys = import_tensorflow(), set()
    for fold in folds:
        model = fold.model
        classes = [type(model), *(type(layer) for layer in model._flatten_layers(include_self=False))]
        if any(not cls.__module__.startswith("keras.") for cls in classes):
            return None
        try:
            compiled, layout = model.get_compile_config() or {}, model.get_config()
        except Exception:  # noqa: BLE001 - a model without configs is simply not pooled
            return None
        if not _keras_objects_only([layout, compiled]):
            return None
        optimizer = compiled.get("optimizer")
        if isinstance(optimizer, dict) and isinstance(optimizer.get("config", {}).get("learning_rate"), float):
            compiled = {**compiled, "optimizer": {**optimizer, "config": {**optimizer["config"],
                                                                          "learning_rate": "<variable>"}}}
        variables = [(v.path, tuple(v.shape), str(v.dtype)) for v in _state_variables(model)]
        data = [None if t is None else (tuple(t.shape[1:]), str(t.dtype))
                for part in (fold.train, fold.val) for t in tf.nest.flatten(part)]
        keys.add(json.dumps([[c.__module__ + "." + c.__qualname__ for c in classes], layout, compiled,
                             variables, data], sort_keys=True, default=repr))
    if len(keys) != 1:
        return None
    sizes = [(f.task.fold, f.n_train, f.n_val) for f in folds]
    settings = get_config()
    return json.dumps([keys.pop(), sizes, config.batch_size, epochs_per_call(folds, config),
                       all(use_xla(f.model) for f in folds), settings["fused_stacked"], settings["fused_submodels"]])


class GraphCache(dict):
    """A runner's compiled graphs (by the folds training), counting each graph made in ``pool``.

    Examples
    --------
    >>> pool = GraphPool()
    >>> cache = GraphCache(pool)
    >>> cache[(0, 1)] = "a graph"
    >>> pool.graphs_made
    1
    """

    def __init__(self, pool: "GraphPool") -> None:
        super().__init__()
        self.pool = pool

    def __setitem__(self, key: Any, graph: Any) -> None:
        self.pool.graphs_made += 1
        super().__setitem__(key, graph)


class _Slot:
    """One architecture's fold models and compiled graphs, and which run's state they hold."""

    def __init__(self, models: list, pool: "GraphPool") -> None:
        self.models, self.graphs = models, GraphCache(pool)
        self.owner: Any = None
        self.stash: dict[int, tuple] = {}  # id(run) -> (run, its variables' values while another trains)


class GraphPool:
    """Compiled fused graphs shared by the runs of a search that have one architecture.

    ``graphs_made`` counts the graphs traced and compiled so far (each once, at
    its first call): the number a test or a benchmark reads. With ``max_slots``,
    it keeps the slots of at most that many architectures (free slots are dropped
    to make room for a new one). A search's pool (:meth:`~kfold.engines.tensorflow.engine.TensorFlowEngine.sharing`) drops the
    slot made last, so that a grid cycling through more architectures than that
    still reuses the first ones' graphs (dropping the least recently used would
    reuse none). The pool of :meth:`~kfold.engines.tensorflow.engine.TensorFlowEngine.recent_pool` (``recent=True``) drops the least
    recently lent slot, lends a slot only while no other run holds it, and keeps
    no models larger than :data:`RECENT_MAX_BYTES`.

    Examples
    --------
    >>> pool = GraphPool(max_slots=SEARCH_ARCHITECTURES)
    >>> pool.graphs_made, len(pool.slots), pool.recent
    (0, 0, False)
    """

    def __init__(self, max_slots: int | None = None, *, recent: bool = False) -> None:
        self.slots: dict[str, _Slot] = {}
        self._slot_of: dict[int, _Slot] = {}
        self.graphs_made, self.max_slots, self.recent = 0, max_slots, recent

    def _make_room(self) -> None:
        """Drop free slots until a new one fits in ``max_slots``: the last made, or (``recent``) the least recently lent."""
        if self.max_slots is None:
            return
        free = [k for k, s in self.slots.items() if s.owner is None]  # in the order made (recent: lent)
        for k in (free if self.recent else free[::-1])[:max(0, len(self.slots) - self.max_slots + 1)]:
            del self.slots[k]

    def _recent_lends(self, key: str, folds: list[FusedFold]) -> bool:
        """(``recent``) Whether ``folds`` may train in ``key``'s slot: not too large, and the slot free.

        ``key``'s free slot becomes the most recently lent.
        """
        if _state_bytes(folds) > RECENT_MAX_BYTES:
            return False
        slot = self.slots.get(key)
        if slot is not None and slot.owner is None:
            self.slots[key] = self.slots.pop(key)
        return slot is None or slot.owner is None

    def lend(self, folds: list[FusedFold], config: Any, owner: Any) -> GraphCache:
        """The graphs for ``folds`` (freshly prepared); with a slot of their architecture, they train its models.

        The folds' own initial state is copied into the slot's models, which
        become theirs (``fold.model``; the runner gives them to the callbacks); ``owner`` (the run)
        holds the slot until :meth:`give_back`, or until another run is lent it.
        """
        key = architecture_key(folds, config)
        if key is None or (self.recent and not self._recent_lends(key, folds)):
            return GraphCache(self)
        slot = self.slots.get(key)
        if slot is None:
            self._make_room()
            slot = self.slots[key] = _Slot([f.model for f in folds], self)
        else:
            self._stash_owner(slot)
            for fold, model in zip(folds, slot.models):
                for target, source in zip(_state_variables(model), _state_variables(fold.model)):
                    target.assign(source)
                fold.model = model
        slot.owner = owner
        self._slot_of[id(owner)] = slot
        return slot.graphs

    @staticmethod
    def _stash_owner(slot: _Slot) -> None:
        if slot.owner is not None:
            slot.stash[id(slot.owner)] = (slot.owner, [[np.array(v.numpy(), copy=True) for v in
                                                        _state_variables(m)] for m in slot.models])

    def acquire(self, owner: Any) -> None:
        """Put ``owner``'s state back into its slot's models (saving the current owner's) before it trains."""
        slot = self._slot_of.get(id(owner))
        if slot is None or slot.owner is owner:
            return
        self._stash_owner(slot)
        _, values = slot.stash.pop(id(owner))
        for model, saved in zip(slot.models, values):
            for variable, value in zip(_state_variables(model), saved):
                variable.assign(value)
        slot.owner = owner

    def give_back(self, owner: Any) -> None:
        """``owner`` is done: its slot is free (its models hold its final state until another run trains)."""
        slot = self._slot_of.pop(id(owner), None)
        if slot is not None:
            slot.stash.pop(id(owner), None)
            if slot.owner is owner:
                slot.owner = None
