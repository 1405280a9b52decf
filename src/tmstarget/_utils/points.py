"""The one parser of a point typed by a user: ``x,y,z`` in mm (every command's coordinates)."""

from __future__ import annotations

import math
import re

#: What a coordinate looks like in messages and help.
EXAMPLE = "-38,44,26"


def parse_point(text: str, what: str | None = None) -> tuple[float, float, float]:
    """Parse ``"x,y,z"`` (mm) into three finite floats.

    Commas, semicolons or spaces may separate the numbers.

    Parameters
    ----------
    text : str
        The value as typed, e.g. ``"-38,44,26"`` (negative numbers need no ``=`` on the command
        line).
    what : str, optional
        How the value is named in the error (e.g. ``"--coords"``); None when argparse names the
        option itself.

    Raises
    ------
    InputError
        Not three numbers, or a number that is not finite; the message says what was received and
        the form expected.
    """
    from ..exceptions import InputError

    shown = f"{what} {text!r}" if what else repr(text)
    parts = [p for p in re.split(r"[,;\s]+", str(text).strip()) if p]
    fix = f"write x,y,z in mm, e.g. {what + ' ' if what else ''}{EXAMPLE}"
    values = []
    for part in parts:
        try:
            values.append(float(part))
        except ValueError:
            raise InputError(
                f"{shown} is not three numbers ('{part}' is not a number) — {fix}"
            ) from None
    if len(values) != 3:
        raise InputError(f"{shown} is not three numbers (expected 3, got {len(values)}) — {fix}")
    if not all(math.isfinite(v) for v in values):
        raise InputError(f"{shown}: every coordinate must be a finite number — {fix}")
    return values[0], values[1], values[2]
