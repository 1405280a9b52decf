"""Session times for a course, within clinic hours, and the course as an iCalendar file.

Sessions on one day start a fixed interval apart. The protocol states its minimum interval and how
it is measured (``interval_basis``): from the end of one session to the start of the next
(SAINT/SNT's "50-minute intersession interval": 50 min of rest after a 9.9-minute session, so
sessions start hourly) or from start to start. A requested interval is measured the same way unless
another basis is given. Start times are rounded up to whole minutes, so the rest is never shorter
than asked; every treatment day starts at the same time of day as the first.
Treatment days are clinic days (Monday-Friday by default) that are not closed; a course that the
protocol delivered on consecutive days but that the calendar interrupts is scheduled anyway and
flagged.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

from .. import NOTICE, __version__
from ..exceptions import InputError, SafetyError
from .dose import Dose
from .protocols import INTERVAL_BASES, Protocol

logger = logging.getLogger(__name__)

__all__ = [
    "ClinicHours",
    "Schedule",
    "Session",
    "parse_clinic_days",
    "parse_clinic_hours",
    "plan_schedule",
    "schedule_to_ics",
    "session_interval",
]

_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class ClinicHours:
    """When sessions may take place.

    Parameters
    ----------
    open, close : datetime.time
        Opening and closing time; every session must start at or after ``open`` and end by
        ``close``.
    days : frozenset of int
        Weekdays the clinic treats (Monday = 0 ... Sunday = 6).
    closed_dates : frozenset of datetime.date
        Individual closed dates (holidays).
    """

    open: time = time(8, 0)
    close: time = time(18, 0)
    days: frozenset[int] = frozenset(range(5))
    closed_dates: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if self.close <= self.open:
            raise InputError(
                f"clinic hours {self.open:%H:%M}-{self.close:%H:%M} "
                "are empty — closing must be after opening"
            )
        if not self.days or not set(self.days) <= set(range(7)):
            raise InputError(
                "clinic days must be a non-empty set of weekdays — e.g. --clinic-days mon-fri"
            )

    def is_open_on(self, day: date) -> bool:
        """Return True when ``day`` is a clinic day and not a closed date."""
        return day.weekday() in self.days and day not in self.closed_dates


def parse_clinic_hours(text: str) -> tuple[time, time]:
    """Parse ``"08:00-18:00"`` into (open, close).

    Raises
    ------
    InputError
        When the text is not two HH:MM times joined by '-'.
    """
    try:
        first, second = text.split("-")
        return time.fromisoformat(first.strip()), time.fromisoformat(second.strip())
    except ValueError:
        raise InputError(
            f"clinic hours {text!r} are not HH:MM-HH:MM — e.g. --clinic-hours 08:00-18:00"
        ) from None


def parse_clinic_days(text: str) -> frozenset[int]:
    """Parse ``"mon-fri"`` or ``"mon,wed,fri"`` (or ranges mixed with commas) into weekday numbers.

    Raises
    ------
    InputError
        For an unknown day name.
    """
    days: set[int] = set()
    for part in text.lower().split(","):
        ends = [p.strip()[:3] for p in part.split("-")]
        if len(ends) > 2 or any(e not in _DAY_NAMES for e in ends):
            raise InputError(
                f"clinic days {text!r} are not understood — use e.g. mon-fri or mon,tue,thu"
            )
        a, b = _DAY_NAMES.index(ends[0]), _DAY_NAMES.index(ends[-1])
        days.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
    return frozenset(days)


@dataclass(frozen=True)
class Session:
    """One planned session."""

    index: int
    day: int
    number_in_day: int
    start: datetime
    end: datetime

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (ISO times)."""
        return {
            "session": self.index,
            "day": self.day,
            "number_in_day": self.number_in_day,
            "start": self.start.isoformat(timespec="seconds"),
            "end": self.end.isoformat(timespec="seconds"),
        }


@dataclass(frozen=True)
class Schedule:
    """A planned course: the sessions and the rules that produced them."""

    protocol: Protocol
    sessions: tuple[Session, ...]
    interval_min: float
    hours: ClinicHours
    skipped_dates: tuple[date, ...]
    interval_basis: str = "start_to_start"
    requested_interval_min: float | None = None
    forced: bool = False

    @property
    def gap_min(self) -> float:
        """Rest between the end of one session and the start of the next on one day, minutes."""
        return self.interval_min - self.protocol.session_duration_s / 60.0

    @property
    def interrupted(self) -> bool:
        """True when a protocol given on consecutive days is split by non-clinic days."""
        return self.protocol.consecutive_days and bool(self.skipped_dates)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "protocol": self.protocol.key,
            "n_sessions": len(self.sessions),
            "interval_between_starts_min": self.interval_min,
            "gap_between_sessions_min": round(self.gap_min, 2),
            "interval_basis": self.interval_basis,
            "requested_interval_min": self.requested_interval_min,
            "protocol_min_gap_min": round(self.protocol.min_gap_min, 2),
            "forced": self.forced,
            "clinic_hours": f"{self.hours.open:%H:%M}-{self.hours.close:%H:%M}",
            "clinic_days": [_DAY_NAMES[d] for d in sorted(self.hours.days)],
            "skipped_dates": [d.isoformat() for d in self.skipped_dates],
            "interrupted": self.interrupted,
            "sessions": [s.to_dict() for s in self.sessions],
        }


