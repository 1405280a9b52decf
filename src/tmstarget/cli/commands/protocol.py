"""``tmstarget protocol``: protocol numbers, session schedule (.ics), dose with safety check, session log."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ...exceptions import InputError
from .._common import output_file, participant_arg
from ..parser import HelpFormatter

logger = logging.getLogger("tmstarget.cli.protocol")

_DESCRIPTION = """\
Print a protocol's published parameters and derived numbers, plan its sessions within clinic hours
(with an .ics calendar), compute the stimulator setting from the resting motor threshold with Stokes
depth correction (capped at 100% MSO; checked against every safety rule with its basis and source —
published consensus limits, the envelope of published protocols, and tmstarget policies such as the
120% RMT theta-burst ceiling — and refused unless --force; an option that raises a limit, such as
--max-pct-rmt above 120, is refused unless --force as well, and every override is recorded as forced), and
write or summarise the session log (checked as a timeline: seizures are always serious, sessions after an
adverse event that stopped the course are deviations). --screening-override never overrules a physician's
"not cleared". Research use; not a medical device.

examples:
  tmstarget protocol --protocol saint --start 2026-12-07T08:00 --ics saint.ics
  tmstarget protocol --protocol saint --rmt 50 --target-depth-mm 20 --motor-depth-mm 15 --json
  tmstarget protocol --protocol saint --start 2026-12-07T08:00 --log-template log.tsv
  tmstarget protocol --protocol saint --session-log log.tsv
  tmstarget protocol --protocol custom --frequency-hz 20 --train-s 1.6 --iti-s 5 --trains 10 \
      --intensity-pct-rmt 110 --json
  tmstarget protocol --protocol custom --kind itbs --frequency-hz 50 --pulses-per-burst 3 \
      --burst-frequency-hz 5 --train-s 2 --iti-s 8 --trains 60 --intensity-pct-rmt 90 --sessions-per-day 10 \
      --min-interval-min 50 --days 5 --json
