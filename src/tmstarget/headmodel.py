"""The template head: a scalp surface in MNI space, 10-20/10-10 positions and projection to cortex.

The 10-20/10-10 positions lie on the scalp surface.

Sources (all shipped by dependencies, nothing is downloaded):

- **Scalp**: MNE-Python's ``mne/data/fsaverage/fsaverage-head.fif`` (the fsaverage scalp, 2,033
  vertices, closed surface), whose coordinates are fsaverage surface RAS = MNI305 (metres).
- **MNI305 → MNI152**: the inverse of FreeSurfer's MNI152 → MNI305 affine (FreeSurfer wiki
  "CoordinateSystems", case 8b; derived from ``$FREESURFER_HOME/average/mni152.register.dat``). Its
  example point MNI152 (10, −20, 35) → MNI305 (9.3131, −21.5849, 33.8345) is checked in the tests.
  The result is in FSL's MNI152 (MNI152NLin6Asym); the 2009c templates differ by a few millimetres.
- **Fiducials**: nasion, left and right preauricular points from MNE's ``fsaverage-fiducials.fif``.
- **10-10 / 10-5 positions**: MNE's ``colin27_1005`` montage (called ``standard_1005`` before MNE
  1.13): Oostenveld's 10-05 positions constructed on the Colin27 head, which lies in MNI152 space
  (SPM's single-subject template), so they are used without transform and snapped to the nearest
  scalp point (median shift 1.5 mm). Cortical F3 from them lies 6.5 mm from Okamoto et al. 2004's
  mean. MNE's ``fsaverage_1005`` (built on the fsaverage head) puts F3 ~9 mm higher, 13 mm from that
  mean, and is not used. The montage's ``Iz`` is the inion.
- **Grey matter**: nilearn's MNI152 (ICBM 2009 symmetric) grey-matter probability map, 1 mm; the
  cortex below a scalp point is the first point along the inward scalp normal where it reaches 0.5.

Research use; not a medical device.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .exceptions import InputError

#: FreeSurfer's MNI152 → MNI305 affine (FreeSurfer wiki "CoordinateSystems", 8b).
MNI152_TO_MNI305 = np.array(
    [
        [1.0022, 0.0071, -0.0177, 0.0528],
        [-0.0146, 0.9990, 0.0027, -1.5519],
        [0.0129, 0.0094, 1.0027, -1.2012],
        [0.0, 0.0, 0.0, 1.0],
    ]
)
#: Its inverse, applied to the fsaverage scalp and montage.
MNI305_TO_MNI152 = np.linalg.inv(MNI152_TO_MNI305)

#: Grey-matter probability at which the cortex is reached along the inward normal.
GM_THRESHOLD = 0.5
#: How deep below the scalp the cortex is searched for (mm).
MAX_DEPTH_MM = 45.0


@dataclass(frozen=True, eq=False)
class HeadModel:
    """A scalp surface in MNI space (read-only arrays).

    Attributes
    ----------
    scalp_vertices : ndarray, shape (N, 3)
        Vertex positions, MNI152 mm (RAS).
    scalp_normals : ndarray, shape (N, 3)
        Outward unit normals at the vertices (area-weighted mean of the adjacent faces).
    scalp_faces : ndarray of int, shape (M, 3)
        Triangles, indices into ``scalp_vertices``, counter-clockwise seen from outside.
    fiducials : dict of str to ndarray, shape (3,)
        ``nasion``, ``lpa``, ``rpa`` and ``inion`` on the scalp (MNI mm).
    space : str
        Coordinate space of all points.
    source : str
        Where the surface comes from.
    """

    scalp_vertices: np.ndarray
    scalp_normals: np.ndarray
    scalp_faces: np.ndarray
    fiducials: dict
    space: str = "MNI152NLin6Asym"
    source: str = "MNE fsaverage-head.fif (MNI305 → MNI152 by FreeSurfer's affine)"

    @property
    def centre(self) -> np.ndarray:
        """A point inside the head from which the upper scalp is star-shaped (mm)."""
        f = self.fiducials
        mid = (f["lpa"] + f["rpa"] + f["nasion"] + f["inion"]) / 4.0
        return mid + np.array([0.0, 0.0, 15.0])


def _apply(affine: np.ndarray, points: np.ndarray) -> np.ndarray:
    return np.asarray(points, float) @ affine[:3, :3].T + affine[:3, 3]


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Area-weighted vertex normals of a triangle mesh, shape (N, 3), unit length."""
    tri = vertices[faces]
    face_n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])  # length = 2 × area
    normals = np.zeros_like(vertices)
    for k in range(3):
        np.add.at(normals, faces[:, k], face_n)
    return normals / np.linalg.norm(normals, axis=1, keepdims=True)


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a


