"""Coil placement: scalp entry, coil centre, normal, handle direction and the local head sphere.

A placement puts the coil frame of :mod:`tmstarget.coil.models` on the head: origin at the scalp
entry point (plus an optional gap for hair or an EEG cap) along the outward scalp normal, ``z`` into
the head, ``y`` along the handle.

Default handle orientation: 45° from the midline, pointing posterior — the handle points backwards
and away from the midline (for a left-hemisphere target: backwards and to the left), the usual
orientation for DLPFC treatment. The angle is measured in the plane tangent to the scalp at the
entry point between the handle and the projection of the posterior direction (0, -1, 0); positive
angles turn the handle away from the midline (lateral). Targets on the midline (|x| < 1 mm) are
treated as left-hemisphere targets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..exceptions import InputError
from .defaults import DEFAULT_HANDLE_ANGLE_DEG, PLACEMENT_ERROR_DEG, PLACEMENT_ERROR_MM  # noqa: F401 - defaults live in the leaf

#: Radius of the scalp patch a local sphere is fitted to (mm).
SPHERE_FIT_RADIUS_MM = 40.0


def unit(v) -> np.ndarray:
    """``v / |v|`` for a 3-vector; raises InputError for a zero vector."""
    v = np.asarray(v, dtype=float)
    n = np.linalg.norm(v)
    if not n > 1e-12:
        raise InputError("zero-length direction — check the coordinates given")
    return v / n


def as_point(point, what: str = "point") -> np.ndarray:
    """Validate one 3-D point (mm)."""
    p = np.asarray(point, dtype=float).reshape(-1)
    if p.shape != (3,) or not np.isfinite(p).all():
        raise InputError(
            f"{what} must be three finite numbers in mm, got "
            f"{np.asarray(point).tolist()} — pass x, y, z"
        )
    return p


@dataclass(frozen=True)
class Sphere:
    """A sphere (mm) with the RMS distance of the points it was fitted to from its surface."""

    centre_mm: np.ndarray
    radius_mm: float
    rms_mm: float = 0.0


def fit_sphere(points_mm: np.ndarray) -> Sphere:
    """Least-squares sphere through points (algebraic fit, ``|x|² = 2 c·x + k``).

    Raises
    ------
    InputError
        With fewer than 4 points or when they are (nearly) coplanar.
    """
    p = np.asarray(points_mm, dtype=float)
    if p.ndim != 2 or p.shape[1] != 3 or len(p) < 4:
        raise InputError(
            "a sphere needs at least 4 scalp points, got "
            f"{len(p)} — use a denser scalp mesh or a larger "
            "patch"
        )
    a = np.column_stack([2 * p, np.ones(len(p))])
    b = (p**2).sum(axis=1)
    sol, _, rank, sv = np.linalg.lstsq(a, b, rcond=None)
    if rank < 4 or sv[-1] < 1e-6 * sv[0]:
        raise InputError(
            "scalp points are coplanar, no sphere fits — use a curved patch of the scalp"
        )
    centre = sol[:3]
    radius = float(np.sqrt(sol[3] + centre @ centre))
    rms = float(np.sqrt(np.mean((np.linalg.norm(p - centre, axis=1) - radius) ** 2)))
    return Sphere(centre, radius, rms)


def local_sphere(head, point_mm, radius_mm: float = SPHERE_FIT_RADIUS_MM) -> Sphere:
    """Sphere fitted to the scalp vertices within ``radius_mm`` of a scalp point.

    Only vertices on the same side of the head as the point are used.

    Parameters
    ----------
    head : HeadModel
        Anything with ``scalp_vertices`` and ``scalp_normals`` (N, 3) arrays.
    point_mm : array_like, shape (3,)
        Scalp point the patch is centred on.
    radius_mm : float
        Patch radius.
    """
    p = as_point(point_mm, "scalp point")
    v, n = np.asarray(head.scalp_vertices, float), np.asarray(head.scalp_normals, float)
    d = np.linalg.norm(v - p, axis=1)
    i0 = int(np.argmin(d))
    keep = (d <= radius_mm) & (n @ n[i0] > 0.3)
    return fit_sphere(v[keep])


def _midline_frame(normal, hemisphere_sign: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the unit normal and the posterior and lateral directions in the scalp tangent plane.

    The posterior direction is projected onto the tangent plane.
    """
    n = unit(normal)
    posterior = np.array([0.0, -1.0, 0.0])
    p_t = posterior - (posterior @ n) * n
    if np.linalg.norm(p_t) < 0.2:
        raise InputError(
            "the scalp faces straight backwards or forwards "
            "here, the midline direction is undefined — choose "
            "a lateral site"
        )
    p_t = unit(p_t)
    lateral = np.cross(n, p_t)
    return n, p_t, lateral if lateral[0] * hemisphere_sign >= 0 else -lateral