"""


def _add_custom_options(p: argparse.ArgumentParser) -> None:
    """The options of --protocol custom, and the theta-burst policy ceiling."""
    custom = p.add_argument_group(
        "custom protocol (with --protocol custom; checked against the same safety rules; "
        "--intensity-pct-rmt, --min-interval-min and --interval-basis apply too)"
    )
    custom.add_argument(
        "--frequency-hz", type=float, metavar="HZ", help="pulse rate in a train (rTMS) or in a burst (TBS)"
    )
    custom.add_argument("--train-s", type=float, metavar="S", help="on-time of one train, seconds")
    custom.add_argument("--iti-s", type=float, metavar="S", help="pause between trains, seconds")
    custom.add_argument("--trains", type=int, metavar="N", help="trains per session")
    custom.add_argument("--kind", choices=["rtms", "itbs", "ctbs"], help="None = TBS if a burst pattern is given")
    custom.add_argument("--pulses-per-burst", type=int, metavar="N", help="theta burst: pulses in a burst, e.g. 3")
    custom.add_argument("--burst-frequency-hz", type=float, metavar="HZ", help="theta burst: bursts per second, e.g. 5")
    custom.add_argument("--sessions-per-day", type=int, default=1, metavar="N", help="sessions on a treatment day")
    custom.add_argument("--days", type=int, default=1, metavar="N", help="treatment days")
    p.add_argument(
        "--max-pct-rmt",
        type=float,
        metavar="PCT",
        help="theta-burst intensity ceiling, %% of measured RMT: a tmstarget policy, not a published limit "
        "(None = 120). A lower ceiling is stricter; above 120 it is refused unless --force (then recorded as forced)",
    )


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Register ``tmstarget protocol``."""
    from ...protocol.dose import DEFAULT_GRADIENT, DEPTH_GRADIENTS
    from ...protocol.protocols import PROTOCOLS

    p = subparsers.add_parser(
        "protocol",
        parents=parents,
        help="Protocol numbers, session schedule (.ics), dose with safety limits, session log",
        description=_DESCRIPTION,
        formatter_class=HelpFormatter,
    )
    p.add_argument(
        "--protocol",
        required=True,
        choices=[*sorted(PROTOCOLS), "custom"],
        help="protocol to plan; 'custom' takes its numbers from the custom-protocol options",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout and nothing else")
    sched = p.add_argument_group("schedule")
    sched.add_argument("--start", metavar="DATETIME", help="first session, ISO local time, e.g. 2026-12-07T08:00")
    sched.add_argument("--ics", type=output_file, metavar="FILE", help="write the sessions as an iCalendar file")
    sched.add_argument(
        "--clinic-hours", default="08:00-18:00", metavar="HH:MM-HH:MM", help="sessions start and end within"
    )
    sched.add_argument(
        "--clinic-days", default="mon-fri", metavar="DAYS", help="treatment weekdays, e.g. mon-fri or mon,wed,fri"
    )
    sched.add_argument(
        "--closed", action="append", default=[], metavar="DATE", help="closed date YYYY-MM-DD (repeatable)"
    )
    sched.add_argument(
        "--min-interval-min",
        type=float,
        metavar="MIN",
        help="minutes between sessions on a day, measured per --interval-basis; None = the protocol's minimum. "
        "Less rest than the protocol's minimum is refused unless --force (then recorded as forced); checked also "
        "without --start",
    )
    sched.add_argument(
        "--interval-basis",
        choices=["end-to-start", "start-to-start"],
        help="measure --min-interval-min from the end of a session (rest) or from its start; "
        "None = the protocol's (SAINT: end-to-start, 50 min of rest, sessions hourly)",
    )
    sched.add_argument(
        "--tz", metavar="ZONE", help="IANA time zone for the calendar, e.g. Europe/Berlin; None = floating local time"
    )
    sched.add_argument("--participant", type=participant_arg, metavar="LABEL", help="participant label for calendar and log")
    sched.add_argument(
        "--screening",
        metavar="FORM_TSV",
        help="completed safety screening form ('tmstarget screen'); needed for --ics and --log-template",
    )
    sched.add_argument(
        "--screening-override",
        metavar="REASON",
        help="schedule without a clearing screening form; the reason is recorded in every output",
    )
    dose = p.add_argument_group(
        "dose (research use; refused beyond published limits or tmstarget policies unless --force)"
    )
    dose.add_argument(
        "--rmt", type=float, metavar="PCT", help="resting motor threshold, %% of maximum stimulator output"
    )
    dose.add_argument(
        "--intensity-pct-rmt", type=float, metavar="PCT", help="%% of motor threshold; None = the protocol's"
    )
    dose.add_argument("--target-depth-mm", type=float, metavar="MM", help="scalp-to-cortex distance at the target")
    dose.add_argument(
        "--motor-depth-mm", type=float, metavar="MM", help="scalp-to-cortex distance at the motor hotspot"
    )
    dose.add_argument(
        "--depth-gradient",
        default=DEFAULT_GRADIENT,
        metavar="SOURCE|K",
        help=f"%% MSO per mm: {', '.join(f'{k} ({v:g})' for k, v in DEPTH_GRADIENTS.items())} or a number",
    )
    dose.add_argument(
        "--force",
        action="store_true",
        help="accept a dose, schedule or raised limit (--max-pct-rmt, a shorter --min-interval-min) that a safety "
        "rule refuses (recorded as forced in the JSON, text, calendar and log template)",
    )
    _add_custom_options(p)
    log = p.add_argument_group("session log")
    log.add_argument("--log-template", type=output_file, metavar="FILE", help="write the planned sessions as a session-log TSV")
    log.add_argument("--session-log", metavar="FILE", help="read a filled-in session log and summarise the course")
    p.set_defaults(func=run)


def _parse_start(text: str, tz: str | None) -> Any:
    from datetime import datetime

    try:
        start = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"--start {text!r} is not an ISO date-time — use e.g. 2026-12-07T08:00") from None
    if tz:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            zone = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise InputError(f"--tz {tz!r} is not a known time zone — use an IANA name such as Europe/Berlin") from None
        start = start.replace(tzinfo=zone) if start.tzinfo is None else start.astimezone(zone)
    return start


