"""BIDS-derivatives outputs, written atomically (temporary file, then rename)."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np

from .. import NOTICE, __version__


@contextmanager
def atomic_path(path: Path | str) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it to ``path``, on error delete it.

    The temporary name keeps the final suffix (e.g. ``.nii.gz``) so writers that look at the extension work.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = "".join(path.suffixes)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name.removesuffix(suffix)}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o644)
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_text_atomic(path: Path | str, text: str) -> Path:
    """Write text to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json_atomic(path: Path | str, obj: Any) -> Path:
    """Write ``obj`` as indented JSON (keys in insertion order) atomically."""
    return write_text_atomic(path, json.dumps(obj, indent=2) + "\n")


def write_nifti_atomic(path: Path | str, data: np.ndarray, affine: np.ndarray, intent: str | None = None) -> Path:
    """Write a float32 NIfTI image atomically (deterministic bytes: no timestamps are stored)."""
    img = nib.Nifti1Image(np.asarray(data, dtype=np.float32), affine)
    img.header.set_xyzt_units("mm", "sec")
    img.header.set_sform(affine, code=4)
    img.header.set_qform(affine, code=4)
    if intent:
        img.header["descrip"] = intent[:79].encode()
    with atomic_path(path) as tmp:
        nib.save(img, str(tmp))
    return Path(path)


def sha256(path: Path | str, chunk: int = 1 << 22) -> str:
    """SHA-256 hex digest of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def entities(participant: str, session: str | None) -> str:
    """BIDS filename prefix ``sub-<l>[_ses-<s>]``."""
    return f"sub-{participant}" + (f"_ses-{session}" if session else "")


def participant_dir(out_dir: Path, participant: str, session: str | None) -> Path:
    """Output folder ``OUT/sub-<l>[/ses-<s>]``."""
    d = Path(out_dir) / f"sub-{participant}"
    return d / f"ses-{session}" if session else d


def target_path(out_dir: Path, participant: str, session: str | None, circuit: str, suffix: str = "target", ext: str = ".json") -> Path:
    """Path ``OUT/sub-<l>/[ses-<s>/]sub-<l>[_ses-<s>]_desc-<circuit>_<suffix><ext>``."""
    return participant_dir(out_dir, participant, session) / f"{entities(participant, session)}_desc-{circuit}_{suffix}{ext}"


def write_dataset_description(out_dir: Path, source: Path | None = None) -> Path:
    """Write ``OUT/dataset_description.json`` (BIDS derivative, ``GeneratedBy`` tmstarget) if absent."""
    path = Path(out_dir) / "dataset_description.json"
    desc: dict[str, Any] = {
        "Name": "tmstarget connectivity-guided TMS targets",
        "BIDSVersion": "1.9.0",
        "DatasetType": "derivative",
        "GeneratedBy": [
            {
                "Name": "tmstarget",
                "Version": __version__,
                "Description": f"fMRI-guided TMS targeting ({NOTICE})",
            }
        ],
    }
    if source is not None:
        desc["SourceDatasets"] = [{"URL": Path(source).resolve().as_uri()}]
    if path.exists():
        try:
            old = json.loads(path.read_text())
            if old.get("GeneratedBy") == desc["GeneratedBy"]:
                return path
        except (OSError, json.JSONDecodeError):
            pass
    return write_json_atomic(path, desc)