def handle_direction(
    normal, hemisphere_sign: float, angle_deg: float = DEFAULT_HANDLE_ANGLE_DEG
) -> np.ndarray:
    """Return the handle direction in the scalp tangent plane for a handle angle.

    The handle points ``angle_deg`` from the posterior midline direction.

    Parameters
    ----------
    normal : array_like, shape (3,)
        Outward scalp normal at the entry point.
    hemisphere_sign : float
        ``-1`` for a left-hemisphere target (lateral = -x), ``+1`` for right.
    angle_deg : float
        Rotation from the posterior direction towards lateral (degrees).
    """
    _, p_t, lateral = _midline_frame(normal, hemisphere_sign)
    a = np.deg2rad(angle_deg)
    return unit(np.cos(a) * p_t + np.sin(a) * lateral)


def handle_angle_deg(normal, handle, hemisphere_sign: float) -> float:
    """Inverse of :func:`handle_direction`: angle of ``handle`` from the posterior direction.

    The angle is in degrees.
    """
    _, p_t, lateral = _midline_frame(normal, hemisphere_sign)
    h = unit(handle)
    return float(np.degrees(np.arctan2(h @ lateral, h @ p_t)))


def normalize_angle_deg(angle_deg: float) -> float:
    """Map an angle in degrees to (-180, 180]; refuse non-finite values."""
    a = float(angle_deg)
    if not np.isfinite(a):
        raise InputError(
            f"handle angle {angle_deg!r} is not a number — pass degrees from the midline, e.g. 45"
        )
    a = -((-a + 180.0) % 360.0 - 180.0)
    return 0.0 if a == 0 else a


_OCTANTS = (
    "posterior",
    "posterior-lateral",
    "lateral",
    "anterior-lateral",
    "anterior",
    "anterior-medial",
    "medial",
    "posterior-medial",
)


def describe_handle(angle_deg: float, hemisphere_sign: float) -> str:
    """Describe the handle direction in words, for an operator checking an imported marker by eye.

    Parameters
    ----------
    angle_deg : float
        Handle angle from the posterior midline direction, positive towards lateral (as in
        :func:`handle_direction`).
    hemisphere_sign : float
        ``-1`` for a left-hemisphere target (lateral = left), ``+1`` for right.

    Returns
    -------
    str
        E.g. ``"handle 45° posterior-lateral (pointing backwards and to the left)"``: the angle from
        the posterior midline direction, the nearest of eight directions, and the handle's direction
        on the head.
    """
    a = normalize_angle_deg(angle_deg)
    label = _OCTANTS[int(np.round(a / 45.0)) % 8]
    lateral, medial = ("left", "right") if hemisphere_sign < 0 else ("right", "left")
    rad = np.deg2rad(a)
    parts = [
        w for w, c in (("backwards", np.cos(rad) > 0.17), ("forwards", np.cos(rad) < -0.17)) if c
    ]
    parts += [
        f"to the {w}"
        for w, c in ((lateral, np.sin(rad) > 0.17), (medial, np.sin(rad) < -0.17))
        if c
    ]
    return f"handle {abs(a):.0f}° {label} (pointing {' and '.join(parts)})"


def rounded(values, ndigits: int) -> list[float]:
    """Floats rounded for JSON output."""
    return [round(float(v), ndigits) for v in np.ravel(values)]


