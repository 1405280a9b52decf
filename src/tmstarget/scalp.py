"""Scalp-based targeting rules: Beam F3, 10-20 F3 and the 5-cm rule, placed on the template head.

**Beam F3** (Beam, Borckardt, Reeves, George, Brain Stimulation 2009;2:50–54). Three tape
measurements (nasion–inion and tragus–tragus over the vertex, head circumference) give two distances
a technician marks: X along the circumference from the front midline (Fpz) to the left, and Y from
the vertex (Cz) towards the X mark. We follow the authors' web calculator
(clinicalresearcher.org/F3, MUSC), which clinics and the published comparisons use, not the appendix
equations printed in the paper (which the issue tracker notes differ from it and which we could not
check). The calculator works on a flattened 10-20 map centred on Cz with R_ap = 0.4·NI (Cz–Fpz) and
R_lat = 0.4·TT (Cz–T3):

- line 1 runs from Fz = (0, R_ap/2) towards (R_lat, R_lat·sin 36°) — its F7 construction;
- line 2 runs from C3 = (R_lat/2, 0) towards the point at 28° from the midline on the circle of
  radius R_ap — its Fp1 construction;
- F3 is their intersection, at distance r and angle φ from the midline; Y = 0.91·r and
  X = HC·φ/360° (the arc of the circumference at that angle).

This reconstruction agrees with two independent open implementations of the calculator to < 0.05 cm
(see ``tests/test_scalp.py``): a MATLAB port labelled "webpage version" (Li, Maastricht 2023) and
the linear fit X = 0.1154·HC, Y = 0.2637·(TT + NI)/2 used by the TMS Measurement app (Bandpey 2026).
The optional adjusted Y adds 0.35 cm, the mean radial shortfall of Beam F3 versus MRI-guided sites
found by Mir-Moghtadaei et al. 2015 (Brain Stimulation 8:965–973).

**Placement on the template head**: the technician's procedure is replayed on the template scalp of
:mod:`tmstarget.headmodel`: the vertex is the midpoint of both the nasion–inion and tragus–tragus
arcs, the circumference runs through the 10 % points (Fpz, T7, Oz, T8), X is scaled by the ratio of
circumferences and Y by the ratio of (NI + TT) sums, and the scalp point is projected to the cortex
along the inward normal.

**5-cm rule**: 5 cm anterior to the motor hotspot (default: C3) along the scalp (Pascual-Leone et
al. 1996; George et al. 1995): the path starts towards the nasion in the scalp's tangent plane and
follows the normal section of the scalp (the plane of the start normal and that heading), as a tape
laid over the head does; 5.5 or 6 cm variants via ``distance_cm``.

Research use; not a medical device.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from .exceptions import InputError
from .headmodel import (
    HeadModel,
    nearest_scalp_point,
    point_at_length,
    polyline_length,
    scalp_arc,
    scalp_curve,
    scalp_to_cortex,
    standard_positions,
    walk_on_scalp,
)

#: Plausible adult ranges (cm) for the three tape measurements.
RANGES_CM = {
    "nasion_inion": (25.0, 48.0),
    "tragus_tragus": (25.0, 48.0),
    "circumference": (45.0, 70.0),
}
#: Plausible ratios of an over-the-vertex arc to the circumference, and of TT to NI.
ARC_TO_CIRCUMFERENCE = (0.5, 0.78)
TT_TO_NI = (0.7, 1.4)
#: Mean radial correction (cm) of Mir-Moghtadaei et al. 2015.
ADJUST_Y_CM = 0.35
#: Scalp rules known to :func:`scalp_rule_target`.
from .defaults import SCALP_RULES as RULES  # noqa: E402 - defined in the import-free leaf


@dataclass(frozen=True)
class HeadMeasurements:
    """Tape measurements of a head (cm), checked for plausibility by :func:`check_measurements`."""

    nasion_inion_cm: float
    tragus_tragus_cm: float
    circumference_cm: float


def check_measurements(
    nasion_inion_cm: float, tragus_tragus_cm: float, circumference_cm: float
) -> HeadMeasurements:
    """Validate three tape measurements (cm) and return them.

    Raises
    ------
    InputError
        A value is not a finite positive number, lies outside adult human ranges (:data:`RANGES_CM`,
        with a hint when it looks like millimetres or inches), or the three are inconsistent with
        each other.
    """
    values = {
        "nasion_inion": nasion_inion_cm,
        "tragus_tragus": tragus_tragus_cm,
        "circumference": circumference_cm,
    }
    for name, v in values.items():
        flag = "--" + name.replace("_", "-")
        try:
            v = float(v)
        except (TypeError, ValueError):
            raise InputError(
                f"{flag} {v!r} is not a number — pass centimetres, e.g. 36.5"
            ) from None
        if not math.isfinite(v) or v <= 0:
            raise InputError(
                f"{flag} {v:g} cm must be a positive length — measure it again in centimetres"
            )
        lo, hi = RANGES_CM[name]
        if not lo <= v <= hi:
            hint = (
                " (looks like millimetres)"
                if v > 10 * lo
                else " (looks like inches)"
                if v < 0.6 * lo
                else ""
            )
            raise InputError(
                f"{flag} {v:g} cm is outside the adult range "
                f"{lo:g}–{hi:g} cm{hint} — check the tape and "
                "pass centimetres"
            )
        values[name] = v
    ni, tt, hc = values["nasion_inion"], values["tragus_tragus"], values["circumference"]
    lo, hi = ARC_TO_CIRCUMFERENCE
    for name, arc in (("nasion-inion", ni), ("tragus-tragus", tt)):
        if not lo <= arc / hc <= hi:
            raise InputError(
                f"{name} {arc:g} cm is {arc / hc:.2f} × the "
                f"circumference {hc:g} cm, expected {lo:g}–{hi:g} "
                "— "
                "the measurements are inconsistent; measure "
                "the arcs over the vertex and the circumference "
                "again"
            )
    if not TT_TO_NI[0] <= tt / ni <= TT_TO_NI[1]:
        raise InputError(
            f"tragus-tragus {tt:g} cm and nasion-inion {ni:g} "
            f"cm differ too much (ratio {tt / ni:.2f}, expected "
            f"{TT_TO_NI[0]:g}–{TT_TO_NI[1]:g}) — check that "
            "the two arcs were not swapped or mismeasured"
        )
    return HeadMeasurements(ni, tt, hc)


@dataclass(frozen=True)
class BeamF3:
    """The two tape distances of the Beam F3 method.

    Attributes
    ----------
    x_cm : float
        Along the head circumference from the front midline (Fpz) to the left.
    y_cm : float
        From the vertex (Cz) along the scalp towards the X mark; F3 is at this distance.
    y_adjusted_cm : float
        ``y_cm`` + 0.35 cm (Mir-Moghtadaei et al. 2015).
    angle_from_midline_deg : float
        Direction of F3 seen from the vertex, from the anterior midline (flattened map).
    measurements : HeadMeasurements
    """

    x_cm: float
    y_cm: float
    y_adjusted_cm: float
    angle_from_midline_deg: float
    measurements: HeadMeasurements

    def to_json(self) -> dict:
        """JSON-ready dict with units in the names (values rounded to 0.01 cm)."""
        m = self.measurements
        return {
            "method": "beam-f3",
            "formula": "Beam et al. 2009 web calculator (clinicalresearcher.org/F3)",
            "nasion_inion_cm": m.nasion_inion_cm,
            "tragus_tragus_cm": m.tragus_tragus_cm,
            "circumference_cm": m.circumference_cm,
            "x_cm": round(self.x_cm, 2),
            "x_description": "along the head circumference from the front "
            "midline (Fpz) to the left",
            "y_cm": round(self.y_cm, 2),
            "y_description": "from the vertex (Cz) along the scalp towards the X mark",
            "y_adjusted_cm": round(self.y_adjusted_cm, 2),
            "y_adjusted_description": "Y + 0.35 cm (Mir-Moghtadaei et al. 2015)",
            "angle_from_midline_deg": round(self.angle_from_midline_deg, 2),
        }


def _intersect(p1: np.ndarray, d1: np.ndarray, p2: np.ndarray, d2: np.ndarray) -> np.ndarray:
    """Intersection of the 2-D lines p1 + s·d1 and p2 + t·d2."""
    s, _ = np.linalg.solve(np.column_stack([d1, -d2]), p2 - p1)
    return p1 + s * d1


def beam_f3(nasion_inion_cm: float, tragus_tragus_cm: float, circumference_cm: float) -> BeamF3:
    """Compute Beam F3 tape distances from three head measurements.

    The formula is the web calculator's; see the module docstring.

    Parameters
    ----------
    nasion_inion_cm, tragus_tragus_cm, circumference_cm : float
        Nasion–inion and tragus–tragus arcs over the vertex, and the head circumference (cm).

    Returns
    -------
    BeamF3

    Raises
    ------
    InputError
        Impossible or inconsistent measurements (see :func:`check_measurements`).
    """
    m = check_measurements(nasion_inion_cm, tragus_tragus_cm, circumference_cm)
    r_ap, r_lat = 0.4 * m.nasion_inion_cm, 0.4 * m.tragus_tragus_cm
    # flattened map centred on Cz: first axis to the left (T3), second anterior (Fpz)
    fz, c3 = np.array([0.0, r_ap / 2]), np.array([r_lat / 2, 0.0])
    f7_like = np.array([r_lat, r_lat * math.sin(math.radians(36.0))])
    a = math.radians(28.0)
    fp1_like = r_ap * np.array([math.sin(a), math.cos(a)])
    f3 = _intersect(fz, f7_like - fz, c3, fp1_like - c3)
    r = float(np.hypot(*f3))
    angle = math.degrees(math.atan2(f3[0], f3[1]))  # from the anterior midline towards the left
    y = 0.91 * r
    x = m.circumference_cm * angle / 360.0
    return BeamF3(x, y, y + ADJUST_Y_CM, angle, m)


@dataclass(frozen=True, eq=False)
class ScalpTarget:
    """A scalp-rule target on the template head.

    Attributes
    ----------
    rule : str
        ``beam-f3``, ``f3`` or ``5cm``.
    scalp_mni : ndarray, shape (3,)
        Coil centre on the scalp (MNI mm).
    scalp_normal : ndarray, shape (3,)
        Outward scalp normal there.
    cortex_mni : ndarray, shape (3,)
        Cortical target below it (MNI mm), along the inward normal.
    depth_mm : float
        Scalp-to-cortex distance.
    details : dict
        Rule-specific values (tape distances, hotspot, path length …), JSON-ready.
    path : ndarray, shape (K, 3) or None
        The scalp path walked from the rule's origin (5-cm rule, Beam Y), if any.
    """

    rule: str
    scalp_mni: np.ndarray
    scalp_normal: np.ndarray
    cortex_mni: np.ndarray
    depth_mm: float
    details: dict = field(default_factory=dict)
    path: np.ndarray | None = None

    def to_json(self, space: str) -> dict:
        """JSON-ready dict; coordinates rounded to 0.1 mm."""
        return {
            "rule": self.rule,
            "space": space,
            "scalp_mni": [round(float(v), 1) for v in self.scalp_mni],
            "scalp_normal": [round(float(v), 3) for v in self.scalp_normal],
            "cortex_mni": [round(float(v), 1) for v in self.cortex_mni],
            "depth_mm": round(self.depth_mm, 1),
            **self.details,
        }


def _target(
    head: HeadModel, rule: str, point: np.ndarray, details: dict, path: np.ndarray | None = None
) -> ScalpTarget:
    scalp, normal = nearest_scalp_point(head, point)
    cortex, depth = scalp_to_cortex(head, scalp, normal)
    return ScalpTarget(rule, scalp, normal, cortex, depth, details, path)


@dataclass(frozen=True, eq=False)
class TemplateFrame:
    """The template head measured like a technician would (mm)."""

    vertex: np.ndarray
    fpz: np.ndarray
    circumference: np.ndarray  # (K, 3) closed curve from Fpz, going left first
    nasion_inion_mm: float
    tragus_tragus_mm: float
    circumference_mm: float


@lru_cache(maxsize=4)
def template_frame(head: HeadModel) -> TemplateFrame:
    """Return the vertex, 10 % points and circumference of the template head (cached).

    The vertex is the midpoint of both arcs.
    """
    f = head.fiducials
    vertex = standard_positions(head)["Cz"]
    for _ in range(3):  # the vertex halves both the nasion-inion and the tragus-tragus arcs
        ni = scalp_arc(head, f["nasion"], f["inion"], vertex)
        ni_len = polyline_length(ni)
        vertex = point_at_length(ni, ni_len[-1] / 2)
        tt = scalp_arc(head, f["lpa"], f["rpa"], vertex)
        tt_len = polyline_length(tt)
        vertex = point_at_length(tt, tt_len[-1] / 2)
    fpz = point_at_length(ni, 0.1 * ni_len[-1])
    oz = point_at_length(ni, 0.9 * ni_len[-1])
    t7 = point_at_length(tt, 0.1 * tt_len[-1])
    t8 = point_at_length(tt, 0.9 * tt_len[-1])
    ring = np.array([fpz, t7, oz, t8])
    centre = ring.mean(0)
    normal = np.linalg.svd(ring - centre)[2][2]
    in_plane = ring - np.outer((ring - centre) @ normal, normal)
    curve = scalp_curve(head, centre, in_plane[0], in_plane[1], stop_angle=2 * np.pi, n=2881)
    return TemplateFrame(
        vertex,
        curve[0],
        curve,
        float(ni_len[-1]),
        float(tt_len[-1]),
        float(polyline_length(curve)[-1]),
    )


def place_beam_f3(head: HeadModel, beam: BeamF3, adjusted: bool = False) -> ScalpTarget:
    """Beam F3 for a participant's measurements, replayed on the template head scaled to them."""
    frame = template_frame(head)
    m = beam.measurements
    x_mm = beam.x_cm / m.circumference_cm * frame.circumference_mm
    scale = (frame.nasion_inion_mm + frame.tragus_tragus_mm) / (
        10.0 * (m.nasion_inion_cm + m.tragus_tragus_cm)
    )
    y_mm = 10.0 * (beam.y_adjusted_cm if adjusted else beam.y_cm) * scale
    x_mark = point_at_length(frame.circumference, x_mm)
    point, path = walk_on_scalp(head, frame.vertex, x_mark - frame.vertex, y_mm)
    details = {
        **beam.to_json(),
        "y_used": "y_adjusted_cm" if adjusted else "y_cm",
        "template_x_mm": round(x_mm, 1),
        "template_y_mm": round(y_mm, 1),
    }
    details.pop("method")
    return _target(head, "beam-f3", point, details, path)


