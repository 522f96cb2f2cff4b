"""Curve statistics, smoothing and epoch selection for cross-validation histories.

This is the second half of the book's K-fold recipe (*Deep Learning with
Python*, chapter 3, Boston housing): average the per-fold validation curves
epoch by epoch, drop the first epochs, smooth what is left with an exponential
moving average and read off the best epoch.

Every function takes a ``source`` first: either a cross-validation result (any
object with a ``history`` mapping metric names such as ``"val_mae"`` to arrays
of shape ``(n_folds, n_epochs)``, NaN-padded where a fold stopped early; a
``CVHistory``, a Keras ``History`` and a plain ``dict`` of lists work too), in which case ``key``
names the metric, or directly an array of curves, 2-D ``(n_folds, n_epochs)``
or 1-D (one curve), in which case nothing is looked up and ``key``, if given,
only names the curve.

Examples
--------
>>> import numpy as np
>>> from kfold.results.curves import mean_curve, best_epoch
>>> curves = np.array([[3.0, 2.0, 1.5, 1.8],
...                    [3.2, 2.2, 1.7, np.nan]])   # fold 2 stopped after 3 epochs
>>> mean_curve(curves).round(2)
array([3.1, 2.1, 1.6, 1.8])
>>> best_epoch(curves).epoch
3
"""
from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from kfold.core import check_choice, check_fraction, fail

__all__ = ["smooth_curve", "mean_curve", "std_curve", "sem_curve", "best_epoch", "EpochSelection"]

MODES = ("auto", "min", "max")
RULES = ("min", "one_se")
# Substrings of metric names where larger is better (checked after "val_" is removed).
_MAX_METRICS = ("accuracy", "acc", "auc", "precision", "recall", "f1", "r2", "iou", "top_k")
_MIN_METRICS = ("loss", "error")  # win over the list above, e.g. "accuracy_loss"


def _history(source: Any) -> Mapping | None:
    """The metric mapping of ``source``, or None when ``source`` is an array of curves."""
    if isinstance(source, np.ndarray):
        return None
    if isinstance(source, Mapping) or (hasattr(source, "keys") and hasattr(source, "__getitem__")):
        return source  # a dict of curves, or a CVHistory passed directly
    history = getattr(source, "history", None)
    return history if history is not None and hasattr(history, "keys") else None


def _curves(source: Any, key: str | None) -> np.ndarray:
    """Return the curves of ``source`` as a 2-D float array ``(n_folds, n_epochs)``."""
    history = _history(source)
    if history is not None:
        available = ", ".join(repr(k) for k in history.keys())
        if key is None or key not in history:
            fail("key", f"the name of a metric in the history, one of: {available}", key,
                 "Pass one of those names, e.g. key='val_loss'")
        values = history[key]
    else:
        values = source
    try:
        curves = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        fail("source", "a CVResult or an array of curves of shape (n_folds, n_epochs)", values)
    if curves.ndim == 1:
        curves = curves[np.newaxis, :]
    if curves.ndim != 2 or curves.size == 0:
        fail("source", "curves of shape (n_folds, n_epochs) or (n_epochs,), not empty",
             f"array of shape {curves.shape}")
    return curves


def smooth_curve(points: Any, factor: float = 0.9) -> np.ndarray:
    """Exponential moving average of a curve, exactly as in the book.

    The first smoothed point is the first point; each next one is
    ``previous * factor + point * (1 - factor)``, computed in that order, so the
    result equals the book's ``smooth_curve`` bit for bit.

    Parameters
    ----------
    points : array-like
        One curve (1-D) or several (2-D, each row smoothed along the last axis).
    factor : float, default 0.9
        Weight of the past, in ``[0, 1)``; 0 returns the points unchanged.

    Returns
    -------
    numpy.ndarray
        Float array of the same shape as ``points``. A NaN point makes it and
        every later smoothed point NaN, which keeps the NaN tail padding of
        folds that stopped early as it is.

    Examples
    --------
    >>> smooth_curve([1.0, 2.0, 3.0], factor=0.5).tolist()
    [1.0, 1.5, 2.25]
    """
    factor = check_fraction("factor", factor)
    points = np.asarray(points, dtype=float)
    if points.ndim not in (1, 2):
        fail("points", "a 1-D or 2-D array of curves", f"array of shape {points.shape}")
    smoothed = points.copy()
    weight = 1 - factor
    for i in range(1, points.shape[-1]):
        smoothed[..., i] = smoothed[..., i - 1] * factor + points[..., i] * weight
    return smoothed


def check_ddof(ddof: Any) -> int:
    if isinstance(ddof, bool) or not isinstance(ddof, (int, np.integer)) or ddof not in (0, 1):
        fail("ddof", "0 (population std, np.std's default) or 1 (sample std, the default)", ddof)
    return int(ddof)


