"""Locate resting-state runs in an fMRIPrep derivatives folder (or take explicit files).

fMRIPrep names a preprocessed run
``sub-<l>[/ses-<s>]/func/sub-<l>[_ses-<s>]_task-<t>[_acq-..][_run-<r>]_space-<space>[_res-<n>]_desc-preproc_bold.nii.gz``
with ``..._desc-confounds_timeseries.tsv`` (no space entity) and
``..._space-<space>[_res-<n>]_desc-brain_mask.nii.gz`` beside it. Filenames are parsed with a
regular expression rather than a full BIDS index: it is fast and needs no database.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

from ..exceptions import InputError

logger = logging.getLogger(__name__)

#: Template spaces accepted for targeting, in order of preference.
MNI_SPACES = ("MNI152NLin6Asym", "MNI152NLin2009cAsym")

_BOLD_RE = re.compile(
    r"^(?P<prefix>sub-(?P<sub>[a-zA-Z0-9]+)(?:_ses-(?P<ses>[a-zA-Z0-9]+))?_task-(?P<task>[a-zA-Z0-9]+)"
    r"(?:_acq-[a-zA-Z0-9]+)?(?:_ce-[a-zA-Z0-9]+)?(?:_dir-[a-zA-Z0-9]+)?(?:_rec-[a-zA-Z0-9]+)?"
    r"(?:_run-(?P<run>[a-zA-Z0-9]+))?(?:_echo-(?P<echo>[0-9]+))?)"
    r"_space-(?P<space>[a-zA-Z0-9]+)(?:_cohort-[0-9]+)?(?:_res-(?P<res>[a-zA-Z0-9]+))?"
    r"_desc-preproc_bold\.nii(?:\.gz)?$"
)


@dataclass(frozen=True)
class Run:
    """One preprocessed BOLD run and its companion files.

    Attributes
    ----------
    bold, confounds, mask : Path
        The 4-D BOLD image, the confounds TSV and the brain mask.
    space : str
        Template space label (e.g. ``"MNI152NLin6Asym"``).
    name : str
        Short run label used in logs and the output ``runs`` list (the BOLD filename).
    session : str or None
        Session label, when the dataset has sessions.
    echoes : tuple of Path
        fMRIPrep's echo-wise series of a multi-echo run (``--me-output-echos``): those on the grid
        of ``bold`` (same ``space-`` and ``res-``) when there are any, else those in the BOLD
        reference space (no ``space-``); empty for single-echo data. ``bold`` is then fMRIPrep's
        optimally combined series; which series is targeted is ``TargetingOptions.me_denoise``.
    """

    bold: Path
    confounds: Path
    mask: Path
    space: str
    name: str
    session: str | None = None
    echoes: tuple[Path, ...] = ()


def participant_sessions(fmriprep_dir: Path, participant: str) -> list[str | None]:
    """Sessions of a participant in an fMRIPrep folder (``[None]`` when there are none).

    Raises
    ------
    InputError
        If the participant folder does not exist (lists the participants that do).
    """
    participant = participant.removeprefix("sub-")
    sub_dir = fmriprep_dir / f"sub-{participant}"
    if not sub_dir.is_dir():
        found = sorted(
            p.name.removeprefix("sub-") for p in fmriprep_dir.glob("sub-*") if p.is_dir()
        )
        listed = ", ".join(found[:10]) + (" …" if len(found) > 10 else "") if found else "none"
        raise InputError(
            f"participant '{participant}' not found in {fmriprep_dir} "
            f"(participants there: {listed}) — "
            "check --participant-label (without the 'sub-' prefix)"
        )
    sessions = sorted(p.name.removeprefix("ses-") for p in sub_dir.glob("ses-*") if p.is_dir())
    return list(sessions) if sessions else [None]


def confounds_path(folder: Path, prefix: str) -> Path:
    """FMRIPrep's confounds TSV of a run.

    It is ``<prefix>_desc-confounds_timeseries.tsv``, or the ``_desc-confounds_regressors.tsv`` of
    fMRIPrep < 20.2 when only that exists (the first when neither does).
    """
    confounds = Path(folder) / f"{prefix}_desc-confounds_timeseries.tsv"
    if not confounds.exists():
        legacy = Path(folder) / f"{prefix}_desc-confounds_regressors.tsv"
        confounds = legacy if legacy.exists() else confounds
    return confounds


def find_runs(
    fmriprep_dir: Path,
    participant: str,
    session: str | None = None,
    task: str = "rest",
    space: str | None = None,
) -> list[Run]:
    """Find the preprocessed MNI-space runs of one participant (and session).

    Parameters
    ----------
    fmriprep_dir : Path
        fMRIPrep output folder (the one holding ``sub-*`` folders).
    participant : str
        Participant label, with or without ``sub-``.
    session : str, optional
        Session label; ``None`` uses runs outside session folders (or all sessions' runs when the
        dataset has sessions — the caller normally passes each session in turn).
    task : str
        BIDS task label of the resting-state runs.
    space : str, optional
        Template space to use; default the first of :data:`MNI_SPACES` present.

    Returns
    -------
    list of Run
        Sorted by filename (run order).

    Raises
    ------
    InputError
        When no usable run exists; the message says what was found instead.
    """
    participant = participant.removeprefix("sub-")
    fmriprep_dir = Path(fmriprep_dir)
    if not fmriprep_dir.is_dir():
        raise InputError(
            f"fMRIPrep folder not found: {fmriprep_dir} — "
            "pass the folder that holds the sub-* folders"
        )
    participant_sessions(fmriprep_dir, participant)  # validates the label
    base = fmriprep_dir / f"sub-{participant}"
    func_dirs = (
        [base / f"ses-{session}" / "func"]
        if session
        else [base / "func", *sorted(base.glob("ses-*/func"))]
    )
    if session and not func_dirs[0].is_dir():
        raise InputError(
            f"no folder {func_dirs[0]} — check --session (sessions: "
            f"{participant_sessions(fmriprep_dir, participant)})"
        )
    candidates, echoes = [], []
    for d in func_dirs:
        for p in sorted(d.glob("*_desc-preproc_bold.nii*")):
            m = _BOLD_RE.match(p.name)
            if (
                m
                and m["sub"] == participant
                and m["task"] == task
                and (session is None or m["ses"] == session)
            ):
                (echoes if m["echo"] else candidates).append((p, m))
    if echoes and not candidates:
        raise InputError(
            f"sub-{participant} has only echo-wise BOLD ({echoes[0][0].name}, "
            "...) and no optimally combined "
            "desc-preproc_bold — tmstarget needs fMRIPrep's combined series beside the echoes "
            "(its grid, confounds and mask); pass it (fMRIPrep writes "
            "one with --me-output-echos too) or --bold"
        )
    if not candidates:
        others = sorted(
            {
                p.name.split("_task-")[1].split("_")[0]
                for d in func_dirs
                for p in d.glob("*_task-*_bold.nii*")
            }
        )
        hint = f" (tasks present: {', '.join(others)}; use --task)" if others else ""
        raise InputError(
            f"no preprocessed BOLD for sub-{participant} task-{task} "
            f"in {base}{hint} — run fMRIPrep first or pass "
            "--bold"
        )
    spaces = sorted({m["space"] for _, m in candidates})
    if space is None:
        usable = [s for s in MNI_SPACES if s in spaces]
        if not usable:
            raise InputError(
                f"sub-{participant} has BOLD only in space(s) {', '.join(spaces)}, not MNI — "
                "rerun fMRIPrep with --output-spaces MNI152NLin6Asym:res-2"
            )
        space = usable[0]
    elif space not in spaces:
        raise InputError(
            f"no BOLD in space {space} for sub-{participant} "
            f"(found {', '.join(spaces)}) — choose one of "
            "those with --space"
        )
    chosen = [(p, m) for p, m in candidates if m["space"] == space]
    resolutions = sorted({m["res"] for _, m in chosen if m["res"]})
    if len(resolutions) > 1:
        keep = "2" if "2" in resolutions else resolutions[0]
        chosen = [(p, m) for p, m in chosen if m["res"] == keep]
    from .multiecho import echo_files_beside

    runs = []
    for p, m in chosen:
        prefix = m["prefix"]
        confounds = confounds_path(p.parent, prefix)
        res = f"_res-{m['res']}" if m["res"] else ""
        mask = p.parent / f"{prefix}_space-{space}{res}_desc-brain_mask.nii.gz"
        for what, f, fix in (
            ("confounds", confounds, "fMRIPrep writes it beside the BOLD"),
            ("brain mask", mask, "pass --mask"),
        ):
            if not f.exists():
                raise InputError(f"{what} file missing for {p.name}: expected {f.name} — {fix}")
        same, reference = echo_files_beside(p)
        runs.append(
            Run(
                bold=p,
                confounds=confounds,
                mask=mask,
                space=space,
                name=p.name,
                session=m["ses"],
                echoes=same or reference,
            )
        )
    return runs


def explicit_runs(bolds: list[Path], confounds: list[Path], mask: Path, space: str) -> list[Run]:
    """Build runs from explicit ``--bold/--confounds/--mask`` files.

    Raises
    ------
    InputError
        When a file is missing or the number of confounds files does not match the BOLD files.
    """
    if len(confounds) != len(bolds):
        raise InputError(
            f"{len(bolds)} --bold file(s) but {len(confounds)} "
            "--confounds file(s) — give one confounds TSV "
            "per BOLD run, in the same order"
        )
    for f in [*bolds, *confounds, mask]:
        if not Path(f).is_file():
            raise InputError(f"file not found: {f} — check the path")
    return [
        Run(bold=Path(b), confounds=Path(c), mask=Path(mask), space=space, name=Path(b).name)
        for b, c in zip(bolds, confounds)
    ]
