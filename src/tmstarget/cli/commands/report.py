"""``tmstarget report``: self-contained HTML reports of targets.

One report for each participant's target, and one for the cohort.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from .._common import list_written, positive_float, print_json
from .._help import HELP

logger = logging.getLogger("tmstarget")

DESCRIPTION = """\
HTML reports from the outputs of 'tmstarget target' (nothing is recomputed). Each report is one file
with every image embedded: it loads nothing from the network and opens on a phone. Research use; not
a medical device.

participant:  tmstarget report OUT_DIR participant --participant-label L [--session S] [--circuit C]
              -> OUT/sub-L/[ses-S/]sub-L[_ses-S]_desc-<circuit>_report.html
              The target and its score map (slices and glass brain on the MNI template), the
              scalp-rule alternatives (10-20 F3, 5 cm; Beam F3 with head measurements) with
              distances, the confidence region when computed, head motion and tSNR, the coil
              placement (default placement, or the plan and exports of 'tmstarget coil --json'
              saved to a file), dose and schedule ('tmstarget protocol --json' saved to a file), the
              MEP curve (--mt-trials), the session timeline (--session-log), the MADRS trajectory
              with its 50% response line, treatment period and item-10 flags, software versions
              and the inputs' checksums. Without --session / --circuit every session / circuit
              gets a report.
