"""Where the folds run: in this process, in local worker processes, or on a Dask cluster.

The trainer plans its folds as self-contained tasks; an :class:`Executor` runs
``fn(data, task)`` for each task and yields ``(task, result)`` pairs as the tasks
finish, so the caller can save each finished fold at once. The results come in
completion order: the caller sorts them (by fold). A task's result depends only
on the task (its seed included), never on where or when it ran, so every
executor gives the same results.

A task that fails does not stop the others: its result is a :class:`TaskError`
that names the task (fold and candidate) and carries the worker's traceback.

* ``"sequential"``: one task after another in this process.
* ``"processes"``: joblib's loky worker processes (spawned, not forked: safe after
  TensorFlow has run, and in Jupyter); the data goes to the workers once,
  memory-mapped when large. See :mod:`kfold.executors.processes`.
* ``"dask"``: a Dask cluster (a ``dask.distributed.Client``, an address, or a
  ``LocalCluster`` started for the run); the data is scattered once. See
  :mod:`kfold.executors.dask_cluster`.
* ``"ray"``: one Ray task per fold, for users who already run Ray. See
  :mod:`kfold.executors.ray_cluster`.
"""
from __future__ import annotations

import dataclasses
import pickle
from typing import Any, Callable, Iterable, Iterator

from kfold.executors.worker import RAISED, RESULT
from kfold.core import FoldError

__all__ = ["EXECUTORS", "Executor", "SequentialExecutor", "TaskError", "TaskFailedError",
           "receive"]

EXECUTORS = ("sequential", "processes", "dask", "ray")
WORKER_DIED = "died with its worker process (killed by a signal, or out of memory)"


def _number(value: Any) -> Any:
    """A fold or candidate number as users see it (from 1), or the value as is."""
    return value + 1 if isinstance(value, int) and not isinstance(value, bool) else value


@dataclasses.dataclass
class TaskError:
    """A task that failed: which fold (and candidate), how, and the worker's traceback.

    ``kind`` says how it failed: it raised an exception, its worker died, its
    function or result could not travel. ``exception`` is the original exception
    when it could be brought back (always, for the sequential executor).

    Examples
    --------
    >>> from kfold.train.fold import FoldTask
    >>> error = TaskError.from_exception(FoldTask(2, None, None, 0), ZeroDivisionError("division by zero"))
    >>> error.fold, error.error_type
    (2, 'ZeroDivisionError')
    >>> str(error.to_exception()).splitlines()[0]
    'Fold 3 raised an exception: ZeroDivisionError: division by zero'
    """

    task: Any
    kind: str
    error_type: str
    message: str
    traceback: str = ""
    attempts: int = 1
    pid: int | None = None
    exception: BaseException | None = dataclasses.field(default=None, repr=False, compare=False)

    @property
    def fold(self) -> Any:
        """The task's fold number (from 0), or None."""
        fold = getattr(self.task, "fold", None)
        return getattr(fold, "fold", fold)  # a search task may hold a whole FoldTask

    @property
    def candidate(self) -> Any:
        """The task's candidate number (from 0), or None for a plain fold."""
        return getattr(self.task, "candidate", None)

    def where(self) -> str:
        """``"Fold 3 (candidate 2)"``: the task as users see it, numbered from 1."""
        if self.task is None:
            return "The executor's check of what travels"
        together = getattr(self.task, "folds", None)  # a candidate's folds trained together in one task
        if together and len(together) > 1:
            text = "Folds " + ", ".join(str(_number(getattr(f, "fold", f))) for f in together) + " (trained together)"
        else:
            text = f"Fold {_number(self.fold)}" if self.fold is not None else f"Task {self.task!r}"
        return text + (f" (candidate {_number(self.candidate)})" if self.candidate is not None else "")

    def to_exception(self) -> "TaskFailedError":
        """A :class:`TaskFailedError` to raise, chained to the original exception if any."""
        error = TaskFailedError(self)
        error.__cause__ = self.exception
        return error

    @classmethod
    def from_exception(cls, task: Any, exc: BaseException, kind: str = RAISED) -> "TaskError":
        """The error of a task that raised ``exc`` in this process."""
        import traceback

        return cls(task, kind, type(exc).__name__, str(exc),
                   "".join(traceback.format_exception(exc)), exception=exc)

    @classmethod
    def from_fields(cls, task: Any, fields: dict, attempts: int = 1) -> "TaskError":
        """The error a worker sent back (see :func:`kfold.executors.worker.run_task`)."""
        try:
            exception = pickle.loads(fields["exception"]) if fields.get("exception") else None
        except Exception:  # its class may not exist here
            exception = None
        return cls(task, fields["kind"], fields["error_type"], fields["message"], fields["traceback"],
                   attempts, fields.get("pid"), exception)


