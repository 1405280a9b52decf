"""Linear mixed models fitted by REML (statsmodels ``MixedLM``), with Satterthwaite df.

statsmodels reports Wald (normal) intervals for fixed effects. With 40 participants a t reference
with small-sample degrees of freedom is expected, so for a contrast ``c'beta`` this module computes
the Satterthwaite (1946) approximation in the form used by SAS ``DDFM=SATTERTHWAITE`` and R's
lmerTest (Kuznetsova, Brockhoff & Christensen 2017, J Stat Softw 82(13), eq. 6)::

    df = 2 * (c' Phi(theta) c)^2 / (g' A g)

where ``Phi(theta) = (sum_i X_i' V_i(theta)^-1 X_i)^-1`` is the covariance of the fixed effects,
``g`` its gradient with respect to the variance parameters ``theta`` (residual variance and the
entries of the random-effects covariance), and ``A`` the asymptotic covariance of ``theta``: the
inverse of the negative Hessian of the REML log-likelihood at its maximum. Gradient and Hessian are
central finite differences of the exact REML log-likelihood written out below (the df is invariant
to how ``theta`` is parametrized, because the gradient of the log-likelihood vanishes at the
optimum). Kenward–Roger would also inflate ``Phi``; it is not implemented.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import numpy as np

from ..exceptions import InputError

logger = logging.getLogger(__name__)

__all__ = ["LmmFit", "Contrast", "FitError", "fit_lmm"]

#: Optimizers tried in turn (L-BFGS can step into singular regions on small data).
OPTIMIZERS = ("lbfgs", "bfgs", "powell", "nm")


class FitError(InputError):
    """A model could not be fitted to the data (too few or too degenerate observations)."""


@dataclass(frozen=True)
class Contrast:
    """A linear combination of fixed effects with its t-based interval.

    Attributes
    ----------
    estimate, se : float
        ``c'beta`` and its standard error ``sqrt(c' Phi c)``.
    df : float
        Satterthwaite degrees of freedom.
    ci_low, ci_high : float
        ``estimate -/+ t(df) * se``.
    p_value : float
        Two-sided p-value of ``c'beta = 0`` against t(df).
    """

    estimate: float
    se: float
    df: float
    ci_low: float
    ci_high: float
    p_value: float


@dataclass(frozen=True)
class LmmFit:
    """A REML fit: fixed effects, variance parameters and the pieces the contrasts need.

    Attributes
    ----------
    names : tuple of str
        Fixed-effect names (columns of ``exog``).
    params : numpy.ndarray
        Fixed effects, shape (p,).
    cov_params : numpy.ndarray
        ``Phi`` at the estimate, shape (p, p).
    scale : float
        Residual variance.
    cov_re : numpy.ndarray
        Random-effects covariance, shape (q, q).
    theta_cov : numpy.ndarray
        Asymptotic covariance of ``theta = (scale, lower triangle of cov_re)``.
    loglike : float
        REML log-likelihood (with the constant, comparable with statsmodels).
    optimizer : str
        The optimizer that converged.
    """

    names: tuple[str, ...]
    params: np.ndarray
    cov_params: np.ndarray
    scale: float
    cov_re: np.ndarray
    theta_cov: np.ndarray
    loglike: float
    optimizer: str
    _data: tuple

    def contrast(self, c: np.ndarray | dict[str, float], confidence: float = 0.95) -> Contrast:
        """Estimate ``c'beta`` with a Satterthwaite t interval.

        Parameters
        ----------
        c : numpy.ndarray or dict
            Weights, shape (p,), or ``{name: weight}``.
        confidence : float
            Confidence level.

        Returns
        -------
        Contrast
        """
        from scipy import stats

        if isinstance(c, dict):
            unknown = set(c) - set(self.names)
            if unknown:
                raise KeyError(f"unknown fixed effect(s) {sorted(unknown)}")
            c = np.array([c.get(n, 0.0) for n in self.names])
        c = np.asarray(c, float)
        est = float(c @ self.params)
        var = float(c @ self.cov_params @ c)
        theta = _theta(self.scale, self.cov_re)
        grad = _gradient(lambda t: float(c @ _reml(t, *self._data)[1] @ c), theta)
        denom = float(grad @ self.theta_cov @ grad)
        df = 2.0 * var**2 / denom if denom > 0 else np.inf
        se = np.sqrt(var)
        q = float(stats.t.ppf(0.5 + confidence / 2.0, df))
        p = float(2.0 * stats.t.sf(abs(est / se), df)) if se > 0 else np.nan
        return Contrast(est, float(se), float(df), float(est - q * se), float(est + q * se), p)


def _theta(scale: float, cov_re: np.ndarray) -> np.ndarray:
    rows, cols = np.tril_indices(cov_re.shape[0])
    return np.concatenate([[scale], cov_re[rows, cols]])


def _cov_re(theta: np.ndarray, q: int) -> np.ndarray:
    g = np.zeros((q, q))
    rows, cols = np.tril_indices(q)
    g[rows, cols] = theta[1:]
    return g + np.tril(g, -1).T


def _reml(theta: np.ndarray, ys: list, xs: list, zs: list) -> tuple[float, np.ndarray, np.ndarray]:
    """REML log-likelihood, ``Phi`` and the GLS fixed effects at ``theta``."""
    q = zs[0].shape[1]
    g = _cov_re(theta, q)
    p = xs[0].shape[1]
    xtvx, xtvy, yvy, logdet, n = np.zeros((p, p)), np.zeros(p), 0.0, 0.0, 0
    for y, x, z in zip(ys, xs, zs):
        v = z @ g @ z.T + theta[0] * np.eye(len(y))
        chol = np.linalg.cholesky(v)
        wx, wy = np.linalg.solve(chol, x), np.linalg.solve(chol, y)
        xtvx += wx.T @ wx
        xtvy += wx.T @ wy
        yvy += wy @ wy
        logdet += 2.0 * np.log(np.diag(chol)).sum()
        n += len(y)
    phi = np.linalg.inv(xtvx)
    beta = phi @ xtvy
    sign, logdet_x = np.linalg.slogdet(xtvx)
    ll = -0.5 * (logdet + logdet_x + yvy - beta @ xtvy + (n - p) * np.log(2 * np.pi))
    return float(ll), phi, beta


def _steps(theta: np.ndarray) -> np.ndarray:
    return 1e-4 * np.maximum(np.abs(theta), 1e-2 * abs(theta[0]))


def _gradient(f, x: np.ndarray) -> np.ndarray:
    h = _steps(x)
    out = np.empty(len(x))
    for i in range(len(x)):
        e = np.zeros(len(x))
        e[i] = h[i]
        out[i] = (f(x + e) - f(x - e)) / (2 * h[i])
    return out


def _hessian(f, x: np.ndarray) -> np.ndarray:
    h = _steps(x)
    k = len(x)
    out = np.empty((k, k))
    for i in range(k):
        for j in range(i, k):
            ei, ej = np.zeros(k), np.zeros(k)
            ei[i], ej[j] = h[i], h[j]
            out[i, j] = out[j, i] = (
                f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)
            ) / (4 * h[i] * h[j])
    return out


def _fit_statsmodels(model: object) -> tuple[object, str]:
    failures = []
    for method in OPTIMIZERS:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                fit = model.fit(reml=True, method=[method])
            except (np.linalg.LinAlgError, ValueError, FloatingPointError) as exc:
                failures.append(f"{method}: {exc}")
                continue
        if fit.converged and np.all(np.isfinite(fit.bse)):
            for w in caught:
                logger.debug("mixed model (%s): %s", method, w.message)
            return fit, method
        failures.append(f"{method}: did not converge")
    raise FitError(
        f"the mixed model could not be fitted ({'; '.join(failures)}) "
        "— too few observations per participant or arm; "
        "rely on the ANCOVA, or collect more data"
    )


def fit_lmm(
    endog: np.ndarray,
    exog: np.ndarray,
    groups: np.ndarray,
    exog_re: np.ndarray | None = None,
    names: tuple[str, ...] | None = None,
) -> LmmFit:
    """Fit ``y = X beta + Z b + e`` by REML; ``b ~ N(0, G)`` per group, ``e ~ N(0, scale I)``.

    Parameters
    ----------
    endog : numpy.ndarray
        Responses, shape (n,).
    exog : numpy.ndarray
        Fixed-effects design, shape (n, p), full column rank.
    groups : numpy.ndarray
        Group label of each observation, shape (n,).
    exog_re : numpy.ndarray, optional
        Random-effects design, shape (n, q); a random intercept (a column of ones) by default.
    names : tuple of str, optional
        Fixed-effect names.

    Returns
    -------
    LmmFit

    Raises
    ------
    FitError
        When no optimizer converges, or the variance parameters are on the boundary (a
        random-effects covariance that is not positive definite, or a REML Hessian that is not
        negative definite).
    """
    from statsmodels.regression.mixed_linear_model import MixedLM

    endog, exog = np.asarray(endog, float), np.asarray(exog, float)
    exog_re = (
        np.ones((len(endog), 1))
        if exog_re is None
        else np.asarray(exog_re, float).reshape(len(endog), -1)
    )
    fit, method = _fit_statsmodels(MixedLM(endog, exog, groups=groups, exog_re=exog_re))
    scale, cov_re = float(fit.scale), np.atleast_2d(np.asarray(fit.cov_re, float))
    if np.linalg.eigvalsh(cov_re).min() <= 1e-6 * scale:
        raise FitError(
            "the random-effects covariance is singular (variance "
            "on the boundary) — use a simpler random-effects "
            "structure"
        )
    order = {}
    for i, gid in enumerate(groups):
        order.setdefault(gid, []).append(i)
    idx = [np.array(v) for v in order.values()]
    data = ([endog[i] for i in idx], [exog[i] for i in idx], [exog_re[i] for i in idx])
    theta = _theta(scale, cov_re)
    try:
        loglike, phi, beta = _reml(theta, *data)
        hess = _hessian(lambda t: _reml(t, *data)[0], theta)
    except np.linalg.LinAlgError:
        raise FitError(
            "the variance parameters are too close to the boundary to compute degrees of freedom — "
            "use a simpler random-effects structure"
        ) from None
    if not np.all(np.isfinite(hess)) or np.linalg.eigvalsh(-hess).min() <= 0:
        raise FitError(
            "the REML surface is not curved at the estimate "
            "(variance parameters not identified) — use a "
            "simpler random-effects structure"
        )
    names = tuple(names) if names is not None else tuple(f"x{i}" for i in range(exog.shape[1]))
    return LmmFit(names, beta, phi, scale, cov_re, np.linalg.inv(-hess), loglike, method, data)
