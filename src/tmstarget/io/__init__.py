"""File input and output: fMRIPrep derivatives in, BIDS-derivatives out.

Only this subpackage (with ``export``, ``report`` and ``cli``) touches files.
"""

from .bids import Run, find_runs, participant_sessions
from .confounds import load_run_confounds
from .derivatives import target_path, write_dataset_description, write_json_atomic, write_nifti_atomic, write_target_outputs
from .images import check_grid, load_mask, read_tr, stream_masked_volumes

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
