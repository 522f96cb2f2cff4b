"""Train one Keras model the way every fold (and the final model) is trained.

Two things differ from a plain ``model.fit(x, y, shuffle=True)``:

* The training order is drawn by kfold, one fresh permutation per epoch from the
  fold's seed (once Keras is seeded, its own ``shuffle=True`` feeds the samples in
  the same order every epoch). The permutations are fed to a single ``fit`` call
  through ``tf.data``, so callbacks such as ``EarlyStopping`` see one ordinary run.
* Every epoch's logs are recorded under Keras' own key names.
"""
from __future__ import annotations

import gc
import inspect
import itertools
import math
import weakref
from typing import Any, Callable, Iterator

import numpy as np

from kfold.core import batches_dataset, import_keras
from kfold.core import Described, fail, message
from kfold.core import seed_keras
from kfold.data import n_samples, to_tensors, validation_batch_size
from kfold.engines import forget_fit_traces
from kfold.results import records_to_history
from kfold.core import check_interrupt, deferring_interrupts


__all__ = ["epoch_orders", "check_build_fn", "check_callbacks", "build_model", "train_model", "RESERVED_FIT_KWARGS",
           "stop_on_nan", "BuiltModels", "BUILT"]

# fit() arguments that kfold sets itself, with the argument to use instead.
RESERVED_FIT_KWARGS = {
    "x": "x", "y": "y", "epochs": "epochs", "batch_size": "batch_size",
    "validation_data": "cv", "validation_split": "cv", "sample_weight": "sample_weight",
    "callbacks": "callbacks", "verbose": "verbose", "steps_per_epoch": "batch_size",
    "initial_epoch": "epochs", "validation_batch_size": "batch_size",
}


class BuiltModels:
    """What :func:`build_model` remembers about the models and build functions it saw (weak references only).

    ``used``: models already handed to kfold by a build function (a build function
    that returns one again is returning a trained model, not a fresh one);
    ``checked``: build functions already checked for returning a model that existed
    before the call. One object, :data:`BUILT`, is made when this module is imported
    and lives as long as the process; an entry goes when its model or function is
    garbage collected, and :meth:`clear` forgets everything.

    Examples
    --------
    >>> built = BuiltModels()
    >>> built.first_check(print), built.first_check(print)
    (True, False)
    """

    def __init__(self) -> None:
        self.used: "weakref.WeakSet[Any]" = weakref.WeakSet()
        self.checked: "weakref.WeakSet[Any]" = weakref.WeakSet()

    def first_check(self, build_fn: Any) -> bool:
        """Whether ``build_fn`` is checked for the first time (then remembered)."""
        try:
            if build_fn in self.checked:
                return False
            self.checked.add(build_fn)
        except TypeError:  # not weakly referable: checked every time
            pass
        return True

    def clear(self) -> None:
        """Forget every model and build function seen."""
        self.used.clear()
        self.checked.clear()


#: The models and build functions this process's :func:`build_model` saw.
BUILT = BuiltModels()


def epoch_orders(n: int, seed: int, shuffle: bool = True) -> Iterator[np.ndarray]:
    """Yield the order in which the ``n`` training samples are fed, epoch after epoch.

    Each epoch gets a new permutation, drawn in sequence from a generator seeded
    with ``seed``, so the orders depend only on the seed.

    Examples
    --------
    >>> orders = epoch_orders(5, seed=0)
    >>> first, second = next(orders), next(orders)
    >>> sorted(first) == sorted(second) == [0, 1, 2, 3, 4], bool((first != second).any())
    (True, True)
    """
    rng = np.random.default_rng(seed)
    while True:
        yield rng.permutation(n) if shuffle else np.arange(n)


def _train_dataset(x: Any, y: Any, sample_weight: Any, *, batch_size: int, epochs: int,
                   seed: int, shuffle: bool) -> tuple[Any, int]:
    """A ``tf.data.Dataset`` with all batches of all epochs, and the steps per epoch."""
    n = n_samples(x)
    arrays = tuple(to_tensors(part) for part in (x, y, sample_weight) if part is not None)  # lists as tuples
    # All epochs' orders up front (epochs x n int32, e.g. 0.8 MB for 500 x 404): a
    # Python generator here would leave a callback registered in TensorFlow per fold.
    order_array = np.stack(list(itertools.islice(epoch_orders(n, seed, shuffle), epochs))).astype(np.int32)
    return batches_dataset(arrays, order_array, batch_size), math.ceil(n / batch_size)