def coil_matrix(centre_mm, normal_out, handle) -> np.ndarray:
    """4×4 coil-to-world matrix: columns x, y (handle), z (into the head), centre."""
    z = -unit(normal_out)
    y = np.asarray(handle, float) - (np.asarray(handle, float) @ z) * z
    y = unit(y)
    m = np.eye(4)
    m[:3, 0] = np.cross(y, z)
    m[:3, 1] = y
    m[:3, 2] = z
    m[:3, 3] = as_point(centre_mm, "coil centre")
    return m


@dataclass(frozen=True)
class Placement:
    """Where and how the coil sits on the head.

    Attributes
    ----------
    target_mm : ndarray, shape (3,)
        Cortical target.
    scalp_mm : ndarray, shape (3,)
        Scalp entry point.
    normal : ndarray, shape (3,)
        Outward unit scalp normal at the entry point.
    handle : ndarray, shape (3,)
        Unit handle direction, tangent to the scalp.
    scalp_offset_mm : float
        Gap between scalp and coil surface (hair, cap).
    handle_angle_deg : float
        Handle angle from the posterior midline direction, positive = lateral.
    """

    target_mm: np.ndarray
    scalp_mm: np.ndarray
    normal: np.ndarray
    handle: np.ndarray
    scalp_offset_mm: float = 0.0
    handle_angle_deg: float = DEFAULT_HANDLE_ANGLE_DEG
    space: str = "MNI152NLin6Asym"

    @property
    def centre_mm(self) -> np.ndarray:
        """Centre of the coil's bottom surface (mm)."""
        return self.scalp_mm + self.scalp_offset_mm * self.normal

    @property
    def matrix(self) -> np.ndarray:
        """4×4 coil-to-world matrix (see :mod:`tmstarget.coil.models` for the axes)."""
        return coil_matrix(self.centre_mm, self.normal, self.handle)

    @property
    def coil_cortex_distance_mm(self) -> float:
        """Distance from the coil centre to the target (mm)."""
        return float(np.linalg.norm(self.centre_mm - self.target_mm))

    @property
    def scalp_cortex_distance_mm(self) -> float:
        """Distance from the scalp entry point to the target (mm)."""
        return float(np.linalg.norm(self.scalp_mm - self.target_mm))

    def to_json(self) -> dict:
        """JSON-ready description (mm, rounded to 0.1 mm; directions to 1e-4)."""
        return {
            "space": self.space,
            "target_mm": rounded(self.target_mm, 1),
            "scalp_entry_mm": rounded(self.scalp_mm, 1),
            "coil_centre_mm": rounded(self.centre_mm, 1),
            "scalp_normal": rounded(self.normal, 4),
            "coil_normal_into_head": rounded(-self.normal, 4),
            "handle_direction": rounded(self.handle, 4),
            "handle_angle_from_midline_deg": round(float(self.handle_angle_deg), 1),
            "handle_description": describe_handle(
                self.handle_angle_deg, hemisphere_sign(self.target_mm)
            ),
            "scalp_offset_mm": round(float(self.scalp_offset_mm), 1),
            "scalp_cortex_distance_mm": round(self.scalp_cortex_distance_mm, 1),
            "coil_cortex_distance_mm": round(self.coil_cortex_distance_mm, 1),
            "matrix": [rounded(row, 6) for row in self.matrix],
        }


def place_coil(
    target_mm,
    scalp_mm,
    normal,
    handle_angle: float = DEFAULT_HANDLE_ANGLE_DEG,
    scalp_offset_mm: float = 0.0,
    space: str = "MNI152NLin6Asym",
) -> Placement:
    """Placement from a target, its scalp entry point and the outward normal there.

    Parameters
    ----------
    target_mm, scalp_mm : array_like, shape (3,)
        Cortical target and scalp entry point (mm).
    normal : array_like, shape (3,)
        Outward scalp normal at the entry point.
    handle_angle : float
        Degrees from the posterior midline direction towards lateral (default 45).
    scalp_offset_mm : float
        Gap between scalp and coil (>= 0).
    """
    target, scalp = as_point(target_mm, "target"), as_point(scalp_mm, "scalp point")
    if scalp_offset_mm < 0:
        raise InputError(
            f"scalp offset must be >= 0 mm, got {scalp_offset_mm} — pass the hair/cap thickness"
        )
    n = unit(normal)
    if (scalp - target) @ n < 0:
        raise InputError(
            "the target lies outside the head at this scalp "
            "point — pass a cortical target inside the head"
        )
    handle_angle = normalize_angle_deg(handle_angle)
    handle = handle_direction(n, hemisphere_sign(target), handle_angle)
    return Placement(target, scalp, n, handle, float(scalp_offset_mm), handle_angle, space)