@lru_cache(maxsize=1)
def _montage_mni() -> dict[str, np.ndarray]:
    """MNE's Colin27 10-05 positions (MNI mm).

    The montage is ``colin27_1005``, called ``standard_1005`` before MNE 1.13.
    """
    import mne

    name = (
        "colin27_1005" if "colin27_1005" in mne.channels.get_builtin_montages() else "standard_1005"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pos = mne.channels.make_standard_montage(name).get_positions()
    return {k: np.asarray(v, float) * 1000.0 for k, v in pos["ch_pos"].items()}


@lru_cache(maxsize=1)
def load_template_head() -> HeadModel:
    """Load the MNI template head (cached; read-only arrays).

    Built from MNE's files once, then read from the data cache (``$TMSTARGET_DATA/templates``,
    keyed by those files and the transform), which spares importing MNE; a failed write only logs.

    Returns
    -------
    HeadModel
        The fsaverage scalp in MNI152 mm with outward normals and fiducials (sources: module
        docstring).
    """
    path = _head_cache_path()
    head = _read_head(path) if path is not None else None
    if head is None:
        head = _build_template_head()
        if path is not None:
            _write_head(path, head)
    return head


#: Fiducials stored with the cached template head.
_FIDUCIALS = ("nasion", "lpa", "rpa", "inion")


def _head_cache_path() -> Path | None:
    """Cache file of the template head, named after its sources (None if MNE is missing)."""
    import hashlib
    from importlib.util import find_spec

    from ._utils.cache import cache_dir

    spec = find_spec("mne")
    if spec is None or spec.origin is None:
        return None
    data = Path(spec.origin).parent / "data" / "fsaverage"
    try:
        stamp = [
            (f.name, f.stat().st_size, f.stat().st_mtime_ns)
            for f in (
                Path(spec.origin),
                data / "fsaverage-head.fif",
                data / "fsaverage-fiducials.fif",
            )
        ]
    except OSError:
        return None
    key = repr((1, stamp, str(spec.origin), MNI305_TO_MNI152.tobytes().hex()))
    return cache_dir() / "templates" / f"head-{hashlib.sha1(key.encode()).hexdigest()[:16]}.npz"


def _read_head(path: Path) -> HeadModel | None:
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        fiducials = {k: _readonly(arrays[f"fid_{k}"]) for k in _FIDUCIALS}
        return HeadModel(
            _readonly(arrays["vertices"]),
            _readonly(arrays["normals"]),
            _readonly(arrays["faces"]),
            fiducials,
        )
    except (OSError, ValueError, KeyError):
        return None


def _write_head(path: Path, head: HeadModel) -> None:
    import logging
    import os
    import tempfile

    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
        with os.fdopen(fd, "wb") as f:
            np.savez(
                f,
                vertices=head.scalp_vertices,
                normals=head.scalp_normals,
                faces=head.scalp_faces,
                **{f"fid_{k}": head.fiducials[k] for k in _FIDUCIALS},
            )
        os.replace(tmp, path)
    except OSError as exc:
        logging.getLogger("tmstarget").debug("template head not cached at %s (%s)", path, exc)
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)


