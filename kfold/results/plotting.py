"""Plots of cross-validation curves and of the folds themselves.

:func:`plot_history` draws the book's validation-MAE-by-epoch figures (3.9,
3.10 and the training vs validation figures 3.7, 3.8) for every fold at once;
:func:`plot_folds` shows which samples each split trains and validates on.

matplotlib is imported only inside the functions, so importing this module is
cheap. Every artist gets a ``gid`` (see each function) so that it can be found
again, e.g. ``[l for l in ax.get_lines() if l.get_gid() == "mean"]``.

Examples
--------
>>> from matplotlib.figure import Figure
>>> ax = plot_history([[3.0, 2.0, 1.5], [3.4, 2.2, 1.9]], "val_mae", ax=Figure().subplots())
>>> ax.get_legend().texts[-1].get_text()
'selected: epoch 3'
>>> ax.get_ylabel()
'Validation MAE'
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from kfold.core import check_choice, fail
from kfold.core import renamed_keywords
from kfold.results.curves import (
    check_skip, check_smooth, _curves, fold_stats, _history, best_epoch, smooth_curve,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_history", "plot_folds", "metric_label"]

BANDS = ("std", "sem", "none", None)
MAX_FOLD_LINES = 5  # beyond this many folds, the per-fold lines are hidden unless asked for
_ACRONYMS = {"mae": "MAE", "mse": "MSE", "rmse": "RMSE", "auc": "AUC", "mape": "MAPE", "msle": "MSLE",
             "r2": "R²", "iou": "IoU", "f1": "F1", "prc": "PRC", "roc": "ROC"}


def metric_label(key: str | None) -> str:
    """An axis label for a history key: ``"val_mae"`` -> ``"Validation MAE"``, ``"accuracy"`` -> ``"Training accuracy"``.

    Examples
    --------
    >>> metric_label("val_mae"), metric_label("val_accuracy"), metric_label("loss")
    ('Validation MAE', 'Validation accuracy', 'Training loss')
    >>> metric_label("val_sparse_categorical_accuracy"), metric_label(None)
    ('Validation sparse categorical accuracy', 'Value')
    """
    if key is None:
        return "Value"
    name = key.removeprefix("val_")
    words = " ".join(_ACRONYMS.get(word, word) for word in name.split("_"))
    return f"{'Validation' if key.startswith('val_') else 'Training'} {words}"


def spread_line(curves: np.ndarray, skip: int, smooth: float | None, band: str, ddof: int = 1) -> np.ndarray:
    """The band's half-width: the std or sem across the (smoothed, if ``smooth``) fold curves."""
    part = curves[:, skip:]
    if smooth is not None:
        part = smooth_curve(part, smooth)
    return fold_stats(part, ddof)[1 if band == "std" else 2]


def save_figure(ax: Any, path: Any) -> None:
    """Save the figure of ``ax`` as ``path`` (format from the suffix), 120 dpi, tight."""
    ax.figure.savefig(path, dpi=120, bbox_inches="tight")


def new_axes(ax: Axes | None) -> Axes:
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    return ax


def mean_line(curves: np.ndarray, skip: int, smooth: float | None) -> np.ndarray:
    mean = fold_stats(curves)[0][skip:]
    return mean if smooth is None else smooth_curve(mean, smooth)


def _training_curves(source: Any, key: str | None) -> tuple[str, np.ndarray]:
    """The training curves matching the validation ``key`` ("val_mae" -> "mae")."""
    history = _history(source)
    if history is None or key is None or not key.startswith("val_"):
        fail("training", "True only with a result and a validation key such as 'val_mae'",
             True, f"Got key={key!r}; pass training=False or a 'val_' key of a CVResult")
    train_key = key.removeprefix("val_")
    if train_key not in history:
        fail("training", f"True only when the history also logs the training metric {train_key!r}",
             True, f"Available keys: {', '.join(map(repr, history.keys()))}")
    return train_key, _curves(source, train_key)


def _title(key: str | None, n_folds: int, skip: int, smooth: float | None, training: bool = False) -> str:
    """Two short lines: what is drawn, then how (so that the title fits a small figure)."""
    shown = "validation split" if n_folds == 1 else f"mean of {n_folds} folds"
    details = [f"from epoch {skip + 1}"] if skip else []
    if smooth is not None:
        details.append(f"smoothed ({smooth:g})")
    label = metric_label(key)
    if training:
        label = label.replace("Validation", "Training and validation", 1)
    return f"{label}: {shown}" + (f"\n{', '.join(details)}" if details else "")


