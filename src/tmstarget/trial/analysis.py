"""Primary analysis: ANCOVA of MADRS reduction and a linear mixed model over all timepoints.

Sign convention: every between-arm estimate is *experimental minus control* in MADRS **reduction**
(baseline minus follow-up, in MADRS points), so positive values favour the experimental arm.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from ..exceptions import InputError
from ._design import _check_rank, _strata_dummies
from .data import TrialTable
from .effect_sizes import EffectSize, cohens_d, hedges_g
from .lmm import FitError

__all__ = [
    "Estimate",
    "FitError",
    "ancova",
    "estimate_from",
    "mixed_model",
    "reduction_effect_sizes",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Estimate:
    """A between-arm difference with its uncertainty.

    Attributes
    ----------
    method : str
        ``"ancova"`` or ``"mixed_model"``.
    timepoint : str
        Follow-up the difference refers to.
    estimate : float
        Experimental minus control difference in MADRS reduction (points; positive favours
        experimental).
    se : float
        Standard error.
    ci_low, ci_high : float
        Confidence limits.
    p_value : float
        Two-sided p-value for no difference.
    n_participants : int
        Participants contributing.
    n_observations : int
        Observations used (equals ``n_participants`` for ANCOVA).
    confidence : float
        Confidence level.
    df : float or None
        Degrees of freedom of the t reference (residual df for ANCOVA, Satterthwaite for the mixed
        model, Barnard-Rubin for multiple imputation).
    """

    method: str
    timepoint: str
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    n_participants: int
    n_observations: int
    confidence: float = 0.95
    df: float | None = None


def _arm_counts(trial: TrialTable, data: pd.DataFrame, timepoint: str, minimum: int) -> None:
    counts = data["arm"].value_counts()
    short = [a for a in trial.arms if counts.get(a, 0) < minimum]
    if short:
        raise InputError(
            f"arm(s) {', '.join(short)} have fewer than {minimum} "
            f"participants assessed at {timepoint!r} — choose "
            "another --timepoint or collect more data"
        )


def ancova(
    trial: TrialTable,
    timepoint: str,
    confidence: float = 0.95,
    participants: Sequence[str] | None = None,
    method: str = "ancova",
) -> Estimate:
    """ANCOVA: reduction at ``timepoint`` on arm, adjusted for baseline MADRS (and strata), by OLS.

    Parameters
    ----------
    trial : TrialTable
        Validated trial table.
    timepoint : str
        Follow-up label.
    confidence : float
        Confidence level of the interval.
    participants : sequence of str, optional
        Restrict to an analysis set (e.g. per protocol); everyone assessed at ``timepoint`` by
        default.
    method : str
        Label stored in the result.

    Returns
    -------
    Estimate
        The arm coefficient (complete cases at ``timepoint``), with a t-based interval and p-value.

    Notes
    -----
    With baseline as a covariate, the arm coefficient is the same whether the outcome is the
    follow-up score or the change from baseline (only its sign convention differs).
    """
    import statsmodels.api as sm

    data = trial.reduction(timepoint)
    if participants is not None:
        data = data.loc[data.index.isin(set(participants))]
    _arm_counts(trial, data, timepoint, 2)
    exog = pd.DataFrame(
        {
            "const": 1.0,
            "arm": (data["arm"] == trial.experimental).astype(float),
            "baseline": data["baseline"] - data["baseline"].mean(),
        },
        index=data.index,
    ).join(_strata_dummies(data, trial.strata))
    _check_rank(
        exog,
        "ANCOVA",
        {
            f"every participant assessed at {timepoint!r} "
            "has the same baseline MADRS, so it cannot be "
            "adjusted for — "
            "check the baseline scores": ["baseline"]
        },
        data,
        trial.strata,
    )
    if len(data) <= exog.shape[1]:
        raise InputError(
            f"{len(data)} participants at {timepoint!r} are "
            "too few for the ANCOVA — collect more data"
        )
    fit = sm.OLS(data["reduction"].to_numpy(float), exog).fit()
    low, high = fit.conf_int(alpha=1.0 - confidence).loc["arm"]
    return Estimate(
        method,
        timepoint,
        float(fit.params["arm"]),
        float(fit.bse["arm"]),
        float(low),
        float(high),
        float(fit.pvalues["arm"]),
        len(data),
        len(data),
        confidence,
        float(fit.df_resid),
    )


def mixed_model(
    trial: TrialTable, timepoint: str, confidence: float = 0.95, random_slope: bool = False
) -> Estimate:
    """Mixed-model difference in mean reduction at ``timepoint``.

    See :func:`tmstarget.trial.longitudinal.trajectory`.

    Parameters
    ----------
    trial : TrialTable
        Validated trial table.
    timepoint : str
        Follow-up whose arm × time contrast is reported.
    confidence : float
        Confidence level of the interval.
    random_slope : bool
        Try a random slope on time (falls back to a random intercept); random intercept only by
        default.

    Returns
    -------
    Estimate
        Minus the arm × ``timepoint`` interaction (experimental minus control reduction), with a t
        interval on Satterthwaite degrees of freedom (``df``).

    Raises
    ------
    FitError
        If no optimizer (L-BFGS, BFGS, Powell, Nelder-Mead) reaches a converged fit.
    """
    from .longitudinal import trajectory

    trial.reduction(timepoint)  # validates the label
    data = trial.frame.dropna(subset=["madrs_total"])
    _arm_counts(trial, data.loc[data["timepoint"] == timepoint], timepoint, 2)
    return estimate_from(trajectory(trial, confidence, random_slope), timepoint)


def estimate_from(result: object, timepoint: str) -> Estimate:
    """Return the :class:`Estimate` of a fitted trajectory at ``timepoint``."""
    c = result.at(timepoint).effect
    return Estimate(
        "mixed_model",
        timepoint,
        c.estimate,
        c.se,
        c.ci_low,
        c.ci_high,
        c.p_value,
        result.n_participants,
        result.n_observations,
        result.confidence,
        c.df,
    )


def reduction_effect_sizes(
    trial: TrialTable, timepoint: str, confidence: float = 0.95
) -> tuple[EffectSize, EffectSize]:
    """Cohen's d and Hedges' g of MADRS reduction at ``timepoint``, experimental minus control.

    Parameters
    ----------
    trial : TrialTable
        Validated trial table.
    timepoint : str
        Follow-up label (complete cases).
    confidence : float
        Confidence level.

    Returns
    -------
    (EffectSize, EffectSize)
        Cohen's d and Hedges' g (positive favours the experimental arm).
    """
    data = trial.reduction(timepoint)
    _arm_counts(trial, data, timepoint, 2)
    groups = [data.loc[data["arm"] == a, "reduction"].to_numpy(float) for a in trial.arms]
    return cohens_d(*groups, confidence=confidence), hedges_g(*groups, confidence=confidence)
