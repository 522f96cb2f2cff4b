"""What runs inside a worker process: its one-time setup, and the wrapper around each task.

A worker (a loky process, a Dask worker, a Ray actor) is set up once, before
TensorFlow is imported in it: TensorFlow's thread pools are limited to the
worker's share of the cores (``TF_NUM_INTRAOP_THREADS``, ``TF_NUM_INTEROP_THREADS``,
``OMP_NUM_THREADS``) and, with ``devices``, the worker is pinned to one GPU
(``CUDA_VISIBLE_DEVICES``, with memory growth on). Workers take the devices in
turn: the k-th worker to start on a machine (its "slot") gets
``devices[k % len(devices)]``, and a worker that dies frees its slot for the one
that replaces it.

Each task comes back as plain bytes, so that nothing the task returns or raises
can break the pool: ``(index, True, pickled result)``, or ``(index, False,
pickled error fields)`` when the task raised or its result could not be pickled.
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import sys
import tempfile
import threading
import traceback
from typing import Any, Callable

__all__ = [
    "WorkerSettings", "thread_env", "device_env", "parse_device", "claim_slot", "worker_env",
    "setup_worker", "loky_initializer", "thread_random", "own_random_stream", "run_task",
    "call_alone", "dumps", "LOAD", "RAISED", "RESULT",
]

# What went wrong in a task (TaskError.kind).
LOAD = "could not be loaded in the worker"
RAISED = "raised an exception"
RESULT = "returned a result that could not be sent back"

_APPLIED: dict[str, str] | None = None  # the environment this process was set up with
_FUNCTIONS: dict[str, Callable] = {}  # unpickled task functions, by the hash of their bytes


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
    own_random: bool = False  #: tasks get their own ``random`` stream (workers with other threads)

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


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def claim_slot(folder: str, pid: int | None = None) -> int:
    """Claim the lowest free slot number in ``folder`` for process ``pid``.

    A slot is free when no file holds it, or when the process holding it has died.

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> claim_slot(folder, pid=os.getpid()), claim_slot(folder, pid=os.getpid())
    (0, 1)
    """
    pid = os.getpid() if pid is None else pid
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "lock"), "a+") as lock:
        try:
            import fcntl

            fcntl.flock(lock, fcntl.LOCK_EX)
        except ImportError:  # Windows: no lock; slots may then collide
            pass
        slot = 0
        while True:
            path = os.path.join(folder, f"slot-{slot}")
            holder = _read_pid(path)
            if holder is None or not _alive(holder):
                with open(path, "w") as file:
                    file.write(str(pid))
                return slot
            slot += 1


def _read_pid(path: str) -> int | None:
    try:
        with open(path) as file:
            return int(file.read().strip() or -1)
    except (OSError, ValueError):
        return None


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
    global _APPLIED
    if settings is None:
        return {}
    if _APPLIED is not None:
        return _APPLIED
    host = _host() if isinstance(settings.threads, dict) else None
    slot = None
    if settings.devices:
        slot = claim_slot(os.path.join(tempfile.gettempdir(), settings.slot_dir or "kfold-slots"))
    env = worker_env(settings, slot, host)
    if settings.own_random:
        thread_random()
    if "tensorflow" in sys.modules:  # imported already (it read the variables then)
        _limit_loaded_tensorflow(settings.threads_here(host))
    else:
        os.environ.update(env)
    _APPLIED = env
    return env


def _limit_loaded_tensorflow(threads: int | None) -> None:
    """Limit the threads of a TensorFlow imported already, if it has not started yet."""
    if threads is None:
        return
    threading = sys.modules["tensorflow"].config.threading
    try:
        threading.set_intra_op_parallelism_threads(threads)
        threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:  # TensorFlow has run in this worker: its pools are fixed
        pass


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


def thread_random() -> None:
    """Let a thread use its own ``random`` stream, once it calls ``own_random_stream()``.

    ``keras.utils.set_random_seed`` seeds Python's global ``random``, and Keras
    draws every unseeded initializer's seed from it. In a Dask worker, the
    worker's own threads draw from it too (retry back-off, choosing peers), so
    a draw between the seeding and the model's creation now and then changed a
    fold's initial weights (about 1 fold in 20 in scripts/bench_executors.py).
    Afterwards, the module's functions use the calling thread's own stream if
    it has one, and the global one otherwise (other threads are unaffected).

    Examples
    --------
    >>> import random, threading
    >>> thread_random()
    >>> def task(out):
    ...     own_random_stream()
    ...     random.seed(0)
    ...     out.append(random.random())
    >>> out = []
    >>> thread = threading.Thread(target=task, args=(out,)); thread.start(); thread.join()
    >>> out == [random.Random(0).random()]
    True
    """
    import random

    if getattr(random, "_kfold_thread_random", False):
        return
    shared = random._inst  # the global stream the module's functions are bound to
    for name in dir(shared):
        if not name.startswith("_") and callable(getattr(shared, name)) and hasattr(random, name):
            setattr(random, name, _dispatcher(name, shared))
    random._kfold_thread_random = True


_STREAMS = threading.local()


def own_random_stream() -> None:
    """Give the calling thread its own ``random`` stream (see :func:`thread_random`)."""
    import random

    if getattr(_STREAMS, "stream", None) is None:
        _STREAMS.stream = random.Random()


def _dispatcher(name: str, shared: Any) -> Callable:
    def method(*args: Any, **kwargs: Any) -> Any:
        return getattr(getattr(_STREAMS, "stream", None) or shared, name)(*args, **kwargs)

    method.__name__ = name
    return method


def dumps(obj: Any) -> bytes:
    """Pickle with cloudpickle (functions of notebooks and closures travel by value)."""
    import cloudpickle

    return cloudpickle.dumps(obj)


def _load_function(payload: bytes) -> Callable:
    import pickle

    key = hashlib.sha1(payload).hexdigest()
    if key not in _FUNCTIONS:
        _FUNCTIONS.clear()  # keep one: each run sends one function
        _FUNCTIONS[key] = pickle.loads(payload)
    return _FUNCTIONS[key]


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
        own_random_stream()
    _mark(markers, "started", index)
    stage = LOAD
    try:
        fn = _load_function(fn_bytes)
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