def plot_history(
    source: Any,
    key: str | None,
    *,
    skip: int = 0,
    smooth: float | None = None,
    band: str | None = "std",
    show_folds: bool | None = None,
    training: bool = False,
    mark_epoch: bool = True,
    mode: str = "auto",
    rule: str = "min",
    ddof: int = 1,
    ax: Axes | None = None,
    path: Any = None,
    **deprecated: Any,
) -> Axes:
    """Plot a metric by epoch: every fold, their mean, a spread band and the chosen epoch.

    The x axis is the 1-based epoch of the original curve (it starts at
    ``skip + 1``); the y axis is labelled from the key (``"Validation MAE"``).
    Artists, by ``gid`` (and legend ``label``):

    - ``"fold 1"``, ``"fold 2"``, ...: thin raw per-fold lines, if shown (the
      first labelled ``"each fold (raw)"``, the others ``"_fold 2"``, ... so the
      legend has one entry for them);
    - ``"mean"``: the mean across folds, smoothed if ``smooth`` (label
      ``"mean <key>"``, plus ``", smoothed"``; ``"<key>"`` for a single split);
    - ``"band"``: the shaded mean ± std or ± sem (label ``"± 1 std"`` /
      ``"± 1 sem"``) across the fold curves, smoothed like the mean when
      ``smooth`` (then the label adds ``" (smoothed folds)"``), unless ``band`` is ``"none"`` or None, or there is one split;
    - ``"training"``: the mean training curve, smoothed alike (label
      ``"training <metric>"``), if ``training``;
    - ``"selected"``: dashed vertical line at :func:`~kfold.results.curves.best_epoch`'s
      epoch (label ``"selected: epoch N"``) and ``"selected point"``, a marker
      on the mean line there (no legend entry), if ``mark_epoch``.

    A single split (``HoldoutSplit``, ``ShuffleSplit(n_splits=1)``) is drawn as
    one curve titled "validation split", with no band and no fold lines.

    Parameters
    ----------
    source : CVResult or array-like
        A result with a ``history`` or curves ``(n_folds, n_epochs)``.
    key : str or None
        Metric to plot, e.g. ``"val_mae"``; None is allowed for arrays.
    skip, smooth, mode, rule
        As in :func:`~kfold.results.curves.best_epoch`; ``skip`` and ``smooth``
        also apply to what is drawn (per-fold lines are never smoothed).
    band : {"std", "sem", "none", None}, default "std"
        Spread drawn around the mean line.
    show_folds : bool or None, default None
        Draw each fold's curve; None draws them for up to 5 folds and hides
        them beyond (the band shows the spread).
    training : bool, default False
        Also draw the training curve ``"X"`` of a validation key ``"val_X"``.
    mark_epoch : bool, default True
        Mark the selected epoch (``select=`` before 0.2: in the searches
        ``select`` names the history key the choice is made on).
    ddof : {1, 0}, default 1
        The std's convention (1 the sample std).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure is created with ``plt.subplots()`` if None.
    path : str or path-like, optional
        Also save the figure there (``"curve.png"``, ``"curve.pdf"``), 120 dpi.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> curves = [[5.0, 3.0, 2.0, 2.5], [6.0, 4.0, 3.0, 3.5]]
    >>> ax = plot_history(curves, "val_mae", skip=1, ax=Figure().subplots())
    >>> [line.get_label() for line in ax.get_lines()]
    ['each fold (raw)', '_fold 2', 'mean val_mae', 'selected: epoch 3', '_selected point']
    >>> ax.get_lines()[2].get_xdata().tolist()
    [2, 3, 4]
    >>> ax.get_title()
    'Validation MAE: mean of 2 folds\\nfrom epoch 2'
    """
    mark_epoch = renamed_keywords(deprecated, {"select": "mark_epoch"}, "plot_history").get("mark_epoch", mark_epoch)
    curves = _curves(source, key)
    skip = check_skip(skip, curves.shape[1])
    smooth = check_smooth(smooth)
    check_choice("band", band, BANDS)
    n_folds = curves.shape[0]
    single = n_folds == 1
    if show_folds is None:
        show_folds = 1 < n_folds <= MAX_FOLD_LINES
    epochs = np.arange(skip + 1, curves.shape[1] + 1)
    name = key or "curve"
    suffix = ", smoothed" if smooth is not None else ""
    selection = (best_epoch(source, key, skip=skip, smooth=smooth, mode=mode, rule=rule, ddof=ddof)
                 if mark_epoch else None)
    train = _training_curves(source, key) if training else None
    ax = new_axes(ax)
    if show_folds and not single:
        for i, row in enumerate(curves, start=1):
            ax.plot(epochs, row[skip:], color="C0", lw=0.8, alpha=0.35,
                    label="each fold (raw)" if i == 1 else f"_fold {i}", gid=f"fold {i}")
    mean = mean_line(curves, skip, smooth)
    ax.plot(epochs, mean, color="C0", lw=2.5, label=f"{'' if single else 'mean '}{name}{suffix}", gid="mean")
    if band not in ("none", None) and not single:
        spread = spread_line(curves, skip, smooth, band, ddof)
        ax.fill_between(epochs, mean - spread, mean + spread, color="C0", alpha=0.2,
                        label=f"± 1 {band}" + (" (smoothed folds)" if smooth else ""), gid="band")
    if train is not None:
        ax.plot(epochs, mean_line(train[1], skip, smooth), color="C1", lw=2.5,
                label=f"training {train[0]}{suffix}", gid="training")
    if selection is not None:
        ax.axvline(selection.epoch, color="C3", ls="--", lw=1.2,
                   label=f"selected: epoch {selection.epoch}", gid="selected")
        ax.plot([selection.epoch], [selection.value], "o", color="C3", label="_selected point",
                gid="selected point")
    from matplotlib.ticker import MaxNLocator

    ylabel = metric_label(key) if train is None else metric_label(train[0]).removeprefix("Training ")
    ylabel = ylabel[:1].upper() + ylabel[1:]
    ax.set(xlabel="Epoch", ylabel=ylabel, title=_title(key, n_folds, skip, smooth, train is not None))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
    ax.legend()
    if path is not None:
        save_figure(ax, path)
    return ax


