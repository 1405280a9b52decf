"""The placement landscape: the expected circuit score of every coil placement over a search area.

The circuit score is weighted by the E-field.

A coil stimulates centimetres of cortex, and it is never put back exactly where it was planned. The
landscape answers, for every candidate placement ``P`` (scalp position and handle rotation) above a
search region, the **E-field-weighted circuit score** (as
:func:`tmstarget.coil.optimize.weighted_circuit_score`: the mean circuit value over the grey matter
where ``|E| ≥ ½ max |E|``, weighted by ``|E|``), **averaged over placement error**: the placements
within ``error_mm`` of ``P`` on the scalp and ``error_deg`` of its handle rotation, equally likely.
This is the quantity TANS (Lynch et al.) maximises; here the head is the template scalp with a local
sphere, so the field is the closed-form spherical-conductor solution and every placement is a
rotation of one tabulated field (:func:`tmstarget.coil.optimize.reference_field`).

The score is linear in the circuit values, so the landscape is a matrix: ``expected = K (W c)`` for
column values ``c``, with ``W`` (placements × columns) the normalised field weights and ``K`` the
placement-error average over neighbouring grid placements. It depends on the search region and the
head only, never on the data, so it is built once per region (and cached) and a bootstrap resample
costs two sparse products.

Grey matter: the columns of the search region (voxels or vertices) carry the values; the template's
grey matter (nilearn's MNI152 grey-matter mask on a 4 mm lattice) outside the region carries 0, so a
placement that spends its field outside the region scores lower. Each 4 mm lattice cell weighs its
volume (64 mm³); the columns nearest a cell share its volume by their areas (1 per voxel, the vertex
area on a mesh), so voxels and vertices weigh alike.

Grid: positions on the scalp sphere every ``step_mm`` (azimuthal-equidistant offsets ``(a, b)`` from
the scalp point above the region's centre, up to the farthest column's scalp projection plus the
error radius) × handle rotations every ``angle_step_deg`` in [0°, 180°) (a figure-8 coil turned by
180° induces the same ``|E|``).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse
from scipy.spatial import cKDTree

from ..exceptions import InputError
from .geometry import (
    PLACEMENT_ERROR_DEG,
    PLACEMENT_ERROR_MM,
    Placement,
    Sphere,
    handle_angle_deg,
    hemisphere_sign,
    local_sphere,
    place_on_head,
    rotation_between,
    unit,
)
from .models import DEFAULT_COIL, coil_dipoles, get_coil
from .optimize import HALF_MAX, reference_field
from .summary import sphere_pose

logger = logging.getLogger(__name__)

#: Default placement error (:data:`tmstarget.coil.geometry.PLACEMENT_ERROR_MM`,
#: ``PLACEMENT_ERROR_DEG``).
ERROR_MM, ERROR_DEG = PLACEMENT_ERROR_MM, PLACEMENT_ERROR_DEG
#: Grid of candidate placements: position step on the scalp (mm) and handle rotation step (degrees).
STEP_MM = 2.5
ANGLE_STEP_DEG = 10.0
#: Grey-matter lattice spacing (mm) and the volume each lattice point stands for (mm³).
LATTICE_MM = 4.0
#: Largest search radius on the scalp (mm): the local sphere fits the scalp within ~40 mm.
MAX_RADIUS_MM = 35.0
#: The score counts the grey matter within this arc (on the scalp sphere, mm) of the coil's axis:
#: the local sphere models the head near the coil only. Half-maximum voxels reach ~35° off axis (~50
#: mm) along the coil's long axis, where the cortex comes close to the sphere's surface.
REACH_MM = 55.0


@dataclass(frozen=True)
class Landscape:
    """Candidate placements over one search region and the maps from column values to their scores.

    The maps are linear.

    Attributes
    ----------
    params : ndarray, shape (N, 3)
        ``(a, b, ψ)``: scalp offsets (mm) from the search centre and handle rotation (degrees) of
        every grid placement.
    inner : ndarray of bool, shape (N,)
        Placements within the search radius (the candidates; the others only enter the error
        average).
    scalp_mm, handles : ndarray, shape (N, 3)
        Scalp point (on the sphere) and handle direction of every placement.
    hotspots_mm : ndarray, shape (N, 3)
        ``|E|``-weighted centroid of the grey matter each placement stimulates (half maximum).
    weights : scipy.sparse.csr_matrix, shape (N, C)
        Score of each placement for values ``x`` on the grey-matter cells holding search columns:
        ``weights @ x``.
    projection : scipy.sparse.csr_matrix, shape (C, S)
        Column values to cell values (each cell: the area-weighted mean of its columns).
    average : scipy.sparse.csr_matrix, shape (N, N)
        Placement-error average (rows of the inner placements; identity for no error).
    sphere : Sphere
        The head sphere the placements lie on.
    head_radius_mm : float
        Scalp radius of the sphere at the search centre.
    error_mm, error_deg : float
        The placement error averaged over.
    """

    params: np.ndarray
    inner: np.ndarray
    scalp_mm: np.ndarray
    handles: np.ndarray
    hotspots_mm: np.ndarray
    weights: sparse.csr_matrix
    projection: sparse.csr_matrix
    average: sparse.csr_matrix
    sphere: Sphere
    head_radius_mm: float
    error_mm: float
    error_deg: float
    build_s: float

    def _cells(self, values: np.ndarray) -> np.ndarray:
        """Project column values ``(S,)`` or ``(S, B)`` onto the grey-matter cells.

        NaN counts as 0.
        """
        v = np.asarray(values, np.float64)
        if v.shape[0] != self.projection.shape[1]:
            raise InputError(
                f"{v.shape[0]} values for a landscape of {self.projection.shape[1]} "
                "columns — pass one value per search column"
            )
        return self.projection @ np.nan_to_num(v, nan=0.0)

    def scores(self, values: np.ndarray, averaged: bool = True) -> np.ndarray:
        """Scores of every placement for column values ``(S,)`` or ``(S, B)``.

        The scores are expected over the placement error when ``averaged``.
        """
        s = self.weights @ self._cells(values)
        return self.average @ s if averaged else s

    def score_at(self, index: int, values: np.ndarray, averaged: bool = True):
        """Return the score of one placement for column values ``(S,)`` or ``(S, B)``.

        A float for ``(S,)``, one per column of values for ``(S, B)``. This is one row of
        :meth:`scores`, computed without scoring every placement (a bootstrap asks this of every
        resample).
        """
        row = self.average[index] @ self.weights if averaged else self.weights[index]
        out = np.asarray(row @ self._cells(values)).ravel()
        return float(out[0]) if np.ndim(values) == 1 else out

    def best(self, values: np.ndarray) -> tuple[int, float]:
        """Return the candidate placement with the highest expected score, and that score."""
        expected = np.where(self.inner, self.scores(values), -np.inf)
        i = int(np.argmax(expected))
        return i, float(expected[i])

    def nearest(self, scalp_mm, handle) -> int:
        """Return the grid placement nearest a given scalp point and handle direction."""
        c = self.sphere.centre_mm
        u = unit(np.asarray(scalp_mm, float) - c)
        pos = np.linalg.norm(self.scalp_mm - (c + self.head_radius_mm * u), axis=1)
        turn = np.degrees(np.arccos(np.clip(np.abs(self.handles @ unit(handle)), 0.0, 1.0)))
        return int(np.argmin(pos + turn * (STEP_MM / ANGLE_STEP_DEG)))

    def shifted(self, index: int, delta_mm) -> int | None:
        """Return the grid placement ``index`` with its scalp point moved by ``delta_mm``.

        The moved point keeps the rotation of ``index`` and is projected onto the sphere. Return
        None when it lies off the grid (beyond the search area and its error margin).
        """
        c = self.sphere.centre_mm
        q = self.scalp_mm[index] + np.asarray(delta_mm, float)
        q = c + self.head_radius_mm * unit(q - c)
        same = np.flatnonzero(self.params[:, 2] == self.params[index, 2])
        d = np.linalg.norm(self.scalp_mm[same] - q, axis=1)
        j = int(np.argmin(d))
        return int(same[j]) if d[j] <= 1.5 * STEP_MM else None

    def placement(
        self, head, index: int, target_mm=None, scalp_offset_mm: float = 0.0
    ) -> Placement:
        """Return the grid placement ``index`` on the head.

        The scalp point is the one nearest the sphere's, and the handle points backwards.
        """
        from ..headmodel import nearest_scalp_point

        scalp, normal = nearest_scalp_point(head, self.scalp_mm[index])
        h = self.handles[index]
        handle = unit(h - (h @ normal) * normal)
        if handle[1] > 0:  # same |E| with the handle turned by 180°; keep it pointing backwards
            handle = -handle
        target = self.hotspots_mm[index] if target_mm is None else np.asarray(target_mm, float)
        sign = hemisphere_sign(target)
        return Placement(
            target,
            scalp,
            normal,
            handle,
            float(scalp_offset_mm),
            handle_angle_deg(normal, handle, sign),
            getattr(head, "space", "MNI152NLin6Asym"),
        )

    def describe(
        self,
        head,
        index: int,
        target_mm,
        expected_score: float,
        score: float,
        coil: str = DEFAULT_COIL,
    ) -> dict:
        """Return the ``coil_placement`` block of the target JSON.

        The block holds the placement on the head, its hotspot and scores.
        """
        placement = self.placement(head, index, target_mm)
        return {
            "method": "E-field-weighted seed score averaged over placement "
            "error (tmstarget.coil.landscape)",
            "head_model": "template head (MNI152), local sphere",
            "coil": coil,
            "placement": placement.to_json(),
            "cortical_hotspot_mni": [round(float(v), 1) for v in self.hotspots_mm[index]],
            "expected_score": round(float(expected_score), 4),
            "score_at_plan": round(float(score), 4),
            "placement_error_mm": self.error_mm,
            "placement_error_deg": self.error_deg,
            "n_candidates": int(self.inner.sum()),
            "grid_step_mm": STEP_MM,
            "angle_step_deg": ANGLE_STEP_DEG,
        }


@functools.lru_cache(maxsize=1)
def _grey_matter_lattice() -> np.ndarray:
    """Template grey-matter points on a 4 mm lattice (MNI mm)."""
    from nilearn.datasets import load_mni152_gm_mask

    img = load_mni152_gm_mask(resolution=2)
    mask = np.asarray(img.dataobj) > 0.5
    step = max(1, int(round(LATTICE_MM / float(np.sqrt((img.affine[:3, :3] ** 2).sum(0)).mean()))))
    sub = np.zeros_like(mask)
    sub[::step, ::step, ::step] = mask[::step, ::step, ::step]
    ijk = np.argwhere(sub)
    return ijk @ img.affine[:3, :3].T + img.affine[:3, 3]


def _projection(
    coords: np.ndarray, areas: np.ndarray, lattice: np.ndarray
) -> tuple[np.ndarray, sparse.csr_matrix]:
    """Lattice cells holding columns, and the map from column values to their area-weighted mean.

    The map is cells × columns.
    """
    _, nearest = cKDTree(lattice).query(coords)
    areas = np.where(areas > 0, areas, areas[areas > 0].min(initial=1.0))
    cells, cell_of = np.unique(nearest, return_inverse=True)
    total = np.bincount(cell_of, weights=areas)
    proj = sparse.csr_matrix(
        (areas / total[cell_of], (cell_of, np.arange(len(coords)))), shape=(len(cells), len(coords))
    )
    return cells, proj


def _kernel(error_mm: float, error_deg: float) -> list[tuple[int, int, int]]:
    """Grid offsets (i, j, k) of the placements within the error disc and rotation range.

    All the offsets have the same weight.
    """
    n = int(np.floor(error_mm / STEP_MM + 1e-9))
    m = int(np.floor(error_deg / ANGLE_STEP_DEG + 1e-9))
    return [
        (i, j, k)
        for i in range(-n, n + 1)
        for j in range(-n, n + 1)
        for k in range(-m, m + 1)
        if (i * STEP_MM) ** 2 + (j * STEP_MM) ** 2 <= error_mm**2 + 1e-9
    ]


def _pose(u0, h0, radius, a, b):
    """Position direction and the transported handle (ψ = 0) of offsets (a, b) on the sphere."""
    e2 = np.cross(u0, h0)
    s = float(np.hypot(a, b))
    t = (a * h0 + b * e2) / s if s > 0 else h0
    u = np.cos(s / radius) * u0 + np.sin(s / radius) * t
    return u, rotation_between(u0, u) @ h0


def build_landscape(
    head,
    coords_mm,
    areas=None,
    *,
    coil: str = DEFAULT_COIL,
    error_mm: float = ERROR_MM,
    error_deg: float = ERROR_DEG,
    scalp_offset_mm: float = 0.0,
    max_radius_mm: float = MAX_RADIUS_MM,
) -> Landscape:
    """Build the placement landscape of a search region (see the module docstring).

    Parameters
    ----------
    head : HeadModel
        Scalp surface in the columns' space.
    coords_mm : array_like, shape (S, 3)
        Search columns (MNI mm).
    areas : array_like, shape (S,), optional
        Column weights (1 per voxel; vertex area on a mesh). Default: all 1.
    coil : str
        Coil model key (:func:`tmstarget.coil.models.get_coil`).
    error_mm, error_deg : float
        Placement error averaged over: scalp-position disc radius and ± handle rotation (0 = no
        averaging).
    scalp_offset_mm : float
        Gap between scalp and coil.
    max_radius_mm : float
        Largest scalp distance of a candidate from the search centre.

    Returns
    -------
    Landscape
    """
    t0 = time.perf_counter()
    coords = np.asarray(coords_mm, float)
    if coords.ndim != 2 or coords.shape[1] != 3 or len(coords) < 3 or not np.isfinite(coords).all():
        raise InputError(
            "need at least 3 finite search columns (S, 3) "
            f"for the placement landscape, got {coords.shape} "
            "— check the search region"
        )
    if (
        not (np.isfinite(error_mm) and np.isfinite(error_deg))
        or error_mm < 0
        or error_deg < 0
        or error_mm > 20
        or error_deg > 45
    ):
        raise InputError(
            "placement error must be 0–20 mm and 0–45 degrees, "
            f"got {error_mm} mm and {error_deg} degrees — "
            "pass a realistic error"
        )
    areas = np.ones(len(coords)) if areas is None else np.asarray(areas, float)
    default = place_on_head(head, coords.mean(axis=0), 0.0, scalp_offset_mm)
    sphere = local_sphere(head, default.scalp_mm)
    c = sphere.centre_mm
    radius = float(np.linalg.norm(default.scalp_mm - c))
    pose = sphere_pose(default, sphere)
    u0, h0 = -pose[:3, 2], pose[:3, 1]

    rel_cols = coords - c
    arc_cols = radius * np.arccos(
        np.clip(rel_cols @ u0 / np.linalg.norm(rel_cols, axis=1), -1.0, 1.0)
    )
    reach = float(np.quantile(arc_cols, 0.95))
    search_r = min(max_radius_mm, reach)
    if reach > max_radius_mm + STEP_MM:
        logger.warning(
            "the search region reaches %.0f mm from its centre "
            "on the scalp; placements are searched within "
            "%.0f mm "
            "(the local head sphere's range) — pass a smaller "
            "--search-mask for a coil-scale target",
            reach,
            max_radius_mm,
        )
    lattice = _grey_matter_lattice()
    cells, proj = _projection(coords, areas, lattice)
    rel_all = lattice - c
    d_all = np.linalg.norm(rel_all, axis=1)
    arc_all = radius * np.arccos(np.clip(rel_all @ u0 / np.maximum(d_all, 1e-9), -1.0, 1.0))
    within = (
        (arc_all <= search_r + error_mm + REACH_MM)
        & (d_all < radius - 2.0)
        & (d_all > radius - 45.0)
    )
    within[cells] = (
        True  # every cell holding a search column, the rest of the grey matter in reach carries 0
    )
    keep = np.flatnonzero(within)
    points = lattice[keep]
    # lattice point -> row of proj (cells holding columns); -1 for grey matter outside the region
    cell_row = np.full(len(lattice), -1)
    cell_row[cells] = np.arange(len(cells))
    point_cell = cell_row[keep]
    rel = points - c
    unit_rel = rel / np.linalg.norm(rel, axis=1, keepdims=True)
    n_cols = len(coords)

    g = np.arange(-(search_r + error_mm), search_r + error_mm + STEP_MM / 2, STEP_MM)
    n_ang = int(round(180.0 / ANGLE_STEP_DEG))
    psis = np.arange(n_ang) * ANGLE_STEP_DEG
    cos_psi, sin_psi = np.cos(np.deg2rad(psis)), np.sin(np.deg2rad(psis))
    ref = reference_field(coil_dipoles(get_coil(coil), 1, 12), radius + scalp_offset_mm, radius)
    reach_cos = np.cos(REACH_MM / radius)
    params, scalps, handles, hotspots, rows, cols, vals, grid_ij = [], [], [], [], [], [], [], []
    for i, a in enumerate(g):
        for j, b in enumerate(g):
            if np.hypot(a, b) > search_r + error_mm + 1e-9:
                continue
            u, h = _pose(u0, h0, radius, a, b)
            near = np.flatnonzero(unit_rel @ u >= reach_cos)
            hs = cos_psi[:, None] * h + sin_psi[:, None] * np.cross(
                u, h
            )  # handle at every rotation
            rots = np.stack([np.cross(hs, u), hs, np.broadcast_to(u, hs.shape)], axis=2)
            mags = ref.sample(np.matmul(rel[near][None], rots))  # (angles, near)
            peak = mags.max(axis=1, initial=0.0)[:, None]
            w = np.where(
                (mags >= HALF_MAX * peak) & (peak > 0), mags, 0.0
            )  # (angles, near): |E| where stimulated
            total = w.sum(axis=1)
            safe = np.where(total > 0, total, 1.0)[:, None]
            first = len(params)
            params += [(a, b, p) for p in psis]
            grid_ij += [(i, j, k) for k in range(n_ang)]
            scalps += [c + radius * u] * n_ang
            handles += list(hs)
            hotspots += list(
                np.where(total[:, None] > 0, (w @ points[near]) / safe, c + (radius - 20.0) * u)
            )
            on_cells = point_cell[near]
            inside = on_cells >= 0
            k_idx, p_idx = np.nonzero(w[:, inside])
            rows.append(first + k_idx)
            cols.append(on_cells[inside][p_idx])
            vals.append((w[:, inside] / safe)[k_idx, p_idx])
    params = np.asarray(params)
    n = len(params)
    weights = sparse.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, len(cells))
    )
    inner = np.hypot(params[:, 0], params[:, 1]) <= search_r + 1e-9
    lookup = {ijk: idx for idx, ijk in enumerate(grid_ij)}
    kernel = _kernel(error_mm, error_deg)
    a_rows, a_cols = [], []
    for idx in np.flatnonzero(inner):
        i, j, k = grid_ij[idx]
        members = [
            lookup[(i + di, j + dj, (k + dk) % n_ang)]
            for di, dj, dk in kernel
            if (i + di, j + dj, (k + dk) % n_ang) in lookup
        ]
        a_rows += [idx] * len(members)
        a_cols += members
    counts = np.bincount(a_rows, minlength=n).astype(float)
    average = sparse.csr_matrix((1.0 / counts[a_rows], (a_rows, a_cols)), shape=(n, n))
    elapsed = time.perf_counter() - t0
    logger.info(
        "placement landscape: %d placements (%d candidates) over %d columns in %.2f s",
        n,
        int(inner.sum()),
        n_cols,
        elapsed,
    )
    return Landscape(
        params,
        inner,
        np.asarray(scalps),
        np.asarray(handles),
        np.asarray(hotspots),
        weights,
        proj,
        average,
        sphere,
        radius,
        float(error_mm),
        float(error_deg),
        elapsed,
    )


_CACHE: dict = {}
#: Bump when the landscape's definition or grid changes: disk-cached landscapes of another version
#: are not read.
LANDSCAPE_VERSION = 1
_ARRAYS = ("params", "inner", "scalp_mm", "handles", "hotspots_mm")
_MATRICES = ("weights", "projection", "average")


def _save(path: Path, land: Landscape) -> None:
    """Write a landscape atomically.

    It is written with ``np.savez`` to a temporary file beside ``path``, then renamed.
    """
    arrays = {name: getattr(land, name) for name in _ARRAYS}
    for name in _MATRICES:
        m = getattr(land, name)
        arrays |= {
            f"{name}_data": m.data,
            f"{name}_indices": m.indices,
            f"{name}_indptr": m.indptr,
            f"{name}_shape": np.array(m.shape),
        }
    arrays |= {
        "sphere": np.r_[land.sphere.centre_mm, land.sphere.radius_mm, land.sphere.rms_mm],
        "scalars": np.array([land.head_radius_mm, land.error_mm, land.error_deg, land.build_s]),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _load(path: Path) -> Landscape:
    with np.load(path) as z:
        mats = {
            name: sparse.csr_matrix(
                (z[f"{name}_data"], z[f"{name}_indices"], z[f"{name}_indptr"]),
                shape=tuple(z[f"{name}_shape"]),
            )
            for name in _MATRICES
        }
        sphere, scalars = z["sphere"], z["scalars"]
        return Landscape(
            *(z[name] for name in _ARRAYS),
            mats["weights"],
            mats["projection"],
            mats["average"],
            Sphere(sphere[:3].copy(), float(sphere[3]), float(sphere[4])),
            float(scalars[0]),
            float(scalars[1]),
            float(scalars[2]),
            float(scalars[3]),
        )


def landscape_for(
    coords_mm,
    areas=None,
    *,
    error_mm: float = ERROR_MM,
    error_deg: float = ERROR_DEG,
    coil: str = DEFAULT_COIL,
    cache: bool = True,
) -> Landscape:
    """:func:`build_landscape` on the template head, cached.

    A landscape depends on the search columns and the settings only, never on the data, so it is
    kept in memory for the last few search regions (a bootstrap reuses one) and on disk in the data
    cache (``$TMSTARGET_DATA`` or ``~/.cache/tmstarget``, folder ``landscapes``; ~30 MB per region),
    keyed by a SHA-256 of the columns, their areas, the settings, :data:`LANDSCAPE_VERSION` and the
    tmstarget version: every participant on the same grid and search region reuses it. A cache that
    cannot be written is skipped (logged at debug level); ``cache=False`` skips the disk.
    """
    from .. import __version__
    from ..headmodel import load_template_head

    coords = np.ascontiguousarray(coords_mm, np.float64)
    w = None if areas is None else np.ascontiguousarray(areas, np.float64)
    key = (
        coords.tobytes(),
        None if w is None else w.tobytes(),
        float(error_mm),
        float(error_deg),
        coil,
    )
    if key in _CACHE:
        return _CACHE[key]
    digest = hashlib.sha256(
        repr(
            (LANDSCAPE_VERSION, __version__, coords.shape, float(error_mm), float(error_deg), coil)
        ).encode()
    )
    digest.update(coords.tobytes())
    digest.update(b"" if w is None else w.tobytes())
    path = _cache_dir() / f"landscape-{digest.hexdigest()[:32]}.npz"
    land = None
    if cache and path.is_file():
        try:
            land = _load(path)
        except Exception as exc:  # noqa: BLE001 - a damaged cache file is rebuilt
            logger.debug("landscape cache %s unreadable (%s); rebuilding", path, exc)
    if land is None:
        land = build_landscape(
            load_template_head(), coords, w, coil=coil, error_mm=error_mm, error_deg=error_deg
        )
        if cache:
            try:
                _save(path, land)
            except OSError as exc:
                logger.debug("landscape not cached at %s (%s)", path, exc)
    if len(_CACHE) >= 4:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = land
    return land


def _cache_dir() -> Path:
    from .._utils.cache import cache_dir

    return cache_dir() / "landscapes"
