"""Participant identifiers: one normal form and one validation, used wherever files are combined.

A participant is ``sub-<label>`` in BIDS; ``<label>`` is letters and digits only (BIDS
specification, "Entities": labels are alphanumeric). ``01`` and ``sub-01`` name the same participant
everywhere.
"""

from __future__ import annotations

import re

from ..exceptions import InputError

_LABEL = re.compile(r"[A-Za-z0-9]+")

#: Column names that hold the participant in a table (lower case), in order of preference.
PARTICIPANT_COLUMNS = ("participant", "participant_id", "subject")


def participant_column(header) -> str | None:
    """Return the first of :data:`PARTICIPANT_COLUMNS` in a (lower-cased) header, or None."""
    return next((c for c in PARTICIPANT_COLUMNS if c in header), None)


def participant_label(value: object, what: str = "participant id") -> str:
    """Return the BIDS label of a participant id (``sub-`` removed).

    Any other value raises :class:`InputError`.

    Parameters
    ----------
    value : object
        ``"01"``, ``"sub-01"`` or ``1``-like values; surrounding spaces are ignored.
    what : str
        How the message names the value (e.g. ``"--participant"``).

    Raises
    ------
    InputError
        Empty ids, or ids holding anything but letters and digits after ``sub-`` (tabs, spaces,
        hyphens, underscores, ``/``): they could not name a BIDS folder and often carry a pasted
        second field.
    """
    text = "" if value is None else str(value).strip()
    label = text.removeprefix("sub-")
    if not _LABEL.fullmatch(label):
        shown = text.encode("unicode_escape").decode("ascii")
        raise InputError(
            f"{what} {shown!r} is not a participant label "
            "(letters and digits, optionally after 'sub-') "
            "— "
            "use e.g. 01 or sub-01"
        )
    return label


def same_participant(a: object, b: object) -> bool:
    """Whether two ids name the same participant (``01`` and ``sub-01`` do)."""
    return str(a).strip().removeprefix("sub-") == str(b).strip().removeprefix("sub-")


def check_same_participant(found: object, expected: str, what: str) -> None:
    """Refuse a file made for another participant; ``found`` None or empty (not recorded) passes.

    Raises
    ------
    InputError
        ``found`` names another participant than ``expected``.
    """
    if found is None or str(found).strip() == "" or same_participant(found, expected):
        return
    raise InputError(
        f"{what} was made for participant {str(found).strip()!r}, "
        f"not {str(expected).removeprefix('sub-')!r} — "
        "pass the file made for this participant"
    )
