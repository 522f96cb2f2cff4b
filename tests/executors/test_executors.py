"""Executors: the same results everywhere, failures that name their fold, checks before work starts.

Worker pools are shared where possible (loky keeps its workers between runs with
the same settings; one Dask LocalCluster serves the whole module), and the tests
that restart the loky pool (killed workers, other settings) come last.
"""
from __future__ import annotations

import functools
import importlib.util
import re
import sys
import threading
import traceback
from collections import namedtuple

import numpy as np
import pytest

import kfold
from conftest import make_regressor
from executor_tasks import (TroubleOnSize, describe_worker, device_of_worker, die_in_fold_two,
                            fail_on_fold_one, mnist_like, small_conv2d, wait_and_return)
from kfold.executors.processes import ProcessExecutor
from kfold.executors.worker import WorkerSettings, worker_env
from kfold.executors.base import WORKER_DIED, TaskFailedError, TaskError
from kfold.executors.factory import make_executor
from kfold.train.travel import check_travel
from kfold.train.fold import FitConfig, FoldData, run_fold
from kfold.train import plan_folds

CandidateTask = namedtuple("CandidateTask", "candidate fold")


@pytest.fixture(scope="module")
def dask_executor():
    import distributed  # noqa: F401 - part of the test extra
    with make_executor(kfold.Dask(n_jobs=2)) as executor:
        yield executor


def executors(dask_executor, retries=0):
    return {"sequential": make_executor("sequential"),
            "processes": make_executor(kfold.Processes(n_jobs=2, retries=retries)),
            "dask": make_executor(kfold.Dask(dask_executor.client, retries=retries))}


def run_all(executor, fn, data, tasks):
    """The results by fold number (or by task, for plain tasks)."""
    return {getattr(task, "fold", task): result for task, result in executor.run(fn, data, tasks)}


# ---------------------------------------------------------------- same results everywhere

@pytest.mark.slow
def test_sequential_processes_and_dask_give_identical_folds(regression_data, dask_executor):
    x, y = regression_data
    tasks = plan_folds(3, len(x), seed=0)
    config = FitConfig(epochs=2, batch_size=8, return_models=True)
    fn = functools.partial(run_fold, make_regressor, config=config)
    outcomes = {}
    for name, executor in executors(dask_executor).items():
        check_travel(executor, make_regressor, return_models=True)
        results = run_all(executor, fn, FoldData(x, y), tasks)
        assert sorted(results) == [0, 1, 2]  # complete, each fold once
        outcomes[name] = [results[fold] for fold in range(3)]
    for name in ("processes", "dask"):
        for mine, reference in zip(outcomes[name], outcomes["sequential"]):
            assert mine.history == reference.history  # bitwise: same floats
            assert mine.scores == reference.scores
            for a, b in zip(mine.model.get_weights(), reference.model.get_weights()):
                np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------- the trainers on every executor

def uneven_folds(n: int = 40) -> list:
    """Three explicit folds whose training parts have 30, 28 and 22 rows."""
    index = np.arange(n)
    return [(np.setdiff1d(index, val), val) for val in np.split(index, [10, 22])]


def assert_same_cv(result, reference):
    assert result.history.keys() == reference.history.keys()
    for key in reference.history.keys():
        np.testing.assert_array_equal(result.history[key], reference.history[key])  # bitwise
    for key in reference.scores:
        np.testing.assert_array_equal(result.scores[key], reference.scores[key])
    assert [val.tolist() for _, val in result.folds] == [val.tolist() for _, val in reference.folds]


@pytest.mark.slow
def test_cross_validate_gives_identical_histories_on_every_executor(regression_data, dask_executor):
    x, y = regression_data
    kwargs = dict(cv=3, epochs=2, batch_size=8, seed=0, verbose=0, preprocess=kfold.Standardize())
    reference = kfold.cross_validate(make_regressor, x, y, strategy="sequential", **kwargs)
    for executor in (make_executor(kfold.Processes(n_jobs=2)), make_executor(kfold.Dask(dask_executor.client))):
        result = kfold.cross_validate(make_regressor, x, y, executor=executor, strategy="sequential", **kwargs)
        assert_same_cv(result, reference)  # results in fold order, whatever order they finished in
        assert (result.params["executor"], result.params["strategy"]) == (executor.name, "sequential")
        assert "one fold per task" in result.params["strategy_reason"]


@pytest.mark.slow
@pytest.mark.parametrize("build, features", [(mnist_like, 16), (small_conv2d, 144)],
                         ids=["mnist-like", "conv2d-without-xla"])
