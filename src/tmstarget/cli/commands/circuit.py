"""``tmstarget circuit build``: group circuit map from stimulation sites, outcomes and rest data."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from .._common import input_file, list_written, output_file, positive_float, print_json
from .._help import HELP

logger = logging.getLogger("tmstarget")

DESCRIPTION = """\
Build the voxel-wise map of how the connectivity of stimulation sites relates to clinical
improvement (Weigand 2018; Siddiqi 2021): every site's seed map (a sphere at its MNI coordinate) is
computed from resting-state data, then correlated with improvement across sites at every voxel. The
map is written as a NIfTI usable as 'tmstarget target ... --circuit MAP' (positive = connectivity
that went with more improvement = the end to stimulate) with a JSON sidecar describing how it was
made.

  tmstarget circuit build SITES.tsv FMRIPREP_DIR OUT_MAP.nii.gz [--connectome normative|individual]

SITES.tsv: one row per treated participant with columns participant, x, y, z (MNI mm of the site)
and improvement (higher = better, e.g. percent MADRS reduction). FMRIPREP_DIR: resting-state runs in
an MNI space (all participants on one grid). --connectome normative (default) averages each site's
map over all participants given; individual uses the stimulated participant's own rest data.
Research use; not a medical device."""


def add_parser(subparsers, parents) -> None:
    """Register ``circuit`` and its actions (subparsers; one for now: ``build``)."""
    from .._common import add_cleaning_arguments, add_dask_arguments
    from ..parser import HelpFormatter

    circuit = subparsers.add_parser(
        "circuit",
        parents=parents,
        help="build a group circuit map from stimulation sites and outcomes",
        description=DESCRIPTION,
        formatter_class=HelpFormatter,
    )
    actions = circuit.add_subparsers(
        dest="circuit_action", metavar="ACTION", parser_class=type(circuit), required=True
    )
    p = actions.add_parser(
        "build",
        parents=parents,
        help="the improvement map of stimulation sites",
        description=DESCRIPTION,
        formatter_class=HelpFormatter,
    )
    p.add_argument(
        "sites",
        type=Path,
        metavar="SITES.tsv",
        help="participant, x, y, z, improvement per stimulation site",
    )
    p.add_argument(
        "fmriprep_dir", type=Path, metavar="FMRIPREP_DIR", help="fMRIPrep folder with the rest data"
    )
    p.add_argument(
        "out",
        type=output_file,
        metavar="OUT_MAP.nii.gz",
        help="circuit map to write (a .json sidecar is written beside it)",
    )
    g = p.add_argument_group("connectome")
    g.add_argument(
        "--connectome",
        default="normative",
        choices=["normative", "individual"],
        help="site maps averaged over all participants, or from each site's own participant",
    )
    g.add_argument(
        "--participant-label",
        nargs="+",
        metavar="L",
        help=HELP["participant-label"] + "; one or more (default: all participants)",
    )
    g.add_argument("--task", default="rest", help=HELP["task"])
    g.add_argument(
        "--space",
        choices=["MNI152NLin6Asym", "MNI152NLin2009cAsym"],
        help=HELP["space"],
    )
    g.add_argument(
        "--radius-mm",
        type=positive_float,
        default=10.0,
        metavar="MM",
        help=HELP["radius-mm"] + ", around each site",
    )
    add_cleaning_arguments(p.add_argument_group("cleaning (as 'tmstarget target')"))
    r = p.add_argument_group("running")
    add_dask_arguments(r)
    r.add_argument(
        "--reference",
        type=input_file,
        metavar="MAP",
        help="also report the spatial correlation of the map with this one (e.g. a known circuit)",
    )
    p.add_argument("--json", action="store_true", help="print a summary as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Read the sites, build the map, write it and its sidecar."""
    import numpy as np

    from ..._utils.ids import participant_label
    from ...circuit_build import build_circuit, sidecar, sites_from_table, spatial_correlation
    from ...cohort import Job
    from ...exceptions import InputError
    from ...io.derivatives import sha256, write_map_with_sidecar
    from ...io.tables import read_sites_table
    from ...targeting import TargetingOptions, load_circuit_map
    from ...targeting.circuits import read_circuit_map
    from .._common import cleaning_options

    if not args.out.name.endswith((".nii", ".nii.gz")):
        raise InputError(f"output {args.out.name} is not a NIfTI name — end it with .nii.gz")
    if not args.fmriprep_dir.is_dir():
        raise InputError(
            f"fMRIPrep folder not found: {args.fmriprep_dir} "
            "— pass the folder that holds the sub-* folders"
        )
    sites = sites_from_table(read_sites_table(args.sites), args.sites.name)
    src = args.fmriprep_dir.resolve()
    present = sorted(p.name.removeprefix("sub-") for p in src.glob("sub-*") if p.is_dir())
    labels = (
        [participant_label(x, "--participant-label") for x in args.participant_label]
        if args.participant_label
        else present
    )
    if not labels:
        raise InputError(f"no sub-* folders in {src} — is this an fMRIPrep output folder?")
    unknown = [x for x in labels if x not in present]
    if unknown:
        raise InputError(
            f"participant(s) {', '.join(unknown)} not found "
            f"in {src} (participants there: {', '.join(present) or 'none'}) "
            "— "
            "check --participant-label (without the 'sub-' prefix)"
        )
    if args.reference:
        read_circuit_map(args.reference)  # a bad reference fails now, not after the build
    jobs = [Job(label.removeprefix("sub-"), None, src, args.task, args.space) for label in labels]
    options = TargetingOptions(**cleaning_options(args))
    built = build_circuit(
        sites, jobs, options, args.connectome, args.radius_mm, args.scheduler, args.n_workers
    )
    summary = {
        "map": str(args.out),
        "connectome": args.connectome,
        "n_sites": built.n_sites,
        "n_participants": len(built.participants),
        "participants": built.participants,
        "failed": built.failed,
        "dropped_sites": built.dropped_sites,
        "site_radius_mm": args.radius_mm,
    }
    if args.reference:
        ref = load_circuit_map(args.reference, built.affine, built.volume.shape)
        summary["spatial_correlation_with_reference"] = round(
            spatial_correlation(built.volume, ref), 4
        )
    written = write_map_with_sidecar(
        args.out,
        built.volume,
        built.affine,
        "tmstarget circuit build (r with improvement)",
        sidecar(built, summary, args.sites.name, sha256(args.sites)),
    )
    finite = built.volume[np.isfinite(built.volume)]
    logger.info(
        "%d sites, %d participant(s), r from %.2f to %.2f",
        built.n_sites,
        len(built.participants),
        finite.min(),
        finite.max(),
    )
    if "spatial_correlation_with_reference" in summary:
        logger.info(
            "spatial correlation with %s: %.3f",
            args.reference.name,
            summary["spatial_correlation_with_reference"],
        )
    if args.json:
        print_json(summary)
    list_written(written, log=True)
    return 2 if built.failed else 0
