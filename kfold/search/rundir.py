"""Search run directories: every fold of every candidate on disk the moment it ends, and resume.

Layout of the ``run_dir`` of :func:`kfold.grid_search` or :func:`kfold.random_search`::

    manifest.json      "kind": "search": the candidates, the folds (and their hash), the
                       data hash, the seed, the training settings, how the choice is made
                       ("selection") and the package versions
    candidate_000/     candidate 1's own cross_validate run directory (kfold.results.rundir):
                       its manifest, then folds/fold_000.json, ... as each fold ends
    candidate_001/     ...

The search manifest is written (atomically) before any training, then every
candidate runs as an ordinary ``cross_validate(..., run_dir=PATH/candidate_XXX)``,
so each fold is saved the moment it ends and a finished candidate is read back
instead of trained. Only what identifies the curves is checked on resume: the
selection options (``select``, ``skip``, ``smooth``, ``mode``, ``rule``,
``refit``, ``refit_epochs``) may change between runs and the manifest keeps the
latest ones.
"""
from __future__ import annotations

import json
import os
import shutil
import warnings
from pathlib import Path
from typing import Any

import numpy as np


from kfold.core import Described, fail
from kfold.split import folds_from_json, folds_to_json
from kfold.search.candidates import plain
from kfold.core import FoldError
from kfold.results import MANIFEST, ManifestDir, load_run, read_manifest
from kfold.core import package_versions
from kfold.split import folds_hash
from kfold.search.candidates import bind
from kfold.results import data_hash
from kfold.data import as_arrays, n_samples
from kfold.search.refit import refit_epochs_for
from kfold.search.search_result import SearchResult

__all__ = ["SearchRunDir", "search_manifest", "open_search_dir", "load_search", "STOP_FILE", "ROUNDS_FILE"]

KIND = "search"
STOP_FILE = "stop.json"  #: in a candidate's folder: when and why the search stopped it early
ROUNDS_FILE = "rounds.json"  #: in the search's folder: halving_search's rounds
_CHANGEABLE = ("selection", "params", "versions")  # not part of what makes two searches the same
_EXPECTED = "a folder of the same search (or a new folder)"


def search_manifest(candidates: list, folds: list, data_digest: str, settings: dict, selection: dict,
                    params: dict) -> dict:
    """What identifies a search (candidates, folds, data, settings), and how it chooses.

    Examples
    --------
    >>> folds = [(np.array([1]), np.array([0]))]
    >>> m = search_manifest([{"units": 8}], folds, "abc", {"epochs": 2}, {"select": "val_loss"}, {})
    >>> m["kind"], m["candidates"], m["folds"], sorted(m["versions"])
    ('search', [{'units': 8}], [[[1], [0]]], ['keras', 'kfold', 'numpy'])
    """

    return {
        "kind": KIND, "candidates": plain(candidates), "data_hash": data_digest,
        "folds_hash": folds_hash(folds), "folds": folds_to_json(folds),
        "settings": plain(settings), "selection": plain(selection), "params": plain(params),
        "versions": package_versions(),
    }


class SearchRunDir(ManifestDir):
    """The folder of a search: its manifest and one run directory per candidate.

    Parameters
    ----------
    path : str or PathLike
        The folder (created if needed).
    manifest : dict
        From :func:`search_manifest`. An existing folder of another search (other
        candidates, folds, data or settings) is refused, saying what differs.
    overwrite : bool
        Delete the folder's old search and start fresh.

    Examples
    --------
    >>> import tempfile
    >>> folds = [(np.array([1]), np.array([0]))]
    >>> store = SearchRunDir(Path(tempfile.mkdtemp()) / "search",
    ...                      search_manifest([{"units": 8}], folds, "abc", {"epochs": 3}, {}, {}))
    >>> store.candidate_dir(1).name
    'candidate_001'
    >>> SearchRunDir(store.path, search_manifest([{"units": 8}], folds, "abc", {"epochs": 5}, {}, {}))
    Traceback (most recent call last):
    ...
    ValueError: Invalid `run_dir`. Expected a folder of the same search (or a new folder). Received: run_dir=a search with other settings: settings.epochs: 3 in the run directory, 5 now. Use another run_dir, or pass run_dir=kfold.RunDir(path, overwrite=True) to delete the old search and start fresh
    """

    what = "search"
    changeable = _CHANGEABLE

    def clear(self, has_manifest: bool) -> None:
        """``overwrite=True``: delete the old search, or only stray candidate folders of a folder without one."""
        if has_manifest:
            shutil.rmtree(self.path)
        for folder in self.path.glob("candidate_*"):
            shutil.rmtree(folder)

    def check_new(self) -> None:
        """Candidate folders of an unknown search are never reused."""
        if any(self.path.glob("candidate_*")):
            fail("run_dir", _EXPECTED, Described(f"{self.path} with candidate folders but no {MANIFEST}"),
                 "Pass run_dir=kfold.RunDir(path, overwrite=True) to delete them and start fresh")

    def candidate_dir(self, index: int) -> Path:
        """The ``cross_validate`` run directory of candidate ``index`` (0-based)."""
        return self.path / f"candidate_{index:03d}"


