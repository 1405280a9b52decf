"""File input and output: fMRIPrep derivatives in, BIDS-derivatives out.

Only this subpackage (with ``export``, ``report`` and ``cli``) touches files. The names below are
imported on first use.
"""

from .._utils.lazy import lazy_exports

_EXPORTS = {
    **dict.fromkeys(["Run", "find_runs", "participant_sessions"], ".bids"),
    "load_run_confounds": ".confounds",
    **dict.fromkeys(
        [
            "target_path",
            "write_dataset_description",
            "write_json_atomic",
            "write_nifti_atomic",
            "write_target_outputs",
        ],
        ".derivatives",
    ),
    **dict.fromkeys(["check_grid", "load_mask", "read_tr", "stream_masked_volumes"], ".images"),
}
__getattr__ = lazy_exports(__name__, globals(), _EXPORTS)

__all__ = [
    "Run",
    "check_grid",
    "find_runs",
    "load_mask",
    "load_run_confounds",
    "participant_sessions",
    "read_tr",
    "stream_masked_volumes",
    "target_path",
    "write_dataset_description",
    "write_json_atomic",
    "write_nifti_atomic",
    "write_target_outputs",
]
