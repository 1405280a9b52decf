"""The registry of targeting methods (name → one-line description), without imports: ``--method`` choices and help.

How each works: :mod:`tmstarget.targeting.selection`.
"""

METHODS = {
    "robust": "seed score averaged over a 6 mm neighbourhood, refined centre (default)",
    "similarity": "circuit similarity, single best voxel (the trial's map method)",
    "seedmap": "seed-map peak: most anticorrelated with sgACC (Fox 2012) / weighted seed (Fox 2013)",
    "cluster": "centroid of the largest cluster of the seed map's top 10% (contarg 'cluster')",
    "hierarchical": "SNT/SAINT-style hierarchical clustering of DLPFC time courses",
    "shrinkage": "robust score pulled towards the group target by its split-half noise (empirical Bayes)",
}