def fold_stats(curves: np.ndarray, ddof: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """NaN-aware mean, std (``ddof``, 1 by default), sem and fold count per epoch, without warnings."""
    counts = np.sum(~np.isnan(curves), axis=0)
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(curves, axis=0)
        std = np.nanstd(curves, axis=0, ddof=check_ddof(ddof))
    std[counts < 2] = np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        sem = std / np.sqrt(counts)
    return mean, std, sem, counts


def fold_std(values: Any, ddof: int = 1) -> float:
    """Standard deviation of one value per fold (``ddof=1``: the sample std), NaN-aware; NaN with fewer than two.

    Examples
    --------
    >>> fold_std([1.0, 3.0, float("nan")]), fold_std([1.0, 3.0], ddof=0), fold_std([2.0])
    (1.4142135623730951, 1.0, nan)
    """
    return float(fold_stats(np.asarray(values, dtype=float).reshape(-1, 1), ddof)[1][0])


def mean_curve(source: Any, key: str | None = None) -> np.ndarray:
    """Mean across folds at each epoch, ignoring folds that already stopped.

    Parameters
    ----------
    source : CVResult or array-like
        A result with a ``history`` (then ``key`` is required) or curves of
        shape ``(n_folds, n_epochs)`` / ``(n_epochs,)``.
    key : str, optional
        Metric name in the history, e.g. ``"val_mae"``.

    Returns
    -------
    numpy.ndarray
        Shape ``(n_epochs,)``; NaN at epochs where no fold has a value.

    Examples
    --------
    >>> mean_curve([[1.0, 2.0, 3.0], [3.0, 4.0, np.nan]]).tolist()
    [2.0, 3.0, 3.0]
    """
    return fold_stats(_curves(source, key))[0]


def std_curve(source: Any, key: str | None = None, *, ddof: int = 1) -> np.ndarray:
    """Standard deviation across folds at each epoch: the sample std (``ddof=1``) by default.

    Parameters are as in :func:`mean_curve`; ``ddof=0`` gives the population std
    (``np.std``'s default, what the book's code prints). Epochs where fewer than
    two folds have a value are NaN.

    Examples
    --------
    >>> std_curve([[1.0, 2.0, 3.0], [3.0, 4.0, np.nan]]).round(3).tolist()
    [1.414, 1.414, nan]
    >>> std_curve([[1.0, 2.0], [3.0, 4.0]], ddof=0).tolist()
    [1.0, 1.0]
    """
    return fold_stats(_curves(source, key), ddof)[1]


def sem_curve(source: Any, key: str | None = None) -> np.ndarray:
    """Standard error of the mean across folds: ``std / sqrt(n)`` at each epoch.

    ``n`` is the number of folds with a value at that epoch. Parameters are as
    in :func:`mean_curve`; epochs with fewer than two values are NaN.

    Examples
    --------
    >>> sem_curve([[1.0, 2.0, 3.0], [3.0, 4.0, np.nan]]).tolist()
    [1.0, 1.0, nan]
    """
    return fold_stats(_curves(source, key))[2]


@dataclasses.dataclass(frozen=True)
class EpochSelection:
    """The epoch chosen by :func:`best_epoch` and the statistics behind it.

    Attributes
    ----------
    epoch : int
        1-based epoch on the original curve (skipping epochs never shifts it).
    value : float
        Value of the curve used for the choice at that epoch (smoothed if
        smoothing was asked for, else the raw mean).
    mean, std, sem : float
        Raw mean, standard deviation (with ``ddof``) and standard error across
        folds there (std and sem are NaN with a single fold).
    n_folds : int
        Number of folds with a value at that epoch.
    key : str or None
        Metric name; None for an unnamed array.
    mode : str
        ``"min"`` or ``"max"``, after resolving ``"auto"``.
    rule, skip, smooth, ddof
        The arguments used.
    n_epochs : int
        Number of epochs of the curve (0 if unknown).
    flat : bool
        Whether the curve (after ``skip``) varies by less than one standard
        error at the selected epoch: the choice of epoch then means little.

    Examples
    --------
    >>> import dataclasses, json
    >>> sel = best_epoch([[3.0, 2.0, 2.5], [3.0, 1.0, 1.5]], key="val_mae")
    >>> print(sel)
    epoch 2 (val_mae: mean 1.5 ± 0.707 std with ddof=1; 2 folds)
    >>> json.dumps(dataclasses.asdict(sel))[:30]
    '{"epoch": 2, "value": 1.5, "me'
    >>> best_epoch([[3.0, 2.0, 1.0]]).note
    'still improving at epoch 3: train longer'
    """

    epoch: int
    value: float
    mean: float
    std: float
    sem: float
    n_folds: int
    key: str | None
    mode: str
    rule: str
    skip: int
    smooth: float | None
    ddof: int = 1
    n_epochs: int = 0
    flat: bool = False

    @property
    def note(self) -> str | None:
        """A warning about the choice, or None: the last epoch was chosen, or the curve is flat."""
        if self.n_epochs - self.skip >= 2 and self.epoch == self.n_epochs:
            return f"still improving at epoch {self.epoch}: train longer"
        if self.flat:
            return (f"the {self.key or 'curve'} curve is flat within noise after epoch {self.skip + 1} "
                    "(it varies less than one standard error): any epoch there is as good")
        return None

    def __str__(self) -> str:
        text = f"epoch {self.epoch} ({self.key or 'curve'}: mean {self.mean:.3g}"
        if not np.isnan(self.std):
            text += f" ± {self.std:.3g} std with ddof={self.ddof}"
        if self.smooth is not None:
            text += f", smoothed {self.value:.3g}"
        text += f"; {self.n_folds} fold{'s' if self.n_folds != 1 else ''}"
        if self.rule == "one_se":
            text += "; one-SE rule"
        return text + ")"


def check_skip(skip: Any, n_epochs: int) -> int:
    if isinstance(skip, bool) or not isinstance(skip, (int, np.integer)) or not 0 <= skip < n_epochs:
        fail("skip", f"an integer in [0, {n_epochs}) (fewer than the {n_epochs} epochs of the curve)",
             skip, "Drop fewer epochs, or train for more")
    return int(skip)


def check_smooth(smooth: Any) -> float | None:
    return None if smooth is None else check_fraction("smooth", smooth)


def resolve_mode(mode: str, key: str | None) -> str:
    check_choice("mode", mode, MODES)
    if mode != "auto":
        return mode
    if key is None:
        return "min"
    name = key.lower().removeprefix("val_")
    if any(word in name for word in _MIN_METRICS):
        return "min"
    return "max" if any(word in name for word in _MAX_METRICS) else "min"


def best_epoch(
    source: Any,
    key: str | None = None,
    *,
    skip: int = 0,
    smooth: float | None = None,
    mode: str = "auto",
    rule: str = "min",
    ddof: int = 1,
) -> EpochSelection:
    """Pick the best epoch of the fold-averaged curve, the book's way.

    Mean across folds, drop the first ``skip`` epochs, smooth with
    :func:`smooth_curve` (if ``smooth``), then take the best point.

    Parameters
    ----------
    source : CVResult or array-like
        A result with a ``history`` (then ``key`` is required) or curves.
    key : str, optional
        Metric name, e.g. ``"val_mae"``. For an array it only names the curve.
    skip : int, default 0
        Number of leading epochs to ignore; must be below the number of epochs.
    smooth : float, optional
        Smoothing factor in ``[0, 1)``; None (default) means no smoothing.
        The book uses ``0.9`` with ``skip=10``.
    mode : {"auto", "min", "max"}, default "auto"
        Whether lower or higher is better. ``"auto"`` reads the key: ``"max"``
        for accuracy, AUC, precision, recall, F1, R², IoU and top-k metrics,
        ``"min"`` for losses, errors and unnamed curves.
    rule : {"min", "one_se"}, default "min"
        ``"min"``: the best point. ``"one_se"``: the earliest epoch whose value
        is within one standard error (across folds, at the best epoch; 0 if
        undefined) of the best value, a more conservative choice.
    ddof : {1, 0}, default 1
        Convention of the reported ``std``: 1 the sample std, 0 ``np.std``'s.

    Returns
    -------
    EpochSelection
        The 1-based epoch, counted on the original curve, and its statistics.

    Examples
    --------
    >>> curves = [[9.0, 5.0, 4.0, 3.0, 3.5], [9.0, 6.0, 4.0, 2.0, 2.5]]
    >>> best_epoch(curves, skip=2).epoch
    4
    >>> print(best_epoch(curves, key="val_mae", skip=2, smooth=0.5))
    epoch 5 (val_mae: mean 3 ± 0.707 std with ddof=1, smoothed 3.12; 2 folds)
    """
    curves = _curves(source, key)
    skip = check_skip(skip, curves.shape[1])
    smooth = check_smooth(smooth)
    mode = resolve_mode(mode, key)
    check_choice("rule", rule, RULES)
    mean, std, sem, counts = fold_stats(curves)
    spread = fold_stats(curves, ddof)[1]
    curve = mean[skip:] if smooth is None else smooth_curve(mean[skip:], smooth)
    finite = np.isfinite(curve)
    if not finite.any():
        fail("source", f"at least one finite value after the first {skip} epochs",
             f"{curves.shape[0]} folds without values there")
    sign = 1.0 if mode == "min" else -1.0
    scores = np.where(finite, sign * curve, np.inf)
    index = int(np.argmin(scores))
    if rule == "one_se":
        margin = 0.0 if np.isnan(sem[skip + index]) else float(sem[skip + index])
        index = int(np.argmax(scores <= scores[index] + margin))
    at = skip + index
    values = curve[finite]
    flat = bool(len(values) > 1 and np.isfinite(sem[at]) and np.ptp(values) <= sem[at])
    return EpochSelection(
        epoch=at + 1, value=float(curve[index]), mean=float(mean[at]), std=float(spread[at]),
        sem=float(sem[at]), n_folds=int(counts[at]), key=key, mode=mode, rule=rule,
        skip=skip, smooth=smooth, ddof=ddof, n_epochs=int(curves.shape[1]), flat=flat,
    )
