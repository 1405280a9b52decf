"""Strict JSON text for every JSON tmstarget prints or writes (issue 24).

JSON has no NaN or infinity: ``json.dumps`` would write a bare ``NaN`` that strict readers
(JavaScript, jq, most neuronavigation software) reject. tmstarget refuses non-finite numbers on
input, so a non-finite number reaching an output is a defect; :func:`dumps` raises on it instead of
writing it. A value that is legitimately absent is written as ``null`` by the code that knows it is
absent, never by this function.
"""

from __future__ import annotations

import json
import math
from typing import Any


class NonFiniteOutputError(ValueError):
    """A NaN or infinity reached a JSON output."""


def dumps(obj: Any, *, indent: int | None = 2, ensure_ascii: bool = True) -> str:
    """Serialise ``obj`` like ``json.dumps`` with ``allow_nan=False``.

    The error names the first non-finite value's key path.

    Raises
    ------
    NonFiniteOutputError
        ``obj`` holds a NaN or an infinity.
    """
    try:
        return json.dumps(obj, indent=indent, ensure_ascii=ensure_ascii, allow_nan=False)
    except ValueError as exc:
        where = _first_non_finite(obj, "")
        raise NonFiniteOutputError(
            f"a non-finite number ({where or 'somewhere'}) "
            "would be written as JSON — this is a tmstarget "
            "defect; please report it"
        ) from exc


def _first_non_finite(obj: Any, path: str) -> str | None:
    if isinstance(obj, float) and not math.isfinite(obj):
        return path or "the value"
    if isinstance(obj, dict):
        for k, v in obj.items():
            found = _first_non_finite(v, f"{path}.{k}" if path else str(k))
            if found:
                return found
    if isinstance(obj, list | tuple):
        for i, v in enumerate(obj):
            found = _first_non_finite(v, f"{path}[{i}]")
            if found:
                return found
    return None