def place_f3(head: HeadModel) -> ScalpTarget:
    """10-20 F3 on the template head (see :func:`tmstarget.headmodel.standard_positions`)."""
    return _target(head, "f3", standard_positions(head)["F3"], {"position": "F3"})


def parse_point(text: str, what: str = "--coords") -> np.ndarray:
    """Parse ``"x,y,z"`` (MNI mm) into an array, or raise :class:`InputError`.

    Parsing is done by :func:`tmstarget._utils.points.parse_point`.
    """
    from ._utils.points import parse_point as _parse

    return np.array(_parse(text, what))


#: How far a hotspot given in mm may lie outside the scalp (coil casing, hair, cap) or inside it
#: (the cortical hand knob lies 15–25 mm below the scalp), in mm.
HOTSPOT_OUTSIDE_MM, HOTSPOT_INSIDE_MM = 20.0, 35.0


def _snap_hotspot(head: HeadModel, point: np.ndarray) -> np.ndarray:
    """Return the scalp point under a hotspot given in mm.

    Points far from the scalp are refused (they are not a hotspot).
    """
    scalp, normal = nearest_scalp_point(head, point)
    offset = float((point - scalp) @ normal)  # > 0 outside the head
    if offset > HOTSPOT_OUTSIDE_MM or offset < -HOTSPOT_INSIDE_MM:
        where = f"{offset:.0f} mm outside" if offset > 0 else f"{-offset:.0f} mm inside"
        raise InputError(
            f"hotspot {np.round(point, 1).tolist()} mm lies {where} the template scalp (allowed: "
            f"{HOTSPOT_OUTSIDE_MM:.0f} mm outside to {HOTSPOT_INSIDE_MM:.0f} "
            "mm inside) — pass the motor hotspot on the "
            "scalp or the cortical hand knob in MNI mm, e.g. "
            '"-37,-21,58", or a 10-10 name such as C3'
        )
    return scalp


