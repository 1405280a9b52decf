"""The whole trial analysis in one call, as a dictionary (for ``--json``) and a CONSORT-style text."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import pandas as pd

from .. import __version__
from ..exceptions import InputError
from .analysis import Estimate, FitError, ancova, mixed_model, reduction_effect_sizes
from .blinding import BlindingAssessment, assess_blinding
from .data import TrialTable
from .effect_sizes import EffectSize
from .secondary import REMISSION_MAX, RESPONSE_FRACTION, BinaryComparison, response_and_remission


@dataclass(frozen=True)
class TrialResult:
    """Everything ``tmstarget trial analyze`` reports.

    Attributes
    ----------
    arms : (str, str)
        Experimental and control arms.
    timepoint : str
        Primary follow-up.
    timepoints : tuple of str
        All assessments, baseline first.
    flow : dict
        Per arm: ``randomized``, ``assessed`` (per timepoint) and ``analyzed`` (primary complete cases).
    descriptives : dict
        Per arm and timepoint: ``n``, ``mean``, ``sd`` of MADRS.
    ancova : Estimate
        Baseline-adjusted primary-outcome estimate.
    mixed_model : Estimate or None
        Mixed-model estimate (``None`` when the model could not be fitted; see ``notes``).
    cohens_d, hedges_g : EffectSize
        Standardized differences in reduction.
    response, remission : BinaryComparison
        Secondary outcomes.
    blinding : tuple of BlindingAssessment
        One per guess column.
    definitions : dict
        Response fraction, remission cut-off and sign conventions.
    notes : tuple of str
        Analyses that could not be run, and why.
    """

    arms: tuple[str, str]
    timepoint: str
    timepoints: tuple[str, ...]
    flow: dict[str, dict[str, object]]
    descriptives: dict[str, dict[str, dict[str, float]]]
    ancova: Estimate
    mixed_model: Estimate | None
    cohens_d: EffectSize
    hedges_g: EffectSize
    response: BinaryComparison
    remission: BinaryComparison
    blinding: tuple[BlindingAssessment, ...]
    definitions: dict[str, object]
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready mapping (the ``--json`` contract)."""
        out = asdict(self)
        out["experimental"], out["control"] = self.arms
        out["tmstarget_version"] = __version__
        for key in ("response", "remission"):
            out[key]["nnt_ci_includes_infinity"] = getattr(self, key).nnt_ci_includes_infinity
        return out


def _flow(trial: TrialTable, timepoint: str, not_assessed: Sequence[str]) -> dict[str, dict[str, object]]:
    wide = trial.wide()
    arms = trial.participants()["arm"]
    flow: dict[str, dict[str, object]] = {}
    for arm in trial.arms:
        scores = wide.loc[arms.index[arms == arm]]
        assessed = {t: int(scores[t].notna().sum()) for t in trial.timepoints}
        flow[arm] = {"randomized": len(scores), "assessed": assessed, "analyzed": assessed[timepoint],
                     "lost_to_follow_up": len(scores) - assessed[timepoint]}
    if not_assessed:
        flow["randomized_without_data"] = {"n": len(not_assessed), "participants": list(not_assessed)}
    return flow


def _descriptives(trial: TrialTable) -> dict[str, dict[str, dict[str, float]]]:
    frame = trial.frame.dropna(subset=["madrs_total"])
    stats = frame.groupby(["arm", "timepoint"], observed=True)["madrs_total"].agg(["count", "mean", "std"])
    out: dict[str, dict[str, dict[str, float]]] = {}
    for arm in trial.arms:
        out[arm] = {}
        for t in trial.timepoints:
            row = stats.loc[(arm, t)] if (arm, t) in stats.index else pd.Series({"count": 0, "mean": math.nan, "std": math.nan})
            out[arm][t] = {"n": int(row["count"]), "mean": float(row["mean"]), "sd": float(row["std"])}
    return out


def analyze_trial(
    trial: TrialTable,
    timepoint: str | None = None,
    response_fraction: float = RESPONSE_FRACTION,
    remission_max: float = REMISSION_MAX,
    confidence: float = 0.95,
    not_assessed: Sequence[str] = (),
) -> TrialResult:
    """Run the primary, secondary and blinding analyses.

    Parameters
    ----------
    trial : TrialTable
        Validated table (see :func:`tmstarget.trial.validate_trial_table`).
    timepoint : str, optional
        Primary follow-up; the last timepoint by default.
    response_fraction : float
        Response = reduction of at least this fraction of baseline.
    remission_max : float
        Remission = MADRS at or below this.
    confidence : float
        Confidence level of every interval.
    not_assessed : sequence of str
        Randomized participants with no rows in the table (from :func:`tmstarget.trial.check_allocation`).

    Returns
    -------
    TrialResult
    """
    if not 0.5 < confidence < 1:
        raise InputError(f"confidence level {confidence} — give a value between 0.5 and 1, e.g. 0.95")
    tp = timepoint or trial.timepoints[-1]
    d, g = reduction_effect_sizes(trial, tp, confidence)
    response, remission = response_and_remission(trial, tp, response_fraction, remission_max, confidence)
    notes: list[str] = []
    try:
        mixed = mixed_model(trial, tp, confidence)
    except FitError as exc:
        mixed = None
        notes.append(str(exc))
    return TrialResult(
        trial.arms, tp, trial.timepoints, _flow(trial, tp, not_assessed), _descriptives(trial),
        ancova(trial, tp, confidence), mixed, d, g, response, remission,
        tuple(assess_blinding(trial, c, confidence) for c in trial.guesses),
        {
            "difference": "experimental minus control, in MADRS reduction (baseline minus follow-up); positive favours experimental",
            "response": f"MADRS reduction >= {100 * response_fraction:g}% of baseline",
            "remission": f"MADRS <= {remission_max:g}",
            "confidence": confidence,
            "stratification_covariates": list(trial.strata),
        },
        tuple(notes),
    )


