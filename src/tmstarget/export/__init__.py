"""Coil poses for neuronavigation systems, and MNI ↔ participant T1w mapping.

``poses``       4×4 pose helpers (tmstarget coil axes: y = handle, z = into the head)
``localite``    Localite TMS Navigator InstrumentMarker XML (RAS/LPS, Localite coil axes)
``brainsight``  Brainsight target text files (NIfTI world coordinates, Brainsight target axes)
``plain``       CSV and JSON in tmstarget's own convention
``native``      fMRIPrep transform files via nitransforms: template ↔ T1w points and poses
``sets``        :func:`write_export_set`: one pose to every requested format, all or none, each read
                back
``inputs``      the coil workflow's inputs, read and checked (target, circuit voxels, images)
``workflow``    :func:`plan_coil_files`: ``tmstarget coil`` as a library call (plan, T1w mapping,
                export set)
``text``        :func:`coil_files_text`: the command's text summary of that plan

Each writer's module docstring states its units, world axes and coil axes; each writer has a reader
for round-trip checks. Research use; not a medical device.
"""

from .._utils.lazy import lazy_exports

#: Public names and the submodule each comes from (imported on first use: 'tmstarget --help' stays
#: fast).
_EXPORTS = {
    **dict.fromkeys(["read_brainsight", "write_brainsight"], ".brainsight"),
    **dict.fromkeys(["read_localite", "write_localite"], ".localite"),
    **dict.fromkeys(["NativeTransform", "load_native_transform", "scalp_along_ray"], ".native"),
    **dict.fromkeys(
        ["read_poses_csv", "read_poses_json", "write_poses_csv", "write_poses_json"], ".plain"
    ),
    **dict.fromkeys(["NamedPose", "position_difference_mm", "rotation_difference_deg"], ".poses"),
    **dict.fromkeys(["EXPORT_KINDS", "write_export_set"], ".sets"),
    **dict.fromkeys(["CoilFiles", "plan_coil_files"], ".workflow"),
    "coil_files_text": ".text",
}
__getattr__ = lazy_exports(__name__, globals(), _EXPORTS)

__all__ = [
    "EXPORT_KINDS",
    "CoilFiles",
    "NamedPose",
    "NativeTransform",
    "coil_files_text",
    "load_native_transform",
    "plan_coil_files",
    "position_difference_mm",
    "read_brainsight",
    "read_localite",
    "read_poses_csv",
    "read_poses_json",
    "rotation_difference_deg",
    "scalp_along_ray",
    "write_brainsight",
    "write_export_set",
    "write_localite",
    "write_poses_csv",
    "write_poses_json",
]
