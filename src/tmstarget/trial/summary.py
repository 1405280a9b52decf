"""The whole trial analysis in one call, as a dictionary (for ``--json``).

The text is in :mod:`.text`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from .. import __version__
from ..exceptions import InputError
from ..visits import DEFAULT_ENDPOINT
from .analysis import Estimate, FitError, ancova, estimate_from, reduction_effect_sizes
from .blinding import BlindingAssessment, assess_blinding
from .consort import baseline_table, consort_counts
from .data import TrialTable, arm_visit_summary
from .effect_sizes import EffectSize
from .impute import DONORS, mice_ancova
from .longitudinal import Trajectory, trajectory
from .scale_endpoints import ScaleEndpoint, scale_endpoint
from .secondary import REMISSION_MAX, RESPONSE_FRACTION, BinaryComparison, response_and_remission
from .sets import DEFAULT_PP_FRACTION, AnalysisSets, analysis_sets

if TYPE_CHECKING:  # annotations only
    from ..outcomes.scales import Scale, ScaleAssessment


@dataclass(frozen=True)
class TrialResult:
    """Everything ``tmstarget trial analyze`` reports.

    Attributes
    ----------
    arms : (str, str)
        Experimental and control arms.
    timepoint : str
        Endpoint visit (also reported as ``endpoint``).
    timepoints : tuple of str
        All assessments, baseline first.
    flow : dict
        Per arm: ``randomized``, ``assessed`` (per timepoint) and ``analyzed`` (primary complete
        cases).
    descriptives : dict
        Per arm and timepoint: ``n``, ``mean``, ``sd`` of MADRS.
    ancova : Estimate
        Baseline-adjusted estimate at the endpoint, complete cases.
    mixed_model : Estimate or None
        Mixed-model estimate at the endpoint (ITT, all observed visits; ``None`` when the model
        could not be fitted; see ``notes``).
    cohens_d, hedges_g : EffectSize
        Standardized differences in reduction.
    response, remission : BinaryComparison
        Secondary outcomes, complete cases at the endpoint.
    blinding : tuple of BlindingAssessment
        One per guess column.
    definitions : dict
        Response fraction, remission cut-off and sign conventions.
    notes : tuple of str
        Analyses that could not be run, and why.
    visits : dict or None
        Visit schedule and window assignment (dated tables only).
    analysis_sets : dict
        Rules, counts per arm and per-protocol exclusions.
    itt : dict
        ``response`` and ``remission`` with participants not assessed at the endpoint counted as
        failures.
    per_protocol : dict
        ``ancova``, ``response`` and ``remission`` in the per-protocol set.
    imputation : dict or None
        ``estimate`` (pooled ANCOVA, ITT) and ``pooling`` (Rubin's rules), with ``imputations`` and
        ``seed``.
    trajectory : Trajectory or None
        Group × visit mixed model: effect and each arm's change at every visit.
    consort : dict or None
        Counts of every CONSORT box per arm (:func:`tmstarget.trial.consort.consort_counts`).
    table1 : list of dict or None
        Baseline characteristics by arm.
    secondary : dict of str to ScaleEndpoint or None
        Other scales analysed at the endpoint with the same visit windows and ITT rule, keyed by
        scale.
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
    visits: dict[str, object] | None = None
    analysis_sets: dict[str, object] | None = None
    itt: dict[str, object] | None = None
    per_protocol: dict[str, object] | None = None
    imputation: dict[str, object] | None = None
    trajectory: Trajectory | None = None
    consort: dict[str, object] | None = None
    table1: list[dict[str, object]] | None = None
    secondary: dict[str, ScaleEndpoint] | None = None

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready mapping (the ``--json`` contract)."""
        out = asdict(self)
        out["experimental"], out["control"] = self.arms
        out["endpoint"] = self.timepoint
        out["tmstarget_version"] = __version__
        for key in ("response", "remission"):
            out[key]["nnt_ci_includes_infinity"] = getattr(self, key).nnt_ci_includes_infinity
        return out


def _flow(
    trial: TrialTable, timepoint: str, not_assessed: Sequence[str], sets: AnalysisSets
) -> dict[str, dict[str, object]]:
    wide = trial.wide()
    arms = trial.participants()["arm"]
    counts = sets.counts(trial)
    flow: dict[str, dict[str, object]] = {}
    for arm in trial.arms:
        scores = wide.loc[arms.index[arms == arm]]
        assessed = {t: int(scores[t].notna().sum()) for t in trial.timepoints}
        flow[arm] = {
            "randomized": len(scores),
            "assessed": assessed,
            "analyzed": assessed[timepoint],
            "lost_to_follow_up": len(scores) - assessed[timepoint],
            "analysed_itt": counts["itt"][arm],
            "analysed_per_protocol": counts["per_protocol"][arm],
        }
    if not_assessed:
        flow["randomized_without_data"] = {
            "n": len(not_assessed),
            "participants": list(not_assessed),
        }
    return flow


def _descriptives(trial: TrialTable) -> dict[str, dict[str, dict[str, float]]]:
    return arm_visit_summary(trial.frame, "madrs_total", trial.arms, trial.timepoints)


def _visits(trial: TrialTable) -> dict[str, object] | None:
    if not trial.dated or trial.schedule is None:
        return None
    listing = trial.assessments
    counts = listing.groupby(["visit_status"]).size().to_dict()
    off = listing.loc[listing["visit_status"].isin(["out_of_window", "extra"])]
    return {
        "schedule": trial.schedule.to_dict(),
        "rule": "visit = window containing (day - last_session_day); "
        "a row labelled with a visit's name counts only "
        "at "
        "that visit; outside every window = out of window; "
        "two in one window = the one closest to the target "
        "day",
        "status_counts": {str(k): int(v) for k, v in counts.items()},
        "left_out": [
            {
                "participant_id": r.participant_id,
                "timepoint": r.nominal_timepoint,
                "day": r.day,
                "days_after_last_session": r.offset_days,
                "status": r.visit_status,
            }
            for r in off.itertuples(index=False)
        ],
    }


def _endpoint(trial: TrialTable, endpoint: str | None) -> str:
    tp = endpoint or DEFAULT_ENDPOINT
    if tp not in trial.timepoints[1:]:
        raise InputError(
            f"endpoint visit {tp!r} is not a follow-up in "
            f"the table (visits: {', '.join(trial.timepoints[1:])}) "
            "— "
            "pass --endpoint with one of them"
        )
    return tp


def analyze_trial(
    trial: TrialTable,
    timepoint: str | None = None,
    response_fraction: float = RESPONSE_FRACTION,
    remission_max: float = REMISSION_MAX,
    confidence: float = 0.95,
    not_assessed: Sequence[str] = (),
    *,
    min_sessions: int | None = None,
    planned_sessions: int | None = None,
    pp_fraction: float = DEFAULT_PP_FRACTION,
    imputations: int = 20,
    seed: int = 0,
    random_slope: bool = True,
    screened: int | None = None,
    secondary: Sequence[tuple[Scale, Sequence[ScaleAssessment], str]] = (),
) -> TrialResult:
    """Run the primary, sensitivity, secondary and blinding analyses at a named endpoint visit.

    Parameters
    ----------
    trial : TrialTable
        Validated table (see :func:`tmstarget.trial.validate_trial_table`).
    timepoint : str, optional
        Endpoint visit; ``month1`` (one month after the last session) by default — never "the last
        row".
    response_fraction : float
        Response = reduction of at least this fraction of baseline.
    remission_max : float
        Remission = MADRS at or below this.
    confidence : float
        Confidence level of every interval.
    not_assessed : sequence of str
        Randomized participants with no rows in the table (from
        :func:`tmstarget.trial.check_allocation`).
    min_sessions, planned_sessions, pp_fraction
        Per-protocol adherence rule (see :func:`tmstarget.trial.sets.analysis_sets`).
    imputations : int
        Completed data sets for the MICE sensitivity analysis (0 = skip it).
    seed : int
        Seed of the imputation.
    random_slope : bool
        Try a random slope in the mixed model (falls back to a random intercept).
    screened : int, optional
        Participants assessed for eligibility (for the CONSORT diagram).
    secondary : sequence of (Scale, sequence of ScaleAssessment, str)
        Other scales as secondary endpoints: the scale (one of
        :data:`tmstarget.trial.scale_endpoints.ENDPOINT_SCALES`), its parsed ratings and the file
        name.

    Returns
    -------
    TrialResult
    """
    if not 0.5 < confidence < 1:
        raise InputError(
            f"confidence level {confidence} — give a value between 0.5 and 1, e.g. 0.95"
        )
    tp = _endpoint(trial, timepoint)
    d, g = reduction_effect_sizes(trial, tp, confidence)
    response, remission = response_and_remission(
        trial, tp, response_fraction, remission_max, confidence
    )
    sets = analysis_sets(trial, tp, min_sessions, planned_sessions, pp_fraction)
    scales = {
        sc.key: scale_endpoint(trial, ratings, sc, tp, sets.itt, confidence, source)
        for sc, ratings, source in secondary
    }
    notes: list[str] = []
    try:
        traj = trajectory(trial, confidence, random_slope)
        notes.extend(traj.notes)
        mixed = estimate_from(traj, tp)
    except FitError as exc:
        traj, mixed = None, None
        notes.append(str(exc))
    itt_resp, itt_rem = response_and_remission(
        trial, tp, response_fraction, remission_max, confidence, sets.itt, True
    )
    per_protocol: dict[str, object] = {"n": len(sets.per_protocol)}
    try:
        per_protocol["ancova"] = ancova(
            trial, tp, confidence, sets.per_protocol, "ancova_per_protocol"
        )
        per_protocol["response"], per_protocol["remission"] = response_and_remission(
            trial, tp, response_fraction, remission_max, confidence, sets.per_protocol
        )
    except InputError as exc:
        notes.append(f"per-protocol analysis not run: {exc}")
    imputation = None
    if imputations:
        try:
            est, pooled = mice_ancova(
                trial, tp, imputations, seed=seed, confidence=confidence, participants=sets.itt
            )
        except FitError as exc:
            notes.append(f"multiple imputation not run: {exc}")
            imputations = 0
    if imputations:
        imputation = {
            "estimate": est,
            "pooling": pooled,
            "imputations": imputations,
            "seed": seed,
            "method": "MICE (statsmodels MICEData, predictive mean "
            f"matching with {DONORS} donors), ANCOVA per data "
            "set, "
            "Rubin's rules, Barnard-Rubin df",
        }
    return TrialResult(
        trial.arms,
        tp,
        trial.timepoints,
        _flow(trial, tp, not_assessed, sets),
        _descriptives(trial),
        ancova(trial, tp, confidence),
        mixed,
        d,
        g,
        response,
        remission,
        tuple(assess_blinding(trial, c, confidence) for c in trial.guesses),
        {
            "difference": "experimental minus control, in MADRS reduction "
            "(baseline minus follow-up); positive favours "
            "experimental",
            "response": f"MADRS reduction >= {100 * response_fraction:g}% of baseline",
            "remission": f"MADRS <= {remission_max:g}",
            "endpoint": f"the {tp} visit (named, not the last assessment)",
            "confidence": confidence,
            "stratification_covariates": list(trial.strata),
            "mixed_model_df": "Satterthwaite (t intervals)",
        },
        tuple(notes),
        _visits(trial),
        {
            "rules": sets.rules,
            "counts": sets.counts(trial),
            "excluded_per_protocol": sets.excluded,
            "min_sessions": sets.min_sessions,
            "planned_sessions": sets.planned_sessions,
        },
        {"response": itt_resp, "remission": itt_rem},
        per_protocol,
        imputation,
        traj,
        consort_counts(trial, sets, tp, not_assessed, screened),
        baseline_table(trial),
        scales or None,
    )
