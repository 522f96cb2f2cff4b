"""``kfold.RunDir``: where a run is saved, and how, as one argument (``run_dir=kfold.RunDir(path, overwrite=True)``).

A plain path (``run_dir="runs/x"``) means ``RunDir("runs/x")`` with the
defaults. The folder itself (manifest, fold files, resuming) is
:class:`kfold.results.rundir.RunFolder`'s business; this object only carries
the options, checked when it is made.
"""
from __future__ import annotations

import os
from typing import Any

from kfold.core import check_bool, check_path, check_positive_int, fail

__all__ = ["RunDir", "as_run_dir"]


class RunDir:
    """A run directory and its options: ``run_dir=kfold.RunDir("runs/x", overwrite=True)``.

    Parameters
    ----------
    path : str or os.PathLike
        The folder. A manifest (folds, data hash, settings) is written first,
        then each fold the moment it finishes; running again with the same
        folder skips the finished folds.
    overwrite : bool, default False
        Start afresh in a folder that holds another run (else refused, saying
        what differs).
    save_weights : bool, default False
        Also save each fold's trained weights (``.weights.h5``).
    checkpoint_every : int, optional
        Fused training: a checkpoint of the joint state every this many epochs.
        ``None``: at least every 60 s of training and every 10 % of the epochs.

    Examples
    --------
    >>> import kfold
    >>> kfold.RunDir("runs/x", overwrite=True)
    RunDir('runs/x', overwrite=True)
    >>> import os; os.fspath(kfold.RunDir("runs/x"))
    'runs/x'
    >>> kfold.RunDir("runs/x", checkpoint_every=0)
    Traceback (most recent call last):
    ...
    ValueError: Invalid `checkpoint_every`. Expected a positive integer. Received: checkpoint_every=0
    """

    def __init__(self, path: str | os.PathLike, *, overwrite: bool = False, save_weights: bool = False,
                 checkpoint_every: int | None = None) -> None:
        if path is None or isinstance(path, RunDir):
            fail("path", "a folder path (str or pathlib.Path)", path, error=TypeError)
        check_path("path", path)
        check_bool("overwrite", overwrite)
        check_bool("save_weights", save_weights)
        if checkpoint_every is not None:
            check_positive_int("checkpoint_every", checkpoint_every)
        self.path, self.overwrite, self.save_weights = path, bool(overwrite), bool(save_weights)
        self.checkpoint_every = checkpoint_every

    def __fspath__(self) -> str:
        return os.fspath(self.path)

    def options(self) -> dict[str, Any]:
        """The options other than the path, by name.

        Examples
        --------
        >>> RunDir("x", save_weights=True).options()
        {'overwrite': False, 'save_weights': True, 'checkpoint_every': None}
        """
        return {"overwrite": self.overwrite, "save_weights": self.save_weights,
                "checkpoint_every": self.checkpoint_every}

    def at(self, path: str | os.PathLike) -> RunDir:
        """The same options for another folder (a search's candidate, say).

        Examples
        --------
        >>> RunDir("search", overwrite=True).at("search/candidate_0")
        RunDir('search/candidate_0', overwrite=True)
        """
        return RunDir(path, **self.options())

    def __repr__(self) -> str:
        defaults = {"overwrite": False, "save_weights": False, "checkpoint_every": None}
        changed = [f", {name}={value!r}" for name, value in self.options().items() if value != defaults[name]]
        return f"RunDir({os.fspath(self.path)!r}{''.join(changed)})"

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, RunDir) and os.fspath(other.path) == os.fspath(self.path)
                and other.options() == self.options())

    def __hash__(self) -> int:
        return hash(repr(self))


def as_run_dir(run_dir: Any) -> RunDir | None:
    """``run_dir=`` as a :class:`RunDir` (``None`` stays ``None``), refused with a clear error otherwise.

    Examples
    --------
    >>> as_run_dir("runs/x"), as_run_dir(None)
    (RunDir('runs/x'), None)
    >>> as_run_dir(3)
    Traceback (most recent call last):
    ...
    TypeError: Invalid `run_dir`. Expected None, a folder path (str or pathlib.Path) or a kfold.RunDir. Received: run_dir=3
    """
    if run_dir is None or isinstance(run_dir, RunDir):
        return run_dir
    if not isinstance(run_dir, (str, os.PathLike)):
        fail("run_dir", "None, a folder path (str or pathlib.Path) or a kfold.RunDir", run_dir, error=TypeError)
    return RunDir(run_dir)
