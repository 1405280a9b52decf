"""Induced electric field of a TMS coil: free-space primary field and spherical-conductor solution.

The coil is a set of magnetic dipoles (:mod:`tmstarget.coil.models`). In free space a dipole with
moment ``m`` at ``r_d`` whose moment changes at ``dm/dt`` induces the primary field

``E_p(r) = -(μ0/4π) (dm/dt) × (r - r_d) / |r - r_d|³``.

Inside a spherically symmetric conductor, charges build up on the surface so that no current leaves
it; the total field for a dipole outside the sphere is known in closed form (Heller & van Hulsteyn
1992, obtained from Sarvas' (1987) magnetic field of a current dipole by reciprocity). With ``r``
and ``r_d`` relative to the sphere centre, ``a = r_d - r``, ``a = |a|``, ``ρ = |r_d|``:

``F = a (ρ a + ρ² - r·r_d)``,
``∇F = (a²/ρ + a·r_d/a + 2a + 2ρ) r_d - (a + 2ρ + a·r_d/a) r``,
``E(r) = -(μ0/4π) / F² [F (r × dm/dt) - ((dm/dt)·∇F) (r × r_d)]``.

The field does not depend on the sphere radius or on the (radial) conductivity profile, has no
radial component, and vanishes at the centre. Units: positions in mm (converted to metres
internally), moments per ampere (m²), ``didt`` in A/s, fields in V/m.

References
----------
Sarvas J (1987). Basic mathematical and electromagnetic concepts of the biomagnetic inverse problem.
Phys Med Biol 32:11–22.
Heller L, van Hulsteyn DB (1992). Brain stimulation using electromagnetic sources: theoretical
aspects. Biophys J 63:129–138.
"""

from __future__ import annotations

import numpy as np

from ..exceptions import InputError
from .geometry import cross3
from .models import Dipoles

#: μ0 / 4π (T·m/A).
MU0_4PI = 1e-7
#: Default rate of change of the coil current: 1 A/µs, in A/s.
DIDT_1_A_PER_US = 1e6
#: Points × dipoles handled per block (bounds memory to a few tens of MB).
_BLOCK = 1 << 18


