"""The child process of the Ctrl-C tests in test_faults.py.

``python interrupt_child.py MOMENT RUN_DIR`` runs a 3-fold sequential
``cross_validate`` that, at MOMENT of fold 2 (or just before it), prints
``PAUSED`` and waits for a line on stdin: the parent sends SIGINT there, then the
line. At the end the child prints one JSON line: what the call returned or raised.
"""
from __future__ import annotations

import json
import os
import signal
import sys
import warnings
import weakref
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import kfold  # noqa: E402
import kfold.results.rundir as rundir  # noqa: E402
import kfold.train.run.progress as progress  # noqa: E402

MOMENT = ""  # set from the command line
state = {"builds": 0}


def pause():
    print("PAUSED", flush=True)
    sys.stdin.readline()


def inside_a_weakref_callback(fn):
    """Call ``fn`` from a weak-reference callback, as garbage collection does (exceptions there are swallowed)."""
    class Thing:
        pass

    thing = Thing()
    ref = weakref.ref(thing, lambda _: fn())
    del thing  # the callback runs now
    return ref


def build():
    state["builds"] += 1
    if MOMENT == "build" and state["builds"] == 2:
        pause()
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="relu"), keras.layers.Dense(1)])
    model.compile(optimizer="rmsprop", loss="mse", metrics=["mae"])
    if MOMENT == "evaluate" and state["builds"] == 2:
        evaluate = model.evaluate

        def paused_evaluate(*args, **kwargs):
            pause()
            return evaluate(*args, **kwargs)

        model.evaluate = paused_evaluate
    return model


class AtMoment(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if state["builds"] == 2 and epoch == 1:
            if MOMENT == "train":
                pause()
            elif MOMENT == "swallowed_in_training":
                inside_a_weakref_callback(pause)


def install():
    """Wrap clear_session, the fold file write and the progress report so that they can pause."""
    clear_session, write_json, done = keras.backend.clear_session, rundir.write_json, progress.FoldProgress.done

    def paused_clear_session(*args, **kwargs):
        if MOMENT == "clear_session" and state["builds"] == 1:  # the one before fold 2 is built
            inside_a_weakref_callback(pause)
        return clear_session(*args, **kwargs)

    def paused_write_json(path, data):
        if MOMENT == "save" and path.name == "fold_001.json":
            pause()
        return write_json(path, data)

    def paused_done(self, index, *args, **kwargs):
        done(self, index, *args, **kwargs)
        if MOMENT == "between" and index == 0:
            pause()

    keras.backend.clear_session = paused_clear_session
    rundir.write_json = paused_write_json
    progress.FoldProgress.done = paused_done


if __name__ == "__main__":
    MOMENT, RUN_DIR = sys.argv[1], Path(sys.argv[2])
    # Ctrl-C as in a terminal: a process started in the background by a shell without job control
    # inherits SIGINT ignored (then Python installs no handler, and kfold rightly leaves it alone)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    install()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 3))
    y = x.sum(axis=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = kfold.cross_validate(build, x, y, cv=3, epochs=3, batch_size=8, seed=0, verbose=0,
                                          strategy="sequential", callbacks=[AtMoment()], run_dir=RUN_DIR)
            report = {"n_folds": result.n_folds, "interrupted": bool(result.params.get("interrupted"))}
        except KeyboardInterrupt:
            report = {"raised": "KeyboardInterrupt"}
    report["warnings"] = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    folds = RUN_DIR / "folds"
    report["files"] = sorted(p.name for p in folds.iterdir()) if folds.is_dir() else []
    print(json.dumps(report), flush=True)
