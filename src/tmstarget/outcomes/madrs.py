"""MADRS scores: validation, totals, change from baseline, response and remission.

The Montgomery-Åsberg Depression Rating Scale (Montgomery & Åsberg 1979, Br J Psychiatry
134:382-389) has 10 items scored 0-6, so totals run 0-60. Definitions used here, the same every
time:

* change = total - baseline total; percent change = 100 * change / baseline total
* response = reduction of at least 50% from baseline (``2 * (baseline - total) >= baseline``, exact)
* remission = total <= threshold (default 10, i.e. "< 11" as in Cole et al. 2020); the threshold is
  configurable and always reported with the results.
* item 10 (suicidal thoughts) >= 4 is flagged for clinical attention: from 4 upwards the anchors
  describe suicide considered as a possible solution, up to explicit plans (Montgomery & Åsberg
  1979). Needs item scores.

Input is a table with one row per participant and timepoint: a ``timepoint`` column, optional
``participant`` and ``day`` columns, and either the ten item columns (``item1``..``item10``;
``madrs_01`` and similar spellings are accepted) or a ``total`` column.

The endpoint is a **named visit**, never "the last row": either the assessment labelled ``endpoint``
(e.g. ``month1``), or — given the day of the last treatment session — the assessment whose day falls
in that visit's window after the last session (closest to the target day; see
:mod:`tmstarget.visits`). A participant without one is *not assessed* at the endpoint, and counts
as a non-responder and non-remitter in the summary (intention to treat).
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass
from typing import Any

from .._utils.ids import participant_column, participant_label
from ..exceptions import InputError
from ..visits import DEFAULT_SCHEDULE, VisitSchedule

__all__ = [
    "DEFAULT_REMISSION_THRESHOLD",
    "ITEM_MAX",
    "SUICIDAL_ITEM_FLAG",
    "N_ITEMS",
    "TOTAL_MAX",
    "MadrsAssessment",
    "MadrsOutcome",
    "ParticipantOutcomes",
    "endpoint_summary",
    "madrs_outcomes",
    "parse_madrs_table",
    "score_problem",
]

N_ITEMS = 10
ITEM_MAX = 6
TOTAL_MAX = N_ITEMS * ITEM_MAX
from .defaults import DEFAULT_REMISSION_THRESHOLD  # noqa: E402,F401 - defined in the import-free leaf

#: MADRS item 10 (suicidal thoughts) at or above this is flagged for clinical attention.
SUICIDAL_ITEM_FLAG = 4
_ITEM_RE = re.compile(r"^(?:item|madrs)[ _-]?0*(\d+)$")


@dataclass(frozen=True)
class MadrsAssessment:
    """One validated assessment (a row of the input)."""

    participant: str
    timepoint: str
    total: int
    items: tuple[int, ...] | None
    day: float | None
    line: int


@dataclass(frozen=True)
class MadrsOutcome:
    """One assessment compared with its participant's baseline."""

    timepoint: str
    day: float | None
    total: int
    change: int
    pct_change: float | None
    response: bool | None
    remission: bool
    item10: int | None = None

    @property
    def clinical_attention(self) -> bool:
        """MADRS item 10 (suicidal thoughts) at or above :data:`SUICIDAL_ITEM_FLAG`."""
        return self.item10 is not None and self.item10 >= SUICIDAL_ITEM_FLAG

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (percent change rounded to 0.1)."""
        return {
            "item10_suicidal_thoughts": self.item10,
            "clinical_attention": self.clinical_attention,
            "timepoint": self.timepoint,
            "day": self.day,
            "total": self.total,
            "change": self.change,
            "pct_change": None if self.pct_change is None else round(self.pct_change, 1),
            "response": self.response,
            "remission": self.remission,
        }


@dataclass(frozen=True)
class ParticipantOutcomes:
    """A participant's trajectory and, if an endpoint visit was named, the endpoint assessment."""

    participant: str
    baseline_total: int
    outcomes: tuple[MadrsOutcome, ...]
    endpoint_timepoint: str | None = None

    @property
    def endpoint(self) -> MadrsOutcome | None:
        """The assessment at the endpoint visit, or ``None``.

        It is ``None`` when the participant was not assessed there or no endpoint was named.
        """
        return next((o for o in self.outcomes if o.timepoint == self.endpoint_timepoint), None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        end = self.endpoint
        return {
            "participant": self.participant,
            "baseline_total": self.baseline_total,
            "timepoints": [o.to_dict() for o in self.outcomes],
            "endpoint_timepoint": self.endpoint_timepoint,
            "endpoint": None if end is None else end.to_dict(),
        }


class _Cells:
    """Reads typed cells from one row; errors name the source, line, participant and timepoint."""

    def __init__(self, source: str, line: int, where: str) -> None:
        self.source, self.line, self.where = source, line, where

    def error(self, what: str, fix: str) -> InputError:
        return InputError(f"{self.source} line {self.line}{self.where}: {what} — {fix}")

    def score(self, column: str, raw: str, maximum: int, scale: str, minimum: int = 0) -> int:
        raw = raw.strip()
        if not raw or raw.lower() in ("na", "n/a", "nan"):
            raise self.error(
                f"{column} is empty",
                "every item is needed for a total (no prorating); fill it in or remove the row",
            )
        problem = score_problem(raw, maximum, minimum)
        if problem == NOT_A_NUMBER:
            raise self.error(
                f"{column} = {raw!r} {problem}", f"{scale} are whole numbers {minimum}-{maximum}"
            )
        if problem == NOT_WHOLE:
            raise self.error(
                f"{column} = {raw} {problem}", f"{scale} are whole numbers {minimum}-{maximum}"
            )
        if problem is not None:
            raise self.error(
                f"{column} = {raw} {problem}",
                f"{scale} are scored {minimum} to {maximum}; correct the value",
            )
        return int(float(raw))


NOT_A_NUMBER, NOT_WHOLE = "is not a number", "is not a whole number"


def score_problem(raw: str, maximum: int = TOTAL_MAX, minimum: int = 0) -> str | None:
    """Why ``raw`` is not a valid rating-scale score, or ``None`` when it is one.

    The one rule for MADRS totals (whole numbers 0-60) and items (0-6), shared by the ``madrs``
    reader (:func:`parse_madrs_table`) and the trial table
    (:func:`tmstarget.trial.validate_trial_table`): a finite whole number (``23`` or ``23.0``)
    within ``minimum``-``maximum``.

    Returns
    -------
    str or None
        ``"is not a number"``, ``"is not a whole number"`` or ``"is outside MIN-MAX"``.
    """
    text = str(raw).strip()
    try:
        value = float(text) if "_" not in text else math.nan  # float() would read 1_0 as 10
    except ValueError:
        return NOT_A_NUMBER
    if not math.isfinite(value):
        return NOT_A_NUMBER
    if not value.is_integer():
        return NOT_WHOLE
    if not minimum <= value <= maximum:
        return f"is outside {minimum}-{maximum}"
    return None


def _columns(header: list[str], source: str) -> tuple[dict[int, str], str | None, str | None]:
    """Map item numbers to column names; find the participant and total columns."""
    if "timepoint" not in header:
        raise InputError(
            f"{source}: no 'timepoint' column (found: {', '.join(header) or 'nothing'}) — "
            "add a 'timepoint' column naming each assessment, e.g. baseline, day5, week4"
        )
    items: dict[int, str] = {}
    for col in header:
        m = _ITEM_RE.match(col)
        if m:
            items[int(m.group(1))] = col
    participant = participant_column(header)
    total = "total" if "total" in header else None
    if items:
        missing = [str(i) for i in range(1, N_ITEMS + 1) if i not in items]
        extra = [items[i] for i in items if not 1 <= i <= N_ITEMS]
        if missing or extra:
            problem = (
                f"item column(s) {', '.join(missing)} missing"
                if missing
                else f"unexpected item column(s) {', '.join(extra)}"
            )
            raise InputError(
                f"{source}: {problem} — the MADRS has {N_ITEMS} items (item1..item10); "
                "give all ten, or only a 'total' column"
            )
    elif total is None:
        raise InputError(
            f"{source}: no item or total columns — add item1..item10 "
            f"(scored 0-{ITEM_MAX}) or a 'total' column"
        )
    return items, participant, total


def parse_madrs_table(
    text: str, *, source: str = "MADRS table", delimiter: str = "\t"
) -> tuple[MadrsAssessment, ...]:
    """Parse and validate MADRS assessments.

    Parameters
    ----------
    text : str
        Tab-separated table with a header row (see the module docstring for the columns).
    source : str
        Name used in error messages (e.g. the file name).
    delimiter : str
        Field separator (tab by default).

    Returns
    -------
    tuple of MadrsAssessment
        One per row, in file order.

    Raises
    ------
    InputError
        For missing columns, empty/non-integer/out-of-range items (0-6) or totals (0-60), a total
        that disagrees with its items, a non-numeric day, or a timepoint given twice for one
        participant.
    """
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows = [(n, r) for n, r in enumerate(reader, start=1) if any(c.strip() for c in r)]
    if not rows:
        raise InputError(
            f"{source}: the table is empty — add a header row and one row per assessment"
        )
    header = [h.strip().lower() for h in rows[0][1]]
    items, participant_col, total_col = _columns(header, source)
    seen: dict[tuple[str, str], int] = {}
    out: list[MadrsAssessment] = []
    for line, raw in rows[1:]:
        row = dict(zip(header, (c.strip() for c in raw), strict=False))
        participant = row.get(participant_col, "") if participant_col else "01"
        timepoint = row.get("timepoint", "")
        cells = _Cells(
            source, line, f" (participant {participant or '?'}, timepoint {timepoint or '?'})"
        )
        if not participant or not timepoint:
            raise cells.error("participant or timepoint is empty", "name both for every assessment")
        key = (
            participant_label(participant, f"{source} line {line}: participant"),
            timepoint,
        )  # 01 and sub-01 are one person
        if key in seen:
            raise InputError(
                f"{source} lines {seen[key]} and {line}: participant "
                f"{participant} has timepoint {timepoint!r} "
                "twice — "
                "give each timepoint once per participant (rename or remove one)"
            )
        seen[key] = line
        scores = None
        if items:
            scores = tuple(
                cells.score(items[i], row.get(items[i], ""), ITEM_MAX, "MADRS items")
                for i in sorted(items)
            )
        total = sum(scores) if scores is not None else None
        if total_col and row.get(total_col, ""):
            given = cells.score(total_col, row[total_col], TOTAL_MAX, "MADRS totals")
            if total is not None and given != total:
                raise cells.error(
                    f"total {given} differs from the sum of the items ({total})",
                    "correct the items or the total",
                )
            total = given
        elif total is None:
            raise cells.error("total is empty", f"give the total (0-{TOTAL_MAX}) or the ten items")
        day = _day(cells, row.get("day", "")) if "day" in header else None
        out.append(MadrsAssessment(participant, timepoint, total, scores, day, line))
    if not out:
        raise InputError(
            f"{source}: no assessments below the header — add one row per participant and timepoint"
        )
    return tuple(out)


def _day(cells: _Cells, raw: str) -> float | None:
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise cells.error(
            f"day = {raw!r} is not a number", "give days since baseline, e.g. 0, 5, 28"
        ) from None
    if not math.isfinite(value):
        raise cells.error(f"day = {raw!r} is not finite", "give days since baseline, e.g. 0, 5, 28")
    return value


def _outcome(a: MadrsAssessment, baseline: int, threshold: int) -> MadrsOutcome:
    change = a.total - baseline
    if baseline == 0:
        pct, response = None, None
    else:
        pct, response = 100.0 * change / baseline, 2 * (baseline - a.total) >= baseline
    item10 = a.items[9] if a.items is not None else None
    return MadrsOutcome(
        a.timepoint, a.day, a.total, change, pct, response, a.total <= threshold, item10
    )


def madrs_outcomes(
    assessments: tuple[MadrsAssessment, ...] | list[MadrsAssessment],
    *,
    baseline: str = "baseline",
    remission_threshold: int = DEFAULT_REMISSION_THRESHOLD,
    source: str = "MADRS table",
    endpoint: str | None = None,
    last_session_day: float | None = None,
    schedule: VisitSchedule | None = None,
) -> tuple[ParticipantOutcomes, ...]:
    """Change from baseline, percent change, response and remission for every participant.

    Parameters
    ----------
    assessments : sequence of MadrsAssessment
        Validated rows (see :func:`parse_madrs_table`).
    baseline : str
        Timepoint label of the baseline assessment.
    remission_threshold : int
        Remission is ``total <= remission_threshold`` (default 10).
    source : str
        Name used in error messages.
    endpoint : str, optional
        Endpoint visit name (e.g. ``month1``). Without ``last_session_day`` it is the timepoint
        label.
    last_session_day : float, optional
        Day of the last treatment session (same clock as ``day``): the endpoint is then the
        assessment in the window of visit ``endpoint`` of ``schedule``, closest to its target day.
    schedule : VisitSchedule, optional
        Visit windows (default :data:`tmstarget.visits.DEFAULT_SCHEDULE`).

    Returns
    -------
    tuple of ParticipantOutcomes
        In order of first appearance, participants matched by BIDS label (``01`` and ``sub-01`` are
        one person, named as first written); each participant's timepoints ordered by day when every
        row has one, else in file order. Percent change and response are ``None`` when the baseline
        total is 0.

    Raises
    ------
    InputError
        When a participant has no baseline row or the threshold is outside 0-60; when
        ``last_session_day`` is not a finite number or lies before a participant's baseline; when no
        participant has an assessment in the endpoint visit's window (every one would be "not
        assessed": a wrong day or schedule, not a result); when the endpoint visit's window ends
        before the last session.
    """
    if isinstance(remission_threshold, bool) or not (
        float(remission_threshold).is_integer() and 0 <= remission_threshold <= TOTAL_MAX
    ):
        raise InputError(
            f"remission threshold {remission_threshold!r} is not a whole number in 0-{TOTAL_MAX} — "
            "e.g. 10 (remission = total <= 10)"
        )
    threshold = int(remission_threshold)
    if last_session_day is not None and (
        isinstance(last_session_day, bool)
        or not isinstance(last_session_day, (int, float))
        or not math.isfinite(last_session_day)
    ):
        raise InputError(
            f"--last-session-day {last_session_day!r} is not "
            "a number of days — give the day of the last "
            "treatment "
            "session on the same clock as 'day', e.g. 4"
        )
    # One participant per BIDS label ("sub-01" and "01" are one person), shown as first written.
    groups: dict[str, list[MadrsAssessment]] = {}
    for a in assessments:
        groups.setdefault(
            participant_label(a.participant, f"{source} line {a.line}: participant"), []
        ).append(a)
    if not groups:
        raise InputError(f"{source}: no assessments — add one row per participant and timepoint")
    results = []
    for rows in groups.values():
        participant = rows[0].participant
        base = next((a for a in rows if a.timepoint == baseline), None)
        if base is None:
            found = ", ".join(a.timepoint for a in rows)
            raise InputError(
                f"{source}: participant {participant} has no "
                f"{baseline!r} timepoint (found: {found}) — "
                "add the baseline assessment or pass --baseline LABEL"
            )
        if last_session_day is not None and last_session_day < (
            base.day if base.day is not None else 0.0
        ):
            raise InputError(
                f"{source}: --last-session-day {last_session_day:g} "
                f"is before participant {participant}'s baseline "
                "(day "
                f"{base.day if base.day is not None else 0:g}) "
                "— treatment follows the baseline assessment; "
                "give the "
                "last session's day on the same clock as 'day' (days since baseline)"
            )
        if all(a.day is not None for a in rows):
            rows = sorted(rows, key=lambda a: a.day if a.day is not None else 0.0)
        outcomes = tuple(_outcome(a, base.total, threshold) for a in rows)
        chosen = _endpoint_label(rows, base, endpoint, last_session_day, schedule, source)
        results.append(ParticipantOutcomes(participant, base.total, outcomes, chosen))
    if (
        endpoint is not None
        and last_session_day is not None
        and all(r.endpoint_timepoint is None for r in results)
    ):
        _refuse_empty_window(
            assessments, baseline, endpoint, last_session_day, schedule or DEFAULT_SCHEDULE, source
        )
    return tuple(results)


def _refuse_empty_window(
    assessments: tuple[MadrsAssessment, ...] | list[MadrsAssessment],
    baseline: str,
    endpoint: str,
    last_session_day: float,
    schedule: VisitSchedule,
    source: str,
) -> None:
    """Refuse an endpoint window in which nobody has an assessment.

    An empty window means a wrong --last-session-day or --visit, not a result.
    """
    visit = schedule.get(endpoint)
    days = sorted(a.day for a in assessments if a.timepoint != baseline and a.day is not None)
    found = f"follow-up days {days[0]:g}-{days[-1]:g}" if days else "no follow-up days"
    window = (
        ""
        if visit is None
        else f", days {last_session_day + visit.low:g}-{last_session_day + visit.high:g}"
    )
    if days and last_session_day > days[-1]:
        why = f"--last-session-day {last_session_day:g} is after every assessment ({found})"
    else:
        why = (
            f"no assessment falls in the {endpoint} window{window} "
            f"after a last session on day {last_session_day:g} "
            f"({found})"
        )
    raise InputError(
        f"{source}: {why} — every participant would be 'not "
        "assessed'; check --last-session-day (days since "
        "baseline, "
        "same clock as 'day') and --endpoint/--visit"
    )


def _endpoint_label(
    rows: list[MadrsAssessment],
    base: MadrsAssessment,
    endpoint: str | None,
    last_session_day: float | None,
    schedule: VisitSchedule | None,
    source: str,
) -> str | None:
    """Return the timepoint label of the endpoint assessment (``None`` if not assessed)."""
    if endpoint is None or last_session_day is None:
        return endpoint
    visit = (schedule or DEFAULT_SCHEDULE).get(endpoint)
    if visit is None:
        names = ", ".join((schedule or DEFAULT_SCHEDULE).names)
        raise InputError(
            f"endpoint {endpoint!r} is not a scheduled visit "
            f"({names}) — pass --endpoint with one of them"
        )
    if visit.high < 0:
        raise InputError(
            f"endpoint visit {visit.describe()} ends before "
            "the last treatment session — an endpoint "
            "follows treatment; give it a day >= 0 (--visit NAME:DAY:WINDOW)"
        )
    inside = []
    for a in rows:
        if a is base:
            continue
        if a.day is None:
            raise InputError(
                f"{source} line {a.line}: no day for timepoint "
                f"{a.timepoint!r} — give every follow-up a "
                "day to place it in a visit window"
            )
        offset = a.day - last_session_day
        if visit.low <= offset <= visit.high:
            inside.append((abs(offset - visit.target_day), offset, a.timepoint))
    return min(inside)[2] if inside else None


def endpoint_summary(
    results: tuple[ParticipantOutcomes, ...],
    *,
    remission_threshold: int,
    endpoint: str | None = None,
) -> dict[str, Any]:
    """Responders and remitters at the named endpoint visit, with the rules used.

    Parameters
    ----------
    results : tuple of ParticipantOutcomes
        Output of :func:`madrs_outcomes` with an ``endpoint``.
    remission_threshold : int
        The threshold the results were computed with (reported, not re-applied).
    endpoint : str, optional
        Endpoint visit name to report (default: the participants' endpoint label).

    Returns
    -------
    dict
        ``endpoint``, ``n_participants``, ``n_assessed`` (at the endpoint), ``n_not_assessed``,
        ``n_responders``, ``n_remitters`` (participants not assessed count as neither),
        ``mean_pct_change`` (assessed participants with a non-zero baseline) and the rule texts.
    """
    ends = [r.endpoint for r in results if r.endpoint is not None]
    pcts = [e.pct_change for e in ends if e.pct_change is not None]
    labels = {r.endpoint_timepoint for r in results} - {None}
    return {
        "endpoint": endpoint
        if endpoint is not None
        else (results[0].endpoint_timepoint if results else None),
        "endpoint_timepoints": sorted(labels),
        "n_participants": len(results),
        "n_assessed": len(ends),
        "n_not_assessed": len(results) - len(ends),
        "n_responders": sum(1 for e in ends if e.response),
        "n_remitters": sum(1 for e in ends if e.remission),
        "mean_pct_change": round(sum(pcts) / len(pcts), 1) if pcts else None,
        "response_rule": ">= 50% reduction of the total from baseline",
        "remission_rule": f"total <= {remission_threshold}",
        "remission_threshold": remission_threshold,
        "missing_rule": "not assessed at the endpoint = non-responder and "
        "non-remitter (intention to treat)",
        "clinical_attention": [
            f"{r.participant}/{o.timepoint}"
            for r in results
            for o in r.outcomes
            if o.clinical_attention
        ],
        "clinical_attention_rule": f"MADRS item 10 (suicidal thoughts) >= {SUICIDAL_ITEM_FLAG}",
    }
