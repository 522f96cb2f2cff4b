"""What the fused graph tests share: which graphs a run made, two runs' outcomes compared to rounding, a two-input model."""
from __future__ import annotations

import numpy as np

from kfold.engines.tensorflow import choice


def graphs_made(patch) -> list:
    """Record every graph the fused runner makes from now on (``patch``: a pytest monkeypatch)."""
    made = []

    def make_graph(*args):
        made.append(choice.make_graph(*args))
        return made[-1]
    patch.setattr("kfold.engines.tensorflow.engine.make_graph", make_graph)
    return made


def assert_close(outcomes, others, rtol=1e-5):
    """The same keys, and histories and final weights equal to float rounding, fold by fold."""
    for a, b in zip(outcomes, others):
        assert list(a.history) == list(b.history) and a.scores.keys() == b.scores.keys()
        for key in a.history:
            np.testing.assert_allclose(a.history[key], b.history[key], rtol=rtol, atol=1e-6)
        for wa, wb in zip(a.model.get_weights(), b.model.get_weights()):
            np.testing.assert_allclose(wa, wb, rtol=rtol, atol=1e-6)


def two_inputs():
    """A functional model of two inputs (6 and 3 features), one branch each, merged."""
    import keras

    a, b = keras.Input((6,)), keras.Input((3,))
    merged = keras.layers.Concatenate()([keras.layers.Dense(4, activation="relu")(a),
                                         keras.layers.Dense(2, activation="tanh")(b)])
    model = keras.Model([a, b], keras.layers.Dense(1)(merged))
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    return model
