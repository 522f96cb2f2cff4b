"""Run directories: every finished fold on disk the moment it ends, and resume.

Layout of a run directory::

    manifest.json          what was asked: folds (and their hash), data hash, settings
    folds/fold_000.json    one file per finished fold: history, scores, timings
    folds/fold_000.weights.h5   its trained weights (with ``save_weights=True``)

Every file is written atomically (a temporary file, then a rename), so a crash
never leaves a half-written file under its final name; a file that is damaged
anyway is noticed on resume and its fold is computed again.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import warnings
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from ._checks import Described, fail
from ._data import leaves
from .fold import FoldOutcome

__all__ = ["package_versions", "RunDir", "finished_folds", "data_hash", "outcome_to_dict", "outcome_from_dict", "write_json",
           "cv_manifest", "load"]

MANIFEST = "manifest.json"


def package_versions() -> dict:
    """The versions a run directory records: kfold's, Keras' and NumPy's.

    Examples
    --------
    >>> sorted(package_versions())
    ['keras', 'kfold', 'numpy']
    """
    from . import __version__
    from ._backend import import_keras

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
    with open(tmp, "w", encoding="utf-8") as file:
        json.dump(data, file)
        file.flush()
        os.fsync(file.fileno())
    os.replace(tmp, path)


def data_hash(*parts: Any) -> str:
    """SHA-256 of arrays (or dicts/lists of arrays, or ``None``): shapes, dtypes and bytes.

    Examples
    --------
    >>> data_hash(np.arange(3)) == data_hash(np.arange(3)), data_hash(np.arange(3)) == data_hash(np.arange(4))
    (True, False)
    """
    digest = hashlib.sha256()
    for part in parts:
        digest.update(b"|part")
        if part is None:
            continue
        for array in leaves(part):
            array = np.ascontiguousarray(array)
            digest.update(f"{array.dtype.str}{array.shape}".encode())
            digest.update(array.tobytes() if array.dtype.kind != "O" else repr(array.tolist()).encode())
    return digest.hexdigest()


def _nan_to_none(values: Iterable[float]) -> list:
    return [float(v) if np.isfinite(v) else None for v in values]


def outcome_to_dict(outcome: FoldOutcome) -> dict:
    """A fold outcome as plain Python types (the model and preprocessing are left out).

    Examples
    --------
    >>> outcome_to_dict(FoldOutcome(0, {"loss": [1.0]}, {"loss": 1.0}, 2.0, 0.5))["history"]
    {'loss': [1.0]}
    """
    data = {
        "fold": outcome.fold,
        "history": {k: _nan_to_none(v) for k, v in outcome.history.items()},
        "scores": {k: (float(v) if np.isfinite(v) else None) for k, v in outcome.scores.items()},
        "fit_time": outcome.fit_time,
        "score_time": outcome.score_time,
    }
    if outcome.error is not None:
        data["error"] = outcome.error
    return data


def outcome_from_dict(data: dict) -> FoldOutcome:
    """Rebuild a :class:`~kfold.fold.FoldOutcome` from :func:`outcome_to_dict` output.

    Examples
    --------
    >>> outcome_from_dict({"fold": 1, "history": {"loss": [None]}, "scores": {},
    ...                    "fit_time": 1.0, "score_time": 0.0}).history
    {'loss': [nan]}
    """
    nan = float("nan")
    return FoldOutcome(
        fold=int(data["fold"]),
        history={k: [nan if v is None else v for v in values] for k, values in data["history"].items()},
        scores={k: nan if v is None else v for k, v in data["scores"].items()},
        fit_time=float(data["fit_time"]),
        score_time=float(data["score_time"]),
        error=data.get("error"),
    )


def _differences(old: dict, new: dict, prefix: str = "") -> list[str]:
    """Human-readable differences between two manifests."""
    found = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key, "<missing>"), new.get(key, "<missing>")
        if isinstance(a, dict) and isinstance(b, dict):
            found += _differences(a, b, f"{prefix}{key}.")
        elif a != b:
            show = lambda v: repr(v) if len(repr(v)) <= 60 else repr(v)[:57] + "..."  # noqa: E731
            found.append(f"{prefix}{key}: {show(a)} in the run directory, {show(b)} now")
    return found


class RunDir:
    """A folder that holds a run's manifest and each finished fold.

    Parameters
    ----------
    path : str or PathLike
        The folder (created if needed).
    manifest : dict
        Plain-JSON description of the run. An existing folder whose manifest
        differs is refused, unless ``overwrite=True`` (then it is emptied).
    overwrite : bool
        Start fresh even if the folder holds another run.

    Examples
    --------
    >>> import tempfile
    >>> run = RunDir(Path(tempfile.mkdtemp()) / "run", {"epochs": 3})
    >>> run.save(FoldOutcome(0, {"loss": [1.0]}, {"loss": 1.0}, 2.0, 0.5))
    >>> sorted(run.finished())
    [0]
    >>> RunDir(run.path, {"epochs": 5})
    Traceback (most recent call last):
    ...
    ValueError: Invalid `run_dir`. Expected a folder of the same run (or a new folder). Received: run_dir=a run with other settings: epochs: 3 in the run directory, 5 now. Use another run_dir, or pass overwrite=True to delete the old run and start fresh
    """

    def __init__(self, path: str | os.PathLike, manifest: dict, *, overwrite: bool = False) -> None:
        self.path = Path(path)
        self.manifest = json.loads(json.dumps(manifest))  # plain types, as read back
        manifest_file = self.path / MANIFEST
        if manifest_file.exists() and overwrite:
            shutil.rmtree(self.path)
        elif manifest_file.exists():
            self._check_same_run(manifest_file)
        (self.path / "folds").mkdir(parents=True, exist_ok=True)
        write_json(manifest_file, self.manifest)

    def _check_same_run(self, manifest_file: Path) -> None:
        try:
            old = json.loads(manifest_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            fail("run_dir", "a folder of the same run (or a new folder)",
                 Described(f"{self.path} with an unreadable {MANIFEST}"),
                 "Pass overwrite=True to start fresh")
        if old.get("versions") != self.manifest.get("versions"):
            warnings.warn(f"{self.path} was written with other package versions "
                          f"({old.get('versions')}); its finished folds are reused.", RuntimeWarning,
                          stacklevel=3)
        differences = _differences({**old, "versions": None}, {**self.manifest, "versions": None})
        if differences:
            fail("run_dir", "a folder of the same run (or a new folder)",
                 Described("a run with other settings: " + "; ".join(differences[:5])),
                 "Use another run_dir, or pass overwrite=True to delete the old run and start fresh")

    def fold_file(self, fold: int) -> Path:
        """Where fold ``fold`` (0-based) is saved."""
        return self.path / "folds" / f"fold_{fold:03d}.json"

    def weights_file(self, fold: int) -> Path:
        """Where fold ``fold``'s trained weights are saved (Keras ``.weights.h5``)."""
        return self.path / "folds" / f"fold_{fold:03d}.weights.h5"

    def save(self, outcome: FoldOutcome, *, save_weights: bool = False) -> None:
        """Write a finished fold (and, if asked and present, its model's weights)."""
        if save_weights and outcome.model is not None:
            target = self.weights_file(outcome.fold)
            tmp = target.with_name(target.name.replace(".weights.h5", ".tmp.weights.h5"))
            outcome.model.save_weights(tmp)
            os.replace(tmp, target)
        write_json(self.fold_file(outcome.fold), outcome_to_dict(outcome))

    def finished(self) -> dict[int, FoldOutcome]:
        """The folds already on disk; a damaged file is reported, removed and left to redo."""
        return finished_folds(self.path)


