"""Where the columns of the data are: the one interface between targeting and an input kind.

Targeting works on columns — brain voxels of a volume (Fortran order of the mask), or grayordinates
of surface data (fsaverage vertices, or a CIFTI brain-model axis). A geometry answers every question
the core asks about columns, so that cleaning, components, scores and selection run unchanged on any
kind:

- ``n``, ``coords(idx)`` — how many columns, their MNI coordinates (mm);
- ``columns(mask)`` — the columns of a region (a 3-D mask for volumes, a boolean per column for
  surfaces);
- ``near(region, search_idx, mm)`` — columns within ``mm`` of the search region (left out of the
  circuit);
- ``seed_columns()`` — the sgACC seed sphere;
- ``column_values(map)`` — a circuit map (on the grid) as one value per column;
- ``smooth(block, fwhm_mm)`` — Gaussian smoothing of compressed data (rows = components, columns =
  columns);
- ``to_grid(values)`` — per-column values as the output map (a volume, or the columns themselves);
- ``patches(idx, keep)`` — the connected patches of the kept columns among ``idx`` (voxels touching
  by a face, edge or corner; mesh vertices sharing an edge), and ``areas(idx)`` — each column's
  weight in a patch (1 per voxel: all have the same volume; the vertex area in mm² on a mesh): what
  ``cluster`` needs on any input kind.

:class:`SubsetGeometry` is the geometry of some columns of another (the resampling engine's search
columns).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from scipy import ndimage

from .circuits import SGACC_MNI, SGACC_RADIUS_MM, sphere_mask


def smooth_components(
    w: np.ndarray, mask: np.ndarray, affine: np.ndarray, fwhm_mm: float, block: int = 32
) -> np.ndarray:
    """Spatially smooth compressed data (r × V, in place) with a Gaussian kernel of ``fwhm_mm``.

    Smoothing (spatial) and cleaning (temporal) are both linear and act on different axes, so
    smoothing the r compressed components equals smoothing the T volumes first, at a fraction of the
    cost. The kernel is nilearn's (``smooth_img``: σ = FWHM / √(8 ln 2) per voxel size), applied
    with scipy on the brain's bounding box, ``block`` components at a time; zeros outside the mask
    (not skull) enter the kernel.
    """
    ijk = np.argwhere(mask)
    lo, hi = ijk.min(0), ijk.max(0) + 1
    box = tuple(int(b - a) for a, b in zip(lo, hi))
    # The columns of w follow the Fortran-order flattening of the mask. Each component's box is
    # held in Fortran order too (a C-order (z, y, x) array), so the columns land at increasing
    # positions: one streaming put and take per component instead of a 2-D scatter and gather.
    flat_f = np.flatnonzero(mask.ravel(order="F"))
    vox = np.column_stack(np.unravel_index(flat_f, mask.shape, order="F")) - lo
    at = np.ravel_multi_index(vox.T, box, order="F")
    sigma = fwhm_mm / np.sqrt(8 * np.log(2)) / np.sqrt((affine[:3, :3] ** 2).sum(0))
    vol = np.zeros((block, *box[::-1]), np.float32)
    flat_vol = vol.reshape(block, -1)
    for b0 in range(0, w.shape[0], block):
        nb = min(block, w.shape[0] - b0)
        vol[:nb] = 0
        for k in range(nb):
            flat_vol[k, at] = w[b0 + k]
        for axis in range(3):  # x, y, z = array axes 3, 2, 1
            ndimage.gaussian_filter1d(
                vol[:nb], sigma[axis], axis=3 - axis, output=vol[:nb], mode="constant", truncate=4.0
            )
        for k in range(nb):
            w[b0 + k] = flat_vol[k].take(at)
    return w


@dataclass
class VolumeGeometry:
    """Brain voxels of a 3-D grid, in Fortran order of the mask.

    Attributes
    ----------
    brain : ndarray of bool, shape (X, Y, Z)
    affine : ndarray, shape (4, 4)
        Voxel → MNI mm.
    """

    brain: np.ndarray
    affine: np.ndarray
    kind: str = field(default="volume", init=False)
    noun: str = field(default="voxel", init=False)

    @cached_property
    def flat(self) -> np.ndarray:
        """Fortran-order flat indices of the columns (computed once; ``brain`` is not changed)."""
        return np.flatnonzero(self.brain.ravel(order="F"))

    @property
    def n(self) -> int:
        """Number of columns."""
        return int(self.brain.sum())

    def columns(self, mask: np.ndarray) -> np.ndarray:
        """Column indices of the voxels of a boolean volume."""
        return np.flatnonzero(mask.ravel(order="F")[self.flat])

    def coords(self, idx: np.ndarray) -> np.ndarray:
        """MNI coordinates (mm) of columns ``idx``."""
        ijk = np.column_stack(np.unravel_index(self.flat[idx], self.brain.shape, order="F"))
        return ijk @ self.affine[:3, :3].T + self.affine[:3, 3]

    def near(self, region: np.ndarray, search_idx: np.ndarray, distance_mm: float) -> np.ndarray:
        """Return the columns within ``distance_mm`` of the search region's voxels.

        Distances come from a Euclidean distance transform.
        """
        zooms = np.sqrt((self.affine[:3, :3] ** 2).sum(0))
        local = ndimage.distance_transform_edt(~region, sampling=zooms) <= distance_mm
        return local.ravel(order="F")[self.flat]

    def seed_columns(self) -> np.ndarray:
        """Columns of the 10 mm sgACC sphere."""
        return self.columns(sphere_mask(self.affine, self.brain.shape, SGACC_MNI, SGACC_RADIUS_MM))

    def column_values(self, grid_map: np.ndarray) -> np.ndarray:
        """Return a map on the grid as one value per column."""
        return grid_map.ravel(order="F")[self.flat]

    def smooth(self, block: np.ndarray, fwhm_mm: float) -> np.ndarray:
        """Smooth compressed data with a Gaussian in the volume (in place).

        See :func:`smooth_components`.
        """
        return smooth_components(block, self.brain, self.affine, fwhm_mm)

    def patches(self, idx: np.ndarray, keep: np.ndarray) -> np.ndarray:
        """Label the connected patches of the voxels ``idx[keep]`` (26-connectivity).

        Labels are 1, 2, …; 0 means not kept.
        """
        vox = np.column_stack(np.unravel_index(self.flat[idx], self.brain.shape, order="F"))
        if not len(vox):
            return np.zeros(0, int)
        # label within the columns' bounding box: the same patches, numbered in the same (raster)
        # order as in the whole grid, at a fraction of the cost (a bootstrap labels once per
        # resample)
        lo = vox.min(0)
        vox = vox - lo
        vol = np.zeros(tuple(vox.max(0) + 1), bool)
        vol[tuple(vox[keep].T)] = True
        labels, _ = ndimage.label(vol, structure=np.ones((3, 3, 3)))
        return labels[tuple(vox.T)]

    def areas(self, idx: np.ndarray) -> np.ndarray:
        """Weight of each column in a patch: 1 (every voxel of the grid has the same volume)."""
        return np.ones(len(idx))

    def to_grid(self, values: np.ndarray, idx: np.ndarray | None = None) -> np.ndarray:
        """float32 volume with ``values`` at columns ``idx`` (default all), NaN elsewhere."""
        out = np.full(self.brain.shape, np.nan, np.float32)
        idx = np.arange(self.n) if idx is None else idx
        vox = np.column_stack(np.unravel_index(self.flat[idx], self.brain.shape, order="F"))
        out[vox[:, 0], vox[:, 1], vox[:, 2]] = values
        return out


@dataclass
class SurfaceGeometry:
    """Grayordinates of surface data as columns.

    The grayordinates are a :class:`tmstarget.surface.geometry.Grayordinates`.
    """

    grayordinates: object
    meshes: dict | None = None
    kind: str = field(default="surface", init=False)
    noun: str = field(default="vertex", init=False)

    @property
    def n(self) -> int:
        """Number of columns."""
        return self.grayordinates.n

    def columns(self, mask: np.ndarray) -> np.ndarray:
        """Columns of a region given as one boolean per column."""
        return np.flatnonzero(mask)

    def coords(self, idx: np.ndarray) -> np.ndarray:
        """MNI coordinates (mm) of columns ``idx`` (NaN where unknown)."""
        return self.grayordinates.coords[idx]

    def near(self, region: np.ndarray, search_idx: np.ndarray, distance_mm: float) -> np.ndarray:
        """Return the columns within ``distance_mm`` of the (usable) search columns.

        Distance is straight-line distance.
        """
        from scipy.spatial import cKDTree

        coords = self.grayordinates.coords
        dist, _ = cKDTree(coords[search_idx]).query(
            np.nan_to_num(coords, nan=1e6), distance_upper_bound=distance_mm
        )
        return np.isfinite(dist)

    def seed_columns(self) -> np.ndarray:
        """Usable columns within 10 mm of the sgACC seed (refused when too few)."""
        from .surface_maps import sgacc_seed

        return sgacc_seed(self.grayordinates)

    def column_values(self, values: np.ndarray) -> np.ndarray:
        """Circuit values are already one per column."""
        return values

    def smooth(self, block: np.ndarray, fwhm_mm: float) -> np.ndarray:
        """Gaussian smoothing over mesh-edge distances within each hemisphere (or voxel part)."""
        smoother = self._smoother(fwhm_mm)
        return np.asarray(smoother @ block.T.astype(np.float64)).T.astype(np.float32)

    def _smoother(self, fwhm_mm: float):
        cache = self.__dict__.setdefault("_smoothers", {})
        if fwhm_mm not in cache:
            cache[fwhm_mm] = self.grayordinates.smoother(fwhm_mm)
        return cache[fwhm_mm]

    def patches(self, idx: np.ndarray, keep: np.ndarray) -> np.ndarray:
        """Label the connected patches of the columns ``idx[keep]``.

        Labels are 1, 2, …; 0 means not kept. Columns connect along mesh edges within a hemisphere,
        and as 26-neighbour voxels within the CIFTI volume part.
        """
        from scipy.sparse.csgraph import connected_components

        cols = np.asarray(idx)[keep]
        labels = np.zeros(len(idx), int)
        if cols.size:
            adjacency = self.grayordinates.adjacency
            _, lab = connected_components(adjacency[cols][:, cols], directed=False)
            labels[np.flatnonzero(keep)] = lab + 1
        return labels

    def areas(self, idx: np.ndarray) -> np.ndarray:
        """Return the weight of each column in a patch.

        For a vertex this is its area (mm², a third of its triangles'); for a CIFTI voxel, its face
        area.
        """
        return self.grayordinates.areas[idx]

    def to_grid(self, values: np.ndarray, idx: np.ndarray | None = None) -> np.ndarray:
        """float32 per-column values (NaN outside ``idx``)."""
        if idx is None:
            return np.asarray(values, np.float32)
        out = np.full(self.n, np.nan, np.float32)
        out[idx] = values
        return out


@dataclass
class SubsetGeometry:
    """The columns ``idx`` of another geometry, renumbered 0 … len(idx) − 1.

    Their coordinates, patches and areas are the parent's.

    The resampling engine scores only the search columns; its selections see them through this.
    """

    parent: VolumeGeometry | SurfaceGeometry
    idx: np.ndarray

    @property
    def kind(self) -> str:
        """Input kind of the parent."""
        return self.parent.kind

    @property
    def noun(self) -> str:
        """What a column is called."""
        return self.parent.noun

    @property
    def n(self) -> int:
        """Number of columns."""
        return len(self.idx)

    def columns(self, mask: np.ndarray) -> np.ndarray:
        """Columns of a region given as one boolean per column."""
        return np.flatnonzero(mask)

    def coords(self, idx: np.ndarray) -> np.ndarray:
        """MNI coordinates (mm) of columns ``idx``."""
        return self.parent.coords(self.idx[idx])

    def patches(self, idx: np.ndarray, keep: np.ndarray) -> np.ndarray:
        """Return the connected patches of the kept columns, as the parent connects them."""
        return self.parent.patches(self.idx[idx], keep)

    def areas(self, idx: np.ndarray) -> np.ndarray:
        """Weights of the columns, as the parent's."""
        return self.parent.areas(self.idx[idx])
