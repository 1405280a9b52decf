"""Visit schedule: target days and windows counted from the last treatment session.

A follow-up assessment belongs to a visit when the number of days between the participant's last
treatment session and the assessment falls inside that visit's window, e.g. the 1-month visit is day
28 ± 3 after the last session. Baseline is the assessment labelled as such (before the first
session).

Assignment rules, applied per participant:

* ``offset = day - last_session_day`` (both in days on the same clock, e.g. days since
  randomization);
* the assessment goes to the visit whose window ``[target - before, target + after]`` contains the
  offset (windows must not overlap, nor reach a neighbouring visit's target day, so there is at most
  one);
* an assessment is never re-labelled across visits: one labelled with the name of a scheduled visit
  (e.g. ``week1``) counts only at that visit, whatever window its day falls in; only assessments
  with labels that name no visit (e.g. ``followup2``) are placed by window alone. A label that names
  a visit of the default schedule missing from a custom one is refused (add the visit, or relabel);
* an assessment in no window is **out of window**: kept in the listing, left out of every analysis;
* when two assessments fall in one visit's window, the one closest to the target day is used (the
  earlier one on a tie); the other is marked **extra** and left out.

Without day columns every assessment is taken at its nominal visit (the ``timepoint`` label).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .exceptions import InputError

__all__ = [
    "DEFAULT_ENDPOINT",
    "DEFAULT_SCHEDULE",
    "Visit",
    "VisitSchedule",
    "assign_visits",
    "parse_visit",
]

#: The primary endpoint of the seed trial: MADRS one month after treatment.
DEFAULT_ENDPOINT = "month1"

#: Status of an assessment after window assignment.
IN_WINDOW, OUT_OF_WINDOW, EXTRA, NOMINAL, MISSED, BASELINE = (
    "in_window",
    "out_of_window",
    "extra",
    "nominal",
    "missed",
    "baseline",
)


@dataclass(frozen=True)
class Visit:
    """A scheduled follow-up visit.

    Attributes
    ----------
    name : str
        Label used in the tables, e.g. ``month1``.
    target_day : float
        Days after the last treatment session (0 = the day of the last session).
    before, after : float
        Window half-widths (days): the visit accepts offsets in ``[target_day - before, target_day +
        after]``.
    """

    name: str
    target_day: float
    before: float
    after: float

    @property
    def low(self) -> float:
        """First day of the window (days after the last session)."""
        return self.target_day - self.before

    @property
    def high(self) -> float:
        """Last day of the window (days after the last session)."""
        return self.target_day + self.after

    def spec(self) -> str:
        """Return the ``--visit`` text of this visit.

        For example ``month1:28:3`` or ``end_of_treatment:0:0:3``.
        """
        widths = (
            f"{self.before:g}" if self.before == self.after else f"{self.before:g}:{self.after:g}"
        )
        return f"{self.name}:{self.target_day:g}:{widths}"

    def describe(self) -> str:
        """E.g. ``month1: day 28 (25 to 31) after the last session``."""
        return (
            f"{self.name}: day {self.target_day:g} ({self.low:g} "
            f"to {self.high:g}) after the last session"
        )


@dataclass(frozen=True)
class VisitSchedule:
    """Follow-up visits in time order (windows may not overlap)."""

    visits: tuple[Visit, ...]

    def __post_init__(self) -> None:
        names = [v.name for v in self.visits]
        if not names:
            raise InputError(
                "the visit schedule is empty — give at least "
                "one --visit NAME:DAY:WINDOW, e.g. month1:28:3"
            )
        if len(set(names)) != len(names):
            raise InputError(f"visit names {names} repeat — give each visit once")
        for v in self.visits:
            if not (v.before >= 0 and v.after >= 0):
                raise InputError(
                    f"visit {v.name}: window {v.before:g} before "
                    f"and {v.after:g} after the target day — "
                    "give non-negative widths, e.g. month1:28:3"
                )
        ordered = sorted(self.visits, key=lambda v: (v.target_day, v.low))
        for a, b in zip(ordered, ordered[1:]):
            _check_apart(a, b)
        object.__setattr__(self, "visits", tuple(ordered))

    @property
    def names(self) -> tuple[str, ...]:
        """Visit names in time order."""
        return tuple(v.name for v in self.visits)

    def get(self, name: str) -> Visit | None:
        """Return the visit called ``name`` (``None`` if absent)."""
        return next((v for v in self.visits if v.name == name), None)

    def to_dict(self) -> list[dict[str, float | str]]:
        """JSON-ready list of visits."""
        return [
            {"name": v.name, "target_day": v.target_day, "window_low": v.low, "window_high": v.high}
            for v in self.visits
        ]


def _check_apart(a: Visit, b: Visit, note: str = "") -> None:
    """Refuse neighbouring visits whose windows overlap or reach the other's target day.

    ``a`` comes before ``b``.
    """
    if b.low > a.high and a.high < b.target_day and b.low > a.target_day:
        return
    if a.high >= b.target_day:
        what = (
            f"{a.name}'s window ({a.low:g} to {a.high:g} days "
            f"after the last session) reaches {b.name}'s target "
            f"day {b.target_day:g}"
        )
    elif b.low <= a.target_day:
        what = (
            f"{b.name}'s window ({b.low:g} to {b.high:g} days "
            f"after the last session) reaches {a.name}'s target "
            f"day {a.target_day:g}"
        )
    else:
        what = (
            f"the windows of {a.name} ({a.low:g} to {a.high:g} "
            f"days after the last session) and {b.name} "
            f"({b.low:g} to {b.high:g}) overlap"
        )
    defaults = [DEFAULT_VISITS.get(v.name) for v in (a, b)]
    example = (
        f" (the defaults are --visit {defaults[0].spec()} --visit {defaults[1].spec()})"
        if all(defaults)
        else f" (e.g. half-widths below {(b.target_day - a.target_day) / 2:g} days)"
    )
    raise InputError(
        f"visit windows overlap: {what}{note}, so an assessment "
        "could count at either visit — narrow them so that "
        f"{a.name}'s window ends before {b.name}'s begins{example}"
    )


#: Default schedule: end of treatment (days 0-3 after the last session), 1 week (7 ± 2), 1 month
#: (28 ± 3),
#: 3 months (84 ± 7). Change it with ``--visit NAME:DAY:WINDOW`` (repeatable; replaces the
#: defaults).
DEFAULT_SCHEDULE = VisitSchedule(
    (
        Visit("end_of_treatment", 0.0, 0.0, 3.0),
        Visit("week1", 7.0, 2.0, 2.0),
        Visit("month1", 28.0, 3.0, 3.0),
        Visit("month3", 84.0, 7.0, 7.0),
    )
)

#: The default visits by name (they also name the labels a custom schedule must account for).
DEFAULT_VISITS = {v.name: v for v in DEFAULT_SCHEDULE.visits}

_SPEC = re.compile(
    r"^\s*([A-Za-z][\w.-]*)\s*:\s*(-?\d+(?:\.\d+)?)\s*:\s*(\d+(?:\.\d+)?)(?:\s*:\s*(\d+(?:\.\d+)?))?\s*$"
)


def parse_visit(spec: str) -> Visit:
    """Parse ``NAME:DAY:WINDOW`` (symmetric) or ``NAME:DAY:BEFORE:AFTER``.

    Parameters
    ----------
    spec : str
        E.g. ``month1:28:3`` (day 28 ± 3 after the last session) or ``end_of_treatment:0:0:3``.

    Returns
    -------
    Visit

    Raises
    ------
    InputError
        When the text does not follow the pattern.
    """
    m = _SPEC.match(spec)
    if not m:
        raise InputError(
            f"--visit {spec!r} — use NAME:DAY:WINDOW or NAME:DAY:BEFORE:AFTER, e.g. month1:28:3"
        )
    name, day, before, after = m.group(1), float(m.group(2)), float(m.group(3)), m.group(4)
    return Visit(name, day, before, float(after) if after is not None else before)


def _check_labels(rows: pd.DataFrame, schedule: VisitSchedule) -> None:
    """Refuse dated assessments labelled with a default visit that ``schedule`` lacks.

    They could be counted elsewhere.
    """
    labels = rows["timepoint"].astype(str)
    for label in dict.fromkeys(labels):
        known = DEFAULT_VISITS.get(label)
        if known is None or label in schedule.names:
            continue
        note = f" (the table has {label} assessments)"
        for v in schedule.visits:
            a, b = sorted((v, known), key=lambda x: (x.target_day, x.low))
            _check_apart(a, b, note)
        who = ", ".join(
            list(dict.fromkeys(rows.loc[labels == label, "participant_id"].astype(str)))[:3]
        )
        raise InputError(
            f"the table has {label} assessments (e.g. {who}) "
            f"but the visit schedule ({', '.join(schedule.names)}) "
            "has no "
            f"{label} visit — add --visit {known.spec()} (the "
            "default), or relabel those rows; an assessment "
            "never counts at "
            "another visit"
        )


def _choose(group: pd.DataFrame, visit: Visit) -> pd.Index:
    """Index of the assessment closest to the target day (earlier on a tie)."""
    distance = (group["offset_days"] - visit.target_day).abs()
    return group.assign(_d=distance).sort_values(["_d", "offset_days"], kind="stable").index[:1]


def assign_visits(
    frame: pd.DataFrame,
    schedule: VisitSchedule,
    baseline: str,
    has_score: Sequence[bool] | None = None,
) -> pd.DataFrame:
    """Assign each assessment to a visit by its days after the participant's last treatment session.

    Parameters
    ----------
    frame : pandas.DataFrame
        ``participant_id``, ``timepoint`` (nominal label), ``day`` and ``last_session_day`` (floats;
        NaN day = a missed visit, which keeps its nominal label). Not modified.
    schedule : VisitSchedule
        Visits and windows.
    baseline : str
        Label of the baseline assessment (assigned to ``baseline`` whatever its day).
    has_score : sequence of bool, optional
        Rows that carry a score; a row without one never displaces a scored row in the same window.

    Returns
    -------
    pandas.DataFrame
        ``frame`` plus ``offset_days``, ``visit`` (assigned visit name, or ``None``) and
        ``visit_status`` (``baseline``, ``in_window``, ``out_of_window``, ``extra``, ``nominal`` —
        no day, taken at its label — or ``missed`` — no day and no score).
    """
    out = frame.copy()
    out["offset_days"] = out["day"] - out["last_session_day"]
    out["visit"] = pd.Series([None] * len(out), index=out.index, dtype=object)
    out["visit_status"] = OUT_OF_WINDOW
    is_base = out["timepoint"] == baseline
    out.loc[is_base, ["visit", "visit_status"]] = [baseline, BASELINE]
    undated = ~is_base & out["day"].isna()
    out.loc[undated, "visit"] = out.loc[undated, "timepoint"]
    out.loc[undated, "visit_status"] = NOMINAL
    scored = pd.Series(True if has_score is None else np.asarray(has_score, bool), index=out.index)
    out.loc[undated & ~scored, "visit_status"] = MISSED
    dated = ~is_base & ~undated
    labels = out["timepoint"].astype(str)
    _check_labels(out.loc[dated], schedule)
    for visit in schedule.visits:
        # Never across visits: a row labelled with another scheduled visit's name does not count
        # here.
        own = (labels == visit.name) | ~labels.isin(schedule.names)
        inside = dated & own & out["offset_days"].between(visit.low, visit.high)
        out.loc[inside, "visit"] = visit.name
        out.loc[inside, "visit_status"] = EXTRA
        for _, group in out.loc[inside].groupby("participant_id", sort=False):
            preferred = group.loc[scored[group.index]] if scored[group.index].any() else group
            out.loc[_choose(preferred, visit), "visit_status"] = IN_WINDOW
    return out