def place_five_cm(
    head: HeadModel, hotspot: str | np.ndarray = "C3", distance_cm: float = 5.0
) -> ScalpTarget:
    """Apply the 5-cm rule: ``distance_cm`` anterior to the motor hotspot along the scalp.

    Parameters
    ----------
    hotspot : str or array-like, shape (3,)
        A 10-10 position name (default ``C3``) or MNI mm (snapped to the nearest scalp point).
    distance_cm : float
        5 cm for the classic rule; 5.5 or 6 cm variants are in use.
    """
    if not math.isfinite(distance_cm) or not 1.0 <= distance_cm <= 12.0:
        raise InputError(
            f"--distance-cm {distance_cm:g} is outside 1–12 cm — the rule uses 5, 5.5 or 6 cm"
        )
    positions = standard_positions(head)
    if isinstance(hotspot, str):
        if hotspot not in positions:
            raise InputError(
                f'hotspot {hotspot!r} is not a 10-10 position name — use e.g. C3, or MNI mm "x,y,z"'
            )
        origin, label = positions[hotspot], hotspot
    else:
        origin = _snap_hotspot(head, np.asarray(hotspot, float))
        label = [round(float(v), 1) for v in np.asarray(hotspot, float)]
    f = head.fiducials
    _, normal = nearest_scalp_point(head, origin)
    anterior = f["nasion"] - f["inion"]
    heading = (
        anterior - np.dot(anterior, normal) * normal
    )  # the tape starts towards the nose, along the scalp
    point, path = walk_on_scalp(
        head, origin, heading, 10.0 * distance_cm, plane_normal=np.cross(normal, heading)
    )
    details = {
        "hotspot": label,
        "hotspot_scalp_mni": [round(float(v), 1) for v in origin],
        "distance_cm": distance_cm,
        "path_length_mm": round(float(polyline_length(path)[-1]), 1),
    }
    return _target(head, "5cm", point, details, path)


def scalp_rule_target(
    head: HeadModel,
    rule: str,
    measurements: HeadMeasurements | None = None,
    hotspot: str | np.ndarray = "C3",
    distance_cm: float = 5.0,
    adjusted: bool = False,
) -> ScalpTarget:
    """Place one of :data:`RULES` on the template head.

    Raises
    ------
    InputError
        Unknown rule, or Beam F3 without measurements.
    """
    if rule == "beam-f3":
        if measurements is None:
            raise InputError(
                "--rule beam-f3 needs --nasion-inion, --tragus-tragus and --circumference (cm)"
            )
        m = measurements
        return place_beam_f3(
            head, beam_f3(m.nasion_inion_cm, m.tragus_tragus_cm, m.circumference_cm), adjusted
        )
    if rule == "f3":
        return place_f3(head)
    if rule == "5cm":
        return place_five_cm(head, hotspot, distance_cm)
    raise InputError(f"unknown scalp rule {rule!r} — use one of {', '.join(RULES)}")
