"""Figure-8 coil geometries and their magnetic-dipole and wire models.

Coil frame (used everywhere in :mod:`tmstarget.coil` and :mod:`tmstarget.export`), millimetres:

- origin: the centre of the coil's bottom surface (the point that touches the head);
- ``+z``: the coil normal pointing **into the head**;
- ``+y``: along the handle (from the centre towards the handle);
- ``+x = y × z``: the axis through the two wing centres (right-handed).

The two wings are flat spirals centred at ``(∓s/2, 0, -h)`` (``s`` = wing centre distance, ``h`` =
depth of the winding plane above the casing surface). For a positive ``dI/dt`` the wing at ``-x``
carries a magnetic moment along ``+z`` and the wing at ``+x`` along ``-z``; the induced field under
the centre then points along ``-y`` (away from the handle). Which way a given stimulator drives its
coil (and what a biphasic pulse does) is manufacturer-specific; field magnitudes do not depend on
it.

Dipole model: a planar turn of radius ``r`` carrying current ``I`` equals a uniform sheet of
magnetic dipoles over its disc (moment ``I dA`` each). A wing of ``N`` turns is therefore a dipole
sheet whose density at radius ``ρ`` is ``I × (number of turns with radius > ρ)``; it is integrated
with Gauss–Legendre nodes in ``ρ`` between consecutive turns and equally spaced angles (exact for
the periodic angular part). This is the approach of Thielscher & Kammer (2004) with a quadrature
instead of a fixed grid.

Presets (approximate: winding diameters and turn counts from public descriptions; the depth of the
winding plane under the casing surface is an estimate). Field *shape* depends mostly on the
diameters; absolute V/m per A/µs carry roughly ±20 % uncertainty — use validated coil files (Drakaki
et al. 2022) for dosing.

References
----------
Thielscher A, Kammer T (2004). Electric field properties of two commercial figure-8 coils in TMS:
calculation of focality and efficiency. Clin Neurophysiol 115:1697–1708 (X-ray winding geometry of
the Magstim 70 mm double coil and the MC-B70).
Drakaki M, Mathiesen C, Siebner HR, Madsen KH, Thielscher A (2022). Database of 25 validated coil
models for electric field simulations for TMS. Brain Stimul 15:697–706.
Deng Z-D, Lisanby SH, Peterchev AV (2013). Electric field depth–focality tradeoff in transcranial
magnetic stimulation: simulation comparison of 50 coil designs. Brain Stimul 6:1–13.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..exceptions import InputError


@dataclass(frozen=True)
class CoilGeometry:
    """A flat figure-8 coil of two identical spiral wings.

    Attributes
    ----------
    key : str
        Preset key (``--coil`` value).
    name : str
        Human-readable name.
    inner_diameter_mm, outer_diameter_mm : float
        Inner and outer diameter of each wing's winding (wire edges).
    turns : int
        Turns per wing.
    wing_distance_mm : float
        Distance between the two wing centres.
    winding_depth_mm : float
        Distance from the casing surface (the coil-frame origin) to the winding plane.
    source : str
        Where the numbers come from.
    """

    key: str
    name: str
    inner_diameter_mm: float
    outer_diameter_mm: float
    turns: int
    wing_distance_mm: float
    winding_depth_mm: float
    source: str

    def __post_init__(self) -> None:
        if not 0 <= self.inner_diameter_mm < self.outer_diameter_mm:
            raise InputError(
                f"coil {self.key}: inner diameter {self.inner_diameter_mm} "
                "mm must be >= 0 and below the outer "
                f"diameter {self.outer_diameter_mm} mm — fix the geometry"
            )
        if (
            self.turns < 1
            or self.winding_depth_mm < 0
            or self.wing_distance_mm < self.outer_diameter_mm
        ):
            raise InputError(
                f"coil {self.key}: needs >= 1 turn, winding "
                "depth >= 0 and wings that do not overlap "
                "(wing distance "
                f"{self.wing_distance_mm} mm < outer diameter "
                f"{self.outer_diameter_mm} mm?) — fix the geometry"
            )

    @property
    def turn_radii_mm(self) -> np.ndarray:
        """Radius of each turn's wire centre (mm), innermost first."""
        r_in, r_out = self.inner_diameter_mm / 2, self.outer_diameter_mm / 2
        pitch = (r_out - r_in) / self.turns
        return r_in + pitch * (np.arange(self.turns) + 0.5)

    def to_json(self) -> dict:
        """Return the geometry as a JSON-ready dict."""
        return {
            "key": self.key,
            "name": self.name,
            "inner_diameter_mm": self.inner_diameter_mm,
            "outer_diameter_mm": self.outer_diameter_mm,
            "turns_per_wing": self.turns,
            "wing_distance_mm": self.wing_distance_mm,
            "winding_depth_mm": self.winding_depth_mm,
            "source": self.source,
        }


