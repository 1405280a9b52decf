"""How sure a target is, measured in several ways.

Split halves, runs, a block-bootstrap confidence region, scan length and cohort stability.

Every analysis re-weights the kept volumes of the runs (:mod:`.weights`) and re-targets the
re-weighted data without another pass over the voxel data (:mod:`.engine`); :mod:`.summaries` turns
the re-weighted targets into a confidence region, map agreement and the scan-length curve;
:mod:`.participant` runs them for one participant (``tmstarget target --bootstrap``),
:mod:`.sessions` for its sessions' runs (``tmstarget reliability``); :mod:`.cohort` compares
within- and between-person distances. The method and its accuracy: ``docs/reliability.md``.
"""

from .cohort import cohort_stability, stability_table
from .engine import NORM_VOXELS, ResampleModel, resample_model, resample_scores, resample_target
from .participant import (
    N_BOOTSTRAP,
    N_BOOTSTRAP_SLOW,
    auto_block_length_s,
    bootstrap_cloud,
    bootstrap_confidence,
    column_spacing_mm,
    default_resamples,
    participant_reliability,
)
from .sessions import add_session_distances, session_reliability
from .summaries import (
    CONFIDENCE,
    MAX_EXTRAPOLATED_MINUTES,
    MIN_SINGLE_RUN_MINUTES,
    NOT_ASSESSED,
    PRECISION_MM,
    RELIABLE_RADIUS_MM,
    confidence_region,
    icc_2_1,
    map_agreement,
    minutes_for_radius,
    minutes_needed,
    radius_at_minutes,
    region_contains,
    reliability_verdict,
    scan_length_curve,
    search_extent_mm,
    verdict_line,
)
from .weights import (
    Weights,
    circular_block_bootstrap,
    kept_times_s,
    optimal_block_length,
    run_shares,
    split_half_weights,
    variance_ratio,
    window_weights,
)

__all__ = [
    "CONFIDENCE",
    "MAX_EXTRAPOLATED_MINUTES",
    "MIN_SINGLE_RUN_MINUTES",
    "NORM_VOXELS",
    "NOT_ASSESSED",
    "N_BOOTSTRAP",
    "N_BOOTSTRAP_SLOW",
    "PRECISION_MM",
    "RELIABLE_RADIUS_MM",
    "ResampleModel",
    "Weights",
    "add_session_distances",
    "auto_block_length_s",
    "bootstrap_cloud",
    "bootstrap_confidence",
    "circular_block_bootstrap",
    "cohort_stability",
    "default_resamples",
    "column_spacing_mm",
    "confidence_region",
    "icc_2_1",
    "kept_times_s",
    "map_agreement",
    "minutes_for_radius",
    "minutes_needed",
    "optimal_block_length",
    "participant_reliability",
    "radius_at_minutes",
    "region_contains",
    "reliability_verdict",
    "resample_model",
    "resample_scores",
    "resample_target",
    "run_shares",
    "scan_length_curve",
    "search_extent_mm",
    "session_reliability",
    "stability_table",
    "split_half_weights",
    "variance_ratio",
    "verdict_line",
    "window_weights",
]