def test_the_default_strategy_gives_identical_histories_on_every_executor(dask_executor, build, features):
    # the MNIST-like model of issue 11 (one hidden Dense(128), softmax, categorical cross-entropy), and an
    # image model, fused without XLA on a CPU in the workers too (with XLA its numbers would differ); its
    # batches are too small here for TensorFlow's kernels to split their sums by thread (the exception docs/guide/parallel.md states)
    # on workers a candidate's folds are one task, trained fused as in this process
    rng = np.random.default_rng(0)
    x, y = rng.random((90, features)).astype("float32"), np.eye(10)[np.arange(90) % 10]  # 9 of each class
    kwargs = dict(cv=3, epochs=2, batch_size=16, seed=0, verbose=0)
    here = kfold.cross_validate(build, x, y, **kwargs)
    assert here.params["strategy"] == "fused"
    for executor in (make_executor(kfold.Processes(n_jobs=2)), make_executor(kfold.Dask(dask_executor.client))):
        there = kfold.cross_validate(build, x, y, executor=executor, **kwargs)
        assert_same_cv(there, here)  # bitwise
        assert there.params["strategy"] == "fused" and "one task for the candidate's folds" in there.params["strategy_reason"]


class CountingProcesses(ProcessExecutor):
    """The process executor, counting the tasks of each batch it is given."""

    batches: list = []

    def run(self, fn, data, tasks):
        tasks = list(tasks)
        self.batches.append(len(tasks))
        yield from super().run(fn, data, tasks)


@pytest.mark.slow
def test_searches_on_processes_and_dask_match_sequential(regression_data, dask_executor, tmp_path):
    x, y = regression_data
    kwargs = dict(cv=3, epochs=2, batch_size=8, seed=0, verbose=0)
    reference = kfold.grid_search(make_regressor, {"units": [4, 8]}, x, y, strategy="sequential", **kwargs)
    executor = CountingProcesses(n_jobs=2)
    search = kfold.grid_search(make_regressor, {"units": [4, 8]}, x, y, executor=executor, strategy="sequential",
                               run_dir=tmp_path / "search", **kwargs)
    assert executor.batches == [6]  # every fold of every candidate sent at once
    for result, expected in zip(search.results, reference.results):
        assert_same_cv(result, expected)
    assert (search.best_params, search.best_epoch) == (reference.best_params, reference.best_epoch)
    for result, expected in zip(kfold.load(tmp_path / "search").results, reference.results):
        assert_same_cv(result, expected)  # saved as the folds arrived
    kwargs = dict(outer_cv=2, inner_cv=2, epochs=2, batch_size=8, seed=0, verbose=0)
    nested = kfold.nested_cross_validate(make_regressor, {"units": [4]}, x, y, strategy="sequential",
                                         executor=kfold.Dask(dask_executor.client), **kwargs)
    expected = kfold.nested_cross_validate(make_regressor, {"units": [4]}, x, y, strategy="sequential", **kwargs)
    np.testing.assert_array_equal(nested.scores["loss"], expected.scores["loss"])
    # the default strategy: each candidate's folds are one task, trained fused as in this process
    kwargs = dict(cv=3, epochs=2, batch_size=8, seed=0, verbose=0, refit=False)
    fused = kfold.grid_search(make_regressor, {"units": [4, 8]}, x, y, **kwargs)
    executor = CountingProcesses(n_jobs=2)
    executor.batches = []
    on_workers = kfold.grid_search(make_regressor, {"units": [4, 8]}, x, y, executor=executor, **kwargs)
    assert executor.batches == [2]  # one task per candidate
    for result, expected in zip(on_workers.results, fused.results):
        assert_same_cv(result, expected)


def test_fused_strategy_with_worker_processes_is_refused(regression_data):
    x, y = regression_data
    with pytest.raises(ValueError, match=r"Invalid `strategy`.*Received: strategy='fused'.*executor='processes'"):
        kfold.cross_validate(make_regressor, x, y, cv=2, epochs=1, verbose=0, strategy="fused",
                             executor=kfold.Processes(n_jobs=2))
    with pytest.raises(ValueError, match=r"Invalid `strategy`.*Received: strategy='fused'"):
        kfold.grid_search(make_regressor, {"units": [4, 8]}, x, y, cv=2, epochs=1, verbose=0,
                          strategy="fused", executor=kfold.Processes(n_jobs=2))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["processes", "dask"])
