"""Argument helpers shared by subcommands."""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any


def _number(text: str, cast, ok, bound: str, noun: str = "number"):
    try:
        value = cast(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a {noun}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
    if not ok(value):
        raise argparse.ArgumentTypeError(f"must be {bound}, got {text}")
    return value


def positive_float(text: str) -> float:
    """argparse type: a float > 0."""
    return _number(text, float, lambda v: v > 0, "> 0")


def nonneg_float(text: str) -> float:
    """argparse type: a float >= 0."""
    return _number(text, float, lambda v: v >= 0, ">= 0")


def angle_deg(text: str) -> float:
    """argparse type: an angle in degrees within -180..180."""
    return _number(text, float, lambda v: -180.0 <= v <= 180.0, "an angle in -180..180 degrees")


def output_file(text: str):
    """argparse type: a file to write — its folder must be creatable and writable, and it must not be a folder.

    Checked while the command line is parsed, so a bad output location is one line before any work.
    """
    from ..exceptions import InputError
    from ..io.paths import check_output_file

    try:
        return check_output_file(text, "file")
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def input_file(text: str):
    """argparse type: an existing file to read (a missing path or a folder is one line at parse time)."""
    from pathlib import Path

    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder — give the path of a file")
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{text} not found — check the path")
    return path


def output_dir(text: str):
    """argparse type: a folder to write into (created if missing; it or its nearest existing parent writable)."""
    from ..exceptions import InputError
    from ..io.paths import check_output_dir

    try:
        return check_output_dir(text, "folder")
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def participant_arg(text: str) -> str:
    """argparse type: a participant id, ``01`` or ``sub-01``, returned as its label (``01``)."""
    from .._utils.ids import participant_label
    from ..exceptions import InputError

    try:
        return participant_label(text, "participant id")
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def finite_float(text: str) -> float:
    """argparse type: any finite float."""
    return _number(text, float, lambda v: True, "finite")


def optional_threshold(text: str) -> float | None:
    """argparse type: a positive float, or 'none' to disable."""
    return None if text.lower() in {"none", "off"} else positive_float(text)


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    return _number(text, int, lambda v: v >= 1, ">= 1", "whole number")


def print_json(obj: Any) -> None:
    """Print one JSON document to stdout (the only thing a ``--json`` command prints there)."""
    sys.stdout.write(json.dumps(obj, indent=2) + "\n")
    sys.stdout.flush()
