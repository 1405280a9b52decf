"""``tmstarget compare``: connectivity target versus scalp rule, for one participant or a cohort."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from .._common import nonneg_float, output_dir
from .._help import HELP

logger = logging.getLogger("tmstarget")

DESCRIPTION = """\
The trial's central contrast: each participant's connectivity target (a target JSON written by
'tmstarget target') against a scalp rule placed on the template head (tmstarget scalp): the distance
between the cortical targets (mm), each point's individual score (sampled from the participant's
..._score.nii.gz beside the JSON, when present; its zeros = outside the search region = n/a) and
group score (sampled from --circuit), and which is better (higher = better, positive = stimulate).

one participant:  tmstarget compare --target-json sub-01_desc-sgacc_target.json --rule beam-f3 \\
                      --nasion-inion 36 --tragus-tragus 35 --circumference 57 --circuit MAP.nii.gz
a cohort:         tmstarget compare --targets OUT_DIR --measurements heads.tsv --circuit MAP.nii.gz
--out DIR

The measurements TSV has one row per participant: participant_id (with or without 'sub-'),
nasion_inion_cm, tragus_tragus_cm, circumference_cm (needed for --rule beam-f3 only).
--out DIR writes compare.tsv, compare.md, compare.json and compare.svg (or .png), atomically.
Research use; not a medical device."""


def add_parser(subparsers, parents) -> None:
    """Register ``compare``."""
    from ...defaults import WEIGHTINGS
    from .._common import add_rule_args
    from ..parser import HelpFormatter

    p = subparsers.add_parser(
        "compare",
        parents=parents,
        help="connectivity target vs scalp rule: distance, scores, table and figure",
        description=DESCRIPTION,
        formatter_class=HelpFormatter,
    )
    src = p.add_argument_group("connectivity targets (one of)")
    src.add_argument("--target-json", metavar="JSON", help=HELP["target-json"])
    src.add_argument(
        "--targets",
        metavar="DIR",
        help="a folder searched recursively for *_target.json (a cohort)",
    )
    p.add_argument("--measurements", metavar="TSV", help="cohort head measurements (see above)")
    add_rule_args(p)
    s = p.add_argument_group("scores")
    s.add_argument(
        "--circuit",
        metavar="PATH|convergent",
        help="group circuit map for the group score (positive = stimulate)",
    )
    s.add_argument(
        "--radius-mm",
        type=nonneg_float,
        default=10.0,
        metavar="MM",
        help=HELP["radius-mm"],
    )
    s.add_argument(
        "--weighting",
        choices=WEIGHTINGS,
        default="sphere",
        help=HELP["weighting"],
    )
    o = p.add_argument_group("outputs")
    o.add_argument(
        "--out",
        type=output_dir,
        metavar="DIR",
        help="write compare.tsv/.md/.json and the figure here (required for --targets)",
    )
    o.add_argument(
        "--figure-format", choices=["svg", "png"], default="svg", help="figure file type"
    )
    o.add_argument(
        "--json", action="store_true", help="print one JSON object on stdout and nothing else"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Compare, print and write."""
    from ... import NOTICE
    from ...compare import (
        check_in_head,
        compare_targets,
        comparison_line,
        summary,
        write_comparison,
    )
    from ...exceptions import InputError
    from ...headmodel import load_template_head
    from ...io.derivatives import load_score_map, read_target
    from ...io.tables import read_measurements
    from ...targeting.circuits import load_group_map
    from .._common import list_written, print_json, rule_target

    if bool(args.target_json) == bool(args.targets):
        raise InputError(
            "pass exactly one of --target-json FILE (one participant) or --targets DIR (a cohort)"
        )
    if args.targets:
        if not args.out:
            raise InputError("--targets needs --out DIR for the table and figure")
        files = (
            sorted(Path(args.targets).rglob("*_target.json")) if Path(args.targets).is_dir() else []
        )
        if not files:
            raise InputError(
                f"no *_target.json under {args.targets} — run "
                "'tmstarget target' first or pass its output "
                "folder"
            )
    else:
        files = [Path(args.target_json)]
    measurements = read_measurements(args.measurements) if args.measurements else {}
    targets = [(f, read_target(f)) for f in files]
    head = load_template_head()
    for f, obj in targets:
        check_in_head(head, obj["target_mni"], f"target_mni of {f.name}")
    group = None
    if args.circuit:
        data, affine, _ = load_group_map(args.circuit)
        group = (data, affine)
    rows, cache = [], {}
    for f, obj in targets:
        label = str(obj["participant"]).removeprefix("sub-")
        m = measurements.get(label)
        if args.rule == "beam-f3" and args.targets and m is None:
            raise InputError(
                f"participant {label} has no row in --measurements "
                "— add nasion_inion_cm, tragus_tragus_cm, "
                "circumference_cm"
            )
        key = m if args.rule == "beam-f3" else None
        if key not in cache:
            cache[key] = rule_target(args, m)
        scalp = cache[key]
        rows.append(
            compare_targets(
                label,
                obj.get("session"),
                args.rule,
                obj["target_mni"],
                scalp.cortex_mni,
                scalp.scalp_mni,
                individual=load_score_map(f),
                group=group,
                individual_connectivity_score=obj.get("score"),
                radius_mm=args.radius_mm,
                weighting=args.weighting,
            )
        )
    unused = sorted(set(measurements) - {r.participant for r in rows})
    # a cohort sheet may list participants not targeted yet: say so rather than drop them silently
    if unused:
        logger.warning(
            "--measurements rows without a target were left out: %s (no *_target.json for them)",
            ", ".join(unused),
        )
    paths = write_comparison(args.out, rows, args.figure_format) if args.out else []
    result = {
        "summary": summary(rows),
        "comparisons": [r.to_json() for r in rows],
        "outputs": [str(p) for p in paths],
        "notice": NOTICE,
    }
    if args.json:
        print_json(result)
        list_written(paths, json_mode=True)
        return 0
    for r in rows:
        print(comparison_line(r))
    list_written(paths)
    return 0