def open_search_dir(path: str | os.PathLike, candidates: list, folds: list, data: tuple, record: dict,
                    settings: dict, selection: dict, *, overwrite: bool = False) -> SearchRunDir:
    """Write (or check, on resume) the manifest of a search about to run; return its folder.

    ``data`` is ``(x, y, sample_weight)``, hashed; ``record`` the search's
    ``params`` (kind, seed, cv, ...); ``settings`` the training arguments
    (``build_fn``, ``epochs``, ``batch_size``, ``preprocess``, ``callbacks``,
    ``fit_kwargs``, ``strategy``), recorded as cross_validate records them.

    Examples
    --------
    >>> import tempfile
    >>> def build_model(units):
    ...     pass
    >>> x, folds = np.zeros((2, 1)), [(np.array([1]), np.array([0]))]
    >>> store = open_search_dir(Path(tempfile.mkdtemp()), [{"units": 8}], folds, (x, x, None),
    ...                         {"kind": "grid", "seed": 0, "cv": "1"}, {"build_fn": build_model},
    ...                         {"select": "val_loss"})
    >>> store.manifest["settings"]["build_fn"], store.manifest["settings"]["search"]
    ('build_model', 'grid')
    """

    x, y, sample_weight = data
    settings = dict(settings)
    preprocess = settings.pop("preprocess", None)
    settings.update(
        build_fn=bind(settings["build_fn"], {}).__qualname__,  # as cross_validate names it
        preprocess=None if preprocess is None else repr(preprocess),
        callbacks=[type(c).__name__ for c in settings.pop("callbacks", None) or ()],
        fit_kwargs={k: repr(v) for k, v in (settings.pop("fit_kwargs", None) or {}).items()},
        n_samples=n_samples(x), search=record.get("kind"),
        **{k: record.get(k) for k in ("n_iter", "seed", "cv")})
    manifest = search_manifest(candidates, folds, data_hash(x, y, as_arrays(sample_weight, "sample_weight")),
                               settings, selection, {k: v for k, v in record.items() if k != "run_dir"})
    return SearchRunDir(path, manifest, overwrite=overwrite)


def load_search(path: str | os.PathLike, manifest: dict | None = None) -> Any:
    """The :class:`~kfold.SearchResult` saved in the search run directory ``path``.

    Every candidate whose folds have all finished is read back with its
    parameters, as the search returned it; ``best_model`` is ``None`` (models
    are not saved: refit with :func:`kfold.fit_final`). Candidates that have not
    finished are left out with a ``RuntimeWarning`` (their indices are in
    ``params["unfinished_candidates"]``, and ``refit_epochs`` is then ``None``);
    running the search again with the same ``run_dir`` finishes them. Candidate
    values read back as JSON (a tuple as a list, an object as its ``repr``).

    Examples
    --------
    >>> import tempfile
    >>> from kfold.train.fold import FoldOutcome
    >>> from kfold.results.rundir import RunFolder, cv_manifest
    >>> folds = [(np.array([1]), np.array([0]))]
    >>> store = SearchRunDir(Path(tempfile.mkdtemp()), search_manifest(
    ...     [{"units": 8}], folds, "abc", {"cv": "1"}, {"select": "val_loss", "refit": False}, {}))
    >>> run = RunFolder(store.candidate_dir(0), cv_manifest({"epochs": 1, "fold_seeds": [5]}, folds, "abc"))
    >>> run.save(FoldOutcome(0, {"val_loss": [2.0]}, {"loss": 1.0}, 2.0, 0.5))
    >>> search = load_search(store.path)
    >>> search.best_params, search.best_epoch, search.results[0].params["units"]
    ({'units': 8}, 1, 8)
    """

    path = Path(path)
    if manifest is None:
        manifest = read_manifest(path)
    folds = folds_from_json(manifest["folds"])
    results, candidates, unfinished = [], [], []
    for index, candidate in enumerate(manifest["candidates"]):
        folder = path / f"candidate_{index:03d}"
        try:
            result = load_run(folder)  # its finished folds (a damaged fold file is reported and left out)
        except (ValueError, FoldError):  # not started, no fold finished yet, or every fold failed
            result = None
        if result is None or result.n_folds < len(folds):
            unfinished.append(index)
            continue
        result.params["cv"] = manifest["settings"]["cv"]  # laid over as search._record does
        result.params.update(candidate)
        result.params.update(candidate=candidate, candidate_index=index)
        if (folder / STOP_FILE).exists():  # stopped early by halving_search or a pruner
            result.params.update(json.loads((folder / STOP_FILE).read_text()))
        results.append(result)
        candidates.append(candidate)
    if not results:
        fail("path", "a search run directory with at least one finished candidate",
             Described(f"{path}, where none of the {len(manifest['candidates'])} candidates has finished"),
             "Run the search again with this run_dir to compute them")
    selection, params = manifest["selection"], {**manifest["params"], "run_dir": str(path)}
    if (path / ROUNDS_FILE).exists():
        params["rounds"] = json.loads((path / ROUNDS_FILE).read_text())
    if unfinished:
        warnings.warn(f"{path}: candidates {[i + 1 for i in unfinished]} of {len(manifest['candidates'])} "
                      f"have not finished; the result holds only the {len(results)} finished ones. Run the "
                      "search again with the same run_dir to finish it.", RuntimeWarning, stacklevel=3)
        params["unfinished_candidates"] = unfinished
    options = {k: selection[k] for k in ("select", "skip", "smooth", "mode", "rule") if k in selection}
    search = SearchResult(results, candidates, params=params, **options)
    if selection.get("refit") and not unfinished:
        search.refit_epochs = refit_epochs_for(selection["refit_epochs"], search.best_epoch, folds,
                                               manifest["settings"]["n_samples"])
    return search
