"""Argument checks whose errors say what was expected and what was received.

Every error follows Keras' wording: ``Expected <what>. Received: <param>=<value>``,
followed by the fix where there is one.
"""
from __future__ import annotations

import numbers
import os
from typing import Any, NoReturn

import numpy as np

__all__ = ["Described", "message", "fail", "check_positive_int", "check_fraction", "check_choice", "check_bool",
           "check_path"]


class Described(str):
    """A description of the received value, shown as is rather than as its repr.

    Examples
    --------
    >>> fail("y", "40 entries", Described("39 entries"))
    Traceback (most recent call last):
    ...
    ValueError: Invalid `y`. Expected 40 entries. Received: y=39 entries
    """

    def __repr__(self) -> str:
        return str(self)


def _short_repr(value: Any, limit: int = 80) -> str:
    """The value's repr, shortened if long; our own descriptions are shown whole."""
    text = repr(value)
    if isinstance(value, Described) or len(text) <= limit:
        return text
    return text[: limit - 3] + "..."


def message(param: str, expected: str, received: Any, fix: str | None = None) -> str:
    """The standard error text: what was expected, what was received, and the fix.

    Examples
    --------
    >>> message("epochs", "a positive integer", 0, "Train for at least one epoch")
    'Invalid `epochs`. Expected a positive integer. Received: epochs=0. Train for at least one epoch'
    """
    text = f"Invalid `{param}`. Expected {expected}. Received: {param}={_short_repr(received)}"
    return f"{text}. {fix}" if fix else text


def fail(
    param: str,
    expected: str,
    received: Any,
    fix: str | None = None,
    *,
    error: type[Exception] = ValueError,
) -> NoReturn:
    """Raise ``error`` with the project's standard :func:`message`.

    Examples
    --------
    >>> fail("epochs", "a positive integer", 0)
    Traceback (most recent call last):
    ...
    ValueError: Invalid `epochs`. Expected a positive integer. Received: epochs=0
    """
    raise error(message(param, expected, received, fix))


def check_positive_int(param: str, value: Any) -> int:
    """Return ``value`` as an ``int`` if it is a positive integer, else raise.

    Examples
    --------
    >>> check_positive_int("batch_size", 16)
    16
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        fail(param, "a positive integer", value)
    return int(value)


def check_fraction(param: str, value: Any, *, low: float = 0.0, high: float = 1.0) -> float:
    """Return ``value`` if ``low <= value < high``, else raise.

    Examples
    --------
    >>> check_fraction("factor", 0.9)
    0.9
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not low <= value < high:
        fail(param, f"a number in [{low:g}, {high:g})", value)
    return float(value)


def check_choice(param: str, value: Any, choices: tuple) -> Any:
    """Return ``value`` if it is one of ``choices``, else raise.

    Examples
    --------
    >>> check_choice("band", "std", ("std", "sem"))
    'std'
    """
    if value not in choices:
        fail(param, "one of " + ", ".join(repr(c) for c in choices), value)
    return value


def check_bool(param: str, value: Any) -> bool:
    """Return ``value`` if it is ``True`` or ``False`` (a string such as ``"no"`` would count as true).

    Examples
    --------
    >>> check_bool("overwrite", "no")
    Traceback (most recent call last):
    ...
    TypeError: Invalid `overwrite`. Expected True or False. Received: overwrite='no'
    """
    if not isinstance(value, (bool, np.bool_)):
        fail(param, "True or False", value, error=TypeError)
    return bool(value)


def check_path(param: str, value: Any) -> Any:
    """Return ``value`` if it is ``None``, a ``str`` or an ``os.PathLike``, else raise.

    Examples
    --------
    >>> check_path("run_dir", 3)
    Traceback (most recent call last):
    ...
    TypeError: Invalid `run_dir`. Expected None or a folder path (str or pathlib.Path). Received: run_dir=3
    """
    if value is not None and not isinstance(value, (str, os.PathLike)):
        fail(param, "None or a folder path (str or pathlib.Path)", value, error=TypeError)
    return value