def _clinic(args: argparse.Namespace) -> Any:
    from datetime import date

    from ...protocol.schedule import ClinicHours, parse_clinic_days, parse_clinic_hours

    opening, closing = parse_clinic_hours(args.clinic_hours)
    closed = set()
    for text in args.closed:
        try:
            closed.add(date.fromisoformat(text))
        except ValueError:
            raise InputError(f"--closed {text!r} is not a date — use YYYY-MM-DD") from None
    return ClinicHours(opening, closing, parse_clinic_days(args.clinic_days), frozenset(closed))


def emit(result: dict[str, Any], *, as_json: bool, render: Callable[[dict[str, Any]], str]) -> int:
    """Print ``result`` (plus notice and version) as one JSON object, or as ``render``'s text; return 0."""
    from ... import NOTICE, __version__

    result = {**result, "notice": NOTICE, "tmstarget_version": __version__}
    from ..._utils.jsonio import dumps

    text = dumps(result, ensure_ascii=False) if as_json else render(result)
    sys.stdout.write(text + "\n")
    return 0


def _text_report(result: dict[str, Any]) -> str:
    proto = result["protocol"]
    d = proto["derived"]
    lines = [
        f"{proto['name']} ({proto['key']}): {d['pulses_per_session']} pulses/session "
        f"in {d['session_duration_s'] / 60:.1f} min, "
        f"{proto['sessions_per_day']} session(s)/day x {proto['treatment_days']} days = "
        f"{d['pulses_per_day']:,} pulses/day, {d['pulses_per_course']:,} pulses/course",
        f"  target: {proto['target']}; intensity {proto['intensity_pct_rmt']:g}% RMT"
        + (" (depth-adjusted)" if proto["depth_corrected"] else ""),
    ]
    lines += [f"  ref: {ref}" for ref in proto["references"]]
    if result["dose"]:
        dose = result["dose"]
        basis = "depth-adjusted MT" if dose["depth_corrected"] else "RMT"
        lines.append(
            f"dose: {dose['intensity_pct_rmt']:g}% of {basis} {dose['threshold_pct_mso']:g}% MSO = "
            f"{dose['prescribed_pct_mso']:g}% MSO -> setting {dose['setting_pct_mso']}% MSO"
            + (" (CAPPED at 100% MSO)" if dose["capped"] else "")
            + f" = {dose['pct_of_measured_rmt']:g}% of measured RMT"
        )
    if result["safety"]:
        safety = result["safety"]
        basis = "the dose" if result["dose"] else f"the protocol's {safety['pct_of_measured_rmt']:g}% RMT (no --rmt)"
        lines.append(f"safety checks at {basis}:" + (" FORCED (--force)" if safety["forced"] else ""))
        for check in safety["checks"]:
            mark = "ok  " if check["ok"] else ("OVER" if check["action"] == "refuse" else "note")
            sign = (">" if check["strict"] else ">=") if check["bound"] == "min" else ("<" if check["strict"] else "<=")
            lines.append(
                f"  {mark} {check['name']}: {check['value']:g} {sign} {check['limit']:g} {check['unit']} "
                f"[{check['rule']}, {check['basis']}]"
            )
    if result["schedule"]:
        sched = result["schedule"]
        lines.append(
            f"schedule: {sched['n_sessions']} sessions, {sched['interval_between_starts_min']:g} min between starts "
            f"({sched['gap_between_sessions_min']:g} min from the end of one session to the start of the next)"
            + (" FORCED (--force)" if sched["forced"] else "")
        )
        by_day: dict[int, list[str]] = {}
        for s in sched["sessions"]:
            by_day.setdefault(s["day"], []).append(s["start"])
        for day, starts in by_day.items():
            lines.append(f"  day {day} {starts[0][:10]}: " + " ".join(t[11:16] for t in starts))
        if sched["interrupted"]:
            lines.append(f"  note: course interrupted by {', '.join(sched['skipped_dates'])}")
    if result["screening"]:
        scr = result["screening"]
        lines.append(
            f"screening: {scr['status']}"
            + (f"; OVERRIDDEN: {scr['override']}" if scr["override"] else "")
            + "".join(f"; flag {f['item']}" for f in scr["flags"])
        )
    if result["course"]:
        lines.append("course: " + result["course"]["summary"])
        for dev in result["course"]["deviations"]:
            lines.append(f"  deviation{' (SAFETY)' if dev['safety'] else ''}: {dev['detail']}")
    for kind, path in result["outputs"].items():
        if path:
            lines.append(f"wrote {kind}: {path}")
    return "\n".join(lines)


