"""``tmstarget coil``: coil placement, induced E-field, optimisation and neuronavigation export."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from ...exceptions import InputError
from .._common import (
    angle_deg,
    input_file,
    nonneg_float,
    output_file,
    point_value,
    positive_float,
    print_json,
)

logger = logging.getLogger("tmstarget.cli.coil")

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
    src.add_argument(
        "--target-json", type=Path, metavar="FILE", help="target JSON written by 'tmstarget target'"
    )
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


def _read_target(args: argparse.Namespace) -> dict:
    if args.target is not None:
        return {
            "target_mni": list(args.target),
            "space": args.space,
            "participant": None,
            "session": None,
            "circuit": None,
        }
    from ...io.derivatives import read_target

    path = args.target_json
    if not path.exists():
        raise InputError(
            f"target JSON {path} not found — run 'tmstarget target' first or check the path"
        )
    obj = read_target(path)
    obj["target_mni"] = [float(v) for v in obj["target_mni"]]
    obj.setdefault("space", "MNI152NLin6Asym")
    return obj


def _circuit_voxels(args: argparse.Namespace) -> tuple[Any, Any, str]:
    """Return grey-matter voxel centres and circuit values for the optimiser.

    Also returns a description of the circuit.
    """
    import numpy as np

    from ...coil.optimize import grey_matter_voxels
    from ...io.derivatives import load_map, score_path
    from ...targeting.circuits import check_circuit_values, resolve_circuit

    spec = args.circuit or "score"
    score_map = spec in ("score", "sgacc")
    if score_map:
        if args.target_json is None:
            raise InputError(
                f"--circuit {spec} needs the target's score "
                "map — pass --target-json, or --circuit convergent|PATH"
            )
        path = score_path(args.target_json)
        if path is None or not path.is_file():
            name = path.name if path is not None else "<p>_desc-<circuit>_score.nii.gz"
            raise InputError(
                f"score map {name} not found beside the target "
                "JSON — pass --circuit convergent|PATH"
            )
    else:
        path = resolve_circuit(spec).path
    values, affine = load_map(path, "circuit map")
    if not np.nanmax(np.abs(values), initial=0.0) > 0:
        raise InputError(
            f"circuit map {path.name} is empty (all zero or NaN) — pass a non-empty map"
        )
    if not score_map:
        check_circuit_values(values, path.name)
    points, weights = grey_matter_voxels(values, affine, nan_as_zero=score_map)
    return points, weights, f"{path.name} ({len(points)} grey-matter voxels)"


def _load_image(path: Path | None, what: str, fix: str) -> Any:
    """Load a NIfTI image (header and lazy data), or return None for no path.

    An unreadable file is refused in one line.
    """
    import nibabel as nib

    if path is None:
        return None
    try:
        return nib.load(str(path))
    except Exception as exc:  # noqa: BLE001 - nibabel raises assorted errors for non-NIfTI files
        raise InputError(f"cannot read {what} {path}: {exc} — {fix}") from None


def _native(args: argparse.Namespace, plan: Any, space: str) -> tuple[Any, dict]:
    import numpy as np

    from ...export.native import load_native_transform, native_pose

    xfm = load_native_transform(args.xfm, space)
    img = _load_image(args.t1w, "T1w", "pass fMRIPrep's desc-preproc_T1w.nii.gz")
    if img is None:
        logger.warning(
            "no --t1w: the coil centre is the template scalp "
            "point mapped to T1w space (registration is brain-driven)"
        )
        return native_pose(xfm, plan.placement)
    return native_pose(
        xfm,
        plan.placement,
        (np.asanyarray(img.dataobj, dtype=np.float32), img.affine, Path(args.t1w).name),
    )


def _brainsight_image(args: argparse.Namespace) -> Any:
    """Return the image loaded into the Brainsight project, or None.

    That image is ``--brainsight-image``, else ``--t1w``.
    """
    return _load_image(
        args.brainsight_image or (args.t1w if args.xfm else None),
        "Brainsight image",
        "pass the NIfTI file loaded into the Brainsight project",
    )


def _brainsight_system(args: argparse.Namespace, space: str) -> dict:
    """Brainsight coordinate system and file version (checked before any work starts)."""
    from ...export.brainsight import choose_coordinate_system

    chosen = choose_coordinate_system(
        _brainsight_image(args), args.brainsight_version, args.brainsight_coords
    )
    if chosen["image"] is None and args.brainsight_coords is None:
        logger.warning(
            "Brainsight coordinate system %s: Brainsight "
            "offers it only for an image whose qform/sform "
            "code is "
            "ALIGNED_ANAT (2) — pass --brainsight-image with "
            "the %s image you load to pick its name",
            chosen["coordinate_system"],
            space,
        )
    return chosen


def _export(args: argparse.Namespace, pose: Any, name: str, space: str, brainsight: dict) -> dict:
    """Write the requested files (all or none) and read each back.

    Done by :func:`tmstarget.export.write_export_set`.
    """
    from ...export.sets import write_export_set

    image = (
        _brainsight_image(args)
        if args.brainsight is not None and brainsight["image"] is not None
        else None
    )
    return write_export_set(
        pose,
        name,
        space,
        localite=args.localite,
        localite_space=args.localite_space,
        brainsight=args.brainsight,
        brainsight_system=brainsight,
        brainsight_image=image,
        csv=args.csv,
        poses_json=args.poses_json,
    )


def _fmt(v) -> str:
    return "(" + ", ".join(f"{x:.1f}" for x in v) + ")"


def _text(result: dict) -> str:
    pl, ef, opt = result["placement"], result["efield"], result["optimization"]
    lines = [
        f"coil plan for target {_fmt(result['target_mni'])} "
        f"mm {result['space']} — {result['coil']['name']} "
        f"on the {result['head_model']}",
        f"  placement: {result['placement_source']}",
        f"  scalp entry {_fmt(pl['scalp_entry_mm'])}, coil "
        f"centre {_fmt(pl['coil_centre_mm'])}, normal into "
        f"head {_fmt(pl['coil_normal_into_head'])}",
        f"  {pl['handle_description']}, direction {_fmt(pl['handle_direction'])}; "
        f"scalp-cortex {pl['scalp_cortex_distance_mm']:.1f} "
        f"mm, coil-cortex {pl['coil_cortex_distance_mm']:.1f} "
        "mm",
        f"  E-field at {ef['didt_a_per_us']:g} A/us: {ef['e_target_v_per_m']:.3f} "
        f"V/m at the target ({ef['target_pct_of_max']:.0f}% "
        "of the "
        f"cortical maximum {ef['e_max_cortex_v_per_m']:.3f} "
        f"V/m at {_fmt(ef['max_location_mm'])}, {ef['max_to_target_mm']:.1f} "
        "mm away); "
        f"S1/2 {ef['half_max_area_cm2']:.1f} cm2, V1/2 {ef['half_max_volume_cm3']:.1f} "
        f"cm3, d1/2 {ef['half_value_depth_mm']:.1f} mm",
    ]
    if opt:
        lines.append(
            f"  optimised ({result['circuit_map']}): circuit score, E-field weighted "
            f"{opt['score']:.4f} vs default placement {opt['default_score']:.4f}; "
            f"entry moved {opt['shift_mm']:.1f} mm, handle turned {opt['rotation_deg']:.0f} deg; "
            f"{opt['n_evaluations']} placements in {opt['time_s']:.2f} s"
        )
    if result["native"]:
        nat = result["native"]
        lines.append(
            f"  T1w: target {_fmt(nat['target_t1w_mm'])}, "
            f"coil centre {_fmt(nat['coil_centre_t1w_mm'])}, "
            f"round trip {nat['round_trip_mm']['target']:.3f} "
            f"mm ({nat['round_trip_mm']['inverse']} inverse); "
            f"{nat['handle_description']} on the T1w axes"
        )
    for kind, info in result["exports"].items():
        lines.append(
            f"  wrote {kind}: {info['path']} (read back: {info['round_trip_mm']:.4f} "
            f"mm, {info['round_trip_deg']:.4f} deg)"
        )
    return "\n".join(lines)


def _chosen_placement(args: argparse.Namespace, target: dict):
    """Return the placement a coil-scale target carries (``coil_placement``).

    Options that would change it are refused.
    """
    if "coil_placement" not in target:
        return None
    import numpy as np

    from ...coil.geometry import DEFAULT_HANDLE_ANGLE_DEG, placement_from_json

    changed = [
        opt
        for opt, off in (
            ("--handle-angle", args.handle_angle != DEFAULT_HANDLE_ANGLE_DEG),
            ("--scalp-offset-mm", args.scalp_offset_mm != 0.0),
        )
        if off
    ]
    if changed:
        raise InputError(
            f"{' and '.join(changed)} would change the placement "
            f"the target's method chose — drop {'them' if len(changed) > 1 else 'it'}, "
            "or target with another --method"
        )
    placement = placement_from_json(
        target["coil_placement"].get("placement")
        if isinstance(target["coil_placement"], dict)
        else None,
        f"coil_placement of {args.target_json.name}",
    )
    if float(np.linalg.norm(placement.target_mm - np.asarray(target["target_mni"], float))) > 1.0:
        raise InputError(
            f"coil_placement of {args.target_json.name} is "
            "for another target than its target_mni — pass "
            "the JSON the target command wrote, unedited"
        )
    return placement


def run(args: argparse.Namespace) -> int:
    """Plan the coil, map to T1w space if asked, write exports, print the result."""
    from ... import NOTICE, __version__
    from ...coil import get_coil, plan_coil

    if args.t1w is not None and not args.xfm:
        raise InputError(
            "--t1w needs the transforms — add --xfm with fMRIPrep's from-T1w_to-<template> file"
        )

    target = _read_target(args)
    space = target["space"]
    try:
        from ...headmodel import load_template_head
    except ImportError:
        raise InputError(
            "the template head model (tmstarget.headmodel) "
            "is not available in this installation — update "
            "tmstarget"
        ) from None
    brainsight = (
        _brainsight_system(args, "T1w" if args.xfm else space)
        if args.brainsight is not None
        else None
    )
    head = load_template_head()
    if space != getattr(head, "space", space):
        logger.warning(
            "target is in %s, the template head in %s (a few mm apart)", space, head.space
        )
    points = values = None
    circuit_desc = None
    if args.optimize and "coil_placement" in target:
        raise InputError(
            f"the target's method ({target.get('method')}) "
            "already chose the coil placement — drop --optimize, "
            "or target with another --method to optimise here"
        )
    if args.optimize:
        points, values, circuit_desc = _circuit_voxels(args)
    elif args.circuit:
        raise InputError("--circuit only weights the optimisation — add --optimize")
    chosen = _chosen_placement(args, target)
    from ..._utils.progress import spinner

    with spinner("optimising the coil placement" if args.optimize else "planning the coil"):
        plan = plan_coil(
            head,
            target["target_mni"],
            get_coil(args.coil),
            args.handle_angle,
            args.scalp_offset_mm,
            args.didt,
            points,
            values,
            args.search_radius_mm,
            placement=chosen,
        )
    pose, out_space, native = plan.placement.matrix, space, None
    if args.xfm:
        pose, native = _native(args, plan, space)
        out_space = "T1w"
    label = target.get("participant")
    name = args.name or (f"sub-{label}_{target.get('circuit') or 'target'}" if label else "target")
    exports = _export(args, pose, name, out_space, brainsight)
    result = {
        "participant": label,
        "session": target.get("session"),
        "circuit": target.get("circuit"),
        "space": space,
        "target_mni": [round(float(v), 1) for v in target["target_mni"]],
        "head_model": "template head (MNI152)",
        "circuit_map": circuit_desc,
        "placement_source": f"target JSON (--method {target.get('method')})"
        if chosen is not None
        else ("optimised" if args.optimize else "default over the target"),
        **plan.to_json(),
        "native": native,
        "exports": exports,
        "notice": NOTICE,
        "tmstarget_version": __version__,
    }
    if args.json:
        print_json(result)
    else:
        print(_text(result))
    return 0
