"""The derivatives tmstarget writes and reads: names, formats, atomic and all-or-nothing writes.

This is the one owner of the output files documented in ``docs/outputs.md``: every command and
package that writes or reads a target, score map, QC file or reliability JSON goes through it.

- :mod:`.names` — BIDS entities and the rules relating files (``_target.json`` → ``_score.nii.gz``);
- :mod:`._atomic` — atomic writers and :func:`all_or_nothing` (a failed group leaves nothing
  behind);
- :mod:`.maps` — score-map images (NIfTI, GIFTI, CIFTI);
- :mod:`.read` — checked readers (target JSON, maps, motion table);
- :mod:`.write` — a participant's target and reliability outputs, ``dataset_description.json``.
"""

from ._atomic import (
    FILE_MODE,
    all_or_nothing,
    atomic_path,
    sha256,
    write_bytes_atomic,
    write_files_atomic,
    write_image_atomic,
    write_json_atomic,
    write_nifti_atomic,
    write_text_atomic,
)
from .maps import nifti_image, surface_score_images, volume_score_images
from .names import (
    QC_NAMES,
    TARGET_SUFFIX,
    check_label,
    circuit_of,
    entities,
    participant_dir,
    qc_path,
    qc_paths,
    score_path,
    sibling,
    target_files,
    target_path,
)
from .read import (
    MotionRun,
    load_map,
    load_score_map,
    read_circuit_targets,
    read_json_object,
    read_json_optional,
    read_motion,
    read_target,
    read_targets,
    target_circuits,
)
from .write import (
    write_dataset_description,
    write_map_with_sidecar,
    write_reliability_outputs,
    write_table_outputs,
    write_target_outputs,
)

__all__ = [
    "FILE_MODE",
    "QC_NAMES",
    "TARGET_SUFFIX",
    "MotionRun",
    "all_or_nothing",
    "write_files_atomic",
    "atomic_path",
    "check_label",
    "circuit_of",
    "entities",
    "load_map",
    "load_score_map",
    "nifti_image",
    "participant_dir",
    "qc_path",
    "qc_paths",
    "read_circuit_targets",
    "read_json_object",
    "read_json_optional",
    "read_motion",
    "read_target",
    "read_targets",
    "score_path",
    "sha256",
    "sibling",
    "surface_score_images",
    "target_circuits",
    "target_files",
    "target_path",
    "volume_score_images",
    "write_bytes_atomic",
    "write_dataset_description",
    "write_image_atomic",
    "write_json_atomic",
    "write_map_with_sidecar",
    "write_nifti_atomic",
    "write_reliability_outputs",
    "write_table_outputs",
    "write_target_outputs",
    "write_text_atomic",
]
