"""``tmstarget mt``: resting motor threshold from MEP trials (relative frequency and ML-PEST), per session."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from ...exceptions import InputError
from ..parser import HelpFormatter

logger = logging.getLogger("tmstarget.cli.mt")

_DESCRIPTION = """\
Estimate the resting motor threshold (RMT, % of maximum stimulator output) from MEP trials: a TSV with
one row per pulse, columns intensity_pct_mso and amplitude_uv and optionally session (e.g. a date; each
session is estimated separately, so repeat measurements across days are tracked).

units: intensity_pct_mso is % MSO (48, not 0.48) and amplitude_uv is peak-to-peak µV (120, not 0.12 mV).
A session whose intensities are all <= 1 (fractions) or whose amplitudes all lie below 1 (mV) is refused
with the conversion to make; so are --low/--high outside 1-100% MSO.

* relative frequency (Rossini et al. 2015): lowest intensity with >= 5 of 10 MEPs >= 50 µV;
* ML-PEST threshold hunting (Awiszus 2003): maximum-likelihood threshold with its 95% interval and the
  next intensity to test; --interactive asks for each MEP and appends it to the file.

Research use; not a medical device.

examples:
  tmstarget mt trials.tsv --json
  tmstarget mt trials.tsv --interactive --session 2026-12-07
"""

_COLUMNS = ("session", "intensity_pct_mso", "amplitude_uv")


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Register ``tmstarget mt``."""
    p = subparsers.add_parser(
        "mt",
        parents=parents,
        help="Resting motor threshold from MEP trials: relative frequency and ML-PEST (next intensity)",
        description=_DESCRIPTION,
        formatter_class=HelpFormatter,
    )
    p.add_argument("trials", metavar="TRIALS_TSV", help="MEP trials so far: intensity_pct_mso in %% MSO, amplitude_uv in µV (created by --interactive if missing)")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout and nothing else")
    p.add_argument(
        "--interactive",
        action="store_true",
        help="ML-PEST hunt: prompt (stderr) for each MEP amplitude in µV on stdin (an answer between 0 and 1 "
        "looks like mV and is asked again), append it to TRIALS_TSV; an empty line or q stops",
    )
    p.add_argument("--session", metavar="LABEL", help="session to hunt in (--interactive); None = the file's last")
    p.add_argument("--low", type=float, default=20.0, metavar="PCT",
                   help="ML-PEST search range bottom, %% MSO (1-100, not a fraction); every trial must be at or above it")
    p.add_argument("--high", type=float, default=100.0, metavar="PCT",
                   help="ML-PEST search range top, %% MSO (above --low, at most 100)")
    p.set_defaults(func=run)


def _summaries(groups: tuple[Any, ...], low: float, high: float, source: str) -> list[dict[str, Any]]:
    from ...protocol.threshold import pest_threshold, relative_frequency_threshold

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


def _format(rows: list[tuple[str, float, float]]) -> str:
    lines = ["\t".join(_COLUMNS)] + [f"{s}\t{x:g}\t{a:g}" for s, x, a in rows]
    return "\n".join(lines) + "\n"


def _interactive(path: Path, rows: list[tuple[str, float, float]], session: str, low: float, high: float) -> None:
    """Prompt for MEPs at the ML-PEST intensities, appending each to ``path`` atomically, until done or stopped."""
    import math

    import numpy as np

    from ...protocol.files import write_atomic
    from ...protocol.threshold import Trials, pest_threshold

    while True:
        mine = [(x, a) for s, x, a in rows if s == session]
        trials = Trials(np.array([x for x, _ in mine], float), np.array([a for _, a in mine], float), session)
        try:
            state = pest_threshold(trials, low=low, high=high)
        except InputError as exc:
            raise InputError(f"{path.name}: {exc}") from None
        if state.done:
            sys.stderr.write(f"done after {state.n_pulses} pulses\n")
            return
        x = state.next_intensity_pct_mso
        sys.stderr.write(
            f"pulse {state.n_pulses + 1}: stimulate at {x}% MSO; MEP peak-to-peak µV (empty or q stops)? "
        )
        sys.stderr.flush()
        answer = sys.stdin.readline().strip().lower()
        if not sys.stdin.isatty():  # piped answers are not echoed: end the prompt's line ourselves
            sys.stderr.write("\n")
        if answer in ("", "q"):
            return
        try:
            amplitude = float(answer)
        except ValueError:
            sys.stderr.write(f"  {answer!r} is not a number of µV — type e.g. 35 or 120\n")
            continue
        if not (math.isfinite(amplitude) and amplitude >= 0):
            sys.stderr.write("  amplitudes are >= 0 µV\n")
            continue
        if 0 < amplitude < 1:
            sys.stderr.write(f"  {answer} looks like mV — type µV ({answer} mV = {1000 * amplitude:g} µV); 0 for no MEP\n")
            continue
        rows.append((session, float(x), amplitude))
        write_atomic(path, _format(rows))


def _text(result: dict[str, Any]) -> str:
    lines = []
    for s in result["sessions"]:
        pest, rf = s["pest"], s["relative_frequency"]
        label = f"session {s['session']}" if s["session"] else "trials"
        lo, hi = pest["ci95_pct_mso"]
        nxt = "done" if pest["done"] else f"next pulse at {pest['next_intensity_pct_mso']}% MSO"
        lines.append(
            f"{label} ({s['n_trials']} pulses): ML-PEST RMT {pest['threshold_pct_mso']:g}% MSO "
            f"(95% interval {lo:g}-{hi:g}; {nxt})"
        )
        if rf["threshold_pct_mso"] is None:
            lines.append(
                "  relative frequency: no intensity with >= 5 of 10 MEPs >= 50 µV yet; "
                f"test {rf['next_intensity_pct_mso']:g}% MSO"
            )
        else:
            state = "confirmed" if rf["confirmed"] else f"not confirmed, test {rf['next_intensity_pct_mso']:g}% MSO"
            lines.append(f"  relative frequency: RMT {rf['threshold_pct_mso']:g}% MSO ({state})")
        if "pest_change_from_previous_pct_mso" in s:
            lines.append(f"  change from previous session: {s['pest_change_from_previous_pct_mso']:+g}% MSO")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Read the trials, optionally hunt interactively, then print the estimates per session."""
    from ...io.tables import read_tsv_text
    from ...protocol.threshold import MEP_CRITERION_UV, check_search_range, parse_trials
    from .._common import emit

    check_search_range(args.low, args.high)
    path = Path(args.trials)
    rows: list[tuple[str, float, float]] = []
    if path.exists() or not args.interactive:
        groups = parse_trials(read_tsv_text(args.trials, "MEP trials"), source=path.name)
        rows = [(g.session, float(x), float(a)) for g in groups for x, a in zip(g.intensity_pct_mso, g.amplitude_uv)]
    if args.interactive:
        if args.json:
            raise InputError("--interactive prompts on the terminal — drop --json (run again with --json afterwards)")
        session = args.session if args.session is not None else (rows[-1][0] if rows else "")
        _interactive(path, rows, session, args.low, args.high)
        if not rows:
            raise InputError(
                f"no trials were entered, so {path} was not written — type an amplitude in µV at the prompt"
            )
        groups = parse_trials(read_tsv_text(args.trials, "MEP trials"), source=path.name)
    result = {"trials": str(path), "criterion_uv": MEP_CRITERION_UV, "sessions": _summaries(groups, args.low, args.high, path.name)}
    code = emit(result, as_json=args.json, render=_text)
    if args.interactive:
        from .._common import list_written

        list_written([path])
    return code
