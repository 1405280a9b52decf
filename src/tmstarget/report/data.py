"""Find the targets ``tmstarget target`` wrote, for the reports.

The files are read by :mod:`tmstarget.io.derivatives`.

The reports render from these files only; nothing here recomputes a target. Problems with what the
user asked for (unknown participant, missing target JSON, ambiguous circuit) raise
:class:`~tmstarget.exceptions.InputError`; problems with optional files are left to the caller,
which shows a note instead of a figure.
"""

from __future__ import annotations

from pathlib import Path

from ..exceptions import InputError
from ..io.derivatives import TARGET_SUFFIX, check_label, entities, participant_dir, read_target


def check_out_dir(out_dir: Path | str) -> Path:
    """Return the derivatives folder written by ``tmstarget target``; it must exist."""
    from ..io.paths import check_output_dir

    out = Path(out_dir)
    if not out.is_dir():
        raise InputError(
            f"output folder {out} not found — pass the OUT_DIR given to 'tmstarget target'"
        )
    return check_output_dir(out, "OUT_DIR (the report is written there)")


def _subdirs(folder: Path, prefix: str) -> list[str]:
    if not folder.is_dir():
        return []
    return sorted(
        p.name[len(prefix) :] for p in folder.iterdir() if p.is_dir() and p.name.startswith(prefix)
    )


def _circuits_in(folder: Path, stem: str) -> list[str]:
    """Circuits with a target JSON named ``<stem>_desc-<circuit>_target.json`` in ``folder``."""
    head = f"{stem}_desc-"
    if not folder.is_dir():
        return []
    return sorted(
        p.name[len(head) : -len(TARGET_SUFFIX)]
        for p in folder.iterdir()
        if p.is_file() and p.name.startswith(head) and p.name.endswith(TARGET_SUFFIX)
    )


def available_reports(
    out_dir: Path | str, participant: str, session: str | None = None, circuit: str | None = None
) -> list[tuple[str | None, str]]:
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
        raise InputError(
            f"participant {label!r} not found in {out} (participants: "
            f"{found}) — check --participant-label"
        )
    sessions = (
        [check_label(session, "session")]
        if session
        else [None, *_subdirs(out / f"sub-{label}", "ses-")]
    )
    if session and not participant_dir(out, label, sessions[0]).is_dir():
        found = ", ".join(_subdirs(out / f"sub-{label}", "ses-")) or "none"
        raise InputError(
            f"sub-{label} has no session {sessions[0]!r} in "
            f"{out} (sessions: {found}) — check --session"
        )
    pairs = [
        (s, c)
        for s in sessions
        for c in _circuits_in(participant_dir(out, label, s), entities(label, s))
    ]
    if circuit is not None:
        pairs = [(s, c) for s, c in pairs if c == circuit]
    if not pairs:
        if circuit is None:
            raise InputError(
                f"sub-{label} has no target JSON in {out} — run 'tmstarget target' for it first"
            )
        found = (
            ", ".join(
                sorted(
                    {
                        c
                        for s in sessions
                        for c in _circuits_in(participant_dir(out, label, s), entities(label, s))
                    }
                )
            )
            or "none"
        )
        raise InputError(
            f"sub-{label} has no {circuit!r} target in {out} (circuits: {found}) — check --circuit"
        )
    return pairs


def find_target(
    out_dir: Path | str, participant: str, session: str | None = None, circuit: str | None = None
) -> Path:
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
            raise InputError(
                f"sub-{label} has sessions {', '.join(sessions)} — pass one (--session)"
            )
        pairs = [(s, c) for s, c in pairs if s is None]
    circuits = sorted({c for _, c in pairs})
    if len(circuits) > 1:
        raise InputError(
            f"sub-{label} has targets for circuits {', '.join(circuits)} — pass one (--circuit)"
        )
    ses, circ = pairs[0]
    folder = participant_dir(Path(out_dir), label, ses)
    return folder / f"{entities(label, ses)}_desc-{circ}{TARGET_SUFFIX}"


def cohort_targets(out_dir: Path | str) -> list[tuple[Path, dict]]:
    """Every target JSON under the derivatives folder, sorted by path.

    Raises
    ------
    InputError
        No target JSON at all, or one that is not a valid target.
    """
    out = check_out_dir(out_dir)
    files = sorted(
        p for p in out.rglob(f"*{TARGET_SUFFIX}") if p.is_file() and not p.name.startswith(".")
    )
    if not files:
        raise InputError(
            f"no *{TARGET_SUFFIX} under {out} — run 'tmstarget "
            "target' first or pass its output folder"
        )
    return [(p, read_target(p, need_circuit=True)) for p in files]
