"""The motor-threshold session as library calls: estimates from a file, and the ML-PEST hunt.

The estimates are made per session of an MEP-trials file.

:func:`threshold_report` is what ``tmstarget mt`` prints (relative frequency and ML-PEST per
session, the change between sessions); :func:`hunt_threshold` is ``tmstarget mt --interactive``: it
asks for one MEP at a time at the ML-PEST intensity and appends it to the trials file atomically,
until the hunt is done or stopped. The questions go through an ``ask`` function, so the hunt runs
the same from a terminal, a GUI or a test.

Research use; not a medical device.

Examples
--------
>>> from tmstarget.protocol import hunt_threshold, threshold_report
>>> answers = iter(["120", "0", "80", ""])                                   # doctest: +SKIP
>>> hunt_threshold("trials.tsv", ask=lambda prompt: next(answers))         # doctest: +SKIP
>>> threshold_report("trials.tsv")["sessions"][0]["pest"]["threshold_pct_mso"]   # doctest: +SKIP
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..exceptions import InputError

__all__ = ["TRIAL_COLUMNS", "hunt_threshold", "threshold_report", "threshold_summaries"]

#: Columns of the MEP-trials TSV that :func:`hunt_threshold` writes.
TRIAL_COLUMNS = ("session", "intensity_pct_mso", "amplitude_uv")


def threshold_summaries(
    groups: tuple[Any, ...], low: float = 20.0, high: float = 100.0, source: str = "MEP trials"
) -> list[dict[str, Any]]:
    """Compute the ML-PEST and relative-frequency estimates of each session.

    Each session also carries the ML-PEST change from the previous session.

    Parameters
    ----------
    groups : tuple of Trials
        One :class:`~tmstarget.protocol.Trials` per session
        (:func:`~tmstarget.protocol.parse_trials`).
    low, high : float
        ML-PEST search range, % MSO.
    source : str
        Name of the trials file, for messages.

    Returns
    -------
    list of dict
        JSON-ready, one per session.
    """
    from .threshold import pest_threshold, relative_frequency_threshold

    out: list[dict[str, Any]] = []
    for g in groups:
        try:
            pest = pest_threshold(g, low=low, high=high).to_dict()
        except InputError as exc:
            raise InputError(f"{source}: {exc}") from None
        entry = {
            "session": g.session,
            "n_trials": int(g.intensity_pct_mso.size),
            "pest": pest,
            "relative_frequency": relative_frequency_threshold(g).to_dict(),
        }
        if out:
            entry["pest_change_from_previous_pct_mso"] = round(
                pest["threshold_pct_mso"] - out[-1]["pest"]["threshold_pct_mso"], 1
            )
        out.append(entry)
    return out


def _read(path: Path) -> tuple[Any, ...]:
    from ..io.tables import read_tsv_text
    from .threshold import parse_trials

    return parse_trials(read_tsv_text(path, "MEP trials"), source=path.name)


def threshold_report(
    trials: str | os.PathLike[str], *, low: float = 20.0, high: float = 100.0
) -> dict[str, Any]:
    """Return the motor-threshold estimates of an MEP-trials TSV, per session.

    This is ``tmstarget mt``'s JSON, less notice and version.

    Parameters
    ----------
    trials : path-like
        TSV with ``intensity_pct_mso`` (% MSO), ``amplitude_uv`` (peak-to-peak µV), optional
        ``session``.
    low, high : float
        ML-PEST search range, % MSO (1-100).

    Returns
    -------
    dict
        ``trials`` (the path), ``criterion_uv`` and ``sessions`` (:func:`threshold_summaries`).

    Raises
    ------
    InputError
        A bad range, a missing or malformed file, or units that look like fractions or mV.
    """
    from .threshold import MEP_CRITERION_UV, check_search_range

    check_search_range(low, high)
    path = Path(trials)
    return {
        "trials": str(path),
        "criterion_uv": MEP_CRITERION_UV,
        "sessions": threshold_summaries(_read(path), low, high, path.name),
    }


def _format(rows: list[tuple[str, float, float]]) -> str:
    lines = ["\t".join(TRIAL_COLUMNS)] + [f"{s}\t{x:g}\t{a:g}" for s, x, a in rows]
    return "\n".join(lines) + "\n"


def _amplitude(answer: str) -> tuple[float | None, str]:
    """Return an answer as µV, or None and what to tell the operator."""
    try:
        amplitude = float(answer)
    except ValueError:
        return None, f"  {answer!r} is not a number of µV — type e.g. 35 or 120"
    if not (math.isfinite(amplitude) and amplitude >= 0):
        return None, "  amplitudes are >= 0 µV"
    if 0 < amplitude < 1:
        return (
            None,
            f"  {answer} looks like mV — type µV ({answer} "
            f"mV = {1000 * amplitude:g} µV); 0 for no MEP",
        )
    return amplitude, ""


def hunt_threshold(
    trials: str | os.PathLike[str],
    *,
    ask: Callable[[str], str | None],
    tell: Callable[[str], None] = lambda message: None,
    session: str | None = None,
    low: float = 20.0,
    high: float = 100.0,
) -> Path:
    """Hunt the threshold by ML-PEST, asking for each MEP at the next intensity until done.

    Each answer is appended to ``trials``.

    Parameters
    ----------
    trials : path-like
        The MEP-trials TSV (created if missing; its folder must exist). Each answer is appended
        atomically.
    ask : callable
        ``ask(prompt) -> answer``: the MEP peak-to-peak amplitude in µV as text; ``""``, ``"q"`` or
        None stops.
    tell : callable
        Receives notes for the operator (an answer refused and why; "done after N pulses").
    session : str, optional
        Session to hunt in; None = the file's last session.
    low, high : float
        ML-PEST search range, % MSO.

    Returns
    -------
    pathlib.Path
        The trials file.

    Raises
    ------
    InputError
        A bad range or file, or no trial at all (then nothing is written).
    """
    import numpy as np

    from .files import write_atomic
    from .threshold import Trials, check_search_range, pest_threshold

    check_search_range(low, high)
    path = Path(trials)
    rows: list[tuple[str, float, float]] = []
    if path.exists():
        rows = [
            (g.session, float(x), float(a))
            for g in _read(path)
            for x, a in zip(g.intensity_pct_mso, g.amplitude_uv)
        ]
    session = session if session is not None else (rows[-1][0] if rows else "")
    while True:
        mine = [(x, a) for s, x, a in rows if s == session]
        state_trials = Trials(
            np.array([x for x, _ in mine], float), np.array([a for _, a in mine], float), session
        )
        try:
            state = pest_threshold(state_trials, low=low, high=high)
        except InputError as exc:
            raise InputError(f"{path.name}: {exc}") from None
        if state.done:
            tell(f"done after {state.n_pulses} pulses")
            break
        x = state.next_intensity_pct_mso
        answer = (
            (
                ask(
                    f"pulse {state.n_pulses + 1}: stimulate at "
                    f"{x}% MSO; MEP peak-to-peak µV (empty or "
                    "q stops)? "
                )
                or ""
            )
            .strip()
            .lower()
        )
        if answer in ("", "q"):
            break
        amplitude, note = _amplitude(answer)
        if amplitude is None:
            tell(note)
            continue
        rows.append((session, float(x), amplitude))
        write_atomic(path, _format(rows))
    if not rows:
        raise InputError(
            f"no trials were entered, so {path} was not written "
            "— type an amplitude in µV at the prompt"
        )
    return path
