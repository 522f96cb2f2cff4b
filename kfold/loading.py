"""``kfold.load``: read back any saved run, a run directory or a result's JSON file."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from kfold.core import Described, fail
from kfold.results import CVResult
from kfold.results import ENSEMBLE_FILE, FoldEnsemble
from kfold.results import load_run, read_manifest
from kfold.results import read_result_file
from kfold.search import LearningCurveResult
from kfold.search import NestedResult
from kfold.search import load_search
from kfold.search import SearchResult

__all__ = ["load"]

_KINDS = {cls.kind: cls for cls in (CVResult, SearchResult, NestedResult, LearningCurveResult)}


def _kind_of(data: dict) -> str:
    """The kind a result file names, or (files saved before they named it) the one its keys show."""
    if "kind" in data:
        return data["kind"]
    if "searches" in data:
        return NestedResult.kind
    return SearchResult.kind if "candidates" in data else CVResult.kind


def load(path: str | os.PathLike) -> Any:
    """Read back a saved run: a run directory (``run_dir=``) or a JSON file (``result.save(path)``).

    A ``cross_validate`` run directory gives its :class:`~kfold.CVResult` (finished
    folds only); a ``grid_search``/``random_search`` run directory its
    :class:`~kfold.SearchResult` (finished candidates only, no ``best_model``: see
    :func:`kfold.search.rundir.load_search`). A JSON file written by
    ``CVResult.save``, ``SearchResult.save``, ``NestedResult.save`` or
    ``LearningCurveResult.save`` gives that
    result back; a folder written by :meth:`kfold.FoldEnsemble.save` its
    :class:`~kfold.FoldEnsemble`. Loading never changes what is on disk.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from kfold import CVHistory
    >>> result = CVResult(CVHistory([{"loss": [1.0]}]), [(np.array([1]), np.array([0]))],
    ...                   {"val_loss": np.array([1.0])}, np.array([2.0]), np.array([0.1]), {"epochs": 1})
    >>> path = Path(tempfile.mkdtemp()) / "result.json"
    >>> result.save(path)
    >>> load(path).history[0]
    {'loss': [1.0]}
    """
    path = Path(path)
    if path.is_dir() and (path / ENSEMBLE_FILE).exists():
        return FoldEnsemble.load(path)
    if path.is_dir():
        manifest = read_manifest(path)
        return load_search(path, manifest) if manifest.get("kind") == "search" else load_run(path, manifest)
    data = read_result_file(path)
    kind = _kind_of(data)
    if kind not in _KINDS:
        fail("path", f"a saved result of kind {sorted(_KINDS)}", Described(f"{path}, of kind {kind!r}"))
    return _KINDS[kind].load(path)
