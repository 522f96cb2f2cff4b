"""The custom gradients a traced function registered are forgotten, only its own, and its graph then goes with it."""
from __future__ import annotations

import gc
import weakref

import pytest

from kfold.engines.tensorflow.custom_gradients import custom_gradients_of, forget_custom_gradients, forget_traced, traced_graphs

tf = pytest.importorskip("tensorflow")


@tf.custom_gradient
def clip_gradient(x):
    return tf.identity(x), lambda dy: tf.clip_by_value(dy, -1.0, 1.0)


def make_step():
    """A traced step that calls the custom gradient in a while loop (a nested graph) using an outer tensor."""
    def step(x):
        scale = x + 1.0  # captured by the loop's body: the body's graph holds the step's
        return tf.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, clip_gradient(v) * scale), (0, x))[1]

    step = tf.function(step)
    assert float(step(tf.constant(1.0))) == 8.0  # 1 x 2 x 2 x 2
    return step, weakref.ref(traced_graphs(step)[0])


def registered() -> set:
    from tensorflow.python.framework import ops

    return set(ops._gradient_registry._registry)


def test_tensorflow_keeps_a_dropped_graph_for_its_custom_gradient():
    """What :mod:`kfold.engines.tensorflow.custom_gradients` works around (if TensorFlow fixes it, this fails)."""
    step, graph = make_step()
    names = custom_gradients_of(traced_graphs(step))
    assert len(names) == 1 and set(names) <= registered()  # the while body's one call
    del step
    gc.collect()
    assert graph() is not None
    assert forget_custom_gradients(names) == 1
    gc.collect()
    assert graph() is None


def test_forgetting_frees_the_graph_with_its_function_and_leaves_the_others_entries():
    step, graph = make_step()
    other, other_graph = make_step()
    others = custom_gradients_of(traced_graphs(other))
    assert forget_traced(step) == 1 and forget_traced(step) == 0
    assert float(step(tf.constant(1.0))) == 8.0  # it still runs
    del step
    gc.collect()
    assert graph() is None  # the whole traced graph went
    assert other_graph() is not None and set(others) <= registered()
    assert float(other(tf.constant(1.0))) == 8.0


def test_functions_are_found_in_closures_and_gradients_still_work_after():
    step, _ = make_step()

    def wrapper(x):  # as Keras wraps its tf.function in train_function
        return step(x)

    assert traced_graphs(wrapper) == traced_graphs(step) != []
    assert traced_graphs(None, lambda: None) == []
    assert forget_traced(wrapper) == 1
    x = tf.Variable(1.0)
    with tf.GradientTape() as tape:
        y = clip_gradient(x * 5.0)
    assert float(tape.gradient(y, x)) == 5.0  # a new call registers its own gradient: 1 (unclipped) x 5
