"""release_memory frees reference cycles at once and trims glibc's heap where there is one."""
from __future__ import annotations

import gc
import sys
import weakref

import pytest

from kfold.core import memory


class Node:
    pass


def test_cycles_are_freed_without_waiting_for_the_collector():
    gc.disable()  # only the explicit collection may free the cycle
    try:
        a, b = Node(), Node()
        a.other, b.other = b, a
        ref = weakref.ref(a)
        del a, b
        assert ref() is not None
        assert memory.release_memory() >= 2
        assert ref() is None
    finally:
        gc.enable()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim is Linux's")
def test_the_heap_is_trimmed_on_linux():
    memory._LIBC.clear()
    memory._malloc_trim()  # True when pages went back, False when there were none to give
    assert memory._LIBC[0] is not None  # glibc was found, and is kept for the next call


def test_without_glibc_nothing_is_trimmed(monkeypatch):
    monkeypatch.setattr(memory, "_LIBC", [None])
    assert memory._malloc_trim() is False
    assert memory.release_memory() >= 0
