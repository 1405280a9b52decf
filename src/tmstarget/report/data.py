"""Find and read what ``tmstarget target`` (and ``tmstarget reliability``) wrote, for the reports.

The reports render from these files only; nothing here recomputes a target. Problems with what the user
asked for (unknown participant, missing target JSON, ambiguous circuit) raise
:class:`~tmstarget.exceptions.InputError`; problems with optional files are left to the caller, which
shows a note instead of a figure.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..exceptions import InputError
from ..io.derivatives import entities, participant_dir

TARGET_SUFFIX = "_target.json"


def check_label(value: str, what: str) -> str:
    """A BIDS label without its prefix; refuses path separators (a label is a folder name)."""
    label = str(value).strip()
    prefix = {"participant": "sub-", "session": "ses-"}.get(what, "")
    label = label.removeprefix(prefix) if prefix else label
    if not label or label in {".", ".."} or any(c in label for c in "/\\\0"):
        raise InputError(f"{what} label {value!r} is not a usable label — pass the label without '{prefix or 'desc-'}', e.g. 01")
    return label


def check_out_dir(out_dir: Path | str) -> Path:
    """The derivatives folder written by ``tmstarget target``; it must exist."""
    out = Path(out_dir)
    if not out.is_dir():
        raise InputError(f"output folder {out} not found — pass the OUT_DIR given to 'tmstarget target'")
    return out


def _subdirs(folder: Path, prefix: str) -> list[str]:
    if not folder.is_dir():
        return []
    return sorted(p.name[len(prefix):] for p in folder.iterdir() if p.is_dir() and p.name.startswith(prefix))


def _circuits_in(folder: Path, stem: str) -> list[str]:
    """Circuits with a target JSON named ``<stem>_desc-<circuit>_target.json`` in ``folder``."""
    head = f"{stem}_desc-"
    if not folder.is_dir():
        return []
    return sorted(
        p.name[len(head): -len(TARGET_SUFFIX)]
        for p in folder.iterdir()
        if p.is_file() and p.name.startswith(head) and p.name.endswith(TARGET_SUFFIX)
    )


def available_reports(out_dir: Path | str, participant: str, session: str | None = None, circuit: str | None = None) -> list[tuple[str | None, str]]:
    """Every (session, circuit) of a participant that has a target JSON, optionally filtered.

    Raises
    ------
    InputError
        Unknown participant or session, or nothing matches.
    """
    out = check_out_dir(out_dir)
    label = check_label(participant, "participant")
    if not (out / f"sub-{label}").is_dir():
        found = ", ".join(_subdirs(out, "sub-")) or "none"
        raise InputError(f"participant {label!r} not found in {out} (participants: {found}) — check --participant-label")
    sessions = [check_label(session, "session")] if session else [None, *_subdirs(out / f"sub-{label}", "ses-")]
    if session and not participant_dir(out, label, sessions[0]).is_dir():
        found = ", ".join(_subdirs(out / f"sub-{label}", "ses-")) or "none"
        raise InputError(f"sub-{label} has no session {sessions[0]!r} in {out} (sessions: {found}) — check --session")
    pairs = [(s, c) for s in sessions for c in _circuits_in(participant_dir(out, label, s), entities(label, s))]
    if circuit is not None:
        pairs = [(s, c) for s, c in pairs if c == circuit]
    if not pairs:
        if circuit is None:
            raise InputError(f"sub-{label} has no target JSON in {out} — run 'tmstarget target' for it first")
        found = ", ".join(sorted({c for s in sessions for c in _circuits_in(participant_dir(out, label, s), entities(label, s))})) or "none"
        raise InputError(f"sub-{label} has no {circuit!r} target in {out} (circuits: {found}) — check --circuit")
    return pairs


def find_target(out_dir: Path | str, participant: str, session: str | None = None, circuit: str | None = None) -> Path:
    """Path of one participant's target JSON; the choice must be unambiguous.

    Raises
    ------
    InputError
        Unknown participant, missing target, or several sessions/circuits when none was named.
    """
    label = check_label(participant, "participant")
    pairs = available_reports(out_dir, label, session, circuit)
    if session is None:
        if not any(s is None for s, _ in pairs):
            sessions = sorted({str(s) for s, _ in pairs})
            raise InputError(f"sub-{label} has sessions {', '.join(sessions)} — pass one (--session)")
        pairs = [(s, c) for s, c in pairs if s is None]
    circuits = sorted({c for _, c in pairs})
    if len(circuits) > 1:
        raise InputError(f"sub-{label} has targets for circuits {', '.join(circuits)} — pass one (--circuit)")
    ses, circ = pairs[0]
    folder = participant_dir(Path(out_dir), label, ses)
    return folder / f"{entities(label, ses)}_desc-{circ}{TARGET_SUFFIX}"


def read_json_object(path: Path | str, what: str, fix: str) -> dict:
    """A JSON object from a file the user named.

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