group:        tmstarget report OUT_DIR group
              -> OUT/desc-cohort_report.html: every target on one glass brain, a table of targets,
              scores, QC and distances, and reliability figures (between-session vs between-person
              distances, confidence radii)."""


def add_parser(subparsers, parents) -> None:
    """Register ``report``."""
    from ..parser import HelpFormatter

    p = subparsers.add_parser(
        "report",
        parents=parents,
        help="HTML reports for participants' targets and the cohort",
        description=DESCRIPTION,
        formatter_class=HelpFormatter,
    )
    p.add_argument(
        "out_dir", type=Path, metavar="OUT_DIR", help="output folder of 'tmstarget target'"
    )
    p.add_argument(
        "level",
        choices=["participant", "group"],
        help="one report per participant target, or one for the cohort",
    )
    g = p.add_argument_group("participant level")
    g.add_argument(
        "--participant-label",
        metavar="L",
        help=HELP["participant-label"] + "; required for 'participant'",
    )
    g.add_argument("--session", metavar="S", help=HELP["session"])
    g.add_argument(
        "--circuit", metavar="C", help="circuit label of the target (default: every circuit)"
    )
    x = p.add_argument_group("optional sections (participant level)")
    x.add_argument("--nasion-inion", type=positive_float, metavar="CM", help=HELP["nasion-inion"])
    x.add_argument("--tragus-tragus", type=positive_float, metavar="CM", help=HELP["tragus-tragus"])
    x.add_argument("--circumference", type=positive_float, metavar="CM", help=HELP["circumference"])
    x.add_argument(
        "--coil-json",
        type=Path,
        metavar="FILE",
        help=HELP["coil-json"] + " (plan, optimisation, exports)",
    )
    x.add_argument(
        "--no-coil",
        action="store_true",
        help="leave the coil placement out (it is computed by default)",
    )
    x.add_argument(
        "--protocol-json",
        type=Path,
        metavar="FILE",
        help="output of 'tmstarget protocol --json' (dose, safety, schedule)",
    )
    x.add_argument(
        "--madrs", type=Path, metavar="TSV", help="MADRS table (see 'tmstarget madrs --help')"
    )
    for edge in ("first", "last"):
        x.add_argument(
            f"--{edge}-session-day",
            type=float,
            metavar="DAY",
            help=HELP[f"{edge}-session-day"] + ": the treatment period in the MADRS figure "
            f"(default: the MADRS table's {edge}_session_day column, if any)",
        )
    x.add_argument(
        "--session-log",
        type=Path,
        metavar="TSV",
        help=HELP["session-log"] + ": the timeline of planned and delivered sessions",
    )
    x.add_argument(
        "--mt-trials",
        type=Path,
        metavar="TSV",
        help="MEP trials table of 'tmstarget mt': the MEP curve with its threshold fits (default: "
        "the trials behind the --protocol-json's --rmt-json, when still on disk)",
    )
    y = p.add_argument_group("optional sections (group level)")
    y.add_argument(
        "--trial-json",
        type=Path,
        metavar="FILE",
        help="output of 'tmstarget trial analyze --report FILE.json': "
        "CONSORT diagram, Table 1, change by visit",
    )
    p.add_argument("--json", action="store_true", help="print the paths written as JSON")
    p.set_defaults(func=run)


def _extras(args: argparse.Namespace) -> dict:
    from ...exceptions import InputError
    from ...io.derivatives import read_json_object

    fix = "check the path, or save the command's --json output to this file"

    extras: dict = {}
    heads = (args.nasion_inion, args.tragus_tragus, args.circumference)
    if any(v is not None for v in heads):
        if not all(v is not None for v in heads):
            raise InputError(
                "Beam F3 needs all of --nasion-inion, --tragus-tragus "
                "and --circumference (cm) — add the missing "
                "ones"
            )
        extras["head_measurements"] = dict(
            zip(("nasion_inion_cm", "tragus_tragus_cm", "circumference_cm"), heads)
        )
    if args.coil_json and args.no_coil:
        raise InputError("--coil-json and --no-coil contradict each other — pass one")
    files = []
    if args.coil_json:
        extras["coil"] = read_json_object(args.coil_json, "--coil-json", fix)
        files.append(args.coil_json)
    elif args.no_coil:
        extras["coil"] = False
    if args.protocol_json:
        extras["protocol"] = read_json_object(args.protocol_json, "--protocol-json", fix)
        files.append(args.protocol_json)
    if args.madrs:
        extras["madrs"] = args.madrs
    days = {
        "first_session_day": args.first_session_day,
        "last_session_day": args.last_session_day,
    }
    if any(v is not None for v in days.values()):
        if not args.madrs:
            raise InputError(
                "--first-session-day / --last-session-day place the treatment in the MADRS "
                "figure — add --madrs TSV"
            )
        extras["treatment_days"] = {k: v for k, v in days.items() if v is not None}
    if args.session_log:
        extras["session_log"] = args.session_log
    found = None
    if args.protocol_json:
        from ...report.sections import mt_trials_of_protocol

        found = mt_trials_of_protocol(extras["protocol"], args.protocol_json)
    if args.mt_trials:
        from ...io.derivatives import sha256

        if (
            found is not None
            and Path(args.mt_trials).is_file()
            and sha256(found) != sha256(args.mt_trials)
        ):
            raise InputError(
                f"--mt-trials {Path(args.mt_trials).name} is not the MEP trials table behind the "
                f"protocol's motor threshold ({found}) — pass that table, or leave out "
                "--mt-trials to use it"
            )
        extras["mt_trials"] = args.mt_trials
    elif found is not None:
        logger.info("MEP curve: trials %s (behind the protocol's --rmt-json)", found)
        extras["mt_trials"] = found
    if files:
        extras["files"] = files
    return extras


def run(args: argparse.Namespace) -> int:
    """Write the requested reports; return the exit code."""
    from ... import NOTICE
    from ..._utils.progress import spinner
    from ...exceptions import InputError
    from ...report import write_cohort_report, write_participant_report
    from ...report.data import available_reports

    participant_only = [
        args.participant_label,
        args.session,
        args.circuit,
        args.coil_json,
        args.protocol_json,
        args.madrs,
        args.nasion_inion,
        args.first_session_day,
        args.last_session_day,
        args.session_log,
        args.mt_trials,
    ]
    if args.level != "group" and args.trial_json:
        raise InputError("--trial-json belongs to the cohort report — use it with 'group'")
    if args.level == "group":
        if any(v is not None for v in participant_only) or args.no_coil:
            raise InputError(
                "participant options were given with 'group' — drop them, or use 'participant'"
            )
        trial = None
        if args.trial_json:
            from ...io.derivatives import read_json_object

            trial = read_json_object(
                args.trial_json,
                "--trial-json",
                "pass the file written by 'tmstarget trial analyze --report FILE.json'",
            )
        with spinner("writing the cohort report"):
            paths = [
                write_cohort_report(
                    args.out_dir, trial, [args.trial_json] if args.trial_json else ()
                )
            ]
    else:
        if not args.participant_label:
            raise InputError(
                "'participant' needs --participant-label L — or use 'group' for the cohort report"
            )
        extras = _extras(args)
        pairs = available_reports(args.out_dir, args.participant_label, args.session, args.circuit)
        if len(pairs) > 1 and (extras.get("coil") or extras.get("protocol")):
            logger.warning(
                "the same coil/protocol data is shown in %d "
                "reports (sessions/circuits); pass --session/--circuit "
                "to choose one",
                len(pairs),
            )
        paths = []
        for ses, circ in pairs:
            with spinner("writing the report"):
                paths.append(
                    write_participant_report(
                        args.out_dir, args.participant_label, ses, circ, extras
                    )
                )
    if args.json:
        print_json({"reports": [str(p) for p in paths], "notice": NOTICE})
    list_written(paths, log=True)
    return 0
