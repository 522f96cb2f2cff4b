"""A worker's one-time set-up: TensorFlow's threads limited, and (with ``devices``) one GPU.

A worker (a loky process, a Dask worker, a Ray actor) is set up once, before
TensorFlow is imported in it: TensorFlow's thread pools are limited to the
worker's share of the cores (``TF_NUM_INTRAOP_THREADS``, ``TF_NUM_INTEROP_THREADS``,
``OMP_NUM_THREADS``) and, with ``devices``, the worker is pinned to one GPU
(``CUDA_VISIBLE_DEVICES``, with memory growth on). Workers take the devices in
turn: the k-th worker to start on a machine (its slot, :mod:`kfold.executors.slots`)
gets ``devices[k % len(devices)]``.
"""
from __future__ import annotations

import dataclasses
import os
import sys
import tempfile
from typing import Any

from kfold.core import limit_loaded_threads
from kfold.executors.slots import claim_slot

__all__ = ["WorkerSettings", "WorkerSetup", "SETUP", "thread_env", "parse_device", "device_env", "worker_env",
           "setup_worker", "loky_initializer"]


@dataclasses.dataclass(frozen=True)
class WorkerSettings:
    """How every worker of one executor is set up (compared, not hashed, by loky).

    Examples
    --------
    >>> WorkerSettings(threads=2).threads_here()
    2
    >>> WorkerSettings(threads={"10.0.0.5": 4}).threads_here("10.0.0.5")
    4
    """

    threads: int | dict[str, int] | None = None  #: per worker, or per host name (Dask)
    devices: tuple[str, ...] | None = None  #: CUDA_VISIBLE_DEVICES values, one per slot
    slot_dir: str | None = None  #: folder name (under the temp dir) where workers claim slots
    own_random: bool = False  #: tasks draw Keras' seeds from a stream of their own (workers with other threads)

    def threads_here(self, host: str | None = None) -> int | None:
        """The number of TensorFlow threads for a worker on ``host``."""
        if isinstance(self.threads, dict):
            return self.threads.get(host or "")
        return self.threads


def thread_env(threads: int | None) -> dict[str, str]:
    """Environment variables that limit TensorFlow (and OpenMP) to ``threads`` threads.

    TensorFlow reads them when it creates its thread pools, so they must be set
    before TensorFlow is imported in the worker.

    Examples
    --------
    >>> thread_env(2)["TF_NUM_INTRAOP_THREADS"], thread_env(None)
    ('2', {})
    """
    if threads is None:
        return {}
    value = str(threads)
    return {"TF_NUM_INTRAOP_THREADS": value, "TF_NUM_INTEROP_THREADS": value, "OMP_NUM_THREADS": value}


def parse_device(device: Any) -> int | None:
    """The GPU number in ``"GPU:1"``, ``"/device:GPU:1"`` or ``1``; ``None`` for a CPU.

    Examples
    --------
    >>> parse_device("GPU:1"), parse_device("/device:gpu:0"), parse_device(2), parse_device("CPU")
    (1, 0, 2, None)
    """
    if isinstance(device, int) and not isinstance(device, bool) and device >= 0:
        return device
    text = str(device).upper().replace("/DEVICE:", "").lstrip("/")
    if text in ("CPU", "CPU:0"):
        return None
    kind, _, number = text.partition(":")
    if kind != "GPU" or not number.isdigit():
        raise ValueError(f"not a device: {device!r}")
    return int(number)


