"""``tmstarget scale``: HAM-D-17, QIDS-SR-16, CGI-S, CGI-I and C-SSRS-style items — validation, totals, response, remission, flags."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..parser import HelpFormatter

_DESCRIPTION = """\
Validate item-level ratings of one scale and report totals, change from baseline, response and
remission (with the rule and its source), and C-SSRS items needing clinical attention.

  hamd17     HAM-D-17, 17 items (0-4 or 0-2), total 0-52; response >= 50% reduction; remission <= 7
  qids_sr16  QIDS-SR-16, 16 items 0-3, total 0-27 from 9 domains; response >= 50%; remission <= 5
  cgi_s      CGI-S, one rating 1-7
  cgi_i      CGI-I, one rating 1-7; response = 1 or 2 (much or very much improved)
  cssrs      C-SSRS screener style, items 1-6 yes/no (3-5 only after a yes to 2); flag = intent,
             plan or behaviour

The TSV has timepoint, optional participant and day, and item1..itemN. Every item is required (no
prorating). Research use; not a medical device: a flag prompts clinical review, it does not assess risk.

example:
  tmstarget scale hamd.tsv --scale hamd17 --endpoint month1 --json
"""


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Register ``tmstarget scale``."""
    from ...outcomes.scales import SCALES

    p = subparsers.add_parser("scale", parents=parents, help="Other depression scales: HAM-D-17, QIDS-SR-16, CGI, C-SSRS items",
                              description=_DESCRIPTION, formatter_class=HelpFormatter)
    p.add_argument("tsv", metavar="TSV", help="tab-separated item ratings")
    p.add_argument("--scale", required=True, choices=sorted(SCALES), help="which scale the items belong to")
    p.add_argument("--baseline", default="baseline", metavar="LABEL", help="timepoint label of the baseline rating")
    p.add_argument("--endpoint", default="month1", metavar="LABEL", help="endpoint visit label for the summary")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout and nothing else")
    p.set_defaults(func=run)


def _text(result: dict[str, Any]) -> str:
    s, rules = result["summary"], result["rules"]
    lines = [f"{result['scale']} ({result['citation']}): total {result['total_range'][0]}-{result['total_range'][1]}; "
             f"response = {rules['response'] or 'not defined'}; remission = {rules['remission'] or 'not defined'}",
             f"{'participant':<12}{'timepoint':<14}{'total':>6}{'change':>8}  response  remission"]
    yn = {True: "yes", False: "no", None: "n/a"}
    for r in result["rows"]:
        change = "" if r["change"] is None else f"{r['change']:+d}"
        lines.append(f"{r['participant']:<12}{r['timepoint']:<14}{r['total']:>6}{change:>8}  {yn[r['response']]:<8}  {yn[r['remission']]}")
    lines.append(f"endpoint {s['endpoint']}: {s['n_assessed']}/{s['n_participants']} assessed; {s['n_responders']} responders, "
                 f"{s['n_remitters']} remitters")
    lines += [f"CLINICAL ATTENTION: {x}" for x in s["clinical_attention"]]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Parse and validate the ratings, then print the outcomes."""
    from ...exceptions import InputError
    from ...io.tables import read_tsv_text
    from ...outcomes.scales import parse_scale_table, scale_outcomes
    from .protocol import emit

    path = Path(args.tsv)
    rows = parse_scale_table(read_tsv_text(args.tsv, "rating table"), args.scale, source=path.name)
    if not any(r.timepoint == args.endpoint for r in rows):
        found = ", ".join(sorted({r.timepoint for r in rows}))
        raise InputError(f"{path.name}: no rating is labelled {args.endpoint!r} (found: {found}) — pass --endpoint with the endpoint visit's label")
    result = {"input": path.name, **scale_outcomes(rows, args.scale, baseline=args.baseline, endpoint=args.endpoint)}
    return emit(result, as_json=args.json, render=_text)
