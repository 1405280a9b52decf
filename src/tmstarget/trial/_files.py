"""Atomic writes for the trial subpackage (private).

Every output goes through the one atomic writer, :func:`tmstarget.io.derivatives.write_bytes_atomic`
(a temporary file in the destination directory, moved into place with :func:`os.replace`), so a
reader never sees a half-written file and a failed run leaves nothing behind.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..exceptions import InputError
from ..io.derivatives import write_bytes_atomic


def default_mode() -> int:
    """Permission bits of a new file under the current umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_text_atomic(path: str | os.PathLike[str], text: str, private: bool = False) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically and return the path.

    Parameters
    ----------
    path : str or path-like
        Destination file; its directory must exist.
    text : str
        The full file contents.
    private : bool
        Make the file readable by its owner only (for allocation keys); otherwise the usual umask
        applies.

    Returns
    -------
    pathlib.Path
        The destination path.

    Raises
    ------
    InputError
        If the destination directory does not exist.
    """
    dest = check_folder(path)
    return write_bytes_atomic(
        dest, text.encode("utf-8"), mode=0o600 if private else default_mode(), make_parents=False
    )


def check_folder(path: str | os.PathLike[str]) -> Path:
    """Return ``path`` as a Path if its folder exists.

    Trial outputs are written only into existing folders.
    """
    dest = Path(path)
    folder = dest.parent if str(dest.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(
            f"{dest}: directory {folder} does not exist — "
            "create it first or choose another output path"
        )
    return dest
