"""``tmstarget trial simulate``: a trial table with the seed study's design."""

from __future__ import annotations

import argparse

from ..._common import finite_float, list_written, nonneg_int, output_file
from ..._help import HELP
from ._shared import _emit_json, add_action, logger


def run_simulate(args: argparse.Namespace) -> int:
    """Simulate a trial table with the seed study's design.

    See :func:`tmstarget.trial.workflow.simulate_table_file`.
    """
    from ....trial.workflow import simulate_table_file

    design, table = simulate_table_file(
        args.out,
        participants=args.participants,
        effect_size=args.effect_size,
        dropout=args.dropout,
        days=args.days,
        incomplete=args.incomplete,
        seed=args.seed,
    )
    if args.json:
        _emit_json(
            {
                "path": str(args.out),
                "participants": design.n_participants,
                "rows": len(table),
                "seed": args.seed,
                "effect_size": design.effect_size,
                "arms": list(design.arms),
                "timepoints": list(design.timepoints),
            }
        )
    else:
        logger.info(
            "%d participants, %d rows (seed %d)", design.n_participants, len(table), args.seed
        )
    list_written([args.out], log=True)
    return 0


def add_simulate(
    actions: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]
) -> None:
    """Register ``tmstarget trial simulate``."""
    p = add_action(
        actions,
        parents,
        "simulate",
        "Simulate a trial table with the seed study's design",
        run_simulate,
        "40 adults with TRD, connectivity-guided vs scalp-based, "
        "MADRS at baseline, week1, month1,\n"
        "true Cohen's d of the 1-month reduction = --effect-size; stratified blocked allocation.",
    )
    p.add_argument("out", type=output_file, metavar="OUT.tsv", help="table to write")
    p.add_argument("--participants", type=int, default=40, help="participants randomised")
    p.add_argument(
        "--effect-size",
        type=finite_float,
        default=0.8,
        help=HELP["effect-size"] + " (the true effect simulated)",
    )
    p.add_argument(
        "--dropout", type=float, default=0.0, help="probability of missing the final visit"
    )
    p.add_argument(
        "--days",
        action="store_true",
        help="add day, last_session_day and sessions_received "
        "columns (follow-ups scattered around their target "
        "day)",
    )
    p.add_argument(
        "--incomplete",
        type=float,
        default=0.0,
        help="with --days: probability of stopping treatment early",
    )
    p.add_argument("--seed", type=nonneg_int, default=0, help=HELP["seed"])
