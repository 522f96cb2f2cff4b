"""Run directories: every finished fold on disk the moment it ends, and resume.

Layout of a run directory::

    manifest.json          what was asked: folds (and their hash), data hash, settings
    folds/fold_000.json    one file per finished fold: history, scores, timings
    folds/fold_000.weights.h5   its trained weights (with ``save_weights=True``)
    folds/fold_000.predictions.npz   its held-out predictions (with ``return_predictions=True``)

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
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from kfold.core.checks import Described, fail
from kfold.core.files import write_json
from kfold.data.arrays import leaves
from kfold.split.codec import folds_from_json, folds_to_json
from kfold.results.outcome import FoldOutcome, collect, outcome_from_dict, outcome_to_dict
from kfold.results.predictions import load_predictions, save_predictions
from kfold.split.check import folds_hash

__all__ = ["MANIFEST", "RunDir", "finished_folds", "data_hash", "cv_manifest", "read_manifest", "load_run"]

MANIFEST = "manifest.json"


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


def manifest_differences(old: dict, new: dict, prefix: str = "") -> list[str]:
    """Human-readable differences between two manifests."""
    found = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key, "<missing>"), new.get(key, "<missing>")
        if isinstance(a, dict) and isinstance(b, dict):
            found += manifest_differences(a, b, f"{prefix}{key}.")
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
        differences = manifest_differences({**old, "versions": None}, {**self.manifest, "versions": None})
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

    def predictions_file(self, fold: int) -> Path:
        """Where fold ``fold``'s held-out predictions are saved (``.npz``)."""
        return self.path / "folds" / f"fold_{fold:03d}.predictions.npz"

    def save(self, outcome: FoldOutcome, *, save_weights: bool = False) -> None:
        """Write a finished fold (and, if asked and present, its model's weights and its predictions)."""
        if outcome.predictions is not None:  # before the fold file: a fold on disk has its predictions
            save_predictions(self.predictions_file(outcome.fold), outcome.predictions)
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
        predictions = file.with_name(file.name.replace(".json", ".predictions.npz"))
        if predictions.exists():
            try:
                outcome.predictions = load_predictions(predictions)
            except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
                warnings.warn(f"{predictions} is damaged ({type(error).__name__}: {error}); "
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

    settings = {k: v for k, v in params.items() if k != "versions"}
    return {
        "kind": "cross_validate", "settings": settings, "data_hash": data_digest,
        "folds_hash": folds_hash(folds), "folds": folds_to_json(folds),
        "versions": params.get("versions"),
    }


def read_manifest(path: str | os.PathLike) -> dict:
    """The manifest of the run directory ``path``, or a clear error naming ``path``.

    Examples
    --------
    >>> read_manifest("/no/such/run")
    Traceback (most recent call last):
    ...
    ValueError: Invalid `path`. Expected a run directory with a readable manifest.json. Received: path=/no/such/run
    """
    try:
        return json.loads((Path(path) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    fail("path", f"a run directory with a readable {MANIFEST}", Described(str(path)))


def load_run(path: str | os.PathLike, manifest: dict | None = None) -> Any:
    """The :class:`~kfold.CVResult` of the ``cross_validate`` run directory ``path`` (finished folds only).

    Examples
    --------
    >>> import tempfile
    >>> params = {"epochs": 1, "fold_seeds": [5], "versions": {}}
    >>> run = RunDir(Path(tempfile.mkdtemp()), cv_manifest(params, [(np.array([1]), np.array([0]))], "abc"))
    >>> run.save(FoldOutcome(0, {"loss": [1.0]}, {"loss": 1.0}, 2.0, 0.5))
    >>> load_run(run.path).history[0]
    {'loss': [1.0]}
    """
    manifest = read_manifest(path) if manifest is None else manifest
    outcomes = finished_folds(path)
    if not outcomes:
        fail("path", "a run directory with at least one finished fold", str(path))
    return collect(outcomes.values(), folds_from_json(manifest["folds"]),
                   {**manifest["settings"], "versions": manifest.get("versions")})
