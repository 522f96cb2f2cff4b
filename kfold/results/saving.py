"""One way to save and load every result: ``to_dict`` / ``from_dict`` behind ``save`` / ``load``.

A result class names its ``kind``; :meth:`Saved.save` writes ``{"kind": ..., **to_dict()}``
atomically and :meth:`Saved.load` reads it back, refusing a file of another kind.
:func:`kfold.load` reads any of them by their ``kind``.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import ClassVar, TypeVar

from kfold.core import Described, fail
from kfold.core import write_json

__all__ = ["Saved", "read_result_file"]

T = TypeVar("T", bound="Saved")


def read_result_file(path: str | os.PathLike) -> dict:
    """The JSON object a result's ``save`` wrote, or a clear error naming ``path``.

    Examples
    --------
    >>> read_result_file("/no/such/result.json")
    Traceback (most recent call last):
    ...
    ValueError: Invalid `path`. Expected a readable JSON file written by a result's save(). Received: path=/no/such/result.json (FileNotFoundError)
    """
    try:
        with open(path, encoding="utf-8") as file:
            data = json.load(file)
    except (OSError, ValueError) as error:
        fail("path", "a readable JSON file written by a result's save()",
             Described(f"{path} ({type(error).__name__})"))
    if not isinstance(data, dict):
        fail("path", "a JSON object written by a result's save()", Described(f"{path} holding a {type(data).__name__}"))
    return data


class Saved:
    """Mixin for results with ``to_dict``/``from_dict``: JSON ``save`` and ``load``.

    Examples
    --------
    >>> import tempfile
    >>> class Box(Saved):
    ...     kind = "box"
    ...     def __init__(self, n): self.n = n
    ...     def to_dict(self): return {"n": self.n}
    ...     @classmethod
    ...     def from_dict(cls, data): return cls(data["n"])
    >>> path = Path(tempfile.mkdtemp()) / "box.json"
    >>> Box(3).save(path); Box.load(path).n
    3
    """

    kind: ClassVar[str]

    def to_dict(self) -> dict:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    @classmethod
    def from_dict(cls: type[T], data: dict) -> T:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def save(self, path: str | os.PathLike) -> None:
        """Write the result as JSON, atomically (a temporary file, then a rename); models are left out."""
        data = {"kind": self.kind, **self.to_dict()}
        try:
            write_json(Path(path), data)
        except OSError as error:
            fail("path", "a file path in a folder that exists and can be written",
                 Described(f"{path} ({type(error).__name__}: {error.strerror or error})"),
                 "Create the folder first, or choose another path")

    @classmethod
    def load(cls: type[T], path: str | os.PathLike) -> T:
        """Read a result written by :meth:`save` (also one saved before files named their kind)."""
        data = read_result_file(path)
        kind = data.pop("kind", cls.kind)
        if kind != cls.kind:
            fail("path", f"a saved {cls.__name__} (kind {cls.kind!r})", Described(f"{path}, a saved {kind!r}"),
                 "Read it with kfold.load(path), which reads every kind")
        return cls.from_dict(data)


