"""File access of the protocol package (calendar, session log, forms).

Each file passes the one writable-path check of :mod:`tmstarget.io.paths`, then is written by the
one atomic writer of :mod:`tmstarget.io.derivatives`.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..exceptions import InputError
from ..io.derivatives import write_bytes_atomic
from ..io.paths import check_output_file

__all__ = ["write_atomic"]


def write_atomic(path: str | os.PathLike[str], data: str | bytes) -> Path:
    r"""Write ``data`` to ``path`` all at once, synced to disk.

    The writer is :func:`tmstarget.io.derivatives.write_bytes_atomic`.

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
    target = check_output_file(path, "file", parents=False)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        return write_bytes_atomic(target, payload, make_parents=False, fsync=True)
    except OSError as exc:
        raise InputError(
            f"cannot write {target}: {exc.strerror} — choose a writable folder"
        ) from None
