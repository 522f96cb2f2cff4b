"""Student's t distribution without scipy: CDF, two-sided p-value and quantile.

The t distribution's tail is a regularized incomplete beta function,
``P(|T| > t) = I_x(df/2, 1/2)`` with ``x = df / (df + t**2)``, evaluated here with
the continued fraction of *Numerical Recipes* (modified Lentz's method). The
quantile inverts the CDF by bisection. Accuracy is about 1e-12, far more than a
p-value needs; the tests check it against ``scipy.stats.t``.

Examples
--------
>>> round(t_cdf(2.0, df=9), 6)
0.961724
>>> round(t_ppf(0.975, df=9), 6)
2.262157
"""
from __future__ import annotations

import math

from kfold.core import fail

__all__ = ["betainc", "t_cdf", "t_two_sided_p", "t_ppf"]

_EPS = 1e-15
_TINY = 1e-300


def _beta_fraction(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    result = d
    for m in range(1, 1000):
        for numerator in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                          -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > _TINY else _TINY)
            c = 1.0 + numerator / c
            c = c if abs(c) > _TINY else _TINY
            result *= d * c
        if abs(d * c - 1.0) < _EPS:
            break
    return result


def betainc(a: float, b: float, x: float) -> float:
    """Regularized incomplete beta function ``I_x(a, b)`` for ``a, b > 0``, ``0 <= x <= 1``.

    Examples
    --------
    >>> betainc(2.0, 3.0, 0.0), betainc(2.0, 3.0, 1.0), round(betainc(1.0, 1.0, 0.3), 12)
    (0.0, 1.0, 0.3)
    """
    if not (a > 0 and b > 0 and 0.0 <= x <= 1.0):
        fail("x", "a, b > 0 and x in [0, 1]", (a, b, x))
    if x in (0.0, 1.0):
        return x
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                 + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):  # the fraction converges fast on this side
        return math.exp(log_front) * _beta_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_fraction(b, a, 1.0 - x) / b


def t_two_sided_p(t: float, df: float) -> float:
    """``P(|T| >= |t|)`` for Student's t with ``df`` degrees of freedom.

    Examples
    --------
    >>> round(t_two_sided_p(2.262157, df=9), 6)
    0.05
    """
    if math.isnan(t):
        return math.nan
    if math.isinf(t):
        return 0.0
    p = betainc(df / 2.0, 0.5, df / (df + t * t))
    if p > 0.5:  # near t = 0, x = df/(df + t²) loses the digits of t²: use 1 - x itself
        p = 1.0 - betainc(0.5, df / 2.0, t * t / (df + t * t))
    return p


def t_cdf(t: float, df: float) -> float:
    """``P(T <= t)`` for Student's t with ``df`` degrees of freedom.

    Examples
    --------
    >>> t_cdf(0.0, df=3)
    0.5
    """
    tail = 0.5 * t_two_sided_p(t, df)
    return 1.0 - tail if t > 0 else tail


def t_ppf(q: float, df: float) -> float:
    """The ``q`` quantile of Student's t with ``df`` degrees of freedom (``0 < q < 1``).

    Examples
    --------
    >>> round(t_ppf(0.025, df=4), 6)
    -2.776445
    """
    if not 0.0 < q < 1.0:
        fail("q", "a probability strictly between 0 and 1", q)
    low, high = -1.0, 1.0
    while t_cdf(low, df) > q:
        low *= 2.0
    while t_cdf(high, df) < q:
        high *= 2.0
    for _ in range(200):  # bisection: the bracket halves each time
        middle = 0.5 * (low + high)
        if t_cdf(middle, df) < q:
            low = middle
        else:
            high = middle
        if high - low <= 1e-13 * max(1.0, abs(middle)):
            break
    return 0.5 * (low + high)