_TK2004 = "Thielscher & Kammer 2004 Clin Neurophysiol 115:1697 (X-ray)"
#: Commercial figure-8 coils (approximate; see the module docstring).
PRESETS: dict[str, CoilGeometry] = {
    g.key: g
    for g in (
        CoilGeometry(
            "magventure-cool-b65",
            "MagVenture Cool-B65",
            35.0,
            75.0,
            10,
            77.0,
            7.0,
            "MagVenture specification (2 x 75 mm outer winding); "
            "inner diameter, 10 turns and winding depth "
            "approximate (cf. Drakaki et al. 2022 Brain Stimul 15:697)",
        ),
        CoilGeometry(
            "magstim-d70",
            "Magstim D70² / 70 mm double coil",
            56.0,
            87.0,
            9,
            89.0,
            6.0,
            f"{_TK2004}: 9 turns, 56-87 mm; D70² assumed to "
            "keep this winding; winding depth approximate",
        ),
        CoilGeometry(
            "magventure-mc-b70",
            "MagVenture (Medtronic) MC-B70",
            27.0,
            97.0,
            10,
            99.0,
            6.0,
            f"{_TK2004}: 10 turns, 27-97 mm; winding depth approximate",
        ),
    )
}
from .defaults import DEFAULT_COIL  # noqa: E402,F401 - the default lives in the import-free leaf


def get_coil(key: str) -> CoilGeometry:
    """Return a preset by key, or raise :class:`InputError` listing the presets."""
    try:
        return PRESETS[key]
    except KeyError:
        raise InputError(
            f"unknown coil '{key}' — use one of {', '.join(sorted(PRESETS))}"
        ) from None


@dataclass(frozen=True)
class Dipoles:
    """Magnetic dipoles in the coil frame.

    Attributes
    ----------
    positions_mm : ndarray, shape (D, 3)
        Dipole positions (coil frame, mm).
    moments : ndarray, shape (D, 3)
        Magnetic moment per ampere of coil current (A·m² per A, i.e. m²), coil frame.
    """

    positions_mm: np.ndarray
    moments: np.ndarray

    def transformed(self, matrix: np.ndarray) -> Dipoles:
        """Return the dipoles moved by a 4×4 coil-to-world matrix (rotation + translation)."""
        rot, shift = matrix[:3, :3], matrix[:3, 3]
        return Dipoles(self.positions_mm @ rot.T + shift, self.moments @ rot.T)


