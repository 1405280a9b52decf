"""Independent readers of neuronavigation files, for tests.

They re-implement SimNIBS's published reader logic.

Source: SimNIBS ``simnibs/utils/nnav.py`` (github.com/simnibs/simnibs, read at commit c2ce64cd;
GPL-3, so this is a re-implementation of the documented matrix conventions, not a copy):

- ``localite._parse_localite_xml``: ``Matrix4D`` row ``i`` column ``j`` is ``data{i}{j}``; an
  ``LPS`` file is turned into RAS by left-multiplying ``diag(-1, -1, 1, 1)``; the Localite matrix is
  right-multiplied by ``_simnibs2localite()`` = columns ``(x_S, y_S, z_S) = (z_L, -y_L, x_L)``.
- ``brainsight.read``: only ``NIfTI:Aligned`` for file versions ≤ 13 and ``NIfTI:Q:…`` for version ≥
  14; UTF-8; ``m{a}n{c}`` is component ``c`` of axis ``a``; right-multiplied by
  ``_simnibs2brainsight()`` = ``diag(-1, 1, -1)``.

SimNIBS's own coil frame ("matsimnibs"): ``z`` points into the head and the handle is at ``-y`` —
SimNIBS issue #64 ("the direction of the handle is negative/opposite of y"), the axis figures
``docs/images/coil_axesorientation_localite.png`` and ``..._brainsight.png`` (y drawn away from the
handle), and the handle wires of ``examples/coils/create_simple_figure_of_8_coil.py`` running along
``-y``.

Nothing here imports tmstarget: these functions are the oracle the exports are checked against.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

LPS2RAS = np.diag([-1.0, -1.0, 1.0, 1.0])
SIMNIBS2LOCALITE = np.array([[0.0, 0, 1, 0], [0, -1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1]])
SIMNIBS2BRAINSIGHT = np.diag([-1.0, 1.0, -1.0, 1.0])


def simnibs_read_localite(path: Path) -> list[tuple[str, np.ndarray]]:
    """Return ``(description, matsimnibs)`` for every InstrumentMarker.

    This follows SimNIBS's Localite reader logic.
    """
    root = ET.parse(str(path)).getroot()
    space = root.get("coordinateSpace").upper()
    if space not in ("RAS", "LPS"):
        raise ValueError(f"coordinate system {space} not supported")
    flip = LPS2RAS if space == "LPS" else np.eye(4)
    out = []
    for marker in root.iter("InstrumentMarker"):
        node = marker.find("Marker")
        m4 = node.find("Matrix4D")
        m = np.array([[float(m4.get(f"data{i}{j}")) for j in range(4)] for i in range(4)])
        out.append((node.get("description"), flip @ m @ SIMNIBS2LOCALITE))
    return out


def simnibs_read_brainsight(path: Path) -> list[tuple[str, np.ndarray]]:
    """Return ``(name, matsimnibs)`` for every target.

    This follows SimNIBS's Brainsight reader logic, including its refusals.
    """
    version, system, encoding, columns, rows = -1, "", "", None, []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if columns is None:
            if line.startswith("# Version:"):
                version = int(line.replace("# Version: ", ""))
            elif line.startswith("# Coordinate system:"):
                system = line.replace("# Coordinate system: ", "")
            elif line.startswith("# Encoding: "):
                encoding = line.replace("# Encoding: ", "")
            elif line.startswith("# Target Name"):
                columns = line.replace("# ", "").split("\t")
        elif line.startswith("#"):
            break
        elif line:
            rows.append(dict(zip(columns, line.split("\t"))))
    if version == -1:
        raise ValueError("cannot read version")
    if version >= 14 and not system.lower().startswith("nifti:q:"):
        raise ValueError(f"coordinate system {system!r} is not supported")
    if version < 14 and system.lower() != "nifti:aligned":
        raise ValueError(
            f"coordinate system {system!r} is not supported; export targets as NIfTI:Aligned"
        )
    if encoding != "UTF-8":
        raise ValueError(f"encoding {encoding!r} not supported")
    out = []
    for r in rows:
        m = np.array(
            [
                [r["m0n0"], r["m1n0"], r["m2n0"], r["Loc. X"]],
                [r["m0n1"], r["m1n1"], r["m2n1"], r["Loc. Y"]],
                [r["m0n2"], r["m1n2"], r["m2n2"], r["Loc. Z"]],
                [0, 0, 0, 1],
            ],
            dtype=float,
        )
        out.append((r["Target Name"], m @ SIMNIBS2BRAINSIGHT))
    return out


def simnibs_handle(matsimnibs: np.ndarray) -> np.ndarray:
    """Handle direction of a SimNIBS coil pose: ``-y``."""
    return -np.asarray(matsimnibs)[:3, 1]


def simnibs_normal_in(matsimnibs: np.ndarray) -> np.ndarray:
    """Coil normal of a SimNIBS coil pose, pointing into the head: ``+z``."""
    return np.asarray(matsimnibs)[:3, 2]


def angle_deg(a, b) -> float:
    """Angle between two directions (degrees)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(
        np.degrees(np.arccos(np.clip(a @ b / np.linalg.norm(a) / np.linalg.norm(b), -1.0, 1.0)))
    )
