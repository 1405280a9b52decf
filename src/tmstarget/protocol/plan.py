"""A treatment course planned in one call, from protocol to files.

The steps are protocol → dose → schedule → safety → screening → session log → files.

:func:`plan_course` is the workflow behind ``tmstarget protocol``: it computes everything first
(every check that the command makes, with the same messages), then writes the requested calendar and
session-log template together (both or neither), and returns a :class:`CoursePlan` whose
:meth:`CoursePlan.to_dict` is the command's ``--json`` object (less the notice and version, which
the command adds).

Research use; not a medical device.

Examples
--------
>>> from tmstarget.protocol import plan_course
>>> plan = plan_course("saint", rmt=50, target_depth_mm=20, motor_depth_mm=15)   # doctest: +SKIP
>>> plan.dose.setting_pct_mso                                                      # doctest: +SKIP
57
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..exceptions import InputError
from .dose import DEFAULT_GRADIENT

__all__ = ["CoursePlan", "plan_course"]

logger = logging.getLogger(
    "tmstarget.cli.protocol"
)  # the command's logger name: its warnings read the same


@dataclass(frozen=True)
class CoursePlan:
    """Everything :func:`plan_course` computed, and the files it wrote.

    ``protocol`` is a :class:`~tmstarget.protocol.Protocol`, ``dose`` a
    :class:`~tmstarget.protocol.Dose` (None without ``rmt``), ``safety`` a
    :class:`~tmstarget.protocol.SafetyReport`, ``schedule`` a :class:`~tmstarget.protocol.Schedule`
    (None without ``start``); ``screening`` and ``course`` are the JSON-ready screening status and
    session-log summary (None when not asked for); ``outputs`` maps ``ics`` / ``log_template`` (and
    ``timeline`` when asked for) to the written path (None when not written); ``timeline_alt`` is
    the alt text of the session timeline figure (None when not drawn). ``sources`` says where the
    dose's threshold and target depth came from (``rmt``, ``target_depth``: the ``mt`` result and
    coil plan files with their SHA-256, or the typed option); ``warnings`` holds what was logged as
    a warning about the dose's inputs (e.g. a typed depth that disagrees with the coil plan).
    """

    protocol: Any
    participant: str | None
    dose: Any
    safety: Any
    force: bool
    forced: bool
    screening: dict[str, Any] | None
    schedule: Any
    course: dict[str, Any] | None
    outputs: dict[str, str | None] = field(default_factory=dict)
    sources: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    timeline_alt: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict: what ``tmstarget protocol --json`` prints.

        Notice and version are not included.
        """
        out = {
            "protocol": self.protocol.to_dict(),
            "participant": self.participant,
            "dose": {**self.dose.to_dict(), "sources": self.sources} if self.dose else None,
            "safety": self.safety.to_dict(),
            "force": bool(self.force),
            "forced": self.forced,
            "screening": self.screening,
            "schedule": self.schedule.to_dict() if self.schedule else None,
            "course": self.course,
            "outputs": self.outputs,
            "warnings": list(self.warnings),
        }
        if self.timeline_alt is not None:
            out["timeline_alt"] = self.timeline_alt
        return out


def _parse_start(text: str, tz: str | None) -> Any:
    from datetime import datetime

    try:
        start = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(
            f"--start {text!r} is not an ISO date-time — use e.g. 2026-12-07T08:00"
        ) from None
    if tz:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            zone = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise InputError(
                f"--tz {tz!r} is not a known time zone — use an IANA name such as Europe/Berlin"
            ) from None
        start = start.replace(tzinfo=zone) if start.tzinfo is None else start.astimezone(zone)
    return start


def _clinic(hours: str, days: str, closed: tuple[str, ...] | list[str]) -> Any:
    from datetime import date

    from .schedule import ClinicHours, parse_clinic_days, parse_clinic_hours

    opening, closing = parse_clinic_hours(hours)
    dates = set()
    for text in closed:
        try:
            dates.add(date.fromisoformat(str(text)))
        except ValueError:
            raise InputError(f"--closed {text!r} is not a date — use YYYY-MM-DD") from None
    return ClinicHours(opening, closing, parse_clinic_days(days), frozenset(dates))


def _requested_gap(
    protocol: Any, min_interval_min: float | None, interval_basis: str | None, force: bool
) -> tuple[float | None, bool]:
    """Return the rest between sessions that an interval option asks for, and whether forced.

    This is for a course without a start; the rest is None when no interval option is given.

    Without a schedule the request is still checked: an interval option is never ignored.
    """
    from .schedule import session_interval

    if min_interval_min is None and interval_basis is None:
        return None, False
    if protocol.sessions_per_day < 2:
        raise InputError(
            "--min-interval-min and --interval-basis space "
            f"sessions on one day; {protocol.key} gives "
            f"{protocol.sessions_per_day} session a day — drop them"
        )
    basis = protocol.interval_basis if interval_basis is None else interval_basis.replace("-", "_")
    step, forced = session_interval(protocol, min_interval_min, basis, force=force)
    return step - protocol.session_duration_s / 60.0, forced


