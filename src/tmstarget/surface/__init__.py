"""Surface inputs: fMRIPrep's fsaverage GIFTI and fsLR CIFTI time series, targeted on the mesh.

``mesh``      template meshes in MNI152 coordinates (fsaverage5, offline), mesh distances and
              smoothing
``geometry``  grayordinates: the data's columns with coordinates, hemispheres and neighbourhoods
``io``        finding and reading surface runs

Circuit maps, the sgACC seed and the DLPFC search region on grayordinates are in
:mod:`tmstarget.targeting.surface_maps` (targeting imports surface, never the reverse).

Targeting itself runs the same path as for volumes (:func:`tmstarget.targeting.compute_target`, with
a :class:`~tmstarget.targeting.SurfaceGeometry`); the outputs are written by
:mod:`tmstarget.io.derivatives`.

See ``docs/surface.md`` for the choices made (seed, search region, coordinates) and the limits.
"""

from .._utils.lazy import lazy_exports

#: Public names and the submodule each comes from (imported on first use: 'tmstarget --help' stays
#: fast).
_EXPORTS = {
    **dict.fromkeys(
        ["SurfaceRun", "explicit_surface_runs", "find_surface_runs", "load_surface_run"], ".io"
    ),
}
__getattr__ = lazy_exports(__name__, globals(), _EXPORTS)

__all__ = [
    "SurfaceRun",
    "explicit_surface_runs",
    "find_surface_runs",
    "load_surface_run",
]
