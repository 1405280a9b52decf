"""Coil poses as 4×4 matrices, shared by the neuronavigation writers and readers.

A pose is a 4×4 homogeneous matrix whose columns are the coil axes (x, y, z) and the coil centre, in
world millimetres (RAS+ unless a format says otherwise).

**tmstarget's coil frame** (the one frame every module uses, see :mod:`tmstarget.coil.models`):

- centre: the middle of the coil's bottom surface, on the scalp (plus any hair/cap gap);
- ``z``: the coil normal pointing **into the head**;
- ``y``: the **handle direction** (from the centre towards the handle);
- ``x = y × z``: through the two wing centres.

Each navigator has its own axis labels. Every format is reached through **SimNIBS's coil frame**
("matsimnibs"), because SimNIBS's readers and writers for Localite and Brainsight were validated on
recorded sessions: there ``z`` points into the head and the handle is at **−y** (SimNIBS issue #64,
"the direction of the handle is negative/opposite of y"; the axis figures
``docs/images/coil_axesorientation_localite.png`` and ``..._brainsight.png`` draw ``y`` away from
the handle; the handle wires of ``examples/coils/create_simple_figure_of_8_coil.py`` run along −y).
So tmstarget → SimNIBS is a 180° turn about the normal, :data:`TO_SIMNIBS`, and each format module
composes it with SimNIBS's map for that format. Each conversion is a right-multiplied signed
permutation ``P`` (``pose_format = pose_tmstarget @ P``), so positions are untouched.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..exceptions import InputError


@dataclass(frozen=True)
class NamedPose:
    """A labelled coil pose (4×4, mm)."""

    name: str
    matrix: np.ndarray


#: tmstarget axes → SimNIBS "matsimnibs" axes (columns): x_S = -x, y_S = -y (handle at -y in
#: SimNIBS), z_S = z.
TO_SIMNIBS = np.diag([-1.0, -1.0, 1.0])


def check_pose(matrix, what: str = "coil pose") -> np.ndarray:
    """Validate a 4×4 rigid pose (orthonormal, right-handed rotation)."""
    m = np.asarray(matrix, dtype=float)
    if m.shape != (4, 4) or not np.isfinite(m).all():
        raise InputError(
            f"{what} must be a finite 4x4 matrix, got shape "
            f"{m.shape} — pass axes and centre as columns"
        )
    rot = m[:3, :3]
    if not np.allclose(rot.T @ rot, np.eye(3), atol=1e-3) or np.linalg.det(rot) < 0:
        raise InputError(
            f"{what} is not a rotation (orthonormal, right-handed) — recompute the coil axes"
        )
    return m


def convert_axes(matrix: np.ndarray, permutation: np.ndarray) -> np.ndarray:
    """``matrix @ P`` with ``P`` a 3×3 signed permutation acting on the axis columns."""
    out = np.array(matrix, dtype=float)
    out[:3, :3] = out[:3, :3] @ permutation
    return out


def orthonormalize(rot: np.ndarray) -> np.ndarray:
    """Nearest rotation matrix (polar decomposition), for matrices read back with rounding."""
    u, _, vt = np.linalg.svd(rot)
    r = u @ vt
    if np.linalg.det(r) < 0:
        u[:, -1] *= -1
        r = u @ vt
    return r


def rotation_difference_deg(a: np.ndarray, b: np.ndarray) -> float:
    """Angle of the rotation taking pose ``a``'s axes to pose ``b``'s (degrees)."""
    r = np.asarray(a)[:3, :3].T @ np.asarray(b)[:3, :3]
    return float(np.degrees(np.arccos(np.clip((np.trace(r) - 1) / 2, -1.0, 1.0))))


def position_difference_mm(a: np.ndarray, b: np.ndarray) -> float:
    """Distance between two poses' centres (mm)."""
    return float(np.linalg.norm(np.asarray(a)[:3, 3] - np.asarray(b)[:3, 3]))
