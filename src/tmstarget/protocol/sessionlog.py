"""Planned versus delivered sessions: the TSV session log and its validation.

The log has one row per planned session::

    session  day  planned_start  delivered_start  pulses_planned  pulses_delivered
    setting_pct_mso  status  adverse_event  notes  delivered_end  coil  target  arm_code
    ae_severity  ae_relatedness  ae_serious  ae_action

(tab-separated, one line per session; shown on three lines here). Only ``session`` and
``pulses_planned`` are required; the columns after ``notes`` were added later and may be absent.
``coil`` and ``target`` record what was actually used; ``arm_code`` is the concealed allocation code
(never "sham"/"active" in a blinded trial).

``status`` is ``planned`` (not yet given), ``delivered``, ``partial`` or ``missed``; left empty or
at ``planned`` (as in the template) it is inferred from ``pulses_delivered``: empty = planned, 0 =
missed, all = delivered, fewer = partial. An explicit status must agree with ``pulses_delivered``.
``adverse_event`` is the adverse event's term (free text, empty when none occurred); with a term,
``ae_severity`` (mild, moderate, severe), ``ae_relatedness`` (not related, unlikely, possible,
probable, definite), ``ae_serious`` (yes/no) are required and ``ae_action`` (none, paused, intensity
reduced, session stopped, course stopped, treated) defaults to none. A seizure (a term naming a
seizure, convulsion, tonic-clonic or epileptic event) is always serious and flagged for a
physician's review, whatever severity and seriousness were typed.

The log is checked as a timeline: every time is comparable with every other (all with a UTC offset,
or all without), and a session that records its end ended after it started.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from ..exceptions import InputError
from .dose import Dose
from .schedule import Schedule

__all__ = [
    "AE_ACTIONS",
    "AE_RELATEDNESS",
    "AE_SEVERITIES",
    "AdverseEvent",
    "LOG_COLUMNS",
    "STATUSES",
    "SessionRecord",
    "is_seizure",
    "format_session_log",
    "parse_session_log",
    "planned_records",
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
    "delivered_end",
    "coil",
    "target",
    "arm_code",
    "ae_severity",
    "ae_relatedness",
    "ae_serious",
    "ae_action",
)
STATUSES = ("planned", "delivered", "partial", "missed")
AE_SEVERITIES = ("mild", "moderate", "severe")
AE_RELATEDNESS = ("not related", "unlikely", "possible", "probable", "definite")
AE_ACTIONS = ("none", "paused", "intensity reduced", "session stopped", "course stopped", "treated")
_REQUIRED = ("session", "pulses_planned")
_TIMES = ("planned_start", "delivered_start", "delivered_end")
#: Words that make an adverse event a seizure (always serious, always flagged for a physician).
_SEIZURE = re.compile(r"seiz|convuls|tonic[- ]?clonic|epilep", re.IGNORECASE)
T = TypeVar("T")


def is_seizure(term: str) -> bool:
    """Return True when an adverse event's term names a seizure.

    Seizure, convulsion, tonic-clonic, epileptic and similar terms count.
    """
    return bool(_SEIZURE.search(term or ""))


@dataclass(frozen=True)
class AdverseEvent:
    """One adverse event recorded at a session.

    ``serious`` is the event's seriousness as tmstarget counts it: as logged, except that a seizure
    is always serious (``serious_as_logged`` keeps what was typed). A serious event needs a
    physician's review.
    """

    session: int
    term: str
    severity: str
    relatedness: str
    serious: bool
    action: str
    seizure: bool = False
    serious_as_logged: bool | None = None

    @property
    def physician_review(self) -> bool:
        """True when a physician must review the event (every serious event, every seizure)."""
        return self.serious or self.seizure

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "session": self.session,
            "event": self.term,
            "severity": self.severity,
            "relatedness": self.relatedness,
            "serious": self.serious,
            "serious_as_logged": self.serious
            if self.serious_as_logged is None
            else self.serious_as_logged,
            "seizure": self.seizure,
            "physician_review": self.physician_review,
            "action": self.action,
        }


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
    delivered_end: datetime | None = None
    coil: str = ""
    target: str = ""
    arm_code: str = ""
    ae_severity: str = ""
    ae_relatedness: str = ""
    ae_serious: bool | None = None
    ae_action: str = ""

    @property
    def event(self) -> AdverseEvent | None:
        """The structured adverse event, if one was recorded."""
        if not self.adverse_event:
            return None
        seizure = is_seizure(self.adverse_event)
        return AdverseEvent(
            self.session,
            self.adverse_event,
            self.ae_severity,
            self.ae_relatedness,
            bool(self.ae_serious) or seizure,
            self.ae_action or "none",
            seizure=seizure,
            serious_as_logged=bool(self.ae_serious),
        )


def planned_records(
    schedule: Schedule, dose: Dose | None = None, *, note: str = ""
) -> tuple[SessionRecord, ...]:
    """Return a log template: every scheduled session with status ``planned``.

    ``note`` is written in every row (e.g. a --force).
    """
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
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value).replace("\t", " ").replace("\n", " ")


def format_session_log(
    records: tuple[SessionRecord, ...] | list[SessionRecord], participant: str | None = None
) -> str:
    """Return the records as TSV text with a header row.

    The columns are :data:`LOG_COLUMNS`, led by ``participant`` when given.

    The participant column lets ``tmstarget protocol --session-log`` refuse another participant's
    log.
    """
    lead = ["participant"] if participant else []
    lines = ["\t".join(lead + list(LOG_COLUMNS))]
    for r in records:
        lines.append(
            "\t".join([participant] * len(lead) + [_fmt(getattr(r, c)) for c in LOG_COLUMNS])
        )
    return "\n".join(lines) + "\n"


def log_participants(text: str) -> set[str]:
    """Return the participant labels named in a session log's optional ``participant`` column.

    The ``sub-`` prefix is removed.

    Raises
    ------
    InputError
        A participant cell that is not a participant label.
    """
    from .._utils.ids import participant_label

    rows = csv.DictReader(io.StringIO(text), delimiter="\t")
    return {
        participant_label(r["participant"], f"session log line {i + 2}: participant")
        for i, r in enumerate(rows)
        if (r.get("participant") or "").strip()
    }


class _Row:
    """Typed access to one TSV row with error messages naming the line and column."""

    def __init__(self, row: dict[str, str], line: int, source: str) -> None:
        self.row, self.line, self.source = row, line, source

    def text(self, col: str) -> str:
        return (self.row.get(col) or "").strip()

    def fail(self, col: str, what: str, fix: str) -> InputError:
        return InputError(f"{self.source} line {self.line}: {col} {what} — {fix}")

    def parse(self, col: str, convert: Callable[[str], T], expected: str) -> T | None:
        """Apply ``convert`` to the cell (None when empty).

        A ValueError becomes an error naming ``expected``.
        """
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
            raise self.fail(
                col, f"= {value} is below {minimum}", f"give a whole number >= {minimum}"
            )
        return value

    def required(self, col: str, *, minimum: int = 0) -> int:
        value = self.integer(col, minimum=minimum)
        if value is None:
            raise self.fail(col, "is empty", f"give a whole number >= {minimum}")
        return value

    def number(self, col: str) -> float | None:
        value = self.parse(col, float, "a % of maximum stimulator output, e.g. 57")
        if value is not None and not 0 < value <= 100:
            raise self.fail(
                col, f"= {value:g} is outside (0, 100]", "give % of maximum stimulator output"
            )
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
        "delivered": (
            delivered is None or delivered == planned,
            f"must have pulses_delivered = {planned} or empty",
        ),
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


def _choice(r: _Row, col: str, allowed: tuple[str, ...], *, required: bool) -> str:
    value = " ".join(r.text(col).lower().replace("_", " ").split())
    if not value and not required:
        return ""
    if value not in allowed:
        got = f"= {value!r} is not allowed" if value else "is empty for an adverse event"
        raise r.fail(col, got, f"use one of: {', '.join(allowed)}")
    return value


def _adverse_event(r: _Row) -> dict[str, Any]:
    """Validate the structured adverse-event columns (all empty when no event term is given)."""
    cols = ("ae_severity", "ae_relatedness", "ae_serious", "ae_action")
    term = r.text("adverse_event")
    if not term:
        stray = [c for c in cols if r.text(c)]
        if stray:
            raise r.fail(
                stray[0],
                "is filled but adverse_event is empty",
                "give the event's term in adverse_event",
            )
        return {}
    serious = _choice(r, "ae_serious", ("yes", "no"), required=True)
    return {
        "ae_severity": _choice(r, "ae_severity", AE_SEVERITIES, required=True),
        "ae_relatedness": _choice(r, "ae_relatedness", AE_RELATEDNESS, required=True),
        "ae_serious": serious == "yes",
        "ae_action": _choice(r, "ae_action", AE_ACTIONS, required=False) or "none",
    }


class _Clock:
    """Check that every time in a log can be compared with every other.

    Either all times carry a UTC offset, or none does.
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self.first: dict[bool, tuple[int, str, str]] = {}

    def see(self, r: _Row, col: str, when: datetime | None) -> datetime | None:
        if when is None:
            return None
        aware = when.utcoffset() is not None
        self.first.setdefault(aware, (r.line, col, r.text(col)))
        if len(self.first) == 2:  # the first time both kinds have been seen
            (l1, c1, v1), (l2, c2, v2) = self.first[False], self.first[True]
            lines = f"line {l1}" if l1 == l2 else f"lines {min(l1, l2)} and {max(l1, l2)}"
            raise InputError(
                f"{self.source} {lines}: {c1} {v1!r} (line "
                f"{l1}) has no UTC offset but {c2} {v2!r} (line "
                f"{l2}) "
                "has one, so the sessions cannot be put in "
                "order — give every time with its UTC offset "
                "(e.g. 2026-12-07T08:00+01:00) or every time without one"
            )
        return when


