"""Output locations checked before the work starts, and file-system errors as one line.

Long computations must not end in a traceback because the output folder is read-only, is a file, or
the disk is full: commands call :func:`check_output_dir` / :func:`check_output_file` on every place
they will write before they start, and the command line turns any remaining :class:`OSError` into
one line with :func:`os_error_message`.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from ..exceptions import InputError

_FIXES = {
    errno.EACCES: "choose an output location you may write to, or fix its permissions",
    errno.EPERM: "choose an output location you may write to, or fix its permissions",
    errno.EROFS: "the file system is read-only — choose an output location on a writable disk",
    errno.ENOSPC: "the disk is full — free some space or choose another disk",
    errno.EDQUOT: "the disk quota is exceeded — free some space or choose another disk",
    errno.ENOTDIR: "a file stands where a folder is expected — rename "
    "or remove it, or choose another path",
    errno.EISDIR: "a folder stands where a file is expected — give a file name",
    errno.ENOENT: "check the path",
    errno.ENAMETOOLONG: "use a shorter path",
}


def os_error_message(exc: OSError) -> str:
    """One line for an :class:`OSError`: what failed, on which path, and the usual fix."""
    where = exc.filename if exc.filename is not None else "a file"
    if getattr(exc, "filename2", None):
        where = f"{where} → {exc.filename2}"
    reason = exc.strerror or type(exc).__name__
    return f"{reason}: {where} — {_FIXES.get(exc.errno, 'check the path and the disk')}"


def _existing_ancestor(path: Path) -> Path:
    for parent in (path, *path.parents):
        if parent.exists():
            return parent
    return Path(".")


def _dir_problem(path: Path) -> str | None:
    """Why files cannot be written into folder ``path`` (created if missing), or None."""
    base = _existing_ancestor(path)
    if not base.is_dir():
        return f"{base} is a file"
    if not os.access(base, os.W_OK | os.X_OK):
        return f"{base} is not writable"
    return None


def check_output_dir(path: Path | str, what: str = "output folder") -> Path:
    """Refuse, before any work, an output folder that cannot be created or written.

    The folder may not exist yet; then its nearest existing ancestor must be a writable folder.

    Raises
    ------
    InputError
        ``path`` is a file, something on the way is a file, or the folder (or ancestor) is not
        writable.
    """
    path = Path(path)
    problem = _dir_problem(path)
    if problem:
        raise InputError(
            f"cannot write into {what} {path}: {problem} — choose a writable folder path"
        )
    return path


def check_output_file(path: Path | str, what: str = "output file", *, parents: bool = True) -> Path:
    """Refuse, before any work, an output file whose folder cannot be written or which is a folder.

    The one writable-path check: call it for every output before writing any, so that a bad second
    path leaves no first file behind.

    Parameters
    ----------
    path : path-like
        The file to write.
    what : str
        What the file is, for the message.
    parents : bool
        True: the folder may be missing if it can be created. False: the folder must exist (the
        protocol's calendar, session log and forms are written only into existing folders).

    Raises
    ------
    InputError
        ``path`` is a folder, or its folder cannot be created (or is missing, with
        ``parents=False``) or written, or it exists and is read-only.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{what} {path} is a folder — give a file name")
    if not parents and not path.parent.is_dir():
        raise InputError(
            f"cannot write {what} {path}: folder {path.parent} "
            "does not exist — create it or choose another "
            "path"
        )
    problem = _dir_problem(path.parent)
    if problem:
        raise InputError(f"cannot write {what} {path}: {problem} — choose a writable location")
    if path.exists() and not os.access(path, os.W_OK):
        raise InputError(
            f"{what} {path} exists and is read-only — choose another name or fix its permissions"
        )
    return path
