"""fMRIPrep's real multi-echo layout for the simulator: echoes in a BOLD reference grid.

fMRIPrep writes the echo-wise series in the BOLD reference space (no ``space-``) with the
transforms that lead to the template: ``from-boldref_to-T1w`` (rigid coregistration, ITK ``.txt``)
and ``from-T1w_to-<template>``. :func:`boldref_layout` makes such a layout for the simulated
anatomy — a BOLD reference grid of 2.5 mm voxels (not the template's 2 mm), a rigid coregistration
(a few degrees about each axis and a few mm) and a small T1w ↔ template affine (written as an ITK
``.txt`` affine, where fMRIPrep writes an ``.h5`` composite) — and :func:`to_boldref` resamples the
simulated template-grid echoes into it (trilinear, with :func:`tmstarget.io.echo_resample.
trilinear_matrix`). As point mappings (the image-transform convention of
:mod:`tmstarget.io.transforms`): T1w point = ``anat`` · template point, BOLD reference point =
``coreg`` · T1w point.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: The simulated coregistration (T1w → BOLD reference points): rotations about x, y, z (degrees)
#: and translation (mm). A tmstarget choice: a head a few degrees and millimetres off the T1w.
COREG_ROTATION_DEG = (4.0, -3.0, 6.0)
COREG_TRANSLATION_MM = (3.0, -5.0, 4.0)
#: The simulated T1w ↔ template affine (template → T1w points): rotation about y and translation.
ANAT_ROTATION_Y_DEG = 2.0
ANAT_TRANSLATION_MM = (1.5, -2.0, 1.0)
#: Voxel size of the simulated BOLD reference grid (mm): unlike the template grid's 2 mm.
BOLDREF_VOXEL_MM = 2.5


def _rotation(deg_xyz) -> np.ndarray:
    ax, ay, az = np.deg2rad(deg_xyz)
    rx = np.array([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]])
    ry = np.array([[np.cos(ay), 0, np.sin(ay)], [0, 1, 0], [-np.sin(ay), 0, np.cos(ay)]])
    rz = np.array([[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]])
    return rz @ ry @ rx


def _matrix(rotation: np.ndarray, translation) -> np.ndarray:
    m = np.eye(4)
    m[:3, :3], m[:3, 3] = rotation, translation
    return m


@dataclass(frozen=True)
class BoldrefLayout:
    """A BOLD reference grid and the two transforms that link it to the template grid.

    Attributes
    ----------
    affine : ndarray, shape (4, 4)
    shape : tuple of int
    coreg : ndarray, shape (4, 4)
        T1w points → BOLD reference points (RAS mm): fMRIPrep's ``from-boldref_to-T1w``.
    anat : ndarray, shape (4, 4)
        Template points → T1w points: fMRIPrep's ``from-T1w_to-<template>``.
    """

    affine: np.ndarray
    shape: tuple[int, int, int]
    coreg: np.ndarray
    anat: np.ndarray


def boldref_layout(template_affine: np.ndarray, template_shape) -> BoldrefLayout:
    """Build the BOLD reference grid that holds the template grid's field of view."""
    coreg = _matrix(_rotation(COREG_ROTATION_DEG), COREG_TRANSLATION_MM)
    anat = _matrix(_rotation((0.0, ANAT_ROTATION_Y_DEG, 0.0)), ANAT_TRANSLATION_MM)
    n = np.asarray(template_shape, float) - 1
    corners = np.array([[a, b, c, 1.0] for a in (0, n[0]) for b in (0, n[1]) for c in (0, n[2])])
    mm = (coreg @ anat @ template_affine @ corners.T).T[:, :3]
    lo = mm.min(0) - BOLDREF_VOXEL_MM
    shape = tuple(int(v) for v in np.ceil((mm.max(0) + BOLDREF_VOXEL_MM - lo) / BOLDREF_VOXEL_MM))
    affine = _matrix(np.eye(3) * BOLDREF_VOXEL_MM, lo)
    return BoldrefLayout(affine, shape, coreg, anat)


def to_boldref(
    values: np.ndarray,
    flat: np.ndarray,
    template_affine: np.ndarray,
    template_shape,
    layout: BoldrefLayout,
) -> np.ndarray:
    """Resample template-grid brain values into the BOLD reference grid (trilinear).

    Parameters
    ----------
    values : ndarray, shape (V,) or (V, T)
        Values at the template grid's voxels ``flat`` (Fortran-order flat indices, increasing);
        0 elsewhere.

    Returns
    -------
    ndarray, shape (*layout.shape[, T]), float32
    """
    from ..io.echo_resample import trilinear_matrix

    shape = layout.shape
    ijk_b = np.column_stack(np.unravel_index(np.arange(int(np.prod(shape))), shape, order="F"))
    boldref_mm = np.column_stack([ijk_b @ layout.affine[:3, :3].T + layout.affine[:3, 3]])
    to_template = np.linalg.inv(layout.coreg @ layout.anat)
    template_mm = boldref_mm @ to_template[:3, :3].T + to_template[:3, 3]
    inv = np.linalg.inv(template_affine)
    matrix, columns, _ = trilinear_matrix(template_mm @ inv[:3, :3].T + inv[:3, 3], template_shape)
    pos = np.minimum(np.searchsorted(flat, columns), len(flat) - 1)
    brain = flat[pos] == columns
    out = matrix[:, np.flatnonzero(brain)] @ np.asarray(values, np.float32)[pos[brain]]
    return np.asarray(out, np.float32).reshape(*shape, *np.shape(values)[1:], order="F")


def write_transforms(layout: BoldrefLayout, coreg_path: Path | str, anat_path: Path | str) -> None:
    """Write the layout's transforms as ITK ``.txt`` affines with nitransforms (atomically)."""
    import nitransforms as nt

    from ..io.derivatives import atomic_path

    for matrix, path in ((layout.coreg, coreg_path), (layout.anat, anat_path)):
        with atomic_path(path) as tmp:
            nt.linear.Affine(matrix).to_filename(str(tmp), fmt="itk")