def _screening(
    form_path: str | os.PathLike[str] | None, override: str | None, *, required: bool
) -> dict[str, Any]:
    """Return the screening status.

    When ``required``, refuse unless the form allows scheduling or an override is given.
    """
    from ..io.tables import read_tsv_text
    from .screening import check_screening, parse_screening

    form = None
    if form_path:
        form = parse_screening(
            read_tsv_text(form_path, "screening form"), source=Path(form_path).name
        )
    return check_screening(form, override, required=required)


def _override_note(screening: dict[str, Any] | None) -> str:
    if screening and screening.get("override"):
        return (
            f"scheduled without clearing screening ({screening['status']}): {screening['override']}"
        )
    return ""


def _course(
    path: str | os.PathLike[str], protocol: Any, dose: Any, participant: str | None
) -> tuple[dict[str, Any], tuple, list]:
    """Summary and deviations of a filled-in session log against the protocol.

    The dose's setting is checked too. Returns the JSON-ready summary, the parsed records and the
    deviations (for the timeline figure).
    """
    from ..io.tables import read_tsv_text
    from .course import check_course_log, summarize_course
    from .sessionlog import log_participants, parse_session_log

    text = read_tsv_text(path, "session log")
    named = log_participants(text)
    if len(named) > 1 or (participant and named and named != {participant}):
        raise InputError(
            f"session log {path} is for participant(s) {', '.join(sorted(named))}, not "
            f"{participant or 'one participant'} — pass this "
            "participant's own log (or the matching --participant)"
        )
    records = parse_session_log(text, source=Path(path).name)
    deviations = check_course_log(
        records, protocol, setting_pct_mso=dose.setting_pct_mso if dose else None
    )
    planned = sorted({r.pulses_planned for r in records})
    if planned != [protocol.pulses_per_session] or len(records) != protocol.sessions_per_course:
        logger.warning(
            "session log has %d sessions (pulses planned: %s); %s plans %d sessions of %d pulses",
            len(records),
            ", ".join(str(n) for n in planned),
            protocol.key,
            protocol.sessions_per_course,
            protocol.pulses_per_session,
        )
    summary = {
        **summarize_course(records).to_dict(),
        "deviations": [d.to_dict() for d in deviations],
    }
    return summary, records, deviations


def _write_outputs(
    ics: Any,
    log_template: Any,
    participant: str | None,
    schedule: Any,
    dose: Any,
    safety: Any,
    screening: dict[str, Any] | None,
    timeline: tuple[Any, str | bytes] | None = None,
) -> dict[str, str | None]:
    """Write the calendar, log template and timeline figure, every path checked first.

    Each text file notes a --force and any screening override; ``timeline`` is (path, image).
    """
    from ..io.derivatives import write_files_atomic
    from ..io.paths import check_output_file
    from .schedule import schedule_to_ics
    from .sessionlog import format_session_log, planned_records

    outputs: dict[str, str | None] = {"ics": None, "log_template": None}
    for path in (ics, log_template, timeline[0] if timeline else None):
        if path:
            check_output_file(
                path, "file", parents=False
            )  # all outputs checked before any is written
    override = _override_note(screening)
    contents: dict[str, tuple[Any, str]] = {}
    if schedule is not None and ics:
        contents["ics"] = (
            ics,
            schedule_to_ics(
                schedule, participant=participant, dose=dose, forced=safety.forced, note=override
            ),
        )
    if schedule is not None and log_template:
        notes = ["safety limit overridden with --force"] if safety.forced or schedule.forced else []
        note = "; ".join(notes + ([override] if override else []))
        contents["log_template"] = (
            log_template,
            format_session_log(planned_records(schedule, dose, note=note), participant=participant),
        )
    if timeline is not None:
        outputs["timeline"] = None
        contents["timeline"] = timeline
    written = write_files_atomic(
        contents.values()
    )  # all or none: a failed second write leaves no calendar behind
    outputs.update({kind: str(path) for kind, path in zip(contents, written)})
    return outputs


