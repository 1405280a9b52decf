"""Search regions: where on the cortex a target may be chosen.

The default left-DLPFC region is the union of 20 mm spheres at Brodmann areas 9 (−36, 39, 43) and 46
(−44, 40, 29) (Fox et al. 2012; Cash et al. 2021), restricted to grey matter (nilearn's MNI152 grey-matter
mask) within reach of a TMS coil (no deeper than ``max_depth_mm`` below the brain's outer surface), and
to the participant's brain mask.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from .circuits import sphere_mask
from .exceptions import InputError

#: Default left-DLPFC search spheres: (label, MNI centre mm, radius mm).
DLPFC_SPHERES = (("BA9", (-36.0, 39.0, 43.0), 20.0), ("BA46", (-44.0, 40.0, 29.0), 20.0))

#: Deepest cortex (mm below the outer brain surface) considered reachable by a figure-8 coil.
MAX_DEPTH_MM = 20.0


def _template_on_grid(which: str, affine: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """nilearn's bundled MNI152 mask (``"gm"`` or ``"brain"``) resampled (nearest) onto a grid."""
    from nilearn.datasets import load_mni152_brain_mask, load_mni152_gm_mask
    from nilearn.image import resample_img

    img = load_mni152_gm_mask(resolution=2) if which == "gm" else load_mni152_brain_mask(resolution=2)
    out = resample_img(img, target_affine=affine, target_shape=tuple(shape), interpolation="nearest", force_resample=True, copy_header=True)
    return np.asanyarray(out.dataobj) > 0.5


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
    """
    shape = brain_mask.shape
    region = np.zeros(shape, bool)
    for _, centre, radius in DLPFC_SPHERES:
        region |= sphere_mask(affine, shape, centre, radius)
    region &= brain_mask
    if grey_matter:
        region &= _template_on_grid("gm", affine, shape)
    if max_depth_mm is not None:
        template_brain = _template_on_grid("brain", affine, shape)
        region &= depth_below_surface_mm(template_brain, affine) <= max_depth_mm
    return region


def check_search_region(region: np.ndarray, brain_mask: np.ndarray, min_voxels: int = 10) -> np.ndarray:
    """Intersect a search region with the brain mask and check it is not (nearly) empty."""
    region = region & brain_mask
    n = int(region.sum())
    if n < min_voxels:
        raise InputError(
            f"search region has {n} voxel(s) inside the brain mask (need >= {min_voxels}) — "
            "check --search-mask is in the same MNI space as the BOLD and overlaps the brain"
        )
    return region
