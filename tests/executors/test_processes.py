"""The process executor's worker recycling (``max_tasks_per_worker``): fresh workers, same results.

Plain tasks come from ``executor_tasks`` (standard library only), so that a
fresh worker starts in a fraction of a second; only the end-to-end test
imports TensorFlow in its workers.
"""
from __future__ import annotations

import functools

import numpy as np
import pytest

import kfold
from conftest import make_regressor
from executor_tasks import device_of_worker, die_in_fold_two
from kfold.executors.base import WORKER_DIED, TaskError
from kfold.executors.factory import make_executor


def pids_by_task(executor, tasks):
    return {task: result[0] for task, result in executor.run(device_of_worker, None, tasks)}


def test_recycled_workers_are_fresh_processes_for_each_chunk():
    pids = pids_by_task(make_executor(kfold.Processes(n_jobs=2, max_tasks_per_worker=1)), range(6))
    chunks = [{pids[task] for task in chunk} for chunk in ([0, 1], [2, 3], [4, 5])]
    assert all(a.isdisjoint(b) for i, a in enumerate(chunks) for b in chunks[i + 1:])  # new PIDs each time
    again = pids_by_task(make_executor(kfold.Processes(n_jobs=2)), range(6))  # the default keeps its workers
    assert len(set(again.values())) <= 2


def test_recycling_gives_the_same_results():
    tasks = list(range(7))  # 7 tasks, chunks of 2 * 2: a short last chunk
    recycled = dict(make_executor(kfold.Processes(n_jobs=2, max_tasks_per_worker=2)).run(pow, 3, tasks))
    kept = dict(make_executor(kfold.Processes(n_jobs=2)).run(pow, 3, tasks))
    assert recycled == kept == {task: 3 ** task for task in tasks}


@pytest.mark.slow
@pytest.mark.parametrize("always", [False, True])
def test_a_killed_worker_with_recycling(tmp_path, always):
    executor = make_executor(kfold.Processes(n_jobs=2, retries=0 if always else 1, max_tasks_per_worker=1))
    fn = functools.partial(die_in_fold_two, always=always)
    results = dict(executor.run(fn, str(tmp_path), range(5)))
    assert {task: results[task] for task in (0, 1, 3, 4)} == {0: 0, 1: 10, 3: 30, 4: 40}
    if always:  # the death counts against task 2 only
        assert isinstance(results[2], TaskError) and results[2].kind == WORKER_DIED
    else:
        assert results[2] == 20


def test_the_default_is_unchanged():
    executor = make_executor(kfold.Processes(n_jobs=2))
    assert executor.max_tasks_per_worker is None
    assert repr(executor) == "ProcessExecutor(n_workers=2, retries=0)"
    assert repr(make_executor(kfold.Processes(n_jobs=2, max_tasks_per_worker=3))) == (
        "ProcessExecutor(n_workers=2, retries=0, max_tasks_per_worker=3)")


@pytest.mark.parametrize("kwargs, match", [
    ({"executor": "processes", "max_tasks_per_worker": 0},
     r"Invalid `max_tasks_per_worker`\. Expected None or a positive integer .*Received: max_tasks_per_worker=0$"),
    ({"executor": "processes", "max_tasks_per_worker": True}, r"Received: max_tasks_per_worker=True$"),
    ({"executor": "processes", "max_tasks_per_worker": 2.5}, r"Received: max_tasks_per_worker=2\.5$"),
    ({"executor": "processes", "n_jobs": 1, "max_tasks_per_worker": 1},
     r"Expected None with a single worker \(n_jobs=1\).*pass n_jobs=2 or more"),
    ({"executor": "sequential", "max_tasks_per_worker": 1},
     r"Expected None with executor='sequential'\. Received: max_tasks_per_worker=1\. .*executor='processes'"),
    ({"executor": "dask", "max_tasks_per_worker": 1}, r"Expected None with executor='dask'.*--lifetime"),
    ({"executor": "ray", "max_tasks_per_worker": 1}, r"Expected None with executor='ray'.*executor='processes'"),
])
def test_bad_max_tasks_per_worker(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_executor(**kwargs)


def test_an_executor_instance_is_configured_itself():
    with pytest.raises(ValueError, match="Configure the executor itself"):
        make_executor(make_executor(kfold.Processes(n_jobs=2)), max_tasks_per_worker=1)


@pytest.mark.slow
def test_cross_validate_on_recycled_workers_matches_sequential(regression_data):
    x, y = regression_data
    # one fold per task (strategy="sequential"), so each of the 4 tasks lands on a fresh worker
    kwargs = dict(cv=4, epochs=2, seed=0, verbose=0, strategy="sequential")
    reference = kfold.cross_validate(make_regressor, x, y, executor="sequential", **kwargs)
    result = kfold.cross_validate(make_regressor, x, y, executor=kfold.Processes(n_jobs=2, max_tasks_per_worker=1),
                                  **kwargs)
    assert result.history.keys() == reference.history.keys()
    for key in reference.history.keys():
        assert np.array_equal(result.history[key], reference.history[key])  # bitwise
    for key in reference.scores:
        assert np.array_equal(result.scores[key], reference.scores[key])


def test_cross_validate_refuses_recycling_in_its_own_process(regression_data):
    x, y = regression_data
    with pytest.raises(ValueError, match=r"Invalid `max_tasks_per_worker`.*executor='sequential'.*Received: max_tasks_per_worker=3"):
        kfold.cross_validate(make_regressor, x, y, cv=2, epochs=1, verbose=0, max_tasks_per_worker=3)
