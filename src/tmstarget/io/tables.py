"""Reading the user's small input files (TSV tables, forms, logs): every problem as one :class:`InputError`.

One place decides what a missing file, a folder given as a file, an unreadable or non-UTF-8 file, an empty
file and a comma-separated file given where tabs are expected say — so every command says it the same way
(issue 16).
"""

from __future__ import annotations

import io
from pathlib import Path

from ..exceptions import InputError


def read_input_text(path: Path | str, what: str, fix: str = "check the path") -> str:
    """The text of an input file (UTF-8, a byte-order mark tolerated).

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
        raise InputError(f"{what} {path} is a folder, not a file — give the path of the file itself")
    if not file.is_file():
        raise InputError(f"{what} {path} not found — {fix}")
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{what} {path} is not UTF-8 text — save it as UTF-8 (tab-separated) text") from None
    except OSError as exc:
        raise InputError(f"{what} {path} cannot be read ({exc.strerror or exc}) — check its permissions") from None
    if not text.strip():
        raise InputError(f"{what} {path} is empty — fill it in (a header line, then one row per record)")
    return text


def check_tab_separated(text: str, path: Path | str, what: str) -> None:
    """Refuse a table whose header line has no tab but commas or semicolons (a CSV given as TSV).

    Without this check such a file parses as one column and the message would be "column x is missing".
    """
    header = next((line for line in text.splitlines() if line.strip()), "")
    if "\t" not in header and ("," in header or ";" in header):
        sep = "commas" if "," in header else "semicolons"
        raise InputError(f"{what} {path} is separated by {sep}, not tabs — save it as tab-separated text (TSV)")


def read_tsv_text(path: Path | str, what: str, fix: str = "check the path") -> str:
    """:func:`read_input_text` plus :func:`check_tab_separated`: the text of a tab-separated input file."""
    text = read_input_text(path, what, fix)
    check_tab_separated(text, path, what)
    return text


def read_tsv(path: Path | str, what: str, fix: str = "check the path", **read_csv_kwargs):
    """A tab-separated input file as a :class:`pandas.DataFrame` (every problem as one :class:`InputError`).

    ``read_csv_kwargs`` go to :func:`pandas.read_csv` (``sep`` is always a tab).
    """
    import pandas as pd

    text = read_tsv_text(path, what, fix)
    try:
        return pd.read_csv(io.StringIO(text), sep="\t", **read_csv_kwargs)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{what} {path} is not a readable tab-separated table ({first}) — one header line, "
                         "then rows with the same number of tab-separated cells") from None