def test_a_fold_failing_in_a_worker_names_its_fold_and_candidate(regression_data, dask_executor, name):
    x, y = regression_data
    executor = executors(dask_executor)[name]
    with pytest.raises(kfold.FoldError) as info:
        kfold.grid_search(make_regressor, {"units": [4, 8]}, x, y, cv=uneven_folds(), epochs=1, seed=0,
                          verbose=0, preprocess=TroubleOnSize(28), executor=executor, refit=False,
                          strategy="sequential")  # one fold per task
    message = str(info.value)
    assert message.startswith("Candidate 1 {'units': 4}: Fold 2 raised an exception")
    assert "ZeroDivisionError: no luck with 28 rows" in message
    assert (info.value.fold, info.value.candidate) == (1, 0)
    assert "executor_tasks.py" in message + "".join(traceback.format_exception(info.value))  # the worker's
    with pytest.raises(kfold.FoldError) as info:  # the default: a candidate's folds are one task; failed, each
        kfold.grid_search(make_regressor, {"units": [4, 8]}, x, y, cv=uneven_folds(), epochs=1, seed=0,  # alone
                          verbose=0, preprocess=TroubleOnSize(28), executor=executor, refit=False)
    assert re.match(r"Candidate (1 \{'units': 4\}|2 \{'units': 8\}): Fold 2 raised an exception", str(info.value))
    assert "ZeroDivisionError: no luck with 28 rows" in str(info.value) and info.value.fold == 1


def test_unpicklable_build_fn_is_refused_by_cross_validate_before_training(regression_data):
    x, y = regression_data
    lock = threading.Lock()
    with pytest.raises(TypeError, match=r"Invalid `build_fn`.*does not pickle"):
        kfold.cross_validate(lambda: lock, x, y, cv=2, epochs=1, verbose=0, executor=kfold.Processes(n_jobs=2))


# ---------------------------------------------------------------- what cannot travel

def test_unpicklable_build_fn_is_refused_before_any_work():
    import threading

    lock = threading.Lock()
    with pytest.raises(TypeError, match=r"cannot pickle '_thread.lock'.*inside build_fn"):
        check_travel(make_executor(kfold.Processes(n_jobs=2)), lambda: lock)


def test_model_instance_is_refused():
    # checked once, at the public entry, before any worker starts (check_travel no longer repeats it)
    with pytest.raises(TypeError, match="model instance"):
        kfold.cross_validate(make_regressor(), np.zeros((8, 3)), np.zeros(8), cv=2, epochs=1, verbose=0,
                             executor=kfold.Processes(n_jobs=2))


def test_sequential_checks_only_the_build_fn():
    import threading

    lock = threading.Lock()
    check_travel(make_executor("sequential"), lambda: lock)


