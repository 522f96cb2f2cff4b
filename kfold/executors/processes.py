"""The ``"processes"`` executor: joblib's loky worker processes on this machine.

loky starts fresh interpreters (never ``fork``), so it is safe once TensorFlow
has run in this process, and in Jupyter. Functions and classes defined in a
notebook travel by value (cloudpickle). The workers are reused from one run to
the next (joblib keeps them ~5 minutes) while the settings stay the same.

What travels: the data once per run (joblib memory-maps each array larger than
1 MB into a temporary file, even inside a ``FoldData``; smaller ones are pickled
with each task), the task function as bytes, and each task.

When a worker dies (killed, out of memory), loky stops the whole pool: every
task that was running is lost. The tasks that had finished are kept, the others
run again. If one task was running, its worker death is counted against it; if
several were, each of them runs again alone, so that a death is only ever
counted against the task that caused it. A task whose worker died more than
``retries`` times is reported as a :class:`~kfold.executors.base.TaskError`.

Recycling (``max_tasks_per_worker=k``): TensorFlow keeps the XLA code of every
architecture a process has compiled (10-25 MB per small model; nothing in
TensorFlow releases it), so a worker that trains architecture after architecture
grows. With ``k``, the tasks run in chunks of ``n_workers * k``, each on
fresh workers: every chunk's workers are started with a new ``pool`` name
among the loky initializer's arguments, and joblib reuses workers only while
those arguments stay equal, so it shuts the previous workers down (cleanly,
once they are idle) and starts new ones. No private joblib or loky API is
involved (tests/test_processes.py checks that each chunk gets new process
ids). loky's own clean worker exit, used for its memory-leak restarts, is not
reachable from a task without patching loky's internals. loky hands each task
to whichever worker is free, so a worker runs ``k`` tasks of a chunk on
average, and at most ``n_workers * k``. The data then travels once per chunk,
and each new worker imports TensorFlow again.
"""
from __future__ import annotations

import functools
import os
import tempfile
import uuid
import warnings
from typing import Any, Callable, Iterable, Iterator

from kfold.executors.worker import WorkerSettings, call_alone, dumps, loky_initializer, run_task
from kfold.executors.base import WORKER_DIED, Executor, TaskError, receive
from kfold.executors.options import check_max_tasks_per_worker

__all__ = ["ProcessExecutor", "Ledger"]


class Ledger:
    """Which tasks are left, which must run alone, and how often each one's worker died.

    Examples
    --------
    >>> ledger = Ledger(3, retries=0)
    >>> ledger.next_batch()
    [0, 1, 2]
    >>> ledger.crashed([0, 1, 2], running=[1, 2])  # two were running: each runs alone
    []
    >>> ledger.next_batch(), ledger.crashed([1], running=[1])  # task 1 dies alone: it failed
    ([1], [1])
    >>> ledger.next_batch()
    [2]
    """

    def __init__(self, n_tasks: int, retries: int) -> None:
        self.pending = dict.fromkeys(range(n_tasks))  # an ordered set
        self.alone: list[int] = []
        self.deaths = [0] * n_tasks
        self.retries = retries

    def next_batch(self) -> list[int]:
        """The next tasks to run together: one suspect alone, or all the others."""
        if self.alone:
            return [self.alone[0]]
        return list(self.pending)

    def finished(self, index: int) -> None:
        """Task ``index`` is done (its result, or its final error, was yielded)."""
        self.pending.pop(index, None)
        if index in self.alone:
            self.alone.remove(index)

    def crashed(self, batch: list[int], running: list[int]) -> list[int]:
        """A worker died while ``batch`` ran; return the tasks that failed for good."""
        left = [index for index in batch if index in self.pending]
        suspects = left if len(left) == 1 else running
        if len(suspects) != 1:  # unknown which one died: each runs alone
            self.alone += [index for index in (suspects or left) if index not in self.alone]
            return []
        index = suspects[0]
        self.deaths[index] += 1
        if self.deaths[index] > self.retries:
            self.finished(index)
            return [index]
        if index not in self.alone:
            self.alone.insert(0, index)
        return []


def _was(markers: str, what: str, index: int) -> bool:
    return os.path.exists(os.path.join(markers, f"{what}-{index}"))


def _running(markers: str, batch: list[int]) -> list[int]:
    """The tasks of ``batch`` that had started and not ended (they were running)."""
    return [index for index in batch if _was(markers, "started", index) and not _was(markers, "ended", index)]


def _clear(markers: str, batch: list[int]) -> None:
    for index in batch:
        for what in ("started", "ended"):
            if _was(markers, what, index):
                os.remove(os.path.join(markers, f"{what}-{index}"))


