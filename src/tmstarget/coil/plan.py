"""One participant's coil plan.

The plan holds the default placement, its E-field summary and (optionally) the optimised placement.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .._utils.ids import same_participant
from ..exceptions import InputError
from .geometry import DEFAULT_HANDLE_ANGLE_DEG, Placement, local_sphere, place_on_head
from .models import CoilGeometry, coil_dipoles
from .optimize import OptimizationResult, optimize_placement
from .summary import FieldSummary, summarize_field


@dataclass(frozen=True)
class CoilPlan:
    """Result of :func:`plan_coil`.

    Attributes
    ----------
    coil : CoilGeometry
        The coil modelled.
    placement : Placement
        The recommended placement (optimised when requested, else the default).
    field : FieldSummary
        Induced field of ``placement``.
    optimization : OptimizationResult or None
        Search details, with the default placement and its score.
    """

    coil: CoilGeometry
    placement: Placement
    field: FieldSummary
    optimization: OptimizationResult | None = None

    def to_json(self) -> dict:
        """JSON-ready dict (see ``tmstarget coil --help``)."""
        out = {
            "coil": self.coil.to_json(),
            "placement": self.placement.to_json(),
            "efield": self.field.to_json(),
            "optimization": None,
        }
        if self.optimization is not None:
            out["optimization"] = self.optimization.to_json()
            out["default_placement"] = self.optimization.default.to_json()
        return out


def plan_coil(
    head,
    target_mm,
    coil: CoilGeometry,
    handle_angle: float = DEFAULT_HANDLE_ANGLE_DEG,
    scalp_offset_mm: float = 0.0,
    didt_a_per_us: float = 1.0,
    circuit_points_mm: np.ndarray | None = None,
    circuit_values: np.ndarray | None = None,
    search_radius_mm: float = 25.0,
    placement: Placement | None = None,
) -> CoilPlan:
    """Place the coil over a target, summarise its field, and optimise the placement.

    The placement is optimised only when circuit voxels are given.

    Parameters
    ----------
    head : HeadModel
        Scalp surface in the target's space.
    target_mm : array_like, shape (3,)
        Cortical target (mm).
    coil : CoilGeometry
        Coil model.
    handle_angle : float
        Default handle angle from the posterior midline direction towards lateral (degrees).
    scalp_offset_mm : float
        Gap between scalp and coil (hair, cap).
    didt_a_per_us : float
        Rate of change of the coil current for the reported fields (A/µs).
    circuit_points_mm, circuit_values : ndarray, optional
        Brain voxel centres (V, 3) and their circuit values (V,); when given, the placement is
        optimised (:func:`tmstarget.coil.optimize.optimize_placement`).
    search_radius_mm : float
        Largest shift of the scalp entry point during optimisation.
    placement : Placement, optional
        A placement already decided (``tmstarget target --method efield``): used as it is, neither
        re-placed nor optimised (circuit voxels are then refused).
    """
    if placement is not None:
        if circuit_points_mm is not None:
            raise InputError(
                "the target's method already chose the coil "
                "placement — drop the optimisation (--optimize) "
                "or target with another --method"
            )
        field = summarize_field(
            placement, coil_dipoles(coil), local_sphere(head, placement.scalp_mm), didt_a_per_us
        )
        return CoilPlan(coil, placement, field, None)
    default = place_on_head(head, target_mm, handle_angle, scalp_offset_mm)
    result = None
    placement = default
    if circuit_points_mm is not None:
        sphere = local_sphere(head, default.scalp_mm)
        result = optimize_placement(
            head,
            default,
            coil_dipoles(coil, 1, 12),
            sphere,
            circuit_points_mm,
            circuit_values,
            search_radius_mm=search_radius_mm,
        )
        placement = result.placement
    field = summarize_field(
        placement, coil_dipoles(coil), local_sphere(head, placement.scalp_mm), didt_a_per_us
    )
    return CoilPlan(coil, placement, field, result)


#: Placement fields that are points or directions (3 numbers), and numbers, as ``coil --json``
#: writes them; the report draws and prints them.
_PLACEMENT_VECTORS = (
    "target_mm",
    "scalp_entry_mm",
    "coil_centre_mm",
    "scalp_normal",
    "coil_normal_into_head",
    "handle_direction",
)
_PLACEMENT_NUMBERS = (
    "handle_angle_from_midline_deg",
    "scalp_offset_mm",
    "scalp_cortex_distance_mm",
    "coil_cortex_distance_mm",
)


def _finite_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and bool(np.isfinite(x))


def _bad_placement_field(placement: Mapping) -> str | None:
    """Return the first placement field present that is not 3 finite numbers / a finite number."""
    for key in _PLACEMENT_VECTORS:
        v = placement.get(key, [0, 0, 0])
        if not (isinstance(v, list) and len(v) == 3 and all(_finite_number(x) for x in v)):
            return key
    for key in _PLACEMENT_NUMBERS:
        v = placement.get(key)
        if v is not None and not _finite_number(v):
            return key
    return None


def check_plan_for_target(plan: Mapping, target: Mapping, what: str = "coil plan") -> None:
    """Refuse a coil plan that does not belong to a target.

    The plan is the object ``tmstarget coil --json`` prints.

    Parameters
    ----------
    plan : mapping
        The coil plan (``target_mni`` or ``placement.target_mm``, ``placement``, optionally
        ``participant``, ``session``, ``space``, ``circuit``).
    target : mapping
        The target JSON it is combined with.
    what : str
        How messages name the plan (e.g. ``"--coil-json"``).

    Raises
    ------
    InputError
        When the plan is not a coil plan, or its participant, space, circuit or target point differ
        from the target's (more than 1 mm; a plan for the other hemisphere is named as such).
    """
    placement = plan.get("placement")
    try:
        planned = np.asarray(
            plan["target_mni"] if "target_mni" in plan else placement["target_mm"], dtype=float
        )
        ok = (
            planned.shape == (3,)
            and np.isfinite(planned).all()
            and isinstance(placement, Mapping)
            and "handle_direction" in placement
        )
    except (KeyError, TypeError, ValueError):
        ok = False
    if not ok:
        raise InputError(
            f"{what} is not a coil plan (no target_mni and "
            "placement) — pass the JSON printed by 'tmstarget "
            "coil --json'"
        )
    for block in ("efield", "optimization", "native", "exports", "coil"):
        if plan.get(block) is not None and not isinstance(plan[block], Mapping):
            raise InputError(
                f"{what} field {block!r} is not a JSON object — pass the JSON printed by "
                "'tmstarget coil --json', unedited"
            )
    bad = _bad_placement_field(placement)
    if bad:
        raise InputError(
            f"{what} placement.{bad} is not what 'tmstarget coil --json' writes "
            "(3 finite numbers for a point or direction, a finite number for a distance or "
            "angle) — pass the JSON printed by 'tmstarget coil --json', unedited"
        )
    for key in ("participant", "session", "space", "circuit"):
        a, b = plan.get(key), target.get(key)
        if (
            a in (None, "")
            or b in (None, "")
            or (same_participant(a, b) if key == "participant" else str(a) == str(b))
        ):
            continue
        a, b = (
            str(v).strip().removeprefix("sub-") if key == "participant" else str(v) for v in (a, b)
        )
        raise InputError(
            f"{what} was made for {key} {a!r}, the target is for {key} {b!r} — run "
            "'tmstarget coil --target-json' on this target"
        )
    wanted = np.asarray(target["target_mni"], dtype=float)
    distance = float(np.linalg.norm(planned - wanted))
    if distance > 1.0:
        side = (
            ""
            if np.sign(planned[0]) == np.sign(wanted[0])
            else (
                f" (a {'right' if planned[0] > 0 else 'left'}-hemisphere "
                f"point for a {'right' if wanted[0] > 0 else 'left'}-hemisphere "
                "target)"
            )
        )
        raise InputError(
            f"{what} is for target {np.round(planned, 1).tolist()}, "
            f"{distance:.1f} mm from this target "
            f"{np.round(wanted, 1).tolist()}{side} — run 'tmstarget "
            "coil --target-json' on this target"
        )
