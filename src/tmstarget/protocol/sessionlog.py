"""Planned versus delivered sessions: a TSV log, its validation and the course summary.

The log has one row per planned session::

    session  day  planned_start  delivered_start  pulses_planned  pulses_delivered
    setting_pct_mso  status  adverse_event  notes

(tab-separated, one line per session; shown on two lines here)

``status`` is ``planned`` (not yet given), ``delivered``, ``partial`` or ``missed``; left empty or at
``planned`` (as in the template) it is inferred from ``pulses_delivered``: empty = planned, 0 = missed,
all = delivered, fewer = partial. An explicit status must agree with ``pulses_delivered``.
``adverse_event`` is free text, empty when none occurred.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from ..exceptions import InputError
from .dose import Dose
from .schedule import Schedule

__all__ = [
    "LOG_COLUMNS",
    "STATUSES",
    "CourseSummary",
    "SessionRecord",
    "format_session_log",
    "parse_session_log",
    "planned_records",
    "summarize_course",
]

LOG_COLUMNS = (
    "session",
    "day",
    "planned_start",
    "delivered_start",
    "pulses_planned",
    "pulses_delivered",
    "setting_pct_mso",
    "status",
    "adverse_event",
    "notes",
)
STATUSES = ("planned", "delivered", "partial", "missed")
_REQUIRED = ("session", "pulses_planned")
T = TypeVar("T")


@dataclass(frozen=True)
class SessionRecord:
    """One row of the session log."""

    session: int
    day: int | None
    planned_start: datetime | None
    delivered_start: datetime | None
    pulses_planned: int
    pulses_delivered: int | None
    setting_pct_mso: float | None
    status: str
    adverse_event: str = ""
    notes: str = ""


def planned_records(schedule: Schedule, dose: Dose | None = None, *, note: str = "") -> tuple[SessionRecord, ...]:
    """A log template: every scheduled session with status ``planned`` (``note`` in every row, e.g. a --force)."""
    pulses = schedule.protocol.pulses_per_session
    setting = None if dose is None else float(dose.setting_pct_mso)
    return tuple(
        SessionRecord(s.index, s.day, s.start, None, pulses, None, setting, "planned", notes=note)
        for s in schedule.sessions
    )


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(timespec="minutes")
    if isinstance(value, float):
        return f"{value:g}"
    return str(value).replace("\t", " ").replace("\n", " ")


def format_session_log(records: tuple[SessionRecord, ...] | list[SessionRecord]) -> str:
    """The records as TSV text with a header row (columns :data:`LOG_COLUMNS`)."""
    lines = ["\t".join(LOG_COLUMNS)]
    for r in records:
        lines.append("\t".join(_fmt(getattr(r, c)) for c in LOG_COLUMNS))
    return "\n".join(lines) + "\n"


class _Row:
    """Typed access to one TSV row with error messages naming the line and column."""

    def __init__(self, row: dict[str, str], line: int, source: str) -> None:
        self.row, self.line, self.source = row, line, source

    def text(self, col: str) -> str:
        return (self.row.get(col) or "").strip()

    def fail(self, col: str, what: str, fix: str) -> InputError:
        return InputError(f"{self.source} line {self.line}: {col} {what} — {fix}")

    def parse(self, col: str, convert: Callable[[str], T], expected: str) -> T | None:
        """``convert`` the cell (None when empty); a ValueError becomes an error naming ``expected``."""
        raw = self.text(col)
        if not raw:
            return None
        try:
            return convert(raw)
        except ValueError:
            raise self.fail(col, f"= {raw!r} is not {expected}", f"give {expected}") from None

    def integer(self, col: str, *, minimum: int = 0) -> int | None:
        value = self.parse(col, int, f"a whole number >= {minimum}")
        if value is not None and value < minimum:
            raise self.fail(col, f"= {value} is below {minimum}", f"give a whole number >= {minimum}")
        return value

    def required(self, col: str, *, minimum: int = 0) -> int:
        value = self.integer(col, minimum=minimum)
        if value is None:
            raise self.fail(col, "is empty", f"give a whole number >= {minimum}")
        return value

    def number(self, col: str) -> float | None:
        value = self.parse(col, float, "a % of maximum stimulator output, e.g. 57")
        if value is not None and not 0 < value <= 100:
            raise self.fail(col, f"= {value:g} is outside (0, 100]", "give % of maximum stimulator output")
        return value

    def when(self, col: str) -> datetime | None:
        return self.parse(col, datetime.fromisoformat, "an ISO date-time, e.g. 2026-12-01T08:00")


def _status(r: _Row, planned: int, delivered: int | None) -> str:
    status = r.text("status").lower()
    if status in ("", "planned"):
        if delivered is None:
            return "planned"
        return "missed" if delivered == 0 else ("delivered" if delivered >= planned else "partial")
    if status not in STATUSES:
        raise r.fail("status", f"= {status!r} is unknown", f"use one of {', '.join(STATUSES)}")
    rules = {
        "missed": (delivered in (None, 0), "must have pulses_delivered empty or 0"),
        "delivered": (delivered is None or delivered == planned, f"must have pulses_delivered = {planned} or empty"),
        "partial": (
            delivered is not None and 0 < delivered < planned,
            f"needs pulses_delivered between 1 and {planned - 1}",
        ),
    }
    ok, need = rules[status]
    if not ok:
        raise r.fail(
            "status",
            f"'{status}' with pulses_delivered = {r.text('pulses_delivered') or 'empty'}",
            f"a {status} session {need}",
        )
    return status


def parse_session_log(text: str, *, source: str = "session log") -> tuple[SessionRecord, ...]:
    """Parse and validate a session-log TSV.

    Parameters
    ----------
    text : str
        The TSV content (header row first).
    source : str
        Name used in error messages (e.g. the file name).

    Returns
    -------
    tuple of SessionRecord
        In session order.

    Raises
    ------
    InputError
        For missing columns, bad values, unknown or inconsistent statuses, duplicate sessions or
        more pulses delivered than planned; the message names the line and column.
    """
    reader = csv.DictReader(io.StringIO(text), delimiter="\t")
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in _REQUIRED if c not in header]
    if missing:
        raise InputError(
            f"{source}: column(s) {', '.join(missing)} missing (found: {', '.join(header) or 'nothing'}) — "
            "start from the template written by 'tmstarget protocol ... --log-template FILE'"
        )
    reader.fieldnames = header
    records: dict[int, SessionRecord] = {}
    lines: dict[int, int] = {}
    for line, row in enumerate(reader, start=2):
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue
        r = _Row(row, line, source)
        session = r.required("session", minimum=1)
        planned = r.required("pulses_planned", minimum=1)
        delivered = r.integer("pulses_delivered")
        if delivered is not None and delivered > planned:
            raise r.fail(
                "pulses_delivered", f"= {delivered} exceeds the {planned} planned", "check the stimulator record"
            )
        if session in lines:
            raise InputError(
                f"{source} lines {lines[session]} and {line}: session {session} appears twice — "
                "keep one row per session"
            )
        lines[session] = line
        records[session] = SessionRecord(
            session=session,
            day=r.integer("day", minimum=1),
            planned_start=r.when("planned_start"),
            delivered_start=r.when("delivered_start"),
            pulses_planned=planned,
            pulses_delivered=delivered,
            setting_pct_mso=r.number("setting_pct_mso"),
            status=_status(r, planned, delivered),
            adverse_event=r.text("adverse_event"),
            notes=r.text("notes"),
        )
    if not records:
        raise InputError(f"{source}: no sessions found — add one row per planned session")
    return tuple(records[k] for k in sorted(records))


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
    adverse_events: tuple[tuple[int, str], ...]

    @property
    def pct_pulses_delivered(self) -> float:
        """Delivered pulses as % of planned pulses."""
        return 100.0 * self.pulses_delivered / self.pulses_planned

    @property
    def complete(self) -> bool:
        """True when every planned session was delivered in full."""
        return self.sessions_delivered == self.sessions_planned

    def text(self) -> str:
        """A one-paragraph statement of what was delivered."""
        parts = [
            f"Delivered {self.sessions_delivered} of {self.sessions_planned} planned sessions in full "
            f"({self.pulses_delivered:,} of {self.pulses_planned:,} pulses, {self.pct_pulses_delivered:.1f}%) "
            f"over {self.days_treated} treatment day(s)."
        ]
        if self.partial_sessions:
            parts.append(f"Partial: {', '.join(f'#{s}' for s in self.partial_sessions)}.")
        if self.missed_sessions:
            parts.append(f"Missed: {', '.join(f'#{s}' for s in self.missed_sessions)}.")
        if self.sessions_pending:
            parts.append(f"Not yet recorded: {self.sessions_pending}.")
        if self.adverse_events:
            parts.append("Adverse events: " + "; ".join(f"#{s} {t}" for s, t in self.adverse_events) + ".")
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
            "adverse_events": [{"session": s, "event": t} for s, t in self.adverse_events],
            "summary": self.text(),
        }


def _day_key(r: SessionRecord) -> object:
    """The calendar date a session was given (or planned), else its course day number."""
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
        Sessions delivered/partial/missed/pending, pulses delivered vs planned, treatment days, adverse events.
    """
    if not records:
        raise InputError("session log is empty — add one row per planned session")
    by_status = {s: [r for r in records if r.status == s] for s in STATUSES}
    given = by_status["delivered"] + by_status["partial"]
    delivered_pulses = sum(r.pulses_planned if r.pulses_delivered is None else r.pulses_delivered for r in given)
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
        adverse_events=tuple((r.session, r.adverse_event) for r in records if r.adverse_event),
    )
