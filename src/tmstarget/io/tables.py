"""Small user tables: MNI coordinates (``score``), head measurements (``compare``), stimulation sites (``circuit build``)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

from ..exceptions import InputError


def read_points(coords: list[str], coords_file: str | Path | None) -> list[tuple[str, np.ndarray]]:
    """``(label, xyz)`` pairs from ``--coords`` values (``x,y,z``) and a CSV/TSV with columns x, y, z [, label]."""
    from ..scalp import parse_point

    points = [(c, parse_point(c)) for c in coords]
    if coords_file:
        path = Path(coords_file)
        if not path.is_file():
            raise InputError(f"--coords-file {path} does not exist — pass a CSV with columns x,y,z")
        try:
            table = pd.read_csv(path, sep=None, engine="python")
        except (ValueError, csv.Error, UnicodeDecodeError) as exc:  # empty file, undetectable delimiter, binary file
            raise InputError(f"--coords-file {path} is not a readable CSV/TSV table ({exc}) — give a header line x,y,z[,label] "
                             "and one row per coordinate") from None
        table.columns = [str(c).strip().lower() for c in table.columns]
        if not {"x", "y", "z"} <= set(table.columns):
            raise InputError(f"{path.name} has columns {list(table.columns)}, expected x, y, z (mm) — rename them")
        for i, row in table.iterrows():
            label = str(row["label"]) if "label" in table.columns else f"row{i + 1}"
            points.append((label, parse_point(f"{row['x']},{row['y']},{row['z']}", f"{path.name} row {i + 1}")))
    if not points:
        raise InputError("no coordinates — pass --coords x,y,z or --coords-file CSV")
    return points


def read_measurements(path: str | Path) -> dict:
    """participant label → :class:`~tmstarget.scalp.HeadMeasurements`, from a TSV (participant_id and the three tape measurements)."""
    from ..scalp import check_measurements

    if not Path(path).is_file():
        raise InputError(f"--measurements {path} does not exist — pass a TSV with participant_id and the three measurements")
    table = pd.read_csv(path, sep="\t", dtype={"participant_id": str, "participant": str})
    id_col = "participant_id" if "participant_id" in table.columns else "participant"
    need = {id_col, "nasion_inion_cm", "tragus_tragus_cm", "circumference_cm"}
    if not need <= set(table.columns):
        raise InputError(f"{Path(path).name} has columns {list(table.columns)}, expected {sorted(need)} — rename them")
    out = {}
    for _, row in table.iterrows():
        label = str(row[id_col]).removeprefix("sub-")
        try:
            out[label] = check_measurements(row["nasion_inion_cm"], row["tragus_tragus_cm"], row["circumference_cm"])
        except InputError as exc:
            raise InputError(f"{Path(path).name}, participant {label}: {exc}") from None
    return out


def read_sites_table(path: Path) -> pd.DataFrame:
    """The ``circuit build`` sites TSV as text columns (labels such as 01 kept as written)."""
    try:
        return pd.read_csv(path, sep="\t", dtype=str)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"cannot read sites table {path}: {exc} — pass a TSV with participant, x, y, z, improvement") from exc
