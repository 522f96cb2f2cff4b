"""Executors as one argument: :class:`Processes`, :class:`Dask` and :class:`Ray` carry their own options.

``executor=kfold.Processes(n_jobs=2, retries=1)`` says where the folds run and
how, in one value, as scikit-learn's estimators carry their parameters: the
constructor only stores and checks them (a wrong value is refused at once,
naming the parameter), nothing starts until a run opens the executor
(:func:`kfold.executors.factory.open_executor`). The objects are small, plain
and picklable; their ``repr`` is the call that makes them.

The strings ``"sequential"``, ``"processes"``, ``"dask"`` and ``"ray"`` still
name an executor with default options.
"""
from __future__ import annotations

import numbers
from typing import Any

from kfold.core import fail
from kfold.executors.options import check_client, check_max_tasks_per_worker, check_n_jobs, check_retries

__all__ = ["ExecutorSpec", "Processes", "Dask", "Ray", "spec_from_keywords"]


def _check_devices(devices: Any, executor: str) -> Any:
    """``None``, ``"auto"`` or a non-empty list of device names (checked against the GPUs when the run opens)."""
    if devices is None or (isinstance(devices, str) and devices == "auto"):
        return devices
    if executor == "ray":
        fail("devices", "None or 'auto' with executor='ray'", devices,
             "Ray places tasks on GPUs itself: devices='auto' gives each fold one GPU")
    if isinstance(devices, (str, bytes)) or not hasattr(devices, "__iter__"):
        fail("devices", "'auto' or a non-empty list such as ['GPU:0', 'GPU:1']", devices)
    listed = list(devices)
    if not listed or not all(isinstance(d, (str, numbers.Integral)) and not isinstance(d, bool) for d in listed):
        fail("devices", "'auto' or a non-empty list such as ['GPU:0', 'GPU:1']", devices)
    return listed


class ExecutorSpec:
    """What the executor classes share: a name, their options, a ``repr`` that rebuilds them.

    Examples
    --------
    >>> Processes(2) == Processes(n_jobs=2), Processes(2) == Processes(3)
    (True, False)
    """

    name = ""
    _defaults: dict[str, Any] = {}

    def options(self) -> dict[str, Any]:
        """The options as given, by name.

        Examples
        --------
        >>> Processes(2, retries=1).options()
        {'n_jobs': 2, 'devices': None, 'retries': 1, 'max_tasks_per_worker': None}
        """
        return {name: getattr(self, name) for name in self._defaults}

    def __repr__(self) -> str:
        changed = [f"{name}={value!r}" for name, value in self.options().items() if value != self._defaults[name]]
        return f"{type(self).__name__}({', '.join(changed)})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.options() == self.options()

    def __hash__(self) -> int:
        return hash((type(self).__name__, repr(self)))


class Processes(ExecutorSpec):
    """Worker processes on this machine (joblib's loky): one fold per task.

    Parameters
    ----------
    n_jobs : int, optional
        Worker processes: ``None`` or ``-1`` for one per core (one per device
        with ``devices``). Each worker limits TensorFlow to its share of the cores.
    devices : list of str, or "auto", optional
        One GPU per worker, e.g. ``["GPU:0", "GPU:1"]``: the k-th worker to start
        gets ``devices[k % len(devices)]``; ``"auto"`` uses every visible GPU.
    retries : int, default 0
        How many times a fold whose worker died (killed, out of memory) runs
        again before it is reported as failed. Exceptions are not retried.
    max_tasks_per_worker : int, optional
        Replace the workers with fresh ones after about this many folds each
        (``n_jobs`` of 2 or more), so that memory stays flat over long runs
        (TensorFlow keeps a few MB per model built in a process). ``None`` keeps them.

    Examples
    --------
    >>> import kfold
    >>> kfold.Processes(n_jobs=2, max_tasks_per_worker=5)
    Processes(n_jobs=2, max_tasks_per_worker=5)
    >>> kfold.Processes(n_jobs=0)
    Traceback (most recent call last):
    ...
    ValueError: Invalid `n_jobs`. Expected a positive integer, or -1 or None for one worker per core. Received: n_jobs=0
    """

    name = "processes"
    _defaults = {"n_jobs": None, "devices": None, "retries": 0, "max_tasks_per_worker": None}

    def __init__(self, n_jobs: int | None = None, *, devices: Any = None, retries: int = 0,
                 max_tasks_per_worker: int | None = None) -> None:
        workers = check_n_jobs(n_jobs)
        check_retries(retries)
        check_max_tasks_per_worker(max_tasks_per_worker, "processes", n_workers=workers)
        self.n_jobs, self.devices, self.retries = n_jobs, _check_devices(devices, "processes"), retries
        self.max_tasks_per_worker = max_tasks_per_worker


