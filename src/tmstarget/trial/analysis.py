"""Primary analysis: ANCOVA of MADRS reduction and a linear mixed model over all timepoints.

Sign convention: every between-arm estimate is *experimental minus control* in MADRS **reduction**
(baseline minus follow-up, in MADRS points), so positive values favour the experimental arm.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..exceptions import InputError
from .data import TrialTable
from .effect_sizes import EffectSize, cohens_d, hedges_g

logger = logging.getLogger(__name__)

class FitError(InputError):
    """A model could not be fitted to the data (too few or too degenerate observations)."""


#: Optimizers tried in turn for the mixed model.
_OPTIMIZERS = ("lbfgs", "bfgs", "powell", "nm")


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
        Experimental minus control difference in MADRS reduction (points; positive favours experimental).
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


def _strata_dummies(frame: pd.DataFrame, strata: tuple[str, ...]) -> pd.DataFrame:
    if not strata:
        return pd.DataFrame(index=frame.index)
    dummies = pd.get_dummies(frame[list(strata)].astype(str), drop_first=True, dtype=float)
    return dummies.loc[:, dummies.std(ddof=0) > 0]


def _check_rank(exog: pd.DataFrame, what: str) -> None:
    if np.linalg.matrix_rank(exog.to_numpy(dtype=float)) < exog.shape[1]:
        raise InputError(
            f"the {what} design is not estimable (an arm lacks observations at a timepoint, or a stratum column is confounded "
            "with arm or time) — check the table, or drop or merge stratum columns"
        )


def _arm_counts(trial: TrialTable, data: pd.DataFrame, timepoint: str, minimum: int) -> None:
    counts = data["arm"].value_counts()
    short = [a for a in trial.arms if counts.get(a, 0) < minimum]
    if short:
        raise InputError(
            f"arm(s) {', '.join(short)} have fewer than {minimum} participants assessed at {timepoint!r} — choose another --timepoint or collect more data"
        )


def ancova(trial: TrialTable, timepoint: str, confidence: float = 0.95) -> Estimate:
    """ANCOVA: reduction at ``timepoint`` on arm, adjusted for baseline MADRS (and strata), by OLS.

    Parameters
    ----------
    trial : TrialTable
        Validated trial table.
    timepoint : str
        Follow-up label.
    confidence : float
        Confidence level of the interval.

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
    _arm_counts(trial, data, timepoint, 2)
    exog = pd.DataFrame(
        {"const": 1.0, "arm": (data["arm"] == trial.experimental).astype(float),
         "baseline": data["baseline"] - data["baseline"].mean()},
        index=data.index,
    ).join(_strata_dummies(data, trial.strata))
    _check_rank(exog, "ANCOVA")
    if len(data) <= exog.shape[1]:
        raise InputError(f"{len(data)} participants at {timepoint!r} are too few for the ANCOVA — collect more data")
    fit = sm.OLS(data["reduction"].to_numpy(float), exog).fit()
    low, high = fit.conf_int(alpha=1.0 - confidence).loc["arm"]
    return Estimate(
        "ancova", timepoint, float(fit.params["arm"]), float(fit.bse["arm"]), float(low), float(high),
        float(fit.pvalues["arm"]), len(data), len(data), confidence,
    )


def _fit_reml(model: object) -> object:
    """Fit by REML, falling back to other optimizers when one fails (L-BFGS can step into singular regions)."""
    failures = []
    for method in _OPTIMIZERS:
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
            return fit
        failures.append(f"{method}: did not converge")
    raise FitError(
        f"the mixed model could not be fitted ({'; '.join(failures)}) — too few observations per participant or arm; "
        "rely on the ANCOVA, or collect more data"
    )


def mixed_model(trial: TrialTable, timepoint: str, confidence: float = 0.95) -> Estimate:
    """Linear mixed model of MADRS over all timepoints, random intercept per participant (REML).

    Fixed effects: timepoint (categorical), arm, arm × timepoint, and strata. Every available
    observation is used, so participants with missed visits still contribute (valid under MAR).

    Parameters
    ----------
    trial : TrialTable
        Validated trial table.
    timepoint : str
        Follow-up whose arm × time contrast is reported.
    confidence : float
        Confidence level of the interval.

    Returns
    -------
    Estimate
        Minus the arm × ``timepoint`` interaction, i.e. the difference in mean reduction from baseline
        (experimental minus control), with a Wald (normal) interval and p-value.

    Raises
    ------
    FitError
        If no optimizer (L-BFGS, BFGS, Powell, Nelder-Mead) reaches a converged fit.
    """
    from scipy import stats
    from statsmodels.regression.mixed_linear_model import MixedLM

    trial.reduction(timepoint)  # validates the label
    data = trial.frame.dropna(subset=["madrs_total"])
    _arm_counts(trial, data.loc[data["timepoint"] == timepoint], timepoint, 2)
    arm = (data["arm"] == trial.experimental).astype(float)
    follow = [t for t in trial.timepoints[1:] if (data["timepoint"] == t).any()]
    exog = pd.DataFrame({"const": 1.0, "arm": arm}, index=data.index)
    for t in follow:
        at = (data["timepoint"] == t).astype(float)
        exog[f"time[{t}]"] = at
        exog[f"arm:time[{t}]"] = arm * at
    exog = exog.join(_strata_dummies(data, trial.strata))
    _check_rank(exog, "mixed-model")
    model = MixedLM(data["madrs_total"].to_numpy(float), exog, groups=data["participant_id"].to_numpy())
    fit = _fit_reml(model)
    name = f"arm:time[{timepoint}]"
    est, se = -float(fit.params[name]), float(fit.bse[name])
    z = float(stats.norm.ppf(0.5 + confidence / 2.0))
    return Estimate(
        "mixed_model", timepoint, est, se, est - z * se, est + z * se, float(2.0 * stats.norm.sf(abs(est / se))),
        int(data["participant_id"].nunique()), len(data), confidence,
    )


def reduction_effect_sizes(trial: TrialTable, timepoint: str, confidence: float = 0.95) -> tuple[EffectSize, EffectSize]:
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
