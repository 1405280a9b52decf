"""An export set: one coil pose written to every requested neuronavigation format at once.

Each file is read back.

:func:`write_export_set` is what ``tmstarget coil --localite/--brainsight/--csv/--poses-json``
writes: the files are rendered first, written together by
:func:`tmstarget.io.derivatives.write_files_atomic` (all of them or none, and a file replaced is
never lost when a later one fails), then each is read back with its own reader and the round-trip
error is reported.

Examples
--------
>>> import numpy as np
>>> from tmstarget.export.sets import write_export_set
>>> pose = np.eye(4); pose[:3, 3] = (-40.0, 42.0, 30.0)
>>> out = write_export_set(
...     pose, "target", "MNI152NLin6Asym", localite="t.xml", csv="t.csv"
... )  # doctest: +SKIP
>>> out["localite"]["round_trip_mm"]  # doctest: +SKIP
0.0
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

__all__ = ["EXPORT_KINDS", "write_export_set"]

#: The formats of an export set, in the order they are written and reported.
EXPORT_KINDS = ("localite", "brainsight", "csv", "poses_json")

PathLike = str | os.PathLike[str]


def write_export_set(
    pose: np.ndarray,
    name: str,
    space: str,
    *,
    localite: PathLike | None = None,
    localite_space: str = "RAS",
    brainsight: PathLike | None = None,
    brainsight_system: dict[str, Any] | None = None,
    brainsight_image: Any = None,
    csv: PathLike | None = None,
    poses_json: PathLike | None = None,
) -> dict[str, dict[str, Any]]:
    """Write one pose to the requested formats (all or none) and read each file back.

    Parameters
    ----------
    pose : (4, 4) ndarray
        Coil pose in tmstarget's axes (y = handle, z = into the head), mm, in ``space``.
    name : str
        Marker / target name.
    space : str
        World space of ``pose`` (a template name or ``"T1w"``), recorded in the CSV and JSON.
    localite, brainsight, csv, poses_json : path-like, optional
        Files to write (None = not this format).
    localite_space : {"RAS", "LPS"}
        Localite world axes.
    brainsight_system : dict, optional
        :func:`~tmstarget.export.brainsight.choose_coordinate_system`'s answer
        (``coordinate_system``, ``version``, ``image``, ...); needed with ``brainsight`` and
        reported with it.
    brainsight_image : nibabel image, optional
        The image loaded into the Brainsight project: the pose must lie inside it.

    Returns
    -------
    dict
        Per written format: ``path``, ``round_trip_mm``, ``round_trip_deg`` (and, for Brainsight,
        the coordinate system it was written in).

    Raises
    ------
    InputError
        The pose lies outside the Brainsight image; nothing is written then.
    """
    from .._utils.jsonio import dumps
    from ..io.derivatives import write_files_atomic
    from .brainsight import DEFAULT_VERSION, brainsight_text, read_brainsight
    from .localite import localite_xml, read_localite
    from .plain import poses_csv, read_poses_csv, read_poses_json
    from .plain import poses_json as poses_json_obj
    from .poses import NamedPose, position_difference_mm, rotation_difference_deg

    poses = [NamedPose(name, pose)]
    system = brainsight_system or {
        "coordinate_system": "NIfTI:Aligned",
        "version": None,
        "image": None,
    }
    if brainsight is not None and brainsight_image is not None and system.get("image") is not None:
        from .brainsight import check_in_image

        check_in_image(brainsight_image, pose[:3, 3], space)
    jobs = {
        "localite": (
            localite,
            lambda: localite_xml(poses, localite_space),
            lambda p: read_localite(p),
        ),
        "brainsight": (
            brainsight,
            lambda: brainsight_text(
                poses, system["coordinate_system"], system.get("version") or DEFAULT_VERSION
            ),
            lambda p: read_brainsight(p)[0],
        ),
        "csv": (csv, lambda: poses_csv(poses, space), lambda p: read_poses_csv(p)[0]),
        "poses_json": (
            poses_json,
            lambda: dumps(poses_json_obj(poses, space)) + "\n",
            lambda p: read_poses_json(p)[0],
        ),
    }
    chosen = [
        (kind, path, render, read)
        for kind, (path, render, read) in jobs.items()
        if path is not None
    ]
    write_files_atomic([(path, render()) for _, path, render, _ in chosen])
    out: dict[str, dict[str, Any]] = {}
    for kind, path, _, read in chosen:
        back = read(path)[0].matrix
        out[kind] = {
            "path": str(path),
            "round_trip_mm": round(position_difference_mm(pose, back), 4),
            "round_trip_deg": round(rotation_difference_deg(pose, back), 4),
        }
        if kind == "brainsight" and brainsight_system is not None:
            out[kind].update(brainsight_system)
    return out