def _num(x: float, digits: int = 2) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{x:.{digits}f}"


def _ci(low: float, high: float, digits: int = 2) -> str:
    return f"[{_num(low, digits)}, {_num(high, digits)}]"


def _nnt(b: BinaryComparison) -> str:
    def label(x: float) -> str:
        return "∞" if not math.isfinite(x) else (f"NNTB {x:.1f}" if x > 0 else f"NNTH {abs(x):.1f}")

    if b.nnt_ci_includes_infinity:
        return f"{label(b.nnt)} (CI {label(b.nnt_ci_low)} to ∞ to {label(b.nnt_ci_high)})"
    return f"{label(b.nnt)} (CI {label(b.nnt_ci_low)} to {label(b.nnt_ci_high)})"


def format_summary(result: TrialResult) -> str:
    """CONSORT-style plain-text summary of a :class:`TrialResult`."""
    e, c = result.arms
    pct = f"{100 * result.ancova.confidence:g}%"
    lines = [f"Trial analysis (tmstarget {__version__}; research use; not a medical device)",
             f"Arms: experimental = {e}, control = {c}; primary timepoint = {result.timepoint}", "",
             "Participant flow (CONSORT)", f"  {'':<28}{e:>14}{c:>14}"]
    flow = {a: result.flow[a] for a in result.arms}
    lines.append(f"  {'Randomized':<28}" + "".join(f"{flow[a]['randomized']:>14}" for a in result.arms))
    for t in result.timepoints:
        lines.append(f"  {'Assessed at ' + t:<28}" + "".join(f"{flow[a]['assessed'][t]:>14}" for a in result.arms))
    lines.append(f"  {'Lost to follow-up':<28}" + "".join(f"{flow[a]['lost_to_follow_up']:>14}" for a in result.arms))
    lines.append(f"  {'Analyzed (complete case)':<28}" + "".join(f"{flow[a]['analyzed']:>14}" for a in result.arms))
    extra = result.flow.get("randomized_without_data")
    if extra:
        lines.append(f"  Randomized but absent from the table: {extra['n']} ({', '.join(extra['participants'])})")
    lines += ["", "MADRS by arm, mean (SD) [n]"]
    for t in result.timepoints:
        cells = [result.descriptives[a][t] for a in result.arms]
        lines.append(f"  {t:<28}" + "".join(f"{_num(s['mean'], 1) + ' (' + _num(s['sd'], 1) + ') [' + str(s['n']) + ']':>22}" for s in cells))
    lines += ["", f"Primary outcome: MADRS reduction at {result.timepoint}, {e} minus {c} (positive favours {e})"]
    for est, label in ((result.ancova, "ANCOVA (baseline-adjusted)"), (result.mixed_model, "Mixed model (all visits)")):
        if est is None:
            lines.append(f"  {label:<28}not estimable (see notes)")
            continue
        lines.append(f"  {label:<28}{_num(est.estimate):>7} points, {pct} CI {_ci(est.ci_low, est.ci_high)}, p = {_num(est.p_value, 4)}"
                     f"  (n = {est.n_participants})")
    for es, label in ((result.cohens_d, "Cohen's d"), (result.hedges_g, "Hedges' g")):
        lines.append(f"  {label:<28}{_num(es.estimate):>7}, {pct} CI {_ci(es.ci_low, es.ci_high)}")
    lines += ["", "Secondary outcomes"]
    for b, definition in ((result.response, result.definitions["response"]), (result.remission, result.definitions["remission"])):
        lines.append(f"  {b.outcome.capitalize()} ({definition}): {e} {b.events_experimental}/{b.n_experimental}, "
                     f"{c} {b.events_control}/{b.n_control}; Fisher p = {_num(b.fisher_p, 4)}")
        lines.append(f"    risk difference {_num(b.risk_difference, 3)} {pct} CI {_ci(b.rd_ci_low, b.rd_ci_high, 3)}; {_nnt(b)}")
    for blind in result.blinding:
        lines += ["", f"Blinding ({blind.source}): guesses [{e}, {c}, don't know] by actual arm: "
                  + "; ".join(f"{arm}: {[row[j] for row in blind.counts]}" for j, arm in enumerate(result.arms))]
        j = blind.james
        lines.append(f"  James index {_num(j.estimate)} {pct} CI {_ci(j.ci_low, j.ci_high)} (0.5 = random guessing; upper limit < 0.5 suggests unblinding)")
        for b in blind.bang:
            lines.append(f"  Bang index, {b.arm}: {_num(b.estimate)} {pct} CI {_ci(b.ci_low, b.ci_high)} (0 = random guessing, 1 = all correct)")
    if result.notes:
        lines += ["", "Notes"] + [f"  - {note}" for note in result.notes]
    return "\n".join(lines) + "\n"
