"""Plots of a search: every candidate's mean validation curve, and a grid heat map.

matplotlib is imported only inside the functions. Artists carry a ``gid``:
``"candidate <i>"`` and ``"band <i>"`` per candidate (``i`` its index in
``search.candidates``) and ``"best"`` for the selected (candidate, epoch);
in the heat map ``"heatmap"``, ``"cell <r> <c>"`` for the annotations and
``"best"`` for the best cell's outline.

Examples
--------
>>> from matplotlib.figure import Figure
>>> from kfold.search.plots import doctest_search
>>> ax = plot_search(doctest_search(), ax=Figure().subplots())
>>> [line.get_label() for line in ax.get_lines()]
['units=16 (best)', 'units=8', 'selected: epoch 3']
"""
from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Any

import numpy as np

from kfold.core import Described, check_choice, fail
from kfold.results import BANDS, metric_label, new_axes, mean_line, save_figure, spread_line
from kfold.results import check_skip, check_smooth, resolve_mode
from kfold.results import CVHistory
from kfold.results import CVResult
from kfold.search.search_result import SearchResult
from kfold.split import KFold

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_search", "plot_search_heatmap"]


def _label(candidate: dict) -> str:
    return ", ".join(f"{name}={value!r}" if isinstance(value, str) else f"{name}={value:g}"
                     if isinstance(value, numbers.Real) and not isinstance(value, bool) else f"{name}={value}"
                     for name, value in candidate.items()) or "(no parameters)"


def _key(search: Any, key: str | None) -> str:
    key = key or search.select
    for result in search.results:
        if key not in result.history:
            fail("key", f"a key of every candidate's history, one of {result.history.keys()}", key)
    return key


def plot_search(search: Any, key: str | None = None, *, skip: int | None = None,
                smooth: float | None = None, band: str | None = "std", top: int | None = None,
                ax: Axes | None = None, path: Any = None) -> Axes:
    """Each candidate's mean curve by epoch with a spread band; the best marked.

    Parameters
    ----------
    search : SearchResult
        A result of :func:`kfold.grid_search` or :func:`kfold.random_search`.
    key : str, optional
        History key to draw; the search's ``select`` by default.
    skip, smooth : optional
        Epochs dropped and smoothing factor of the drawn means; None uses the
        search's own (``smooth=0`` draws raw means).
    band : {"std", "sem", "none", None}, default "std"
        Across-fold spread shaded around each mean, computed on the fold curves
        smoothed like the mean (none with a single split).
    top : int, optional
        Draw only the ``top`` best-ranked candidates.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure if None.
    path : str or path-like, optional
        Also save the figure there (e.g. ``"search.png"``).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> from kfold.search.plots import doctest_search
    >>> ax = plot_search(doctest_search(), band="sem", top=1, ax=Figure().subplots())
    >>> ax.get_legend().texts[0].get_text()
    'units=16 (best)'
    >>> ax.get_ylabel()
    'Validation loss'
    """
    key = _key(search, key)
    skip = search.skip if skip is None else skip
    smooth = check_smooth(search.smooth if smooth is None else smooth)
    check_choice("band", band, BANDS)
    order = search.ranking()[: top or None]
    ax = new_axes(ax)
    marker = None
    for color, i in enumerate(order):
        curves = search.results[i].history[key]
        start = check_skip(skip, curves.shape[1])
        epochs = np.arange(start + 1, curves.shape[1] + 1)
        mean = mean_line(curves, start, smooth)
        best = i == search.best_index
        label = _label(search.candidates[i]) + (" (best)" if best else "")
        ax.plot(epochs, mean, color=f"C{color % 10}", lw=2.5 if best else 1.2, label=label,
                gid=f"candidate {i}")
        if band not in ("none", None) and curves.shape[0] > 1:
            spread = spread_line(curves, start, smooth or None, band)
            ax.fill_between(epochs, mean - spread, mean + spread, color=f"C{color % 10}",
                            alpha=0.15, gid=f"band {i}")
        if best and search.best_epoch > start:
            marker = (search.best_epoch, mean[search.best_epoch - start - 1])
    if marker is not None:
        ax.plot([marker[0]], [marker[1]], "*", ms=14, color="C3",
                label=f"selected: epoch {search.best_epoch}", gid="best")
    from matplotlib.ticker import MaxNLocator

    smoothed = "" if not smooth else f"\nsmoothed ({smooth:g})"
    n_folds = search.best_result.n_folds
    shown = "validation split" if n_folds == 1 else f"mean of {n_folds} folds"
    ax.set(xlabel="Epoch", ylabel=metric_label(key),
           title=f"{metric_label(key)}: {shown} per candidate{smoothed}")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(fontsize="small")
    if path is not None:
        save_figure(ax, path)
    return ax