_CUSTOM_OPTIONS = ("frequency_hz", "train_s", "iti_s", "trains", "kind", "pulses_per_burst", "burst_frequency_hz")


def _protocol(args: argparse.Namespace) -> Any:
    """The built-in protocol, or the custom one built from the options; --max-pct-rmt applied to either."""
    import dataclasses

    from ...protocol.custom import custom_protocol
    from ...protocol.protocols import get_protocol

    given = [f"--{o.replace('_', '-')}" for o in _CUSTOM_OPTIONS if getattr(args, o) is not None]
    layout = [f"--{o.replace('_', '-')}" for o in ("sessions_per_day", "days") if getattr(args, o) != 1]
    if args.protocol != "custom":
        if given or layout:
            raise InputError(f"{', '.join(given + layout)} only apply to --protocol custom — drop them or use it")
        protocol = get_protocol(args.protocol)
    else:
        need = {
            "--frequency-hz": args.frequency_hz,
            "--train-s": args.train_s,
            "--trains": args.trains,
            "--intensity-pct-rmt": args.intensity_pct_rmt,
        }
        missing = [k for k, v in need.items() if v is None]
        if missing:
            raise InputError(f"--protocol custom needs {', '.join(missing)} — give every number of the protocol")
        protocol = custom_protocol(
            frequency_hz=args.frequency_hz,
            train_duration_s=args.train_s,
            trains_per_session=args.trains,
            intensity_pct_rmt=args.intensity_pct_rmt,
            inter_train_interval_s=args.iti_s,
            kind=args.kind,
            pulses_per_burst=args.pulses_per_burst,
            burst_frequency_hz=args.burst_frequency_hz,
            sessions_per_day=args.sessions_per_day,
            treatment_days=args.days,
            min_interval_min=args.min_interval_min,
            interval_basis=(args.interval_basis or "end-to-start").replace("-", "_"),
        )
    if args.max_pct_rmt is not None:
        if not protocol.is_tbs:
            raise InputError(
                "--max-pct-rmt sets the theta-burst policy ceiling — conventional rTMS is limited by the "
                "consensus single-train table; drop --max-pct-rmt"
            )
        protocol = dataclasses.replace(protocol, max_pct_rmt=args.max_pct_rmt)
    _gate_raised_limits(args, protocol)
    return protocol


#: Safety check name -> the custom-protocol option(s) that set its value (named in refusals).
_CUSTOM_CHECK_OPTIONS = {
    "frequency": "--frequency-hz",
    "intra-burst frequency": "--frequency-hz",
    "burst frequency": "--burst-frequency-hz",
    "pulses per burst": "--pulses-per-burst",
    "train duration": "--train-s",
    "inter-train interval": "--iti-s",
    "inter-train interval (tested)": "--iti-s",
    "pulses per session": "--trains, --train-s",
    "sessions per day": "--sessions-per-day",
    "pulses per day": "--sessions-per-day, --trains, --train-s",
    "gap between sessions": "--min-interval-min",
}


