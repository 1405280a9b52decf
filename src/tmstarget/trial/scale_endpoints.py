"""Secondary endpoints from other scales under the primary analysis's rules.

The scales are HAM-D-17, QIDS-SR-16, CGI-S and CGI-I.

A scale's ratings (validated item by item by :func:`tmstarget.outcomes.scales.parse_scale_table`)
are joined to the trial table's participants — arm, strata, sessions received and last treatment
session day come from the trial table — and go through the same validation and **the same visit
windows** as the MADRS: a rating is assigned to a visit by its own ``day`` (or, when the scale table
has no ``day`` column, by the day of the MADRS assessment with the same participant and timepoint
label); ratings outside every window are left out.

At the primary endpoint visit each scale gets the primary analyses that its definition allows:

* ANCOVA of the reduction (baseline minus endpoint total) on arm, baseline and strata, complete
  cases;
* response and remission by the scale's published rules (:data:`tmstarget.outcomes.scales.SCALES`),
  complete cases and intention to treat: every randomized participant of the trial table counts, and
  anyone without the scale's baseline or endpoint rating in window is a non-responder and a
  non-remitter.

CGI-I is itself a rating of change, made at follow-ups only: it gets response (much or very much
improved, rating <= 2) by the same two rules and its mean rating per visit, and no ANCOVA. The
C-SSRS items (a safety screen, not an efficacy endpoint) are reported by ``tmstarget scale``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from .._utils.ids import participant_label
from ..exceptions import InputError
from ..visits import BASELINE, IN_WINDOW, NOMINAL, assign_visits
from .analysis import Estimate, ancova
from .data import TrialTable, arm_visit_summary, validate_trial_table
from .secondary import BinaryComparison, compare_proportions, response_and_remission

if TYPE_CHECKING:  # annotations only
    from ..outcomes.scales import Scale, ScaleAssessment

__all__ = ["ENDPOINT_SCALES", "ScaleEndpoint", "scale_endpoint", "scale_trial_table"]

#: Scales analysable at the endpoint: three with a baseline total (change from baseline) and CGI-I
#: (response only).
ENDPOINT_SCALES = ("hamd17", "qids_sr16", "cgi_s", "cgi_i")


@dataclass(frozen=True)
class ScaleEndpoint:
    """One scale analysed at the primary endpoint.

    Attributes
    ----------
    scale, name, citation : str
        Key, display name and source of the scale and its rules.
    rules : dict
        Response and remission rules in words (``None`` when the scale defines none).
    endpoint : str
        Endpoint visit (the primary's).
    ancova : Estimate or None
        Baseline-adjusted difference in reduction, experimental minus control, complete cases
        (``None`` for CGI-I, or with fewer than 2 rated participants per arm; see ``notes``).
    response, remission : BinaryComparison or None
        Complete cases at the endpoint.
    itt_response, itt_remission : BinaryComparison or None
        Every randomized participant; not rated at the endpoint (or at baseline) = failure.
    descriptives : dict
        Per arm and visit: ``n``, ``mean``, ``sd`` of the total.
    left_out : int
        Ratings outside every visit window (or a second rating in one window).
    notes : tuple of str
        Participants left out and analyses that could not be run, and why.
    """

    scale: str
    name: str
    citation: str
    rules: dict[str, str | None]
    endpoint: str
    ancova: Estimate | None
    response: BinaryComparison | None
    remission: BinaryComparison | None
    itt_response: BinaryComparison | None
    itt_remission: BinaryComparison | None
    descriptives: dict[str, dict[str, dict[str, float]]]
    left_out: int = 0
    notes: tuple[str, ...] = ()


def _check_scale(scale: Scale) -> None:
    if scale.key not in ENDPOINT_SCALES:
        raise InputError(
            f"--secondary {scale.key}: not an efficacy endpoint here — choose one of: "
            f"{', '.join(ENDPOINT_SCALES)} (report C-SSRS items with 'tmstarget scale')"
        )


def _rating_day(
    trial: TrialTable, rating: ScaleAssessment, participant: str, source: str
) -> float | None:
    """Return the rating's own day, else that of the trial-table assessment with the same label."""
    if rating.day is not None or not trial.dated:
        return rating.day
    listing = trial.assessments
    same = listing.loc[
        (listing["participant_id"] == participant)
        & (listing["nominal_timepoint"] == rating.timepoint),
        "day",
    ].dropna()
    if same.empty:
        raise InputError(
            f"{source} line {rating.line}: no day for "
            f"{rating.participant}/{rating.timepoint} and "
            "no trial-table assessment "
            "with that label to take it from — add a 'day' column (same clock as the trial table)"
        )
    return float(same.iloc[0])


def _rating_rows(
    trial: TrialTable, ratings: Sequence[ScaleAssessment], source: str
) -> pd.DataFrame:
    """Return one row per rating, with the participant's details from the trial table.

    Each row holds the trial's participant id, ``timepoint``, ``total``, the participant's arm,
    strata, sessions and last session day from the trial table, and (dated trials) the rating's
    ``day``.
    """
    info = trial.frame.groupby("participant_id", sort=True).first()
    ids = {participant_label(p): p for p in info.index}
    keep = [
        "arm",
        *trial.strata,
        *[c for c in ("last_session_day", "sessions_received") if c in info.columns],
    ]
    rows = []
    for r in ratings:
        label = participant_label(r.participant, f"{source} line {r.line}: participant")
        pid = ids.get(label)
        if pid is None:
            near = [
                p for lab, p in ids.items() if lab.lower().lstrip("0") == label.lower().lstrip("0")
            ]
            hint = (
                f" (the trial table has {near[0]}: spell the id the same way in both tables)"
                if near
                else ""
            )
            raise InputError(
                f"{source} line {r.line}: participant {r.participant} "
                f"is not in the trial table{hint} — "
                "rate only randomised participants, or add them to the trial table"
            )
        row = {
            "participant_id": pid,
            "timepoint": r.timepoint,
            "total": float(r.total),
            **info.loc[pid, keep].to_dict(),
        }
        if trial.dated:
            row["day"] = _rating_day(trial, r, pid, source)
        rows.append(row)
    return pd.DataFrame(rows)


def scale_trial_table(
    trial: TrialTable, ratings: Sequence[ScaleAssessment], scale: Scale, source: str = "scale table"
) -> tuple[TrialTable, tuple[str, ...]]:
    """Return the ratings as a trial table with the trial's arms, strata and visit windows.

    The scale's total is the score.

    Parameters
    ----------
    trial : TrialTable
        The validated primary trial table.
    ratings : sequence of ScaleAssessment
        One scale's ratings, from :func:`tmstarget.outcomes.scales.parse_scale_table`.
    scale : Scale
        A scale with a baseline (``tmstarget.outcomes.scales.SCALES[key]`` for a key of
        :data:`ENDPOINT_SCALES` other than ``cgi_i``).
    source : str
        Name of the ratings file in messages.

    Returns
    -------
    (TrialTable, tuple of str)
        The table, and notes naming participants left out for lack of a baseline rating.

    Raises
    ------
    InputError
        A rated participant absent from the trial table, a rating without a day in a dated trial, or
        ratings from one arm only.
    """
    _check_scale(scale)
    if scale.key == "cgi_i":
        raise InputError(
            f"{source}: CGI-I has no baseline rating — analyse "
            "it with scale_endpoint (response only)"
        )
    frame = _rating_rows(trial, ratings, source)
    frame["madrs_total"] = frame.pop("total").map(str)
    has_base = set(frame.loc[frame["timepoint"] == trial.baseline, "participant_id"])
    lacking = sorted(set(frame["participant_id"]) - has_base)
    notes = (
        (
            f"{scale.name}: no {trial.baseline!r} rating for "
            f"{', '.join(lacking)} — left out of the {scale.name} "
            "analyses (failures in its intention-to-treat response and remission)",
        )
        if lacking
        else ()
    )
    frame = frame.loc[frame["participant_id"].isin(has_base)]
    if frame["arm"].nunique() < 2:
        raise InputError(
            f"{source}: {scale.name} baseline ratings from "
            f"{frame['arm'].nunique()} arm(s) only — rate "
            "participants of both arms"
        )
    order = None
    if not trial.dated:
        order = [t for t in trial.timepoints if t in set(frame["timepoint"])]
        order += [t for t in dict.fromkeys(frame["timepoint"]) if t not in order]
    return validate_trial_table(
        frame, trial.baseline, order, trial.experimental, trial.schedule
    ), notes


def scale_endpoint(
    trial: TrialTable,
    ratings: Sequence[ScaleAssessment],
    scale: Scale,
    endpoint: str,
    itt: Sequence[str],
    confidence: float = 0.95,
    source: str = "scale table",
) -> ScaleEndpoint:
    """Analyse one scale at the primary endpoint visit (see the module docstring for the rules).

    Parameters
    ----------
    trial : TrialTable
        The validated primary trial table.
    ratings : sequence of ScaleAssessment
        The scale's ratings.
    scale : Scale
        A scale of :data:`ENDPOINT_SCALES` (``tmstarget.outcomes.scales.SCALES[key]``).
    endpoint : str
        The primary endpoint visit.
    itt : sequence of str
        The intention-to-treat set (participant ids of the trial table): the denominators of the ITT
        rates.
    confidence : float
        Confidence level of every interval.
    source : str
        Name of the ratings file in messages.

    Returns
    -------
    ScaleEndpoint
    """
    if scale.key == "cgi_i":
        return _change_rating_endpoint(trial, ratings, scale, endpoint, itt, confidence, source)
    table, notes = scale_trial_table(trial, ratings, scale, source)
    notes = list(notes)
    left_out = (
        0
        if table.assessments is None
        else int((~table.assessments["visit_status"].isin(["baseline", "in_window"])).sum())
    )
    est = resp = rem = itt_resp = itt_rem = None
    if endpoint not in table.timepoints:
        notes.append(
            f"{scale.name}: no rating in the {endpoint!r} "
            "window — nothing to analyse at the endpoint"
        )
    else:
        try:
            est = ancova(table, endpoint, confidence, method=f"ancova_{scale.key}")
        except InputError as exc:
            notes.append(f"{scale.name} ANCOVA not run: {exc}")
        if scale.response_fraction is not None and scale.remission_max is not None:
            resp, rem = response_and_remission(
                table, endpoint, scale.response_fraction, scale.remission_max, confidence
            )
            itt_resp, itt_rem = (_as_itt(b, trial, itt) for b in (resp, rem))
    return ScaleEndpoint(
        scale.key,
        scale.name,
        scale.citation,
        scale.rules(),
        endpoint,
        est,
        resp,
        rem,
        itt_resp,
        itt_rem,
        arm_visit_summary(table.frame, "madrs_total", table.arms, table.timepoints),
        left_out,
        tuple(notes),
    )


def _itt_sizes(trial: TrialTable, itt: Sequence[str]) -> list[int]:
    arm = trial.participants()["arm"]
    return [int(arm.loc[arm.index.isin(set(itt))].eq(a).sum()) for a in trial.arms]


def _as_itt(cc: BinaryComparison, trial: TrialTable, itt: Sequence[str]) -> BinaryComparison:
    """Return the same events over every participant of the ITT set.

    Participants not rated count as failures.
    """
    n = _itt_sizes(trial, itt)
    return compare_proportions(
        cc.outcome, cc.events_experimental, n[0], cc.events_control, n[1], cc.confidence
    )


def _change_rating_endpoint(
    trial: TrialTable,
    ratings: Sequence[ScaleAssessment],
    scale: Scale,
    endpoint: str,
    itt: Sequence[str],
    confidence: float,
    source: str,
) -> ScaleEndpoint:
    """CGI-I endpoint: follow-up ratings placed in the trial's windows.

    Response is a rating <= ``scale.response_max``.
    """
    rows = _rating_rows(trial, ratings, source)
    left_out = 0
    if trial.dated:
        rows = assign_visits(rows, trial.schedule, trial.baseline)
        placed = rows["visit_status"].isin([IN_WINDOW, NOMINAL])
        left_out = int((~placed & (rows["visit_status"] != BASELINE)).sum())
        rows = rows.loc[placed].assign(timepoint=lambda r: r["visit"].astype(str))
    rows = rows.loc[rows["timepoint"] != trial.baseline]
    visits = [t for t in trial.timepoints if t in set(rows["timepoint"])]
    visits += [t for t in dict.fromkeys(rows["timepoint"]) if t not in visits]
    descriptives = arm_visit_summary(rows, "total", trial.arms, visits)
    at_end = rows.loc[rows["timepoint"] == endpoint]
    events = [
        int(at_end.loc[at_end["arm"] == a, "total"].le(scale.response_max).sum())
        for a in trial.arms
    ]
    rated = [int((at_end["arm"] == a).sum()) for a in trial.arms]
    n_itt = _itt_sizes(trial, itt)
    itt_resp = compare_proportions("response", events[0], n_itt[0], events[1], n_itt[1], confidence)
    notes, resp = [], None
    if min(rated) > 0:
        resp = compare_proportions("response", events[0], rated[0], events[1], rated[1], confidence)
    else:
        notes.append(
            f"{scale.name}: an arm has no rating in the {endpoint!r} "
            "window — complete-case response not estimable"
        )
    notes.append(f"{scale.name} rates change itself (no baseline): response only, no ANCOVA")
    return ScaleEndpoint(
        scale.key,
        scale.name,
        scale.citation,
        scale.rules(),
        endpoint,
        None,
        resp,
        None,
        itt_resp,
        None,
        descriptives,
        left_out,
        tuple(notes),
    )
