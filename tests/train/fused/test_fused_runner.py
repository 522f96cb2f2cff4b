"""A fused run paused with ``run(until=...)`` ends no callback, and continues without starting them again."""
from __future__ import annotations

import numpy as np

from conftest import make_regressor


def counting_callback():
    import keras

    class Counting(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.calls = []

        def on_train_begin(self, logs=None):
            self.calls.append("begin")

        def on_train_end(self, logs=None):
            self.calls.append("end")

    return Counting()


def test_pause_is_honest_and_continues_bitwise():
    from kfold.train import plan_folds
    from kfold.train.fold import FitConfig, FoldData
    from kfold.train.fused.folds import prepare_folds
    from kfold.train.fused.run import start_runner

    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3))
    y = x @ np.array([1.0, -2.0, 0.5])
    tasks = plan_folds(2, len(y), seed=0)
    config = FitConfig(epochs=6, batch_size=8, callbacks=(counting_callback(),))

    def runner():
        return start_runner(prepare_folds(make_regressor, FoldData(x, y), tasks, config), config,
                            jit_compile=False)  # without XLA: quicker to compile

    full, paused = runner(), runner()
    full.run()
    paused.run(until=2)
    assert [f.callbacks[0].calls for f in paused.folds] == [["begin"], ["begin"]]  # a pause ends nothing
    assert not paused.ended and paused.epochs_done == 2
    paused.run(until=4)
    paused.run(until=6)  # the last epoch: the run ends
    assert [f.callbacks[0].calls for f in paused.folds] == [["begin", "end"], ["begin", "end"]]
    assert [f.history for f in paused.folds] == [f.history for f in full.folds]
    paused.end()  # ended once only
    assert paused.folds[0].callbacks[0].calls == ["begin", "end"]
    assert [f.callbacks[0].calls for f in full.folds] == [["begin", "end"], ["begin", "end"]]
