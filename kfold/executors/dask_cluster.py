"""The ``"dask"`` executor: one Dask future per task, on a cluster or a ``LocalCluster``.

With ``client=None`` a ``LocalCluster`` of ``n_jobs`` single-threaded worker
processes is started on first use and closed by :meth:`DaskExecutor.close`
(its nannies spawn the workers: safe after TensorFlow has run, and in Jupyter).
With an address, the executor connects a ``Client`` to that scheduler and
closes that connection (not the cluster); with a ``Client``, it only uses it.

What travels: the data is scattered once per run to every worker
(``broadcast=True``); each task carries the task function as bytes and its
task. Each worker limits TensorFlow to its share of its machine's cores
(``cpu_count * worker threads // threads of all workers on that machine``),
set at the start of its first task, before TensorFlow is imported there.

When a worker dies (killed, out of memory), the scheduler reports the task it
was running as ``KilledWorker`` once it has failed ``allowed-failures`` times
(0 for the ``LocalCluster`` started here, so that ``retries`` alone counts;
Dask's default 3 on other clusters). The executor then runs it again, up to
``retries`` times, and reports it as a :class:`~kfold.executors.base.TaskError`
after that. The other tasks go on.
"""
from __future__ import annotations

import functools
import logging
import uuid
from typing import Any, Callable, Iterable, Iterator

from kfold.executors.options import import_optional
from kfold.executors.worker import WorkerSettings, call_alone, dumps, run_task
from kfold.executors.base import WORKER_DIED, Executor, TaskError, receive

__all__ = ["DaskExecutor", "host_of", "threads_by_host"]


def host_of(address: str) -> str:
    """The host part of a worker's address.

    Examples
    --------
    >>> host_of("tcp://10.0.0.5:40123"), host_of("tls://[::1]:8786")
    ('10.0.0.5', '[::1]')
    """
    return address.split("://")[-1].rsplit(":", 1)[0]


def threads_by_host(workers: dict[str, dict], cpus: dict[str, int]) -> dict[str, int]:
    """TensorFlow threads per worker process, for each host: its share of the host's cores.

    ``workers`` is ``scheduler_info()["workers"]`` (each with its ``nthreads``),
    ``cpus`` each worker's core count. Workers with several threads run several
    folds at once and share their process's thread pool.

    Examples
    --------
    >>> workers = {"tcp://a:1": {"nthreads": 1}, "tcp://a:2": {"nthreads": 1}, "tcp://b:1": {"nthreads": 2}}
    >>> threads_by_host(workers, {"tcp://a:1": 8, "tcp://a:2": 8, "tcp://b:1": 8})
    {'a': 4, 'b': 8}
    """
    totals: dict[str, int] = {}
    for address, info in workers.items():
        totals[host_of(address)] = totals.get(host_of(address), 0) + int(info.get("nthreads", 1))
    shares: dict[str, int] = {}
    for address, info in workers.items():
        host = host_of(address)
        share = cpus.get(address, 1) * int(info.get("nthreads", 1)) // totals[host]
        shares[host] = max(1, share)
    return shares