@pytest.mark.parametrize("name", ["processes", "dask"])
def test_build_fn_from_a_module_the_workers_cannot_import(tmp_path, name, dask_executor, monkeypatch):
    path = tmp_path / "my_models_kfold_test.py"
    path.write_text("def build_model():\n    raise AssertionError('never called')\n")
    spec = importlib.util.spec_from_file_location("my_models_kfold_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setitem(sys.modules, "my_models_kfold_test", module)  # importable here only
    executor = executors(dask_executor)[name]
    with pytest.raises(TypeError, match=r"No module named 'my_models_kfold_test'.*"
                                        r"register_pickle_by_value\(my_models_kfold_test\)"):
        check_travel(executor, module.build_model)


def notebook_layer(registered):
    """A custom layer as a notebook defines it: in __main__, travelling by value."""
    import keras

    class Doubling(keras.layers.Layer):
        def call(self, inputs):
            return inputs * 2.0

    Doubling.__module__ = "__main__"
    if registered:
        Doubling = keras.saving.register_keras_serializable(package="kfold_test")(Doubling)

    def build():
        model = keras.Sequential([keras.Input((3,)), Doubling(), keras.layers.Dense(1)])
        model.compile(optimizer="sgd", loss="mse")
        return model

    build.__module__ = "__main__"
    return build


@pytest.mark.slow
def test_notebook_custom_layer_trains_in_workers(regression_data):
    x, y = regression_data
    build = notebook_layer(registered=False)
    executor = make_executor(kfold.Processes(n_jobs=2))
    check_travel(executor, build)  # passes: the layer travels by value
    fn = functools.partial(run_fold, build, config=FitConfig(epochs=1))
    results = run_all(executor, fn, FoldData(x, y), plan_folds(2, len(x), seed=0))
    assert [type(outcome).__name__ for outcome in results.values()] == ["FoldOutcome"] * 2


@pytest.mark.parametrize("registered", [False, True])
def test_notebook_custom_layer_models_cannot_come_back(registered):
    with pytest.raises(ValueError, match=r"Could not locate class 'Doubling'.*\.py module.*"
                                         r"register_keras_serializable.*return_models=False"):
        check_travel(make_executor(kfold.Processes(n_jobs=2)), notebook_layer(registered),
                     return_models=True)


# ---------------------------------------------------------------- plain tasks: order, data, workers

def test_results_come_as_they_complete():
    executor = make_executor(kfold.Processes(n_jobs=2))
    order = [task for task, _ in executor.run(wait_and_return, None, [2.0, 0.1])]
    assert order == [0.1, 2.0]


def test_large_arrays_are_memory_mapped_and_threads_limited():
    from joblib import cpu_count

    data = FoldData(np.zeros((200_000, 2)), np.zeros(200_000))  # 3.2 MB: above joblib's 1 MB
    results = run_all(make_executor(kfold.Processes(n_jobs=2)), describe_worker, data, range(4))
    assert {kind for kind, _, _ in results.values()} == {"memmap"}
    assert {threads for _, threads, _ in results.values()} == {str(max(1, cpu_count() // 2))}


# ---------------------------------------------------------------- failures

@pytest.mark.parametrize("name", ["sequential", "processes", "dask"])
def test_a_raising_task_comes_back_with_its_fold_and_traceback(name, dask_executor):
    tasks = [CandidateTask(candidate=2, fold=fold) for fold in range(3)]
    results = run_all(executors(dask_executor)[name], fail_on_fold_one, None, tasks)
    assert [results[0], results[2]] == [0, 2]  # the others go on
    error = results[1]
    assert isinstance(error, TaskError)
    assert (error.fold, error.candidate, error.error_type) == (1, 2, "ZeroDivisionError")
    assert "fail_on_fold_one" in error.traceback and "no data in this fold" in error.traceback
    exception = error.to_exception()
    assert str(exception).startswith("Fold 2 (candidate 3) raised an exception")
    shown = "".join(traceback.format_exception(exception))  # as Python prints it: with the cause
    assert "fail_on_fold_one" in shown and 'raise ZeroDivisionError("no data in this fold")' in shown
    assert isinstance(error.to_exception(), TaskFailedError) and isinstance(error.exception, ZeroDivisionError)


def test_an_error_without_its_exception_shows_the_worker_traceback():
    worker_traceback = 'Traceback (most recent call last):\n  File "my_models.py", line 3\n'
    error = TaskError(CandidateTask(0, 4), "raised an exception", "ValueError", "bad",
                      traceback=worker_traceback, pid=42)
    assert str(error.to_exception()).splitlines() == [
        "Fold 5 (candidate 1) raised an exception in worker process 42: ValueError: bad", "",
        "Worker traceback:", "Traceback (most recent call last):", '  File "my_models.py", line 3']


@pytest.mark.parametrize("name", ["processes", "dask"])
def test_a_killed_worker_is_retried(tmp_path, name, dask_executor):
    executor = executors(dask_executor, retries=1)[name]
    results = run_all(executor, die_in_fold_two, str(tmp_path), range(5))
    assert results == {task: task * 10 for task in range(5)}
    assert (tmp_path / "died-2").exists()


@pytest.mark.parametrize("name", ["processes", "dask"])
def test_a_worker_that_keeps_dying_fails_only_its_fold(tmp_path, name, dask_executor):
    fn = functools.partial(die_in_fold_two, always=True)
    results = run_all(executors(dask_executor, retries=0)[name], fn, str(tmp_path), range(5))
    assert {task: results[task] for task in (0, 1, 3, 4)} == {0: 0, 1: 10, 3: 30, 4: 40}
    assert isinstance(results[2], TaskError) and results[2].kind == WORKER_DIED
    assert str(results[2].to_exception()).startswith("Task 2 died with its worker process")


@pytest.mark.slow
def test_a_fold_whose_worker_dies_is_retried_skipped_saved_and_resumed(regression_data, tmp_path):
    x, y = regression_data
    kwargs = dict(cv=uneven_folds(), epochs=1, seed=0, verbose=0)
    once = TroubleOnSize(28, "die", folder=str(tmp_path / "once"))
    (tmp_path / "once").mkdir()
    assert kfold.cross_validate(make_regressor, x, y, preprocess=once, executor=kfold.Processes(n_jobs=2, retries=1),
                                **kwargs).errors == {}
    kwargs["executor"] = kfold.Processes(n_jobs=2)
    always = TroubleOnSize(28, "die", folder=str(tmp_path), always=True)
    run_dir = tmp_path / "run"
    result = kfold.cross_validate(make_regressor, x, y, preprocess=always, on_error="skip", run_dir=run_dir,
                                  **kwargs)
    assert list(result.errors) == [1] and "died with its worker process" in result.errors[1]
    assert np.isnan(result.scores["val_loss"][1]) and np.isfinite(result.scores["val_loss"][[0, 2]]).all()
    assert len(list((run_dir / "folds").glob("fold_*.json"))) == 3  # saved as they arrived
    saved = {f.name: f.stat().st_mtime_ns for f in (run_dir / "folds").glob("fold_*.json")}
    healed = TroubleOnSize(28, "die", folder=str(tmp_path))  # its marker exists: it no longer dies
    resumed = kfold.cross_validate(make_regressor, x, y, preprocess=healed, run_dir=run_dir, **kwargs)
    assert resumed.errors == {}
    again = {f.name: f.stat().st_mtime_ns for f in (run_dir / "folds").glob("fold_*.json")}
    assert [name for name in saved if saved[name] != again[name]] == ["fold_001.json"]  # only the failed fold ran
    reference = kfold.cross_validate(make_regressor, x, y, preprocess=healed, **kwargs)
    assert_same_cv(resumed, reference)


# ---------------------------------------------------------------- devices (a new pool: last)

def test_each_worker_is_pinned_to_one_device():
    executor = make_executor(kfold.Processes(devices=["GPU:0", "GPU:1"]))
    assert executor.n_workers == 2
    with executor:
        results = run_all(executor, device_of_worker, None, range(6))
    by_pid = {}
    for pid, device, growth in results.values():
        by_pid.setdefault(pid, set()).add(device)
        assert growth == "true"
    assert all(len(devices) == 1 for devices in by_pid.values())  # a worker keeps its device
    assert len({device for devices in by_pid.values() for device in devices}) == len(by_pid)


def test_device_mapping_is_round_robin_over_worker_slots(monkeypatch):
    settings = WorkerSettings(threads=8, devices=("0", "1"))
    slots = [worker_env(settings, slot)["CUDA_VISIBLE_DEVICES"] for slot in range(5)]
    assert slots == ["0", "1", "0", "1", "0"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "4,5")
    assert make_executor(kfold.Processes(devices=["GPU:1", "GPU:0"])).devices == ("5", "4")
    with pytest.raises(ValueError, match="GPU:2.*not among the visible GPUs"):
        make_executor(kfold.Processes(devices=["GPU:2"]))
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert make_executor(kfold.Processes(devices="auto")).devices is None  # no GPU: no pinning


# ---------------------------------------------------------------- arguments

@pytest.mark.parametrize("kwargs, match", [
    ({"executor": "threads"}, r"Expected one of 'sequential', 'processes', 'dask', 'ray'"),
    ({"executor": "processes", "n_jobs": 0}, r"Expected a positive integer, or -1 or None"),
    ({"executor": "processes", "n_jobs": True}, r"Received: n_jobs=True"),
    ({"executor": "sequential", "n_jobs": 2}, r"Pass executor='processes'"),
    ({"executor": "processes", "client": "tcp://scheduler:8786"}, r"None unless executor='dask'"),
    ({"executor": "sequential", "devices": ["GPU:0"]}, r"Expected None with executor='sequential'"),
    ({"executor": "processes", "devices": ["TPU:0"]}, r"Not a device: 'TPU:0'"),
    ({"executor": "processes", "devices": []}, r"'auto' or a non-empty list"),
    ({"executor": "processes", "retries": -1}, r"Expected a non-negative integer"),
    ({"executor": "ray", "devices": ["GPU:0"]}, r"devices='auto' gives each fold one GPU"),
    ({"executor": "dask", "client": "tcp://scheduler:8786", "n_jobs": 2}, r"start more workers"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_executor(**kwargs)


def test_bad_client_type_and_configured_instance():
    with pytest.raises(TypeError, match="a dask.distributed.Client or a scheduler address"):
        make_executor("dask", client=8786)
    executor = make_executor(kfold.Processes(n_jobs=2))
    assert make_executor(executor) is executor
    with pytest.raises(ValueError, match="Configure the executor itself"):
        make_executor(executor, n_jobs=4)


@pytest.mark.parametrize("name, module, extra", [("dask", "distributed", "dask"), ("ray", "ray", "ray")])
def test_missing_engine_gives_the_install_hint(monkeypatch, name, module, extra):
    monkeypatch.setitem(sys.modules, module, None)  # import -> ImportError
    with pytest.raises(ImportError, match=rf'pip install "keras-kfold\[{extra}\]"'):
        make_executor(name)
