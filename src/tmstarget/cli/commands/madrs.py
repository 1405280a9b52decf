"""``tmstarget madrs``: MADRS totals, change from baseline, response, remission, trajectory plot."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .._common import output_file
from .._help import HELP
from ..parser import HelpFormatter

_DESCRIPTION = """\
Validate MADRS assessments (10 items scored 0-6, total 0-60) and report, per participant and
timepoint, the total, change and percent change from baseline, response (>= 50% reduction) and
remission (total <= threshold, default 10; the threshold used is always reported).

The TSV has a header row with: timepoint (required), participant (optional), day (optional, days
since baseline, used to order timepoints and as the plot's x axis), and either item1..item10 or
total.

The endpoint is a named visit, never the last row: the timepoint labelled --endpoint (default
month1), or, with --last-session-day, the assessment in that visit's window after the last treatment
session (default windows: end_of_treatment 0-3, week1 7 +/- 2, month1 28 +/- 3, month3 84 +/- 7
days). Participants not assessed at the endpoint count as non-responders and non-remitters; a
--last-session-day before a participant's baseline, or one that leaves every participant without an
assessment in the endpoint window, is refused. 01 and sub-01 are one participant.

The --plot figure shows each participant's totals, the 50% response line (half the baseline total),
the remission threshold, the treatment period (shaded with --first-session-day and
--last-session-day; one line with only one of them; not drawn without them) and a red triangle
where item 10 (suicidal thoughts) is 4 or more.

example:
  tmstarget madrs scores.tsv --endpoint month1 --plot madrs.svg --json
  tmstarget madrs scores.tsv --last-session-day 4 --endpoint month1
  tmstarget madrs scores.tsv --first-session-day 1 --last-session-day 5 --plot madrs.svg
"""


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Register ``tmstarget madrs``."""
    from ...outcomes.defaults import DEFAULT_REMISSION_THRESHOLD

    p = subparsers.add_parser(
        "madrs",
        parents=parents,
        help="MADRS outcomes: change from baseline, response, remission, trajectory plot",
        description=_DESCRIPTION,
        formatter_class=HelpFormatter,
    )
    p.add_argument("tsv", metavar="TSV", help="tab-separated MADRS assessments")
    p.add_argument(
        "--baseline",
        default="baseline",
        metavar="LABEL",
        help=HELP["baseline"],
    )
    p.add_argument(
        "--remission-threshold",
        type=int,
        default=DEFAULT_REMISSION_THRESHOLD,
        metavar="N",
        help=HELP["remission-threshold"],
    )
    p.add_argument(
        "--endpoint",
        default="month1",
        metavar="VISIT",
        help=HELP["endpoint"] + " (a visit name with --last-session-day)",
    )
    p.add_argument(
        "--last-session-day",
        type=float,
        default=None,
        metavar="DAY",
        help=HELP["last-session-day"] + ": assign the endpoint by visit window; "
        "refused before a baseline or when no assessment falls in the endpoint window",
    )
    p.add_argument(
        "--first-session-day",
        type=float,
        default=None,
        metavar="DAY",
        help=HELP["first-session-day"]
        + ": with --last-session-day the plot shades the treatment period",
    )
    p.add_argument(
        "--visit",
        action="append",
        default=None,
        metavar="NAME:DAY:WINDOW",
        help=HELP["visit"],
    )
    p.add_argument(
        "--plot",
        type=output_file,
        metavar="FILE",
        help=HELP["plot"]
        + ": the MADRS trajectories with the 50%% response and remission lines, the treatment "
        "period and item-10 flags",
    )
    p.add_argument(
        "--json", action="store_true", help="print one JSON object on stdout and nothing else"
    )
    p.set_defaults(func=run)


def _fmt_pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.1f}%"


def _text_report(result: dict[str, Any]) -> str:
    s = result["summary"]
    lines = [
        f"MADRS: {s['n_participants']} participant(s); response = {s['response_rule']}; "
        f"remission = {s['remission_rule']}",
        f"{'participant':<12}{'timepoint':<14}{'total':>6}{'change':>8}{'%change':>9} "
        " response  remission",
    ]
    for p in result["participants"]:
        for t in p["timepoints"]:
            resp = {True: "yes", False: "no", None: "n/a"}[t["response"]]
            lines.append(
                f"{p['participant']:<12}{t['timepoint']:<14}{t['total']:>6}{t['change']:>+8}{_fmt_pct(t['pct_change']):>9}"
                f"  {resp:<8}  {'yes' if t['remission'] else 'no'}"
            )
    lines.append(
        f"endpoint {s['endpoint']}: {s['n_assessed']}/{s['n_participants']} assessed; "
        f"{s['n_responders']}/{s['n_participants']} responders, "
        f"{s['n_remitters']}/{s['n_participants']} remitters (not assessed = neither)"
        + ("" if s["mean_pct_change"] is None else f", mean change {s['mean_pct_change']:+.1f}%")
    )
    for flagged in s["clinical_attention"]:
        lines.append(f"CLINICAL ATTENTION: {flagged}: {s['clinical_attention_rule']}")
    if result["plot"]:
        lines.append(f"wrote plot: {result['plot']}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Parse, validate and compute; then write the plot atomically; then print."""
    from ..._utils.figures import figure_format
    from ...exceptions import InputError
    from ...io.tables import read_tsv_text
    from ...outcomes.madrs import endpoint_summary, madrs_outcomes, parse_madrs_table
    from ...outcomes.plot import trajectory_figure
    from ...protocol.files import write_atomic
    from ...visits import VisitSchedule, parse_visit
    from .._common import emit

    path = Path(args.tsv)
    if (
        args.first_session_day is not None
        and args.last_session_day is not None
        and args.first_session_day > args.last_session_day
    ):
        raise InputError(
            f"--first-session-day {args.first_session_day:g} is after --last-session-day "
            f"{args.last_session_day:g} — give the first and last treatment days in order"
        )
    plot_format = figure_format(args.plot, "--plot") if args.plot else None
    text = read_tsv_text(args.tsv, "MADRS table")
    assessments = parse_madrs_table(text, source=path.name)
    schedule = VisitSchedule(tuple(parse_visit(v) for v in args.visit)) if args.visit else None
    results = madrs_outcomes(
        assessments,
        baseline=args.baseline,
        remission_threshold=args.remission_threshold,
        source=path.name,
        endpoint=args.endpoint,
        last_session_day=args.last_session_day,
        schedule=schedule,
    )
    if args.last_session_day is None and not any(r.endpoint is not None for r in results):
        labels = sorted({o.timepoint for r in results for o in r.outcomes} - {args.baseline})
        raise InputError(
            f"{path.name}: no assessment is labelled {args.endpoint!r} "
            f"(found: {', '.join(labels)}) — "
            "pass --endpoint with the endpoint visit's label, "
            "or --last-session-day to place visits by day"
        )
    plot_path = plot_alt = None
    if args.plot:
        figure = trajectory_figure(
            results,
            remission_threshold=args.remission_threshold,
            first_session_day=args.first_session_day,
            last_session_day=args.last_session_day,
            fmt=plot_format,
        )
        plot_path, plot_alt = str(write_atomic(args.plot, figure.image)), figure.alt
    result = {
        "instrument": "MADRS",
        "input": path.name,
        "baseline": args.baseline,
        "summary": endpoint_summary(
            results, remission_threshold=args.remission_threshold, endpoint=args.endpoint
        ),
        "participants": [r.to_dict() for r in results],
        "plot": plot_path,
        "plot_alt": plot_alt,
    }
    return emit(result, as_json=args.json, render=_text_report)
