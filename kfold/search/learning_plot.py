"""Plot of a learning curve: the training and validation metric against the training size.

matplotlib is imported only inside the function. Artists carry a ``gid``:
``"train"`` and ``"validation"`` for the mean lines, ``"band train"`` and
``"band validation"`` for their spread.

Examples
--------
>>> from matplotlib.figure import Figure
>>> from kfold.search.learning_curve import doctest_learning_curve
>>> ax = plot_learning_curve(doctest_learning_curve(), ax=Figure().subplots())
>>> [line.get_label() for line in ax.get_lines()]
['training (mae)', 'validation (val_mae)']
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from kfold.core import check_choice
from kfold.results import new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_learning_curve"]


def plot_learning_curve(curve: Any, *, band: str | None = "std", ax: Axes | None = None) -> Axes:
    """The training and validation metric at each training size, with a spread band across folds.

    Each point is a size's mean over folds at that size's selected epoch
    (:class:`kfold.search.learning_curve.LearningCurveResult`). A validation
    curve still falling at the largest size says more data would help; a gap
    between the two curves that closes as the size grows says the small sizes
    overfit.

    Parameters
    ----------
    curve : LearningCurveResult
        A result of :func:`kfold.learning_curve`.
    band : {"std", "sem", "none", None}, default "std"
        The spread shaded around each mean: the sample std (ddof=1) across
        folds, or the standard error of the mean.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure if None.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> from kfold.search.learning_curve import doctest_learning_curve
    >>> ax = plot_learning_curve(doctest_learning_curve(), ax=Figure().subplots())
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('training rows per fold', 'mae')
    """
    check_choice("band", band, ("std", "sem", "none", None))
    ax = new_axes(ax)
    sizes = np.asarray(curve.train_sizes_abs)
    n_folds = np.isfinite(curve.val_scores).sum(axis=1)
    for name, mean, std, key, style in (("train", curve.train_mean, curve.train_std, curve.train_key, "--"),
                                        ("validation", curve.val_mean, curve.val_std, curve.key, "-")):
        label = f"{'training' if name == 'train' else 'validation'} ({key})"
        (line,) = ax.plot(sizes, mean, style, marker="o", label=label, gid=name)
        if band in ("std", "sem"):
            spread = std if band == "std" else std / np.sqrt(np.maximum(n_folds, 1))
            ax.fill_between(sizes, mean - spread, mean + spread, alpha=0.2, color=line.get_color(),
                            gid=f"band {name}", label=f"± 1 {band} across folds" if name == "validation" else None)
    ax.set_xlabel("training rows per fold")
    ax.set_ylabel(curve.train_key)
    ax.set_title(f"Learning curve ({int(n_folds.max())} folds, each size at its selected epoch)")
    ax.legend()
    return ax
