"""Run directories: every finished fold on disk the moment it ends, and resume.

Layout of a run directory::

    manifest.json          what was asked: folds (and their hash), data hash, settings
    folds/fold_000.json    one file per finished fold: history, scores, timings
    folds/fold_000.weights.h5   its trained weights (with ``save_weights=True``)
    folds/fold_000.predictions.npz   its held-out predictions (with ``return_predictions=True``)

Every file is written atomically (a temporary file, then a rename), so a crash
never leaves a half-written file under its final name; a file that is damaged
anyway is noticed on resume and its fold is computed again (the new file
replaces it). Reading a run directory (:func:`load_run`) never changes it.
Whether the folder can be written is checked when it is opened, before any
training.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from kfold.core import Described, fail
from kfold.core import write_json
from kfold.data import leaves
from kfold.split import folds_from_json, folds_to_json
from kfold.results.outcome import FoldOutcome, collect, outcome_from_dict, outcome_to_dict
from kfold.results.predictions import load_predictions, save_predictions
from kfold.split import folds_hash

__all__ = ["MANIFEST", "ManifestDir", "RunFolder", "finished_folds", "data_hash", "cv_manifest", "read_manifest",
           "load_run", "check_writable"]

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


def check_writable(path: str | os.PathLike, *folders: str, param: str = "run_dir") -> None:
    """Create ``path`` (and its ``folders``) if needed and check that files can be written there.

    A file in the way, a folder without write permission or a read-only disk is
    refused, naming ``param``, before any training.

    Examples
    --------
    >>> import tempfile
    >>> file = Path(tempfile.mkdtemp()) / "a_file"
    >>> _ = file.write_text("")
    >>> check_writable(file / "run")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: Invalid `run_dir`. Expected a folder kfold can create and write files in. Received: run_dir=.../a_file/run (NotADirectoryError: ...). Choose another run_dir, or make that folder writable (a file of the same name must be moved away)
    """
    path = Path(path)
    for folder in (path, *(path / name for name in folders)):
        probe = folder / f".kfold_write_test_{os.getpid()}"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as error:
            fail(param, "a folder kfold can create and write files in",
                 Described(f"{folder} ({type(error).__name__}: {error.strerror or error})"),
                 f"Choose another {param}, or make that folder writable (a file of the same name must be moved away)")




class ManifestDir:
    """A folder identified by its manifest: a new one is started, the same one resumed, another refused.

    The base of :class:`RunFolder` (one cross-validation) and
    :class:`kfold.search.rundir.SearchRunDir` (a search): both write their manifest
    (atomically) before any training and check it the same way on resume.
    Subclasses name what they hold (``what``), the manifest keys that may change
    between runs (``changeable``), and the folders they make.

    Examples
    --------
    >>> import tempfile
    >>> folder = ManifestDir(Path(tempfile.mkdtemp()) / "run", {"epochs": 3})
    >>> ManifestDir(folder.path, {"epochs": 3}).manifest
    {'epochs': 3}
    """

    what = "run"  #: how messages name what the folder holds
    changeable: tuple[str, ...] = ("versions",)  #: manifest keys that may differ on resume
    folders: tuple[str, ...] = ()  #: subfolders the run writes into

    def __init__(self, path: str | os.PathLike, manifest: dict, *, overwrite: bool = False) -> None:
        self.path = Path(path)
        self.manifest = json.loads(json.dumps(manifest))  # plain types, as read back
        manifest_file = self.path / MANIFEST
        check_writable(self.path, *self.folders)  # before any training, and before anything is deleted
        if overwrite:
            self.clear(manifest_file.exists())
            check_writable(self.path, *self.folders)
        elif manifest_file.exists():
            self._check_same(manifest_file)
        else:
            self.check_new()
        write_json(manifest_file, self.manifest)  # before any training

    def clear(self, has_manifest: bool) -> None:
        """``overwrite=True``: delete the old run."""
        if has_manifest:
            shutil.rmtree(self.path)

    def check_new(self) -> None:
        """A folder without a manifest: refuse it if it holds stray results (nothing to check here)."""

    def _check_same(self, manifest_file: Path) -> None:
        expected = f"a folder of the same {self.what} (or a new folder)"
        try:
            old = json.loads(manifest_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            fail("run_dir", expected, Described(f"{self.path} with an unreadable {MANIFEST}"),
                 "Pass run_dir=kfold.RunDir(path, overwrite=True) to start fresh")
        if old.get("versions") != self.manifest.get("versions"):
            warnings.warn(f"{self.path} was written with other package versions ({old.get('versions')}); "
                          "its finished folds are reused.", RuntimeWarning, stacklevel=4)
        same = {key: None for key in self.changeable}
        differences = manifest_differences({**old, **same}, {**self.manifest, **same})
        if differences:
            fail("run_dir", expected, Described(f"a {self.what} with other settings: " + "; ".join(differences[:5])),
                 f"Use another run_dir, or pass run_dir=kfold.RunDir(path, overwrite=True) to delete the old "
                 f"{self.what} and start fresh")


class RunFolder(ManifestDir):
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
    >>> run = RunFolder(Path(tempfile.mkdtemp()) / "run", {"epochs": 3})
    >>> run.save(FoldOutcome(0, {"loss": [1.0]}, {"loss": 1.0}, 2.0, 0.5))
    >>> sorted(run.finished())
    [0]
    >>> RunFolder(run.path, {"epochs": 5})
    Traceback (most recent call last):
    ...
    ValueError: Invalid `run_dir`. Expected a folder of the same run (or a new folder). Received: run_dir=a run with other settings: epochs: 3 in the run directory, 5 now. Use another run_dir, or pass run_dir=kfold.RunDir(path, overwrite=True) to delete the old run and start fresh
    """

    folders = ("folds",)

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
        """Write a finished fold (and, if asked and present, its model's weights and its predictions), each atomically."""
        if outcome.predictions is not None:  # before the fold file: a fold on disk has its predictions
            save_predictions(self.predictions_file(outcome.fold), outcome.predictions)
        if save_weights and outcome.model is not None:
            target = self.weights_file(outcome.fold)
            tmp = target.with_name(target.name.replace(".weights.h5", ".tmp.weights.h5"))
            try:
                outcome.model.save_weights(tmp)
                os.replace(tmp, target)
            except BaseException:  # a failed or interrupted write leaves nothing behind
                with contextlib.suppress(OSError):
                    tmp.unlink()
                raise
        write_json(self.fold_file(outcome.fold), outcome_to_dict(outcome))

    def finished(self) -> dict[int, FoldOutcome]:
        """The folds already on disk; a damaged file is reported and its fold left to train again."""
        return finished_folds(self.path, damaged="that fold is trained again and its file replaced")


