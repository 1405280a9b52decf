"""Plain CSV and JSON coil poses, for any other navigator, robot or script.

Conventions (both formats):

- **Units**: millimetres; directions are unit vectors.
- **World axes**: RAS+ (x right, y anterior, z superior) of the stated ``space``
  (``MNI152NLin6Asym`` for template coordinates, ``T1w`` for the participant's fMRIPrep T1w world
  coordinates).
- **Coil axes**: ``handle`` = direction the handle points (tmstarget ``y``), ``normal_in`` = coil
  normal pointing into the head (tmstarget ``z``), ``x_axis`` = ``handle × normal_in`` (through the
  wing centres); ``centre`` = centre of the coil's bottom surface.

CSV columns: ``name, space, centre_{x,y,z}_mm, x_axis_{x,y,z}, handle_{x,y,z}, normal_in_{x,y,z}``.
JSON: ``{"space", "units", "axes", "poses": [{"name", "centre_mm", "x_axis", "handle", "normal_in",
"matrix", "matsimnibs"}]}`` with ``matrix`` the 4×4 pose (rows) in tmstarget's axes and
``matsimnibs`` the same pose in SimNIBS's coil axes (handle at ``-y``, see
:mod:`tmstarget.export.poses`), ready for ``simnibs.sim_struct.POSITION().matsimnibs``.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np

from .._utils.jsonio import dumps
from ..exceptions import InputError
from ..io.derivatives import write_text_atomic
from .poses import TO_SIMNIBS, NamedPose, check_pose, convert_axes, orthonormalize

_AXES = ("x_axis", "handle", "normal_in")
CSV_COLUMNS = ["name", "space", "centre_x_mm", "centre_y_mm", "centre_z_mm"] + [
    f"{a}_{c}" for a in _AXES for c in "xyz"
]
AXES_NOTE = (
    "RAS+ mm; handle = tmstarget y (handle direction), normal_in "
    "= tmstarget z (into the head), x_axis = handle x normal_in"
)


def _pose(centre, axes) -> np.ndarray:
    m = np.eye(4)
    m[:3, :3] = orthonormalize(np.column_stack(axes))
    m[:3, 3] = centre
    return m


def poses_csv(poses: list[NamedPose], space: str) -> str:
    """CSV text (see the module docstring)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for pose in poses:
        m = check_pose(pose.matrix, f"pose {pose.name!r}")
        writer.writerow(
            [pose.name, space]
            + [f"{v:.4f}" for v in m[:3, 3]]
            + [f"{v:.6f}" for k in range(3) for v in m[:3, k]]
        )
    return buf.getvalue()


def poses_json(poses: list[NamedPose], space: str) -> dict:
    """JSON object (see the module docstring)."""
    out = []
    for pose in poses:
        m = check_pose(pose.matrix, f"pose {pose.name!r}")
        entry = {"name": pose.name, "centre_mm": [round(float(v), 4) for v in m[:3, 3]]}
        entry.update({a: [round(float(v), 6) for v in m[:3, k]] for k, a in enumerate(_AXES)})
        entry["matrix"] = [[round(float(v), 6) for v in row] for row in m]
        entry["matsimnibs"] = [
            [round(float(v), 6) for v in row] for row in convert_axes(m, TO_SIMNIBS)
        ]
        out.append(entry)
    return {"space": space, "units": "mm", "axes": AXES_NOTE, "poses": out}


def write_poses_csv(path: Path | str, poses: list[NamedPose], space: str) -> Path:
    """Write :func:`poses_csv` atomically."""
    return write_text_atomic(path, poses_csv(poses, space))


def write_poses_json(path: Path | str, poses: list[NamedPose], space: str) -> Path:
    """Write :func:`poses_json` atomically."""
    return write_text_atomic(path, dumps(poses_json(poses, space)) + "\n")


def read_poses_csv(path: Path | str) -> tuple[list[NamedPose], str]:
    """Read a pose CSV back; returns the poses and the space."""
    try:
        rows = list(csv.DictReader(Path(path).read_text(encoding="utf-8-sig").splitlines()))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read pose CSV {path}: {exc} — pass a UTF-8 CSV") from None
    poses, space = [], ""
    for row in rows:
        try:
            centre = [float(row[f"centre_{c}_mm"]) for c in "xyz"]
            axes = [[float(row[f"{a}_{c}"]) for c in "xyz"] for a in _AXES]
        except (KeyError, TypeError, ValueError):
            raise InputError(
                f"{path}: row {row.get('name')!r} lacks a column "
                f"of {', '.join(CSV_COLUMNS)} — write it with "
                "tmstarget"
            ) from None
        poses.append(NamedPose(row["name"], _pose(centre, axes)))
        space = row.get("space", space)
    return poses, space


def read_poses_json(path: Path | str) -> tuple[list[NamedPose], str]:
    """Read a pose JSON back; returns the poses and the space."""
    try:
        obj = json.loads(Path(path).read_text(encoding="utf-8"))
        poses = [
            NamedPose(p["name"], _pose(p["centre_mm"], [p[a] for a in _AXES])) for p in obj["poses"]
        ]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"cannot read pose JSON {path}: {exc} — write it with tmstarget") from None
    return poses, obj.get("space", "")
