"""Group × visit mixed model: the treatment effect at every visit and each arm's mean change.

Model (REML, :func:`tmstarget.trial.lmm.fit_lmm`): MADRS at every visit (baseline included) on visit
(categorical), arm, arm × visit and strata, with a random intercept and a random slope on time per
participant; when the slope model does not converge, or its variance parameters are on the boundary,
the random-intercept model is used and ``notes`` says so. Every observed visit is used (valid under
missing at random). Time for the slope is months (28 days) since the baseline assessment when every
used assessment has a day, else the visit's position (0, 1, 2, ...).

Contrasts (t intervals with Satterthwaite degrees of freedom):

* effect at visit v = difference in mean reduction from baseline, experimental minus control
  (minus the arm × v interaction; positive favours experimental);
* mean change from baseline at v in each arm (the v effect, plus the interaction for experimental).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..exceptions import InputError
from ._design import _check_rank, _strata_dummies
from .data import TrialTable
from .lmm import Contrast, FitError, LmmFit, fit_lmm

__all__ = ["Trajectory", "VisitEffect", "trajectory"]

_DF_METHOD = "Satterthwaite (REML; Kuznetsova et al. 2017 eq. 6)"


@dataclass(frozen=True)
class VisitEffect:
    """Model estimates at one follow-up visit.

    Attributes
    ----------
    visit : str
        Visit name.
    effect : Contrast
        Difference in mean reduction (points), experimental minus control.
    change_experimental, change_control : Contrast
        Mean change from baseline (follow-up minus baseline; negative = improvement) in each arm.
    n_experimental, n_control : int
        Participants observed at the visit.
    """

    visit: str
    effect: Contrast
    change_experimental: Contrast
    change_control: Contrast
    n_experimental: int
    n_control: int


@dataclass(frozen=True)
class Trajectory:
    """The fitted group × visit model.

    Attributes
    ----------
    random_effects : str
        ``"intercept + slope"`` or ``"intercept"``.
    time_scale : str
        What the random slope's time is measured in.
    effects : tuple of VisitEffect
        One per follow-up visit, in visit order.
    n_participants, n_observations : int
        Used in the fit.
    confidence : float
        Confidence level.
    df_method : str
        How the degrees of freedom were obtained.
    notes : tuple of str
        E.g. why the random slope was dropped.
    """

    random_effects: str
    time_scale: str
    effects: tuple[VisitEffect, ...]
    n_participants: int
    n_observations: int
    confidence: float
    df_method: str = _DF_METHOD
    notes: tuple[str, ...] = ()

    def at(self, visit: str) -> VisitEffect:
        """Return the estimates at ``visit``."""
        for e in self.effects:
            if e.visit == visit:
                return e
        raise InputError(
            f"visit {visit!r} has no model estimate — choose "
            f"one of: {', '.join(e.visit for e in self.effects)}"
        )


def _design(trial: TrialTable, data: pd.DataFrame) -> pd.DataFrame:
    arm = (data["arm"] == trial.experimental).astype(float)
    follow = [t for t in trial.timepoints[1:] if (data["timepoint"] == t).any()]
    exog = pd.DataFrame({"const": 1.0, "arm": arm}, index=data.index)
    for t in follow:
        at = (data["timepoint"] == t).astype(float)
        exog[f"time[{t}]"] = at
        exog[f"arm:time[{t}]"] = arm * at
    _check_visits(trial, data, follow)
    exog = exog.join(_strata_dummies(data, trial.strata))
    _check_rank(exog, "mixed-model", None, data, trial.strata)
    return exog


def _check_visits(trial: TrialTable, data: pd.DataFrame, follow: list[str]) -> None:
    """Refuse a visit scored in one arm only: its arm × visit effect cannot be estimated."""
    for t in follow:
        counts = data.loc[data["timepoint"] == t, "arm"].value_counts()
        lacking = [a for a in trial.arms if counts.get(a, 0) == 0]
        if lacking:
            present = next(a for a in trial.arms if a not in lacking)
            how = "placed in its window by day" if trial.dated else "labelled so"
            raise InputError(
                "the mixed-model design is not estimable: "
                f"visit {t!r} has {int(counts[present])} assessment(s) "
                "in arm "
                f"{present} ({how}) and none in arm {lacking[0]}, "
                "so the arms cannot be compared there — remove "
                "or "
                f"relabel those assessments, or assess both arms at {t}"
            )


def _time(trial: TrialTable, data: pd.DataFrame) -> tuple[np.ndarray, str]:
    if trial.dated and "day" in data.columns and data["day"].notna().all():
        base = data.loc[data["timepoint"] == trial.baseline].set_index("participant_id")["day"]
        return ((data["day"] - data["participant_id"].map(base)) / 28.0).to_numpy(
            float
        ), "months since baseline"
    position = {t: i for i, t in enumerate(trial.timepoints)}
    return data["timepoint"].map(position).astype(float).to_numpy(), "visit position (0 = baseline)"


def _fit(
    trial: TrialTable, data: pd.DataFrame, exog: pd.DataFrame, random_slope: bool
) -> tuple[LmmFit, str, str, list[str]]:
    y, groups, names = (
        data["madrs_total"].to_numpy(float),
        data["participant_id"].to_numpy(),
        tuple(exog.columns),
    )
    notes: list[str] = []
    time, scale = _time(trial, data)
    if random_slope:
        try:
            z = np.column_stack([np.ones(len(data)), time])
            return (
                fit_lmm(y, exog.to_numpy(float), groups, z, names),
                "intercept + slope",
                scale,
                notes,
            )
        except FitError as exc:
            notes.append(
                f"random slope dropped ({exc.args[0].split(' — ')[0]}); random intercept only"
            )
    return fit_lmm(y, exog.to_numpy(float), groups, None, names), "intercept", scale, notes


def trajectory(
    trial: TrialTable, confidence: float = 0.95, random_slope: bool = True
) -> Trajectory:
    """Fit the group × visit model and estimate the effect and each arm's change at every follow-up.

    Parameters
    ----------
    trial : TrialTable
        Validated trial table.
    confidence : float
        Confidence level of every interval.
    random_slope : bool
        Try a random slope on time first (falls back to a random intercept).

    Returns
    -------
    Trajectory

    Raises
    ------
    FitError
        If not even the random-intercept model can be fitted.
    """
    data = trial.frame.dropna(subset=["madrs_total"]).reset_index(drop=True)
    exog = _design(trial, data)
    fit, structure, scale, notes = _fit(trial, data, exog, random_slope)
    effects = []
    for t in trial.timepoints[1:]:
        if f"time[{t}]" not in fit.names:
            continue
        at = data["timepoint"] == t
        n_e = int((at & (data["arm"] == trial.experimental)).sum())
        effects.append(
            VisitEffect(
                t,
                fit.contrast({f"arm:time[{t}]": -1.0}, confidence),
                fit.contrast({f"time[{t}]": 1.0, f"arm:time[{t}]": 1.0}, confidence),
                fit.contrast({f"time[{t}]": 1.0}, confidence),
                n_e,
                int(at.sum()) - n_e,
            )
        )
    return Trajectory(
        structure,
        scale,
        tuple(effects),
        int(data["participant_id"].nunique()),
        len(data),
        confidence,
        notes=tuple(notes),
    )


def effects_table(result: Trajectory) -> list[dict[str, object]]:
    """One row per visit and arm (mean change with its interval) for plots and tables."""
    rows = []
    for e in result.effects:
        for arm, c in (("experimental", e.change_experimental), ("control", e.change_control)):
            rows.append(
                {
                    "visit": e.visit,
                    "arm": arm,
                    "estimate": c.estimate,
                    "ci_low": c.ci_low,
                    "ci_high": c.ci_high,
                    "df": c.df if math.isfinite(c.df) else None,
                }
            )
    return rows
