"""``tmstarget mt``: resting motor threshold from MEP trials, per session.

The threshold is estimated by relative frequency and by ML-PEST.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ...exceptions import InputError
from .._common import output_file
from .._help import HELP
from ..parser import HelpFormatter

_DESCRIPTION = """\
Estimate the resting motor threshold (RMT, % of maximum stimulator output) from MEP trials: a TSV
with one row per pulse, columns intensity_pct_mso and amplitude_uv and optionally session (e.g. a
date; each session is estimated separately, so repeat measurements across days are tracked).

units: intensity_pct_mso is % MSO (48, not 0.48) and amplitude_uv is peak-to-peak µV (120, not 0.12
mV). A session whose intensities are all <= 1 (fractions) or whose amplitudes all lie below 1 (mV)
is refused with the conversion to make; so are --low/--high outside 1-100% MSO.

* relative frequency (Rossini et al. 2015): lowest intensity with >= 5 of 10 MEPs >= 50 µV;
* ML-PEST threshold hunting (Awiszus 2003): maximum-likelihood threshold with its 95% interval and
  the
  next intensity to test; --interactive asks for each MEP and appends it to the file.

Research use; not a medical device.

--plot FILE.svg|.png draws, per session, every pulse (intensity against MEP amplitude, responses
>= 50 µV in colour) and the fits: the ML-PEST response probability with its threshold and 95%
interval, and the share of responses per intensity with the relative-frequency threshold.

examples:
  tmstarget mt trials.tsv --json
  tmstarget mt trials.tsv --plot mep.svg
  tmstarget mt trials.tsv --interactive --session 2026-12-07
"""


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Register ``tmstarget mt``."""
    p = subparsers.add_parser(
        "mt",
        parents=parents,
        help="Resting motor threshold from MEP trials: relative "
        "frequency and ML-PEST (next intensity)",
        description=_DESCRIPTION,
        formatter_class=HelpFormatter,
    )
    p.add_argument(
        "trials",
        metavar="TRIALS_TSV",
        help="MEP trials so far: intensity_pct_mso in %% MSO, "
        "amplitude_uv in µV (created by --interactive if "
        "missing)",
    )
    p.add_argument(
        "--json", action="store_true", help="print one JSON object on stdout and nothing else"
    )
    p.add_argument(
        "--interactive",
        action="store_true",
        help="ML-PEST hunt: prompt (stderr) for each MEP amplitude "
        "in µV on stdin (an answer between 0 and 1 "
        "looks like mV and is asked again), append it to TRIALS_TSV; an empty line or q stops",
    )
    p.add_argument(
        "--session",
        metavar="LABEL",
        help="session to hunt in (--interactive); None = the file's last",
    )
    p.add_argument(
        "--low",
        type=float,
        default=20.0,
        metavar="PCT",
        help="ML-PEST search range bottom, %% MSO (1-100, not "
        "a fraction); every trial must be at or above it",
    )
    p.add_argument(
        "--high",
        type=float,
        default=100.0,
        metavar="PCT",
        help="ML-PEST search range top, %% MSO (above --low, at most 100)",
    )
    p.add_argument(
        "--plot",
        type=output_file,
        metavar="FILE",
        help=HELP["plot"]
        + ": the MEP-vs-intensity figure with the threshold fits (after --interactive: the "
        "trials entered)",
    )
    p.set_defaults(func=run)


def _ask(prompt: str) -> str:
    """Ask on the terminal during the hunt: prompt on stderr, read one answer from stdin."""
    sys.stderr.write(prompt)
    sys.stderr.flush()
    answer = sys.stdin.readline()
    if not sys.stdin.isatty():  # piped answers are not echoed: end the prompt's line ourselves
        sys.stderr.write("\n")
    return answer


def _tell(message: str) -> None:
    sys.stderr.write(message + "\n")


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
            state = (
                "confirmed"
                if rf["confirmed"]
                else f"not confirmed, test {rf['next_intensity_pct_mso']:g}% MSO"
            )
            lines.append(f"  relative frequency: RMT {rf['threshold_pct_mso']:g}% MSO ({state})")
        if "pest_change_from_previous_pct_mso" in s:
            lines.append(
                f"  change from previous session: {s['pest_change_from_previous_pct_mso']:+g}% MSO"
            )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Optionally hunt interactively, then print the estimates per session.

    The hunt is :func:`tmstarget.protocol.hunt_threshold`.
    """
    from ..._utils.figures import figure_format
    from ...protocol.hunt import hunt_threshold, threshold_report
    from ...protocol.threshold import check_search_range
    from .._common import emit, list_written

    plot_format = figure_format(args.plot, "--plot") if args.plot else None
    check_search_range(args.low, args.high)
    if args.interactive:
        if args.json:
            raise InputError(
                "--interactive prompts on the terminal — drop "
                "--json (run again with --json afterwards)"
            )
        hunt_threshold(
            args.trials, ask=_ask, tell=_tell, session=args.session, low=args.low, high=args.high
        )
    report = threshold_report(args.trials, low=args.low, high=args.high)
    written = [Path(args.trials)] if args.interactive else []
    if args.plot:
        report["plot"], report["plot_alt"] = _write_plot(args, plot_format)
        written.append(report["plot"])
    code = emit(report, as_json=args.json, render=_text)
    list_written(written, json_mode=args.json)
    return code


def _write_plot(args: argparse.Namespace, fmt: str) -> tuple[str, str]:
    """Draw the MEP curve of every session and write it atomically; return its path and alt text."""
    from ...io.tables import read_tsv_text
    from ...protocol.files import write_atomic
    from ...protocol.plots import mep_curve_figure
    from ...protocol.threshold import parse_trials

    path = Path(args.trials)
    sessions = parse_trials(read_tsv_text(path, "MEP trials"), source=path.name)
    figure = mep_curve_figure(sessions, low=args.low, high=args.high, fmt=fmt)
    return str(write_atomic(args.plot, figure.image)), figure.alt
