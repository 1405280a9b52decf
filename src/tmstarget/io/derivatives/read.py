"""Reading what ``tmstarget`` wrote: target and reliability JSONs, score/QC maps, motion tables.

Problems with files the user named raise :class:`~tmstarget.exceptions.InputError`; optional files
(QC maps, motion tables) raise ``ValueError`` for the caller to turn into a note.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...exceptions import InputError
from .names import circuit_of, score_path, target_files


def read_json_object(path: Path | str, what: str, fix: str) -> dict:
    """Read a JSON object from a file the user named.

    Parameters
    ----------
    path : path
        The file.
    what : str
        How the message names it (e.g. ``"target JSON"`` or ``"--coil-json"``).
    fix : str
        How to fix a missing or unreadable file (the message's second half).

    Raises
    ------
    InputError
        Missing or unreadable file, or not a JSON object.
    """
    path = Path(path)
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{what} {path} not found — {fix}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read {what} {path}: {exc} — {fix}") from None
    if not isinstance(obj, dict):
        raise InputError(f"{what} {path} does not hold a JSON object — {fix}")
    return obj


def read_json_optional(path: Path) -> dict | None:
    """Read a JSON object if the file exists, else return None.

    A broken file raises ``ValueError`` for a note.
    """
    if not path.is_file():
        return None
    obj = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(obj, dict):
        raise ValueError(f"{path.name} does not hold a JSON object")
    return obj


def read_target(path: Path | str, need_circuit: bool = False) -> dict:
    """Read a target JSON (docs/outputs.md) and check its fields.

    It must have ``participant``, three finite ``target_mni`` numbers and (when ``need_circuit``)
    ``circuit``.

    Raises
    ------
    InputError
        Missing or unreadable file, or a required field absent.
    """
    if not Path(path).exists():
        raise InputError(
            f"target JSON {path} does not exist — pass a file written by 'tmstarget target'"
        )
    obj = read_json_object(
        path,
        "target JSON",
        "pass a file written by 'tmstarget target' (or run it to rewrite this one)",
    )
    xyz = obj.get("target_mni")
    ok = (
        isinstance(xyz, list)
        and len(xyz) == 3
        and all(isinstance(v, (int, float)) and math.isfinite(v) for v in xyz)
    )
    if not ok or obj.get("participant") in (None, "") or (need_circuit and not obj.get("circuit")):
        need = "'participant', 'circuit'" if need_circuit else "'participant'"
        raise InputError(
            f"{Path(path).name} lacks {need} or a 3-number "
            "'target_mni' — pass a target JSON written by "
            "'tmstarget target'"
        )
    return obj


def target_circuits(out_dir: Path | str) -> list[str]:
    """Circuit labels of the target JSONs under a derivatives folder."""
    return sorted({circuit_of(f) for f in target_files(out_dir)})


def read_targets(
    out_dir: Path | str, circuit: str, participants: list[str] | None = None
) -> list[tuple[Path, dict]]:
    """``(path, target)`` of every target JSON of one circuit under a derivatives folder.

    Optionally restricted to some participants.

    Raises
    ------
    InputError
        An unreadable target, or none at all (the message lists the circuits present).
    """
    keep = {p.removeprefix("sub-") for p in participants} if participants else None
    found = [(f, read_target(f)) for f in target_files(out_dir, circuit)]
    found = [(f, d) for f, d in found if keep is None or str(d["participant"]) in keep]
    if not found:
        labels = target_circuits(out_dir)
        hint = (
            f" (circuits there: {', '.join(labels)}; pass --circuit-label)"
            if labels
            else " (none at all: run the participant level first)"
        )
        raise InputError(
            f"no {circuit} targets under {out_dir}{hint} — "
            f"e.g. tmstarget target FMRIPREP_DIR {out_dir} "
            "participant"
        )
    return found


def read_circuit_targets(out_dir: Path | str, circuit: str | None = None) -> tuple[str, list[dict]]:
    """Return the circuit and its target JSONs under a derivatives folder.

    The circuit is the only one present when ``circuit`` is None.

    Raises
    ------
    InputError
        No target at all, several circuits and none chosen, or none of the chosen circuit.
    """
    labels = target_circuits(out_dir)
    if not labels:
        raise InputError(
            "no target JSONs (sub-*_desc-<circuit>_target.json) "
            f"under {out_dir} — run 'tmstarget target' first"
        )
    if circuit is None:
        if len(labels) != 1:
            raise InputError(
                f"target JSONs of {len(labels)} circuits under "
                f"{out_dir} (found: {', '.join(labels)}) — "
                "choose one with --circuit-label"
            )
        circuit = labels[0]
    targets = [read_target(f) for f in target_files(out_dir, circuit)]
    if not targets:
        raise InputError(
            f"no *_desc-{circuit}_target.json under {out_dir} "
            "— run 'tmstarget target' first or check --circuit-label"
        )
    return circuit, targets


def load_map(path: Path | str, what: str = "map") -> tuple[np.ndarray, np.ndarray]:
    """Load a 3-D NIfTI map (a 4-D file with one volume is accepted) as (float32 data, affine).

    Raises
    ------
    InputError
        Unreadable file, or not one volume (``what`` names the file in the message).
    """
    import nibabel as nib

    path = Path(path)
    try:
        img = nib.load(str(path))
        data = np.asanyarray(img.dataobj).astype(np.float32)
    except Exception as exc:  # noqa: BLE001 - nibabel raises many types for unreadable files
        raise InputError(f"cannot read {what} {path}: {exc} — pass a NIfTI file") from exc
    if data.ndim == 4 and data.shape[3] == 1:
        data = data[..., 0]
    if data.ndim != 3:
        raise InputError(f"{what} {path} has shape {data.shape}, expected 3-D — pass one volume")
    return data, np.asarray(img.affine, float)


def load_score_map(target_json: Path | str) -> tuple[np.ndarray, np.ndarray] | None:
    """Load the score map beside a target JSON (the sibling rule) as (float32 data, affine).

    Zeros and NaN mean outside the search region, and both are NaN in the result. Return None when
    there is no score map.
    """
    path = score_path(target_json)
    if path is None or not path.is_file():
        return None
    data, affine = load_map(path, "score map")
    data[data == 0] = np.nan
    return data, affine


@dataclass(frozen=True)
class MotionRun:
    """Framewise displacement (mm) and censoring flags of one run."""

    name: str
    fd_mm: np.ndarray
    censored: np.ndarray


def read_motion(path: Path) -> list[MotionRun]:
    """Read the motion/censoring TSV, per run in file order.

    Its columns are ``run, volume, framewise_displacement, censored``.
    """
    import pandas as pd

    table = pd.read_csv(path, sep="\t", dtype={"run": str})
    need = {"run", "volume", "framewise_displacement", "censored"}
    if not need <= set(table.columns):
        raise ValueError(f"{path.name} has columns {list(table.columns)}, expected {sorted(need)}")
    out = []
    for name in dict.fromkeys(table["run"]):
        rows = table[table["run"] == name].sort_values("volume", kind="stable")
        fd = (
            pd.to_numeric(rows["framewise_displacement"], errors="coerce")
            .fillna(0.0)
            .to_numpy(float)
        )
        out.append(MotionRun(str(name), fd, rows["censored"].astype(int).to_numpy() > 0))
    return out
