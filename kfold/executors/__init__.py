"""Where tasks run: this process, local worker processes, a Dask or Ray cluster. Executors run tasks; they do not know what training is."""

from kfold.executors.base import Executor, SequentialExecutor, TaskError, TaskFailedError
from kfold.executors.factory import make_executor, open_executor
from kfold.executors.specs import Dask, Processes, Ray
from kfold.executors.factory import executor_from_keywords
from kfold.executors.worker import LOAD, dumps

__all__ = [
    "Executor",
    "SequentialExecutor",
    "TaskError",
    "TaskFailedError",
    "make_executor",
    "open_executor",
    "Processes",
    "Dask",
    "Ray",
    "LOAD",
    "dumps",
    "executor_from_keywords",
]