def _times(r: _Row, clock: _Clock) -> dict[str, datetime | None]:
    """Return the row's times, comparable with the rest of the log.

    A recorded end must follow the start.
    """
    times = {col: clock.see(r, col, r.when(col)) for col in _TIMES}
    start, end = times["delivered_start"], times["delivered_end"]
    if start is not None and end is not None and end <= start:
        raise r.fail(
            "delivered_end",
            f"{r.text('delivered_end')!r} is not after delivered_start "
            f"{r.text('delivered_start')!r}",
            "give the time the session ended (after it started), or leave delivered_end empty",
        )
    return times


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
        For missing columns, bad values, unknown or inconsistent statuses, duplicate sessions,
        more pulses delivered than planned, a session that ends before it starts, or times with and
        without a UTC offset in one log; the message names the line(s) and column.
    """
    reader = csv.DictReader(io.StringIO(text), delimiter="\t")
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in _REQUIRED if c not in header]
    if missing:
        raise InputError(
            f"{source}: column(s) {', '.join(missing)} missing "
            f"(found: {', '.join(header) or 'nothing'}) — "
            "start from the template written by 'tmstarget protocol ... --log-template FILE'"
        )
    reader.fieldnames = header
    records: dict[int, SessionRecord] = {}
    lines: dict[int, int] = {}
    clock = _Clock(source)
    for line, row in enumerate(reader, start=2):
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue
        r = _Row(row, line, source)
        session = r.required("session", minimum=1)
        planned = r.required("pulses_planned", minimum=1)
        delivered = r.integer("pulses_delivered")
        if delivered is not None and delivered > planned:
            raise r.fail(
                "pulses_delivered",
                f"= {delivered} exceeds the {planned} planned",
                "check the stimulator record",
            )
        if session in lines:
            raise InputError(
                f"{source} lines {lines[session]} and {line}: session {session} appears twice — "
                "keep one row per session"
            )
        lines[session] = line
        times = _times(r, clock)
        records[session] = SessionRecord(
            session=session,
            day=r.integer("day", minimum=1),
            planned_start=times["planned_start"],
            delivered_start=times["delivered_start"],
            pulses_planned=planned,
            pulses_delivered=delivered,
            setting_pct_mso=r.number("setting_pct_mso"),
            status=_status(r, planned, delivered),
            adverse_event=r.text("adverse_event"),
            notes=r.text("notes"),
            delivered_end=times["delivered_end"],
            coil=r.text("coil"),
            target=r.text("target"),
            arm_code=r.text("arm_code"),
            **_adverse_event(r),
        )
    if not records:
        raise InputError(f"{source}: no sessions found — add one row per planned session")
    return tuple(records[k] for k in sorted(records))
