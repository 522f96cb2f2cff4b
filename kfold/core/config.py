"""Settings in the open: ``kfold.get_config``, ``kfold.set_config`` and ``kfold.config_context``.

As scikit-learn's ``config_context``: a few named settings with documented
defaults instead of module switches. ``set_config`` changes them for the whole
process; ``config_context`` for a ``with`` block (and restores them after it, also
after an error). Worker processes receive the settings of the call that starts
them, so a run behaves alike wherever its folds train.

The settings
------------
fused_stacked : bool, default True
    Plain Dense stacks without callbacks train on the stacked fused graph (the
    fastest); ``False`` sends them to the masked-step or generic graph. A fold's
    numbers agree between graphs to float rounding.
fused_submodels : bool, default True
    Other models of Keras' layers without callbacks train on the masked-step
    fused graph; ``False`` sends them to the generic graph.
reuse_graphs : bool, default True
    A run of an architecture this thread trained recently reuses its compiled
    graph (same numbers, bit for bit, no compile); ``False`` compiles every run.
"""
from __future__ import annotations

import contextlib
import threading
from typing import Any, Iterator

from kfold.core.checks import fail

__all__ = ["get_config", "set_config", "config_context", "DEFAULTS"]

DEFAULTS: dict[str, Any] = {
    "fused_stacked": True,
    "fused_submodels": True,
    "reuse_graphs": True,
}

_global: dict[str, Any] = dict(DEFAULTS)
_local = threading.local()  # a thread inside config_context sees its own copy


def _current() -> dict[str, Any]:
    return getattr(_local, "config", None) or _global


def get_config() -> dict[str, Any]:
    """The settings in force in this thread, as a new dict.

    Examples
    --------
    >>> import kfold
    >>> kfold.get_config()["fused_stacked"]
    True
    """
    return dict(_current())


def _checked(settings: dict[str, Any]) -> dict[str, Any]:
    for name, value in settings.items():
        if name not in DEFAULTS:
            fail("setting", f"one of {sorted(DEFAULTS)}", name, error=TypeError)
        if not isinstance(value, type(DEFAULTS[name])):
            fail(name, f"a {type(DEFAULTS[name]).__name__}", value, error=TypeError)
    return settings


def set_config(**settings: Any) -> None:
    """Change settings for the whole process (threads inside a ``config_context`` keep theirs).

    Examples
    --------
    >>> import kfold
    >>> kfold.set_config(reuse_graphs=False)
    >>> kfold.get_config()["reuse_graphs"]
    False
    >>> kfold.set_config(reuse_graphs=True)
    >>> kfold.set_config(colour=True)
    Traceback (most recent call last):
    ...
    TypeError: Invalid `setting`. Expected one of ['fused_stacked', 'fused_submodels', 'reuse_graphs']. Received: setting='colour'
    """
    _checked(settings)
    if getattr(_local, "config", None) is not None:
        _local.config.update(settings)
    _global.update(settings)


@contextlib.contextmanager
def config_context(**settings: Any) -> Iterator[dict[str, Any]]:
    """Settings for a ``with`` block in this thread, restored after it.

    Examples
    --------
    >>> import kfold
    >>> with kfold.config_context(fused_stacked=False):
    ...     kfold.get_config()["fused_stacked"]
    False
    >>> kfold.get_config()["fused_stacked"]
    True
    """
    before = getattr(_local, "config", None)
    _local.config = {**_current(), **_checked(settings)}
    try:
        yield dict(_local.config)
    finally:
        _local.config = before
