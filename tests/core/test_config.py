"""kfold.get_config / set_config / config_context: named settings, checked, restored, per thread."""
from __future__ import annotations

import threading

import pytest

import kfold
from kfold.core.config import DEFAULTS


def test_the_defaults_are_documented_settings():
    assert kfold.get_config() == DEFAULTS == {"fused_stacked": True, "fused_submodels": True, "reuse_graphs": True}


def test_a_context_is_restored_after_an_error():
    with pytest.raises(RuntimeError):
        with kfold.config_context(reuse_graphs=False):
            assert kfold.get_config()["reuse_graphs"] is False
            raise RuntimeError("in the block")
    assert kfold.get_config()["reuse_graphs"] is True


def test_contexts_nest():
    with kfold.config_context(fused_stacked=False):
        with kfold.config_context(fused_submodels=False):
            assert kfold.get_config() == {**DEFAULTS, "fused_stacked": False, "fused_submodels": False}
        assert kfold.get_config() == {**DEFAULTS, "fused_stacked": False}
    assert kfold.get_config() == DEFAULTS


def test_a_context_holds_in_its_own_thread_only():
    seen = {}
    inside, done = threading.Event(), threading.Event()

    def other():
        inside.wait()
        seen["other"] = kfold.get_config()["fused_stacked"]
        done.set()

    thread = threading.Thread(target=other)
    thread.start()
    with kfold.config_context(fused_stacked=False):
        inside.set()
        done.wait(10)
        seen["own"] = kfold.get_config()["fused_stacked"]
    thread.join()
    assert seen == {"other": True, "own": False}


def test_set_config_changes_the_process_and_can_be_undone():
    try:
        kfold.set_config(reuse_graphs=False)
        assert kfold.get_config()["reuse_graphs"] is False
    finally:
        kfold.set_config(reuse_graphs=True)
    assert kfold.get_config() == DEFAULTS


@pytest.mark.parametrize("settings, match", [
    ({"colour": True}, r"Invalid `setting`. Expected one of \['fused_stacked', 'fused_submodels', 'reuse_graphs'\]. Received: setting='colour'"),
    ({"reuse_graphs": "no"}, r"Invalid `reuse_graphs`. Expected a bool. Received: reuse_graphs='no'"),
])
def test_unknown_settings_and_wrong_types_are_refused(settings, match):
    with pytest.raises(TypeError, match=match):
        kfold.set_config(**settings)
    with pytest.raises(TypeError, match=match):
        with kfold.config_context(**settings):
            pass
    assert kfold.get_config() == DEFAULTS