class ProcessExecutor(Executor):
    """Runs the tasks in ``n_jobs`` loky worker processes on this machine.

    Each worker limits TensorFlow to ``cpu_count // n_jobs`` threads and, with
    ``devices``, uses one GPU (see :mod:`kfold.executors.worker`). With ``n_jobs=1``,
    joblib runs the tasks in this process instead.

    With ``max_tasks_per_worker=k``, workers are recycled: the tasks run in
    chunks of ``n_workers * k`` and each chunk starts on fresh worker
    processes, so a long run's memory per worker stays flat (see the module's
    description). ``None`` (the default) keeps the workers for every task, and
    for the next runs.

    Examples
    --------
    >>> ProcessExecutor(n_jobs=2, retries=1)
    ProcessExecutor(n_workers=2, retries=1)
    >>> executor = ProcessExecutor(n_jobs=2, max_tasks_per_worker=1)
    >>> sorted(result for _, result in executor.run(pow, 2, [1, 2, 3]))
    [2, 4, 8]
    """

    name = "processes"
    backend = "loky"

    def __init__(self, n_jobs: int | None = None, *, devices: tuple[str, ...] | None = None,
                 retries: int = 0, max_tasks_per_worker: int | None = None) -> None:
        from joblib import cpu_count

        self.n_workers = n_jobs or (len(devices) if devices else cpu_count())
        self.retries = retries
        self.devices = devices
        self.max_tasks_per_worker = check_max_tasks_per_worker(max_tasks_per_worker, n_workers=self.n_workers)
        self.settings = None if self.n_workers == 1 else WorkerSettings(
            threads=max(1, cpu_count() // self.n_workers), devices=devices,
            slot_dir=f"kfold-slots-{uuid.uuid4().hex}" if devices else None, own_random=True)
        self._pool: str | None = None  # the current pool's name, when recycling
        self._pool_used = True  # whether the current pool ran tasks (then the next chunk needs a new one)

    def __repr__(self) -> str:
        text = super().__repr__()
        if self.max_tasks_per_worker is None:
            return text
        return f"{text[:-1]}, max_tasks_per_worker={self.max_tasks_per_worker})"

    def _parallel(self) -> Any:
        from joblib import Parallel

        extra = {}
        if self.settings is not None:
            args = (self.settings,) if self._pool is None else (self.settings, self._pool)
            extra = {"initializer": loky_initializer, "initargs": args}
        return Parallel(n_jobs=self.n_workers, backend=self.backend, return_as="generator_unordered",
                        batch_size=1, **extra)

    def _fresh_pool(self) -> None:
        """When recycling, name a new pool if the current one ran tasks (joblib then replaces its workers)."""
        if self.max_tasks_per_worker is not None and self._pool_used:
            self._pool, self._pool_used = uuid.uuid4().hex, False

    def _chunk(self, batch: list[int]) -> list[int]:
        """The part of ``batch`` to run now: all of it, or, when recycling, a chunk on fresh workers."""
        if self.max_tasks_per_worker is None:
            return batch
        self._fresh_pool()
        self._pool_used = True
        return batch[:self.n_workers * self.max_tasks_per_worker]

    def _crash_errors(self) -> tuple[type[BaseException], ...]:
        from joblib.externals.loky.process_executor import BrokenProcessPool

        return (BrokenProcessPool,)

    def _results(self, fn_bytes: bytes, data: Any, tasks: list, batch: list[int],
                 markers: str | None) -> Iterator[tuple[int, bool, bytes]]:
        from joblib import delayed

        calls = (delayed(run_task)(fn_bytes, data, index, tasks[index], self.settings, markers)
                 for index in batch)
        results = self._parallel()(calls)
        try:
            for item in results:  # not `yield from`: closing this generator must not close `results` here
                yield item
        finally:
            with warnings.catch_warnings():  # joblib warns that it cancelled them: that is the intent
                warnings.filterwarnings("ignore", message=".*tasks which were still being processed",
                                        category=UserWarning)
                results.close()  # stops the workers' remaining tasks if the caller stops early

    def run(self, fn: Callable[[Any, Any], Any], data: Any,
            tasks: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
        tasks, fn_bytes = list(tasks), dumps(fn)
        ledger = Ledger(len(tasks), self.retries)
        with tempfile.TemporaryDirectory(prefix="kfold-tasks-") as markers:
            while ledger.pending:
                batch = self._chunk(ledger.next_batch())
                _clear(markers, batch)
                try:
                    for index, ok, payload in self._results(fn_bytes, data, tasks, batch, markers):
                        ledger.finished(index)
                        yield tasks[index], receive(tasks[index], ok, payload, ledger.deaths[index] + 1)
                except self._crash_errors() as crash:
                    for index in ledger.crashed(batch, _running(markers, batch)):
                        yield tasks[index], TaskError(tasks[index], WORKER_DIED, type(crash).__name__,
                                                      str(crash).split("\n")[0], attempts=ledger.deaths[index])

    def probe(self, fn: Callable[[], Any]) -> Any:
        fn_bytes = dumps(functools.partial(call_alone, fn))
        self._fresh_pool()  # the first chunk then runs on the probe's workers (not counted as a task)
        try:
            for _, ok, payload in self._results(fn_bytes, None, [None], [0], None):
                return receive(None, ok, payload)
        except self._crash_errors() as crash:
            return TaskError(None, WORKER_DIED, type(crash).__name__, str(crash).split("\n")[0])
        raise RuntimeError("the probe returned no result")  # pragma: no cover

    def close(self) -> None:
        if self.settings is not None and self.settings.slot_dir:
            import shutil

            folder = os.path.join(tempfile.gettempdir(), self.settings.slot_dir)
            shutil.rmtree(folder, ignore_errors=True)
