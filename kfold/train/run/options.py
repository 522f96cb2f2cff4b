"""The old per-call keywords of the executor and the run directory, folded into ``executor=`` and ``run_dir=``.

``n_jobs=``, ``client=``, ``devices=``, ``retries=``, ``max_tasks_per_worker=``
(now :class:`kfold.Processes`, :class:`kfold.Dask`, :class:`kfold.Ray`) and
``overwrite=``, ``save_weights=``, ``checkpoint_every=`` (now
:class:`kfold.RunDir`) keep working for one release: each public function
takes them through ``**kwargs`` and hands them to :func:`run_options`, which
warns once per call with the new spelling.
"""
from __future__ import annotations

import warnings
from typing import Any

from kfold.core import fail
from kfold.executors import executor_from_keywords
from kfold.results import RunDir, as_run_dir

__all__ = ["EXECUTOR_KEYWORDS", "RUN_DIR_KEYWORDS", "run_options", "pop_run_options"]

EXECUTOR_KEYWORDS = ("n_jobs", "client", "devices", "retries", "max_tasks_per_worker")
RUN_DIR_KEYWORDS = ("overwrite", "save_weights", "checkpoint_every")


def _run_dir_spelling(run_dir: Any, given: dict[str, Any]) -> str:
    options = "".join(f", {name}={value!r}" for name, value in given.items())
    path = repr(str(run_dir.path)) if run_dir is not None else "path"
    return f"run_dir=kfold.RunDir({path}{options})"


def run_options(where: str, executor: Any, run_dir: Any, kwargs: dict[str, Any], *,
                with_run_dir: bool = True, stacklevel: int = 3) -> tuple[Any, RunDir | None]:
    """``(executor, run_dir)`` of a public call, with its deprecated keywords (``kwargs``) folded in.

    One :class:`DeprecationWarning` per call names every old keyword given and
    the new spelling; an unknown keyword is refused as Python refuses one. A
    plain path becomes a :class:`~kfold.RunDir`. ``with_run_dir=False``: the
    function has no run directory (only the executor keywords are old ones).

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     run_options("cross_validate", "processes", "runs/x", {"n_jobs": 2, "overwrite": True})
    (Processes(n_jobs=2), RunDir('runs/x', overwrite=True))
    >>> print(caught[0].message)
    cross_validate(n_jobs=..., overwrite=...) is deprecated and will be removed in kfold 0.3; use executor=kfold.Processes(n_jobs=2) and run_dir=kfold.RunDir('runs/x', overwrite=True) instead.
    >>> run_options("cross_validate", "sequential", None, {"jobs": 2})
    Traceback (most recent call last):
    ...
    TypeError: cross_validate() got an unexpected keyword argument 'jobs'
    """
    known = EXECUTOR_KEYWORDS + (RUN_DIR_KEYWORDS if with_run_dir else ())
    for name in kwargs:
        if name not in known:
            raise TypeError(f"{where}() got an unexpected keyword argument {name!r}")
    old_executor = {name: value for name, value in kwargs.items() if name in EXECUTOR_KEYWORDS}
    old_run_dir = {name: value for name, value in kwargs.items() if name in RUN_DIR_KEYWORDS}
    executor, spelling = executor_from_keywords(executor, old_executor)
    spellings = [spelling or f"executor={executor!r}"] if old_executor else []
    if with_run_dir:
        given = run_dir
        run_dir = as_run_dir(run_dir)
        if old_run_dir:
            if isinstance(given, RunDir):
                name = next(iter(old_run_dir))
                fail(name, "not given when run_dir is a kfold.RunDir", old_run_dir[name],
                     "Pass it to the RunDir: run_dir=kfold."
                     + repr(RunDir(run_dir.path, **{**run_dir.options(), **old_run_dir})))
            checked = RunDir(run_dir.path if run_dir is not None else ".", **old_run_dir)  # refused here if wrong
            spellings.append(_run_dir_spelling(run_dir, old_run_dir))
            run_dir = checked if run_dir is not None else None
    if spellings:
        warnings.warn(f"{where}({', '.join(f'{name}=...' for name in kwargs)}) is deprecated and will be removed "
                      f"in kfold 0.3; use {' and '.join(spellings)} instead.", DeprecationWarning,
                      stacklevel=stacklevel)
    return executor, run_dir


def pop_run_options(where: str, kwargs: dict[str, Any], *, with_run_dir: bool = True,
                    stacklevel: int = 4) -> tuple[Any, RunDir | None]:
    """:func:`run_options` for a function that passes ``**kwargs`` on; takes its options out of ``kwargs``.

    ``executor``, ``run_dir`` and the old keywords leave ``kwargs``; the rest
    is passed on as it was.

    Examples
    --------
    >>> kwargs = {"executor": "sequential", "verbose": 0}
    >>> pop_run_options("learning_curve", kwargs), kwargs
    (('sequential', None), {'verbose': 0})
    """
    old = {name: kwargs.pop(name) for name in list(kwargs)
           if name in EXECUTOR_KEYWORDS or (with_run_dir and name in RUN_DIR_KEYWORDS)}
    executor, run_dir = kwargs.pop("executor", "sequential"), kwargs.pop("run_dir", None) if with_run_dir else None
    return run_options(where, executor, run_dir, old, with_run_dir=with_run_dir, stacklevel=stacklevel)