def session_interval(
    protocol: Protocol, requested: float | None, basis: str, *, force: bool = False
) -> tuple[float, bool]:
    """Return the minutes between session starts and whether a short rest was forced.

    The minutes are whole, rounded up.

    Parameters
    ----------
    protocol : Protocol
        Its session length and minimum rest (``min_gap_min``) apply.
    requested : float or None
        The interval asked for (``--min-interval-min``), measured per ``basis``; None = the
        protocol's minimum.
    basis : {"end_to_start", "start_to_start"}
        How ``requested`` is measured.
    force : bool
        Accept a rest below the protocol's minimum (returned as forced).

    Raises
    ------
    InputError
        An interval that is not a time, or shorter than a session (sessions would overlap).
    SafetyError
        A rest below the protocol's minimum without ``force``; the message names the option, the
        minimum and its basis.
    """
    if basis not in INTERVAL_BASES:
        raise InputError(
            f"interval basis {basis!r} is unknown — use one of {', '.join(INTERVAL_BASES)}"
        )
    duration_min = protocol.session_duration_s / 60.0
    if requested is None:
        step = protocol.min_start_to_start_min
    else:
        value = float(requested)
        if not (math.isfinite(value) and 0 <= value <= 1440):
            raise InputError(
                f"{protocol.key}: --min-interval-min {value:g} "
                "is not a time between sessions — give minutes "
                "from 0 "
                "to 1440"
            )
        step = duration_min + value if basis == "end_to_start" else value
        if step < duration_min - 1e-9:
            raise InputError(
                f"{protocol.key}: sessions last {duration_min:.1f} "
                f"min, longer than {value:g} min between starts "
                "— "
                "sessions would overlap; raise --min-interval-min "
                "or use --interval-basis end-to-start"
            )
    step = float(math.ceil(step - 1e-6))
    gap = step - duration_min
    short = gap < protocol.min_gap_min - 1e-6
    if short and not force:
        ask = (
            f"--min-interval-min {value:g} ({basis.replace('_', '-')})"
            if requested is not None
            else f"--interval-basis {basis.replace('_', '-')}"
        )
        source = "; ".join(protocol.references[:1]) or protocol.name
        raise SafetyError(
            f"{protocol.key}: {ask} leaves {gap:.1f} min between sessions, below the protocol's "
            f"{protocol.min_gap_min:g} min from the end of "
            "one session to the start of the next, the envelope "
            "of "
            f"published protocols ({source}) — use "
            f"--min-interval-min {protocol.min_gap_min:g} "
            "--interval-basis end-to-start or more, or add "
            "--force to "
            "override it (recorded as forced in every output)"
        )
    return step, short


def plan_schedule(
    protocol: Protocol,
    start: datetime,
    *,
    hours: ClinicHours | None = None,
    min_interval_min: float | None = None,
    interval_basis: str | None = None,
    force: bool = False,
) -> Schedule:
    """Plan every session of a course.

    Parameters
    ----------
    protocol : Protocol
        Sessions a day, treatment days, session duration and minimum interval come from here.
    start : datetime.datetime
        First session's start (naive = local floating time, or timezone-aware). Later days start at
        the same time.
    hours : ClinicHours, optional
        Clinic hours, days and closed dates (default 08:00-18:00, Monday-Friday).
    min_interval_min : float, optional
        Minutes between sessions on one day, measured per ``interval_basis``; the rest it leaves
        must be at least the protocol's (``protocol.min_gap_min``). Default: the protocol's minimum.
    interval_basis : {"end_to_start", "start_to_start"}, optional
        How ``min_interval_min`` is measured; default the protocol's ``interval_basis``.
    force : bool
        Accept a rest shorter than the protocol's minimum (recorded as ``forced``).

    Returns
    -------
    Schedule
        ``protocol.sessions_per_course`` sessions in time order.

    Raises
    ------
    InputError
        When the start is not on a clinic day or within hours, or a day's sessions do not fit before
        closing.
    SafetyError
        When the rest between sessions is below the protocol's minimum and ``force`` is False.
    """
    hours = hours or ClinicHours()
    basis = protocol.interval_basis if interval_basis is None else interval_basis.replace("-", "_")
    interval, forced = session_interval(protocol, min_interval_min, basis, force=force)
    step = timedelta(minutes=interval)
    duration = timedelta(seconds=protocol.session_duration_s)
    t0 = start.time().replace(tzinfo=None)
    if not hours.is_open_on(start.date()):
        raise InputError(
            f"start {start:%Y-%m-%d} is a {_DAY_NAMES[start.weekday()]}, not a clinic day — "
            "start on a clinic day or change --clinic-days/--closed"
        )
    day_span = (protocol.sessions_per_day - 1) * step + duration
    t0_dt = datetime.combine(start.date(), t0)
    last_end = t0_dt + day_span
    close_dt = datetime.combine(start.date(), hours.close)
    if t0 < hours.open or last_end > close_dt:
        latest = close_dt - day_span
        raise InputError(
            f"{protocol.sessions_per_day} session(s) {interval:g} min apart starting {t0:%H:%M} "
            f"end at {last_end:%H:%M}, "
            f"outside clinic hours {hours.open:%H:%M}-{hours.close:%H:%M} "
            f"— start between {hours.open:%H:%M} "
            f"and {latest:%H:%M} or change --clinic-hours"
        )
    sessions: list[Session] = []
    skipped: list[date] = []
    day = start.date()
    for day_number in range(1, protocol.treatment_days + 1):
        while not hours.is_open_on(day):
            skipped.append(day)
            day += timedelta(days=1)
        first = datetime.combine(day, t0, tzinfo=start.tzinfo)
        for k in range(protocol.sessions_per_day):
            begin = first + k * step
            sessions.append(Session(len(sessions) + 1, day_number, k + 1, begin, begin + duration))
        day += timedelta(days=1)
    schedule = Schedule(
        protocol, tuple(sessions), interval, hours, tuple(skipped), basis, min_interval_min, forced
    )
    if schedule.interrupted:
        logger.warning(
            "%s was given on %d consecutive days but this course skips %s — "
            "start on another day to keep it consecutive",
            protocol.name,
            protocol.treatment_days,
            ", ".join(d.isoformat() for d in skipped),
        )
    return schedule


