"""The registry of targeting methods (name → one-line description), without heavy imports: ``--method`` choices and help.

How each works: :mod:`tmstarget.targeting.selection`.
"""

from ..exceptions import InputError

METHODS = {
    "robust": "seed score averaged over a 6 mm neighbourhood, refined centre (default)",
    "similarity": "circuit similarity, single best voxel (the trial's map method)",
    "seedmap": "seed-map peak: most anticorrelated with sgACC (Fox 2012) / weighted seed (Fox 2013)",
    "cluster": "centroid of the largest cluster of the seed map's top 10% (contarg 'cluster')",
    "hierarchical": "SNT/SAINT-style hierarchical clustering of DLPFC time courses",
    "shrinkage": "robust score pulled towards the group target by its split-half noise (empirical Bayes)",
}

#: Methods that need a voxel grid (``cluster`` labels connected voxels), refused on surface inputs.
VOLUME_ONLY_METHODS = ("cluster",)
#: Methods that work on surface inputs (fsaverage, CIFTI): every method but those needing a voxel grid.
SURFACE_METHODS = tuple(m for m in METHODS if m not in VOLUME_ONLY_METHODS)


def check_method(method: str, surface: bool) -> None:
    """Refuse an unknown method, or one that needs a voxel grid on a surface input (one line, :class:`InputError`)."""
    if method not in METHODS:
        raise InputError(f"unknown method '{method}' — choose one of {', '.join(METHODS)}")
    if surface and method not in SURFACE_METHODS:
        raise InputError(f"method '{method}' needs a voxel grid and is not available on surfaces — choose one of {', '.join(SURFACE_METHODS)}")
