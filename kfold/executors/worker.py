"""The wrapper around each task a worker runs: set up once, run, and send back plain bytes.

Each task comes back as plain bytes, so that nothing the task returns or raises
can break the pool: ``(index, True, pickled result)``, or ``(index, False,
pickled error fields)`` when the task raised or its result could not be pickled.
The worker's set-up is :mod:`kfold.executors.setup` (threads, GPU) and
:mod:`kfold.executors.slots` (which GPU); a task of a worker whose other threads
use Python's ``random`` (Dask's) gets a stream of its own
(:func:`kfold.core.seeds.own_thread_stream`).
"""
from __future__ import annotations

import hashlib
import os
import traceback
from typing import Any, Callable

from kfold.core import own_thread_stream
from kfold.executors.setup import (WorkerSettings, device_env, loky_initializer, parse_device, setup_worker,
                                   thread_env, worker_env)
from kfold.executors.slots import claim_slot

__all__ = [
    "WorkerSettings", "thread_env", "device_env", "parse_device", "claim_slot", "worker_env",
    "setup_worker", "loky_initializer", "TaskFunctions", "FUNCTIONS", "run_task",
    "call_alone", "dumps", "LOAD", "RAISED", "RESULT",
]

# What went wrong in a task (TaskError.kind).
LOAD = "could not be loaded in the worker"
RAISED = "raised an exception"
RESULT = "returned a result that could not be sent back"


class TaskFunctions:
    """The task function this worker unpickled last, by the hash of its bytes (each run sends one).

    One object, :data:`FUNCTIONS`, lives as long as the worker process; it keeps one function.

    Examples
    --------
    >>> functions = TaskFunctions()
    >>> functions.load(dumps(len))([1, 2])
    2
    """

    def __init__(self) -> None:
        self._loaded: dict[str, Callable] = {}

    def load(self, payload: bytes) -> Callable:
        """The function pickled in ``payload`` (unpickled once)."""
        import pickle

        key = hashlib.sha1(payload).hexdigest()
        if key not in self._loaded:
            self._loaded.clear()  # keep one: each run sends one function
            self._loaded[key] = pickle.loads(payload)
        return self._loaded[key]


#: This worker's task functions.
FUNCTIONS = TaskFunctions()


def dumps(obj: Any) -> bytes:
    """Pickle with cloudpickle (functions of notebooks and closures travel by value)."""
    import cloudpickle

    return cloudpickle.dumps(obj)


def _error(kind: str, exc: BaseException) -> bytes:
    try:
        exception = dumps(exc)
    except Exception:  # an exception that does not pickle still reports its text
        exception = None
    fields = {"kind": kind, "error_type": type(exc).__name__, "message": str(exc),
              "traceback": "".join(traceback.format_exception(exc)), "exception": exception,
              "pid": os.getpid()}
    return dumps(fields)


def run_task(fn_bytes: bytes, data: Any, index: int, task: Any, settings: WorkerSettings | None = None,
             markers: str | None = None) -> tuple[int, bool, bytes]:
    """Run ``fn(data, task)`` in this worker and return ``(index, ok, payload)``.

    With ``markers``, empty files note that the task started and ended,
    so that after a worker crash the executor knows which tasks were running.

    Examples
    --------
    >>> import pickle
    >>> index, ok, payload = run_task(dumps(lambda data, task: data + task), 10, 0, 5)
    >>> ok, pickle.loads(payload)
    (True, 15)
    """
    setup_worker(settings)
    if settings is not None and settings.own_random:
        own_thread_stream()
    _mark(markers, "started", index)
    stage = LOAD
    try:
        fn = FUNCTIONS.load(fn_bytes)
        stage = RAISED
        result = fn(data, task)
        stage = RESULT
        payload = dumps(result)
    except Exception as exc:
        return index, False, _error(stage, exc)
    finally:
        _mark(markers, "ended", index)
    return index, True, payload


def call_alone(fn: Callable[[], Any], data: Any, task: Any) -> Any:
    """``fn()``: lets a function of no arguments run as a task (a probe).

    Examples
    --------
    >>> call_alone(lambda: 3, None, None)
    3
    """
    return fn()


def _mark(folder: str | None, what: str, index: int) -> None:
    if folder is not None:
        try:
            open(os.path.join(folder, f"{what}-{index}"), "w").close()
        except OSError:  # a marker is a hint for crash handling, never a reason to fail
            pass
