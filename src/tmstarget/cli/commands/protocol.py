"""``tmstarget protocol``: protocol numbers, session schedule (.ics), dose and session log.

The dose comes with a safety check.
"""

from __future__ import annotations

import argparse
from typing import Any

from .._common import emit, input_file, output_file, participant_arg
from .._help import HELP
from ..parser import HelpFormatter

_DESCRIPTION = """\
Print a protocol's published parameters and derived numbers, plan its sessions within clinic hours
(with an .ics calendar), compute the stimulator setting from the resting motor threshold with Stokes
depth correction (capped at 100% MSO; checked against every safety rule with its basis and source —
published consensus limits, the envelope of published protocols, and tmstarget policies such as the
120% RMT theta-burst ceiling — and refused unless --force; an option that raises a limit, such as
--max-pct-rmt above 120, is refused unless --force as well, and every override is recorded as
forced), and write or summarise the session log (checked as a timeline: seizures are always serious,
sessions after an adverse event that stopped the course are deviations). --screening-override never
overrules a physician's "not cleared". Research use; not a medical device.

examples:
  tmstarget protocol --protocol saint --start 2026-12-07T08:00 --ics saint.ics
  tmstarget protocol --protocol saint --rmt 50 --target-depth-mm 20 --motor-depth-mm 15 --json
  tmstarget protocol --protocol saint --rmt-json mt.json --coil-json coil.json \
      --motor-depth-mm 15 --json
  tmstarget protocol --protocol saint --start 2026-12-07T08:00 --log-template log.tsv
  tmstarget protocol --protocol saint --session-log log.tsv --timeline sessions.svg
  tmstarget protocol --protocol custom --frequency-hz 20 --train-s 1.6 --iti-s 5 --trains 10 \
      --intensity-pct-rmt 110 --json
  tmstarget protocol --protocol custom --kind itbs --frequency-hz 50 --pulses-per-burst 3 \
      --burst-frequency-hz 5 --train-s 2 --iti-s 8 --trains 60 --intensity-pct-rmt 90 \
      --sessions-per-day 10 --min-interval-min 50 --days 5 --json
"""


