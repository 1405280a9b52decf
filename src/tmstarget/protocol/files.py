"""Atomic writers for protocol outputs (calendar, session log) — the only file access in this package."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ..exceptions import InputError

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
    r"""Write ``data`` to ``path`` all at once: a temporary file in the same folder, then ``os.replace``.

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
    folder = target.parent
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise InputError(f"cannot write {target}: {exc.strerror} — choose a writable folder") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return target
