"""Reading and writing trial files.

The files are outcome tables, allocation keys, concealed lists and reveal logs. The functions here
are the only ones of :mod:`tmstarget.trial` that touch files. Every write is atomic (temporary file
in the same directory, then :func:`os.replace`).
"""

from __future__ import annotations

import io
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from ..exceptions import InputError
from ..io.tables import read_tsv
from ._files import write_text_atomic

__all__ = [
    "jsonable",
    "read_allocation",
    "read_allocation_record",
    "read_concealed",
    "read_reveals",
    "read_trial_table",
    "table_to_tsv",
    "to_json",
    "write_allocation",
    "write_reveals",
    "write_table",
    "write_text_atomic",
]
from .randomization import Allocation, AllocationEntry, Reveal

PathLike = str | os.PathLike[str]

#: Columns of the concealed allocation list and of the reveal log, in file order.
CONCEALED_COLUMNS = ("sequence", "stratum", "position", "commitment", "chain")
REVEAL_COLUMNS = ("participant_id", "arm", "stratum", "sequence", "position", "salt", "commitment")
_KEY_FORMAT = "tmstarget-allocation-key"


def _read_tsv(path: PathLike, what: str, required: Sequence[str]) -> pd.DataFrame:
    frame = read_tsv(path, what, dtype=str, keep_default_na=False, comment=None)
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InputError(
            f"{path}: {what} lacks column(s) {', '.join(missing)} "
            f"(found: {', '.join(map(str, frame.columns))}) "
            "— add them to the header"
        )
    return frame.apply(lambda col: col.str.strip())


def read_trial_table(path: PathLike) -> pd.DataFrame:
    """Read a long-format outcome table as strings.

    Validate it with :func:`tmstarget.trial.validate_trial_table`.

    Parameters
    ----------
    path : str or path-like
        Tab-separated file with at least ``participant_id, arm, timepoint, madrs_total``.

    Returns
    -------
    pandas.DataFrame
        All cells as stripped strings.
    """
    return _read_tsv(path, "trial table", ("participant_id", "arm", "timepoint", "madrs_total"))


def table_to_tsv(frame: pd.DataFrame) -> str:
    """Render a table as TSV text (missing values as empty cells, floats without trailing noise)."""
    buffer = io.StringIO()
    frame.to_csv(buffer, sep="\t", index=False, lineterminator="\n", na_rep="")
    return buffer.getvalue()


def write_table(frame: pd.DataFrame, path: PathLike) -> Path:
    """Write a table as TSV atomically and return the path."""
    return write_text_atomic(path, table_to_tsv(frame))


def jsonable(value: object) -> object:
    """Return a result as plain JSON values.

    NaN and infinities become None, numpy scalars numbers, and keys text.
    """
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        return jsonable(value.item())
    return value


def to_json(obj: Mapping[str, object]) -> str:
    """Serialise a result mapping as JSON.

    NaN and infinities become ``null``; numpy scalars become numbers.
    """
    from .._utils.jsonio import dumps

    return dumps(jsonable(obj)) + "\n"


def write_allocation(allocation: Allocation, concealed_path: PathLike, key_path: PathLike) -> None:
    """Write the concealed list (for sites) and the key (for the person who reveals allocations).

    Parameters
    ----------
    allocation : Allocation
        The list to write.
    concealed_path : str or path-like
        TSV with ``sequence, stratum, position, commitment, chain`` (no arms).
    key_path : str or path-like
        JSON with the design, seed, chain head and every entry's arm and salt.
    """
    concealed = pd.DataFrame(allocation.concealed_rows(), columns=list(CONCEALED_COLUMNS))
    key = {
        "format": _KEY_FORMAT,
        "version": 1,
        "arms": list(allocation.arms),
        "ratio": list(allocation.ratio),
        "block_sizes": list(allocation.block_sizes),
        "seed": allocation.seed,
        "chain_head": allocation.chain_head,
        "entries": [asdict(e) for e in allocation.entries],
    }
    from ..io.derivatives import write_files_atomic
    from ._files import check_folder, default_mode

    for path in (key_path, concealed_path):
        check_folder(path)
    # both or neither (io.derivatives' one all-or-nothing writer): never a key without its list, nor
    # a new key beside an old list; the key is readable by its owner only
    write_files_atomic(
        [(key_path, to_json(key), 0o600), (concealed_path, table_to_tsv(concealed), default_mode())]
    )


