"""Atomic writes and all-or-nothing groups of them.

An atomic write goes to a temporary file beside the destination, which is then renamed.
"""

from __future__ import annotations

import errno
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np

from .maps import nifti_image

#: Permissions of written files (readable by everyone, as ``tmstarget`` has always written them).
FILE_MODE = 0o644


def _temp_beside(path: Path) -> tuple[int, Path]:
    """Create a new hidden temporary file in ``path``'s folder; return ``(fd, path)``.

    The temporary file keeps the final suffix of ``path`` (``.nii.gz``).
    """
    suffix = "".join(path.suffixes)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.name.removesuffix(suffix)}.", suffix=suffix, dir=path.parent
    )
    return fd, Path(tmp)


@contextmanager
def atomic_path(
    path: Path | str, mode: int = FILE_MODE, make_parents: bool = True
) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it to ``path``, on error delete it.

    The temporary name keeps the final suffix (e.g. ``.nii.gz``) so writers that look at the
    extension work.

    Parameters
    ----------
    path : path-like
        Destination.
    mode : int
        Permission bits of the written file.
    make_parents : bool
        Create missing folders (otherwise the folder must exist).
    """
    path = Path(path)
    if make_parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_path = _temp_beside(path)
    os.close(fd)
    try:
        yield tmp_path
        os.chmod(tmp_path, mode)
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_bytes_atomic(
    path: Path | str,
    data: bytes,
    mode: int = FILE_MODE,
    make_parents: bool = True,
    fsync: bool = False,
) -> Path:
    """Write ``data`` to ``path`` atomically (``fsync``: flush to disk before the rename)."""
    with atomic_path(path, mode, make_parents) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
            if fsync:
                fh.flush()
                os.fsync(fh.fileno())
    return Path(path)


def write_text_atomic(path: Path | str, text: str) -> Path:
    """Write text (UTF-8, line ends as given) to ``path`` atomically."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: Path | str, obj: Any) -> Path:
    """Write ``obj`` as indented JSON (keys in insertion order) atomically."""
    from ..._utils.jsonio import dumps

    return write_text_atomic(path, dumps(obj) + "\n")


def write_image_atomic(path: Path | str, img) -> Path:
    """Save a nibabel image (NIfTI, GIFTI, CIFTI) atomically."""
    with atomic_path(path) as tmp:
        nib.save(img, str(tmp))
    return Path(path)


def write_nifti_atomic(
    path: Path | str, data: np.ndarray, affine: np.ndarray, intent: str | None = None
) -> Path:
    """Write a float32 NIfTI image atomically (deterministic bytes: no timestamps are stored)."""
    return write_image_atomic(path, nifti_image(data, affine, intent))


def sha256(path: Path | str, chunk: int = 1 << 22) -> str:
    """SHA-256 hex digest of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


@contextmanager
def all_or_nothing(paths: Iterable[Path | str] = ()) -> Iterator[Callable[[Path | str], Path]]:
    """Group writes so that a failure removes every file the group created.

    Files it replaced stay replaced.

    Yields a function ``track(path) -> path`` registering more paths the group may create; ``paths``
    are registered at the start. A path counts as created when it did not exist when registered.

    Examples
    --------
    >>> with all_or_nothing([score, target_json]) as track:   # doctest: +SKIP
    ...     write_nifti_atomic(score, ...)
    ...     write_json_atomic(track(extra), ...)
    ...     write_json_atomic(target_json, ...)
    """
    created: list[Path] = []

    def track(path: Path | str) -> Path:
        path = Path(path)
        if not path.exists() and path not in created:
            created.append(path)
        return path

    for p in paths:
        track(p)
    try:
        yield track
    except BaseException:
        for p in created:
            p.unlink(missing_ok=True)
        raise


def write_files_atomic(contents: Iterable[tuple], mode: int = FILE_MODE) -> list[Path]:
    """Write several files whose contents are already computed: all of them, or none changed.

    Every file is first written to a temporary file beside its destination; only when all are
    written are they renamed into place (one ``os.replace`` each, which cannot fail half-way on one
    file system). A failure while writing (disk full, permissions) therefore leaves every
    destination as it was, including files that existed before, unlike :func:`all_or_nothing`, which
    can only remove the files a group created.

    Parameters
    ----------
    contents : iterable of (path, bytes or str) or (path, bytes or str, mode)
        Destinations and their contents (text is written as UTF-8), optionally with the file's own
        permission bits (e.g. ``0o600`` for a secret key).
    mode : int
        Permission bits of the written files without their own.

    Returns
    -------
    list of Path
        The destinations, in the order given.
    """
    staged: list[tuple[Path, Path]] = []
    try:
        for item in contents:
            path, content = Path(item[0]), item[1]
            file_mode = item[2] if len(item) > 2 else mode
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = _temp_beside(path)
            staged.append((tmp, path))
            with os.fdopen(fd, "wb") as fh:
                fh.write(content.encode("utf-8") if isinstance(content, str) else content)
            os.chmod(tmp, file_mode)
        for _, path in staged:  # the one thing a rename in the same folder can trip on
            if path.is_dir():
                raise IsADirectoryError(
                    errno.EISDIR, "a folder stands where a file is to be written", str(path)
                )
        for tmp, path in staged:
            os.replace(tmp, path)
    finally:
        for tmp, _ in staged:
            if tmp.exists():
                tmp.unlink()
    return [path for _, path in staged]