def placement_from_json(block, what: str = "coil placement") -> Placement:
    """Return the :class:`Placement` a ``placement`` JSON block describes, checked.

    The block is what :meth:`Placement.to_json` writes.

    Raises
    ------
    InputError
        When a field is missing or not finite, the normal or handle is not a unit vector, or the
        handle is not tangent to the scalp.
    """
    try:
        target, scalp = (
            as_point(block["target_mm"], "target"),
            as_point(block["scalp_entry_mm"], "scalp entry"),
        )
        normal, handle = (
            np.asarray(block["scalp_normal"], float),
            np.asarray(block["handle_direction"], float),
        )
        offset, angle = (
            float(block.get("scalp_offset_mm", 0.0)),
            float(block["handle_angle_from_midline_deg"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(
            f"{what} is incomplete or malformed ({exc}) — "
            "pass the JSON 'tmstarget target --method efield' "
            "wrote"
        ) from None
    ok = (
        normal.shape == handle.shape == (3,)
        and np.isfinite(normal).all()
        and np.isfinite(handle).all()
        and np.isfinite([offset, angle]).all()
    )
    if (
        not ok
        or abs(np.linalg.norm(normal) - 1) > 1e-3
        or abs(np.linalg.norm(handle) - 1) > 1e-3
        or abs(normal @ handle) > 1e-2
        or offset < 0
    ):
        raise InputError(
            f"{what}: normal and handle must be unit vectors, "
            "the handle tangent to the scalp and the offset "
            ">= 0 — "
            "pass the JSON 'tmstarget target --method efield' wrote, unedited"
        )
    return Placement(
        target,
        scalp,
        unit(normal),
        unit(handle),
        offset,
        normalize_angle_deg(angle),
        str(block.get("space", "MNI152NLin6Asym")),
    )


def hemisphere_sign(target_mm) -> float:
    """``-1`` for a left-hemisphere target (x < 1 mm, midline counted as left), ``+1`` for right."""
    return -1.0 if as_point(target_mm, "target")[0] < 1.0 else 1.0


def place_on_head(
    head, target_mm, handle_angle: float = DEFAULT_HANDLE_ANGLE_DEG, scalp_offset_mm: float = 0.0
) -> Placement:
    """Default placement on a head model: the scalp point nearest the target.

    The handle is at ``handle_angle``.

    Parameters
    ----------
    head : tmstarget.headmodel.HeadModel
        Scalp surface (template or participant), same space as the target.
    target_mm : array_like, shape (3,)
        Cortical target (mm).
    """
    from ..headmodel import nearest_scalp_point

    target = as_point(target_mm, "target")
    scalp, normal = nearest_scalp_point(head, target)
    return place_coil(
        target,
        scalp,
        normal,
        handle_angle,
        scalp_offset_mm,
        getattr(head, "space", "MNI152NLin6Asym"),
    )


def cross3(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``numpy.cross`` of 3-vectors along the last axis, without its per-call overhead."""
    a0, a1, a2 = a[..., 0], a[..., 1], a[..., 2]
    b0, b1, b2 = b[..., 0], b[..., 1], b[..., 2]
    return np.stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], axis=-1)


def rotation_between(a, b) -> np.ndarray:
    """Smallest rotation matrix taking unit vector ``a`` to unit vector ``b`` (Rodrigues)."""
    a, b = unit(a), unit(b)
    v = np.cross(a, b)
    c = float(a @ b)
    if np.linalg.norm(v) < 1e-12:
        if c > 0:
            return np.eye(3)
        axis = unit(np.cross(a, [1.0, 0, 0]) if abs(a[0]) < 0.9 else np.cross(a, [0, 1.0, 0]))
        return 2 * np.outer(axis, axis) - np.eye(3)
    k = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    return np.eye(3) + k + k @ k / (1 + c)
