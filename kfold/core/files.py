"""Files kfold writes: atomic JSON (a temporary file, then a rename) and the package versions runs record."""
from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
from kfold import __version__
from kfold.core.backend import import_keras

__all__ = ["write_json", "package_versions"]


def package_versions() -> dict:
    """The versions a run directory records: kfold's, Keras' and NumPy's.

    Examples
    --------
    >>> sorted(package_versions())
    ['keras', 'kfold', 'numpy']
    """

    return {"kfold": __version__, "keras": import_keras().__version__, "numpy": np.__version__}


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` as JSON to ``path`` atomically (temporary file + ``os.replace``).

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "x.json"
    >>> write_json(path, {"a": 1}); json.loads(path.read_text())
    {'a': 1}
    """
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as file:
            json.dump(data, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:  # a failed or interrupted write leaves nothing behind
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
