"""``tmstarget trial``: randomize, reveal, simulate, analyze, power.

One module per action holds its options and its ``run_*`` handler: :mod:`.randomize` (randomize and
reveal, which share the allocation key), :mod:`.simulate`, :mod:`.analyze` and :mod:`.power`; the
work itself is in :mod:`tmstarget.trial.workflow`.
"""

from __future__ import annotations

import argparse

from ...parser import HelpFormatter
from . import analyze, power, randomize, simulate


def add_parser(
    subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]
) -> None:
    """Register ``tmstarget trial`` and its actions."""
    trial = subparsers.add_parser(
        "trial",
        parents=parents,
        formatter_class=HelpFormatter,
        help="Trial design and analysis: randomize, reveal, simulate, analyze, power",
        description="Randomised-trial tools for connectivity-guided "
        "vs scalp-based TMS (research use; not a medical "
        "device).",
    )
    actions = trial.add_subparsers(dest="trial_action", metavar="ACTION", parser_class=type(trial))
    actions.required = True
    randomize.add_randomize(actions, parents)
    randomize.add_reveal(actions, parents)
    simulate.add_simulate(actions, parents)
    analyze.add_analyze(actions, parents)
    power.add_power(actions, parents)
