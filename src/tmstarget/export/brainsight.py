"""Brainsight target files (``Targets`` text export/import).

Format: ``#`` header lines (version, coordinate system, units, encoding, notes), a column line
``# Target Name  Loc. X  Loc. Y  Loc. Z  m0n0 m0n1 m0n2  m1n0 m1n1 m1n2  m2n0 m2n1 m2n2`` and one
tab-separated row per target: the position and the three target axes ``m0`` (x), ``m1`` (y), ``m2``
(z), each as its three world components.

Conventions:

- **Units**: millimetres (Brainsight states "millimetres, degrees, milliseconds, and microvolts").
- **Target axes**: Brainsight ``x`` = tmstarget ``x``, ``y`` = tmstarget ``-y`` (**away from the
  handle**), ``z`` = tmstarget ``-z`` (**out of the head**). Derivation: SimNIBS's Brainsight reader
  (``simnibs/utils/nnav.py``, ``brainsight._simnibs2brainsight`` = ``diag(-1, 1, -1)``) composed
  with tmstarget → SimNIBS (:data:`~tmstarget.export.poses.TO_SIMNIBS`, handle at ``-y_S``);
  SimNIBS's figure ``docs/images/coil_axesorientation_brainsight.png`` draws Brainsight's ``y`` away
  from the handle and ``z`` out of the head. Confirmed on recorded Brainsight 2.4.9 samples at left
  M1 (SimNIBS test data ``niiImage_nifticoord_gridfolder.txt``): ``m1`` points anterior-medial, i.e.
  the handle posterior-lateral.
- **World axes**: the RAS world coordinates of the NIfTI image loaded into the Brainsight project,
  named after the image's qform/sform *intent code* (:func:`coordinate_system_for`). File version 12
  (Brainsight ≤ 2.5.2; the header and columns of Brainsight 2.4.9's exports and of SimNIBS's writer)
  names them ``NIfTI:Aligned``, ``NIfTI:Scanner``, ``NIfTI:MNI-152``, …; version 14 (Brainsight ≥
  2.5.3) ``NIfTI:Q:<intent>`` or ``NIfTI:S:<intent>`` for the qform or sform. Rogue Research's notes
  (quoted in SimNIBS's reader): Brainsight lists a ``NIfTI:<intent>`` system only when the image has
  that code, and before 2.5.3 uses the qform when qform and sform share a code. SimNIBS reads only
  ``NIfTI:Aligned`` (≤ 13) and ``NIfTI:Q:…`` (14).

Research use; not a medical device.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..exceptions import InputError
from ..io.derivatives import write_text_atomic
from .poses import TO_SIMNIBS, NamedPose, check_pose, convert_axes, orthonormalize

#: SimNIBS axes → Brainsight axes (columns), as in SimNIBS's ``brainsight._simnibs2brainsight``.
SIMNIBS_TO_BRAINSIGHT = np.diag([-1.0, 1.0, -1.0])
#: tmstarget axes → Brainsight axes (columns): x_B = x, y_B = -y (away from the handle), z_B = -z
#: (out of the head).
TO_BRAINSIGHT = TO_SIMNIBS @ SIMNIBS_TO_BRAINSIGHT
from .defaults import (  # noqa: E402,F401
    COORDINATE_SYSTEMS,
    COORDINATE_SYSTEMS_V14,
    DEFAULT_SYSTEM,
    DEFAULT_VERSION,
    INTENTS,
    VERSIONS,
)

_COLUMNS = [
    "Target Name",
    "Loc. X",
    "Loc. Y",
    "Loc. Z",
    "m0n0",
    "m0n1",
    "m0n2",
    "m1n0",
    "m1n1",
    "m1n2",
    "m2n0",
    "m2n1",
    "m2n2",
]
_SAME_MM = 0.01


def _check_version(version: int) -> int:
    if version not in VERSIONS:
        raise InputError(
            f"Brainsight file version {version} is not one of {', '.join(map(str, VERSIONS))} — "
            "use 12 for Brainsight 2.5.2 and earlier, 14 for 2.5.3 and later"
        )
    return version


def _forms(header: Any) -> dict[str, tuple[int, np.ndarray | None]]:
    """``{"Q": (code, matrix), "S": (code, matrix)}`` of a NIfTI header (nibabel)."""
    qform, qcode = header.get_qform(coded=True)
    sform, scode = header.get_sform(coded=True)
    return {"Q": (int(qcode), qform), "S": (int(scode), sform)}


def coordinate_systems_for(
    header: Any, affine: np.ndarray, version: int = DEFAULT_VERSION
) -> list[str]:
    """Return the Brainsight coordinate-system names matching ``affine``'s world coordinates.

    These are the names under which Brainsight shows the world coordinates of ``affine`` for an
    image.

    Parameters
    ----------
    header : nibabel.Nifti1Header
        Header of the image that will be loaded into the Brainsight project.
    affine : ndarray, shape (4, 4)
        The voxel → world matrix the exported coordinates use (nibabel's ``img.affine``: the sform
        when its code is set, else the qform).
    version : {12, 14}
        File version (see the module docstring).

    Returns
    -------
    list of str
        ``NIfTI:<intent>`` (version 12) or ``NIfTI:Q|S:<intent>`` (version 14), the one SimNIBS can
        read back first (``Aligned``; the qform for version 14). Empty when no name carries
        ``affine`` (e.g. qform and sform share an intent code but differ: Brainsight 2.5.2 and
        earlier then use the qform).
    """
    version = _check_version(version)
    forms = _forms(header)
    same = {
        f: code in INTENTS and m is not None and np.abs(m - affine).max() < _SAME_MM
        for f, (code, m) in forms.items()
    }
    if version == 14:
        return [f"NIfTI:{f}:{INTENTS[forms[f][0]]}" for f in ("Q", "S") if same[f]]
    # Brainsight <= 2.5.2: one name per intent code; the qform wins when both forms carry the same
    # code.
    qcode, scode = forms["Q"][0], forms["S"][0]
    offered = {code: ("Q" if code == qcode else "S") for code in (scode, qcode) if code in INTENTS}
    return sorted(
        (f"NIfTI:{INTENTS[c]}" for c, f in offered.items() if same[f]),
        key=lambda name: name != "NIfTI:Aligned",
    )


def coordinate_system_for(header: Any, affine: np.ndarray, version: int = DEFAULT_VERSION) -> str:
    """Return the preferred name of :func:`coordinate_systems_for`.

    Raises
    ------
    InputError
        When no qform/sform of the image carries ``affine`` under a name Brainsight offers.
    """
    names = coordinate_systems_for(header, affine, version)
    if names:
        return names[0]
    forms = _forms(header)
    codes = ", ".join(f"{f}form code {c}" for f, (c, _) in forms.items())
    matches = any(
        c in INTENTS and m is not None and np.abs(m - affine).max() < _SAME_MM
        for c, m in forms.values()
    )
    hint = (
        "export with --brainsight-version 14 (Brainsight "
        "2.5.3 and later name the qform and sform apart), "
        "or make the "
        "qform equal the sform"
        if matches
        else "load an image whose qform or sform holds the world coordinates the targets are in"
    )
    raise InputError(
        "no Brainsight coordinate system carries these "
        f"coordinates for this image ({codes}) — {hint}"
    )


def brainsight_text(
    poses: list[NamedPose], coordinate_system: str = "NIfTI:Aligned", version: int = DEFAULT_VERSION
) -> str:
    """Text of a Brainsight targets file for tmstarget poses (see the module docstring)."""
    version = _check_version(version)
    allowed = COORDINATE_SYSTEMS_V14 if version == 14 else COORDINATE_SYSTEMS
    if coordinate_system not in allowed:
        raise InputError(
            f"Brainsight coordinate system {coordinate_system!r} "
            f"is not one of {', '.join(allowed)} for file "
            f"version {version} — pick the one your project offers"
        )
    lines = [
        f"# Version: {version}",
        f"# Coordinate system: {coordinate_system}",
        f"# Created by: tmstarget {__version__} (research use; not a medical device)",
        "# Units: millimetres, degrees, milliseconds, and microvolts",
        "# Encoding: UTF-8",
        "# Notes: Each column is delimited by a tab. Each "
        "value within a column is delimited by a semicolon.",
        "# " + "\t".join(_COLUMNS),
    ]
    for pose in poses:
        if any(ch in pose.name for ch in "\t\n\r"):
            raise InputError(
                f"target name {pose.name!r} contains a tab or line break — use a plain name"
            )
        m = convert_axes(check_pose(pose.matrix, f"pose {pose.name!r}"), TO_BRAINSIGHT)
        values = [*m[:3, 3], *m[:3, 0], *m[:3, 1], *m[:3, 2]]
        lines.append("\t".join([pose.name] + [f"{v:.4f}" for v in values]))
    return "\n".join(lines) + "\n"


def write_brainsight(
    path: Path | str,
    poses: list[NamedPose],
    coordinate_system: str = "NIfTI:Aligned",
    version: int = DEFAULT_VERSION,
) -> Path:
    """Write a Brainsight targets file atomically."""
    return write_text_atomic(path, brainsight_text(poses, coordinate_system, version))


def read_brainsight(path: Path | str) -> tuple[list[NamedPose], str]:
    """Read the targets of a Brainsight text file back into tmstarget poses.

    Returns
    -------
    poses : list of NamedPose
        Targets with tmstarget axes.
    coordinate_system : str
        The file's ``# Coordinate system`` entry.
    """
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(
            f"cannot read Brainsight file {path}: {exc} — pass a UTF-8 text export"
        ) from None
    system, columns, poses = "", None, []
    for line in text.splitlines():
        if line.startswith("# Coordinate system:"):
            system = line.split(":", 1)[1].strip()
        elif line.startswith("# Target Name"):
            columns = line[2:].split("\t")
        elif line.startswith("#"):
            if columns is not None:
                break  # the next section (e.g. samples) starts
        elif columns is not None and line.strip():
            row = dict(zip(columns, line.split("\t")))
            try:
                loc = [float(row[k]) for k in ("Loc. X", "Loc. Y", "Loc. Z")]
                axes = [[float(row[f"m{a}n{c}"]) for c in range(3)] for a in range(3)]
            except (KeyError, ValueError):
                raise InputError(
                    f"{path}: target row {line[:40]!r} is incomplete — re-export the targets"
                ) from None
            m = np.eye(4)
            m[:3, :3] = np.array(axes).T
            m[:3, 3] = loc
            m = convert_axes(m, TO_BRAINSIGHT.T)
            m[:3, :3] = orthonormalize(m[:3, :3])
            poses.append(NamedPose(row.get("Target Name", ""), m))
    if columns is None:
        raise InputError(f"{path} has no '# Target Name' section — export targets from Brainsight")
    return poses, system


def choose_coordinate_system(
    img: Any | None, version: int = DEFAULT_VERSION, requested: str | None = None
) -> dict:
    """Brainsight coordinate system and file version for an export.

    The result also names the image they were chosen for.

    Parameters
    ----------
    img : nibabel image or None
        The NIfTI loaded into the Brainsight project; None when unknown.
    version : {12, 14}
        File version.
    requested : str, optional
        A name the user asked for; with an image it must be one the image offers.

    Returns
    -------
    dict
        ``coordinate_system``, ``version`` and ``image`` (file name or None).

    Raises
    ------
    InputError
        A name of the other file version, a name the image does not offer, or an image that offers
        none.
    """
    version = _check_version(version)
    allowed = COORDINATE_SYSTEMS_V14 if version == 14 else COORDINATE_SYSTEMS
    if requested is not None and requested not in allowed:
        raise InputError(
            f"--brainsight-coords {requested} is not one of "
            f"{', '.join(allowed)} for --brainsight-version "
            f"{version} "
            "— pick a name of that version, or leave it out"
        )
    if img is None:
        return {
            "coordinate_system": requested or DEFAULT_SYSTEM[version],
            "version": version,
            "image": None,
        }
    image = Path(img.get_filename()).name
    if requested is None:
        return {
            "coordinate_system": coordinate_system_for(img.header, img.affine, version),
            "version": version,
            "image": image,
        }
    offered = coordinate_systems_for(img.header, img.affine, version)
    if requested not in offered:
        raise InputError(
            f"--brainsight-coords {requested} does not hold "
            f"{image}'s world coordinates in a version {version} "
            "file "
            f"(it offers: {', '.join(offered) or 'none'}) "
            "— leave --brainsight-coords out to use that"
        )
    return {"coordinate_system": requested, "version": version, "image": image}


def check_in_image(img: Any, point_mm: np.ndarray, space: str, margin_mm: float = 10.0) -> None:
    """Refuse a coil centre more than ``margin_mm`` outside an image's field of view.

    Such a centre is probably given in the coordinates of another image.
    """
    ijk = np.linalg.inv(img.affine) @ np.append(np.asarray(point_mm, float), 1.0)
    zooms = np.asarray(img.header.get_zooms()[:3], float)
    shape = np.asarray(img.shape[:3], float)
    outside_mm = np.maximum(np.maximum(-0.5 - ijk[:3], ijk[:3] - (shape - 0.5)), 0.0) * zooms
    if np.linalg.norm(outside_mm) > margin_mm:
        name = Path(img.get_filename()).name
        raise InputError(
            f"the coil centre {np.round(point_mm, 1).tolist()} "
            f"mm ({space}) lies outside {name}'s field of "
            "view — "
            f"pass the image the {space} coordinates belong to as --brainsight-image"
        )
