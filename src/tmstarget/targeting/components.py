"""Components: a participant's cleaned data in compressed form, the input of every score.

Run i's cleaned time series are ``U_i W_i`` (:mod:`tmstarget.targeting.cleaning`); the r_i × columns
blocks ``W_i`` are smoothed (see the geometry), normalised per run so that runs weigh the same,
stacked and normalised again, so that ``w[:, i] @ w[:, j]`` is the correlation of columns i and j.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..exceptions import InputError
from .cleaning import normalize_columns
from .geometry import SurfaceGeometry, VolumeGeometry, smooth_components


@dataclass
class Components:
    """Cleaned data of one participant in compressed form.

    Attributes
    ----------
    w : ndarray, shape (r, V)
        Unit-norm columns: ``w[:, i] @ w[:, j]`` is the correlation of columns i and j.
    valid : ndarray of bool, shape (V,)
        Columns with non-constant data.
    brain : ndarray of bool, shape (X, Y, Z)
        Voxels of ``w``'s columns (Fortran order); for surfaces a (V, 1, 1) placeholder.
    affine : ndarray, shape (4, 4)
    geometry : VolumeGeometry or SurfaceGeometry, optional
        Where the columns are (default: the volume of ``brain`` and ``affine``).
    """

    w: np.ndarray
    valid: np.ndarray
    brain: np.ndarray
    affine: np.ndarray
    geometry: VolumeGeometry | SurfaceGeometry | None = None

    def __post_init__(self) -> None:
        if self.geometry is None:
            self.geometry = VolumeGeometry(self.brain, self.affine)

    @property
    def flat(self) -> np.ndarray:
        """Fortran-order flat indices of the columns (volumes)."""
        return np.flatnonzero(self.brain.ravel(order="F"))

    def columns(self, mask: np.ndarray) -> np.ndarray:
        """Column indices of a region (a boolean volume, or one boolean per column for surfaces)."""
        return self.geometry.columns(mask)

    def coords(self, idx: np.ndarray) -> np.ndarray:
        """MNI coordinates (mm) of columns ``idx``."""
        return self.geometry.coords(idx)


def finalize_components(
    blocks: list[np.ndarray],
    brain: np.ndarray,
    affine: np.ndarray,
    fwhm_mm: float = 0.0,
    variable: np.ndarray | None = None,
    geometry: VolumeGeometry | SurfaceGeometry | None = None,
    run_weights: np.ndarray | None = None,
) -> Components:
    """Smooth, normalise per run (so runs weigh the same), concatenate and normalise again.

    Parameters
    ----------
    blocks : list of ndarray, each (r_run, V)
        Compressed cleaned data of each run (``projector @ X``); left untouched.
    brain, affine
        Voxel grid of the columns.
    fwhm_mm : float
        Spatial smoothing (volumes) applied to the stacked components (0 = none; the targeting run
        smooths each block before, see :func:`tmstarget.targeting.prepare.prepare`).
    variable : ndarray of bool, shape (V,), optional
        Columns whose raw time series vary; the others are constant and excluded (their cleaned data
        are rounding noise, which normalisation would otherwise blow up).
    geometry : optional
        Where the columns are (default: the volume of ``brain``).
    run_weights : ndarray, shape (n_runs,), optional
        Relative weight ω_i of each run in every inner product (default: equal). The reliability
        resamples use :func:`~tmstarget.targeting.uncertainty.weights.run_shares`; this is their
        reference.
    """
    w = np.concatenate(blocks, axis=0)  # a copy: the blocks are left untouched for reuse
    if fwhm_mm and fwhm_mm > 0:
        w = smooth_components(w, brain, affine, fwhm_mm)
    valid = np.ones(w.shape[1], bool) if variable is None else variable.copy()
    w[:, ~valid] = 0
    start = 0
    for i, b in enumerate(blocks):
        _, ok = normalize_columns(w[start : start + b.shape[0]])
        if run_weights is not None:
            w[start : start + b.shape[0]] *= w.dtype.type(np.sqrt(run_weights[i]))
        valid &= ok
        start += b.shape[0]
    w, ok = normalize_columns(w)
    valid &= ok
    if valid.mean() < 0.5:
        raise InputError(
            f"BOLD data are constant in {100 * (1 - valid.mean()):.0f}% "
            "of brain voxels — check the preprocessing output "
            "and the mask"
        )
    return Components(w=w, valid=valid, brain=brain, affine=affine, geometry=geometry)