def device_env(device: Any, visible: str | None = None) -> dict[str, str]:
    """The environment that pins a worker to ``device`` (``visible``: the parent's GPUs).

    ``"GPU:1"`` is the second GPU this process sees: with ``CUDA_VISIBLE_DEVICES=4,5``
    in the parent, it is GPU 5 of the machine. A CPU device hides every GPU.

    Examples
    --------
    >>> device_env("GPU:1")
    {'CUDA_VISIBLE_DEVICES': '1', 'TF_FORCE_GPU_ALLOW_GROWTH': 'true'}
    >>> device_env("GPU:1", visible="4,5")["CUDA_VISIBLE_DEVICES"], device_env("CPU")
    ('5', {'CUDA_VISIBLE_DEVICES': '-1'})
    """
    index = parse_device(device)
    if index is None:
        return {"CUDA_VISIBLE_DEVICES": "-1"}
    ids = [part.strip() for part in (visible or "").split(",") if part.strip()]
    if ids and index >= len(ids):
        raise ValueError(f"{device!r} is not among the visible GPUs {visible!r}")
    return {"CUDA_VISIBLE_DEVICES": ids[index] if ids else str(index), "TF_FORCE_GPU_ALLOW_GROWTH": "true"}


def _host() -> str | None:
    try:
        from distributed import get_worker

        return get_worker().address.split("://")[-1].rsplit(":", 1)[0]
    except (ImportError, ValueError):
        return None


def worker_env(settings: WorkerSettings, slot: int | None = None, host: str | None = None) -> dict[str, str]:
    """The environment of the worker holding ``slot`` (its start order) on ``host``.

    Examples
    --------
    >>> settings = WorkerSettings(threads=4, devices=("0", "1"))
    >>> [worker_env(settings, slot)["CUDA_VISIBLE_DEVICES"] for slot in range(4)]
    ['0', '1', '0', '1']
    >>> worker_env(settings, 0)["TF_NUM_INTRAOP_THREADS"]
    '4'
    """
    env = thread_env(settings.threads_here(host))
    if settings.devices:
        env.update({"CUDA_VISIBLE_DEVICES": settings.devices[(slot or 0) % len(settings.devices)],
                    "TF_FORCE_GPU_ALLOW_GROWTH": "true"})
    return env


class WorkerSetup:
    """The environment this process was set up with as a worker (``applied``; None until then).

    One object, :data:`SETUP`, lives as long as the (worker) process: a worker is set up once.

    Examples
    --------
    >>> WorkerSetup().applied is None
    True
    """

    def __init__(self) -> None:
        self.applied: dict[str, str] | None = None


#: This process's worker set-up.
SETUP = WorkerSetup()


def setup_worker(settings: WorkerSettings | None) -> dict[str, str]:
    """Set this worker's environment once (threads, device); return what was set.

    Runs before TensorFlow is imported in the worker (loky's initializer, or the
    start of the worker's first task). A worker already set up is left alone. If
    TensorFlow was imported already, its thread pools are limited through
    ``tf.config.threading`` if it has not run yet (the device cannot change then).

    Examples
    --------
    >>> setup_worker(None)
    {}
    """
    if settings is None:
        return {}
    if SETUP.applied is not None:
        return SETUP.applied
    host = _host() if isinstance(settings.threads, dict) else None
    slot = None
    if settings.devices:
        slot = claim_slot(os.path.join(tempfile.gettempdir(), settings.slot_dir or "kfold-slots"))
    env = worker_env(settings, slot, host)
    if "tensorflow" in sys.modules:  # imported already (it read the variables then)
        limit_loaded_threads(settings.threads_here(host))
    else:
        os.environ.update(env)
    SETUP.applied = env
    return env


def loky_initializer(settings: WorkerSettings | None, pool: str | None = None) -> None:
    """Set up a loky worker as it starts, and turn off loky's memory-leak restarts.

    loky restarts a worker whose memory grew by 300 MB since its first task;
    importing TensorFlow, or reading a memory-mapped data set, grows a worker
    by more than that, and every restart imports TensorFlow again.

    ``pool`` is not used here: it names the worker's pool. joblib reuses its
    workers only while the initializer's arguments stay equal, so a new
    ``pool`` value gives fresh workers (``ProcessExecutor(max_tasks_per_worker=...)``).

    Examples
    --------
    >>> loky_initializer(None)
    """
    setup_worker(settings)
    try:
        from joblib.externals.loky import process_executor

        process_executor._USE_PSUTIL = False  # loky then only runs gc.collect() regularly
    except ImportError:  # pragma: no cover
        pass
