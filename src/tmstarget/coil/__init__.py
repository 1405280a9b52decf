"""Coil placement, induced E-field and placement optimisation for figure-8 TMS coils.

``models``    coil geometries (commercial presets) as magnetic dipoles or wire segments; the coil frame
``efield``    free-space field and the analytic spherical-conductor solution (Heller & van Hulsteyn 1992)
``geometry``  scalp entry, coil centre, normal, handle orientation, local head sphere
``summary``   field at the target, cortical maximum, focality (S½, V½, d½)
``optimize``  position and rotation maximising the E-field-weighted circuit score
``plan``      all of the above for one target

Names are imported lazily (``import tmstarget.coil`` stays fast for the command line).
Research use; not a medical device.
"""

from importlib import import_module

_WHERE = {
    "primary_efield": "efield",
    "sphere_efield": "efield",
    "DEFAULT_HANDLE_ANGLE_DEG": "geometry",
    "Placement": "geometry",
    "Sphere": "geometry",
    "fit_sphere": "geometry",
    "local_sphere": "geometry",
    "place_coil": "geometry",
    "place_on_head": "geometry",
    "DEFAULT_COIL": "models",
    "PRESETS": "models",
    "CoilGeometry": "models",
    "Dipoles": "models",
    "coil_dipoles": "models",
    "coil_wire_segments": "models",
    "spiral_dipoles": "models",
    "get_coil": "models",
    "OptimizationResult": "optimize",
    "optimize_placement": "optimize",
    "weighted_circuit_score": "optimize",
    "CoilPlan": "plan",
    "check_plan_for_target": "plan",
    "plan_coil": "plan",
    "FieldSummary": "summary",
    "summarize_field": "summary",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
