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

:class:`PlacementScorer` combines the two into the optimiser's scores.
"""

from __future__ import annotations

import numpy as np

from .geometry import cross3, rotation_between

__all__ = ["LateralBound", "PlacementScorer", "trilinear"]


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


class PlacementScorer:
    """E-field-weighted circuit scores of placements given as (a, b, ψ), for the optimiser.

    ``a`` and ``b`` are arc offsets (mm) from the default entry along the default handle and
    across it; ``ψ`` is the handle rotation (°). Placements sharing a position are scored together,
    each over the voxels its field can stimulate (:class:`LateralBound`); the scores are those of
    :func:`tmstarget.coil.optimize.weighted_circuit_score` over all voxels.

    Parameters
    ----------
    ref : tmstarget.coil.optimize.ReferenceField
        ``|E|`` tabulated in the reference pose.
    sphere : Sphere
        Head sphere (its centre is the reference pose's origin).
    u0, h0 : ndarray, shape (3,)
        Default coil axis (outwards) and handle direction.
    points, values : ndarray, shapes (V, 3) and (V,)
        Voxel centres (mm) and circuit values.
    scalp_radius_mm : float
        Radius of the sphere the coil centre moves on.
    threshold : float
        Fraction of the maximum from which voxels are stimulated.
    """

    #: Voxels within this lateral distance of the coil axis give the first (lower-bound) maximum.
    CORE_MM = 12.0

    def __init__(
        self, ref, sphere, u0, h0, points, values, scalp_radius_mm: float, threshold: float
    ):
        self.ref, self.c, self.threshold = ref, sphere.centre_mm, threshold
        self.u0, self.h0, self.e2 = u0, h0, np.cross(u0, h0)
        self.rel = points - self.c
        self.dist2 = np.einsum("ij,ij->i", self.rel, self.rel)
        self.values = np.asarray(values, dtype=float)
        self.radius = scalp_radius_mm
        self.bound = LateralBound(ref.magnitude, ref.origin_mm, ref.step_mm, np.sqrt(self.dist2))
        self.n = 0

    def pose(self, a: float, b: float, psi_deg: float) -> tuple[np.ndarray, np.ndarray]:
        """Coil axis ``u`` (outwards) and handle ``h`` of one placement."""
        s = np.hypot(a, b)
        t = (a * self.h0 + b * self.e2) / s if s > 0 else self.h0
        u = np.cos(s / self.radius) * self.u0 + np.sin(s / self.radius) * t
        h = rotation_between(self.u0, u) @ self.h0
        psi = np.deg2rad(psi_deg)
        return u, np.cos(psi) * h + np.sin(psi) * np.cross(u, h)

    def rotations(self, params: np.ndarray) -> np.ndarray:
        """Reference-pose rotations ``[h × u, h, u]`` (K, 3, 3) of many placements at once."""
        a, b, psi = (np.asarray(params, dtype=float)[:, i : i + 1] for i in range(3))
        s = np.hypot(a, b)
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.where(s > 0, (a * self.h0 + b * self.e2) / s, self.h0)
        u = np.cos(s / self.radius) * self.u0 + np.sin(s / self.radius) * t
        u = u / np.linalg.norm(u, axis=1, keepdims=True)
        # rotation taking u0 to u (Rodrigues) applied to h0; u is never opposite to u0 here
        v = cross3(self.u0, u)
        cos = (u @ self.u0)[:, None]
        vh = cross3(v, self.h0)
        h = self.h0 + vh + cross3(v, vh) / (1 + cos)
        psi = np.deg2rad(psi)
        h = np.cos(psi) * h + np.sin(psi) * cross3(u, h)
        return np.stack([cross3(h, u), h, u], axis=2)

    def _sample(self, rel: np.ndarray, rots: np.ndarray) -> np.ndarray:
        """``|E|`` (K, n) at voxels ``rel`` (n, 3) for rotations (K, 3, 3): q = R^T (p - c)."""
        ref = self.ref
        scaled = rots / ref.step_mm
        off = ref.origin_mm / ref.step_mm
        idx = [
            scaled[:, 0, j, None] * rel[:, 0]
            + scaled[:, 1, j, None] * rel[:, 1]
            + scaled[:, 2, j, None] * rel[:, 2]
            - off[j]
            for j in range(3)
        ]
        return trilinear(ref.magnitude, *idx)

    def magnitudes(self, params: np.ndarray) -> np.ndarray:
        """``|E|`` (K, V) at all voxels."""
        params = np.atleast_2d(params)
        self.n += len(params)
        return self._sample(self.rel, self.rotations(params))

    def scores(self, params: np.ndarray) -> np.ndarray:
        """Scores (K,) of placements (K, 3); counts them in ``n``."""
        params = np.atleast_2d(np.asarray(params, dtype=float))
        self.n += len(params)
        rots = self.rotations(params)
        out = np.empty(len(params))
        if len(params) == 1:
            groups = [(0, np.zeros(1, dtype=np.intp))]
        else:
            _, first, inverse = np.unique(
                params[:, :2], axis=0, return_index=True, return_inverse=True
            )
            groups = [(i, np.flatnonzero(inverse.ravel() == g)) for g, i in enumerate(first)]
        for i, members in groups:
            u = rots[i, :, 2]  # qz is the same for every rotation about the coil axis
            qz = self.rel[:, 0] * u[0] + self.rel[:, 1] * u[1] + self.rel[:, 2] * u[2]
            lateral = np.sqrt(np.maximum(self.dist2 - qz * qz, 0.0))
            core = lateral <= self.CORE_MM
            e_core = self._sample(self.rel[core], rots[members])
            low = e_core.max(axis=1, initial=0.0)
            # voxels that cannot reach half of a maximum already reached are never stimulated
            more = ~core & (self.bound.bound(lateral) >= self.threshold * low.min())
            e = np.concatenate([e_core, self._sample(self.rel[more], rots[members])], axis=1)
            w = np.where(e >= self.threshold * e.max(axis=1, keepdims=True), e, 0.0)
            total = w.sum(axis=1)
            num = np.einsum("kv,v->k", w, np.concatenate([self.values[core], self.values[more]]))
            out[members] = np.divide(num, total, out=np.zeros(len(members)), where=total > 0)
        return out