def plan_course(
    protocol: str,
    *,
    custom: dict[str, Any] | None = None,
    sessions_per_day: int = 1,
    days: int = 1,
    max_pct_rmt: float | None = None,
    start: str | None = None,
    tz: str | None = None,
    clinic_hours: str = "08:00-18:00",
    clinic_days: str = "mon-fri",
    closed: tuple[str, ...] | list[str] = (),
    min_interval_min: float | None = None,
    interval_basis: str | None = None,
    participant: str | None = None,
    screening: str | os.PathLike[str] | None = None,
    screening_override: str | None = None,
    rmt: float | None = None,
    intensity_pct_rmt: float | None = None,
    target_depth_mm: float | None = None,
    motor_depth_mm: float | None = None,
    depth_gradient: str | float = DEFAULT_GRADIENT,
    rmt_json: str | os.PathLike[str] | None = None,
    coil_json: str | os.PathLike[str] | None = None,
    force: bool = False,
    ics: str | os.PathLike[str] | None = None,
    log_template: str | os.PathLike[str] | None = None,
    session_log: str | os.PathLike[str] | None = None,
    timeline: str | os.PathLike[str] | None = None,
) -> CoursePlan:
    """Plan (and check) a treatment course: the workflow of ``tmstarget protocol``.

    Everything is computed and checked before anything is written; then the calendar and the log
    template are written together (both or neither).

    Parameters
    ----------
    protocol : str
        A key of :data:`~tmstarget.protocol.PROTOCOLS` (e.g. ``"saint"``) or ``"custom"``.
    custom : dict, optional
        With ``"custom"``: the protocol's numbers by option name — ``frequency_hz``, ``train_s``,
        ``iti_s``, ``trains``, ``kind``, ``pulses_per_burst``, ``burst_frequency_hz`` (see
        :func:`~tmstarget.protocol.resolve_protocol`).
    sessions_per_day, days : int
        Custom protocol: sessions on a treatment day and treatment days.
    max_pct_rmt : float, optional
        Theta-burst intensity ceiling, % RMT (a tmstarget policy; default 120); above 120 refused
        unless ``force``.
    start : str, optional
        First session, ISO local time (``2026-12-07T08:00``); needed for a schedule, ``ics`` and
        ``log_template``.
    tz : str, optional
        IANA time zone of ``start`` and the calendar; None = floating local time.
    clinic_hours, clinic_days : str
        ``"HH:MM-HH:MM"`` and e.g. ``"mon-fri"`` or ``"mon,wed,fri"``.
    closed : sequence of str
        Closed dates ``YYYY-MM-DD``.
    min_interval_min : float, optional
        Minutes between sessions on a day, measured per ``interval_basis``; None = the protocol's
        minimum.
    interval_basis : {"end-to-start", "start-to-start"}, optional
        How ``min_interval_min`` is measured; None = the protocol's.
    participant : str, optional
        Participant label for the calendar and the log.
    screening : path-like, optional
        Completed screening form (TSV); required (or ``screening_override``) for ``ics`` and
        ``log_template``.
    screening_override : str, optional
        Reason to schedule without a clearing form; recorded in every output. Never overrules "not
        cleared".
    rmt : float, optional
        Resting motor threshold, % of maximum stimulator output; gives the dose.
    intensity_pct_rmt : float, optional
        Intensity, % of motor threshold; None = the protocol's.
    target_depth_mm, motor_depth_mm : float, optional
        Scalp-to-cortex distances for the Stokes depth correction (need ``rmt``).
    depth_gradient : str or float
        % MSO per mm: a key of :data:`~tmstarget.protocol.DEPTH_GRADIENTS` or a number.
    rmt_json : path-like, optional
        ``tmstarget mt --json`` output: the threshold is read from it
        (:func:`~tmstarget.protocol.sources.rmt_from_mt_result`). Refused together with ``rmt``.
    coil_json : path-like, optional
        ``tmstarget coil --json`` output: its scalp-to-cortex distance is the target depth
        (:func:`~tmstarget.protocol.sources.depth_from_coil_plan`); a ``target_depth_mm`` more than
        5 mm away from it gives a warning (logged and in ``warnings``) and is used as typed.
    force : bool
        Accept a dose, schedule or raised limit that a safety rule refuses (recorded as forced).
    ics, log_template : path-like, optional
        Calendar and session-log template to write (need ``start``); their folders must exist.
    session_log : path-like, optional
        A filled-in session log to summarise against the plan.
    timeline : path-like, optional
        Write the session log's planned-vs-delivered timeline figure here (``.svg`` or ``.png``,
        :func:`~tmstarget.protocol.session_timeline_figure`, with the schedule's planned times when
        ``start`` is given); needs ``session_log``. Written with the other files, all or none.

    Returns
    -------
    CoursePlan

    Raises
    ------
    InputError
        A bad value, a missing companion option, or an unwritable output (nothing is written).
    SafetyError
        A dose, schedule or raised limit beyond a safety rule, without ``force``.
    """
    from .custom import check_options, resolve_protocol
    from .dose import check_intensity, compute_dose, resolve_gradient
    from .safety import check_safety
    from .schedule import plan_schedule
    from .sources import depth_from_coil_plan, reconcile_depth, rmt_from_mt_result

    timeline_fmt = None
    if timeline is not None:
        from .._utils.figures import figure_format

        timeline_fmt = figure_format(timeline, "--timeline")
        if not session_log:
            raise InputError(
                "--timeline draws the sessions of a session log — add --session-log LOG"
            )
    resolve_gradient(
        depth_gradient
    )  # refused even when no depths are given: a typo is never ignored
    custom = dict(custom or {})
    proto = resolve_protocol(
        protocol,
        custom,
        sessions_per_day=sessions_per_day,
        days=days,
        intensity_pct_rmt=intensity_pct_rmt,
        min_interval_min=min_interval_min,
        interval_basis=interval_basis,
        max_pct_rmt=max_pct_rmt,
        force=force,
    )
    dose = schedule = None
    sources: dict[str, Any] = {}
    warnings: list[str] = []
    if rmt is not None and rmt_json is not None:
        raise InputError(
            "--rmt and --rmt-json both give the motor threshold — pass one "
            "(--rmt-json reads it from 'tmstarget mt --json' output)"
        )
    if rmt_json is not None:
        rmt, sources["rmt"] = rmt_from_mt_result(rmt_json)
    elif rmt is not None:
        sources["rmt"] = {"from": "--rmt"}
    plan_depth = depth_from_coil_plan(coil_json, participant) if coil_json is not None else None
    target_depth_mm, depth_source, depth_warning = reconcile_depth(target_depth_mm, plan_depth)
    if depth_source is not None:
        sources["target_depth"] = depth_source
    if depth_warning:
        logger.warning("%s", depth_warning)
        warnings.append(depth_warning)
    if rmt is None and (target_depth_mm is not None or motor_depth_mm is not None):
        raise InputError(
            "dose options need the resting motor threshold "
            "— add --rmt PCT (% of maximum stimulator output) or --rmt-json FILE"
        )
    pct = (
        proto.intensity_pct_rmt if intensity_pct_rmt is None else check_intensity(intensity_pct_rmt)
    )
    if rmt is not None:
        dose = compute_dose(
            rmt,
            pct,
            target_depth_mm=target_depth_mm,
            motor_depth_mm=motor_depth_mm,
            gradient=depth_gradient,
        )
        if proto.depth_corrected and not dose.depth_corrected:
            logger.warning(
                "%s was dosed against the depth-adjusted MT; "
                "give --target-depth-mm and --motor-depth-mm",
                proto.key,
            )
    if (ics or log_template) and not start:
        raise InputError(
            "--ics and --log-template need the course start "
            "— add --start, e.g. --start 2026-12-07T08:00"
        )
    gap_min, interval_forced = _requested_gap(proto, min_interval_min, interval_basis, force)
    if start:
        schedule = plan_schedule(
            proto,
            _parse_start(start, tz),
            hours=_clinic(clinic_hours, clinic_days, closed),
            min_interval_min=min_interval_min,
            interval_basis=interval_basis,
            force=force,
        )
        gap_min, interval_forced = schedule.gap_min, schedule.forced
    options = check_options(
        protocol == "custom",
        min_interval_min=min_interval_min,
        interval_basis=interval_basis,
        rmt=rmt,
        intensity_pct_rmt=intensity_pct_rmt,
        target_depth_mm=target_depth_mm,
        max_pct_rmt=max_pct_rmt,
    )
    safety = check_safety(
        proto,
        dose.pct_of_measured_rmt if dose else pct,
        gap_min=gap_min,
        force=force,
        options=options,
    )
    status = None
    if screening or screening_override is not None or ics or log_template:
        status = _screening(screening, screening_override, required=bool(ics or log_template))
    course = figure = None
    if session_log:
        course, records, deviations = _course(session_log, proto, dose, participant)
        if timeline is not None:
            from .plots import session_timeline_figure

            who = f"sub-{participant}: " if participant else ""
            figure = session_timeline_figure(
                records,
                schedule,
                deviations=deviations,
                title=f"{who}sessions planned and delivered",
                fmt=timeline_fmt,
            )
    outputs = _write_outputs(
        ics,
        log_template,
        participant,
        schedule,
        dose,
        safety,
        status,
        (timeline, figure.image) if figure is not None else None,
    )
    return CoursePlan(
        protocol=proto,
        participant=participant,
        dose=dose,
        safety=safety,
        force=bool(force),
        forced=safety.forced or interval_forced,
        screening=status,
        schedule=schedule,
        course=course,
        outputs=outputs,
        sources=sources,
        warnings=warnings,
        timeline_alt=figure.alt if figure is not None else None,
    )