class DaskExecutor(Executor):
    """Runs each task as a Dask future; results come back as they complete.

    Examples
    --------
    >>> DaskExecutor(n_jobs=2)  # the LocalCluster starts on first use
    DaskExecutor(n_workers=2, retries=0)
    """

    name = "dask"

    def __init__(self, client: Any = None, *, n_jobs: int | None = None,
                 devices: tuple[str, ...] | None = None, retries: int = 0) -> None:
        import_optional("distributed", "dask")
        from joblib import cpu_count

        self._given, self._client, self._cluster = client, None, None
        self.n_workers = n_jobs or (len(devices) if devices else cpu_count())
        self.devices, self.retries = devices, retries
        self._slot_dir = f"kfold-slots-{uuid.uuid4().hex}"

    @property
    def client(self) -> Any:
        """The ``dask.distributed.Client`` (connecting, or starting the LocalCluster, first)."""
        if self._client is None:
            from distributed import Client

            if self._given is None:
                self._cluster = self._local_cluster()
                self._client = Client(self._cluster)
            elif isinstance(self._given, str):
                self._client = Client(self._given)
            else:
                self._client = self._given
        return self._client

    def _local_cluster(self) -> Any:
        import dask
        from distributed import LocalCluster

        # Each worker runs one task at a time (see _InFlight): its death is the death of
        # that task, reported (or retried, see ``retries``) the first time.
        with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
            return LocalCluster(n_workers=self.n_workers, threads_per_worker=1, processes=True,
                                dashboard_address=":0", silence_logs=logging.ERROR)

    def _settings(self) -> WorkerSettings:
        from joblib import cpu_count

        client = self.client
        workers = client.scheduler_info(n_workers=-1)["workers"]
        cpus = client.run(cpu_count)
        return WorkerSettings(threads=threads_by_host(workers, cpus), devices=self.devices,
                              slot_dir=self._slot_dir if self.devices else None, own_random=True)

    def run(self, fn: Callable[[Any, Any], Any], data: Any,
            tasks: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
        if self._cluster is not None:  # scatter to every worker: wait for those restarting
            self.client.wait_for_workers(self.n_workers, timeout=60)
        state = _DaskRun(self.client, dumps(fn), data, list(tasks), self._settings(), self.retries)
        flight = _InFlight(self.client, state.submit, len(state.tasks))
        try:
            for future in flight.finished:
                index = flight.futures.pop(future)
                result = state.result(future, index)
                if result is None:  # its worker died, or the data was lost: run it again
                    flight.waiting.appendleft(index)
                flight.fill()
                if result is not None:
                    yield state.tasks[index], result
        finally:
            self.client.cancel([*flight.futures, state.shared])

    def probe(self, fn: Callable[[], Any]) -> Any:
        fn_bytes = dumps(functools.partial(call_alone, fn))
        future = self.client.submit(run_task, fn_bytes, None, 0, None, self._settings(), pure=False)
        try:
            _, ok, payload = future.result()
        except Exception as error:
            return _lost(None, future.status, error, 1)
        return receive(None, ok, payload)

    def close(self) -> None:
        if self._client is not None and self._client is not self._given:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        self._client = self._cluster = None
        if self.devices:
            import shutil
            import tempfile

            shutil.rmtree(f"{tempfile.gettempdir()}/{self._slot_dir}", ignore_errors=True)


class _DaskRun:
    """One run's tasks, the data scattered for them, and how often each one's worker died."""

    def __init__(self, client: Any, fn_bytes: bytes, data: Any, tasks: list, settings: WorkerSettings,
                 retries: int) -> None:
        self.client, self.fn_bytes, self.data, self.tasks = client, fn_bytes, data, tasks
        self.settings, self.retries = settings, retries
        self.token = uuid.uuid4().hex[:8]
        self.deaths = [0] * len(tasks)
        self.scatters = 0
        self.shared = self._scatter()

    def _scatter(self) -> Any:
        self.scatters += 1
        return self.client.scatter(self.data, broadcast=True, hash=False)

    def submit(self, index: int) -> Any:
        """Submit task ``index`` (a new key for each attempt)."""
        key = f"kfold-task-{index}-{self.deaths[index]}-{self.scatters}-{self.token}"
        return self.client.submit(run_task, self.fn_bytes, self.shared, index, self.tasks[index],
                                  self.settings, pure=False, key=key)

    def result(self, future: Any, index: int) -> Any:
        """The task's result or error; None when it must run again."""
        task = self.tasks[index]
        if future.status == "finished":
            _, ok, payload = future.result()
            return receive(task, ok, payload, self.deaths[index] + 1)
        error = future.exception() if future.status == "error" else None
        if type(error).__name__ == "KilledWorker":
            self.deaths[index] += 1
            if self.deaths[index] <= self.retries:
                return None
        elif self.shared.status != "finished" and self.scatters <= len(self.tasks):
            self.shared = self._scatter()  # every worker holding the data died: send it again
            return None
        return _lost(task, future.status, error, self.deaths[index])


class _InFlight:
    """Tasks submitted so that each worker thread has one at a time, the others waiting here.

    A worker that dies then takes down only the task it was running (the
    scheduler would count its death against every task queued on it too).
    """

    def __init__(self, client: Any, submit: Callable[[int], Any], n_tasks: int) -> None:
        from collections import deque

        from distributed import as_completed

        self.client, self.submit = client, submit
        self.waiting = deque(range(n_tasks))
        self.futures: dict[Any, int] = {}
        self.finished = as_completed()
        self.fill()

    def fill(self) -> None:
        """Submit waiting tasks until every worker thread has one."""
        if not self.waiting:
            return
        threads = max(1, sum(self.client.nthreads().values()))
        while self.waiting and len(self.futures) < threads:
            index = self.waiting.popleft()
            future = self.submit(index)
            self.futures[future] = index
            self.finished.add(future)


def _lost(task: Any, status: str, error: BaseException | None, deaths: int) -> TaskError:
    """The error of a task whose future failed outside the task (its worker died...)."""
    if error is None:
        return TaskError(task, "failed in Dask", status, f"its future is {status}")
    died = type(error).__name__ == "KilledWorker"
    return TaskError(task, WORKER_DIED if died else "failed in Dask", type(error).__name__,
                     str(error).split("\n")[0], attempts=max(1, deaths))
