"""Forget the custom gradients a traced function registered, so that its graph can go with it.

A ``tf.custom_gradient`` called while a ``tf.function`` traces registers its
gradient function in TensorFlow's global gradient registry under a new name
(``CustomGradient-<n>``), and nothing ever removes it. That function holds the
tensors it was called with, so the whole traced graph stays in memory until the
process ends: every operation, and the functions of its while loops in the eager
context. Keras' optimizers call one in every training step they trace
(``tf.distribute``'s all-reduce of the gradients), so every fold model that
``model.fit`` trained and every fused graph kfold compiled used to keep several MB
each (BENCHMARKS.md, "Memory: a fused search of 20 candidates").

An entry is read only while its graph is traced: the gradient is taken then,
inside the training step. Calling the traced function later needs none, unless a
``GradientTape`` records the call, which kfold's training never does. So once
kfold's own training functions have traced, :func:`forget_traced` removes their
entries, and their graphs go when the functions do. Only entries whose tensors
belong to those functions' graphs are touched (a graph another thread is tracing
keeps its own); where TensorFlow's internals differ from what this expects,
nothing is removed.
"""
from __future__ import annotations

import types
from typing import Any, Iterable

from kfold.core import import_tensorflow

__all__ = ["traced_graphs", "custom_gradients_of", "forget_custom_gradients", "forget_traced"]

_PREFIX = "CustomGradient-"


def _registry() -> dict:
    """TensorFlow's gradient registry (name -> entry), or an empty dict where it is not where expected."""
    import_tensorflow()
    from tensorflow.python.framework import ops

    registry = getattr(getattr(ops, "_gradient_registry", None), "_registry", None)
    return registry if isinstance(registry, dict) else {}


def _tf_functions(obj: Any, depth: int = 4) -> Iterable[Any]:
    """The ``tf.function`` objects in ``obj``: itself, or those in a Python function's closure (Keras' ``train_function``)."""
    tf = import_tensorflow()
    if isinstance(obj, tf.types.experimental.PolymorphicFunction):
        yield obj
    elif isinstance(obj, types.FunctionType) and depth > 0:
        for cell in obj.__closure__ or ():
            try:
                contents = cell.cell_contents
            except ValueError:  # an empty cell
                continue
            yield from _tf_functions(contents, depth - 1)


def traced_graphs(*functions: Any) -> list:
    """The graphs of every trace of the ``tf.function`` objects in ``functions`` (see :func:`_tf_functions`).

    Examples
    --------
    >>> import tensorflow as tf
    >>> double = tf.function(lambda x: 2 * x)
    >>> _ = double(tf.constant(1.0)), double(tf.constant([1.0, 2.0]))
    >>> len(traced_graphs(double)), traced_graphs(None)
    (2, [])
    """
    graphs = []
    for function in functions:
        for tf_function in _tf_functions(function):
            listed = getattr(tf_function, "_list_all_concrete_functions", None)  # TensorFlow's own, private
            graphs.extend(concrete.graph for concrete in (listed() if listed else ()))
    return graphs


def _held_graph(gradient: Any) -> Any:
    """The graph of the first tensor a registered custom gradient holds (in its closure, two levels down), or None."""
    tf = import_tensorflow()
    todo = [gradient] if isinstance(gradient, types.FunctionType) else []
    for _ in range(3):
        found = []
        for fn in todo:
            cells = dict(zip(fn.__code__.co_freevars, fn.__closure__ or ()))
            # the call's own results first: they are made in the graph that called it
            for _, cell in sorted(cells.items(), key=lambda item: item[0] != "result"):
                try:
                    contents = cell.cell_contents
                except ValueError:
                    continue
                if isinstance(contents, types.FunctionType):
                    found.append(contents)
                    continue
                try:
                    leaves = tf.nest.flatten(contents)
                except Exception:  # noqa: BLE001 - not a structure nest can read: no tensors to find
                    continue
                tensors = [t for t in leaves if isinstance(t, tf.Tensor) and hasattr(t, "graph")]
                if tensors:
                    return tensors[0].graph
        todo = found
    return None


def _within(graph: Any, ids: set) -> bool:
    """Whether ``graph`` is one of ``ids`` or a graph nested in one (a while loop's body, a called function)."""
    while graph is not None:
        if id(graph) in ids:
            return True
        graph = getattr(graph, "outer_graph", None) if getattr(graph, "building_function", False) else None
    return False


def custom_gradients_of(graphs: Iterable[Any]) -> list[str]:
    """The names of the custom gradients registered while ``graphs`` (or graphs nested in them) were traced.

    Examples
    --------
    >>> import tensorflow as tf
    >>> @tf.custom_gradient
    ... def clip(x):
    ...     return tf.identity(x), lambda dy: tf.clip_by_value(dy, -1.0, 1.0)
    >>> step = tf.function(lambda x: clip(x))
    >>> _ = step(tf.constant(3.0))
    >>> [name.split("-")[0] for name in custom_gradients_of(traced_graphs(step))]
    ['CustomGradient']
    """
    ids = {id(graph) for graph in graphs}
    if not ids:
        return []
    return [name for name, entry in list(_registry().items())
            if name.startswith(_PREFIX) and isinstance(entry, dict)
            and _within(_held_graph(entry.get("type")), ids)]


def forget_custom_gradients(names: Iterable[str]) -> int:
    """Remove these custom gradients from TensorFlow's registry; return how many were there.

    Examples
    --------
    >>> forget_custom_gradients(["CustomGradient-not-registered"])
    0
    """
    registry = _registry()
    return sum(registry.pop(name, None) is not None for name in names)


def forget_traced(*functions: Any) -> int:
    """Forget the custom gradients the traces of ``functions`` registered; return how many.

    Call it once they have traced, and only for functions no ``GradientTape`` will
    record: kfold's training steps. ``functions``: ``tf.function`` objects, or Python
    functions holding them in their closures (a Keras model's ``train_function``).

    Examples
    --------
    >>> import tensorflow as tf
    >>> @tf.custom_gradient
    ... def clip(x):
    ...     return tf.identity(x), lambda dy: tf.clip_by_value(dy, -1.0, 1.0)
    >>> step = tf.function(lambda x: clip(x))
    >>> _ = step(tf.constant(3.0))
    >>> forget_traced(step), forget_traced(step)
    (1, 0)
    >>> float(step(tf.constant(3.0)))  # it still runs
    3.0
    """
    return forget_custom_gradients(custom_gradients_of(traced_graphs(*functions)))