def _build_template_head() -> HeadModel:
    """Build the template head from MNE's fsaverage files (see :func:`load_template_head`)."""
    import mne

    data = Path(mne.__file__).parent / "data" / "fsaverage"
    surf = mne.read_bem_surfaces(str(data / "fsaverage-head.fif"), verbose="error")[0]
    vertices = _apply(MNI305_TO_MNI152, surf["rr"] * 1000.0)
    faces = np.asarray(surf["tris"], dtype=np.int64)
    normals = vertex_normals(vertices, faces)
    if (
        np.mean(np.sum((vertices - vertices.mean(0)) * normals, axis=1)) < 0
    ):  # make them point outwards
        faces, normals = faces[:, ::-1].copy(), -normals
    fids, _ = mne.io.read_fiducials(str(data / "fsaverage-fiducials.fif"), verbose="error")
    names = {1: "lpa", 2: "nasion", 3: "rpa"}  # FIFFV_POINT_LPA / NASION / RPA
    raw = {
        names[int(d["ident"])]: _apply(MNI305_TO_MNI152, np.asarray(d["r"]) * 1000.0) for d in fids
    }
    raw["inion"] = _montage_mni()["Iz"]
    head = HeadModel(_readonly(vertices), _readonly(normals), _readonly(faces), {})
    fiducials = {
        k: _readonly(nearest_scalp_point(head, raw[k])[0])
        for k in ("nasion", "lpa", "rpa", "inion")
    }
    return HeadModel(head.scalp_vertices, head.scalp_normals, head.scalp_faces, fiducials)


@lru_cache(maxsize=4)
def _vertex_tree(head_id: int, head: HeadModel):
    from scipy.spatial import cKDTree

    return cKDTree(head.scalp_vertices)


