"""The executors' arguments checked (``n_jobs``, ``devices``, ``retries``, ``max_tasks_per_worker``) and optional packages imported with an install hint."""
from __future__ import annotations

import numbers
import os
from types import ModuleType
from typing import Any

from kfold.core import gpu_count
from kfold.core import fail
from kfold.executors.worker import device_env

__all__ = ["import_optional", "check_n_jobs", "visible_gpus", "resolve_devices", "check_retries",
           "check_max_tasks_per_worker", "check_client"]


_EXTRAS = {"distributed": ("dask", "Dask"), "ray": ("ray", "Ray")}


def import_optional(module: str, executor: str) -> ModuleType:
    """Import ``distributed`` or ``ray``, or raise ImportError naming the pip extra.

    Examples
    --------
    >>> import_optional("distributed", "dask").__name__
    'distributed'
    """
    import importlib

    extra, name = _EXTRAS[module]
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(
            f"executor={executor!r} needs {name}, which is not installed. Install it with: "
            f'pip install "keras-kfold[{extra}]"') from error


def check_n_jobs(n_jobs: Any) -> int | None:
    """``None`` (one per core) for ``None`` or ``-1``, else a positive integer.

    Examples
    --------
    >>> check_n_jobs(-1), check_n_jobs(3)
    (None, 3)
    >>> check_n_jobs(0)
    Traceback (most recent call last):
    ...
    ValueError: Invalid `n_jobs`. Expected a positive integer, or -1 or None for one worker per core. Received: n_jobs=0
    """
    if n_jobs is None or (n_jobs == -1 and not isinstance(n_jobs, bool)):
        return None
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral) or n_jobs < 1:
        fail("n_jobs", "a positive integer, or -1 or None for one worker per core", n_jobs)
    return int(n_jobs)


def visible_gpus() -> int:
    """How many GPUs this process sees (``CUDA_VISIBLE_DEVICES``, else TensorFlow's count).

    Examples
    --------
    >>> visible_gpus() >= 0
    True
    """
    listed = os.environ.get("CUDA_VISIBLE_DEVICES")
    if listed is not None:
        return len([part for part in listed.split(",") if part.strip() and part.strip() != "-1"])

    return gpu_count()


def resolve_devices(devices: Any, executor: str) -> tuple[str, ...] | None:
    """The ``CUDA_VISIBLE_DEVICES`` value of each worker slot, from ``devices``.

    Examples
    --------
    >>> resolve_devices(["GPU:0", "GPU:1"], "processes")
    ('0', '1')
    >>> resolve_devices(["GPU:0"], "sequential")
    Traceback (most recent call last):
    ...
    ValueError: Invalid `devices`. Expected None with executor='sequential'. Received: devices=['GPU:0']. Pass executor='processes' (or 'dask') to run one worker per device
    """
    if devices is None:
        return None
    if executor == "ray":
        if not (isinstance(devices, str) and devices == "auto"):
            fail("devices", "None or 'auto' with executor='ray'", devices,
                 "Ray places tasks on GPUs itself: devices='auto' gives each fold one GPU")
        return ("auto",)
    if executor != "processes" and executor != "dask":
        fail("devices", f"None with executor={executor!r}", devices,
             "Pass executor='processes' (or 'dask') to run one worker per device")
    if isinstance(devices, str) and devices == "auto":
        count = visible_gpus()
        return tuple(device_env(i, os.environ.get("CUDA_VISIBLE_DEVICES"))["CUDA_VISIBLE_DEVICES"]
                     for i in range(count)) or None
    if isinstance(devices, (str, bytes)) or not hasattr(devices, "__iter__") or not list(devices):
        fail("devices", "'auto' or a non-empty list such as ['GPU:0', 'GPU:1']", devices)
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    try:
        return tuple(device_env(device, visible)["CUDA_VISIBLE_DEVICES"] for device in devices)
    except ValueError as error:
        fail("devices", "'auto' or a list of visible devices such as ['GPU:0', 'GPU:1']", devices,
             str(error)[:1].upper() + str(error)[1:])


def check_retries(retries: Any) -> int:
    if isinstance(retries, bool) or not isinstance(retries, numbers.Integral) or retries < 0:
        fail("retries", "a non-negative integer", retries)
    return int(retries)


_NO_RECYCLING = {
    "sequential": "The folds run in this process, which cannot be replaced: pass "
                  "executor='processes' (n_jobs=2 or more) to run them in worker processes that are",
    "dask": "Dask keeps its workers: start them with `dask worker --lifetime 1h --lifetime-restart` "
            "(or call client.restart() between runs), or pass executor='processes' to run the folds in "
            "worker processes that are",
    "ray": "Ray keeps its workers (kfold does not set Ray's own `max_calls`): pass executor='processes' to "
           "run the folds in worker processes that are",
}


def check_max_tasks_per_worker(value: Any, executor: str = "processes", n_workers: int | None = None) -> int | None:
    """``None`` (reuse workers for ever), else a positive integer, for an executor that recycles workers.

    Only ``"processes"`` with at least 2 workers replaces its worker processes
    (with one worker, joblib runs the tasks in this process).

    Examples
    --------
    >>> check_max_tasks_per_worker(None), check_max_tasks_per_worker(5)
    (None, 5)
    >>> check_max_tasks_per_worker(0)
    Traceback (most recent call last):
    ...
    ValueError: Invalid `max_tasks_per_worker`. Expected None or a positive integer (how many tasks a worker process runs before a fresh one replaces it). Received: max_tasks_per_worker=0
    >>> check_max_tasks_per_worker(1, "processes", n_workers=1)
    Traceback (most recent call last):
    ...
    ValueError: Invalid `max_tasks_per_worker`. Expected None with a single worker (n_jobs=1). Received: max_tasks_per_worker=1. With n_jobs=1, joblib runs the tasks in this process, which cannot be replaced: pass n_jobs=2 or more
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        fail("max_tasks_per_worker", "None or a positive integer (how many tasks a worker process runs "
             "before a fresh one replaces it)", value)
    if executor != "processes":
        fail("max_tasks_per_worker", f"None with executor={executor!r}", value,
             _NO_RECYCLING.get(executor, "Pass executor='processes' for worker processes that are")
             + " replaced after this many folds")
    if n_workers == 1:
        fail("max_tasks_per_worker", "None with a single worker (n_jobs=1)", value,
             "With n_jobs=1, joblib runs the tasks in this process, which cannot be replaced: "
             "pass n_jobs=2 or more")
    return int(value)


def check_client(client: Any, executor: str) -> None:
    if client is None:
        return
    if executor != "dask":
        fail("client", "None unless executor='dask'", client,
             f"Pass executor='dask' to run on this Dask cluster (received executor={executor!r})")
    if not isinstance(client, str) and not hasattr(client, "submit"):
        fail("client", "a dask.distributed.Client or a scheduler address such as 'tcp://scheduler:8786'",
             client, error=TypeError)
