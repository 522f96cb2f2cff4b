"""Candidates of a search: expand a grid, sample distributions, route each parameter.

A candidate is a dict of parameter names and values. Each name goes to one place:

* ``epochs`` and ``batch_size`` go to training (``cross_validate(epochs=...,
  batch_size=...)``), as in scikit-learn wrappers of Keras;
* ``fit__<name>`` goes to ``model.fit(<name>=...)``, e.g. ``fit__class_weight``
  (``fit__epochs`` and ``fit__batch_size`` are the same as the bare names);
* ``model__<name>`` goes to ``build_fn(<name>=...)``: use it for a ``build_fn``
  parameter whose name would otherwise go elsewhere (``model__epochs``) or is
  taken by the result's own record (``model__seed``);
* every other name goes to ``build_fn(<name>=...)``.

Everything is checked before any training: a name that ``build_fn`` (or
``fit``) does not accept is refused, naming the parameter.
"""
from __future__ import annotations

import inspect
import itertools
import numbers
from collections.abc import Mapping, Sequence
from typing import Any, Callable

import numpy as np

from kfold.core import Described, check_positive_int, fail
from kfold.core import import_keras
from kfold.train import RESERVED_FIT_KWARGS, check_build_fn

__all__ = ["parameter_grid", "sample_parameters", "Routed", "route", "check_candidates",
           "bind", "plain", "RESERVED_NAMES"]

# Keys of cross_validate's own params record; a bare candidate name may not shadow them.
RESERVED_NAMES = ("build_fn", "cv", "n_splits", "n_samples", "seed", "fold_seeds", "preprocess",
                  "callbacks", "fit_kwargs", "versions", "strategy", "strategy_reason", "candidate",
                  "candidate_index")
_FIT_NAMES = ("epochs", "batch_size")
_GRID = "a dict of non-empty lists of values, or a non-empty list of such dicts"


def _grids(param_grid: Any, param: str) -> list[Mapping]:
    grids = [param_grid] if isinstance(param_grid, Mapping) else param_grid
    if not isinstance(grids, Sequence) or isinstance(grids, str) or not grids:
        fail(param, _GRID, param_grid)
    for grid in grids:
        if not isinstance(grid, Mapping) or not grid:
            fail(param, _GRID, param_grid, "Give at least one parameter, e.g. {'units': [16, 32]}")
    return list(grids)


def _values(name: str, values: Any, param: str) -> list:
    if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray, range)):
        fail(param, f"a list of values for {name!r}", Described(f"{name}={values!r}"),
             f"Wrap a single value in a list: {name}=[{values!r}]")
    if len(values) == 0:
        fail(param, f"at least one value for {name!r}", Described(f"{name}=[]"))
    return list(values)


def parameter_grid(param_grid: Any) -> list[dict]:
    """Every combination of the values, the last parameter varying fastest.

    Parameters
    ----------
    param_grid : dict of lists, or list of such dicts
        As in scikit-learn's ``GridSearchCV``; a list of dicts concatenates
        their grids. Parameters keep the order in which they are written.

    Examples
    --------
    >>> parameter_grid({"units": [8, 16], "lr": [0.1, 0.01]})
    [{'units': 8, 'lr': 0.1}, {'units': 8, 'lr': 0.01}, {'units': 16, 'lr': 0.1}, {'units': 16, 'lr': 0.01}]
    """
    candidates = []
    for grid in _grids(param_grid, "param_grid"):
        names = list(grid)
        value_lists = [_values(name, grid[name], "param_grid") for name in names]
        candidates += [dict(zip(names, combo)) for combo in itertools.product(*value_lists)]
    return candidates


def _python(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _draw(name: str, spec: Any, rng: np.random.RandomState) -> Any:
    if hasattr(spec, "rvs"):
        return _python(spec.rvs(random_state=rng))
    values = _values(name, spec, "param_distributions")
    return values[rng.randint(len(values))]


def sample_parameters(param_distributions: Any, n_iter: int, seed: int) -> list[dict]:
    """``n_iter`` candidates drawn from lists (uniformly) or distributions with ``rvs``.

    A distribution is any object with ``rvs(random_state=...)``, such as
    ``scipy.stats.loguniform(1e-4, 1e-2)``. When every value is a list, the
    candidates are drawn from the grid without replacement (the whole grid when
    ``n_iter`` is larger), as in scikit-learn's ``RandomizedSearchCV``.

    Examples
    --------
    >>> class Uniform:
    ...     def rvs(self, random_state):
    ...         return random_state.uniform(0.0, 1.0)
    >>> draws = sample_parameters({"units": [8, 16], "dropout": Uniform()}, n_iter=3, seed=0)
    >>> [sorted(d) for d in draws], all(0 <= d["dropout"] < 1 for d in draws)
    ([['dropout', 'units'], ['dropout', 'units'], ['dropout', 'units']], True)
    >>> len(sample_parameters({"units": [8, 16]}, n_iter=5, seed=0))
    2
    """
    n_iter = check_positive_int("n_iter", n_iter)
    grids = _grids(param_distributions, "param_distributions")
    rng = np.random.RandomState(seed)
    if all(not hasattr(spec, "rvs") for grid in grids for spec in grid.values()):
        full = parameter_grid(grids)
        if n_iter >= len(full):
            return full
        return [full[i] for i in rng.choice(len(full), size=n_iter, replace=False)]
    candidates = []
    for _ in range(n_iter):
        grid = grids[rng.randint(len(grids))]
        candidates.append({name: _draw(name, spec, rng) for name, spec in grid.items()})
    return candidates


class Routed(dict):
    """Where a candidate's values go: ``build`` (build_fn), ``epochs``, ``batch_size``, ``fit``.

    Examples
    --------
    >>> Routed(build={"units": 8}, epochs=5, batch_size=16, fit={})["build"]
    {'units': 8}
    """


def route(candidate: Mapping, *, epochs: int, batch_size: int, fit_kwargs: Mapping | None) -> Routed:
    """Split a candidate into build_fn arguments and training settings.

    Examples
    --------
    >>> r = route({"units": 8, "batch_size": 16, "fit__class_weight": {0: 1, 1: 2},
    ...            "model__seed": 3}, epochs=10, batch_size=32, fit_kwargs=None)
    >>> r["build"], r["epochs"], r["batch_size"], r["fit"]
    ({'units': 8, 'seed': 3}, 10, 16, {'class_weight': {0: 1, 1: 2}})
    """
    routed = Routed(build={}, epochs=epochs, batch_size=batch_size, fit=dict(fit_kwargs or {}))
    for name, value in candidate.items():
        if name.startswith("model__"):
            routed["build"][name.removeprefix("model__")] = value
        elif name.startswith("fit__") or name in _FIT_NAMES:
            fit_name = name.removeprefix("fit__")
            if fit_name in _FIT_NAMES:
                routed[fit_name] = value
            else:
                routed["fit"][fit_name] = value
        else:
            routed["build"][name] = value
    return routed


def _signature(fn: Callable) -> inspect.Signature | None:
    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):
        return None


