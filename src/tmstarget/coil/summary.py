"""What a placed coil induces in the head sphere: strength at the target, maximum, focality, depth.

The head is the sphere fitted to the scalp around the entry point
(:func:`tmstarget.coil.geometry.local_sphere`); the coil is modelled tangent to it above the entry
point, at the entry point's distance from the sphere centre plus the scalp offset. "Cortex" is the
spherical shell through the target. Focality follows Deng et al. (2013): the half-maximum area on
that shell (``S½``, cm²), the volume inside the shell where the field is at least half the shell
maximum (``V½``, cm³), and the half-value depth below the shell (``d½``, mm).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from ..exceptions import InputError
from .efield import DIDT_1_A_PER_US, _sphere_kernel, sphere_efield
from .geometry import Placement, Sphere, coil_matrix, rounded, unit
from .models import Dipoles

logger = logging.getLogger(__name__)

#: Lateral extent (arc length, mm) and spacing of the cortical-shell grid.
SHELL_RADIUS_MM, SHELL_STEP_MM = 50.0, 1.0
#: Depth extent, depth step, lateral extent and lateral step (mm) of the half-maximum volume grid.
VOLUME_DEPTH_MM, VOLUME_STEP_MM, VOLUME_EXTENT_MM, VOLUME_LATERAL_STEP_MM = 30.0, 1.5, 40.0, 2.5
#: Single-precision screening (:func:`_magnitudes`): closest approach of a field point to a dipole
#: (mm) below which everything is computed in double precision, and the margin, as a fraction of the
#: largest field, within which a screened value is recomputed in double precision. Single precision
#: is within 3e-5 of the largest field 2 mm from the dipoles and within 2e-6 from 8 mm on.
SCREEN_MIN_GAP_MM, SCREEN_MARGIN = 5.0, 2e-4


def sphere_pose(placement: Placement, sphere: Sphere) -> np.ndarray:
    """Coil-to-world matrix of the coil laid tangent to the head sphere above the entry point."""
    c = sphere.centre_mm
    u = unit(placement.scalp_mm - c)
    origin = c + (np.linalg.norm(placement.scalp_mm - c) + placement.scalp_offset_mm) * u
    return coil_matrix(origin, u, placement.handle)


def check_head_sphere(placement: Placement, sphere: Sphere) -> None:
    """Refuse a sphere that does not hold the target below the entry point.

    Warn about deep targets.
    """
    c = sphere.centre_mm
    r_t = float(np.linalg.norm(placement.target_mm - c))
    r_s = float(np.linalg.norm(placement.scalp_mm - c))
    if (placement.scalp_mm - c) @ placement.normal <= 0 or r_t >= r_s - 1.0:
        raise InputError(
            "the head sphere fitted at the scalp entry (radius "
            f"{sphere.radius_mm:.0f} mm, fit RMS {sphere.rms_mm:.1f} "
            "mm) "
            f"does not contain the target {np.round(placement.target_mm, 1).tolist()} "
            "— the spherical model needs a "
            "cortical target under a convex part of the scalp"
        )
    if placement.scalp_cortex_distance_mm > 40.0:
        logger.warning(
            "target is %.0f mm below the scalp; figure-8 coils reach about 20-30 mm",
            placement.scalp_cortex_distance_mm,
        )


def _basis(axis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    helper = np.array([1.0, 0, 0]) if abs(axis[0]) < 0.9 else np.array([0, 1.0, 0])
    e1 = unit(np.cross(axis, helper))
    return e1, np.cross(axis, e1)


def shell_grid(
    centre, axis, radius_mm: float, extent_mm: float, step_mm: float
) -> tuple[np.ndarray, np.ndarray]:
    """Points on a sphere around ``axis`` and their surface areas (mm²).

    The points form an azimuthal-equidistant grid.

    Grid coordinates ``(a, b)`` are arc lengths along two tangent directions; a point at arc
    distance ``s`` lies at polar angle ``s / radius`` from ``axis``; its area element is ``radius
    sin(s/radius) / s × step²``.
    """
    axis = unit(axis)
    e1, e2 = _basis(axis)
    g = np.arange(-extent_mm, extent_mm + step_mm / 2, step_mm)
    a, b = (x.ravel() for x in np.meshgrid(g, g, indexing="ij"))
    s = np.hypot(a, b)
    keep = s <= extent_mm
    a, b, s = a[keep], b[keep], s[keep]
    theta = s / radius_mm
    with np.errstate(invalid="ignore", divide="ignore"):
        tangent = np.where(s[:, None] > 0, (a[:, None] * e1 + b[:, None] * e2) / s[:, None], 0.0)
        area = np.where(s > 0, radius_mm * np.sin(theta) / s, 1.0) * step_mm**2
    dirs = np.cos(theta)[:, None] * axis + np.sin(theta)[:, None] * tangent
    return np.asarray(centre) + radius_mm * dirs, area


def _magnitudes(
    points_mm: np.ndarray, world: Dipoles, centre_mm: np.ndarray, didt: float, groups: list[int]
) -> np.ndarray:
    """``|E|`` at consecutive groups of points, exact (double precision) wherever it decides.

    The summary compares ``|E|`` only with each group's maximum and with half the first group's
    maximum. All points are screened in single precision (about twice as fast); points within
    :data:`SCREEN_MARGIN` of a group's maximum, then of that half, are recomputed in double
    precision. Every maximum, every value at the maximum and every comparison with the half is then
    what double precision everywhere gives; the other values are single-precision accurate.
    """
    c = np.asarray(centre_mm, dtype=float)
    r = (points_mm - c) * 1e-3
    src = (world.positions_mm - c) * 1e-3
    gap_mm = 1e3 * (np.linalg.norm(src, axis=1).min() - np.linalg.norm(r, axis=1).max())
    if gap_mm < SCREEN_MIN_GAP_MM:  # close to the coil (or outside the sphere: refused there)
        return np.linalg.norm(sphere_efield(points_mm, world, c, didt), axis=1)
    f32 = np.float32
    mag = np.linalg.norm(
        _sphere_kernel(r.astype(f32), src.astype(f32), (world.moments * didt).astype(f32)), axis=1
    ).astype(float)
    tol = SCREEN_MARGIN * mag.max()

    def exact(where: np.ndarray) -> None:
        mag[where] = np.linalg.norm(sphere_efield(points_mm[where], world, c, didt), axis=1)

    redo = np.zeros(len(mag), dtype=bool)
    bounds = np.cumsum([0, *groups])
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        if hi > lo:
            redo[lo:hi] = mag[lo:hi] >= mag[lo:hi].max() - 2 * tol
    exact(redo)
    half = 0.5 * mag[: groups[0]].max()
    exact(~redo & (np.abs(mag - half) <= tol))
    return mag


@dataclass(frozen=True)
class FieldSummary:
    """Induced field of one placement (V/m at ``didt``; 1 A/µs unless stated).

    Attributes
    ----------
    didt_a_per_us : float
        Rate of change of the coil current the fields are given for.
    e_target : float
        ``|E|`` at the target.
    e_target_direction : ndarray, shape (3,)
        Unit direction of ``E`` at the target (for positive ``dI/dt`` in the model's current
        convention).
    e_max_cortex : float
        Maximum ``|E|`` on the cortical shell through the target.
    max_location_mm : ndarray, shape (3,)
        Where that maximum lies.
    max_to_target_mm : float
        Distance from the maximum to the target.
    target_pct_of_max : float
        ``100 × e_target / e_max_cortex``.
    half_max_area_cm2, half_max_volume_cm3, half_value_depth_mm : float
        ``S½``, ``V½`` and ``d½`` (see the module docstring).
    sphere : Sphere
        The head sphere used.
    """

    didt_a_per_us: float
    e_target: float
    e_target_direction: np.ndarray
    e_max_cortex: float
    max_location_mm: np.ndarray
    max_to_target_mm: float
    target_pct_of_max: float
    half_max_area_cm2: float
    half_max_volume_cm3: float
    half_value_depth_mm: float
    sphere: Sphere

    def to_json(self) -> dict:
        """JSON-ready dict (fields in V/m, lengths mm, areas cm², volumes cm³)."""
        return {
            "didt_a_per_us": self.didt_a_per_us,
            "e_target_v_per_m": round(self.e_target, 3),
            "e_target_direction": rounded(self.e_target_direction, 4),
            "e_max_cortex_v_per_m": round(self.e_max_cortex, 3),
            "max_location_mm": rounded(self.max_location_mm, 1),
            "max_to_target_mm": round(self.max_to_target_mm, 1),
            "target_pct_of_max": round(self.target_pct_of_max, 1),
            "half_max_area_cm2": round(self.half_max_area_cm2, 2),
            "half_max_volume_cm3": round(self.half_max_volume_cm3, 2),
            "half_value_depth_mm": round(self.half_value_depth_mm, 1),
            "head_sphere": {
                "centre_mm": rounded(self.sphere.centre_mm, 1),
                "radius_mm": round(self.sphere.radius_mm, 1),
                "fit_rms_mm": round(self.sphere.rms_mm, 2),
            },
        }


def summarize_field(
    placement: Placement, dipoles: Dipoles, sphere: Sphere, didt_a_per_us: float = 1.0
) -> FieldSummary:
    """Summarise the electric field of one placement.

    The summary gives the field strength at the target, the maximum on the cortical shell, focality
    and depth.

    Parameters
    ----------
    placement : Placement
        Coil placement (the target must lie inside the sphere, below the coil).
    dipoles : Dipoles
        Coil model in the coil frame (:func:`tmstarget.coil.models.coil_dipoles`).
    sphere : Sphere
        Head sphere (:func:`tmstarget.coil.geometry.local_sphere`).
    didt_a_per_us : float
        Rate of change of the coil current (A/µs).
    """
    didt = didt_a_per_us * DIDT_1_A_PER_US
    c = sphere.centre_mm
    check_head_sphere(placement, sphere)
    r_t = float(np.linalg.norm(placement.target_mm - c))
    world = dipoles.transformed(sphere_pose(placement, sphere))
    axis = unit(placement.scalp_mm - c)
    e_t = sphere_efield(placement.target_mm, world, c, didt)[0]
    pts, area = shell_grid(c, axis, r_t, SHELL_RADIUS_MM, SHELL_STEP_MM)
    # half-maximum volume and half-value depth: shells below the cortical shell, all in one
    # evaluation with the cortical shell
    depths = np.arange(0.0, min(VOLUME_DEPTH_MM, r_t - 1.0) + 1e-9, VOLUME_STEP_MM)
    layers = [
        shell_grid(c, axis, r_t - d, VOLUME_EXTENT_MM, VOLUME_LATERAL_STEP_MM) for d in depths
    ]
    sizes = [len(pts)] + [len(p) for p, _ in layers]
    every = _magnitudes(np.concatenate([pts] + [p for p, _ in layers]), world, c, didt, sizes)
    mag, m = every[: len(pts)], every[len(pts) :]
    i = int(np.argmax(mag))
    e_max = float(mag[i])
    half = 0.5 * e_max
    area_cm2 = float(area[mag >= half].sum()) / 100.0
    m_layers = np.split(m, np.cumsum([len(p) for p, _ in layers])[:-1])
    volume = (
        sum(float(a[ml >= half].sum()) for (_, a), ml in zip(layers, m_layers)) * VOLUME_STEP_MM
    )
    layer_max = np.array([ml.max() for ml in m_layers])
    below = np.flatnonzero(layer_max < half)
    if below.size == 0:
        d_half = float(depths[-1])
    elif below[0] == 0:
        d_half = 0.0
    else:
        k = int(below[0])
        d_half = float(
            np.interp(half, [layer_max[k], layer_max[k - 1]], [depths[k], depths[k - 1]])
        )
    e_abs = float(np.linalg.norm(e_t))
    return FieldSummary(
        didt_a_per_us=float(didt_a_per_us),
        e_target=e_abs,
        e_target_direction=e_t / e_abs if e_abs > 0 else np.zeros(3),
        e_max_cortex=e_max,
        max_location_mm=pts[i],
        max_to_target_mm=float(np.linalg.norm(pts[i] - placement.target_mm)),
        target_pct_of_max=100.0 * e_abs / e_max if e_max > 0 else 0.0,
        half_max_area_cm2=area_cm2,
        half_max_volume_cm3=volume / 1000.0,
        half_value_depth_mm=d_half,
        sphere=sphere,
    )
