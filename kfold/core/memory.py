"""Give the memory of finished work back: Python's garbage cycles, then the C allocator's free pages.

A Keras model is full of reference cycles (layers and their model, variables and
their trackers), so the fold models a finished candidate built stay in memory until
Python's rare full collection finds them, and glibc keeps the pages it freed for
later use. Over a search of many candidates in one process, that reads as a
resident memory growing by several MB per candidate (BENCHMARKS.md, "Memory: a
fused search of 20 candidates"). :func:`release_memory` runs after every candidate.
"""
from __future__ import annotations

import ctypes
import gc
import sys

__all__ = ["release_memory"]

_LIBC: list = []  # glibc's handle, found once ([None] where there is none)


def _malloc_trim() -> bool:
    """Ask glibc to return its free pages to the system (``malloc_trim(0)``); False where there is no glibc."""
    if not _LIBC:
        try:
            libc = ctypes.CDLL("libc.so.6") if sys.platform.startswith("linux") else None
            _LIBC.append(libc if libc is not None and hasattr(libc, "malloc_trim") else None)
        except OSError:  # musl or another C library: nothing to trim
            _LIBC.append(None)
    return _LIBC[0] is not None and bool(_LIBC[0].malloc_trim(0))


def release_memory() -> int:
    """Collect Python's garbage (all generations) and trim the C heap; return the objects collected.

    Examples
    --------
    >>> class Node:
    ...     pass
    >>> a, b = Node(), Node()
    >>> a.other, b.other = b, a  # a cycle: only the garbage collector frees it
    >>> del a, b
    >>> release_memory() >= 2
    True
    """
    collected = gc.collect()
    _malloc_trim()
    return collected