def _add_custom_options(p: argparse.ArgumentParser) -> None:
    """Add the options of --protocol custom, and the theta-burst policy ceiling."""
    custom = p.add_argument_group(
        "custom protocol (with --protocol custom; checked against the same safety rules; "
        "--intensity-pct-rmt, --min-interval-min and --interval-basis apply too)"
    )
    custom.add_argument(
        "--frequency-hz",
        type=float,
        metavar="HZ",
        help="pulse rate in a train (rTMS) or in a burst (TBS)",
    )
    custom.add_argument("--train-s", type=float, metavar="S", help="on-time of one train, seconds")
    custom.add_argument("--iti-s", type=float, metavar="S", help="pause between trains, seconds")
    custom.add_argument("--trains", type=int, metavar="N", help="trains per session")
    custom.add_argument(
        "--kind", choices=["rtms", "itbs", "ctbs"], help="None = TBS if a burst pattern is given"
    )
    custom.add_argument(
        "--pulses-per-burst", type=int, metavar="N", help="theta burst: pulses in a burst, e.g. 3"
    )
    custom.add_argument(
        "--burst-frequency-hz",
        type=float,
        metavar="HZ",
        help="theta burst: bursts per second, e.g. 5",
    )
    custom.add_argument(
        "--sessions-per-day", type=int, default=1, metavar="N", help="sessions on a treatment day"
    )
    custom.add_argument("--days", type=int, default=1, metavar="N", help="treatment days")
    p.add_argument(
        "--max-pct-rmt",
        type=float,
        metavar="PCT",
        help="theta-burst intensity ceiling, %% of measured "
        "RMT: a tmstarget policy, not a published limit "
        "(None = 120). A lower ceiling is stricter; above "
        "120 it is refused unless --force (then recorded "
        "as forced)",
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
    p.add_argument(
        "--json", action="store_true", help="print one JSON object on stdout and nothing else"
    )
    sched = p.add_argument_group("schedule")
    sched.add_argument(
        "--start", metavar="DATETIME", help="first session, ISO local time, e.g. 2026-12-07T08:00"
    )
    sched.add_argument(
        "--ics", type=output_file, metavar="FILE", help="write the sessions as an iCalendar file"
    )
    sched.add_argument(
        "--clinic-hours",
        default="08:00-18:00",
        metavar="HH:MM-HH:MM",
        help="sessions start and end within",
    )
    sched.add_argument(
        "--clinic-days",
        default="mon-fri",
        metavar="DAYS",
        help="treatment weekdays, e.g. mon-fri or mon,wed,fri",
    )
    sched.add_argument(
        "--closed",
        action="append",
        default=[],
        metavar="DATE",
        help="closed date YYYY-MM-DD (repeatable)",
    )
    sched.add_argument(
        "--min-interval-min",
        type=float,
        metavar="MIN",
        help="minutes between sessions on a day, measured per "
        "--interval-basis; None = the protocol's minimum. "
        "Less rest than the protocol's minimum is refused "
        "unless --force (then recorded as forced); checked "
        "also "
        "without --start",
    )
    sched.add_argument(
        "--interval-basis",
        choices=["end-to-start", "start-to-start"],
        help="measure --min-interval-min from the end of a session (rest) or from its start; "
        "None = the protocol's (SAINT: end-to-start, 50 min of rest, sessions hourly)",
    )
    sched.add_argument(
        "--tz",
        metavar="ZONE",
        help="IANA time zone for the calendar, e.g. Europe/Berlin; None = floating local time",
    )
    sched.add_argument(
        "--participant",
        type=participant_arg,
        metavar="LABEL",
        help=HELP["participant"] + " for the calendar and log, 01 or sub-01",
    )
    sched.add_argument(
        "--screening",
        metavar="FORM_TSV",
        help="completed safety screening form ('tmstarget screen'); "
        "needed for --ics and --log-template",
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
        "--rmt",
        type=float,
        metavar="PCT",
        help="resting motor threshold, %% of maximum stimulator output",
    )
    dose.add_argument(
        "--rmt-json",
        type=input_file,
        metavar="FILE",
        help="read the resting motor threshold from 'tmstarget mt --json' output: the last "
        "session's relative-frequency RMT when confirmed, else its ML-PEST threshold when done "
        "(refused with --rmt)",
    )
    dose.add_argument(
        "--intensity-pct-rmt",
        type=float,
        metavar="PCT",
        help="%% of motor threshold; None = the protocol's",
    )
    dose.add_argument(
        "--target-depth-mm", type=float, metavar="MM", help="scalp-to-cortex distance at the target"
    )
    dose.add_argument(
        "--coil-json",
        type=input_file,
        metavar="FILE",
        help=HELP["coil-json"] + "; its scalp-to-cortex distance is the target depth "
        "(a --target-depth-mm more than 5 mm away from it gives a warning)",
    )
    dose.add_argument(
        "--motor-depth-mm",
        type=float,
        metavar="MM",
        help="scalp-to-cortex distance at the motor hotspot",
    )
    dose.add_argument(
        "--depth-gradient",
        default=DEFAULT_GRADIENT,
        metavar="SOURCE|K",
        help="%% MSO per mm: "
        f"{', '.join(f'{k} ({v:g})' for k, v in DEPTH_GRADIENTS.items())} "
        "or a number",
    )
    dose.add_argument(
        "--force",
        action="store_true",
        help="accept a dose, schedule or raised limit (--max-pct-rmt, "
        "a shorter --min-interval-min) that a safety "
        "rule refuses (recorded as forced in the JSON, text, calendar and log template)",
    )
    _add_custom_options(p)
    log = p.add_argument_group("session log")
    log.add_argument(
        "--log-template",
        type=output_file,
        metavar="FILE",
        help="write the planned sessions as a session-log TSV",
    )
    log.add_argument(
        "--session-log",
        metavar="FILE",
        help=HELP["session-log"] + ": summarise the course",
    )
    log.add_argument(
        "--timeline",
        type=output_file,
        metavar="FILE",
        help=HELP["plot"] + ": the session log's sessions, planned against delivered, by day and "
        "time of day (missed, late and partial sessions, adverse events; needs --session-log; "
        "planned times from --start when given)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Parse → :func:`tmstarget.protocol.plan_course` → print."""
    from ...protocol.custom import CUSTOM_OPTIONS
    from ...protocol.plan import plan_course
    from ...protocol.text import course_text

    plan = plan_course(
        args.protocol,
        custom={o: getattr(args, o) for o in CUSTOM_OPTIONS},
        sessions_per_day=args.sessions_per_day,
        days=args.days,
        max_pct_rmt=args.max_pct_rmt,
        start=args.start,
        tz=args.tz,
        clinic_hours=args.clinic_hours,
        clinic_days=args.clinic_days,
        closed=args.closed,
        min_interval_min=args.min_interval_min,
        interval_basis=args.interval_basis,
        participant=args.participant,
        screening=args.screening,
        screening_override=args.screening_override,
        rmt=args.rmt,
        intensity_pct_rmt=args.intensity_pct_rmt,
        target_depth_mm=args.target_depth_mm,
        motor_depth_mm=args.motor_depth_mm,
        depth_gradient=args.depth_gradient,
        rmt_json=args.rmt_json,
        coil_json=args.coil_json,
        force=args.force,
        ics=args.ics,
        log_template=args.log_template,
        session_log=args.session_log,
        timeline=args.timeline,
    )
    return emit(plan.to_dict(), as_json=args.json, render=course_text)