def _check_options(args: argparse.Namespace) -> dict[str, str]:
    """Which options set the value of each safety check (only options that were given, or custom's own)."""
    options = dict(_CUSTOM_CHECK_OPTIONS) if args.protocol == "custom" else {}
    if args.min_interval_min is not None or args.interval_basis is not None:
        options["gap between sessions"] = "--min-interval-min, --interval-basis"
    given = [o for o, v in (("--rmt", args.rmt), ("--intensity-pct-rmt", args.intensity_pct_rmt)) if v is not None]
    if args.target_depth_mm is not None:
        given.append("depth correction")
    if given:
        options["intensity"] = ", ".join(given)
    if args.max_pct_rmt is not None:
        options["theta-burst intensity ceiling"] = "--max-pct-rmt"
    return options


def _gate_raised_limits(args: argparse.Namespace, protocol: Any) -> None:
    """Options that move a safety limit are gates of their own: refused without --force, naming the option.

    With --force they go on to the safety report as failed checks, so the course is recorded as forced.
    The rest between sessions (--min-interval-min, --interval-basis) is gated by the schedule against the
    protocol's minimum and by the safety rules (see :func:`_requested_gap`).
    """
    from ...exceptions import SafetyError
    from ...protocol.rules import TBS_DEFAULT_MAX_PCT_RMT
    from ...protocol.safety import ceiling_check, raised_limit_problem

    check = ceiling_check(protocol)
    if check is not None and not args.force:
        raise SafetyError(
            raised_limit_problem(
                f"--max-pct-rmt {args.max_pct_rmt:g}", check, f"use --max-pct-rmt {TBS_DEFAULT_MAX_PCT_RMT:g} or less"
            )
        )


def _requested_gap(args: argparse.Namespace, protocol: Any) -> tuple[float | None, bool]:
    """The rest between sessions an interval option asks for without --start (None without one), and whether forced.

    Without a schedule the request is still checked: an interval option is never ignored.
    """
    from ...protocol.schedule import session_interval

    if args.min_interval_min is None and args.interval_basis is None:
        return None, False
    if protocol.sessions_per_day < 2:
        raise InputError(
            f"--min-interval-min and --interval-basis space sessions on one day; {protocol.key} gives "
            f"{protocol.sessions_per_day} session a day — drop them"
        )
    basis = protocol.interval_basis if args.interval_basis is None else args.interval_basis.replace("-", "_")
    step, forced = session_interval(protocol, args.min_interval_min, basis, force=args.force)
    return step - protocol.session_duration_s / 60.0, forced


def _screening(args: argparse.Namespace, *, required: bool) -> dict[str, Any]:
    """The screening status; when ``required``, refuse unless the form allows scheduling or an override is given."""
    from ...io.tables import read_tsv_text
    from ...protocol.screening import check_screening, parse_screening

    form = None
    if args.screening:
        form = parse_screening(read_tsv_text(args.screening, "screening form"), source=Path(args.screening).name)
    return check_screening(form, args.screening_override, required=required)


def _override_note(screening: dict[str, Any] | None) -> str:
    if screening and screening.get("override"):
        return f"scheduled without clearing screening ({screening['status']}): {screening['override']}"
    return ""


def _course(path: str, protocol: Any, dose: Any, participant: str | None) -> dict[str, Any]:
    """Summary and deviations of a filled-in session log against the protocol (and the dose's setting)."""
    from ...io.tables import read_tsv_text
    from ...protocol.course import check_course_log, summarize_course
    from ...protocol.sessionlog import log_participants, parse_session_log

    text = read_tsv_text(path, "session log")
    named = log_participants(text)
    if len(named) > 1 or (participant and named and named != {participant}):
        raise InputError(f"session log {path} is for participant(s) {', '.join(sorted(named))}, not "
                         f"{participant or 'one participant'} — pass this participant's own log (or the matching --participant)")
    records = parse_session_log(text, source=Path(path).name)
    deviations = check_course_log(records, protocol, setting_pct_mso=dose.setting_pct_mso if dose else None)
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
    return {**summarize_course(records).to_dict(), "deviations": [d.to_dict() for d in deviations]}