def _closest_on_triangles(p: np.ndarray, tri: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Closest points of (K, 3, 3) triangles to ``p`` and their barycentric weights (K, 3)."""
    a, b, c = tri[:, 0], tri[:, 1], tri[:, 2]
    cand = [a, b, c]
    # edges: clamp the projection of p on each segment
    for s, e in ((a, b), (b, c), (c, a)):
        d = e - s
        t = np.clip(np.einsum("ij,ij->i", p - s, d) / np.einsum("ij,ij->i", d, d), 0.0, 1.0)
        cand.append(s + t[:, None] * d)
    # interior: projection on the plane when its barycentric weights are all positive
    n = np.cross(b - a, c - a)
    n /= np.linalg.norm(n, axis=1, keepdims=True)
    proj = p - np.einsum("ij,ij->i", p - a, n)[:, None] * n
    w = _barycentric(proj, a, b, c)
    inside = (w >= 0).all(axis=1)
    proj[~inside] = np.nan
    cand.append(proj)
    pts = np.stack(cand, axis=1)  # (K, 7, 3)
    dist = np.linalg.norm(pts - p, axis=2)
    best = np.nanargmin(dist, axis=1)
    closest = pts[np.arange(len(tri)), best]
    return closest, _barycentric(closest, a, b, c)


def _barycentric(p: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    v0, v1, v2 = b - a, c - a, p - a
    d00, d01, d11 = (np.einsum("ij,ij->i", x, y) for x, y in ((v0, v0), (v0, v1), (v1, v1)))
    d20, d21 = np.einsum("ij,ij->i", v2, v0), np.einsum("ij,ij->i", v2, v1)
    den = d00 * d11 - d01 * d01
    v = (d11 * d20 - d01 * d21) / den
    w = (d00 * d21 - d01 * d20) / den
    return np.column_stack([1.0 - v - w, v, w])


def nearest_scalp_point(head: HeadModel, point_mm) -> tuple[np.ndarray, np.ndarray]:
    """Return the point of the scalp surface closest to a point, and the outward normal there.

    Parameters
    ----------
    head : HeadModel
    point_mm : array-like, shape (3,)
        A point (mm), inside or outside the head.

    Returns
    -------
    scalp_point, normal : ndarray, shape (3,)
        Closest point of the triangle mesh (mm) and the outward unit normal there (vertex normals
        interpolated barycentrically).
    """
    p = np.asarray(point_mm, float).reshape(3)
    if not np.isfinite(p).all():
        raise InputError(f"point {p.tolist()} is not finite — pass three numbers in mm")
    d2 = np.einsum("ij,ij->i", head.scalp_vertices - p, head.scalp_vertices - p)
    near = np.argpartition(d2, 11)[:12]  # the 12 nearest vertices (a few thousand: no tree)
    faces = np.flatnonzero(np.isin(head.scalp_faces, near).any(axis=1))
    tri_idx = head.scalp_faces[faces]
    closest, bary = _closest_on_triangles(p, head.scalp_vertices[tri_idx])
    i = int(np.argmin(np.linalg.norm(closest - p, axis=1)))
    normal = (bary[i][:, None] * head.scalp_normals[tri_idx[i]]).sum(0)
    return closest[i], normal / np.linalg.norm(normal)


def is_inside_head(head: HeadModel, point_mm) -> bool:
    """Return whether a point lies inside the scalp surface.

    Inside means on the inner side of the nearest scalp point.
    """
    q, n = nearest_scalp_point(head, point_mm)
    return float(np.dot(np.asarray(point_mm, float) - q, n)) < 0.0


def cast_rays(head: HeadModel, origin, directions: np.ndarray, chunk: int = 256) -> np.ndarray:
    """Outermost scalp intersections of rays from ``origin`` along ``directions``.

    Both ``directions`` and the result have shape (R, 3); the result is NaN where a ray misses.
    Intersections use the Möller–Trumbore algorithm.
    """
    o = np.asarray(origin, float)
    dirs = np.atleast_2d(np.asarray(directions, float))
    tri = head.scalp_vertices[head.scalp_faces]
    v0, e1, e2 = tri[:, 0], tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]
    tvec = o - v0
    qvec = np.cross(tvec, e1)
    out = np.full(dirs.shape, np.nan)
    for s in range(0, len(dirs), chunk):
        d = dirs[s : s + chunk]
        pvec = np.cross(d[:, None, :], e2[None])  # (r, M, 3)
        det = np.einsum("rmk,mk->rm", pvec, e1)
        with np.errstate(divide="ignore", invalid="ignore"):
            inv = 1.0 / det
            u = np.einsum("rmk,mk->rm", pvec, tvec) * inv
            v = np.einsum("rk,mk->rm", d, qvec) * inv
            t = np.einsum("mk,mk->m", e2, qvec)[None] * inv
        hit = (np.abs(det) > 1e-12) & (u >= 0) & (v >= 0) & (u + v <= 1) & (t > 0)
        tmax = np.where(hit, t, -np.inf).max(axis=1)
        ok = np.isfinite(tmax)
        out[s : s + chunk][ok] = o + tmax[ok, None] * d[ok]
    return out


def polyline_length(points: np.ndarray) -> np.ndarray:
    """Cumulative length along a polyline, shape (K,), starting at 0."""
    return np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(points, axis=0), axis=1))])


def point_at_length(points: np.ndarray, length_mm: float) -> np.ndarray:
    """Return the point at a given length along a polyline (linear interpolation)."""
    cum = polyline_length(points)
    if length_mm > cum[-1] + 1e-9:
        raise InputError(
            f"{length_mm:.1f} mm is beyond the end of the "
            f"scalp path ({cum[-1]:.1f} mm) — use a shorter "
            "distance"
        )
    return np.array([np.interp(length_mm, cum, points[:, k]) for k in range(3)])


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def scalp_curve(
    head: HeadModel, centre, start, toward, stop_angle: float | None = None, n: int = 721
) -> np.ndarray:
    """Scalp curve, shape (n, 3), in the plane of ``centre``, ``start`` and ``toward`` (points, mm).

    Rays from ``centre`` rotate from the direction of ``start`` towards ``toward`` by ``stop_angle``
    (rad; default: up to ``toward``); the curve is where they leave the scalp, i.e. the plane's cut
    through the surface when the head is star-shaped from ``centre``.
    """
    c = np.asarray(centre, float)
    u = _unit(np.asarray(start, float) - c)
    w = np.asarray(toward, float) - c
    v = w - np.dot(w, u) * u
    if np.linalg.norm(v) < 1e-9:
        raise InputError(
            "the scalp path is undefined: its direction is "
            "parallel to the start — choose another heading"
        )
    v = _unit(v)
    if stop_angle is None:
        stop_angle = float(np.arctan2(np.dot(w, v), np.dot(w, u)) % (2 * np.pi))
    ang = np.linspace(0.0, stop_angle, n)
    pts = cast_rays(head, c, np.cos(ang)[:, None] * u + np.sin(ang)[:, None] * v)
    if np.isnan(pts).any():
        raise InputError(
            "a scalp path left the head surface — the points are not on the upper head"
        )
    return pts


def walk_on_scalp(
    head: HeadModel, start, heading, distance_mm: float, plane_normal=None
) -> tuple[np.ndarray, np.ndarray]:
    """Walk a distance along the scalp from ``start`` in a direction, within a plane.

    Parameters
    ----------
    start, heading : array-like, shape (3,)
        Starting scalp point (mm) and direction to walk (its in-plane part is used).
    distance_mm : float
        Path length along the scalp.
    plane_normal : array-like, shape (3,), optional
        Normal of the cutting plane; default: the plane of ``start``, the head centre and
        ``heading``.

    Returns
    -------
    end, path : ndarray, shapes (3,) and (K, 3)
        The scalp point reached and the path to it (on the scalp).
    """
    if not np.isfinite(distance_mm) or distance_mm <= 0:
        raise InputError(f"scalp distance {distance_mm} mm must be positive — pass e.g. 50")
    s = np.asarray(start, float)
    h = np.asarray(heading, float)
    c = head.centre
    if plane_normal is not None:
        nrm = _unit(np.asarray(plane_normal, float))
        c = c - np.dot(c - s, nrm) * nrm  # the centre moved into the plane through start
        h = h - np.dot(h, nrm) * nrm
    radius = np.linalg.norm(s - c)
    stop = min(np.pi, 1.6 * distance_mm / radius + 0.05)
    curve = scalp_curve(head, c, s, s + h, stop_angle=stop, n=max(361, int(stop * 720)))
    curve[0] = s
    end = point_at_length(curve, distance_mm)
    keep = polyline_length(curve) < distance_mm
    return end, np.vstack([curve[keep], end])


def scalp_arc(head: HeadModel, a, b, via) -> np.ndarray:
    """Scalp path from ``a`` to ``b`` over ``via``, shape (K, 3).

    For example, nasion → inion over the vertex.

    Rays from the midpoint of ``a``-``b`` sweep 180° in the plane of ``a``, ``b`` and ``via``.
    """
    a, b = np.asarray(a, float), np.asarray(b, float)
    mid = (a + b) / 2.0
    w = np.asarray(via, float) - mid
    ab = _unit(b - a)
    up = _unit(w - np.dot(w, ab) * ab)
    pts = scalp_curve(head, mid, a, mid + up, stop_angle=np.pi, n=1441)
    pts[0], pts[-1] = a, b
    return pts


@lru_cache(maxsize=1)
def _grey_matter() -> tuple[np.ndarray, np.ndarray]:
    from nilearn.datasets import load_mni152_gm_template

    img = load_mni152_gm_template(resolution=1)
    return np.asarray(img.get_fdata(dtype=np.float32)), np.linalg.inv(img.affine)


@lru_cache(maxsize=1)
def _grey_matter_tree():
    from scipy.spatial import cKDTree

    gm, inv_affine = _grey_matter()
    return cKDTree(_apply(np.linalg.inv(inv_affine), np.argwhere(gm >= GM_THRESHOLD)))


def scalp_to_cortex(
    head: HeadModel, scalp_point, normal, step_mm: float = 0.25
) -> tuple[np.ndarray, float]:
    """Project a scalp point to the cortex along the inward normal.

    Parameters
    ----------
    head : HeadModel
    scalp_point, normal : array-like, shape (3,)
        Point on the scalp (mm) and the outward scalp normal there (any length).
    step_mm : float
        Sampling step along the normal.

    Returns
    -------
    cortex_point : ndarray, shape (3,)
        First point along ``-normal`` where the MNI152 grey-matter probability reaches 0.5 (mm);
        where the line misses grey matter (down the interhemispheric fissure) the nearest
        grey-matter voxel.
    depth_mm : float
        Scalp-to-cortex distance.

    Raises
    ------
    InputError
        When no grey matter lies within :data:`MAX_DEPTH_MM` below the point.
    """
    from scipy.ndimage import map_coordinates

    gm, inv_affine = _grey_matter()
    p = np.asarray(scalp_point, float)
    n = _unit(np.asarray(normal, float))
    depths = np.arange(0.0, MAX_DEPTH_MM + step_mm, step_mm)
    pts = p - depths[:, None] * n
    ijk = _apply(inv_affine, pts).T
    prob = map_coordinates(gm, ijk, order=1, mode="constant", cval=0.0)
    above = np.flatnonzero(prob >= GM_THRESHOLD)
    if above.size == 0:  # e.g. down the interhemispheric fissure: the nearest grey matter instead
        dist, idx = _grey_matter_tree().query(p, distance_upper_bound=MAX_DEPTH_MM)
        if not np.isfinite(dist):
            raise InputError(
                f"no cortex within {MAX_DEPTH_MM:.0f} mm below "
                f"scalp point {np.round(p, 1).tolist()} — choose "
                "a point over the brain"
            )
        return _grey_matter_tree().data[idx].copy(), float(dist)
    i = int(above[0])
    if i == 0:
        return p, 0.0
    f = (GM_THRESHOLD - prob[i - 1]) / (prob[i] - prob[i - 1])
    depth = float(depths[i - 1] + f * step_mm)
    return p - depth * n, depth


def standard_positions(head: HeadModel) -> dict[str, np.ndarray]:
    """10-20 / 10-10 / 10-5 positions on the template scalp (MNI mm).

    MNE's fsaverage 10-05 montage (see the module docstring) moved to MNI152 and snapped to the
    nearest scalp point. Names follow the 10-10 system (``T7``/``T8``/``P7``/``P8``; the old 10-20
    names ``T3``, ``T4``, ``T5``, ``T6`` are included as aliases).

    Returns
    -------
    dict of str to ndarray, shape (3,)
    """
    out = {}
    for name, pos in _montage_mni().items():
        out[name] = nearest_scalp_point(head, pos)[0]
    for old, new in (("T3", "T7"), ("T4", "T8"), ("T5", "P7"), ("T6", "P8")):
        if new in out:
            out.setdefault(old, out[new])
    return out


def scalp_outline(
    head: HeadModel, dims: tuple[int, int] = (0, 1), z_min_mm: float = -60.0
) -> np.ndarray:
    """Silhouette of the template scalp seen along one axis, for drawing in a 2-D view.

    Parameters
    ----------
    head : HeadModel
        The template head (:func:`load_template_head`).
    dims : (int, int)
        The two coordinates (0 = x, 1 = y, 2 = z) of the view, e.g. ``(0, 1)`` seen from above,
        ``(1, 2)`` seen from the side.
    z_min_mm : float
        Scalp below this height (neck and chin) is left out, so the outline is the head's.

    Returns
    -------
    ndarray, shape (K, 2)
        Closed polygon (the first point repeated at the end), MNI mm: the convex hull of the
        scalp vertices projected on the view, which is the head's outline.
    """
    from scipy.spatial import ConvexHull

    v = np.asarray(head.scalp_vertices, float)
    flat = v[v[:, 2] >= z_min_mm][:, list(dims)]
    hull = flat[ConvexHull(flat).vertices]
    return np.vstack([hull, hull[:1]])