def _stamp(schedule: Schedule) -> datetime:
    """Return a DTSTAMP derived from the inputs, so the file is reproducible.

    The stamp is the first session's start in UTC.
    """
    first = schedule.sessions[0].start
    return first.astimezone(UTC) if first.tzinfo else first.replace(tzinfo=UTC)


def _ics_time(when: datetime) -> datetime:
    """Return ``when`` for the calendar, with a fixed UTC offset converted to UTC.

    Fixed offsets (from an ISO string like ``+01:00``) have no TZID, so they are written as UTC.
    """
    return when.astimezone(UTC) if isinstance(when.tzinfo, timezone) else when


def schedule_to_ics(
    schedule: Schedule,
    *,
    participant: str | None = None,
    dose: Dose | None = None,
    forced: bool = False,
    note: str = "",
) -> bytes:
    """Return the schedule as an RFC 5545 calendar (one VEVENT per session), built by ``icalendar``.

    Parameters
    ----------
    schedule : Schedule
        The planned course.
    participant : str, optional
        Added to each event's summary and UID.
    dose : Dose, optional
        Intensity and stimulator setting to print in each event's description (else the protocol's
        %RMT).
    forced : bool
        A safety limit was overridden with ``--force``: said in every event (also when the schedule
        was forced).
    note : str
        A sentence added to every event (e.g. a screening override and its reason).

    Returns
    -------
    bytes
        The calendar; identical inputs give identical bytes (UIDs and DTSTAMP derive from the
        schedule).
    """
    from icalendar import Calendar, Event

    p = schedule.protocol
    who = f"sub-{participant} " if participant else ""
    cal = Calendar()
    cal.add("prodid", f"-//tmstarget//tmstarget {__version__}//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"{who}{p.name}")
    stamp = _stamp(schedule)
    first = schedule.sessions[0].start
    n = len(schedule.sessions)
    pct = dose.intensity_pct_rmt if dose else p.intensity_pct_rmt
    basis = "depth-adjusted MT" if (dose.depth_corrected if dose else p.depth_corrected) else "RMT"
    setting = f" Setting {dose.setting_pct_mso}% MSO." if dose else ""
    if forced or schedule.forced:
        setting += " SAFETY LIMIT OVERRIDDEN WITH --force."
    if note:
        setting += f" {note}."
    for s in schedule.sessions:
        event = Event()
        event.add(
            "uid",
            f"tmstarget-{p.key}-{participant or 'x'}-{first:%Y%m%dT%H%M}-{s.index:03d}@tmstarget",
        )
        event.add("dtstamp", stamp)
        event.add("dtstart", _ics_time(s.start))
        event.add("dtend", _ics_time(s.end))
        event.add(
            "summary", f"{who}{p.name} session {s.index}/{n} (day {s.day}, #{s.number_in_day})"
        )
        event.add(
            "description",
            f"{p.pulses_per_session} pulses, {p.trains_per_session} "
            f"trains of {p.train_duration_s:g} s every "
            f"{p.train_duration_s + p.inter_train_interval_s:g} "
            f"s, {pct:g}% {basis}.{setting} tmstarget: {NOTICE}.",
        )
        cal.add_component(event)
    if (
        first.tzinfo is not None
        and not isinstance(first.tzinfo, timezone)
        and hasattr(cal, "add_missing_timezones")
    ):
        cal.add_missing_timezones()
    return cal.to_ical()