def _write_outputs(
    args: argparse.Namespace, schedule: Any, dose: Any, safety: Any, screening: dict[str, Any] | None
) -> dict[str, str | None]:
    """Write the calendar and log template (every path checked first), each carrying --force and overrides."""
    from ...io.derivatives import write_files_atomic
    from ...protocol.files import check_writable
    from ...protocol.schedule import schedule_to_ics
    from ...protocol.sessionlog import format_session_log, planned_records

    outputs: dict[str, str | None] = {"ics": None, "log_template": None}
    for path in (args.ics, args.log_template):
        if path:
            check_writable(path)  # all outputs checked before any is written
    override = _override_note(screening)
    contents: dict[str, tuple[Any, str]] = {}
    if schedule is not None and args.ics:
        contents["ics"] = (args.ics, schedule_to_ics(schedule, participant=args.participant, dose=dose, forced=safety.forced, note=override))
    if schedule is not None and args.log_template:
        notes = ["safety limit overridden with --force"] if safety.forced or schedule.forced else []
        note = "; ".join(notes + ([override] if override else []))
        contents["log_template"] = (args.log_template, format_session_log(planned_records(schedule, dose, note=note), participant=args.participant))
    written = write_files_atomic(contents.values())  # both or neither: a failed second write leaves no calendar behind
    outputs.update({kind: str(path) for kind, path in zip(contents, written)})
    return outputs


def run(args: argparse.Namespace) -> int:
    """Compute everything first, then write the requested files atomically, then print."""
    from ...protocol.dose import check_intensity, compute_dose, resolve_gradient
    from ...protocol.safety import check_safety
    from ...protocol.schedule import plan_schedule

    resolve_gradient(args.depth_gradient)  # refused even when no depths are given: a typo is never ignored
    protocol = _protocol(args)
    dose = schedule = None
    depths = (args.target_depth_mm, args.motor_depth_mm)
    if args.rmt is None and any(v is not None for v in depths):
        raise InputError(
            "dose options need the resting motor threshold — add --rmt PCT (% of maximum stimulator output)"
        )
    pct = protocol.intensity_pct_rmt if args.intensity_pct_rmt is None else check_intensity(args.intensity_pct_rmt)
    if args.rmt is not None:
        dose = compute_dose(
            args.rmt, pct, target_depth_mm=depths[0], motor_depth_mm=depths[1], gradient=args.depth_gradient
        )
        if protocol.depth_corrected and not dose.depth_corrected:
            logger.warning(
                "%s was dosed against the depth-adjusted MT; give --target-depth-mm and --motor-depth-mm", protocol.key
            )
    if (args.ics or args.log_template) and not args.start:
        raise InputError("--ics and --log-template need the course start — add --start, e.g. --start 2026-12-07T08:00")
    gap_min, interval_forced = _requested_gap(args, protocol)
    if args.start:
        start = _parse_start(args.start, args.tz)
        schedule = plan_schedule(
            protocol,
            start,
            hours=_clinic(args),
            min_interval_min=args.min_interval_min,
            interval_basis=args.interval_basis,
            force=args.force,
        )
        gap_min, interval_forced = schedule.gap_min, schedule.forced
    safety = check_safety(
        protocol,
        dose.pct_of_measured_rmt if dose else pct,
        gap_min=gap_min,
        force=args.force,
        options=_check_options(args),
    )
    screening = None
    if args.screening or args.screening_override is not None or args.ics or args.log_template:
        screening = _screening(args, required=bool(args.ics or args.log_template))
    course = _course(args.session_log, protocol, dose, args.participant) if args.session_log else None
    outputs = _write_outputs(args, schedule, dose, safety, screening)
    result = {
        "protocol": protocol.to_dict(),
        "participant": args.participant,
        "dose": dose.to_dict() if dose else None,
        "safety": safety.to_dict(),
        "force": bool(args.force),
        "forced": safety.forced or interval_forced,
        "screening": screening,
        "schedule": schedule.to_dict() if schedule else None,
        "course": course,
        "outputs": outputs,
    }
    return emit(result, as_json=args.json, render=_text_report)
