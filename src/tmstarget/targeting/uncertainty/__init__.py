"""How sure a target is, measured in several ways.

Split halves, runs, a block-bootstrap confidence region, scan length and cohort stability.

Every analysis re-weights the kept volumes of the runs (:mod:`.weights`) and re-targets the
re-weighted data without another pass over the voxel data (:mod:`.engine`); :mod:`.summaries` turns
the re-weighted targets into a confidence region, map agreement and the scan-length curve;
:mod:`.participant` runs them for one participant (``tmstarget target --bootstrap``),
:mod:`.sessions` for its sessions' runs (``tmstarget reliability``); :mod:`.cohort` compares
within- and between-person distances. The method and its accuracy: ``docs/reliability.md``.
"""

from ..._utils.lazy import lazy_exports

#: Public name → submodule (imported on first use, so that importing the package — e.g. for the
#: report's verdict words — does not import the resampling engine).
_EXPORTS = {
    "CONFIDENCE": ".summaries",
    "MAX_EXTRAPOLATED_MINUTES": ".summaries",
    "MIN_SINGLE_RUN_MINUTES": ".summaries",
    "NORM_VOXELS": ".engine",
    "NOT_ASSESSED": ".summaries",
    "N_BOOTSTRAP": ".participant",
    "N_BOOTSTRAP_SLOW": ".participant",
    "PRECISION_MM": ".summaries",
    "RELIABLE_RADIUS_MM": ".summaries",
    "ResampleModel": ".engine",
    "Weights": ".weights",
    "add_session_distances": ".sessions",
    "auto_block_length_s": ".participant",
    "bootstrap_cloud": ".participant",
    "bootstrap_confidence": ".participant",
    "circular_block_bootstrap": ".weights",
    "cohort_stability": ".cohort",
    "column_spacing_mm": ".participant",
    "confidence_region": ".summaries",
    "default_resamples": ".participant",
    "icc_2_1": ".summaries",
    "kept_times_s": ".weights",
    "map_agreement": ".summaries",
    "minutes_for_radius": ".summaries",
    "minutes_needed": ".summaries",
    "optimal_block_length": ".weights",
    "participant_reliability": ".participant",
    "radius_at_minutes": ".summaries",
    "region_contains": ".summaries",
    "reliability_verdict": ".summaries",
    "resample_model": ".engine",
    "resample_scores": ".engine",
    "resample_target": ".engine",
    "run_shares": ".weights",
    "scan_length_curve": ".summaries",
    "search_extent_mm": ".summaries",
    "session_reliability": ".sessions",
    "split_half_weights": ".weights",
    "stability_table": ".cohort",
    "variance_ratio": ".weights",
    "verdict_line": ".summaries",
    "window_weights": ".weights",
}

__getattr__ = lazy_exports(__name__, globals(), _EXPORTS)

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
