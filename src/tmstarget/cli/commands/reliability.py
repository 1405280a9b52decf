"""``tmstarget reliability``: how sure a participant's target is, and how individual targets are.

Individuality is judged over a cohort's targets.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from ...io.paths import check_output_dir
from .._common import (
    SPACE_CHOICES,
    add_cleaning_arguments,
    add_selection_arguments,
    add_surface_mesh_argument,
    cleaning_options,
    deprecated_alias,
    list_written,
    nonneg_int,
    placement_error_options,
    positive_float,
    positive_int,
    print_json,
)
from .._help import HELP

logger = logging.getLogger("tmstarget")

DESCRIPTION = """\
Participant level:  tmstarget reliability FMRIPREP_DIR OUT_DIR participant [--participant-label L
...] [--session S] Group level:        tmstarget reliability OUT_DIR group [--circuit-label LABEL]

participant: re-targets re-weightings of the participant's own cleaned data — the first and second
half of the usable volumes, each run alone, circular block-bootstrap resamples over time (blocks as
long as the autocorrelation of the data requires, or --block-length-s) and the first k minutes — and
writes OUT/sub-L/[ses-S/]sub-L[_ses-S]_desc-<circuit>_reliability.json with split_half_distance_mm,
the halves' score-map agreement (spatial correlation, ICC), run and session distances,
confidence_radius_mm (bootstrap and the data's own split combined, capped at the search region) with
a 95% ellipsoid and the bootstrap point cloud, the one-line reliability_verdict (95% radius <= 5 mm:
reliable; never from one run under 20 minutes), scan_length_curve
and minutes_needed (one model with the verdict). Resamples re-weight the
cleaned data (the filter and confound fit are not refitted per resample); see docs/reliability.md.
It takes the circuit, method and cleaning options of 'tmstarget target', with the same defaults.
Surface data are read as 'tmstarget target' reads them (--space fsaverage5: GIFTI pairs; --space
fsLR: CIFTI, with --surface-mesh for the cortical vertices); distances are in mm between the MNI
coordinates of the mesh vertices.

group: reads every OUT/sub-*/[ses-*/]*_desc-<circuit>_target.json and compares within-person
distances (between sessions) with between-person distances, as in Cash et al. 2021 (Hum Brain Mapp):
writes
OUT/group_desc-<circuit>_reliability.tsv (one row per participant) and ..._reliability.json (summary
and the between/within ratio). Research use; not a medical device."""


def add_parser(subparsers, parents) -> None:
    """Register ``reliability``."""
    from ...targeting import defaults as d
    from ..parser import HelpFormatter

    p = subparsers.add_parser(
        "reliability",
        parents=parents,
        help="split-half, bootstrap confidence region, scan length; cohort stability",
        description=DESCRIPTION,
        formatter_class=HelpFormatter,
    )
    p.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="FMRIPREP_DIR OUT_DIR participant, or OUT_DIR group",
    )
    g = p.add_argument_group("inputs")
    g.add_argument(
        "--participant-label",
        nargs="+",
        default=None,
        metavar="L",
        help=HELP["participant-label"] + "; one or more (default: all participants)",
    )
    g.add_argument(
        "--session",
        default=None,
        metavar="S",
        help=HELP["session"] + ", with session-vs-session distances",
    )
    g.add_argument("--task", default="rest", help=HELP["task"])
    g.add_argument(
        "--space",
        default=None,
        choices=SPACE_CHOICES,
        help=HELP["space"],
    )
    add_surface_mesh_argument(g)
    g.add_argument(
        "--t-r",
        type=positive_float,
        metavar="S",
        help=HELP["t-r"],
    )
    c = p.add_argument_group("targeting (as 'tmstarget target')")
    add_selection_arguments(
        c,
        "; at the group level: which targets to read",
    )
    add_cleaning_arguments(p.add_argument_group("cleaning (as 'tmstarget target')"))
    r = p.add_argument_group("reliability")
    r.add_argument(
        "--bootstrap",
        "--n-bootstrap",
        action=deprecated_alias("--n-bootstrap"),
        type=positive_int,
        default=d.N_BOOTSTRAP,
        metavar="N",
        help=HELP["bootstrap"],
    )
    r.add_argument("--seed", type=nonneg_int, default=0, help=HELP["seed"])
    r.add_argument(
        "--block-length-s",
        type=positive_float,
        metavar="S",
        help="bootstrap block length; from the data's autocorrelation when absent",
    )
    r.add_argument(
        "--norm-voxels",
        type=positive_int,
        default=20_000,
        metavar="N",
        help="circuit voxels re-normalised exactly per resample (similarity method)",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print the reliability JSON (group: the summary) to stdout",
    )
    p.set_defaults(func=run)


def options_from_args(args: argparse.Namespace):
    """Build :class:`~tmstarget.targeting.TargetingOptions` from the targeting and cleaning options.

    They are built as ``target`` builds them.
    """
    from ...targeting import TargetingOptions

    return TargetingOptions(
        circuit=args.circuit,
        circuit_label=args.circuit_label,
        method=args.method,
        search_mask=args.search_mask,
        neighbourhood_mm=args.neighbourhood_mm,
        t_r=args.t_r,
        **cleaning_options(args),
        **placement_error_options(args),
    )


def _participants(args, src: Path, out: Path) -> int:
    from ...cohort import cohort_reliability
    from ...targeting.uncertainty import verdict_line

    results, written = cohort_reliability(
        src,
        out,
        options_from_args(args),
        participants=args.participant_label,
        session=args.session,
        task=args.task,
        space=args.space,
        surface_mesh=args.surface_mesh or (),
        n_bootstrap=args.bootstrap,
        seed=args.seed,
        block_length_s=args.block_length_s,
        norm_voxels=args.norm_voxels,
    )
    for res in results:
        name = f"sub-{res['participant']}" + (f" ses-{res['session']}" if res["session"] else "")
        logger.info("%s: split halves %.1f mm apart", name, res["split_half_distance_mm"])
        logger.info("%s: %s", name, verdict_line(res))
    if args.json:
        print_json(results[0] if len(results) == 1 else results)
    list_written(written, log=True)
    return 0


def _group(args, out: Path) -> int:
    from ...cohort import group_reliability
    from ...targeting.uncertainty.cohort import RATIO_LABEL

    summary, tsv, summary_path = group_reliability(out, args.circuit_label)
    logger.info(
        "median distance within participants %.1f mm, between %.1f mm; %s %s",
        summary["median_within_mm"],
        summary["median_between_mm"],
        RATIO_LABEL,
        "n/a" if summary["ratio_between_within"] is None else summary["ratio_between_within"],
    )
    if args.json:
        print_json(summary)
    list_written([tsv, summary_path], log=True)
    return 0


def run(args: argparse.Namespace) -> int:
    """Participant- or group-level reliability; return the exit code."""
    from ...cohort import check_fmriprep_dir
    from ...exceptions import InputError

    paths = args.paths
    if len(paths) == 2 and paths[1] == "group":
        return _group(args, Path(paths[0]))
    if len(paths) != 3 or paths[2] != "participant":
        raise InputError(
            "expected 'FMRIPREP_DIR OUT_DIR participant' "
            f"or 'OUT_DIR group', got {' '.join(paths)} — "
            "see 'tmstarget reliability --help'"
        )
    src, out = Path(paths[0]), Path(paths[1])
    check_output_dir(out, "OUT_DIR")
    check_fmriprep_dir(src, out)
    return _participants(args, src, out)
