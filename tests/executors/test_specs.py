"""kfold.Processes, kfold.Dask, kfold.Ray: options stored and checked when made, a repr that rebuilds them, picklable."""
from __future__ import annotations

import pickle

import pytest

import kfold
from kfold.executors.factory import build_executor, executor_from_keywords
from kfold.executors.specs import spec_from_keywords


@pytest.mark.parametrize("spec, text", [
    (kfold.Processes(), "Processes()"),
    (kfold.Processes(2, retries=1, max_tasks_per_worker=5), "Processes(n_jobs=2, retries=1, max_tasks_per_worker=5)"),
    (kfold.Processes(devices=["GPU:0", "GPU:1"]), "Processes(devices=['GPU:0', 'GPU:1'])"),
    (kfold.Dask("tcp://scheduler:8786"), "Dask(client='tcp://scheduler:8786')"),
    (kfold.Dask(n_jobs=2, retries=1), "Dask(n_jobs=2, retries=1)"),
    (kfold.Ray(4, devices="auto"), "Ray(n_jobs=4, devices='auto')"),
])
def test_repr_rebuilds_and_pickles(spec, text):
    assert repr(spec) == text
    assert eval(text, vars(kfold)) == spec  # noqa: S307 - the repr is the call that makes it
    assert pickle.loads(pickle.dumps(spec)) == spec


def test_options_are_stored_as_given():
    spec = kfold.Processes(-1, retries=2)
    assert (spec.n_jobs, spec.devices, spec.retries, spec.max_tasks_per_worker) == (-1, None, 2, None)
    assert kfold.Dask().options() == {"client": None, "n_jobs": None, "devices": None, "retries": 0}
    assert kfold.Processes(2) != kfold.Dask(n_jobs=2) and len({kfold.Ray(), kfold.Ray()}) == 1


def test_a_live_dask_client_travels_as_its_address():
    class Client:  # what Dask's Client looks like to kfold
        class scheduler:  # noqa: N801
            address = "tcp://10.0.0.1:8786"

        def submit(self):
            pass

    copy = pickle.loads(pickle.dumps(kfold.Dask(Client())))
    assert copy.client == "tcp://10.0.0.1:8786"


@pytest.mark.parametrize("make, error, match", [
    (lambda: kfold.Processes(0), ValueError, r"Invalid `n_jobs`.*Received: n_jobs=0"),
    (lambda: kfold.Processes(True), ValueError, r"Received: n_jobs=True"),
    (lambda: kfold.Processes(retries=-1), ValueError, r"Invalid `retries`.*non-negative"),
    (lambda: kfold.Processes(2, max_tasks_per_worker=0), ValueError, r"Invalid `max_tasks_per_worker`"),
    (lambda: kfold.Processes(1, max_tasks_per_worker=1), ValueError, r"single worker \(n_jobs=1\)"),
    (lambda: kfold.Processes(devices=[]), ValueError, r"Invalid `devices`.*non-empty list"),
    (lambda: kfold.Processes(devices="GPU:0"), ValueError, r"Invalid `devices`.*non-empty list"),
    (lambda: kfold.Dask(8786), TypeError, r"Invalid `client`.*scheduler address"),
    (lambda: kfold.Dask("tcp://s:8786", n_jobs=2), ValueError, r"Invalid `n_jobs`.*start more workers"),
    (lambda: kfold.Ray(devices=["GPU:0"]), ValueError, r"Invalid `devices`.*Ray places tasks"),
    (lambda: kfold.Ray(retries=1.5), ValueError, r"Invalid `retries`"),
])
def test_bad_options_are_refused_when_made(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_a_spec_builds_its_executor(monkeypatch):
    executor = build_executor(kfold.Processes(2, retries=1, max_tasks_per_worker=3))
    assert repr(executor) == "ProcessExecutor(n_workers=2, retries=1, max_tasks_per_worker=3)"
    assert kfold.make_executor(kfold.Processes(2)).n_workers == 2
    assert build_executor("processes").name == "processes"
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "4,5")
    assert build_executor(kfold.Processes(devices=["GPU:1"])).devices == ("5",)
    with pytest.raises(ValueError, match=r"GPU:7.*not among the visible GPUs"):  # checked when the run opens
        build_executor(kfold.Processes(devices=["GPU:7"]))


def test_old_keywords_become_a_spec():
    assert spec_from_keywords("processes", n_jobs=2, client=None, devices=None, retries=0,
                              max_tasks_per_worker=None) == kfold.Processes(2)
    assert spec_from_keywords("dask", client="tcp://s:8786", retries=1) == kfold.Dask("tcp://s:8786", retries=1)
    assert spec_from_keywords("sequential", n_jobs=1) == "sequential"
    assert executor_from_keywords("processes", {"n_jobs": 2}) == (kfold.Processes(2),
                                                                   "executor=kfold.Processes(n_jobs=2)")
    with pytest.raises(ValueError, match=r"Invalid `n_jobs`.*Configure the executor itself"):
        executor_from_keywords(kfold.Processes(2), {"n_jobs": 4})


def test_make_executor_warns_once_for_old_keywords_and_still_works():
    with pytest.warns(DeprecationWarning) as caught:
        executor = kfold.make_executor("processes", n_jobs=2, max_tasks_per_worker=3)
    assert len(caught) == 1
    assert "make_executor(kfold.Processes(n_jobs=2, max_tasks_per_worker=3))" in str(caught[0].message)
    assert (executor.n_workers, executor.max_tasks_per_worker) == (2, 3)
    with pytest.raises(TypeError, match="unexpected keyword argument 'jobs'"):
        kfold.make_executor("processes", jobs=2)
