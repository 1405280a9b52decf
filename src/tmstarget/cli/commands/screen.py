"""``tmstarget screen``: the TMS safety screening form.

A template of the form, and a completed form checked for review flags.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ...exceptions import InputError
from .._common import output_file
from ..parser import HelpFormatter

_DESCRIPTION = """\
Write the safety screening form (items after Rossi et al. 2011, Clin Neurophysiol 122:1686,
re-worded), or check a completed one: every item answered yes or no; every "yes" is flagged for a
physician's review; a course can be scheduled ('tmstarget protocol ... --ics/--log-template
--screening FORM') only when nothing is flagged or a physician has cleared the flags (rows
reviewed_by, review_date, review_decision = cleared; never by --screening-override against a
physician's "not cleared"). Dates may not lie in the future, and a review may not predate the form's
screening_date. Research use; not a medical device.

examples:
  tmstarget screen --template screening.tsv
  tmstarget screen screening.tsv --json
"""


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Register ``tmstarget screen``."""
    p = subparsers.add_parser(
        "screen",
        parents=parents,
        help="TMS safety screening form: template, and review flags of a completed form",
        description=_DESCRIPTION,
        formatter_class=HelpFormatter,
    )
    p.add_argument("form", nargs="?", metavar="FORM_TSV", help="completed screening form to check")
    p.add_argument("--template", type=output_file, metavar="FILE", help="write an empty form")
    p.add_argument(
        "--json", action="store_true", help="print one JSON object on stdout and nothing else"
    )
    p.set_defaults(func=run)


def _text(result: dict[str, Any]) -> str:
    if result["screening"] is None:
        return f"wrote screening form template: {result['template']}"
    s = result["screening"]
    lines = [
        f"screening: {s['status']}"
        + ("" if s["allows_scheduling"] else " (a course cannot be scheduled)")
    ]
    for flag in s["flags"]:
        lines.append(
            f"  review: {flag['item']}" + (f" — {flag['details']}" if flag["details"] else "")
        )
    if s.get("screening_date"):
        lines.append(f"  form filled in on {s['screening_date']}")
    if s["review_decision"]:
        lines.append(
            f"  physician: {s['review_decision']} by {s['reviewed_by']} on {s['review_date']}"
        )
    if result["template"]:
        lines.append(f"wrote screening form template: {result['template']}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Check the form (if given), write the template (if asked), then print."""
    from ...io.tables import read_tsv_text
    from ...protocol.files import write_atomic
    from ...protocol.screening import parse_screening, screening_template
    from .._common import emit

    if not args.form and not args.template:
        raise InputError(
            "nothing to do — give a completed FORM_TSV to "
            "check, or --template FILE to write an empty "
            "form"
        )
    screening = None
    if args.form:
        screening = parse_screening(
            read_tsv_text(args.form, "screening form"), source=Path(args.form).name
        )
    template = str(write_atomic(args.template, screening_template())) if args.template else None
    result = {"screening": screening.to_dict() if screening else None, "template": template}
    return emit(result, as_json=args.json, render=_text)
