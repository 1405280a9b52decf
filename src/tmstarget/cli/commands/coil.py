"""``tmstarget coil``: coil placement, induced E-field, optimisation and neuronavigation export."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .._common import (
    angle_deg,
    input_file,
    nonneg_float,
    output_file,
    point_value,
    positive_float,
    print_json,
)
from .._help import HELP

DESCRIPTION = """\
Where to put a figure-8 coil for a cortical target, how to turn it, what field it induces, and files
the neuronavigation system opens. Research use; not a medical device.

Placement: scalp entry = the template-head scalp point nearest the target; coil centre on the scalp
(plus --scalp-offset-mm); handle --handle-angle degrees from the midline, pointing posterior
(default {angle:g}, away from the midline). E-field: the coil as magnetic dipoles over a sphere
fitted to the local scalp, analytic spherical-conductor solution (Heller & van Hulsteyn 1992); V/m
at --didt A/us. Focality: S1/2 (cm2), V1/2 (cm3), d1/2 (mm) as in Deng et al. 2013.

--optimize searches positions within --search-radius-mm and handle rotations for the highest
E-field-weighted circuit score: the |E|-weighted mean circuit value over grey-matter voxels with
|E| >= half the maximum. Circuit: the target's score map (default with --target-json; also for
'sgacc'), 'convergent', or a group map PATH (positive = stimulate).

Native space: --xfm takes fMRIPrep's from-T1w_to-<template>_mode-image_xfm.h5 and/or
from-<template>_to-T1w_mode-image_xfm.h5 (both give the round-trip error); --t1w (fMRIPrep's
desc-preproc_T1w, not skull-stripped) moves the coil onto that head's surface and aligns it with the
surface normal there. Exports are then in T1w
world coordinates (RAS mm), otherwise in template coordinates.

Exports (axes and units in docs/export.md): --localite InstrumentMarker XML (4x4, Localite coil
axes), --brainsight target .txt, --csv and --poses-json in tmstarget's axes (y = handle, z = into
the head; the JSON also holds SimNIBS's matsimnibs). The handle direction is also stated in words
(e.g. "handle 45° posterior-lateral"): check the imported marker against it before the first
session.

Brainsight names world coordinates after the qform/sform code of the image loaded into the project:
--brainsight-image (default: --t1w) picks the name that image offers (NIfTI:Aligned, NIfTI:Scanner,
...; with --brainsight-version 14, NIfTI:Q:<code> or NIfTI:S:<code>). Without an image:
NIfTI:Aligned (the
name SimNIBS reads), which Brainsight offers only for images with the ALIGNED_ANAT code.

examples:
  tmstarget coil --target -40,42,30 --json
  tmstarget coil --target-json out/sub-01/sub-01_desc-sgacc_target.json --optimize \\
      --localite sub-01.xml
  tmstarget coil --target-json T.json --optimize --circuit convergent \\
      --xfm anat/sub-01_from-T1w_to-MNI152NLin6Asym_mode-image_xfm.h5 \\
      anat/sub-01_from-MNI152NLin6Asym_to-T1w_mode-image_xfm.h5 \\
      --t1w anat/sub-01_desc-preproc_T1w.nii.gz --brainsight sub-01.txt
