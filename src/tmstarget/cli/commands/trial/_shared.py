"""What the ``tmstarget trial`` actions share: table help, JSON output, action registration."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable

from ...parser import HelpFormatter

logger = logging.getLogger("tmstarget.cli.trial")

TABLE_HELP = """\
Input table (tab-separated, long format: one row per participant and timepoint):
  participant_id   participant label
  arm              allocated arm; exactly two arms, constant within a participant
  timepoint        assessment label, e.g. baseline, week1, month1
  madrs_total      MADRS total 0-60; empty or NA for a missed visit
  stratum*         optional stratification columns (constant within a participant;
                   adjusted for in the ANCOVA and the mixed model)
  guess*           optional blinding guesses (e.g. guess_participant, guess_rater):
                   an arm name or dont_know; each participant's last guess counts
  day              optional: assessment day on the trial clock (e.g. days since
                   randomization); with it, follow-ups are assigned to --visit windows
  last_session_day day of the participant's last treatment session (needed with day)
  sessions_received optional: sessions received (per-protocol rule)

With days, a follow-up belongs to the visit whose window contains (day -
last_session_day); a row labelled with a visit's name (e.g. week1) counts only at
that visit. Outside its window it is listed as out of window and left out; two in
one window: the one closest to the target day counts. Windows may not overlap or
reach a neighbouring visit's target day. The endpoint
is a named visit (--endpoint, default month1 = day 28 +/- 3 after the last session).
ITT = everyone randomized with a baseline, as allocated (binary outcomes: not
assessed at the endpoint = failure); per protocol = enough sessions and the
endpoint assessed within its window.

Every participant needs a baseline score; a participant may appear only once per
timepoint. Differences are experimental minus control in MADRS reduction (baseline
minus follow-up), so positive values favour the experimental arm. The experimental
arm is the arm of the first row unless --experimental is given.

Example:
  participant_id  arm           timepoint  madrs_total  stratum            guess_participant
  sub-01          connectivity  baseline   33           severity=moderate
  sub-01          connectivity  week1      26           severity=moderate
  sub-01          connectivity  month1     15           severity=moderate  connectivity
"""


def _emit_json(obj: dict[str, object]) -> None:
    from ....trial.io import jsonable
    from ..._common import print_json

    print_json(jsonable(obj))


def _json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object on stdout and nothing else"
    )


def add_action(
    actions: argparse._SubParsersAction,
    parents: list[argparse.ArgumentParser],
    name: str,
    help_text: str,
    func: Callable[[argparse.Namespace], int],
    epilog: str | None = None,
) -> argparse.ArgumentParser:
    """Register one ``tmstarget trial`` action (with ``--json``) and return its parser."""
    p = actions.add_parser(
        name,
        parents=parents,
        help=help_text,
        description=help_text,
        epilog=epilog,
        formatter_class=HelpFormatter,
    )
    p.set_defaults(func=func)
    _json_flag(p)
    return p