def spiral_dipoles(
    turn_radii_mm, radial_nodes: int = 2, angular_nodes: int = 16, max_width_mm: float = 5.0
) -> Dipoles:
    """Dipole sheet of one flat winding of concentric turns.

    The winding is centred at the origin in the z = 0 plane.

    Parameters
    ----------
    turn_radii_mm : array_like
        Radius of each turn (mm), increasing.
    radial_nodes : int
        Gauss–Legendre nodes per radial interval.
    angular_nodes : int
        Equally spaced angles per ring.
    max_width_mm : float
        Radial intervals wider than this are split.

    Returns
    -------
    Dipoles
        Moments along +z per ampere (m²) for counter-clockwise current seen from +z.
    """
    radii = np.asarray(turn_radii_mm, dtype=float).ravel()
    if radial_nodes < 1 or angular_nodes < 3 or not max_width_mm > 0:
        raise InputError(
            "dipole quadrature needs >= 1 radial node, >= "
            "3 angular nodes and a positive width, got "
            f"{radial_nodes}, {angular_nodes}, {max_width_mm} — raise them"
        )
    if radii.size == 0 or radii[0] <= 0 or np.any(np.diff(radii) <= 0):
        raise InputError(
            "turn radii must be positive and increasing, "
            f"got {radii.tolist()} — fix the coil geometry"
        )
    edges = np.concatenate([[0.0], radii])
    gx, gw = np.polynomial.legendre.leggauss(radial_nodes)
    rho, weight = [], []
    for k in range(len(radii)):
        # between consecutive turns the dipole density (turns enclosing that radius) is constant
        cuts = np.linspace(
            edges[k], edges[k + 1], int(np.ceil((edges[k + 1] - edges[k]) / max_width_mm)) + 1
        )
        for a, b in zip(cuts[:-1], cuts[1:]):
            r = 0.5 * (b - a) * gx + 0.5 * (b + a)
            rho.append(r)
            weight.append(0.5 * (b - a) * gw * r * (len(radii) - k))  # polar area element r dr dφ
    rho, weight = np.concatenate(rho), np.concatenate(weight)
    phi = (np.arange(angular_nodes) + 0.5) * (2 * np.pi / angular_nodes)
    pos = np.column_stack(
        [
            np.outer(rho, np.cos(phi)).ravel(),
            np.outer(rho, np.sin(phi)).ravel(),
            np.zeros(rho.size * angular_nodes),
        ]
    )
    w = np.repeat(weight, angular_nodes) * (2 * np.pi / angular_nodes) * 1e-6
    return Dipoles(pos, np.column_stack([np.zeros_like(w), np.zeros_like(w), w]))


def coil_dipoles(
    geometry: CoilGeometry,
    radial_nodes: int = 2,
    angular_nodes: int = 16,
    max_width_mm: float = 5.0,
) -> Dipoles:
    """Magnetic-dipole model of a figure-8 coil in the coil frame.

    Parameters
    ----------
    geometry : CoilGeometry
        The coil.
    radial_nodes, angular_nodes, max_width_mm
        Quadrature of each wing (see :func:`spiral_dipoles`).

    Returns
    -------
    Dipoles
        Dipoles of both wings; moments per ampere (m²). With the defaults the free-space field 10 mm
        or more below the casing agrees with the wire model (:func:`coil_wire_segments`) to better
        than 1 %; ``(1, 12)`` nodes stay within 1 % from 10 mm on at a third of the cost.
    """
    wing = spiral_dipoles(geometry.turn_radii_mm, radial_nodes, angular_nodes, max_width_mm)
    shift = np.array([geometry.wing_distance_mm / 2, 0.0, -geometry.winding_depth_mm])
    left, right = wing.positions_mm + shift * [-1, 1, 1], wing.positions_mm + shift
    return Dipoles(np.concatenate([left, right]), np.concatenate([wing.moments, -wing.moments]))


def coil_wire_segments(
    geometry: CoilGeometry, points_per_turn: int = 256
) -> tuple[np.ndarray, np.ndarray]:
    """Return the windings as closed polygons of straight wire segments (coil frame, mm).

    Each turn is a circle of radius :attr:`CoilGeometry.turn_radii_mm` discretised into
    ``points_per_turn`` segments, current direction matching :func:`coil_dipoles`. This is the same
    physical coil as the dipole model but integrated along the wire instead of over the enclosed
    area; it serves as an independent numerical reference for the dipole quadrature.

    Returns
    -------
    starts, ends : ndarray, shape (S, 3)
        Segment end points (mm); current flows from ``starts`` to ``ends`` (per ampere).
    """
    theta = np.linspace(0.0, 2 * np.pi, points_per_turn + 1)
    z = -geometry.winding_depth_mm
    half = geometry.wing_distance_mm / 2
    starts, ends = [], []
    for centre, sign in ((-half, 1.0), (half, -1.0)):
        for r in geometry.turn_radii_mm:
            # counter-clockwise seen from +z (sign = +1) gives a +z moment
            ring = np.column_stack(
                [
                    centre + r * np.cos(sign * theta),
                    r * np.sin(sign * theta),
                    np.full(theta.size, z),
                ]
            )
            starts.append(ring[:-1])
            ends.append(ring[1:])
    return np.concatenate(starts), np.concatenate(ends)