def check_callbacks(callbacks: Any) -> tuple:
    """The callbacks as a tuple, after checking that each one is a Keras callback.

    A single callback (``callbacks=EarlyStopping(...)``) is taken as a list of one.

    Examples
    --------
    >>> check_callbacks(None)
    ()
    >>> import keras
    >>> len(check_callbacks(keras.callbacks.EarlyStopping()))
    1
    >>> check_callbacks(["early stop"])
    Traceback (most recent call last):
    ...
    TypeError: Invalid `callbacks`. Expected a list of keras.callbacks.Callback instances. Received: callbacks=('early stop',)
    """
    keras = import_keras()
    if callbacks is None:
        return ()
    if isinstance(callbacks, keras.callbacks.Callback):
        return (callbacks,)
    if isinstance(callbacks, (str, bytes, dict)) or not hasattr(callbacks, "__iter__"):
        fail("callbacks", "a list of keras.callbacks.Callback instances", callbacks,
             "Pass callbacks=[keras.callbacks.EarlyStopping(...), ...]", error=TypeError)
    callbacks = tuple(callbacks)
    for callback in callbacks:
        if not isinstance(callback, keras.callbacks.Callback):
            fail("callbacks", "a list of keras.callbacks.Callback instances", callbacks, error=TypeError)
    return callbacks