def _check_build_names(build_fn: Callable, names: set[str], fix_name: str) -> None:
    signature = _signature(build_fn)
    if signature is None:
        return
    params = signature.parameters.values()
    accepted = [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    fn_name = getattr(build_fn, "__name__", type(build_fn).__name__)
    if not any(p.kind == p.VAR_KEYWORD for p in params):
        for name in sorted(names - set(accepted)):
            fail("param_grid", f"parameters that {fn_name}({', '.join(accepted)}) accepts, or fit "
                 "settings (epochs, batch_size, fit__<name>)",
                 Described(f"{name!r}, which {fn_name} does not accept"),
                 f"Add `{name}` to {fn_name}'s parameters, or pass it to fit as fit__{name}",
                 error=TypeError)
    required = [p.name for p in params if p.default is p.empty and p.kind in
                (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY, p.POSITIONAL_ONLY)]
    for name in required:
        if name not in names:
            fail("param_grid", f"a value for every parameter of {fn_name} without a default",
                 Described(f"no value for {name!r} in {fix_name}"),
                 f"Add {name!r} to the grid, or give it a default in {fn_name}", error=TypeError)


def _check_fit_names(names: set[str]) -> None:

    accepted = set(inspect.signature(import_keras().Model.fit).parameters) - set(RESERVED_FIT_KWARGS)
    for name in sorted(names - accepted):
        fail("param_grid", "fit__<name> for a model.fit argument that kfold does not set itself: "
             + ", ".join(sorted(accepted)), Described(f"'fit__{name}'"), error=TypeError)


def check_candidates(build_fn: Callable, candidates: list[dict], **defaults: Any) -> list[Routed]:
    """Route every candidate and check every name and value, before any training.

    Examples
    --------
    >>> def build(units, lr=0.01):
    ...     pass
    >>> check_candidates(build, [{"units": 8, "dropout": 0.1}], epochs=2, batch_size=8, fit_kwargs=None)
    Traceback (most recent call last):
    ...
    TypeError: Invalid `param_grid`. Expected parameters that build(units, lr) accepts, or fit settings (epochs, batch_size, fit__<name>). Received: param_grid='dropout', which build does not accept. Add `dropout` to build's parameters, or pass it to fit as fit__dropout
    """

    if isinstance(build_fn, import_keras().Model) or not callable(build_fn):
        check_build_fn(build_fn)  # raises, saying to pass the function itself
    routed = []
    for i, candidate in enumerate(candidates):
        for name in candidate:
            if name in RESERVED_NAMES:
                fail("param_grid", "names that do not shadow the result's own record "
                     f"({', '.join(RESERVED_NAMES)})", Described(repr(name)),
                     f"Pass a build_fn parameter of that name as model__{name}")
        r = route(candidate, **defaults)
        _check_build_names(build_fn, set(r["build"]), f"candidate {i + 1} {candidate!r}")
        check_positive_int("epochs", r["epochs"])
        check_positive_int("batch_size", r["batch_size"])
        routed.append(r)
    fit_names = {name for r in routed for name in r["fit"]}
    if fit_names:
        _check_fit_names(fit_names)
    return routed


def bind(build_fn: Callable, build_params: Mapping) -> Callable[[], Any]:
    """``build_fn`` with its candidate arguments bound, named like ``build_fn``.

    Examples
    --------
    >>> def build_model(units):
    ...     return units
    >>> bound = bind(build_model, {"units": 8})
    >>> bound(), bound.__qualname__
    (8, 'build_model')
    """
    params = dict(build_params)

    def bound() -> Any:
        return build_fn(**params)

    bound.__name__ = getattr(build_fn, "__name__", type(build_fn).__name__)
    bound.__qualname__ = getattr(build_fn, "__qualname__", bound.__name__)
    return bound


def plain(value: Any) -> Any:
    """``value`` as JSON-ready Python: numbers, strings, lists, dicts; else its ``repr``.

    Examples
    --------
    >>> plain({"lr": np.float32(0.5), "shape": (2, 3), 1: None, "opt": object})
    {'lr': 0.5, 'shape': [2, 3], '1': None, 'opt': "<class 'object'>"}
    """
    value = _python(value)
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [plain(v) for v in value]
    return repr(value)
