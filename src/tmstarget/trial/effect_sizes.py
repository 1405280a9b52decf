"""Standardized mean differences: Cohen's d and Hedges' g.

Their confidence intervals are exact (noncentral t).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special, stats

from ..exceptions import InputError


@dataclass(frozen=True)
class EffectSize:
    """A standardized mean difference of group 1 minus group 2.

    Attributes
    ----------
    name : str
        ``"cohens_d"`` or ``"hedges_g"``.
    estimate : float
        Point estimate (in pooled-SD units).
    se : float
        Large-sample standard error (Hedges & Olkin 1985, eq. 5.14).
    ci_low, ci_high : float
        Confidence limits.
    n1, n2 : int
        Group sizes.
    confidence : float
        Confidence level of the interval.
    """

    name: str
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    n1: int
    n2: int
    confidence: float = 0.95


def _groups(x1: np.ndarray, x2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = (np.asarray(x, dtype=float).ravel() for x in (x1, x2))
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise InputError(
            "effect size inputs contain NaN or infinite values — drop missing observations first"
        )
    if len(a) < 2 or len(b) < 2:
        raise InputError(
            "effect size needs at least 2 observations per "
            f"group (got {len(a)} and {len(b)}) — collect "
            "more data"
        )
    return a, b


def pooled_sd(x1: np.ndarray, x2: np.ndarray) -> float:
    """Pooled within-group standard deviation, ``sqrt(((n1-1)s1² + (n2-1)s2²) / (n1+n2-2))``."""
    a, b = _groups(x1, x2)
    n1, n2 = len(a), len(b)
    return math.sqrt(((n1 - 1) * a.var(ddof=1) + (n2 - 1) * b.var(ddof=1)) / (n1 + n2 - 2))


def noncentrality_ci(t: float, df: float, confidence: float = 0.95) -> tuple[float, float]:
    """Confidence interval for the noncentrality parameter of a noncentral t.

    After Steiger & Fouladi (1997).

    Parameters
    ----------
    t : float
        Observed t statistic.
    df : float
        Degrees of freedom.
    confidence : float
        Two-sided confidence level.

    Returns
    -------
    (float, float)
        ``lambda_low`` with ``P(T <= t | lambda_low) = 1 - alpha/2`` and ``lambda_high`` with
        ``P(T <= t | lambda_high) = alpha/2``.
    """
    alpha = 1.0 - confidence

    def solve(target: float) -> float:
        def f(nc: float) -> float:
            return float(stats.nct.cdf(t, df, nc)) - target

        lo, hi = t - 2.0, t + 2.0
        while f(lo) < 0:
            lo -= 2.0 * max(1.0, abs(lo))
        while f(hi) > 0:
            hi += 2.0 * max(1.0, abs(hi))
        return float(optimize.brentq(f, lo, hi, xtol=1e-12))

    return solve(1.0 - alpha / 2.0), solve(alpha / 2.0)


def hedges_correction(df: float) -> float:
    """Exact small-sample bias correction of Hedges (1981).

    ``J(df) = Γ(df/2) / (sqrt(df/2) Γ((df-1)/2))``.
    """
    return float(
        math.exp(
            special.gammaln(df / 2.0) - 0.5 * math.log(df / 2.0) - special.gammaln((df - 1.0) / 2.0)
        )
    )


def cohens_d(x1: np.ndarray, x2: np.ndarray, confidence: float = 0.95) -> EffectSize:
    """Cohen's d of ``x1`` minus ``x2`` with an exact confidence interval.

    Parameters
    ----------
    x1, x2 : array-like
        Observations of the two groups (1-D, finite).
    confidence : float
        Two-sided confidence level.

    Returns
    -------
    EffectSize
        ``d = (mean1 - mean2) / pooled SD``; the interval inverts the noncentral t distribution of
        ``t = d * sqrt(n1 n2 / (n1 + n2))`` with ``n1 + n2 - 2`` degrees of freedom.

    Raises
    ------
    InputError
        Fewer than two observations in a group, or no within-group variance.
    """
    a, b = _groups(x1, x2)
    n1, n2 = len(a), len(b)
    sd = pooled_sd(a, b)
    if sd == 0:
        raise InputError(
            "both groups have zero variance — a standardised "
            "difference is undefined; check the data"
        )
    d = (a.mean() - b.mean()) / sd
    scale = math.sqrt(n1 * n2 / (n1 + n2))
    low, high = noncentrality_ci(d * scale, n1 + n2 - 2, confidence)
    se = math.sqrt((n1 + n2) / (n1 * n2) + d * d / (2.0 * (n1 + n2)))
    return EffectSize("cohens_d", float(d), se, low / scale, high / scale, n1, n2, confidence)


def hedges_g(x1: np.ndarray, x2: np.ndarray, confidence: float = 0.95) -> EffectSize:
    """Hedges' g (bias-corrected d) of ``x1`` minus ``x2``.

    Parameters
    ----------
    x1, x2 : array-like
        Observations of the two groups.
    confidence : float
        Two-sided confidence level.

    Returns
    -------
    EffectSize
        ``g = J(n1 + n2 - 2) * d``; the point estimate, standard error and the limits of d's exact
        interval are all multiplied by ``J``.
    """
    d = cohens_d(x1, x2, confidence)
    j = hedges_correction(d.n1 + d.n2 - 2)
    return EffectSize(
        "hedges_g", j * d.estimate, j * d.se, j * d.ci_low, j * d.ci_high, d.n1, d.n2, confidence
    )
