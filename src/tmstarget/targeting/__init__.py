"""Targeting: from a participant's runs to a stimulation target with its uncertainty.

There is one path for every input kind.

Read top-down, in the order the data flow:

1. ``circuits``, ``regions`` — what to match (the sgACC seed or a group map) and where to look (left
   DLPFC);
2. ``cleaning`` — each run's confound regression, censoring and band-pass as one compressed
   operator;
3. ``prepare`` — one pass over the data of any input kind (:class:`VolumeSource`,
   :class:`SurfaceSource`) giving the compressed cleaned data of each run; ``geometry`` is the
   interface to where the columns are;
4. ``components`` — smoothed, normalised components (``w[:, i] @ w[:, j]`` = correlation);
5. ``scores`` (with the maths in ``connectivity``) — seed and similarity scores of the search
   region;
6. ``methods`` — the registry of targeting methods (:data:`METHODS`: what each is, declared once);
   ``selection`` — their selectors and :func:`score_and_select`, the one path from components to a
   method's target;
7. ``uncertainty`` — split halves, bootstrap confidence region, scan length, cohort stability;
8. ``workflow`` — :func:`compute_target`, the whole run; ``result`` — :class:`TargetingOptions`,
   :class:`TargetResult`; ``options`` — :func:`targeting_options`, the options checked before any
   data are read.

Nothing here writes files; :mod:`tmstarget.io.derivatives` writes and reads the outputs. The names
below are imported on first use (``import tmstarget.targeting`` is cheap).
"""

from .._utils.lazy import lazy_exports

_EXPORTS = {
    **dict.fromkeys(["Circuit", "load_circuit_map", "resolve_circuit"], ".circuits"),
    **dict.fromkeys(["Components", "finalize_components"], ".components"),
    **dict.fromkeys(["SurfaceGeometry", "VolumeGeometry"], ".geometry"),
    **dict.fromkeys(["METHODS", "Method", "get_method"], ".methods"),
    # the function ``prepare`` is imported from ``.prepare`` itself: the package attribute is the
    # submodule
    **dict.fromkeys(["Prepared", "SurfaceSource", "VolumeSource", "components_from"], ".prepare"),
    **dict.fromkeys(["RunInfo", "TargetingOptions", "TargetResult"], ".result"),
    **dict.fromkeys(["targeting_options"], ".options"),
    **dict.fromkeys(["Scores", "circuit_columns", "compute_scores"], ".scores"),
    **dict.fromkeys(
        [
            "NEIGHBOURHOOD_MM",
            "Choice",
            "Selection",
            "choose_target",
            "method_scores",
            "score_and_select",
            "select_target",
        ],
        ".selection",
    ),
    **dict.fromkeys(["compute_target"], ".workflow"),
}
__getattr__ = lazy_exports(__name__, globals(), _EXPORTS)

__all__ = [
    "Choice",
    "Circuit",
    "Components",
    "METHODS",
    "Method",
    "NEIGHBOURHOOD_MM",
    "Prepared",
    "RunInfo",
    "Scores",
    "Selection",
    "SurfaceGeometry",
    "SurfaceSource",
    "TargetResult",
    "TargetingOptions",
    "VolumeGeometry",
    "VolumeSource",
    "choose_target",
    "circuit_columns",
    "components_from",
    "compute_scores",
    "compute_target",
    "finalize_components",
    "get_method",
    "load_circuit_map",
    "method_scores",
    "resolve_circuit",
    "score_and_select",
    "select_target",
    "targeting_options",
]