def finished_folds(path: str | os.PathLike) -> dict[int, FoldOutcome]:
    """Read every fold file of run directory ``path``; warn about and remove damaged ones."""
    done = {}
    for file in sorted((Path(path) / "folds").glob("fold_*.json")):
        try:
            outcome = outcome_from_dict(json.loads(file.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as error:
            warnings.warn(f"{file} is damaged ({type(error).__name__}: {error}); "
                          "that fold will be computed again.", RuntimeWarning, stacklevel=3)
            file.unlink()
            continue
        done[outcome.fold] = outcome
    return done


def cv_manifest(params: dict, folds: list, data_digest: str) -> dict:
    """What identifies a cross-validation run: its settings, folds and data.

    Examples
    --------
    >>> m = cv_manifest({"epochs": 2, "versions": {}}, [(np.array([1]), np.array([0]))], "abc")
    >>> m["kind"], m["settings"], m["folds"]
    ('cross_validate', {'epochs': 2}, [[[1], [0]]])
    """
    from .cv import folds_hash

    settings = {k: v for k, v in params.items() if k != "versions"}
    return {
        "kind": "cross_validate", "settings": settings, "data_hash": data_digest,
        "folds_hash": folds_hash(folds), "folds": [[t.tolist(), v.tolist()] for t, v in folds],
        "versions": params.get("versions"),
    }


def load(path: str | os.PathLike) -> Any:
    """The result of the run saved in the run directory ``path`` (finished folds only).

    A ``cross_validate`` run gives its :class:`~kfold.CVResult`; a
    ``grid_search``/``random_search`` run gives its :class:`~kfold.SearchResult`
    (finished candidates only, no ``best_model``: see
    :func:`kfold.search_rundir.load_search`).

    Examples
    --------
    >>> import tempfile
    >>> params = {"epochs": 1, "fold_seeds": [5], "versions": {}}
    >>> folds = [(np.array([1]), np.array([0]))]
    >>> run = RunDir(Path(tempfile.mkdtemp()), cv_manifest(params, folds, "abc"))
    >>> run.save(FoldOutcome(0, {"loss": [1.0]}, {"loss": 1.0}, 2.0, 0.5))
    >>> load(run.path).history[0]
    {'loss': [1.0]}
    """
    from .fold import FoldTask
    from .trainer import collect

    path = Path(path)
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        fail("path", f"a run directory with a readable {MANIFEST}", str(path))
    if manifest.get("kind") == "search":
        from .search_rundir import load_search

        return load_search(path, manifest)
    settings = manifest["settings"]
    seeds = settings.get("fold_seeds", [0] * len(manifest["folds"]))
    tasks = [FoldTask(i, np.asarray(t, dtype=np.intp), np.asarray(v, dtype=np.intp), seed)
             for i, ((t, v), seed) in enumerate(zip(manifest["folds"], seeds))]
    outcomes = finished_folds(path)
    if not outcomes:
        fail("path", "a run directory with at least one finished fold", str(path))
    return collect(list(outcomes.values()), tasks, {**settings, "versions": manifest.get("versions")})