class Dask(ExecutorSpec):
    """A Dask cluster: one future per fold, on ``client`` or on a ``LocalCluster`` started for the run.

    Parameters
    ----------
    client : dask.distributed.Client or str, optional
        The cluster to use, or its scheduler's address (``"tcp://host:8786"``).
        ``None`` starts a ``LocalCluster`` of ``n_jobs`` workers, closed after the run.
    n_jobs : int, optional
        The size of that ``LocalCluster`` (``None``: one worker per core); not
        with a ``client`` (the cluster's workers run the folds).
    devices : list of str, or "auto", optional
        One GPU per worker of the ``LocalCluster``, as in :class:`Processes`.
    retries : int, default 0
        How many times a fold whose worker died runs again.

    Examples
    --------
    >>> import kfold
    >>> kfold.Dask("tcp://scheduler:8786", retries=1)
    Dask(client='tcp://scheduler:8786', retries=1)
    >>> kfold.Dask("tcp://scheduler:8786", n_jobs=2)
    Traceback (most recent call last):
    ...
    ValueError: Invalid `n_jobs`. Expected None when a Dask client is given. Received: n_jobs=2. The cluster's workers run the tasks: start more workers to use more cores
    """

    name = "dask"
    _defaults = {"client": None, "n_jobs": None, "devices": None, "retries": 0}

    def __init__(self, client: Any = None, *, n_jobs: int | None = None, devices: Any = None,
                 retries: int = 0) -> None:
        check_client(client, "dask")
        workers = check_n_jobs(n_jobs)
        if client is not None and workers is not None:
            fail("n_jobs", "None when a Dask client is given", n_jobs,
                 "The cluster's workers run the tasks: start more workers to use more cores")
        check_retries(retries)
        self.client, self.n_jobs, self.devices, self.retries = client, n_jobs, _check_devices(devices, "dask"), retries

    def __getstate__(self) -> dict:
        """A live ``Client`` does not travel: a pickled copy keeps its scheduler's address."""
        state = dict(self.__dict__)
        if state["client"] is not None and not isinstance(state["client"], str):
            state["client"] = getattr(getattr(state["client"], "scheduler", None), "address", None)
        return state


class Ray(ExecutorSpec):
    """A Ray cluster (the one this process is connected to, else a local one): one Ray task per fold.

    Parameters
    ----------
    n_jobs : int, optional
        At most this many folds at once (``None``: as many as Ray schedules).
    devices : {None, "auto"}
        ``"auto"`` gives each fold one GPU, placed by Ray.
    retries : int, default 0
        How many times Ray runs a fold again whose worker died.

    Examples
    --------
    >>> import kfold
    >>> kfold.Ray(4, devices="auto")
    Ray(n_jobs=4, devices='auto')
    >>> kfold.Ray(devices=["GPU:0"])
    Traceback (most recent call last):
    ...
    ValueError: Invalid `devices`. Expected None or 'auto' with executor='ray'. Received: devices=['GPU:0']. Ray places tasks on GPUs itself: devices='auto' gives each fold one GPU
    """

    name = "ray"
    _defaults = {"n_jobs": None, "devices": None, "retries": 0}

    def __init__(self, n_jobs: int | None = None, *, devices: Any = None, retries: int = 0) -> None:
        check_n_jobs(n_jobs)
        check_retries(retries)
        self.n_jobs, self.devices, self.retries = n_jobs, _check_devices(devices, "ray"), retries


_SPECS = {"processes": Processes, "dask": Dask, "ray": Ray}
_DEFAULTS = {"n_jobs": None, "client": None, "devices": None, "retries": 0, "max_tasks_per_worker": None}


def spec_from_keywords(executor: str, **options: Any) -> Any:
    """The executor that a name and the old per-call keywords (``n_jobs=``, ``client=``, ...) asked for.

    ``"sequential"`` stays a name (its options are checked: one worker, no
    devices); the other names become :class:`Processes`, :class:`Dask` or
    :class:`Ray`, each taking the options it has and refusing the others.

    Examples
    --------
    >>> spec_from_keywords("processes", n_jobs=2, client=None, retries=1)
    Processes(n_jobs=2, retries=1)
    >>> spec_from_keywords("ray", max_tasks_per_worker=5)
    Traceback (most recent call last):
    ...
    ValueError: Invalid `max_tasks_per_worker`. Expected None with executor='ray'. Received: max_tasks_per_worker=5. Ray keeps its workers (kfold does not set Ray's own `max_calls`): pass executor='processes' to run the folds in worker processes that are replaced after this many folds
    """
    given = {name: value for name, value in options.items() if value is not None and value != _DEFAULTS[name]}
    if "max_tasks_per_worker" in given and executor != "processes":
        check_max_tasks_per_worker(given["max_tasks_per_worker"], executor)
    if "client" in given:
        check_client(given["client"], executor)
    if executor == "sequential":
        n_jobs = check_n_jobs(options.get("n_jobs"))
        check_retries(options.get("retries", 0))
        if n_jobs not in (None, 1):
            fail("n_jobs", "None or 1 with executor='sequential'", n_jobs,
                 "Pass executor='processes' (or 'dask') to use several cores")
        if given.get("devices") is not None:
            fail("devices", "None with executor='sequential'", given["devices"],
                 "Pass executor='processes' (or 'dask') to run one worker per device")
        return "sequential"
    cls = _SPECS[executor]
    return cls(**{name: value for name, value in options.items() if name in cls._defaults})
