"""Coil position and orientation that maximise the E-field-weighted circuit score.

What the coil stimulates is not one voxel but the region where the field is strong. For a placement
the **E-field-weighted circuit score** is the mean circuit value over the stimulated brain voxels,
weighted by field strength:

``score = Σ |E_v| c_v / Σ |E_v|`` over brain voxels ``v`` with ``|E_v| >= ½ max_v |E_v|``

(``c`` = circuit map or the target command's score map; 0 outside its search region, so field spent
outside the search region lowers the score).

Speed: the head is one sphere fitted to the scalp around the default entry point. For a coil tangent
to a sphere, every position and rotation is a rigid rotation of one reference configuration about
the sphere centre, so ``|E|`` is computed once on a grid in the coil's reference pose (Heller & van
Hulsteyn solution) and each candidate placement only rotates the voxel coordinates into that pose
and interpolates, only at the voxels its field can stimulate (:mod:`tmstarget.coil.sampling`) —
under a millisecond per placement. Candidates: positions on a grid within
``search_radius_mm`` of the default entry (arc length on the scalp sphere) × handle rotations in
[0°, 180°) (a figure-8 coil rotated by 180° induces the same ``|E|`` with reversed current), then
Nelder–Mead refinement (``scipy.optimize.minimize``) from the best few. The default
placement is one of the candidates, so the optimised score is never below it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np

from ..exceptions import InputError
from .efield import DIDT_1_A_PER_US, sphere_efield
from .geometry import Placement, Sphere, handle_angle_deg, rounded, unit
from .models import Dipoles
from .sampling import PlacementScorer
from .summary import check_head_sphere, sphere_pose

logger = logging.getLogger(__name__)

#: Fraction of the maximum above which voxels count as stimulated.
HALF_MAX = 0.5


def weighted_circuit_score(
    e_mag: np.ndarray, values: np.ndarray, threshold: float = HALF_MAX
) -> np.ndarray:
    """E-field-weighted circuit score of one or many placements.

    Parameters
    ----------
    e_mag : ndarray, shape (V,) or (K, V)
        ``|E|`` at the brain voxels for K placements.
    values : ndarray, shape (V,)
        Circuit values at the same voxels.
    threshold : float
        Voxels with ``|E| >= threshold × max |E|`` are stimulated.

    Returns
    -------
    float or ndarray, shape (K,)
    """
    e = np.atleast_2d(np.asarray(e_mag, dtype=float))
    w = np.where(e >= threshold * e.max(axis=1, keepdims=True), e, 0.0)
    total = w.sum(axis=1)
    score = np.divide(
        w @ np.asarray(values, dtype=float), total, out=np.zeros(len(e)), where=total > 0
    )
    return score if np.ndim(e_mag) == 2 else float(score[0])


@dataclass(frozen=True)
class ReferenceField:
    """``|E|`` (V/m) on a grid in the reference pose.

    In that pose the sphere centre is at the origin and the coil centre is at
    ``(0, 0, coil_distance_mm)``, with the coil normal along ``-z`` and the handle along ``+y``.
    """

    magnitude: np.ndarray
    origin_mm: np.ndarray
    step_mm: float
    coil_distance_mm: float

    def sample(self, q_mm: np.ndarray) -> np.ndarray:
        """Trilinear interpolation at reference-frame points (..., 3); 0 outside the grid."""
        from scipy.ndimage import map_coordinates

        idx = (q_mm.reshape(-1, 3) - self.origin_mm) / self.step_mm
        out = map_coordinates(self.magnitude, idx.T, order=1, mode="constant", cval=0.0)
        return out.reshape(q_mm.shape[:-1])


def reference_field(
    dipoles: Dipoles,
    coil_distance_mm: float,
    head_radius_mm: float,
    extent_mm: float = 60.0,
    depth_mm: float = 50.0,
    step_mm: float = 2.5,
    didt: float = DIDT_1_A_PER_US,
) -> ReferenceField:
    """Tabulate ``|E|`` of a coil tangent to a sphere (see :class:`ReferenceField`).

    ``|E|`` is 0 outside the head sphere.

    The figure-8 coil is mirror-symmetric about both coil axes, so ``|E|`` is computed on one
    quadrant (``x, y >= 0``) and mirrored.
    """
    top = coil_distance_mm
    half = np.arange(0.0, extent_mm + step_mm / 2, step_mm)
    az = np.arange(top - depth_mm, top + step_mm / 2, step_mm)
    grid = np.stack(np.meshgrid(half, half, az, indexing="ij"), axis=-1)
    pts = grid.reshape(-1, 3)
    inside = np.linalg.norm(pts, axis=1) < head_radius_mm
    pose = np.eye(4)
    pose[:3, :3] = np.column_stack([[-1.0, 0, 0], [0, 1.0, 0], [0, 0, -1.0]])
    pose[:3, 3] = [0, 0, top]
    mag = np.zeros(len(pts))
    mag[inside] = np.linalg.norm(
        sphere_efield(pts[inside], dipoles.transformed(pose), np.zeros(3), didt), axis=1
    )
    quad = mag.reshape(grid.shape[:3])
    full = np.concatenate([quad[:0:-1], quad], axis=0)
    full = np.concatenate([full[:, :0:-1], full], axis=1)
    return ReferenceField(full, np.array([-half[-1], -half[-1], az[0]]), step_mm, top)


@dataclass(frozen=True)
class OptimizationResult:
    """Outcome of :func:`optimize_placement`.

    Attributes
    ----------
    placement, default : Placement
        Optimised and default placements (on the head).
    score, default_score : float
        E-field-weighted circuit scores (same model for both).
    shift_mm : float
        Distance between the default and optimised scalp entry points.
    rotation_deg : float
        Handle rotation from the default (0–180°).
    stimulated_centroid_mm : ndarray, shape (3,)
        ``|E|``-weighted centroid of the stimulated voxels of the optimised placement.
    n_evaluations : int
        Placements scored.
    time_s : float
        Wall time of the optimisation.
    """

    placement: Placement
    default: Placement
    score: float
    default_score: float
    shift_mm: float
    rotation_deg: float
    stimulated_centroid_mm: np.ndarray
    n_evaluations: int
    time_s: float

    def to_json(self) -> dict:
        """JSON-ready summary."""
        return {
            "score": round(self.score, 4),
            "default_score": round(self.default_score, 4),
            "improvement": round(self.score - self.default_score, 4),
            "shift_mm": round(self.shift_mm, 1),
            "rotation_deg": round(self.rotation_deg, 1),
            "stimulated_centroid_mm": rounded(self.stimulated_centroid_mm, 1),
            "n_evaluations": self.n_evaluations,
            "time_s": round(self.time_s, 2),
        }


def _grid(search_radius_mm: float, step_mm: float, n_angles: int) -> np.ndarray:
    g = np.arange(-search_radius_mm, search_radius_mm + step_mm / 2, step_mm)
    a, b = (x.ravel() for x in np.meshgrid(g, g, indexing="ij"))
    keep = np.hypot(a, b) <= search_radius_mm + 1e-9
    psi = np.arange(n_angles) * (180.0 / n_angles)
    pos = np.column_stack([a[keep], b[keep]])
    return np.column_stack([np.repeat(pos, n_angles, axis=0), np.tile(psi, len(pos))])


def optimize_placement(
    head,
    default: Placement,
    dipoles: Dipoles,
    sphere: Sphere,
    points_mm,
    values,
    search_radius_mm: float = 25.0,
    grid_step_mm: float = 4.0,
    n_angles: int = 8,
    refine: int = 3,
) -> OptimizationResult:
    """Search coil positions and handle rotations for the highest E-field-weighted circuit score.

    Parameters
    ----------
    head : HeadModel
        Scalp surface; the optimised position is mapped back onto it.
    default : Placement
        The default placement (search centre; its score is reported too).
    dipoles : Dipoles
        Coil model (coil frame); a coarse one (e.g. ``coil_dipoles(g, 1, 12)``) is accurate to < 1
        %.
    sphere : Sphere
        Head sphere fitted around the default entry point.
    points_mm : array_like, shape (V, 3)
        Brain (grey-matter) voxel centres, same space as the head (mm).
    values : array_like, shape (V,)
        Circuit value at each voxel (positive = stimulate); finite.
    search_radius_mm : float
        Largest shift of the entry point (arc length on the scalp sphere).
    grid_step_mm, n_angles : float, int
        Coarse search: position spacing and handle rotations in [0°, 180°).
    refine : int
        Number of best coarse candidates refined by Nelder–Mead.
    """
    from ..headmodel import nearest_scalp_point

    t0 = time.perf_counter()
    pts = np.asarray(points_mm, dtype=float)
    vals = np.asarray(values, dtype=float)
    if pts.ndim != 2 or pts.shape[1] != 3 or len(pts) != len(vals) or len(pts) == 0:
        raise InputError(
            "need (V, 3) voxel coordinates and V circuit "
            f"values, got {pts.shape} and {vals.shape} — pass "
            "matching arrays"
        )
    if not np.isfinite(vals).all():
        raise InputError(
            "circuit values contain NaN or infinity — restrict "
            "the voxels to where the map is defined"
        )
    if search_radius_mm < 0:
        raise InputError(f"search radius must be >= 0 mm, got {search_radius_mm} — pass a distance")
    check_head_sphere(default, sphere)
    c = sphere.centre_mm
    scalp_radius = float(np.linalg.norm(default.scalp_mm - c))
    pose = sphere_pose(default, sphere)
    u0, h0 = -pose[:3, 2], pose[:3, 1]
    # voxels the field can reach: within the lateral reach of any candidate and < 40 mm below the
    # scalp (the half-maximum region of a figure-8 coil spans ~25 mm sideways and ~15 mm below the
    # shallowest cortex)
    rel = pts - c
    dist = np.linalg.norm(rel, axis=1)
    arc = scalp_radius * np.arccos(np.clip(rel @ u0 / np.maximum(dist, 1e-9), -1.0, 1.0))
    keep = (
        (arc <= search_radius_mm + 35.0)
        & (dist < scalp_radius - 2.0)
        & (dist > scalp_radius - 40.0)
    )
    if keep.sum() < 10:
        raise InputError(
            f"only {int(keep.sum())} brain voxels lie under "
            "the coil's search area — check that the circuit "
            "map and the target are in the same space"
        )
    ref = reference_field(dipoles, scalp_radius + default.scalp_offset_mm, scalp_radius)
    scorer = PlacementScorer(ref, sphere, u0, h0, pts[keep], vals[keep], scalp_radius, HALF_MAX)

    cand = (
        _grid(search_radius_mm, grid_step_mm, n_angles)
        if search_radius_mm > 0
        else np.zeros((n_angles, 3))
    )
    if search_radius_mm == 0:
        cand[:, 2] = np.arange(n_angles) * (180.0 / n_angles)
    scores = np.concatenate([scorer.scores(cand[i : i + 256]) for i in range(0, len(cand), 256)])
    default_score = float(scorer.scores(np.zeros(3))[0])
    best_x, best = np.zeros(3), default_score
    order = np.argsort(-scores, kind="stable")[:refine]

    def objective(x: np.ndarray) -> float:
        a, b = x[:2]
        s = np.hypot(a, b)
        if s > search_radius_mm:
            a, b = (a, b) if s == 0 else (a * search_radius_mm / s, b * search_radius_mm / s)
        return -float(scorer.scores(np.array([a, b, x[2]]))[0])

    from scipy.optimize import minimize  # lazy: only an optimised plan refines

    for i in order:
        x0 = cand[i]
        if scores[i] > best:
            best_x, best = x0.copy(), float(scores[i])
        res = minimize(
            objective,
            x0,
            method="Nelder-Mead",
            options={
                "xatol": 0.2,
                "fatol": 1e-5,
                "maxfev": 150,
                "initial_simplex": x0
                + np.array(
                    [
                        [0, 0, 0],
                        [grid_step_mm / 2, 0, 0],
                        [0, grid_step_mm / 2, 0],
                        [0, 0, 90.0 / n_angles],
                    ]
                ),
            },
        )
        if -res.fun > best:
            best_x, best = res.x.copy(), -float(res.fun)
    a, b = best_x[:2]
    s = np.hypot(a, b)
    if s > search_radius_mm:
        a, b = a * search_radius_mm / s, b * search_radius_mm / s
    u, h = scorer.pose(a, b, best_x[2])
    mags = scorer.magnitudes(np.array([[a, b, best_x[2]]]))[0]
    stim = mags >= HALF_MAX * mags.max()
    centroid = (mags[stim, None] * pts[keep][stim]).sum(0) / mags[stim].sum()

    scalp, normal = nearest_scalp_point(head, c + scalp_radius * u)
    handle = unit(h - (h @ normal) * normal)
    if handle[1] > 0:  # same |E| with the handle turned by 180°; keep it pointing backwards
        handle = -handle
    sign = -1.0 if default.target_mm[0] < 1.0 else 1.0
    placement = Placement(
        default.target_mm,
        scalp,
        normal,
        handle,
        default.scalp_offset_mm,
        handle_angle_deg(normal, handle, sign),
        default.space,
    )
    rot = float(np.degrees(np.arccos(np.clip(abs(placement.handle @ default.handle), 0.0, 1.0))))
    elapsed = time.perf_counter() - t0
    logger.info(
        "coil optimisation: %d placements in %.2f s, score %.4f (default %.4f)",
        scorer.n,
        elapsed,
        best,
        default_score,
    )
    return OptimizationResult(
        placement,
        default,
        float(best),
        default_score,
        float(np.linalg.norm(scalp - default.scalp_mm)),
        rot,
        centroid,
        scorer.n,
        elapsed,
    )


def grey_matter_voxels(
    values: np.ndarray, affine: np.ndarray, nan_as_zero: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Grey-matter voxel centres (mm) and their map values, the input of :func:`optimize_placement`.

    Grey matter = nilearn's MNI152 grey-matter mask resampled (nearest) to the map's grid.

    Parameters
    ----------
    values : ndarray, shape (X, Y, Z)
        Circuit or score map.
    affine : ndarray, shape (4, 4)
        Its voxel-to-MNI affine.
    nan_as_zero : bool
        A target's score map is undefined (NaN) outside its search region: those voxels count as 0,
        so field spent outside the search region lowers the score. In a group map NaN means no data
        and those voxels are left out (``False``).
    """
    from .._utils.templates import mni_mask_on_grid

    brain = mni_mask_on_grid("gm", affine, values.shape)
    if nan_as_zero:
        values = np.nan_to_num(values, nan=0.0)
    keep = brain & np.isfinite(values)
    return np.argwhere(keep) @ affine[:3, :3].T + affine[:3, 3], values[keep]
