"""Is configuration A really better than B? The corrected resampled t-test.

Two cross-validations on the **same folds** give paired per-fold scores
``a_j`` and ``b_j``. A plain paired t-test on the differences ``d_j = a_j - b_j``
is far too eager: the folds' training sets overlap, so the ``d_j`` are positively
correlated and their sample variance underestimates the real one. Nadeau and
Bengio (2003) correct the variance of the mean difference from ``s²/J`` to
``(1/J + n_val/n_train)·s²``; Bouckaert and Frank (2004) use the same statistic
for ``r`` repetitions of k-fold CV with all ``J = k·r`` differences:

    t = mean(d) / sqrt((1/J + n_val/n_train) · s²),   J - 1 degrees of freedom,

where ``s²`` is the sample variance (``ddof=1``) of the ``J`` differences and
``n_val/n_train`` the ratio of held-out to training samples (``1/(k-1)`` for
k-fold). The confidence interval is ``mean(d) ± t_(J-1) · sqrt(...)``.

References: C. Nadeau, Y. Bengio, "Inference for the Generalization Error",
Machine Learning 52 (2003); R. Bouckaert, E. Frank, "Evaluating the
Replicability of Significance Tests for Comparing Learning Algorithms",
PAKDD 2004.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from kfold.core import Described, check_fraction, fail
from kfold.search._student_t import t_ppf, t_two_sided_p

__all__ = ["Comparison", "compare", "fold_values", "resampling_design"]


@dataclasses.dataclass(frozen=True)
class Comparison:
    """The result of :func:`compare`: ``a - b`` with its corrected t-test.

    Attributes
    ----------
    key : str
        History key compared, e.g. ``"val_accuracy"``.
    epochs : tuple of (int or None, int or None)
        The 1-based epoch read from ``a`` and from ``b``; None: each fold's last.
    differences : numpy.ndarray
        ``a_j - b_j`` per fold.
    mean_difference, t_statistic, p_value : float
        Mean of the differences, the corrected t statistic and its two-sided p-value.
    ci : tuple of float
        Confidence interval of the mean difference (``confidence`` level).
    uncorrected_p_value : float
        The p-value of a naive paired t-test (variance ``s²/J``), for contrast only.
    n_folds, df, n_repeats : int
        ``J``, ``J - 1`` and the number of repetitions of k-fold (0 when the folds
        are not a k-fold partition, e.g. ``ShuffleSplit``).
    test_train_ratio : float
        ``n_val / n_train`` in the correction.
    confidence : float
        Level of ``ci``.

    Examples
    --------
    >>> c = Comparison("val_acc", (None, None), np.array([0.1, 0.0, 0.05]), 0.05, 1.0, 0.42,
    ...                (-0.1, 0.2), 0.3, 3, 2, 1, 0.5, 0.95)
    >>> print(c)
    val_acc, a - b = 0.05 (95% CI -0.1 to 0.2); corrected t = 1, df = 2, p = 0.42; 3 folds
    """

    key: str
    epochs: tuple
    differences: np.ndarray
    mean_difference: float
    t_statistic: float
    p_value: float
    ci: tuple
    uncorrected_p_value: float
    n_folds: int
    df: int
    n_repeats: int
    test_train_ratio: float
    confidence: float

    def __str__(self) -> str:
        low, high = self.ci
        return (f"{self.key}, a - b = {self.mean_difference:.3g} ({self.confidence:.0%} CI "
                f"{low:.3g} to {high:.3g}); corrected t = {self.t_statistic:.3g}, df = {self.df}, "
                f"p = {self.p_value:.3g}; {self.n_folds} folds")


def fold_values(result: Any, key: str, epoch: int | None = None) -> np.ndarray:
    """Each fold's value of ``key`` at a 1-based ``epoch`` (None: each fold's last epoch).

    Examples
    --------
    >>> from kfold.results.history import CVHistory
    >>> from types import SimpleNamespace
    >>> r = SimpleNamespace(history=CVHistory([{"val_loss": [3.0, 2.0]}, {"val_loss": [4.0]}]))
    >>> fold_values(r, "val_loss").tolist(), fold_values(r, "val_loss", epoch=1).tolist()
    ([2.0, 4.0], [3.0, 4.0])
    """
    curves = result.history[key]  # raises, listing the keys, for an unknown key
    if epoch is None:
        last = np.array([np.flatnonzero(np.isfinite(row))[-1] if np.isfinite(row).any() else 0
                         for row in curves])
        values = curves[np.arange(len(curves)), last]
    else:
        if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)) or not 1 <= epoch <= curves.shape[1]:
            fail("epoch", f"None or a 1-based epoch in [1, {curves.shape[1]}]", epoch)
        values = curves[:, int(epoch) - 1]
    if not np.isfinite(values).all():
        fail("epoch", f"an epoch at which every fold has a finite {key!r}",
             Described(f"{epoch} (fold values {np.round(values, 4).tolist()})"),
             "Folds that stopped early have no value after their last epoch; pass epoch=None")
    return values


def resampling_design(folds: list, n_samples: int | None = None) -> tuple[int, float]:
    """Repetitions of k-fold in ``folds`` (0 if not k-fold) and the mean ``n_val / n_train``.

    Examples
    --------
    >>> from kfold import KFold, RepeatedKFold
    >>> resampling_design(list(KFold(4).split(range(8))))
    (1, 0.3333333333333333)
    >>> resampling_design(list(RepeatedKFold(n_splits=2, n_repeats=3).split(range(8))))
    (3, 1.0)
    """
    vals = [np.asarray(val) for _, val in folds]
    n = n_samples or int(max(max(np.max(t), np.max(v)) for t, v in folds)) + 1
    counts = np.bincount(np.concatenate(vals), minlength=n)
    repeats = int(counts[0]) if counts.min() == counts.max() else 0
    ratio = float(np.mean([len(v) for v in vals]) / np.mean([len(t) for t, _ in folds]))
    return repeats, ratio


def _check_same_folds(result_a: Any, result_b: Any) -> None:
    hash_a, hash_b = result_a.folds_hash, result_b.folds_hash
    if hash_a != hash_b:
        fail("result_b", "a result on the same folds as result_a (a paired test needs one fold "
             "manifest)", Described(f"folds hash {hash_b[:12]}… vs {hash_a[:12]}… for result_a"),
             "Plan the folds once and pass the same list of (train, val) pairs, or the same "
             "splitter with a fixed random_state, as cv= to both runs")


def _epochs(epoch: Any) -> tuple:
    if isinstance(epoch, (tuple, list)):
        if len(epoch) != 2:
            fail("epoch", "None, an epoch, or a pair (epoch of a, epoch of b)", epoch)
        return tuple(epoch)
    return (epoch, epoch)


def compare(result_a: Any, result_b: Any, key: str, *, epoch: Any = None,
            confidence: float = 0.95) -> Comparison:
    """Corrected resampled t-test of ``a - b`` on the same folds (Nadeau & Bengio).

    Parameters
    ----------
    result_a, result_b : CVResult
        Two cross-validations on the same folds (equal ``folds_hash``), e.g. the
        same ``cv=`` with a fixed ``random_state``, or two candidates of a search.
    key : str
        A history key, e.g. ``"val_accuracy"`` (held-out accuracy per epoch).
    epoch : None, int or (int, int), default None
        Where the per-fold values are read. None: each fold's **last** epoch,
        i.e. the model each fold ended with (its held-out score, and no selection
        on the data being tested). An int: that 1-based epoch for both. A pair:
        one epoch per result, e.g. each one's selected epoch (selection then
        makes both values slightly optimistic).
    confidence : float, default 0.95
        Level of the confidence interval ``ci``.

    Returns
    -------
    Comparison
        ``mean_difference`` (a - b), ``t_statistic``, two-sided ``p_value``, ``ci``,
        ``n_folds`` (J = k·r for r repetitions of k-fold) and ``df`` (J - 1).

    Examples
    --------
    >>> import numpy as np
    >>> from kfold import CVResult, CVHistory, KFold
    >>> folds = list(KFold(5).split(range(50)))
    >>> def result(values):
    ...     return CVResult(CVHistory([{"val_acc": [v]} for v in values]), folds,
    ...                     {}, np.zeros(5), np.zeros(5), {})
    >>> c = compare(result([.8, .9, .85, .8, .9]), result([.7, .8, .85, .75, .8]), "val_acc")
    >>> round(c.mean_difference, 3), round(c.t_statistic, 3), c.df, round(c.p_value, 3)
    (0.07, 2.333, 4, 0.08)
    >>> round(c.uncorrected_p_value, 3)  # the naive paired t-test is overconfident
    0.025
    """
    confidence = check_fraction("confidence", confidence, low=0.0, high=1.0)
    _check_same_folds(result_a, result_b)
    epoch_a, epoch_b = _epochs(epoch)
    d = fold_values(result_a, key, epoch_a) - fold_values(result_b, key, epoch_b)
    n_folds = len(d)
    if n_folds < 2:
        fail("result_a", "a result with at least 2 folds (the test needs a variance)",
             Described(f"{n_folds} fold"))
    repeats, ratio = resampling_design(result_a.folds, result_a.params.get("n_samples"))
    mean, var = float(np.mean(d)), float(np.var(d, ddof=1))
    se = math.sqrt((1.0 / n_folds + ratio) * var)
    t = _ratio(mean, se)
    half = t_ppf(0.5 + confidence / 2.0, n_folds - 1) * se
    return Comparison(
        key=key, epochs=(epoch_a, epoch_b), differences=d, mean_difference=mean,
        t_statistic=t, p_value=t_two_sided_p(t, n_folds - 1), ci=(mean - half, mean + half),
        uncorrected_p_value=t_two_sided_p(_ratio(mean, math.sqrt(var / n_folds)), n_folds - 1),
        n_folds=n_folds, df=n_folds - 1, n_repeats=repeats, test_train_ratio=ratio,
        confidence=confidence,
    )


def _ratio(mean: float, se: float) -> float:
    """``mean / se``; 0 when both are 0 (identical results), ±inf when only ``se`` is."""
    if se > 0:
        return mean / se
    return 0.0 if mean == 0 else math.copysign(math.inf, mean)
