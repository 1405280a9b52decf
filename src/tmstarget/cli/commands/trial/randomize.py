"""``tmstarget trial randomize`` and ``reveal``: the concealed allocation list and its key."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..._common import list_written, nonneg_int, output_file
from ..._help import HELP
from ._shared import _emit_json, add_action, logger


def run_randomize(args: argparse.Namespace) -> int:
    """Write a concealed allocation list and its key.

    See :func:`tmstarget.trial.workflow.randomize_to_files`.
    """
    from ....trial.workflow import randomize_to_files

    concealed, key = Path(args.concealed), Path(args.key)
    allocation = randomize_to_files(
        concealed,
        key,
        per_stratum=args.per_stratum,
        factors=args.factor,
        arms=args.arms,
        ratio=args.ratio,
        block_sizes=args.block_sizes,
        seed=args.seed,
        force=args.force,
    )
    summary = {
        "concealed": str(concealed),
        "key": str(key),
        "strata": list(allocation.strata),
        "entries": len(allocation.entries),
        "arms": list(allocation.arms),
        "chain_head": allocation.chain_head,
    }
    if args.json:
        _emit_json(summary)
    else:
        logger.info("%d slots in %d strata", len(allocation.entries), len(allocation.strata))
        logger.info(
            "chain head %s — record it publicly; keep the key and its seed secret",
            allocation.chain_head,
        )
    list_written([concealed, key], log=True)
    return 0


def run_reveal(args: argparse.Namespace) -> int:
    """Reveal the next allocation of a stratum for one participant and append it to the log.

    See :func:`tmstarget.trial.workflow.reveal_to_log`.
    """
    from dataclasses import asdict

    from ....trial.workflow import reveal_to_log

    record, log = reveal_to_log(
        args.concealed,
        args.key,
        args.participant,
        stratum=args.stratum,
        log=args.log,
        expect_head=args.expect_head,
    )
    if args.json:
        _emit_json({**asdict(record), "log": str(log)})
    else:
        sys.stdout.write(
            f"{record.participant_id}: {record.arm} (stratum "
            f"{record.stratum}, slot {record.position}, sequence "
            f"{record.sequence})\n"
        )
    list_written([log], args.json)
    return 0


def add_randomize(
    actions: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]
) -> None:
    """Register ``tmstarget trial randomize``."""
    p = add_action(
        actions,
        parents,
        "randomize",
        "Write a blocked, stratified, concealed allocation list and its key",
        run_randomize,
        "The concealed list (for sites) shows salted SHA-256 "
        "commitments and a hash chain, never arms.\n"
        "The key (arms, salts, seed) goes to whoever reveals allocations; keep it secret.\n"
        "Example: tmstarget trial randomize alloc.tsv --key alloc_key.json --per-stratum 40 \\\n"
        "           --factor severity=moderate,severe --seed 7",
    )
    p.add_argument(
        "concealed",
        type=output_file,
        metavar="CONCEALED.tsv",
        help="concealed allocation list to write",
    )
    p.add_argument(
        "--key",
        type=output_file,
        required=True,
        metavar="KEY.json",
        help=HELP["key"] + ", written here",
    )
    p.add_argument(
        "--per-stratum",
        type=int,
        required=True,
        metavar="N",
        help="slots per stratum (the most any stratum may enrol)",
    )
    p.add_argument(
        "--factor",
        action="append",
        metavar="NAME=L1,L2",
        help="stratification factor (repeat to cross factors)",
    )
    p.add_argument("--arms", nargs="+", default=["connectivity", "scalp"], help="arm names")
    p.add_argument(
        "--ratio",
        nargs="+",
        type=int,
        default=None,
        help="allocation ratio per arm (default equal)",
    )
    p.add_argument(
        "--block-sizes", nargs="+", type=int, default=[2, 4, 6], help="block sizes drawn at random"
    )
    p.add_argument(
        "--seed",
        type=nonneg_int,
        default=None,
        help=HELP["seed"] + " (default: fresh, recorded in the key)",
    )
    p.add_argument("--force", action="store_true", help="replace existing outputs")


def add_reveal(actions: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    """Register ``tmstarget trial reveal``."""
    p = add_action(
        actions,
        parents,
        "reveal",
        "Reveal the next allocation for one participant (verifies list, key and log first)",
        run_reveal,
    )
    p.add_argument(
        "concealed", type=Path, metavar="CONCEALED.tsv", help="concealed allocation list"
    )
    p.add_argument("--key", type=Path, required=True, metavar="KEY.json", help=HELP["key"])
    p.add_argument(
        "--participant",
        required=True,
        metavar="ID",
        help=HELP["participant"] + " whose allocation to reveal",
    )
    p.add_argument(
        "--stratum",
        default=None,
        metavar="LABEL",
        help="their stratum, e.g. severity=severe (needed with several strata)",
    )
    p.add_argument(
        "--log",
        type=Path,
        default=None,
        metavar="LOG.tsv",
        help="reveal log (default: CONCEALED_reveals.tsv)",
    )
    p.add_argument(
        "--expect-head",
        default=None,
        metavar="HEX",
        help="chain head recorded at randomization, checked before revealing",
    )
