"""``tmstarget score``: the group-circuit value around MNI coordinates (retrospective studies)."""

from __future__ import annotations

import argparse

from .._common import output_file
from .._help import HELP

DESCRIPTION = """\
Sample a group circuit map around MNI coordinates: where patients were stimulated, how well did it
match the depression circuit? Sign convention: POSITIVE = the end of the circuit to stimulate (sgACC
negative).

circuits (--circuit):
  PATH         any group map NIfTI in MNI space (sampled through its own affine; no resampling)
  convergent   the group convergent depression circuit (downloaded once, checksummed; TMSTARGET_DATA
               sets the cache)
  sgacc-group  a group sgACC-anticorrelation map is not bundled with tmstarget: pass its NIfTI path
               instead (refused with that advice, exit 2)

weighting (--weighting): 'sphere' = mean over voxels within --radius-mm; 'gaussian' = coil-footprint
weights with FWHM = --radius-mm. --radius-mm 0 interpolates at the point. Coordinates outside the
head, or where the map has no data, are refused (exit 2). Research use; not a medical device.

examples:
  tmstarget score --circuit DepressionCircuit.nii.gz --coords -38,44,26 --json
  tmstarget score --circuit convergent --coords-file sites.csv --radius-mm 12 --out scores.tsv"""


def add_parser(subparsers, parents) -> None:
    """Register ``score``."""
    from ...defaults import WEIGHTINGS
    from ..parser import HelpFormatter

    p = subparsers.add_parser(
        "score",
        parents=parents,
        help="group-circuit score around MNI coordinates",
        description=DESCRIPTION,
        formatter_class=HelpFormatter,
    )
    p.add_argument(
        "--circuit",
        required=True,
        metavar="PATH|convergent|sgacc-group",
        help="group circuit map for the group score (positive = stimulate)",
    )
    p.add_argument(
        "--coords", action="append", default=[], metavar="x,y,z", help="MNI mm (repeatable)"
    )
    p.add_argument(
        "--coords-file",
        metavar="CSV",
        help="CSV/TSV with columns x, y, z (mm) and optionally label",
    )
    p.add_argument("--radius-mm", type=float, default=10.0, metavar="MM", help=HELP["radius-mm"])
    p.add_argument(
        "--weighting",
        choices=WEIGHTINGS,
        default="sphere",
        help=HELP["weighting"],
    )
    p.add_argument(
        "--out", type=output_file, metavar="TSV", help="also write the scores as TSV (atomically)"
    )
    p.add_argument(
        "--json", action="store_true", help="print one JSON object on stdout and nothing else"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Score each coordinate."""
    import math

    from ... import NOTICE
    from ...compare import check_in_head, sample_map, score_label
    from ...exceptions import InputError
    from ...headmodel import load_template_head
    from ...io.derivatives import write_text_atomic
    from ...io.tables import read_points
    from ...targeting.circuits import load_group_map
    from .._common import list_written, print_json

    if args.circuit in ("sgacc-group", "sgacc"):
        load_group_map(args.circuit)  # refuses with advice
    points = read_points(args.coords, args.coords_file)
    if not math.isfinite(args.radius_mm) or args.radius_mm < 0:
        raise InputError(f"--radius-mm {args.radius_mm:g} must be ≥ 0 — pass e.g. 10")
    head = load_template_head()
    for label, xyz in points:
        check_in_head(head, xyz, f"coordinate {label} (MNI mm)")
    data, affine, circuit = load_group_map(args.circuit)
    rows = []
    for label, xyz in points:
        value, n = sample_map(data, affine, xyz, args.radius_mm, args.weighting)
        if not math.isfinite(value):
            raise InputError(
                f"the circuit map has no data within {args.radius_mm:g} "
                f"mm of {label} — check the coordinates are "
                "MNI mm"
            )
        rows.append(
            {
                "label": label,
                "mni": [round(float(v), 1) for v in xyz],
                "score": round(value, 4),
                "n_voxels": n,
            }
        )
    result = {
        "circuit": circuit,
        "radius_mm": args.radius_mm,
        "weighting": args.weighting,
        "score_label": score_label(args.radius_mm, args.weighting),
        "points": rows,
        "notice": NOTICE,
    }
    if args.out:
        lines = ["label\tx_mm\ty_mm\tz_mm\tscore\tn_voxels"]
        lines += [
            f"{r['label']}\t{r['mni'][0]:.1f}\t{r['mni'][1]:.1f}\t{r['mni'][2]:.1f}\t{r['score']:.4f}\t{r['n_voxels']}"
            for r in rows
        ]
        write_text_atomic(args.out, "\n".join(lines) + "\n")
    if args.json:
        print_json(result)
        list_written([args.out], json_mode=True)
        return 0
    for r in rows:
        print(
            f"{r['label']}: {circuit} score ({result['score_label']}) {r['score']:.4f} "
            f"({r['n_voxels']} voxels)"
        )
    list_written([args.out])
    return 0
