"""File access of the protocol package (calendar, session log): checks, then the one atomic writer of
:mod:`tmstarget.io.derivatives`."""

from __future__ import annotations

import os
from pathlib import Path

from ..exceptions import InputError
from ..io.derivatives import write_bytes_atomic

__all__ = ["check_writable", "write_atomic"]


def check_writable(path: str | os.PathLike[str]) -> Path:
    """Return ``path`` as a Path if a file can be written there (its folder exists, it is not a folder).

    Call it for every output before writing any, so that a bad second path leaves no first file behind.

    Raises
    ------
    InputError
        Naming the path and how to fix it.
    """
    target = Path(path)
    folder = target.parent
    if not folder.is_dir():
        raise InputError(f"cannot write {target}: folder {folder} does not exist — create it or choose another path")
    if target.is_dir():
        raise InputError(f"cannot write {target}: it is a folder — give a file name")
    return target


def write_atomic(path: str | os.PathLike[str], data: str | bytes) -> Path:
    r"""Write ``data`` to ``path`` all at once (:func:`tmstarget.io.derivatives.write_bytes_atomic`, synced to disk).

    Parameters
    ----------
    path : path-like
        Destination; its folder must exist.
    data : str or bytes
        Content; text is written as UTF-8 with ``\\n`` line ends.

    Returns
    -------
    pathlib.Path
        The destination.

    Raises
    ------
    InputError
        When the folder does not exist or is not writable (no partial file is left behind).
    """
    target = check_writable(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        return write_bytes_atomic(target, payload, make_parents=False, fsync=True)
    except OSError as exc:
        raise InputError(f"cannot write {target}: {exc.strerror} — choose a writable folder") from None
