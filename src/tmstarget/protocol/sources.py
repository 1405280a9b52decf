"""Where the dose's numbers come from: the ``mt`` result and the coil plan (issue 29).

``tmstarget protocol --rmt-json FILE`` reads the resting motor threshold from ``tmstarget mt
--json`` output, and ``--coil-json FILE`` the scalp-to-cortex distance at the target from
``tmstarget coil --json`` output, so the numbers flow from step to step instead of being typed
again. A hand-typed depth that disagrees with the plan by more than :data:`DEPTH_TOLERANCE_MM`
gives a warning. The Stokes correction itself is :func:`tmstarget.protocol.dose.depth_adjusted_mt`,
unchanged.

Research use; not a medical device.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..exceptions import InputError

__all__ = ["DEPTH_TOLERANCE_MM", "depth_from_coil_plan", "reconcile_depth", "rmt_from_mt_result"]

#: A hand-typed target depth further than this from the coil plan's (mm) gives a warning.
DEPTH_TOLERANCE_MM = 5.0

_MT_FIX = "pass the JSON printed by 'tmstarget mt TRIALS.tsv --json'"
_COIL_FIX = "pass the JSON printed by 'tmstarget coil --json'"


def _read(path: str | os.PathLike[str], what: str, fix: str) -> tuple[dict, dict[str, str]]:
    from ..io.derivatives import read_json_object, sha256

    obj = read_json_object(path, what, fix)
    return obj, {"file": str(path), "sha256": sha256(Path(path))}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def rmt_from_mt_result(path: str | os.PathLike[str]) -> tuple[float, dict[str, Any]]:
    """Read the resting motor threshold from ``tmstarget mt --json`` output.

    The threshold is that of the file's last session (the most recent measurement): its
    relative-frequency RMT when confirmed (Rossini et al. 2015, the clinical standard), else its
    ML-PEST threshold when the hunt is done (95% interval <= 5% MSO wide); a session with neither
    is refused, never replaced by an older session's value.

    Parameters
    ----------
    path : path-like
        The saved output of ``tmstarget mt TRIALS.tsv --json``.

    Returns
    -------
    rmt : float
        % of maximum stimulator output.
    source : dict
        ``file``, ``sha256``, ``session``, ``method`` (``relative frequency`` or ``ML-PEST``) and
        ``n_trials``, recorded in the protocol JSON.

    Raises
    ------
    InputError
        Not an ``mt`` result, a missing or non-finite threshold, or an unfinished last session.
    """
    doc, source = _read(path, "--rmt-json", _MT_FIX)
    sessions = doc.get("sessions")
    if "criterion_uv" not in doc or not isinstance(sessions, list):
        raise InputError(
            f"--rmt-json {path} is not a motor-threshold result (no criterion_uv and sessions) "
            f"— {_MT_FIX}"
        )
    if not sessions or not isinstance(sessions[-1], Mapping):
        raise InputError(f"--rmt-json {path} has no session — {_MT_FIX}")
    last = sessions[-1]
    label = last.get("session") or "(unnamed)"
    rf, pest = last.get("relative_frequency"), last.get("pest")
    if not isinstance(rf, Mapping) or not isinstance(pest, Mapping):
        raise InputError(
            f"--rmt-json {path}: session {label} lacks relative_frequency or pest — {_MT_FIX}"
        )
    for key, block in (("relative_frequency", rf), ("pest", pest)):
        value = block.get("threshold_pct_mso")
        if value is not None and _number(value) is None:
            raise InputError(
                f"--rmt-json {path}: session {label} {key}.threshold_pct_mso is {value!r}, not a "
                f"finite number — {_MT_FIX}"
            )
    if rf.get("confirmed") is True and _number(rf.get("threshold_pct_mso")) is not None:
        rmt, method = float(rf["threshold_pct_mso"]), "relative frequency"
    elif pest.get("done") is True and _number(pest.get("threshold_pct_mso")) is not None:
        rmt, method = float(pest["threshold_pct_mso"]), "ML-PEST"
    else:
        raise InputError(
            f"--rmt-json {path}: session {label} has no finished threshold (relative frequency "
            "not confirmed, ML-PEST not done) — test more pulses ('tmstarget mt --interactive') "
            "or pass --rmt"
        )
    if not 1.0 <= rmt <= 100.0:
        raise InputError(
            f"--rmt-json {path}: threshold {rmt:g} is not a % MSO between 1 and 100 — {_MT_FIX}"
        )
    source |= {"session": last.get("session"), "method": method, "n_trials": last.get("n_trials")}
    return rmt, source


def depth_from_coil_plan(
    path: str | os.PathLike[str], participant: str | None = None
) -> tuple[float, dict[str, Any]]:
    """Read the scalp-to-cortex distance at the target from ``tmstarget coil --json`` output.

    Parameters
    ----------
    path : path-like
        The saved coil plan.
    participant : str, optional
        The protocol's participant; a plan made for another participant is refused.

    Returns
    -------
    depth_mm : float
        ``placement.scalp_cortex_distance_mm``.
    source : dict
        ``file``, ``sha256`` and ``depth_mm``.

    Raises
    ------
    InputError
        Not a coil plan, no finite positive depth, or another participant's plan.
    """
    plan, source = _read(path, "--coil-json", _COIL_FIX)
    placement = plan.get("placement")
    if not isinstance(placement, Mapping) or "handle_direction" not in placement:
        raise InputError(f"--coil-json {path} is not a coil plan (no placement) — {_COIL_FIX}")
    depth = _number(placement.get("scalp_cortex_distance_mm"))
    if depth is None or depth <= 0:
        raise InputError(
            f"--coil-json {path}: placement.scalp_cortex_distance_mm is "
            f"{placement.get('scalp_cortex_distance_mm')!r}, not a positive number — {_COIL_FIX}"
        )
    if participant is not None:
        from .._utils.ids import check_same_participant

        check_same_participant(plan.get("participant"), participant, f"--coil-json {path}")
    return depth, source | {"depth_mm": round(depth, 1)}


def reconcile_depth(
    typed_mm: float | None, plan: tuple[float, dict[str, Any]] | None
) -> tuple[float | None, dict[str, Any] | None, str | None]:
    """Choose the target depth of the dose; warn when a typed depth disagrees with the plan.

    Parameters
    ----------
    typed_mm : float, optional
        ``--target-depth-mm``.
    plan : (depth_mm, source), optional
        :func:`depth_from_coil_plan` output.

    Returns
    -------
    depth_mm : float or None
        The typed depth when given (an explicit value wins), else the plan's.
    source : dict or None
        ``from`` (``coil plan`` or ``--target-depth-mm``) and the plan's file, checksum and depth.
    warning : str or None
        When the two differ by more than :data:`DEPTH_TOLERANCE_MM`.
    """
    if plan is None:
        return typed_mm, ({"from": "--target-depth-mm"} if typed_mm is not None else None), None
    depth, info = plan
    if typed_mm is None:
        return depth, {"from": "coil plan", **info}, None
    warning = None
    if abs(typed_mm - depth) > DEPTH_TOLERANCE_MM:
        warning = (
            f"--target-depth-mm {typed_mm:g} differs by {abs(typed_mm - depth):.1f} mm from the "
            f"coil plan's scalp-to-cortex distance {depth:.1f} mm ({Path(info['file']).name}); "
            f"the dose uses {typed_mm:g} mm — drop --target-depth-mm to use the plan's"
        )
    return typed_mm, {"from": "--target-depth-mm", "coil_plan": info}, warning
