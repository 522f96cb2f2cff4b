"""Compiled graphs shared between fused runs: in a search, and across the runs of a thread.

The engine of the active backend makes the pools and lends their graphs
(:meth:`kfold.engines.FusedEngine.search_pool` and friends; TensorFlow's:
:mod:`kfold.engines.tensorflow.pool`); these functions are what the trainer and
the searches call.
"""
from __future__ import annotations

import contextlib
from typing import Iterator

from kfold.engines import GraphSharing, get_engine

__all__ = ["sharing_graphs", "active_pool", "search_pool", "recent_graphs"]


@contextlib.contextmanager
def sharing_graphs(pool: GraphSharing | None = None) -> Iterator[GraphSharing]:
    """Within the block, fused runs of one architecture share compiled graphs (one pool).

    What a search wraps around its candidates' training;
    :func:`kfold.train.run.strategy.run_folds` then lends the pool to each fused run.

    Examples
    --------
    >>> with sharing_graphs() as pool:
    ...     active_pool() is pool
    True
    >>> active_pool() is None
    True
    """
    with get_engine().sharing(pool) as shared:
        yield shared


def active_pool() -> GraphSharing | None:
    """The pool of the enclosing :func:`sharing_graphs` block, or None.

    Examples
    --------
    >>> active_pool() is None
    True
    """
    return get_engine().active_pool()


def search_pool() -> GraphSharing:
    """A new pool for a search (the graphs of a few architectures at most).

    Examples
    --------
    >>> search_pool() is search_pool()
    False
    """
    return get_engine().search_pool()


def recent_graphs() -> GraphSharing | None:
    """This thread's pool of the graphs of its last few architectures (None with ``reuse_graphs=False``).

    What a fused run outside a search trains with (:func:`kfold.train.run.strategy.run_folds`);
    ``kfold.config_context(reuse_graphs=False)`` turns it off (a benchmark of cold runs).

    Examples
    --------
    >>> import kfold
    >>> recent_graphs() is recent_graphs()
    True
    >>> with kfold.config_context(reuse_graphs=False):
    ...     recent_graphs() is None
    True
    """
    return get_engine().recent_pool()
