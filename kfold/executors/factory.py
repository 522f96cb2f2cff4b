"""``make_executor`` and ``open_executor``: the executor that a name (and its options) asks for."""
from __future__ import annotations

import contextlib
from typing import Any, Iterator

from kfold.core.checks import fail
from kfold.executors.base import EXECUTORS, Executor, SequentialExecutor
from kfold.executors.options import check_client, check_max_tasks_per_worker, check_n_jobs, check_retries, resolve_devices
from kfold.executors.dask_cluster import DaskExecutor
from kfold.executors.processes import ProcessExecutor
from kfold.executors.ray_cluster import RayExecutor

__all__ = ["build_executor", "make_executor", "open_executor"]

def _instance(executor: Any, **given: Any) -> Any:
    for name, value in given.items():
        if value not in (None, 0):
            fail(name, "the default when executor is an Executor instance", value,
                 "Configure the executor itself, e.g. make_executor('processes', n_jobs=2)")
    return executor


def build_executor(executor: Any, *, n_jobs: Any, client: Any, devices: Any, retries: Any,
                   max_tasks_per_worker: Any = None) -> Any:
    """Check the arguments of :func:`kfold.executors.base.make_executor` and build the executor.

    Examples
    --------
    >>> build_executor("processes", n_jobs=2, client=None, devices=None, retries=1)
    ProcessExecutor(n_workers=2, retries=1)
    >>> build_executor("processes", n_jobs=2, client=None, devices=None, retries=0, max_tasks_per_worker=5)
    ProcessExecutor(n_workers=2, retries=0, max_tasks_per_worker=5)
    """

    if isinstance(executor, Executor):
        return _instance(executor, n_jobs=n_jobs, client=client, devices=devices, retries=retries,
                         max_tasks_per_worker=max_tasks_per_worker)
    if not isinstance(executor, str) or executor not in EXECUTORS:
        fail("executor", "one of " + ", ".join(map(repr, EXECUTORS)) + ", or an Executor", executor)
    n_jobs, retries = check_n_jobs(n_jobs), check_retries(retries)
    max_tasks_per_worker = check_max_tasks_per_worker(max_tasks_per_worker, executor)
    check_client(client, executor)
    slots = resolve_devices(devices, executor)
    if executor == "sequential":
        if n_jobs not in (None, 1):
            fail("n_jobs", "None or 1 with executor='sequential'", n_jobs,
                 "Pass executor='processes' (or 'dask') to use several cores")
        return SequentialExecutor()
    if executor == "processes":

        return ProcessExecutor(n_jobs=n_jobs, devices=slots, retries=retries,
                               max_tasks_per_worker=max_tasks_per_worker)
    if executor == "ray":

        return RayExecutor(n_jobs=n_jobs, retries=retries, gpus=1 if slots else 0)
    if client is not None and n_jobs is not None:
        fail("n_jobs", "None when a Dask client is given", n_jobs,
             "The cluster's workers run the tasks: start more workers to use more cores")

    return DaskExecutor(client=client, n_jobs=n_jobs, devices=slots, retries=retries)


def make_executor(executor: Any = "sequential", *, n_jobs: int | None = None, client: Any = None,
                  devices: Any = None, retries: int = 0, max_tasks_per_worker: int | None = None) -> Executor:
    """The executor named by ``executor`` (or ``executor`` itself, if it is one).

    Parameters
    ----------
    executor : {"sequential", "processes", "dask", "ray"} or Executor
        Where the folds run (see the module's description).
    n_jobs : int, optional
        Worker processes: ``-1`` or ``None`` for one per core (one per device
        with ``devices``). For ``"dask"``, the size of the ``LocalCluster``
        started when no ``client`` is given.
    client : dask.distributed.Client or str, optional
        The Dask cluster to use, or its scheduler's address (``"tcp://host:8786"``).
    devices : list of str, or "auto", optional
        One GPU per worker, e.g. ``["GPU:0", "GPU:1"]``: the k-th worker to start
        gets ``devices[k % len(devices)]``; ``"auto"`` uses every visible GPU.
    retries : int, default 0
        How many times a task whose worker died (killed, out of memory) runs
        again before it is reported as failed. Exceptions are not retried.
    max_tasks_per_worker : int, optional
        ``"processes"`` only (``n_jobs`` of 2 or more): replace the worker
        processes with fresh ones after about this many tasks (folds) each,
        so that memory stays flat over long runs (TensorFlow keeps a few MB
        per model built in a process, even after ``clear_session``). The tasks
        run in chunks of ``n_jobs * max_tasks_per_worker`` on fresh workers,
        each of which imports TensorFlow again. ``None`` (the default) keeps
        the workers. See docs/parallel.md.

    Examples
    --------
    >>> make_executor()
    SequentialExecutor(n_workers=1, retries=0)
    >>> make_executor("processes", n_jobs=2, max_tasks_per_worker=5)
    ProcessExecutor(n_workers=2, retries=0, max_tasks_per_worker=5)
    >>> make_executor("threads")
    Traceback (most recent call last):
    ...
    ValueError: Invalid `executor`. Expected one of 'sequential', 'processes', 'dask', 'ray', or an Executor. Received: executor='threads'
    """

    return build_executor(executor, n_jobs=n_jobs, client=client, devices=devices, retries=retries,
                          max_tasks_per_worker=max_tasks_per_worker)


@contextlib.contextmanager
def open_executor(executor: Any = "sequential", **options: Any) -> Iterator[Executor]:
    """:func:`make_executor` as a context: an executor made here is closed at the end, one passed in is not.

    Examples
    --------
    >>> with open_executor("sequential") as executor:
    ...     executor.name
    'sequential'
    """
    made = make_executor(executor, **options)
    try:
        yield made
    finally:
        if made is not executor:
            made.close()
