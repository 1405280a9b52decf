"""Default settings of a targeting run, in one leaf module (no imports).

The library's option objects and the command line (``tmstarget target``, ``reliability``,
``circuit build``) read them from here, so ``--help`` shows the values the library uses without
importing numpy.
"""

#: Built-in circuit.
CIRCUIT = "sgacc"
#: Censoring: framewise displacement above this (mm).
FD_THRESHOLD_MM = 0.5
#: Band-pass edges (Hz).
HIGH_PASS_HZ = 0.01
LOW_PASS_HZ = 0.1
#: Spatial smoothing FWHM (mm).
FWHM_MM = 6.0
#: Fewest volumes left after censoring.
MIN_VOLUMES = 100
#: Neighbourhood radius (mm) over which the score is averaged (``robust``).
NEIGHBOURHOOD_MM = 6.0
#: Default number of bootstrap resamples. The radius is the ⌈0.95 B⌉-th smallest resample distance,
#: whose own coverage has SD √(0.95 · 0.05 / B): 1.5 percentage points for B = 200.
N_BOOTSTRAP = 200
#: Default resamples of ``tmstarget target`` for the methods whose resamples are expensive
#: (``similarity``: the circuit moments; ``hierarchical``: re-clustering the search region), to keep
#: the default confidence radius affordable: coverage SD 3.1 percentage points (see
#: :data:`N_BOOTSTRAP`).
N_BOOTSTRAP_SLOW = 50
#: Multi-echo runs (fMRIPrep's echo-wise series beside the optimally combined one): the series that
#: is targeted. ``tedana``: tedana's ME-ICA denoised series; ``optcom``: the echoes combined by T2*
#: weights (tedana's log-linear fit); ``none``: fMRIPrep's optimally combined series as given.
#: Irrelevant for single-echo runs.
ME_DENOISE = "tedana"
ME_DENOISE_CHOICES = ("tedana", "optcom", "none")
#: FastICA seed of tedana's ME-ICA (tedana's own default), so that the same input gives the same
#: classification and the same target.
TEDANA_SEED = 42
