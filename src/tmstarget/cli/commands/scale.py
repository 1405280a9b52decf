"""``tmstarget scale``: scoring of clinical rating scales.

HAM-D-17, QIDS-SR-16, CGI-S, CGI-I and C-SSRS-style items: validation, totals, response, remission
and flags.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from .._help import HELP
from ..parser import HelpFormatter

logger = logging.getLogger("tmstarget.cli.scale")

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
prorating). Participants are matched by label: 01 and sub-01 are one person. Response and remission
are shown only where the scale defines them; C-SSRS flags are shown even when the endpoint visit is
missing. Research use; not a medical device: a flag prompts clinical review, it does not assess
risk.

example:
  tmstarget scale hamd.tsv --scale hamd17 --endpoint month1 --json
"""


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Register ``tmstarget scale``."""
    from ...outcomes.defaults import SCALE_KEYS as SCALES

    p = subparsers.add_parser(
        "scale",
        parents=parents,
        help="Other depression scales: HAM-D-17, QIDS-SR-16, CGI, C-SSRS items",
        description=_DESCRIPTION,
        formatter_class=HelpFormatter,
    )
    p.add_argument("tsv", metavar="TSV", help="tab-separated item ratings")
    p.add_argument(
        "--scale", required=True, choices=sorted(SCALES), help="which scale the items belong to"
    )
    p.add_argument(
        "--baseline",
        default="baseline",
        metavar="LABEL",
        help=HELP["baseline"],
    )
    p.add_argument(
        "--endpoint",
        default="month1",
        metavar="LABEL",
        help=HELP["endpoint"] + " (refused when absent and the scale defines response)",
    )
    p.add_argument(
        "--json", action="store_true", help="print one JSON object on stdout and nothing else"
    )
    p.set_defaults(func=run)


def _text(result: dict[str, Any]) -> str:
    s, rules = result["summary"], result["rules"]
    yn = {True: "yes", False: "no", None: "n/a"}
    cssrs = result["key"] == "cssrs"
    cols = [c for c in ("response", "remission") if rules.get(c)]
    defined = "; ".join(f"{c} = {rules[c]}" for c in cols)
    total = "ideation severity" if cssrs else "total"
    lines = [
        f"{result['scale']} ({result['citation']}): {total} "
        f"{result['total_range'][0]}-{result['total_range'][1]}"
        + (f"; {defined}" if defined else f"; {result.get('reports') or 'totals only'}")
    ]
    extra = ["behaviour", "attention"] if cssrs else cols
    lines.append(
        f"{'participant':<12}{'timepoint':<14}{'total':>6}{'change':>8}"
        + "".join(f"  {c:<9}" for c in extra).rstrip()
    )
    for r in result["rows"]:
        change = "" if r["change"] is None else f"{r['change']:+d}"
        values = (
            [r["suicidal_behaviour"], r["clinical_attention"]] if cssrs else [r[c] for c in cols]
        )
        lines.append(
            f"{r['participant']:<12}{r['timepoint']:<14}{r['total']:>6}{change:>8}"
            + "".join(f"  {yn[v]:<9}" for v in values).rstrip()
        )
    counts = [
        f"{s[k]} {word}"
        for k, word in (("n_responders", "responders"), ("n_remitters", "remitters"))
        if k in s
    ]
    lines.append(
        f"endpoint {s['endpoint']}: {s['n_assessed']}/{s['n_participants']} assessed"
        + (f"; {', '.join(counts)}" if counts else "")
    )
    rule = s.get("clinical_attention_rule")
    named = s.get("clinical_attention_items") or {}
    lines += [
        f"CLINICAL ATTENTION: {x}"
        + (f": {'; '.join(named[x])}" if named.get(x) else "")
        + (f" (flag rule: {rule})" if rule else "")
        for x in s["clinical_attention"]
    ]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Parse and validate the ratings, then print the outcomes."""
    from ...exceptions import InputError
    from ...io.tables import read_tsv_text
    from ...outcomes.scales import parse_scale_table, scale_outcomes
    from .._common import emit

    path = Path(args.tsv)
    rows = parse_scale_table(read_tsv_text(args.tsv, "rating table"), args.scale, source=path.name)
    try:
        outcomes = scale_outcomes(rows, args.scale, baseline=args.baseline, endpoint=args.endpoint)
    except InputError as exc:
        raise InputError(f"{path.name}: {exc}") from None
    if (
        outcomes["summary"]["n_assessed"] == 0
    ):  # CGI-S, C-SSRS: reported (flags and all), with a warning
        logger.warning(
            "%s: no rating is labelled %r (found: %s) — the "
            "endpoint summary counts nobody; pass --endpoint "
            "with the endpoint visit's label",
            path.name,
            args.endpoint,
            ", ".join(sorted({r.timepoint for r in rows})),
        )
    result = {"input": path.name, **outcomes}
    return emit(result, as_json=args.json, render=_text)
