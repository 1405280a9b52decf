"""``tmstarget trial power``: power for a trial size, or the size for a target power."""

from __future__ import annotations

import argparse
import sys

from ..._help import HELP
from ._shared import _emit_json, add_action


def run_power(args: argparse.Namespace) -> int:
    """Power for a given size, or the size for a given power.

    See :func:`tmstarget.trial.workflow.power_or_size`.
    """
    from dataclasses import asdict

    from ....trial.workflow import power_or_size

    result = power_or_size(
        args.effect_size,
        participants=args.participants,
        power=args.power,
        alpha=args.alpha,
        baseline_correlation=args.baseline_correlation,
    )
    if args.json:
        _emit_json({**asdict(result), "n_total": result.n_total})
    else:
        sys.stdout.write(
            f"d = {result.effect_size:g}, alpha = {result.alpha:g} "
            f"(two-sided), baseline correlation = {result.baseline_correlation:g}: "
            f"{result.n_experimental} + {result.n_control} "
            f"= {result.n_total} participants give power {result.power:.3f}\n"
        )
    return 0


def add_power(actions: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    """Register ``tmstarget trial power``."""
    p = add_action(
        actions,
        parents,
        "power",
        "Power for a trial size, or the size for a target power (two-sided t-test)",
        run_power,
    )
    p.add_argument(
        "--effect-size", type=float, required=True, help=HELP["effect-size"] + " to detect"
    )
    p.add_argument(
        "--participants",
        type=int,
        default=None,
        help="total participants, split equally (gives power)",
    )
    p.add_argument("--power", type=float, default=None, help="target power (gives the sample size)")
    p.add_argument("--alpha", type=float, default=0.05, help="two-sided type I error rate")
    p.add_argument(
        "--baseline-correlation",
        type=float,
        default=0.0,
        help="baseline-outcome correlation credited to ANCOVA",
    )