"""


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Register ``tmstarget coil``."""
    from ...coil.defaults import COIL_KEYS as PRESETS
    from ...coil.defaults import DEFAULT_COIL, DEFAULT_HANDLE_ANGLE_DEG
    from ...export.defaults import (
        COORDINATE_SYSTEMS,
        COORDINATE_SYSTEMS_V14,
        DEFAULT_VERSION,
        VERSIONS,
    )
    from ..parser import HelpFormatter

    p = subparsers.add_parser(
        "coil",
        parents=parents,
        help="coil placement, E-field, optimisation and neuronavigation export",
        description=DESCRIPTION.replace("{angle:g}", f"{DEFAULT_HANDLE_ANGLE_DEG:g}"),
        formatter_class=HelpFormatter,
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--target-json", type=Path, metavar="FILE", help=HELP["target-json"])
    src.add_argument(
        "--target",
        type=point_value,
        metavar="X,Y,Z",
        help="target x,y,z in mm, e.g. --target -40,42,30",
    )
    p.add_argument(
        "--space",
        default="MNI152NLin6Asym",
        choices=["MNI152NLin6Asym", "MNI152NLin2009cAsym"],
        help="space of --target",
    )
    p.add_argument(
        "--json", action="store_true", help="print one JSON object on stdout and nothing else"
    )
    c = p.add_argument_group("coil and placement")
    c.add_argument(
        "--coil",
        default=DEFAULT_COIL,
        choices=sorted(PRESETS),
        help="coil model (approximate published geometry)",
    )
    c.add_argument(
        "--handle-angle",
        type=angle_deg,
        default=DEFAULT_HANDLE_ANGLE_DEG,
        metavar="DEG",
        help="handle angle from the posterior midline direction, -180..180 (+ = lateral)",
    )
    c.add_argument(
        "--scalp-offset-mm",
        type=nonneg_float,
        default=0.0,
        metavar="MM",
        help="gap between scalp and coil (hair, cap)",
    )
    c.add_argument(
        "--didt",
        type=positive_float,
        default=1.0,
        metavar="A_PER_US",
        help="coil current slope for reported fields",
    )
    o = p.add_argument_group("optimisation")
    o.add_argument("--optimize", action="store_true", help="optimise position and handle rotation")
    o.add_argument(
        "--circuit",
        metavar="score|sgacc|convergent|PATH",
        help="circuit weighting the field (default: the target's score map)",
    )
    o.add_argument(
        "--search-radius-mm",
        type=nonneg_float,
        default=25.0,
        metavar="MM",
        help="largest shift of the scalp entry point",
    )
    n = p.add_argument_group("participant space")
    n.add_argument(
        "--xfm",
        type=input_file,
        nargs="+",
        metavar="FILE",
        help="fMRIPrep T1w<->template transform file(s)",
    )
    n.add_argument(
        "--t1w",
        type=input_file,
        metavar="FILE",
        help="participant T1w (with scalp) the transforms belong to",
    )
    e = p.add_argument_group("exports")
    e.add_argument(
        "--localite", type=output_file, metavar="FILE", help="write a Localite InstrumentMarker XML"
    )
    e.add_argument(
        "--localite-space",
        default="RAS",
        choices=["RAS", "LPS"],
        help="Localite world axes (RAS for NIfTI)",
    )
    e.add_argument(
        "--brainsight", type=output_file, metavar="FILE", help="write a Brainsight targets .txt"
    )
    e.add_argument(
        "--brainsight-coords",
        choices=[*COORDINATE_SYSTEMS, *COORDINATE_SYSTEMS_V14],
        metavar="NAME",
        help="Brainsight coordinate system (default: the one "
        "--brainsight-image offers; NIfTI:Aligned without "
        "an image)",
    )
    e.add_argument(
        "--brainsight-version",
        type=int,
        choices=VERSIONS,
        default=DEFAULT_VERSION,
        help="Brainsight file version: 12 for Brainsight <= 2.5.2, 14 for 2.5.3 and later",
    )
    e.add_argument(
        "--brainsight-image",
        type=input_file,
        metavar="FILE",
        help="the NIfTI loaded into the Brainsight project (default: "
        "--t1w); its qform/sform codes name the coordinates",
    )
    e.add_argument("--csv", type=output_file, metavar="FILE", help="write the pose as CSV")
    e.add_argument("--poses-json", type=output_file, metavar="FILE", help="write the pose as JSON")
    e.add_argument(
        "--name",
        metavar="NAME",
        help="marker/target name (default: sub-<label>_<circuit> or 'target')",
    )
    p.set_defaults(func=run)


#: Options passed to :func:`tmstarget.export.workflow.plan_coil_files` under their own names.
_OPTIONS = (
    "space",
    "coil",
    "handle_angle",
    "scalp_offset_mm",
    "didt",
    "optimize",
    "circuit",
    "search_radius_mm",
    "xfm",
    "t1w",
    "localite",
    "localite_space",
    "brainsight",
    "brainsight_coords",
    "brainsight_version",
    "brainsight_image",
    "csv",
    "poses_json",
    "name",
)


def run(args: argparse.Namespace) -> int:
    """Parse → :func:`tmstarget.export.workflow.plan_coil_files` → print."""
    from ... import NOTICE, __version__
    from ...export.text import coil_files_text
    from ...export.workflow import plan_coil_files

    done = plan_coil_files(
        args.target, target_json=args.target_json, **{k: getattr(args, k) for k in _OPTIONS}
    )
    result = {**done.to_dict(), "notice": NOTICE, "tmstarget_version": __version__}
    if args.json:
        print_json(result)
    else:
        print(coil_files_text(result))
    return 0