def _split_matrix(cv: Any, x: Any, y: Any, groups: Any) -> np.ndarray:
    """Rows: splits; columns: samples; 1 = training, 2 = validation, 0 = neither."""
    if not callable(getattr(cv, "split", None)):
        fail("cv", "a splitter with a split(x, y, groups) method", cv, error=TypeError)
    n_samples = len(x)
    rows = []
    for train, val in cv.split(x, y, groups):
        row = np.zeros(n_samples, dtype=int)
        row[np.asarray(train, dtype=int)] = 1
        row[np.asarray(val, dtype=int)] = 2
        rows.append(row)
    if not rows:
        fail("cv", "a splitter that yields at least one split", cv)
    return np.array(rows)


def _codes(param: str, values: Any, n_samples: int) -> np.ndarray:
    """Integer codes 0..k-1 of class labels (one-hot rows allowed) or groups."""
    values = np.asarray(values)
    if values.ndim == 2 and values.shape[1] > 1:
        values = values.argmax(axis=1)
    values = values.reshape(len(values), -1)[:, 0] if values.ndim > 1 else values
    if len(values) != n_samples:
        fail(param, f"one value per sample ({n_samples})", f"{len(values)} values")
    return np.unique(values, return_inverse=True)[1].ravel()


def plot_folds(cv: Any, x: Any, y: Any = None, groups: Any = None, *, ax: Axes | None = None) -> Axes:
    """Show which samples each split uses for training and for validation.

    One row per split of ``cv.split(x, y, groups)`` (top to bottom), one column
    per sample: training in blue, validation in orange and samples in neither
    part (e.g. a :class:`ShuffleSplit` with ``train_size``) in light grey.
    Extra rows show the class of each sample (if ``y``) and its group (if
    ``groups``). Images by ``gid``: ``"splits"`` (values 1 = training,
    2 = validation, 0 = neither), ``"classes"`` and ``"groups"`` (codes).

    Parameters
    ----------
    cv : splitter
        Any object whose ``split(x, y, groups)`` yields ``(train_idx, val_idx)``.
    x : array-like
        Samples (only their number matters, plus whatever ``cv`` needs).
    y, groups : array-like, optional
        Targets and group labels passed to ``cv.split`` and drawn as extra rows.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure is created with ``plt.subplots()`` if None.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> class TwoFold:
    ...     def split(self, x, y=None, groups=None):
    ...         yield [2, 3], [0, 1]
    ...         yield [0, 1], [2, 3]
    >>> ax = plot_folds(TwoFold(), [10, 11, 12, 13], y=[0, 0, 1, 1], ax=Figure().subplots())
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['fold 1', 'fold 2', 'class']
    >>> ax.images[0].get_array().tolist()
    [[2, 2, 1, 1], [1, 1, 2, 2]]
    """
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    matrix = _split_matrix(cv, x, y, groups)
    n_splits, n_samples = matrix.shape
    ax = new_axes(ax)
    extent = (-0.5, n_samples - 0.5, n_splits - 0.5, -0.5)
    split_colors = ListedColormap(["lightgrey", "C0", "C1"])
    ax.imshow(matrix, cmap=split_colors, vmin=0, vmax=2, aspect="auto", interpolation="nearest",
              extent=extent, gid="splits")
    labels = [f"fold {i}" for i in range(1, n_splits + 1)]
    for param, values, cmap, label in (("y", y, "Paired", "class"), ("groups", groups, "tab20", "group")):
        if values is not None:
            row = len(labels)
            ax.imshow(_codes(param, values, n_samples)[np.newaxis, :], cmap=cmap, aspect="auto",
                      interpolation="nearest", extent=(-0.5, n_samples - 0.5, row + 0.5, row - 0.5),
                      gid="classes" if param == "y" else "groups")
            labels.append(label)
    ax.set_xlim(-0.5, n_samples - 0.5)
    ax.set_ylim(len(labels) - 0.5, -0.5)
    ax.set_yticks(range(len(labels)), labels)
    ax.set(xlabel="Sample index", title=f"{type(cv).__name__}: {n_splits} splits of {n_samples} samples")
    handles = [Patch(color="C0", label="training"), Patch(color="C1", label="validation")]
    if (matrix == 0).any():
        handles.append(Patch(color="lightgrey", label="unused"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return ax
