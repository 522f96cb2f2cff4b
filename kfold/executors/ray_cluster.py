"""The ``"ray"`` executor: one Ray task per fold, for users who already run Ray.

Ray's own task API rather than joblib's Ray backend: that backend only returns
results in submission order (no ``return_as="generator_unordered"``), and
``ray.wait`` gives each fold as soon as it finishes.

The executor joins the Ray cluster this process is connected to (call
``ray.init(address=...)`` first), or starts a local one, shut down by
:meth:`RayExecutor.close`. The data is put once in Ray's object store; each
task takes one Ray CPU and limits TensorFlow to one thread. With ``gpus=1``
(``kfold.Ray(devices="auto")``) each task also takes one GPU, which
Ray assigns (it sets ``CUDA_VISIBLE_DEVICES`` for the task); without, Ray hides
the GPUs from the tasks. A task whose worker
died is run again by Ray itself, up to ``retries`` times (Ray's
``max_retries``), then reported as a :class:`~kfold.executors.base.TaskError`.
"""
from __future__ import annotations

import functools
from collections import deque
from typing import Any, Callable, Iterable, Iterator

from kfold.executors.options import import_optional
from kfold.executors.worker import WorkerSettings, call_alone, dumps, run_task
from kfold.executors.base import WORKER_DIED, Executor, TaskError, receive

__all__ = ["RayExecutor"]


class RayExecutor(Executor):
    """Runs each task as a Ray task; at most ``n_jobs`` at a time (all at once if ``None``).

    Examples
    --------
    >>> RayExecutor.name  # RayExecutor(n_jobs=4, retries=1) needs Ray installed
    'ray'
    """

    name = "ray"

    def __init__(self, n_jobs: int | None = None, *, retries: int = 0, gpus: int = 0) -> None:
        import_optional("ray", "ray")
        self.n_workers, self.retries, self.gpus = n_jobs, retries, gpus
        self._started = False

    def _ray(self) -> Any:
        import ray

        if not ray.is_initialized():
            ray.init()
            self._started = True
        return ray

    def _remote(self) -> Any:
        ray = self._ray()
        return ray.remote(run_task).options(num_cpus=1, num_gpus=self.gpus, max_retries=self.retries)

    def run(self, fn: Callable[[Any, Any], Any], data: Any,
            tasks: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
        ray, remote, tasks = self._ray(), self._remote(), list(tasks)
        fn_bytes, shared, settings = dumps(fn), ray.put(data), WorkerSettings(threads=1, own_random=True)
        waiting, running = deque(range(len(tasks))), {}
        limit = self.n_workers or len(tasks)

        def fill() -> None:
            while waiting and len(running) < limit:
                index = waiting.popleft()
                running[remote.remote(fn_bytes, shared, index, tasks[index], settings)] = index

        fill()
        try:
            while running:
                [ref], _ = ray.wait(list(running), num_returns=1)
                index = running.pop(ref)
                fill()
                yield tasks[index], self._result(ref, tasks[index])
        finally:
            for ref in running:
                ray.cancel(ref, force=True)

    def _result(self, ref: Any, task: Any) -> Any:
        ray = self._ray()
        try:
            _, ok, payload = ray.get(ref)
        except ray.exceptions.RayError as error:
            lost = (ray.exceptions.WorkerCrashedError, ray.exceptions.OutOfMemoryError)
            died = isinstance(error, lost)
            return TaskError(task, WORKER_DIED if died else "failed in Ray", type(error).__name__,
                             str(error).strip().split("\n")[0], attempts=self.retries + 1)
        return receive(task, ok, payload)

    def probe(self, fn: Callable[[], Any]) -> Any:
        ref = self._remote().remote(dumps(functools.partial(call_alone, fn)), None, 0, None,
                                    WorkerSettings(threads=1, own_random=True))
        return self._result(ref, None)

    def close(self) -> None:
        if self._started:
            self._ray().shutdown()
            self._started = False
