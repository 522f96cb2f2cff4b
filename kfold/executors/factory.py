"""``make_executor`` and ``open_executor``: the executor that a name (and its options) asks for."""
from __future__ import annotations

import contextlib
import warnings
from typing import Any, Iterator

from kfold.core import fail
from kfold.executors.base import EXECUTORS, Executor, SequentialExecutor
from kfold.executors.options import check_n_jobs, resolve_devices
from kfold.executors.specs import _SPECS, ExecutorSpec, Processes, Ray, spec_from_keywords
from kfold.executors.dask_cluster import DaskExecutor
from kfold.executors.processes import ProcessExecutor
from kfold.executors.ray_cluster import RayExecutor

__all__ = ["build_executor", "executor_from_keywords", "make_executor", "open_executor"]

def build_executor(executor: Any) -> Executor:
    """The executor that a name, an :class:`~kfold.executors.specs.ExecutorSpec` or an Executor asks for.

    Examples
    --------
    >>> from kfold.executors.specs import Processes
    >>> build_executor(Processes(2, retries=1))
    ProcessExecutor(n_workers=2, retries=1)
    >>> build_executor(Processes(2, max_tasks_per_worker=5))
    ProcessExecutor(n_workers=2, retries=0, max_tasks_per_worker=5)
    """
    if isinstance(executor, Executor):
        return executor
    if isinstance(executor, str) and executor in _SPECS:
        executor = _SPECS[executor]()
    elif isinstance(executor, str) and executor == "sequential":
        return SequentialExecutor()
    if not isinstance(executor, ExecutorSpec):
        fail("executor", "one of " + ", ".join(map(repr, EXECUTORS))
             + ", kfold.Processes(...), kfold.Dask(...), kfold.Ray(...) or an Executor", executor)
    slots = resolve_devices(executor.devices, executor.name)
    n_jobs, retries = check_n_jobs(executor.n_jobs), executor.retries
    if isinstance(executor, Processes):
        return ProcessExecutor(n_jobs=n_jobs, devices=slots, retries=retries,
                               max_tasks_per_worker=executor.max_tasks_per_worker)
    if isinstance(executor, Ray):
        return RayExecutor(n_jobs=n_jobs, retries=retries, gpus=1 if slots else 0)
    return DaskExecutor(client=executor.client, n_jobs=n_jobs, devices=slots, retries=retries)


_OLD_KEYWORDS = ("n_jobs", "client", "devices", "retries", "max_tasks_per_worker")


def executor_from_keywords(executor: Any, given: dict[str, Any]) -> Any:
    """``executor`` with the old per-call keywords folded in, and the new spelling (``None`` if none was given).

    Examples
    --------
    >>> executor_from_keywords("processes", {"n_jobs": 2})
    (Processes(n_jobs=2), 'executor=kfold.Processes(n_jobs=2)')
    >>> executor_from_keywords("dask", {})
    ('dask', None)
    """
    if not given:
        return executor, None
    if isinstance(executor, Executor) or isinstance(executor, ExecutorSpec):
        for name, value in given.items():
            if value is not None and not (name == "retries" and value == 0):
                kind = "an Executor instance" if isinstance(executor, Executor) else repr(executor)
                fail(name, f"the default when executor is {kind}", value,
                     "Configure the executor itself, e.g. executor=kfold.Processes(n_jobs=2)")
        return executor, None
    if not isinstance(executor, str) or executor not in EXECUTORS:
        build_executor(executor)  # refused there, naming `executor`
    spec = spec_from_keywords(executor, **given)
    return spec, f"executor={spec!r}" if isinstance(spec, str) else f"executor=kfold.{spec!r}"


def make_executor(executor: Any = "sequential", **kwargs: Any) -> Executor:
    """The executor named by ``executor`` (or ``executor`` itself, if it is one).

    Parameters
    ----------
    executor : {"sequential", "processes", "dask", "ray"}, Processes, Dask, Ray or Executor
        Where the folds run: a name (default options), an object carrying its
        options (:class:`kfold.Processes`, :class:`kfold.Dask`, :class:`kfold.Ray`),
        or an executor already made.
    **kwargs
        Deprecated: ``n_jobs``, ``client``, ``devices``, ``retries``,
        ``max_tasks_per_worker`` (pass ``kfold.Processes(n_jobs=2)`` etc. instead).

    Examples
    --------
    >>> import kfold
    >>> make_executor()
    SequentialExecutor(n_workers=1, retries=0)
    >>> make_executor(kfold.Processes(n_jobs=2, max_tasks_per_worker=5))
    ProcessExecutor(n_workers=2, retries=0, max_tasks_per_worker=5)
    >>> make_executor("threads")
    Traceback (most recent call last):
    ...
    ValueError: Invalid `executor`. Expected one of 'sequential', 'processes', 'dask', 'ray', kfold.Processes(...), kfold.Dask(...), kfold.Ray(...) or an Executor. Received: executor='threads'
    """
    for name in kwargs:
        if name not in _OLD_KEYWORDS:
            raise TypeError(f"make_executor() got an unexpected keyword argument {name!r}")
    executor, spelling = executor_from_keywords(executor, kwargs)
    if spelling is not None:
        warnings.warn(f"make_executor({', '.join(f'{k}=...' for k in kwargs)}) is deprecated and will be removed "
                      f"in kfold 0.3; use make_executor({spelling.partition('=')[2]}) instead.",
                      DeprecationWarning, stacklevel=2)
    return build_executor(executor)


@contextlib.contextmanager
def open_executor(executor: Any = "sequential") -> Iterator[Executor]:
    """:func:`make_executor` as a context: an executor made here is closed at the end, one passed in is not.

    Examples
    --------
    >>> with open_executor("sequential") as executor:
    ...     executor.name
    'sequential'
    """
    made = build_executor(executor)
    try:
        yield made
    finally:
        if made is not executor:
            made.close()
