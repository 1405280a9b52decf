"""Inputs of :func:`tmstarget.export.workflow.plan_coil_files`, read and checked.

The target (point or JSON), the circuit voxels the optimiser weights, the NIfTI images, the
Brainsight coordinate system, a placement the target already chose, and the mapping to T1w space.
Each refusal is one :class:`~tmstarget.exceptions.InputError` line naming the command's option.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..coil.defaults import DEFAULT_HANDLE_ANGLE_DEG
from ..exceptions import InputError

__all__ = [
    "BRAINSIGHT_IMAGE",
    "brainsight_system",
    "chosen_placement",
    "circuit_voxels",
    "load_image",
    "native_mapping",
    "read_coil_target",
]

logger = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]

#: How a Brainsight image that cannot be read is named, and the fix.
BRAINSIGHT_IMAGE = ("Brainsight image", "pass the NIfTI file loaded into the Brainsight project")


def read_coil_target(point: Sequence[float] | None, path: Path | None, space: str) -> dict:
    """Return the target: the point in ``space``, or the target JSON (checked) with defaults."""
    if point is not None:
        return {
            "target_mni": list(point),
            "space": space,
            "participant": None,
            "session": None,
            "circuit": None,
        }
    from ..io.derivatives import read_target

    if not path.exists():
        raise InputError(
            f"target JSON {path} not found — run 'tmstarget target' first or check the path"
        )
    obj = read_target(path)
    obj["target_mni"] = [float(v) for v in obj["target_mni"]]
    obj.setdefault("space", "MNI152NLin6Asym")
    return obj


def circuit_voxels(circuit: str | None, target_json: Path | None) -> tuple[Any, Any, str]:
    """Return grey-matter voxel centres and circuit values for the optimiser.

    Also returns a description of the circuit.
    """
    import numpy as np

    from ..coil.optimize import grey_matter_voxels
    from ..io.derivatives import load_map, score_path
    from ..targeting.circuits import check_circuit_values, resolve_circuit

    spec = circuit or "score"
    score_map = spec in ("score", "sgacc")
    if score_map:
        if target_json is None:
            raise InputError(
                f"--circuit {spec} needs the target's score "
                "map — pass --target-json, or --circuit convergent|PATH"
            )
        path = score_path(target_json)
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


def load_image(path: PathLike | None, what: str, fix: str) -> Any:
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


def native_mapping(xfm: Sequence[PathLike], t1w: PathLike | None, plan: Any, space: str) -> tuple:
    """Map the plan's placement to T1w space (onto the T1w head surface when ``t1w`` is given)."""
    import numpy as np

    from .native import load_native_transform, native_pose

    transform = load_native_transform(xfm, space)
    img = load_image(t1w, "T1w", "pass fMRIPrep's desc-preproc_T1w.nii.gz")
    if img is None:
        logger.warning(
            "no --t1w: the coil centre is the template scalp "
            "point mapped to T1w space (registration is brain-driven)"
        )
        return native_pose(transform, plan.placement)
    return native_pose(
        transform,
        plan.placement,
        (np.asanyarray(img.dataobj, dtype=np.float32), img.affine, Path(t1w).name),
    )


def brainsight_system(
    image: PathLike | None, version: int, requested: str | None, space: str
) -> dict:
    """Brainsight coordinate system and file version (checked before any work starts)."""
    from .brainsight import choose_coordinate_system

    chosen = choose_coordinate_system(load_image(image, *BRAINSIGHT_IMAGE), version, requested)
    if chosen["image"] is None and requested is None:
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


def chosen_placement(
    target: dict, target_json: Path | None, handle_angle: float, scalp_offset_mm: float
) -> Any:
    """Return the placement a coil-scale target carries (``coil_placement``), or None.

    Options that would change it are refused.
    """
    if "coil_placement" not in target:
        return None
    import numpy as np

    from ..coil.geometry import placement_from_json

    changed = [
        opt
        for opt, off in (
            ("--handle-angle", handle_angle != DEFAULT_HANDLE_ANGLE_DEG),
            ("--scalp-offset-mm", scalp_offset_mm != 0.0),
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
        f"coil_placement of {target_json.name}",
    )
    if float(np.linalg.norm(placement.target_mm - np.asarray(target["target_mni"], float))) > 1.0:
        raise InputError(
            f"coil_placement of {target_json.name} is "
            "for another target than its target_mni — pass "
            "the JSON the target command wrote, unedited"
        )
    return placement