def finished_folds(path: str | os.PathLike, *,
                   damaged: str = "that fold is left out; the file is left as it is") -> dict[int, FoldOutcome]:
    """Read every fold file of run directory ``path``; warn about damaged ones (``damaged`` says what follows).

    Nothing on disk is changed.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> (folder / "folds").mkdir()
    >>> _ = (folder / "folds" / "fold_000.json").write_text('{"fold": ')
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     finished_folds(folder)
    {}
    >>> "fold_000.json is damaged" in str(caught[0].message), (folder / "folds" / "fold_000.json").exists()
    (True, True)
    """
    done = {}
    for file in sorted((Path(path) / "folds").glob("fold_*.json")):
        try:
            outcome = outcome_from_dict(json.loads(file.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as error:
            warnings.warn(f"{file} is damaged ({type(error).__name__}: {error}); {damaged}.",
                          RuntimeWarning, stacklevel=3)
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
    >>> run = RunFolder(Path(tempfile.mkdtemp()), cv_manifest(params, [(np.array([1]), np.array([0]))], "abc"))
    >>> run.save(FoldOutcome(0, {"loss": [1.0]}, {"loss": 1.0}, 2.0, 0.5))
    >>> load_run(run.path).history[0]
    {'loss': [1.0]}
    """
    manifest = read_manifest(path) if manifest is None else manifest
    outcomes = finished_folds(path)
    if not outcomes:
        fail("path", "a run directory with at least one finished fold", str(path))
    missing = [i for i in range(len(manifest["folds"])) if i not in outcomes]
    if missing:
        warnings.warn(f"{path}: folds {[i + 1 for i in missing]} of {len(manifest['folds'])} are left out "
                      "(not finished, or their file is damaged); the result holds the other "
                      f"{len(outcomes)}. Loading changed nothing on disk; running cross_validate again "
                      "with this run_dir trains only those folds.", RuntimeWarning, stacklevel=3)
    return collect(outcomes.values(), folds_from_json(manifest["folds"]),
                   {**manifest["settings"], "versions": manifest.get("versions")})
