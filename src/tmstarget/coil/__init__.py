"""Coil placement, induced E-field and placement optimisation for figure-8 TMS coils.

``models``    coil geometries (commercial presets) as magnetic dipoles or wire segments; the coil
              frame
``efield``    free-space field and the analytic spherical-conductor solution (Heller & van Hulsteyn
              1992)
``geometry``  scalp entry, coil centre, normal, handle orientation, local head sphere
``summary``   field at the target, cortical maximum, focality (S½, V½, d½)
``optimize``  position and rotation maximising the E-field-weighted circuit score
``plan``      all of the above for one target

The whole ``tmstarget coil`` workflow (target file, T1w mapping, neuronavigation files) is
:func:`tmstarget.export.plan_coil_files`: it needs the exporters, which import this package.

Names are imported lazily (``import tmstarget.coil`` stays fast for the command line).
Research use; not a medical device.
"""

from .._utils.lazy import lazy_exports

#: Public names and the submodule each comes from (imported on first use: 'tmstarget --help' stays
#: fast).
_EXPORTS = {
    **dict.fromkeys(["primary_efield", "sphere_efield"], ".efield"),
    **dict.fromkeys(
        [
            "DEFAULT_HANDLE_ANGLE_DEG",
            "Placement",
            "Sphere",
            "fit_sphere",
            "local_sphere",
            "place_coil",
            "place_on_head",
        ],
        ".geometry",
    ),
    **dict.fromkeys(
        [
            "CoilGeometry",
            "DEFAULT_COIL",
            "Dipoles",
            "PRESETS",
            "coil_dipoles",
            "coil_wire_segments",
            "get_coil",
            "spiral_dipoles",
        ],
        ".models",
    ),
    **dict.fromkeys(
        ["OptimizationResult", "optimize_placement", "weighted_circuit_score"], ".optimize"
    ),
    **dict.fromkeys(["CoilPlan", "check_plan_for_target", "plan_coil"], ".plan"),
    **dict.fromkeys(["FieldSummary", "summarize_field"], ".summary"),
}
__getattr__ = lazy_exports(__name__, globals(), _EXPORTS)
__all__ = sorted(_EXPORTS)
