"""Reading the user's small input files: every problem as one :class:`InputError`.

The files are TSV tables, forms, logs, coordinates, head measurements and stimulation sites.

One place decides what a missing file, a folder given as a file, an unreadable or non-UTF-8 file, an
empty file and a comma-separated file given where tabs are expected say — so every command says it
the same way (issue 16).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd

from ..exceptions import InputError


def read_input_text(path: Path | str, what: str, fix: str = "check the path") -> str:
    """Return the text of an input file (UTF-8, a byte-order mark tolerated).

    Parameters
    ----------
    path : path
        The file.
    what : str
        How the message names it, e.g. ``"MADRS table"``.
    fix : str
        The advice when the file does not exist.

    Raises
    ------
    InputError
        Missing file, a folder, unreadable, not UTF-8 text, or empty.
    """
    file = Path(path)
    if file.is_dir():
        raise InputError(
            f"{what} {path} is a folder, not a file — give the path of the file itself"
        )
    if not file.is_file():
        raise InputError(f"{what} {path} not found — {fix}")
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(
            f"{what} {path} is not UTF-8 text — save it as UTF-8 (tab-separated) text"
        ) from None
    except OSError as exc:
        raise InputError(
            f"{what} {path} cannot be read ({exc.strerror or exc}) — check its permissions"
        ) from None
    if not text.strip():
        raise InputError(
            f"{what} {path} is empty — fill it in (a header line, then one row per record)"
        )
    return text


def check_tab_separated(text: str, path: Path | str, what: str) -> None:
    """Refuse a table whose header line has no tab but commas or semicolons (a CSV given as TSV).

    Without this check such a file parses as one column and the message would be "column x is
    missing".
    """
    header = next((line for line in text.splitlines() if line.strip()), "")
    if "\t" not in header and ("," in header or ";" in header):
        sep = "commas" if "," in header else "semicolons"
        raise InputError(
            f"{what} {path} is separated by {sep}, not tabs — save it as tab-separated text (TSV)"
        )


def read_tsv_text(path: Path | str, what: str, fix: str = "check the path") -> str:
    """Read the text of a tab-separated input file.

    This is :func:`read_input_text` followed by :func:`check_tab_separated`.
    """
    text = read_input_text(path, what, fix)
    check_tab_separated(text, path, what)
    return text


def read_tsv(path: Path | str, what: str, fix: str = "check the path", **read_csv_kwargs):
    """Read a tab-separated input file as a :class:`pandas.DataFrame`.

    Every problem is raised as one :class:`InputError`.

    ``read_csv_kwargs`` go to :func:`pandas.read_csv` (``sep`` is always a tab).
    """
    text = read_tsv_text(path, what, fix)
    try:
        return pd.read_csv(io.StringIO(text), sep="\t", **read_csv_kwargs)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(
            f"{what} {path} is not a readable tab-separated table ({first}) — one header line, "
            "then rows with the same number of tab-separated cells"
        ) from None


def read_points(coords: list[str], coords_file: str | Path | None) -> list[tuple[str, np.ndarray]]:
    """Read ``(label, xyz)`` pairs from ``--coords`` values and a CSV/TSV file.

    ``--coords`` values are written ``x,y,z``; the file has columns x, y, z [, label].
    """
    from ..scalp import parse_point

    points = [(c, parse_point(c)) for c in coords]
    if coords_file:
        path = Path(coords_file)
        text = read_input_text(path, "--coords-file", "pass a CSV with columns x,y,z")
        try:
            table = pd.read_csv(io.StringIO(text), sep=None, engine="python")
        except (
            ValueError,
            csv.Error,
            UnicodeDecodeError,
        ) as exc:  # empty file, undetectable delimiter, binary file
            raise InputError(
                f"--coords-file {path} is not a readable CSV/TSV "
                f"table ({exc}) — give a header line x,y,z[,label] "
                "and one row per coordinate"
            ) from None
        table.columns = [str(c).strip().lower() for c in table.columns]
        if not {"x", "y", "z"} <= set(table.columns):
            raise InputError(
                f"{path.name} has columns {list(table.columns)}, "
                "expected x, y, z (mm) — rename them"
            )
        for i, row in table.iterrows():
            label = str(row["label"]) if "label" in table.columns else f"row{i + 1}"
            points.append(
                (
                    label,
                    parse_point(f"{row['x']},{row['y']},{row['z']}", f"{path.name} row {i + 1}"),
                )
            )
    if not points:
        raise InputError("no coordinates — pass --coords x,y,z or --coords-file CSV")
    return points


def read_measurements(path: str | Path) -> dict:
    """Read the head measurements of each participant from a TSV.

    The result maps participant label → :class:`~tmstarget.scalp.HeadMeasurements`; the TSV has
    participant_id and the three tape measurements.

    ``01`` and ``sub-01`` are one participant; a participant with two rows is refused.
    """
    from .._utils.ids import participant_label
    from ..scalp import check_measurements

    table = read_tsv(
        path,
        "--measurements",
        "pass a TSV with participant_id and the three measurements",
        dtype={"participant_id": str, "participant": str},
    )
    id_col = "participant_id" if "participant_id" in table.columns else "participant"
    need = {id_col, "nasion_inion_cm", "tragus_tragus_cm", "circumference_cm"}
    if not need <= set(table.columns):
        raise InputError(
            f"{Path(path).name} has columns {list(table.columns)}, "
            f"expected {sorted(need)} — rename them"
        )
    out = {}
    for i, row in table.iterrows():
        label = participant_label(row[id_col], f"{Path(path).name} row {i + 1}: participant")
        if label in out:
            raise InputError(
                f"{Path(path).name}: participant {label} has "
                "more than one row — keep one row per participant"
            )
        try:
            out[label] = check_measurements(
                row["nasion_inion_cm"], row["tragus_tragus_cm"], row["circumference_cm"]
            )
        except InputError as exc:
            raise InputError(f"{Path(path).name}, participant {label}: {exc}") from None
    return out


def read_sites_table(path: Path) -> pd.DataFrame:
    """Read the ``circuit build`` sites TSV as text columns (labels such as 01 kept as written)."""
    return read_tsv(
        path, "sites table", "pass a TSV with participant, x, y, z, improvement", dtype=str
    )