def read_target(path: Path | str) -> dict:
    """A target JSON (the output contract), checked for the keys the reports need.

    Raises
    ------
    InputError
        Unreadable file, or no participant / circuit / three finite ``target_mni`` numbers.
    """
    obj = read_json_object(path, "target JSON", "run 'tmstarget target' to (re)write it")
    xyz = obj.get("target_mni")
    ok = isinstance(xyz, list) and len(xyz) == 3 and all(isinstance(v, (int, float)) and math.isfinite(v) for v in xyz)
    if not ok or not obj.get("participant") or not obj.get("circuit"):
        raise InputError(f"{Path(path).name} lacks 'participant', 'circuit' or a 3-number 'target_mni' — pass a target JSON written by 'tmstarget target'")
    return obj


def sibling(target_json: Path, suffix: str) -> Path:
    """A file beside the target JSON: ``<p>_desc-<circuit>_<suffix>`` (e.g. ``score.nii.gz``)."""
    return target_json.with_name(target_json.name[: -len("target.json")] + suffix)


def qc_path(target_json: Path, target: dict, what: str) -> Path:
    """``<p>_desc-tsnr_map.nii.gz`` or ``<p>_desc-motion_timeseries.tsv`` beside the target JSON."""
    stem = entities(str(target["participant"]), target.get("session"))
    name = {"tsnr": f"{stem}_desc-tsnr_map.nii.gz", "motion": f"{stem}_desc-motion_timeseries.tsv"}[what]
    return target_json.with_name(name)


def load_map(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """A 3-D map as (float32 data, affine)."""
    import nibabel as nib

    img = nib.load(str(path))
    data = np.asanyarray(img.dataobj).astype(np.float32)
    if data.ndim != 3:
        raise ValueError(f"{path.name} is {data.ndim}-D, expected a 3-D map")
    return data, np.asarray(img.affine, float)


@dataclass(frozen=True)
class MotionRun:
    """Framewise displacement (mm) and censoring flags of one run."""

    name: str
    fd_mm: np.ndarray
    censored: np.ndarray


def read_motion(path: Path) -> list[MotionRun]:
    """The motion/censoring TSV (``run, volume, framewise_displacement, censored``), per run in file order."""
    import pandas as pd

    table = pd.read_csv(path, sep="\t", dtype={"run": str})
    need = {"run", "volume", "framewise_displacement", "censored"}
    if not need <= set(table.columns):
        raise ValueError(f"{path.name} has columns {list(table.columns)}, expected {sorted(need)}")
    out = []
    for name in dict.fromkeys(table["run"]):
        rows = table[table["run"] == name].sort_values("volume", kind="stable")
        fd = pd.to_numeric(rows["framewise_displacement"], errors="coerce").fillna(0.0).to_numpy(float)
        out.append(MotionRun(str(name), fd, rows["censored"].astype(int).to_numpy() > 0))
    return out


def read_json_optional(path: Path) -> dict | None:
    """A JSON object if the file exists, else None (a broken file raises ``ValueError`` for a note)."""
    if not path.is_file():
        return None
    obj = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(obj, dict):
        raise ValueError(f"{path.name} does not hold a JSON object")
    return obj


def cohort_targets(out_dir: Path | str) -> list[tuple[Path, dict]]:
    """Every target JSON under the derivatives folder, sorted by path.

    Raises
    ------
    InputError
        No target JSON at all, or one that is not a valid target.
    """
    out = check_out_dir(out_dir)
    files = sorted(p for p in out.rglob(f"*{TARGET_SUFFIX}") if p.is_file() and not p.name.startswith("."))
    if not files:
        raise InputError(f"no *{TARGET_SUFFIX} under {out} — run 'tmstarget target' first or pass its output folder")
    return [(p, read_target(p)) for p in files]
