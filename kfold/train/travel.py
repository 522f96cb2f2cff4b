"""What cannot travel to (or back from) the workers, and the messages that say what to do.

Found by trying it with loky and Dask workers (keras 3, cloudpickle 3):

* Functions and classes defined in a notebook (``__main__``), closures and
  lambdas travel by value: a ``build_fn`` that uses a custom layer defined in
  the notebook builds and trains in the workers.
* Functions of a module travel by reference: the workers import the module by
  name, which fails when it is not installed where they run.
* Objects captured by ``build_fn`` must pickle (not a lock, an open file, a
  generator, a ``tf.data`` dataset).
* A model travels back (``return_models=True``) by Keras saving it and loading
  it again, which finds a custom layer only when it is registered with
  ``@keras.saving.register_keras_serializable()`` *and* defined in an importable
  module: a class defined in the notebook arrives in the worker by value,
  without its registration, so the model it saves does not load back, even if
  the notebook registered it.
"""
from __future__ import annotations

import functools
import pickle
import warnings
from typing import Any, Callable, NoReturn

from kfold.core import Described, fail
from kfold.executors import Executor, TaskError
from kfold.executors import LOAD, dumps

__all__ = ["check_travel", "check_pickles", "explain_probe_error", "check_model_returns", "keras_reason"]


def _name(value: Any) -> str:
    if callable(value):
        return getattr(value, "__qualname__", None) or type(value).__name__
    return type(value).__name__


def check_pickles(name: str, value: Any) -> None:
    """Raise a TypeError saying what to do if ``value`` does not pickle.

    Examples
    --------
    >>> check_pickles("callbacks", [1, 2])
    >>> check_pickles("preprocess", (x for x in []))
    Traceback (most recent call last):
    ...
    TypeError: Invalid `preprocess`. Expected something that can be sent to worker processes. Received: preprocess=generator. It does not pickle (TypeError: cannot pickle 'generator' object): create objects such as locks, open files, generators, datasets or connections inside build_fn instead of capturing them, or use executor='sequential'
    """
    try:
        dumps(value)
        return
    except Exception as exc:
        error = exc
    fail(name, "something that can be sent to worker processes", Described(_name(value)),
             f"It does not pickle ({type(error).__name__}: {error}): create objects such as locks, "
             "open files, generators, datasets or connections inside build_fn instead of capturing "
             "them, or use executor='sequential'", error=TypeError)


def explain_probe_error(error: Any, build_fn: Callable[[], Any]) -> NoReturn:
    """Raise the error of the probe task, explained when ``build_fn`` did not load in a worker.

    Examples
    --------
    >>> from kfold.executors.base import TaskError
    >>> error = TaskError(None, LOAD, "ModuleNotFoundError", "No module named 'my_models'")
    >>> def build_model(): pass
    >>> build_model.__module__ = "my_models"
    >>> explain_probe_error(error, build_model)
    Traceback (most recent call last):
    ...
    TypeError: Invalid `build_fn`. Expected a function that the worker processes can load. Received: build_fn=build_model from module 'my_models'. The workers failed to load it (ModuleNotFoundError: No module named 'my_models'): they import a function's module by name. Make that module importable where the workers run: install it there (pip install -e .), send it with client.upload_file('my_models.py') on Dask, or send it by value with cloudpickle.register_pickle_by_value(my_models)
    """
    if error.kind != LOAD:
        raise error.to_exception()
    module = getattr(build_fn, "__module__", None) or "?"
    fail("build_fn", "a function that the worker processes can load",
         Described(f"{_name(build_fn)} from module {module!r}"),
         f"The workers failed to load it ({error.error_type}: {error.message}): they import a "
         "function's module by name. Make that module importable where the workers run: install it "
         f"there (pip install -e .), send it with client.upload_file('{module.split('.')[0]}.py') on "
         f"Dask, or send it by value with cloudpickle.register_pickle_by_value({module})", error=TypeError)


