"""E-field: the analytic sphere solution against independent checks.

The checks are numerical computations that share no code with it, and an analytic case.
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.special import ellipe, ellipk

from tmstarget.coil.efield import primary_efield, sphere_efield, wire_vector_potential
from tmstarget.coil.models import PRESETS, Dipoles, coil_dipoles, coil_wire_segments, spiral_dipoles
from tmstarget.exceptions import InputError

R_HEAD = 85.0  # sphere radius (mm)
DIDT = 1e6  # 1 A/µs


def _north_pole_pose(gap_mm: float = 2.0) -> np.ndarray:
    """Coil frame at the north pole of a sphere centred at the origin.

    The z axis points into the head and the handle along +y.
    """
    m = np.eye(4)
    m[:3, :3] = np.column_stack([[-1.0, 0, 0], [0, 1.0, 0], [0, 0, -1.0]])
    m[:3, 3] = [0, 0, R_HEAD + gap_mm]
    return m


def _cortex_points(depths=(12.0, 20.0, 28.0), offsets=(-20.0, 0.0, 20.0)) -> np.ndarray:
    pts = []
    for depth in depths:
        for x in offsets:
            for y in offsets:
                v = np.array([x, y, R_HEAD])
                pts.append(v / np.linalg.norm(v) * (R_HEAD - depth))
    return np.array(pts)


def _spectral_secondary(
    points: np.ndarray, primary, radius: float, n_theta: int = 120, l_max: int = 100
) -> np.ndarray:
    """Surface-charge field ``-∇φ`` inside a homogeneous sphere, by a Neumann solve.

    The Neumann problem is solved in spherical harmonics, independently of the closed form: the
    normal primary field ``g = E_p·n`` is sampled on the surface (Gauss-Legendre × uniform
    quadrature, from any primary field), and the interior potential with ``∂φ/∂n = g`` is summed as
    ``φ(r) = Σ_l (R/l) (r/R)^l g_l(r̂)`` with ``g_l`` from the Legendre addition theorem; its
    gradient is summed term by term.
    """
    x, w = np.polynomial.legendre.leggauss(n_theta)
    n_phi = 2 * n_theta
    phi = np.arange(n_phi) * 2 * np.pi / n_phi
    st = np.sqrt(1 - x**2)
    s = np.stack(
        [np.outer(st, np.cos(phi)), np.outer(st, np.sin(phi)), np.outer(x, np.ones(n_phi))], -1
    ).reshape(-1, 3)
    weights = np.outer(w, np.full(n_phi, 2 * np.pi / n_phi)).ravel()
    wg = weights * (primary(radius * s) * s).sum(axis=1)
    out = np.zeros((len(points), 3))
    for i, p in enumerate(points):
        r = np.linalg.norm(p)
        rhat, rho = p / r, r / radius
        mu = s @ rhat
        p0, p1, d0, d1 = np.ones_like(mu), mu.copy(), np.zeros_like(mu), np.ones_like(mu)
        radial, tangential = np.zeros_like(mu), np.zeros_like(mu)
        for ell in range(1, l_max + 1):
            coef = (2 * ell + 1) / (4 * np.pi * ell) * rho ** (ell - 1)
            radial += coef * ell * p1
            tangential += coef * d1
            p0, p1, d0, d1 = (
                p1,
                ((2 * ell + 1) * mu * p1 - ell * p0) / (ell + 1),
                d1,
                d0 + (2 * ell + 1) * p1,
            )
        grad = (wg * radial).sum() * rhat + (
            (wg * tangential)[:, None] * (s - mu[:, None] * rhat)
        ).sum(axis=0)
        out[i] = -grad
    return out


def _loop_efield(points: np.ndarray, radius_mm: float, height_mm: float, didt: float) -> np.ndarray:
    """Exact induced field of a circular loop (axis z, centre at height) from its vector potential.

    ``A_φ = (μ0 I / π k) sqrt(a/ρ) [(1 - k²/2) K(k) - E(k)]``, ``k² = 4aρ / ((a+ρ)² + z²)``
    (Jackson, Classical Electrodynamics, 3rd ed., eq. 5.37); ``E = -dA/dt``.
    """
    a = radius_mm * 1e-3
    x, y, z = (points * 1e-3).T
    z = z - height_mm * 1e-3
    rho = np.hypot(x, y)
    m = 4 * a * rho / ((a + rho) ** 2 + z**2)
    k = np.sqrt(m)
    a_phi = 4e-7 / k * np.sqrt(a / rho) * ((1 - m / 2) * ellipk(m) - ellipe(m))
    e_phi = -didt * a_phi
    return np.column_stack([-e_phi * y / rho, e_phi * x / rho, np.zeros_like(x)])


def test_sphere_solution_equals_spectral_neumann_solve_for_same_dipoles():
    """The closed form and a numerical Neumann solve of the surface-charge term agree to ~1e-10."""
    dip = coil_dipoles(PRESETS["magventure-cool-b65"], 1, 12).transformed(_north_pole_pose())
    pts = _cortex_points(depths=(12.0, 25.0), offsets=(-20.0, 0.0, 20.0))
    analytic = sphere_efield(pts, dip, np.zeros(3), DIDT)
    numeric = primary_efield(pts, dip, DIDT) + _spectral_secondary(
        pts, lambda q: primary_efield(q, dip, DIDT), R_HEAD
    )
    assert_allclose(analytic, numeric, atol=1e-8 * np.abs(numeric).max())


@pytest.mark.parametrize("key", sorted(PRESETS))
def test_dipole_sphere_model_matches_wire_winding_with_numerical_charges(key):
    """Wire windings with numerical surface charges match dipoles with the closed form.

    This is a full independent pipeline: line integrals along the wire windings plus numerically
    computed surface charges, against dipoles plus the closed-form solution.
    """
    geometry = PRESETS[key]
    pose = _north_pole_pose()
    dip = coil_dipoles(geometry).transformed(pose)
    starts, ends = coil_wire_segments(geometry, 128)
    starts, ends = starts @ pose[:3, :3].T + pose[:3, 3], ends @ pose[:3, :3].T + pose[:3, 3]
    wire_primary = lambda q: -DIDT * wire_vector_potential(q, starts, ends)  # noqa: E731
    pts = _cortex_points(depths=(15.0, 25.0))
    reference = wire_primary(pts) + _spectral_secondary(
        pts, wire_primary, R_HEAD, n_theta=80, l_max=70
    )
    model = sphere_efield(pts, dip, np.zeros(3), DIDT)
    rel = np.linalg.norm(model - reference, axis=1) / np.linalg.norm(reference, axis=1).max()
    assert rel.max() < 0.02  # "within a few percent"; measured ~1e-4
    # the maximum lies under the coil centre, as for any figure-8 coil
    assert np.argmax(np.linalg.norm(reference[:9], axis=1)) == 4


def test_coaxial_loop_over_sphere_matches_elliptic_integrals():
    """Analytic case: a loop coaxial with the sphere induces a purely azimuthal field.

    Such a loop induces no surface charge.
    """
    radius, height = 40.0, R_HEAD + 10.0
    dip = spiral_dipoles(np.array([radius]), radial_nodes=4, angular_nodes=48, max_width_mm=4.0)
    dip = Dipoles(dip.positions_mm + [0, 0, height], dip.moments)
    pts = _cortex_points(offsets=(-30.0, -10.0, 15.0, 35.0))
    exact = _loop_efield(pts, radius, height, DIDT)
    model = sphere_efield(pts, dip, np.zeros(3), DIDT)
    rel = np.linalg.norm(model - exact, axis=1) / np.linalg.norm(exact, axis=1).max()
    assert rel.max() < 0.01
    # the analytic sphere solution reduces to the primary field in this configuration
    assert_allclose(model, primary_efield(pts, dip, DIDT), atol=1e-9)


def test_field_is_tangential_zero_at_centre_and_rotation_equivariant(rng):
    dip = coil_dipoles(PRESETS["magstim-d70"], 1, 12).transformed(_north_pole_pose())
    pts = _cortex_points()
    e = sphere_efield(np.vstack([pts, np.zeros(3)]), dip, np.zeros(3), DIDT)
    radial = np.einsum("ij,ij->i", e[:-1], pts / np.linalg.norm(pts, axis=1, keepdims=True))
    assert np.abs(radial).max() < 1e-10 * np.abs(e).max()
    assert np.all(e[-1] == 0)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    q *= np.sign(np.linalg.det(q))
    centre = np.array([3.0, -7.0, 11.0])
    moved = Dipoles(dip.positions_mm @ q.T + centre, dip.moments @ q.T)
    assert_allclose(
        sphere_efield(pts @ q.T + centre, moved, centre, DIDT), e[:-1] @ q.T, atol=1e-10
    )


def test_field_scales_with_didt_and_points_outside_are_refused():
    dip = coil_dipoles(PRESETS["magventure-mc-b70"], 1, 12).transformed(_north_pole_pose())
    pts = _cortex_points()
    e = sphere_efield(pts, dip, np.zeros(3), DIDT)
    assert_allclose(
        sphere_efield(pts, dip, np.zeros(3), 100 * DIDT), 100 * e, atol=1e-9 * np.abs(e).max()
    )
    with pytest.raises(InputError, match="outside the sphere"):
        sphere_efield([[0, 0, R_HEAD + 30.0]], dip, np.zeros(3))
    with pytest.raises(InputError, match=r"\(N, 3\)"):
        sphere_efield(np.zeros((4, 2)), dip, np.zeros(3))
