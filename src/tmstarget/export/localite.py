"""Localite TMS Navigator instrument markers (``InstrumentMarker*.xml``).

Format: an ``<InstrumentMarkerList coordinateSpace="RAS">`` of ``<InstrumentMarker>`` elements, each
with a ``<Marker description="…">`` holding a ``<Matrix4D data00=… data33=…/>``: the 4×4 coil pose,
row ``i`` column ``j`` in ``data{i}{j}``, translation in ``data03, data13, data23`` (millimetres).

Conventions:

- **Units**: millimetres.
- **World axes**: the world (sform) coordinates of the image loaded into the navigator. ``RAS`` for
  NIfTI images (x right, y anterior, z superior); ``LPS`` (x left, y posterior) for DICOM-based
  sessions — both rows x and y of the matrix change sign.
- **Coil axes** (columns): Localite's ``x`` = the coil normal pointing into the head (tmstarget
  ``z``), ``y`` = **towards the handle** (tmstarget ``y``), ``z`` = tmstarget ``-x``. Derivation:
  SimNIBS's Localite
  reader/writer (``simnibs/utils/nnav.py``, ``localite._simnibs2localite``: ``x_L = z_S, y_L = -y_S,
  z_L = x_S``) composed with tmstarget → SimNIBS (:data:`~tmstarget.export.poses.TO_SIMNIBS`, handle
  at ``-y_S``). Confirmed on recorded Localite sessions at left M1 (SimNIBS test data
  ``nnav_testdata/localite/.../InstrumentMarkers``): markers labelled ``PA`` have Localite ``+y``
  pointing straight posterior, ``LM`` lateral and ``hotspot``/``M0`` 37–52° posterior-lateral — the
  handle as held for those orientations. Check one marker on your system (the coil icon's handle
  should point as planned) before the first session.

Research use; not a medical device.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np

from .. import __version__
from ..exceptions import InputError
from ..io.derivatives import write_text_atomic
from .poses import TO_SIMNIBS, NamedPose, check_pose, convert_axes, orthonormalize

#: SimNIBS axes → Localite axes (columns), as in SimNIBS's ``localite._simnibs2localite``: x_L =
#: z_S, y_L = -y_S, z_L = x_S.
SIMNIBS_TO_LOCALITE = np.array([[0.0, 0.0, 1.0], [0.0, -1.0, 0.0], [1.0, 0.0, 0.0]])
#: tmstarget axes → Localite axes (columns): x_L = z (into the head), y_L = y (the handle), z_L =
#: -x.
TO_LOCALITE = TO_SIMNIBS @ SIMNIBS_TO_LOCALITE
_LPS = np.diag([-1.0, -1.0, 1.0, 1.0])


def localite_xml(poses: list[NamedPose], coordinate_space: str = "RAS") -> str:
    """Text of an InstrumentMarker XML file for tmstarget poses (see the module docstring)."""
    space = coordinate_space.upper()
    if space not in ("RAS", "LPS"):
        raise InputError(
            "Localite coordinate space must be RAS or LPS, "
            f"got {coordinate_space!r} — use RAS for NIfTI "
            "images"
        )
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<InstrumentMarkerList coordinateSpace="{space}">',
        f"    <!--written by tmstarget {__version__} (research use; not a medical device)-->",
    ]
    for index, pose in enumerate(poses):
        m = convert_axes(check_pose(pose.matrix, f"pose {pose.name!r}"), TO_LOCALITE)
        if space == "LPS":
            m = _LPS @ m
        cells = " ".join(f'data{i}{j}="{m[i, j]:+.8f}"' for i in range(4) for j in range(4))
        lines += [
            f'    <InstrumentMarker alwaysVisible="false" index="{index}" selected="false">',
            '        <Marker additionalInformation="" color="#ff0000" '
            f'description={quoteattr(pose.name)} set="true">',
            f"            <Matrix4D {cells}/>",
            "        </Marker>",
            "    </InstrumentMarker>",
        ]
    lines.append("</InstrumentMarkerList>")
    return "\n".join(lines) + "\n"


def write_localite(path: Path | str, poses: list[NamedPose], coordinate_space: str = "RAS") -> Path:
    """Write an InstrumentMarker XML file atomically."""
    return write_text_atomic(path, localite_xml(poses, coordinate_space))


def read_localite(path: Path | str) -> list[NamedPose]:
    """Read an InstrumentMarker XML file back into tmstarget poses (RAS, tmstarget axes).

    Raises
    ------
    InputError
        When the file is not an InstrumentMarkerList or a matrix is incomplete.
    """
    try:
        root = ET.parse(str(path)).getroot()
    except (OSError, ET.ParseError) as exc:
        raise InputError(
            f"cannot read Localite file {path}: {exc} — pass an InstrumentMarker XML file"
        ) from None
    if root.tag != "InstrumentMarkerList":
        raise InputError(
            f"{path} is a <{root.tag}> file, not an InstrumentMarkerList "
            "— export instrument markers from Localite"
        )
    space = (root.get("coordinateSpace") or "RAS").upper()
    poses = []
    for marker in root.iter("Marker"):
        node = marker.find("Matrix4D")
        try:
            m = np.array([[float(node.get(f"data{i}{j}")) for j in range(4)] for i in range(4)])
        except (AttributeError, TypeError, ValueError):
            raise InputError(
                f"{path}: marker {marker.get('description')!r} "
                "has no complete Matrix4D — re-export it"
            ) from None
        if space == "LPS":
            m = _LPS @ m
        m = convert_axes(m, TO_LOCALITE.T)
        m[:3, :3] = orthonormalize(m[:3, :3])
        poses.append(NamedPose(marker.get("description") or "", m))
    return poses