def _axis_values(search: Any, name: str) -> list:
    values = list(dict.fromkeys(c[name] for c in search.candidates if name in c))
    if all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values):
        values.sort()
    return values


def _grid_names(search: Any, params: Any) -> tuple[str, str]:
    if params is not None:
        if len(params) != 2:
            fail("params", "two parameter names (rows, columns)", params)
        return tuple(params)
    names = list(dict.fromkeys(n for c in search.candidates for n in c))
    varying = [n for n in names if len({repr(c.get(n)) for c in search.candidates}) > 1]
    if len(varying) != 2:
        fail("params", "two parameter names (rows, columns) when the grid does not vary exactly two",
             Described(f"None with {len(varying)} varying parameters {varying}"))
    return varying[0], varying[1]


def plot_search_heatmap(search: Any, key: str | None = None, *, params: Any = None,
                        ax: Axes | None = None) -> Axes:
    """A heat map of a two-parameter grid: each cell's best mean ``key``, annotated.

    A cell's value is ``cv_results["mean_<key>"]`` (the mean across folds at
    the candidate's selected epoch) of its best candidate (the best over any
    other parameters), annotated with that candidate's epoch. The best
    candidate's cell is outlined.

    Parameters
    ----------
    search : SearchResult
        The search.
    key : str, optional
        History key; the search's ``select`` by default.
    params : (str, str), optional
        Parameters for the rows and the columns; by default the two that vary.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure if None.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> from kfold.search.plots import doctest_search
    >>> ax = plot_search_heatmap(doctest_search(grid=True), ax=Figure().subplots())
    >>> [t.get_text() for t in ax.texts]
    ['2\\nepoch 2', '1.6\\nepoch 3', '2.1\\nepoch 2', '1.1\\nepoch 3']
    """
    from matplotlib.patches import Rectangle

    key = _key(search, key)
    rows_name, cols_name = _grid_names(search, params)
    rows, cols = _axis_values(search, rows_name), _axis_values(search, cols_name)
    mode = search.mode if key == search.select else resolve_mode("auto", key)
    means = search.cv_results[f"mean_{key}"]
    values, chosen = np.full((len(rows), len(cols)), np.nan), np.full((len(rows), len(cols)), -1)
    for i, candidate in enumerate(search.candidates):
        if rows_name in candidate and cols_name in candidate:
            r, c = rows.index(candidate[rows_name]), cols.index(candidate[cols_name])
            better = means[i] < values[r, c] if mode == "min" else means[i] > values[r, c]
            if chosen[r, c] < 0 or better:
                values[r, c], chosen[r, c] = means[i], i
    ax = new_axes(ax)
    image = ax.imshow(values, cmap="viridis_r" if mode == "min" else "viridis", aspect="auto",
                      gid="heatmap")
    ax.figure.colorbar(image, ax=ax, label=f"{metric_label(key)} (mean)")
    for (r, c), i in np.ndenumerate(chosen):
        if i >= 0:
            red, green, blue, _ = image.cmap(image.norm(values[r, c]))
            light = 0.299 * red + 0.587 * green + 0.114 * blue > 0.5
            ax.text(c, r, f"{values[r, c]:.3g}\nepoch {search.selections[i].epoch}", ha="center",
                    va="center", color="black" if light else "white", fontsize="small",
                    gid=f"cell {r} {c}")
            if i == search.best_index:
                ax.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, ec="C3", lw=3, gid="best"))
    ax.set_xticks(range(len(cols)), [str(v) for v in cols])
    ax.set_yticks(range(len(rows)), [str(v) for v in rows])
    ax.set(xlabel=cols_name, ylabel=rows_name, title=f"{metric_label(key)}: mean at each candidate's selected epoch")
    return ax


def doctest_search(grid: bool = False) -> Any:
    """A tiny search built from made-up curves, for the examples."""

    folds = list(KFold(2).split(range(4)))
    curves = [[[3, 2, 2.5], [3, 2.2, 2.4]], [[3, 1.5, 1.0], [3, 1.7, 1.2]],
              [[3, 2.0, 2.5], [3, 2.0, 2.4]], [[3, 1.8, 1.5], [3, 1.9, 1.7]]]
    candidates = ([{"lr": lr, "units": u} for lr in (0.1, 0.01) for u in (8, 16)] if grid
                  else [{"units": 8}, {"units": 16}])
    results = [CVResult(CVHistory([{"val_loss": c} for c in pair]), folds, {}, np.ones(2),
                        np.zeros(2), {}) for pair in curves[: len(candidates)]]
    return SearchResult(results, candidates)