def keras_reason(message: str) -> str:
    """The first sentence of the reason in a Keras loading error (which may be pages long).

    Examples
    --------
    >>> keras_reason("Sequential could not be deserialized. config={...}. "
    ...              "Exception encountered: Could not locate class 'Scale'. Make sure ...")
    "Could not locate class 'Scale'"
    """
    reason = message.split("Exception encountered:")[-1].strip()
    return reason.split(". ")[0].split("\n")[0][:300]


def check_model_returns(result: tuple[bool, Any]) -> None:
    """Raise if the model the probe built in a worker does not load back here.

    ``result`` is ``(True, pickled model)``, or ``(False, why it did not pickle)``.

    Examples
    --------
    >>> check_model_returns((False, "TypeError: cannot pickle 'weakref' object"))
    Traceback (most recent call last):
    ...
    ValueError: Invalid `return_models`. Expected False, or models that can travel back from the worker processes. Received: return_models=True. A model built by build_fn in a worker does not travel back (TypeError: cannot pickle 'weakref' object): models travel back by Keras saving them and loading them here, which finds custom layers, models and functions only when they are registered and importable. Define them in a .py module (e.g. next to the notebook), decorate them with @keras.saving.register_keras_serializable() and import them; a class defined in the notebook itself does not load back, even registered. Or pass return_models=False, or use executor='sequential'
    """
    ok, payload = result
    reason = payload
    if ok:
        try:
            with warnings.catch_warnings():  # an untrained model's optimizer has no variables yet
                warnings.simplefilter("ignore")
                pickle.loads(payload)
            return
        except Exception as error:
            reason = f"{type(error).__name__}: {keras_reason(str(error))}"
    fail("return_models", "False, or models that can travel back from the worker processes", True,
         f"A model built by build_fn in a worker does not travel back ({reason}): models travel back "
         "by Keras saving them and loading them here, which finds custom layers, models and functions "
         "only when they are registered and importable. Define them in a .py module (e.g. next to the "
         "notebook), decorate them with @keras.saving.register_keras_serializable() and import them; "
         "a class defined in the notebook itself does not load back, even registered. Or pass "
         "return_models=False, or use executor='sequential'")


def check_travel(executor: Executor, build_fn: Callable[[], Any], *, return_models: bool = False,
                 **travellers: Any) -> None:
    """Raise, before any work starts, if what the tasks need cannot reach the workers.

    ``build_fn`` was checked by the public entry. Checks that it and the other ``travellers`` (callbacks, preprocessing...) pickle, that a worker can
    load ``build_fn`` (its module importable there), and, with
    ``return_models``, that a model built by ``build_fn`` in a worker loads back
    here. Nothing is checked for an executor that runs in this process.

    Examples
    --------
    >>> import threading
    >>> from kfold.executors import Processes, make_executor
    >>> lock = threading.Lock()
    >>> check_travel(make_executor(Processes(n_jobs=2)), lambda: lock)
    Traceback (most recent call last):
    ...
    TypeError: Invalid `build_fn`. Expected something that can be sent to worker processes. Received: build_fn=<lambda>. It does not pickle (TypeError: cannot pickle '_thread.lock' object): create objects such as locks, open files, generators, datasets or connections inside build_fn instead of capturing them, or use executor='sequential'
    """
    if executor.in_process:
        return
    for name, value in {"build_fn": build_fn, **travellers}.items():
        check_pickles(name, value)
    result = executor.probe(functools.partial(_probe, build_fn, return_models))
    if isinstance(result, TaskError):
        explain_probe_error(result, build_fn)
    if return_models:
        check_model_returns(result)


def _probe(build_fn: Callable[[], Any], return_models: bool) -> Any:
    """Runs in a worker: ``build_fn`` was loaded; build a model and pickle it if asked."""
    if not return_models:
        return None
    model = build_fn()
    try:
        return True, pickle.dumps(model)
    except Exception as exc:
        return False, f"{type(exc).__name__}: {exc}"
