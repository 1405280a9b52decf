"""A delivered course against its plan: summary, adverse events and deviations from the session log.

:func:`summarize_course` counts what was delivered; :func:`check_course_log` compares the log with
the protocol and the safety rules and lists every deviation: missed and partial sessions, a rest
between sessions shorter than the protocol's (measured from the recorded end, or the start plus the
planned session length when no end was recorded), more sessions or pulses in a day than planned, a
stimulator setting other than the planned dose, late starts, every seizure (always serious, flagged
for a physician whatever was typed), and every session given after an adverse event whose action
stopped the course.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from ..exceptions import InputError
from .protocols import Protocol
from .sessionlog import STATUSES, AdverseEvent, SessionRecord

__all__ = ["CourseSummary", "Deviation", "check_course_log", "summarize_course"]


@dataclass(frozen=True)
class CourseSummary:
    """What a course delivered, from its session log."""

    sessions_planned: int
    sessions_delivered: int
    sessions_partial: int
    sessions_missed: int
    sessions_pending: int
    pulses_planned: int
    pulses_delivered: int
    days_treated: int
    missed_sessions: tuple[int, ...]
    partial_sessions: tuple[int, ...]
    adverse_events: tuple[AdverseEvent, ...]

    @property
    def pct_pulses_delivered(self) -> float:
        """Delivered pulses as % of planned pulses."""
        return 100.0 * self.pulses_delivered / self.pulses_planned

    @property
    def complete(self) -> bool:
        """True when every planned session was delivered in full."""
        return self.sessions_delivered == self.sessions_planned

    def text(self) -> str:
        """Return a one-paragraph statement of what was delivered."""
        parts = [
            f"Delivered {self.sessions_delivered} of {self.sessions_planned} "
            "planned sessions in full "
            f"({self.pulses_delivered:,} of {self.pulses_planned:,} "
            f"pulses, {self.pct_pulses_delivered:.1f}%) "
            f"over {self.days_treated} treatment day(s)."
        ]
        if self.partial_sessions:
            parts.append(f"Partial: {', '.join(f'#{s}' for s in self.partial_sessions)}.")
        if self.missed_sessions:
            parts.append(f"Missed: {', '.join(f'#{s}' for s in self.missed_sessions)}.")
        if self.sessions_pending:
            parts.append(f"Not yet recorded: {self.sessions_pending}.")
        if self.adverse_events:
            parts.append(
                "Adverse events: "
                + "; ".join(
                    f"#{e.session} {e.term} ({e.severity}, "
                    f"{e.relatedness}{', SERIOUS' if e.serious else ''}"
                    f"{', SEIZURE: physician review' if e.seizure else ''}"
                    f"{', course stopped' if e.action == 'course stopped' else ''})"
                    for e in self.adverse_events
                )
                + "."
            )
        else:
            parts.append("No adverse events recorded.")
        return " ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "sessions_planned": self.sessions_planned,
            "sessions_delivered": self.sessions_delivered,
            "sessions_partial": self.sessions_partial,
            "sessions_missed": self.sessions_missed,
            "sessions_pending": self.sessions_pending,
            "pulses_planned": self.pulses_planned,
            "pulses_delivered": self.pulses_delivered,
            "pct_pulses_delivered": round(self.pct_pulses_delivered, 1),
            "days_treated": self.days_treated,
            "complete": self.complete,
            "missed_sessions": list(self.missed_sessions),
            "partial_sessions": list(self.partial_sessions),
            "adverse_events": [e.to_dict() for e in self.adverse_events],
            "serious_adverse_events": sum(e.serious for e in self.adverse_events),
            "summary": self.text(),
        }


def _day_key(r: SessionRecord) -> object:
    """Return the calendar date a session was given (or planned), else its course day number."""
    when = r.delivered_start or r.planned_start
    return when.date() if when else r.day


def summarize_course(records: tuple[SessionRecord, ...] | list[SessionRecord]) -> CourseSummary:
    """Count what a course delivered.

    Parameters
    ----------
    records : sequence of SessionRecord
        The parsed log (see :func:`parse_session_log`).

    Returns
    -------
    CourseSummary
        Sessions delivered/partial/missed/pending, pulses delivered vs planned, treatment days,
        adverse events.
    """
    if not records:
        raise InputError("session log is empty — add one row per planned session")
    by_status = {s: [r for r in records if r.status == s] for s in STATUSES}
    given = by_status["delivered"] + by_status["partial"]
    delivered_pulses = sum(
        r.pulses_planned if r.pulses_delivered is None else r.pulses_delivered for r in given
    )
    days = {_day_key(r) for r in given}
    return CourseSummary(
        sessions_planned=len(records),
        sessions_delivered=len(by_status["delivered"]),
        sessions_partial=len(by_status["partial"]),
        sessions_missed=len(by_status["missed"]),
        sessions_pending=len(by_status["planned"]),
        pulses_planned=sum(r.pulses_planned for r in records),
        pulses_delivered=delivered_pulses,
        days_treated=len(days),
        missed_sessions=tuple(r.session for r in by_status["missed"]),
        partial_sessions=tuple(r.session for r in by_status["partial"]),
        adverse_events=tuple(r.event for r in records if r.event is not None),
    )


@dataclass(frozen=True)
class Deviation:
    """One difference between the delivered course and its plan or the safety rules.

    Attributes
    ----------
    session : int or None
        The session concerned (None for a whole day).
    kind : str
        ``missed``, ``partial``, ``short_gap``, ``sessions_per_day``, ``pulses_per_day``,
        ``setting``, ``late``, ``seizure`` (always a safety deviation, for a physician's review) and
        ``after_course_stopped`` (a session given after an adverse event whose action was ``course
        stopped``).
    detail : str
        One sentence naming the value and the limit.
    safety : bool
        True when a safety rule (not only the plan) was broken.
    """

    session: int | None
    kind: str
    detail: str
    safety: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "session": self.session,
            "kind": self.kind,
            "detail": self.detail,
            "safety": self.safety,
        }


def _given(records: list[SessionRecord] | tuple[SessionRecord, ...]) -> list[SessionRecord]:
    return [r for r in records if r.status in ("delivered", "partial")]


def _gap_deviations(given: list[SessionRecord], protocol: Protocol) -> list[Deviation]:
    """Rest between consecutive sessions on one calendar date, against the protocol's minimum."""
    timed = sorted(
        (r for r in given if r.delivered_start is not None), key=lambda r: r.delivered_start
    )
    planned_length = timedelta(seconds=protocol.session_duration_s)
    out: list[Deviation] = []
    for prev, cur in zip(timed, timed[1:], strict=False):
        if prev.delivered_start.date() != cur.delivered_start.date():
            continue
        end = prev.delivered_end or prev.delivered_start + planned_length
        gap_min = (cur.delivered_start - end).total_seconds() / 60.0
        if gap_min < protocol.min_gap_min - 1e-6:
            basis = "recorded end" if prev.delivered_end else "start + planned length"
            out.append(
                Deviation(
                    cur.session,
                    "short_gap",
                    f"session {cur.session} started {gap_min:.1f} "
                    f"min after session {prev.session} ended "
                    f"({basis}); "
                    f"the protocol needs {protocol.min_gap_min:g} min from end to start",
                    safety=protocol.is_tbs,
                )
            )
    return out


def _seizure_deviations(
    records: list[SessionRecord] | tuple[SessionRecord, ...],
) -> list[Deviation]:
    """Make every seizure a safety deviation for a physician.

    This holds whatever severity and seriousness were typed.
    """
    out = []
    for r in records:
        e = r.event
        if e is None or not e.seizure:
            continue
        typed = f"logged {e.severity}, {'serious' if e.serious_as_logged else 'not serious'}"
        out.append(
            Deviation(
                r.session,
                "seizure",
                f"session {r.session}: seizure ({e.term!r}; "
                f"{typed}) — a seizure is always a serious "
                "adverse event; "
                "a physician must review it before any further session",
                safety=True,
            )
        )
    return out


def _after_stop_deviations(
    records: list[SessionRecord] | tuple[SessionRecord, ...],
) -> list[Deviation]:
    """Sessions given after the first adverse event whose action stopped the course.

    "After" is by delivered start when both sessions recorded one, else by session number.
    """
    stops = [r for r in records if r.event is not None and r.event.action == "course stopped"]
    if not stops:
        return []
    stop = stops[0]

    def after(r: SessionRecord) -> bool:
        if r.delivered_start is not None and stop.delivered_start is not None:
            return r.delivered_start > stop.delivered_start
        return r.session > stop.session

    return [
        Deviation(
            r.session,
            "after_course_stopped",
            f"session {r.session} was given after the course was stopped at session {stop.session} "
            f"(adverse event {stop.adverse_event!r}, ae_action course stopped)",
            safety=True,
        )
        for r in _given(records)
        if r.session != stop.session and after(r)
    ]


def _day_deviations(given: list[SessionRecord], protocol: Protocol) -> list[Deviation]:
    """Sessions and pulses per calendar day against the protocol."""
    days: dict[object, list[SessionRecord]] = {}
    for r in given:
        days.setdefault(_day_key(r), []).append(r)
    out: list[Deviation] = []
    for day, rows in days.items():
        pulses = sum(
            r.pulses_planned if r.pulses_delivered is None else r.pulses_delivered for r in rows
        )
        if len(rows) > protocol.sessions_per_day:
            out.append(
                Deviation(
                    None,
                    "sessions_per_day",
                    f"{day}: {len(rows)} sessions given, the "
                    f"protocol allows {protocol.sessions_per_day}",
                    safety=True,
                )
            )
        if pulses > protocol.pulses_per_day:
            out.append(
                Deviation(
                    None,
                    "pulses_per_day",
                    f"{day}: {pulses} pulses given, the protocol allows {protocol.pulses_per_day}",
                    safety=True,
                )
            )
    return out


def check_course_log(
    records: tuple[SessionRecord, ...] | list[SessionRecord],
    protocol: Protocol,
    *,
    setting_pct_mso: float | None = None,
    late_after_min: float = 30.0,
) -> tuple[Deviation, ...]:
    """Every deviation of a delivered course from its plan and from the protocol's safety rules.

    Parameters
    ----------
    records : sequence of SessionRecord
        The parsed session log.
    protocol : Protocol
        The planned protocol (minimum rest, sessions and pulses per day, session length).
    setting_pct_mso : float, optional
        The planned stimulator setting; rows with another ``setting_pct_mso`` are deviations.
    late_after_min : float
        A session that started this many minutes after its planned start is reported as late.

    Returns
    -------
    tuple of Deviation
        In session order, day-level deviations last.
    """
    if not records:
        raise InputError("session log is empty — add one row per planned session")
    out: list[Deviation] = []
    for r in records:
        if r.status == "missed":
            out.append(Deviation(r.session, "missed", f"session {r.session} was missed"))
        elif r.status == "partial":
            out.append(
                Deviation(
                    r.session,
                    "partial",
                    f"session {r.session}: {r.pulses_delivered} of {r.pulses_planned} pulses",
                )
            )
        if r.status in ("delivered", "partial"):
            if (
                setting_pct_mso is not None
                and r.setting_pct_mso is not None
                and r.setting_pct_mso != setting_pct_mso
            ):
                out.append(
                    Deviation(
                        r.session,
                        "setting",
                        f"session {r.session} at {r.setting_pct_mso:g}% "
                        f"MSO, planned {setting_pct_mso:g}% MSO",
                        safety=r.setting_pct_mso > setting_pct_mso,
                    )
                )
            if r.planned_start and r.delivered_start:
                late = (r.delivered_start - r.planned_start).total_seconds() / 60.0
                if late > late_after_min:
                    out.append(
                        Deviation(
                            r.session, "late", f"session {r.session} started {late:.0f} min late"
                        )
                    )
    given = _given(records)
    out += _gap_deviations(given, protocol)
    out += _seizure_deviations(records)
    out += _after_stop_deviations(records)
    out.sort(key=lambda d: (d.session is None, d.session or 0))
    return tuple(out + _day_deviations(given, protocol))
