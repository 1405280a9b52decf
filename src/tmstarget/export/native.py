"""MNI ↔ participant T1w coordinates through fMRIPrep's transform files (read with nitransforms).

fMRIPrep writes ``sub-<l>_from-T1w_to-<template>_mode-image_xfm.h5`` and
``sub-<l>_from-<template>_to-T1w_mode-image_xfm.h5`` (ITK composite: affine + displacement field;
ITK ``.txt``/``.mat`` affines are accepted too). They are **image** transforms: to resample a T1w
image into the template, each template voxel looks up its T1w position. So, as point mappings,

- ``from-T1w_to-<template>`` maps **template points to T1w points** (used for MNI → native), and
- ``from-<template>_to-T1w`` maps **T1w points to template points** (native → MNI).

Pass both to get the round-trip error; with one file the other direction is its numerical inverse
(Newton iterations on the forward mapping). Coil orientations are mapped through the local Jacobian
of the mapping and re-orthonormalised (normal first, then handle). fMRIPrep registers skull-stripped
brains, so a scalp point mapped from the template lands near, not on, the participant's scalp: with
the T1w image the coil centre is moved to where the participant's head surface crosses the coil axis
(:func:`scalp_along_ray`) and the coil normal to that surface's normal (:func:`scalp_normal`).

All coordinates RAS+ mm (nitransforms converts ITK's LPS internally). Research use; not a medical
device.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..exceptions import InputError
from ..io.transforms import load_transform  # noqa: F401 - re-exported: this module's reader
from ..io.transforms import map_points as _map

logger = logging.getLogger(__name__)

_SPACES = re.compile(r"from-([A-Za-z0-9]+)_to-([A-Za-z0-9]+)")
#: Finite-difference step for Jacobians (mm).
_EPS_MM = 2.0


def transform_spaces(path: Path | str) -> tuple[str, str]:
    """``(from, to)`` spaces from an fMRIPrep transform file name."""
    m = _SPACES.search(Path(path).name)
    if not m:
        raise InputError(
            f"{Path(path).name}: no 'from-<space>_to-<space>' "
            "in the name — pass fMRIPrep's transform files "
            "unrenamed"
        )
    return m.group(1), m.group(2)


def _jacobian(fn, points: np.ndarray) -> np.ndarray:
    """(N, 3, 3) central-difference Jacobians of a point mapping."""
    cols = []
    for k in range(3):
        d = np.zeros(3)
        d[k] = _EPS_MM
        cols.append((fn(points + d) - fn(points - d)) / (2 * _EPS_MM))
    return np.stack(cols, axis=2)


def invert_points(
    fn, targets: np.ndarray, iterations: int = 20, tol_mm: float = 1e-4
) -> np.ndarray:
    """Solve ``fn(x) = y`` for each row of ``targets`` by Newton iterations.

    The Jacobian is estimated by finite differences.
    """
    y = np.asarray(targets, dtype=float).reshape(-1, 3)
    x = y.copy()
    jac = _jacobian(fn, x)
    x = x + np.linalg.solve(jac, (y - fn(x))[..., None])[..., 0]
    for _ in range(iterations):
        r = y - fn(x)
        if np.abs(r).max() < tol_mm:
            break
        x = x + np.linalg.solve(_jacobian(fn, x), r[..., None])[..., 0]
    return x


@dataclass(frozen=True)
class NativeTransform:
    """Point mappings between a template space and the participant's T1w space.

    Attributes
    ----------
    template : str
        Template space name (e.g. ``MNI152NLin6Asym``).
    to_native_xfm, to_template_xfm : nitransforms object or None
        The loaded transforms (see the module docstring for which file is which); at least one is
        set.
    files : tuple of str
        File names used.
    """

    template: str
    to_native_xfm: Any
    to_template_xfm: Any
    files: tuple

    def to_native(self, points_mm) -> np.ndarray:
        """Template points → T1w points (mm)."""
        p = np.asarray(points_mm, dtype=float).reshape(-1, 3)
        if self.to_native_xfm is not None:
            return _map(self.to_native_xfm, p)
        return invert_points(lambda x: _map(self.to_template_xfm, x), p)

    def to_template(self, points_mm) -> np.ndarray:
        """T1w points → template points (mm)."""
        p = np.asarray(points_mm, dtype=float).reshape(-1, 3)
        if self.to_template_xfm is not None:
            return _map(self.to_template_xfm, p)
        return invert_points(lambda x: _map(self.to_native_xfm, x), p)

    def round_trip_mm(self, points_mm) -> np.ndarray:
        """Distance of each template point from itself after template → T1w → template (mm)."""
        p = np.asarray(points_mm, dtype=float).reshape(-1, 3)
        return np.linalg.norm(self.to_template(self.to_native(p)) - p, axis=1)

    def pose_to_native(self, matrix: np.ndarray) -> np.ndarray:
        """Map a 4×4 coil pose (tmstarget axes) from template to T1w space."""
        return _map_pose(self.to_native, matrix)

    def pose_to_template(self, matrix: np.ndarray) -> np.ndarray:
        """Map a 4×4 coil pose from T1w to template space."""
        return _map_pose(self.to_template, matrix)


def _map_pose(fn, matrix: np.ndarray) -> np.ndarray:
    m = np.asarray(matrix, dtype=float)
    centre = m[:3, 3]
    jac = _jacobian(fn, centre[None])[0]
    z = jac @ m[:3, 2]
    z /= np.linalg.norm(z)
    y = jac @ m[:3, 1]
    y -= (y @ z) * z
    y /= np.linalg.norm(y)
    out = np.eye(4)
    out[:3, :3] = np.column_stack([np.cross(y, z), y, z])
    out[:3, 3] = fn(centre[None])[0]
    return out


def load_native_transform(paths: list[Path | str], template: str) -> NativeTransform:
    """Load one or both fMRIPrep T1w ↔ template transforms.

    Parameters
    ----------
    paths : list of path
        ``..._from-T1w_to-<template>_..._xfm.h5`` and/or ``..._from-<template>_to-T1w_..._xfm.h5``.
    template : str
        The template space of the coordinates to map (must match the files).
    """
    to_native = to_template = None
    for path in paths:
        src, dst = transform_spaces(path)
        if (src, dst) == ("T1w", template):
            to_native = load_transform(path)
        elif (src, dst) == (template, "T1w"):
            to_template = load_transform(path)
        else:
            raise InputError(
                f"{Path(path).name} maps {src} to {dst}, but "
                f"the coordinates are in {template} — pass "
                f"from-T1w_to-{template} and/or from-{template}_to-T1w"
            )
    if to_native is None and to_template is None:
        raise InputError(
            "no transform given — pass fMRIPrep's from-T1w_to-<template> "
            "(and from-<template>_to-T1w) files"
        )
    return NativeTransform(template, to_native, to_template, tuple(Path(p).name for p in paths))


def _head_threshold(data: np.ndarray) -> float:
    """Head/background intensity threshold of a T1w image.

    It is 15 % of the 98th percentile of positive voxels.
    """
    finite = data[np.isfinite(data)]
    positive = finite[finite > 0]
    return float(0.15 * np.percentile(positive, 98)) if positive.size else np.inf


def scalp_along_ray(
    data: np.ndarray,
    affine: np.ndarray,
    start_mm,
    direction,
    max_mm: float = 70.0,
    step_mm: float = 0.5,
    gap_mm: float = 6.0,
) -> np.ndarray:
    """Outer head surface of a T1w image along a ray from inside the head.

    The head is where the intensity exceeds 15 % of the image's 98th percentile; the surface is the
    last head sample before ``gap_mm`` of background.

    Raises
    ------
    InputError
        When the ray never leaves the head or starts outside it.
    """
    from scipy.ndimage import map_coordinates

    d = np.asarray(direction, dtype=float)
    d /= np.linalg.norm(d)
    t = np.arange(0.0, max_mm + step_mm / 2, step_mm)
    pts = np.asarray(start_mm, dtype=float) + t[:, None] * d
    ijk = (np.linalg.inv(affine) @ np.column_stack([pts, np.ones(len(t))]).T)[:3]
    head = map_coordinates(
        np.nan_to_num(data), ijk, order=1, mode="constant", cval=0.0
    ) >= _head_threshold(data)
    gap = int(round(gap_mm / step_mm))
    for i in range(len(t) - gap):
        if head[i] and not head[i + 1 : i + 1 + gap].any():
            return pts[i]
    raise InputError(
        "could not find the head surface along the coil "
        "axis in the T1w image — check that the T1w is "
        "not skull-stripped and covers the target"
    )


def scalp_normal(
    data: np.ndarray, affine: np.ndarray, point_mm, radius_mm: float = 10.0
) -> np.ndarray:
    """Outward normal of the T1w head surface near a surface point.

    It is the gradient of the smoothed head mask.

    Uses the head/background threshold of :func:`scalp_along_ray` on a cube of ``radius_mm`` around
    the point, smoothed with a 3 mm Gaussian; the normal is minus the intensity gradient at the
    point, in world axes.
    """
    from scipy.ndimage import gaussian_filter, map_coordinates

    inv = np.linalg.inv(affine)
    centre = inv[:3, :3] @ np.asarray(point_mm, dtype=float) + inv[:3, 3]
    zooms = np.linalg.norm(affine[:3, :3], axis=0)
    half = np.ceil(radius_mm / zooms).astype(int)
    lo = np.maximum(np.floor(centre).astype(int) - half, 0)
    hi = np.minimum(np.floor(centre).astype(int) + half + 2, np.array(data.shape[:3]))
    patch = (
        np.nan_to_num(data[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]]) >= _head_threshold(data)
    ).astype(float)
    if patch.size == 0 or patch.min() == patch.max():
        raise InputError(
            "no head surface near the coil centre in the "
            "T1w image — check the T1w and the transforms"
        )
    smooth = gaussian_filter(patch, sigma=3.0 / zooms)
    grads = np.gradient(smooth)
    at = (centre - lo)[:, None]
    g_vox = np.array([map_coordinates(g, at, order=1, mode="nearest")[0] for g in grads])
    g_world = inv[:3, :3].T @ g_vox  # chain rule: d/dx = (dijk/dx)^T d/dijk
    norm = np.linalg.norm(g_world)
    if not norm > 0:
        raise InputError(
            "the T1w head surface has no defined direction at the coil centre — check the T1w"
        )
    return -g_world / norm


def native_pose(
    xfm: NativeTransform, placement: Any, t1w: tuple[np.ndarray, np.ndarray, str] | None = None
) -> tuple[np.ndarray, dict]:
    """Map a template-space coil placement to the participant's T1w space.

    Also return what the mapping did.

    Parameters
    ----------
    xfm : NativeTransform
        Template ↔ T1w point mappings.
    placement : tmstarget.coil.geometry.Placement
        The planned placement (template space).
    t1w : (data, affine, name), optional
        The participant's T1w with scalp (fMRIPrep ``desc-preproc_T1w``): the coil centre is moved
        onto its head surface along the mapped coil axis and the normal set to that surface's normal
        (kept as mapped when the two differ by more than 45°); the handle is re-projected into the
        new tangent plane.

    Returns
    -------
    pose : ndarray, shape (4, 4)
        Coil pose in T1w world coordinates (tmstarget axes).
    info : dict
        JSON-ready: files, target and centre in T1w, round trips, adjustments, handle direction and
        words.

    Raises
    ------
    InputError
        The target maps outside the T1w image, or the head surface is not found.
    """
    from ..coil.geometry import (
        coil_matrix,
        describe_handle,
        handle_angle_deg,
        hemisphere_sign,
        rounded,
    )

    mni_pose = placement.matrix
    pose = xfm.pose_to_native(mni_pose)
    target = xfm.to_native(placement.target_mm[None])[0]
    info: dict[str, Any] = {"files": list(xfm.files), "target_t1w_mm": rounded(target, 1)}
    trip = xfm.round_trip_mm(np.stack([placement.target_mm, mni_pose[:3, 3]]))
    info["round_trip_mm"] = {
        "target": round(float(trip[0]), 3),
        "coil_centre": round(float(trip[1]), 3),
        "inverse": "file"
        if xfm.to_template_xfm is not None and xfm.to_native_xfm is not None
        else "numerical",
    }
    if t1w is not None:
        data, affine, name = t1w
        ijk = np.linalg.inv(affine) @ np.append(target, 1.0)
        if data.ndim != 3 or np.any(ijk[:3] < -0.5) or np.any(ijk[:3] > np.array(data.shape) - 0.5):
            raise InputError(
                f"the target maps to {np.round(target, 1).tolist()} "
                f"mm, outside {name} — pass the transforms "
                "of this T1w"
            )
        surface = scalp_along_ray(data, affine, target, -pose[:3, 2])
        mapped_scalp = (
            pose[:3, 3] + placement.scalp_offset_mm * pose[:3, 2]
        )  # z points into the head
        info["scalp_adjustment_mm"] = round(float(np.linalg.norm(surface - mapped_scalp)), 1)
        normal = scalp_normal(data, affine, surface)
        tilt = float(np.degrees(np.arccos(np.clip(normal @ -pose[:3, 2], -1.0, 1.0))))
        info["normal_adjustment_deg"] = round(tilt, 1)
        if tilt > 45.0:
            logger.warning(
                "the T1w scalp normal is %.0f deg from the "
                "mapped coil normal; keeping the mapped one",
                tilt,
            )
            normal = -pose[:3, 2]
        pose = coil_matrix(surface + placement.scalp_offset_mm * normal, normal, pose[:3, 1])
    sign = hemisphere_sign(placement.target_mm)
    angle = handle_angle_deg(-pose[:3, 2], pose[:3, 1], sign)
    info["handle_direction"] = rounded(pose[:3, 1], 4)
    info["handle_angle_from_midline_deg"] = round(angle, 1)
    info["handle_description"] = describe_handle(angle, sign)
    info["coil_centre_t1w_mm"] = rounded(pose[:3, 3], 1)
    info["coil_cortex_distance_mm"] = round(float(np.linalg.norm(pose[:3, 3] - target)), 1)
    info["matrix"] = [rounded(row, 6) for row in pose]
    return pose, info