def read_concealed(path: PathLike) -> list[dict[str, object]]:
    """Read a concealed allocation list written by :func:`write_allocation`."""
    frame = _read_tsv(path, "concealed allocation list", CONCEALED_COLUMNS)
    try:
        return [
            {**row, "sequence": int(row["sequence"]), "position": int(row["position"])}
            for row in frame.to_dict("records")
        ]
    except ValueError as exc:
        raise InputError(
            f"{path}: non-integer sequence or position ({exc}) "
            "— the list was altered; use the original file"
        ) from exc


def read_allocation(path: PathLike) -> Allocation:
    """Read an allocation key written by :func:`write_allocation`."""
    path = Path(path)
    try:
        key = json.loads(path.read_text(encoding="utf-8"))
        if key.get("format") != _KEY_FORMAT:
            raise ValueError("not an allocation key")
        entries = tuple(AllocationEntry(**e) for e in key["entries"])
        allocation = Allocation(
            tuple(key["arms"]),
            tuple(key["ratio"]),
            tuple(key["block_sizes"]),
            int(key["seed"]),
            entries,
        )
    except FileNotFoundError as exc:
        raise InputError(
            f"{path}: allocation key not found — pass the "
            "key written by 'tmstarget trial randomize'"
        ) from exc
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(
            f"{path}: not a valid allocation key ({exc}) — "
            "pass the key written by 'tmstarget trial randomize'"
        ) from exc
    if allocation.chain_head != key["chain_head"]:
        raise InputError(
            f"{path}: key entries do not reproduce the recorded "
            "chain head — the key was altered; stop and audit"
        )
    return allocation


def read_allocation_record(path: PathLike) -> pd.DataFrame:
    """Read who was randomized to which arm.

    Any TSV with ``participant_id`` and ``arm`` columns will do (e.g. a reveal log).

    Raises
    ------
    InputError
        If the file is missing, lacks the columns, is empty or lists a participant twice.
    """
    frame = _read_tsv(path, "allocation record", ("participant_id", "arm"))[
        ["participant_id", "arm"]
    ]
    if frame.empty:
        raise InputError(
            f"{path}: the allocation record has no rows — "
            "pass the reveal log written by 'tmstarget trial "
            "reveal'"
        )
    twice = frame["participant_id"][frame["participant_id"].duplicated()]
    if not twice.empty:
        raise InputError(
            f"{path}: participant {twice.iloc[0]} is listed "
            "more than once — keep one allocation per participant"
        )
    return frame


def read_reveals(path: PathLike) -> list[Reveal]:
    """Read a reveal log (an absent file means nothing was revealed yet)."""
    if not Path(path).exists():
        return []
    frame = _read_tsv(path, "reveal log", REVEAL_COLUMNS)
    try:
        return [
            Reveal(
                r["participant_id"],
                r["arm"],
                r["stratum"],
                int(r["sequence"]),
                int(r["position"]),
                r["salt"],
                r["commitment"],
            )
            for r in frame.to_dict("records")
        ]
    except ValueError as exc:
        raise InputError(
            f"{path}: non-integer sequence or position ({exc}) — the log was altered; restore it"
        ) from exc


def write_reveals(reveals: Sequence[Reveal], path: PathLike) -> Path:
    """Write the whole reveal log atomically (the caller appends the new record first)."""
    return write_table(
        pd.DataFrame([asdict(r) for r in reveals], columns=list(REVEAL_COLUMNS)), path
    )