def check_build_fn(build_fn: Any) -> None:
    """Raise before any training if ``build_fn`` is not a function of no arguments.

    Examples
    --------
    >>> check_build_fn(lambda units: None)
    Traceback (most recent call last):
    ...
    TypeError: Invalid `build_fn`. Expected a function that can be called with no arguments. Received: build_fn=<lambda>(units). Bind the arguments first, e.g. functools.partial(build_fn, units=...)
    """
    keras = import_keras()
    if isinstance(build_fn, keras.Model):
        fail("build_fn", "a function that builds and compiles a new model",
             Described(f"a {type(build_fn).__name__} model instance"),
             "Pass the function itself, cross_validate(build_model, ...), "
             "not a model it built, cross_validate(build_model(), ...)", error=TypeError)
    if not callable(build_fn):
        fail("build_fn", "a function that builds and compiles a new model", build_fn, error=TypeError)
    try:
        signature = inspect.signature(build_fn)
    except (TypeError, ValueError):  # builtins without a signature: nothing to check
        return
    required = [p.name for p in signature.parameters.values()
                if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    if required:
        name = getattr(build_fn, "__name__", type(build_fn).__name__)
        fail("build_fn", "a function that can be called with no arguments",
             Described(f"{name}({', '.join(required)})"),
             f"Bind the arguments first, e.g. functools.partial(build_fn, {required[0]}=...)",
             error=TypeError)


def _live_models(keras: Any) -> list:
    """Every Keras model alive in this process (a walk over all objects: about 0.1 s)."""
    return [obj for obj in gc.get_objects() if isinstance(obj, keras.Model)]


def build_model(build_fn: Callable[[], Any], seed: int, *, free_memory: bool = True,
                check_fresh: bool = False) -> Any:
    """Clear the Keras session, seed everything, call ``build_fn`` and check the model.

    ``free_memory=False`` skips the garbage collection of ``clear_session`` (it
    can take a second); the fused path uses it for all but its first model.
    Raises if ``build_fn`` returns something other than a Keras model, a model it
    returned before (so not a fresh one) or a model that is not compiled. With
    ``check_fresh``, the first call of each ``build_fn`` also raises if the
    model existed before ``build_fn`` was called (``build_fn=lambda: model``),
    so that such a build function is refused before its first fold trains.
    A Ctrl-C while the session is cleared is held back until it is clear, then
    raised (:mod:`kfold.core.interrupts`).

    Examples
    --------
    >>> import keras
    >>> def build():
    ...     model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    ...     model.compile(optimizer="sgd", loss="mse")
    ...     return model
    >>> build_model(build, seed=0).count_params()
    3
    """
    keras = import_keras()
    with deferring_interrupts():  # a KeyboardInterrupt inside its garbage collection would be swallowed
        keras.backend.clear_session(free_memory=free_memory)
    seed_keras(seed)
    before = _live_models(keras) if check_fresh and BUILT.first_check(build_fn) else None
    try:
        model = build_fn()
    except Exception as error:
        raised = Described(f"build_fn() raised {type(error).__name__}: {error}")
        raise RuntimeError(message("build_fn", "a function that builds and compiles a model", raised,
                                   "The traceback above shows where build_fn failed")) from error
    check_interrupt()
    if not isinstance(model, keras.Model):
        fail("build_fn", "a function that returns a keras.Model",
             Described(f"build_fn() returned {type(model).__name__}"), "End build_fn with `return model`",
             error=TypeError)
    reused = before is not None and any(model is other for other in before)
    del before
    if reused or model in BUILT.used:
        what = "a model that existed before it was called" if reused else "a model it had returned before"
        fail("build_fn", "a function that builds a new model on every call",
             Described(f"build_fn() returned {what}"),
             "Create the model inside build_fn (model = keras.Sequential(...)), "
             "so each fold starts from fresh weights")
    if not getattr(model, "compiled", False):
        fail("build_fn", "a function that returns a compiled model",
             Described("build_fn() returned a model that was never compiled"),
             "Call model.compile(optimizer=..., loss=..., metrics=...) inside build_fn")
    BUILT.used.add(model)
    return model


def train_model(model: Any, x: Any, y: Any, sample_weight: Any = None, *, epochs: int,
                batch_size: int, seed: int, validation: tuple | None = None,
                callbacks: list | tuple = (), fit_kwargs: dict | None = None,
                verbose: int = 0) -> dict[str, list[float]]:
    """Fit ``model`` with per-epoch permutations from ``seed``; return its per-epoch logs.

    ``validation`` is ``(x_val, y_val)`` or ``(x_val, y_val, sample_weight_val)``.
    ``fit_kwargs`` may hold other ``fit`` arguments (``class_weight``,
    ``validation_freq``) and ``shuffle=False`` to keep the data's order.

    Examples
    --------
    >>> x, y = np.random.rand(8, 2), np.random.rand(8)
    >>> model = build_model(lambda: doctest_model(), seed=0)
    >>> logs = train_model(model, x, y, epochs=2, batch_size=4, seed=0, validation=(x, y))
    >>> sorted(logs), len(logs["loss"])
    (['loss', 'val_loss'], 2)
    """
    keras = import_keras()
    kwargs = dict(fit_kwargs or {})
    shuffle = bool(kwargs.pop("shuffle", True))
    dataset, steps = _train_dataset(x, y, sample_weight, batch_size=batch_size,
                                    epochs=epochs, seed=seed, shuffle=shuffle)
    records: list[dict] = []
    logger = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: records.append(dict(logs or {})))
    if validation is not None:
        kwargs["validation_data"] = tuple(part for part in validation if part is not None)
        kwargs["validation_batch_size"] = validation_batch_size(batch_size, n_samples(validation[0]))
    # shuffle=False: the dataset already holds each epoch's own permutation.
    model.fit(dataset, epochs=epochs, steps_per_epoch=steps, callbacks=[*callbacks, stop_on_nan(), logger],
              verbose=verbose, shuffle=False, **kwargs)
    # traced: fit's steps (and all their graphs hold) may go with the model
    forget_fit_traces(model)
    return records_to_history(records)


def stop_on_nan() -> Any:
    """A callback that stops training at the first NaN or infinite loss, silently.

    Keras' ``TerminateOnNaN`` does the same but prints a line, even with ``verbose=0``.

    Examples
    --------
    >>> callback = stop_on_nan()
    >>> callback.set_model(doctest_model())
    >>> callback.on_train_batch_end(0, {"loss": float("nan")})
    >>> callback.model.stop_training
    True
    """
    keras = import_keras()

    class StopOnNaN(keras.callbacks.Callback):
        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            loss = (logs or {}).get("loss")
            if loss is not None and not math.isfinite(float(loss)):
                self.model.stop_training = True

    return StopOnNaN()


def doctest_model() -> Any:
    keras = import_keras()
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    return model
