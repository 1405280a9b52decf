"""Fast sampling of the tabulated reference field, and a bound that skips voxels it cannot reach.

The optimiser (:mod:`tmstarget.coil.optimize`) samples ``|E|`` of the coil's reference pose at
every grey-matter voxel for every candidate placement. Two things keep that cheap without changing
a score:

- :func:`trilinear` interpolates with plain numpy (no BLAS, no scipy.ndimage import); it agrees
  with ``scipy.ndimage.map_coordinates(order=1, mode="constant")`` to rounding (~1e-15).
- :class:`LateralBound`: in the reference pose the sphere centre is the origin and the coil axis is
  ``z``, so a voxel's distance from the centre is the same for every placement and only its lateral
  distance from the coil axis changes. A trilinear value is a weighted mean of the 8 corners of its
  cell, so it is at most the largest tabulated value over the nodes within one cell of the point:
  :meth:`LateralBound.bound` is that maximum over every node at a similar radius and at least
  (almost) as far from the axis. Voxels whose bound is below half of a field value already reached
  cannot be stimulated (``|E| < ½ max``) and are left out of the score — exactly the voxels the
  full evaluation would give zero weight.
"""

from __future__ import annotations

import numpy as np

__all__ = ["LateralBound", "trilinear"]


def trilinear(grid: np.ndarray, ix: np.ndarray, iy: np.ndarray, iz: np.ndarray) -> np.ndarray:
    """Trilinear interpolation at fractional indices; 0 outside the grid.

    Parameters
    ----------
    grid : ndarray, shape (X, Y, Z)
        Tabulated values (each axis at least 2 long).
    ix, iy, iz : ndarray
        Fractional indices along the three axes, same shape. They are clipped in place.

    Returns
    -------
    ndarray
        Same shape as ``ix``; 0 where an index lies outside ``[0, n - 1]`` (as
        ``scipy.ndimage.map_coordinates(grid, ..., order=1, mode="constant", cval=0)``).
    """
    nx, ny, nz = grid.shape
    valid = (ix >= 0) & (ix <= nx - 1) & (iy >= 0) & (iy <= ny - 1) & (iz >= 0) & (iz <= nz - 1)
    np.clip(ix, 0, nx - 1, out=ix)
    np.clip(iy, 0, ny - 1, out=iy)
    np.clip(iz, 0, nz - 1, out=iz)
    x0 = np.minimum(ix.astype(np.intp), nx - 2)
    y0 = np.minimum(iy.astype(np.intp), ny - 2)
    z0 = np.minimum(iz.astype(np.intp), nz - 2)
    fx, fy, fz = ix - x0, iy - y0, iz - z0
    base = (x0 * ny + y0) * nz + z0
    flat = grid.ravel()
    sx, sy = ny * nz, nz

    def lerp_z(offset: int) -> np.ndarray:
        lo = flat[base + offset]
        return lo + fz * (flat[base + offset + 1] - lo)

    c00, c01 = lerp_z(0), lerp_z(sy)
    c10, c11 = lerp_z(sx), lerp_z(sx + sy)
    c0 = c00 + fy * (c01 - c00)
    c1 = c10 + fy * (c11 - c10)
    out = c0 + fx * (c1 - c0)
    out[~valid] = 0.0
    return out


class LateralBound:
    """Upper bound of an interpolated reference field by radius and lateral distance.

    Parameters
    ----------
    grid : ndarray, shape (X, Y, Z)
        Non-negative tabulated field, nodes at ``origin_mm + index * step_mm``.
    origin_mm : ndarray, shape (3,)
    step_mm : float
    radii_mm : ndarray, shape (V,)
        Distance of each voxel from the origin (the sphere centre), fixed for all placements.
    bin_mm : float
        Width of the radius bins.
    """

    def __init__(
        self,
        grid: np.ndarray,
        origin_mm: np.ndarray,
        step_mm: float,
        radii_mm: np.ndarray,
        bin_mm: float = 2.0,
    ):
        axes = [origin_mm[i] + step_mm * np.arange(n) for i, n in enumerate(grid.shape)]
        x, y, z = np.meshgrid(*axes, indexing="ij")
        lateral = np.hypot(x, y).ravel()
        radius = np.sqrt(x**2 + y**2 + z**2).ravel()
        value = np.asarray(grid, dtype=float).ravel()
        radii = np.asarray(radii_mm, dtype=float)
        lo = float(radii.min()) if radii.size else 0.0
        n_bins = int(np.floor((float(radii.max()) - lo) / bin_mm)) + 1 if radii.size else 1
        self._bin = np.clip(((radii - lo) // bin_mm).astype(np.intp), 0, n_bins - 1)
        reach_r, reach_lat = np.sqrt(3.0) * step_mm + 1e-6, np.sqrt(2.0) * step_mm + 1e-6
        # beyond n_lat no node is within reach: the last column stays 0
        n_lat = int(np.ceil(lateral.max() + reach_lat)) + 1
        table = np.zeros((n_bins, n_lat + 1))
        for b in range(n_bins):
            near = (radius >= lo + b * bin_mm - reach_r) & (
                radius <= lo + (b + 1) * bin_mm + reach_r
            )
            lat, val = lateral[near], value[near]
            if not lat.size:
                continue
            order = np.argsort(lat)
            lat, val = lat[order], val[order]
            suffix = np.maximum.accumulate(val[::-1])[::-1]  # max over nodes at >= this lateral
            first = np.searchsorted(lat, np.arange(n_lat) - reach_lat, side="left")
            table[b, :n_lat] = np.where(
                first < lat.size, suffix[np.minimum(first, lat.size - 1)], 0
            )
        self._table = table
        self._n_lat = n_lat

    def bound(self, lateral_mm: np.ndarray, index: np.ndarray | None = None) -> np.ndarray:
        """Largest interpolated value possible at each voxel, given its lateral distance (mm).

        ``index`` selects the voxels ``lateral_mm`` belongs to (all by default).
        """
        b = self._bin if index is None else self._bin[index]
        j = np.minimum(np.floor(lateral_mm).astype(np.intp), self._n_lat)
        return self._table[b, np.maximum(j, 0)]
