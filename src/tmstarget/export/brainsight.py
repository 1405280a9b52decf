"""Brainsight target files (``Targets`` text export/import).

Format: ``#`` header lines (version, coordinate system, units, encoding, notes), a column line
``# Target Name  Loc. X  Loc. Y  Loc. Z  m0n0 m0n1 m0n2  m1n0 m1n1 m1n2  m2n0 m2n1 m2n2`` and one
tab-separated row per target: the position and the three target axes ``m0`` (x), ``m1`` (y), ``m2`` (z),
each as its three world components.

Conventions:

- **Units**: millimetres (Brainsight states "millimetres, degrees, milliseconds, and microvolts").
- **World axes**: ``NIfTI:Aligned`` (default) or ``NIfTI:Scanner`` = the RAS world coordinates of the T1w
  NIfTI loaded into the Brainsight project (its sform/qform); pick the option Brainsight offers for your image.
  ``NIfTI:MNI-152`` for template-space targets.
- **Target axes**: Brainsight ``x`` = tmstarget ``-x``, ``y`` = tmstarget ``y`` (the handle), ``z`` =
  tmstarget ``-z`` (pointing out of the head). This is the mapping used by SimNIBS's Brainsight importer
  (Numssen, Weise et al.); check one target on your system before the first session.

Research use; not a medical device.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import __version__
from ..exceptions import InputError
from ..io.derivatives import write_text_atomic
from .poses import NamedPose, check_pose, convert_axes, orthonormalize

#: tmstarget axes → Brainsight axes (columns): x_B = -x, y_B = y, z_B = -z.
TO_BRAINSIGHT = np.diag([-1.0, 1.0, -1.0])
COORDINATE_SYSTEMS = ("NIfTI:Aligned", "NIfTI:Scanner", "NIfTI:MNI-152")
_COLUMNS = ["Target Name", "Loc. X", "Loc. Y", "Loc. Z", "m0n0", "m0n1", "m0n2", "m1n0", "m1n1", "m1n2", "m2n0", "m2n1", "m2n2"]


def brainsight_text(poses: list[NamedPose], coordinate_system: str = "NIfTI:Aligned") -> str:
    """Text of a Brainsight targets file for tmstarget poses (see the module docstring)."""
    if coordinate_system not in COORDINATE_SYSTEMS:
        raise InputError(f"Brainsight coordinate system {coordinate_system!r} is not one of {', '.join(COORDINATE_SYSTEMS)} — pick the one your project uses")
    lines = [
        "# Version: 13",
        f"# Coordinate system: {coordinate_system}",
        f"# Created by: tmstarget {__version__} (research use; not a medical device)",
        "# Units: millimetres, degrees, milliseconds, and microvolts",
        "# Encoding: UTF-8",
        "# Notes: Each column is delimited by a tab. Each value within a column is delimited by a semicolon.",
        "# " + "\t".join(_COLUMNS),
    ]
    for pose in poses:
        if any(ch in pose.name for ch in "\t\n\r"):
            raise InputError(f"target name {pose.name!r} contains a tab or line break — use a plain name")
        m = convert_axes(check_pose(pose.matrix, f"pose {pose.name!r}"), TO_BRAINSIGHT)
        values = [*m[:3, 3], *m[:3, 0], *m[:3, 1], *m[:3, 2]]
        lines.append("\t".join([pose.name] + [f"{v:.4f}" for v in values]))
    return "\n".join(lines) + "\n"


def write_brainsight(path: Path | str, poses: list[NamedPose], coordinate_system: str = "NIfTI:Aligned") -> Path:
    """Write a Brainsight targets file atomically."""
    return write_text_atomic(path, brainsight_text(poses, coordinate_system))


def read_brainsight(path: Path | str) -> tuple[list[NamedPose], str]:
    """Read the targets of a Brainsight text file back into tmstarget poses.

    Returns
    -------
    poses : list of NamedPose
        Targets with tmstarget axes.
    coordinate_system : str
        The file's ``# Coordinate system`` entry.
    """
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read Brainsight file {path}: {exc} — pass a UTF-8 text export") from None
    system, columns, poses = "", None, []
    for line in text.splitlines():
        if line.startswith("# Coordinate system:"):
            system = line.split(":", 1)[1].strip()
        elif line.startswith("# Target Name"):
            columns = line[2:].split("\t")
        elif line.startswith("#"):
            if columns is not None:
                break  # the next section (e.g. samples) starts
        elif columns is not None and line.strip():
            row = dict(zip(columns, line.split("\t")))
            try:
                loc = [float(row[k]) for k in ("Loc. X", "Loc. Y", "Loc. Z")]
                axes = [[float(row[f"m{a}n{c}"]) for c in range(3)] for a in range(3)]
            except (KeyError, ValueError):
                raise InputError(f"{path}: target row {line[:40]!r} is incomplete — re-export the targets") from None
            m = np.eye(4)
            m[:3, :3] = np.array(axes).T
            m[:3, 3] = loc
            m = convert_axes(m, TO_BRAINSIGHT.T)
            m[:3, :3] = orthonormalize(m[:3, :3])
            poses.append(NamedPose(row.get("Target Name", ""), m))
    if columns is None:
        raise InputError(f"{path} has no '# Target Name' section — export targets from Brainsight")
    return poses, system