def _blocks(n_points: int, n_sources: int):
    step = max(1, _BLOCK // max(n_sources, 1))
    for start in range(0, n_points, step):
        yield slice(start, min(start + step, n_points))


def _as_points(points_mm) -> np.ndarray:
    pts = np.asarray(points_mm, dtype=float)
    if pts.ndim == 1:
        pts = pts[None, :]
    if pts.ndim != 2 or pts.shape[1] != 3 or not np.isfinite(pts).all():
        raise InputError(
            "points must be finite (N, 3) coordinates in "
            f"mm, got shape {pts.shape} — pass x, y, z columns"
        )
    return pts


def primary_efield(points_mm, dipoles: Dipoles, didt: float = DIDT_1_A_PER_US) -> np.ndarray:
    """Free-space induced field ``-dA/dt`` of magnetic dipoles.

    Parameters
    ----------
    points_mm : array_like, shape (N, 3)
        Field points (mm), same frame as the dipoles.
    dipoles : Dipoles
        Positions (mm) and moments per ampere (m²).
    didt : float
        Rate of change of the coil current (A/s).

    Returns
    -------
    ndarray, shape (N, 3)
        Electric field (V/m).
    """
    pts = _as_points(points_mm) * 1e-3
    src = dipoles.positions_mm * 1e-3
    mdot = dipoles.moments * didt
    m_x_src = np.cross(mdot, src)
    out = np.empty_like(pts)
    for sl in _blocks(len(pts), len(src)):
        # sum_d mdot_d x (r - r_d) / |r - r_d|^3 = (sum_d w_d mdot_d) x r - sum_d w_d (mdot_d x r_d)
        w = _distances(pts[sl], src) ** -3
        out[sl] = -MU0_4PI * (np.cross(w @ mdot, pts[sl]) - w @ m_x_src)
    return out


def _distances(pts: np.ndarray, src: np.ndarray) -> np.ndarray:
    """(P, D) Euclidean distances between two point sets."""
    d2 = (pts**2).sum(axis=1)[:, None] + (src**2).sum(axis=1)[None, :] - 2.0 * pts @ src.T
    return np.sqrt(np.maximum(d2, 0.0))


#: Points × dipoles per block of :func:`_sphere_kernel`: a few arrays of this size stay in cache,
#: and OpenBLAS runs products of this size (below its threading threshold) on one thread.
_KERNEL_BLOCK = 1 << 16


def _sphere_kernel(pts: np.ndarray, src: np.ndarray, mdot: np.ndarray) -> np.ndarray:
    """Heller–van Hulsteyn field (V/m) at ``pts`` (N, 3) of dipoles at ``src`` (m, centred).

    Computed in the dtype of the arrays, in place, in blocks small enough to stay in cache and for
    BLAS to run them on one thread (its threads stall when the cores are busy).
    """
    rho2 = np.einsum("ij,ij->i", src, src)
    rho = np.sqrt(rho2)
    two_rho, inv_rho = 2 * rho, 1 / rho
    m_dot_src = np.einsum("ij,ij->i", mdot, src)
    rr = np.einsum("ij,ij->i", pts, pts)
    out = np.empty_like(pts)
    step = max(1, _KERNEL_BLOCK // max(len(src), 1))
    for start in range(0, len(pts), step):
        r = pts[start : start + step]
        ads = r @ src.T  # r·r_d
        np.subtract(rho2, ads, out=ads)  # (r_d - r)·r_d
        a = np.multiply(ads, 2)  # |r_d - r|² = |r|² - ρ² + 2 (r_d - r)·r_d
        a += rr[start : start + step, None]
        a -= rho2
        np.maximum(a, 0, out=a)
        np.sqrt(a, out=a)
        q = ads / a
        f = rho * a  # F = a (ρ a + (r_d - r)·r_d)
        f += ads
        f *= a
        c2 = np.add(a, q, out=q)
        c2 += two_rho
        g = a * a  # c1 = a²/ρ + a + c2
        g *= inv_rho
        g += a
        g += c2
        rm = r @ mdot.T
        g *= m_dot_src  # m·∇F = c1 (m·r_d) - c2 (m·r)
        rm *= c2
        g -= rm
        np.reciprocal(f, out=f)
        w = f @ mdot
        g *= f
        g *= f
        w -= g @ src
        out[start : start + step] = cross3(r, w)
    out *= -MU0_4PI
    return out


def sphere_efield(
    points_mm, dipoles: Dipoles, centre_mm, didt: float = DIDT_1_A_PER_US
) -> np.ndarray:
    """Total induced field inside a spherical conductor (Heller & van Hulsteyn 1992).

    Parameters
    ----------
    points_mm : array_like, shape (N, 3)
        Field points (mm) inside the sphere.
    dipoles : Dipoles
        Coil dipoles (mm, m² per A), outside the sphere.
    centre_mm : array_like, shape (3,)
        Sphere centre (mm).
    didt : float
        Rate of change of the coil current (A/s).

    Returns
    -------
    ndarray, shape (N, 3)
        Electric field (V/m); exactly zero at the centre.

    Raises
    ------
    InputError
        If a field point is not closer to the centre than every dipole.
    """
    c = np.asarray(centre_mm, dtype=float)
    pts = (_as_points(points_mm) - c) * 1e-3
    src = (dipoles.positions_mm - c) * 1e-3
    rho = np.linalg.norm(src, axis=1)
    if len(pts) and np.linalg.norm(pts, axis=1).max() >= rho.min():
        raise InputError(
            "a field point lies outside the sphere that contains "
            "the coil's dipoles — evaluate inside the head "
            "sphere"
        )
    out = _sphere_kernel(pts, src, dipoles.moments * didt)
    at_centre = np.linalg.norm(pts, axis=1) < 1e-12
    out[at_centre] = 0.0
    return out


def wire_vector_potential(points_mm, starts_mm: np.ndarray, ends_mm: np.ndarray) -> np.ndarray:
    """Vector potential per ampere of straight wire segments (T·m per A).

    The potential is ``(μ0/4π) ∫ dl / |r - l|`` along the wire.

    Each segment is integrated in closed form, ``t̂ ln((|r-a| + |r-b| + L) / (|r-a| + |r-b| - L))``,
    so the only approximation is the polygonal wire. Used as an independent reference for the dipole
    model.
    """
    pts = _as_points(points_mm) * 1e-3
    a, b = np.asarray(starts_mm) * 1e-3, np.asarray(ends_mm) * 1e-3
    seg = b - a
    length = np.linalg.norm(seg, axis=1)
    t = seg / length[:, None]
    out = np.empty_like(pts)
    for sl in _blocks(len(pts), len(a)):
        ra = np.linalg.norm(pts[sl, None, :] - a[None], axis=2)
        rb = np.linalg.norm(pts[sl, None, :] - b[None], axis=2)
        s = ra + rb
        out[sl] = MU0_4PI * np.log((s + length) / (s - length)) @ t
    return out