class TaskFailedError(FoldError):
    """A fold failed in a worker: the message names it and includes the worker's traceback.

    A :class:`~kfold.train.fold.FoldError`, so ``except kfold.FoldError`` catches a
    failed fold wherever it ran; ``error`` holds the :class:`TaskError`.

    Examples
    --------
    >>> error = TaskError(None, WORKER_DIED, "KilledWorker", "worker lost", attempts=2)
    >>> str(TaskFailedError(error)).splitlines()[0]
    "The executor's check of what travels died with its worker process (killed by a signal, or out of memory) after 2 attempts: KilledWorker: worker lost"
    """

    def __init__(self, error: TaskError) -> None:
        self.error = error
        attempts = f" after {error.attempts} attempts" if error.attempts > 1 else ""
        where = f" in worker process {error.pid}" if error.pid is not None else ""
        text = f"{error.where()} {error.kind}{where}{attempts}: {error.error_type}: {error.message}"
        live = error.exception is not None and error.exception.__traceback__ is not None
        if error.traceback and not live:  # a live exception shows its own traceback (chained)
            text += "\n\nWorker traceback:\n" + error.traceback.rstrip()
        RuntimeError.__init__(self, text)  # FoldError's own wording is "Fold N failed: ..."
        self.fold, self.candidate, self.reason = error.fold, error.candidate, text


def receive(task: Any, ok: bool, payload: bytes, attempts: int = 1) -> Any:
    """Unpickle what a worker sent for ``task``: its result, or a :class:`TaskError`.

    Examples
    --------
    >>> from kfold.executors.worker import dumps
    >>> receive("task", True, dumps({"loss": 1.0}))
    {'loss': 1.0}
    >>> receive("task", True, b"not a pickle").kind
    'returned a result that could not be sent back'
    """
    try:
        value = pickle.loads(payload)
    except Exception as exc:
        return TaskError.from_exception(task, exc, RESULT)
    return value if ok else TaskError.from_fields(task, value, attempts)


class Executor:
    """Runs ``fn(data, task)`` for each task and yields ``(task, result)`` as each one finishes.

    Subclasses implement :meth:`run` and :meth:`probe`; an executor is a context
    manager, and :meth:`close` releases what it started (workers, a cluster).

    Examples
    --------
    >>> with SequentialExecutor() as executor:
    ...     sorted(result for _, result in executor.run(lambda data, task: data * task, 10, [1, 2]))
    [10, 20]
    """

    name = "executor"
    in_process = False  #: True when tasks run in this process (nothing travels)
    n_workers = 1
    retries = 0

    def run(self, fn: Callable[[Any, Any], Any], data: Any,
            tasks: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
        """Yield ``(task, fn(data, task))``, or ``(task, TaskError)``, as tasks finish.

        ``fn``, ``data`` and each task must pickle (cloudpickle: closures and
        notebook functions travel by value); ``data`` travels once per run.
        """
        raise NotImplementedError

    def probe(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn()`` once on a worker: its result, or a :class:`TaskError`."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the workers or cluster this executor started (if any)."""

    def __enter__(self) -> "Executor":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n_workers={self.n_workers}, retries={self.retries})"


class SequentialExecutor(Executor):
    """Runs the tasks one after another in this process, in the order given.

    Examples
    --------
    >>> [(task, result) for task, result in SequentialExecutor().run(pow, 2, [3, 4])]
    [(3, 8), (4, 16)]
    """

    name = "sequential"
    in_process = True

    def run(self, fn: Callable[[Any, Any], Any], data: Any,
            tasks: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
        for task in tasks:
            try:
                result = fn(data, task)
            except Exception as exc:
                result = TaskError.from_exception(task, exc)
            yield task, result

    def probe(self, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except Exception as exc:
            return TaskError.from_exception(None, exc)


