"""Search regions: where on the cortex a target may be chosen.

The default left-DLPFC region is the union of 20 mm spheres at Brodmann areas 9 (−36, 39, 43) and 46
(−44, 40, 29) (Fox et al. 2012; Cash et al. 2021), restricted to grey matter (nilearn's MNI152
grey-matter mask) within reach of a TMS coil (no deeper than ``max_depth_mm`` below the brain's
outer surface), and to the participant's brain mask.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from .._utils.templates import mni_mask_on_grid as _template_on_grid
from ..exceptions import InputError
from .circuits import sphere_mask

#: Default left-DLPFC search spheres: (label, MNI centre mm, radius mm).
DLPFC_SPHERES = (("BA9", (-36.0, 39.0, 43.0), 20.0), ("BA46", (-44.0, 40.0, 29.0), 20.0))

#: Deepest cortex (mm below the outer brain surface) considered reachable by a figure-8 coil.
MAX_DEPTH_MM = 20.0


def depth_below_surface_mm(brain: np.ndarray, affine: np.ndarray) -> np.ndarray:
    """Distance (mm) of each in-brain voxel to the outside of the (hole-filled) brain mask."""
    filled = ndimage.binary_fill_holes(brain)
    zooms = np.sqrt((affine[:3, :3] ** 2).sum(0))
    return ndimage.distance_transform_edt(filled, sampling=zooms)


def dlpfc_search_mask(
    brain_mask: np.ndarray,
    affine: np.ndarray,
    grey_matter: bool = True,
    max_depth_mm: float = MAX_DEPTH_MM,
) -> np.ndarray:
    """Default left-DLPFC search region on a data grid.

    Parameters
    ----------
    brain_mask : ndarray of bool, shape (X, Y, Z)
        The participant's brain mask on the data grid.
    affine : ndarray, shape (4, 4)
        Voxel-to-MNI affine of the grid.
    grey_matter : bool
        Restrict to the MNI152 grey-matter mask.
    max_depth_mm : float
        Keep voxels at most this deep below the template brain surface.

    Returns
    -------
    ndarray of bool, shape (X, Y, Z)

    Notes
    -----
    Templates are resampled only on the box around the spheres (plus ``max_depth_mm`` and a margin),
    which keeps this fast on any grid. Depths inside the box are exact up to ``max_depth_mm``: any
    outside-brain point closer than that to a sphere voxel lies inside the box.
    """
    shape = brain_mask.shape
    zooms = np.sqrt((affine[:3, :3] ** 2).sum(0))
    margin = (max_depth_mm or 0.0) + 2 * float(zooms.max())
    lo_mm = np.min([np.asarray(c) - r for _, c, r in DLPFC_SPHERES], axis=0) - margin
    hi_mm = np.max([np.asarray(c) + r for _, c, r in DLPFC_SPHERES], axis=0) + margin
    corners = np.array(
        [
            [x, y, z]
            for x in (lo_mm[0], hi_mm[0])
            for y in (lo_mm[1], hi_mm[1])
            for z in (lo_mm[2], hi_mm[2])
        ]
    )
    ijk = np.linalg.solve(affine, np.c_[corners, np.ones(8)].T)[:3].T
    lo = np.clip(np.floor(ijk.min(0)).astype(int), 0, shape)
    hi = np.clip(np.ceil(ijk.max(0)).astype(int) + 1, 0, shape)
    region = np.zeros(shape, bool)
    if np.any(hi <= lo):
        return region
    box = tuple(slice(a, b) for a, b in zip(lo, hi))
    box_shape = tuple(int(b - a) for a, b in zip(lo, hi))
    box_affine = affine.copy()
    box_affine[:3, 3] = affine[:3, :3] @ lo + affine[:3, 3]
    sub = np.zeros(box_shape, bool)
    for _, centre, radius in DLPFC_SPHERES:
        sub |= sphere_mask(box_affine, box_shape, centre, radius)
    sub &= brain_mask[box]
    if grey_matter:
        sub &= _template_on_grid("gm", box_affine, box_shape)
    if max_depth_mm is not None:
        sub &= (
            depth_below_surface_mm(_template_on_grid("brain", box_affine, box_shape), box_affine)
            <= max_depth_mm
        )
    region[box] = sub
    return region


def check_search_region(
    region: np.ndarray, brain_mask: np.ndarray, min_voxels: int = 10
) -> np.ndarray:
    """Intersect a search region with the brain mask and check it is not (nearly) empty."""
    region = region & brain_mask
    n = int(region.sum())
    if n < min_voxels:
        raise InputError(
            f"search region has {n} voxel(s) inside the brain mask (need >= {min_voxels}) — "
            "check --search-mask is in the same MNI space as the BOLD and overlaps the brain"
        )
    return region
