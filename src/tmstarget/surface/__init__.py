"""Surface inputs: fMRIPrep's fsaverage GIFTI and fsLR CIFTI time series, targeted on the mesh.

``mesh``       template meshes in MNI152 coordinates (fsaverage5, offline), mesh distances and smoothing
``geometry``   grayordinates: the data's columns with coordinates, hemispheres and neighbourhoods
``maps``       circuit maps sampled to the surface (nilearn ``vol_to_surf``), sgACC seed, DLPFC search region
``io``         finding and reading surface runs; GIFTI/CIFTI score maps and the target JSON, atomically
``workflow``   :func:`compute_surface_target`, the surface counterpart of ``workflow.compute_target``

See ``docs/surface.md`` for the choices made (seed, search region, coordinates) and the limits.
"""

from .io import SurfaceRun, explicit_surface_runs, find_surface_runs, load_surface_run
from .workflow import SURFACE_METHODS, SurfaceTarget, compute_surface_target, surface_scores

__all__ = [
    "SURFACE_METHODS",
    "SurfaceRun",
    "SurfaceTarget",
    "compute_surface_target",
    "explicit_surface_runs",
    "find_surface_runs",
    "load_surface_run",
    "surface_scores",
]
