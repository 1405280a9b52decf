"""Where a cohort's data are: the input layout, its participants and sessions, and their jobs.

Two layouts are read: a BIDS-App one (``FMRIPREP_DIR OUT_DIR participant|group``: every participant
and session of an fMRIPrep folder) and explicit files (``OUT_DIR`` with BOLD runs, confounds TSVs
and a mask). Everything here is checked before any BOLD data is read, with one-line
:class:`~tmstarget.exceptions.InputError` messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..exceptions import InputError
from .jobs import Job

#: Suffixes of surface time series (GIFTI, CIFTI) among explicit BOLD files.
_SURFACE_SUFFIXES = (".func.gii", ".dtseries.nii")


def check_fmriprep_dir(fmriprep_dir: Path | str, out_dir: Path | str) -> Path:
    """Check that the fMRIPrep folder exists and is not the output folder.

    Parameters
    ----------
    fmriprep_dir, out_dir : Path
        fMRIPrep folder (holding the ``sub-*`` folders) and derivatives folder.

    Returns
    -------
    Path
        The fMRIPrep folder, resolved.

    Raises
    ------
    InputError
        If the folder is missing, or is the output folder.
    """
    src, out = Path(fmriprep_dir), Path(out_dir)
    if not src.is_dir():
        raise InputError(
            f"fMRIPrep folder not found: {src} — pass the folder that holds the sub-* folders"
        )
    if out.resolve() == src.resolve():
        raise InputError(
            "output folder is the fMRIPrep folder — write "
            f"elsewhere, e.g. {src.parent / 'tmstarget'}"
        )
    return src.resolve()


def resolve_layout(
    paths: Sequence[str],
    bold: Sequence[Path] | None = None,
    confounds: Sequence[Path] | None = None,
    mask: Path | None = None,
) -> tuple[Path | None, Path, str]:
    """Return the fMRIPrep folder, output folder and analysis level of ``tmstarget target``.

    Parameters
    ----------
    paths : list of str
        The positional arguments: ``FMRIPREP_DIR OUT_DIR participant|group``, or with ``bold``
        just ``OUT_DIR`` (optionally followed by ``participant``).
    bold, confounds : list of Path, optional
        Explicit BOLD runs and their confounds TSVs (one per run).
    mask : Path, optional
        Brain mask of explicit volumetric runs (surface runs need none).

    Returns
    -------
    fmriprep_dir : Path or None
        Resolved; ``None`` with explicit files.
    out_dir : Path
    level : {"participant", "group"}

    Raises
    ------
    InputError
        If the positional arguments or files do not make one of the two layouts.
    """
    if bold:
        if len(paths) not in (1, 2) or (len(paths) == 2 and paths[1] != "participant"):
            raise InputError(
                "with --bold give only OUT_DIR as positional "
                f"argument, got {paths or 'none'} — e.g. "
                "tmstarget target OUT --bold RUN.nii.gz --confounds "
                "RUN.tsv --mask MASK.nii.gz"
            )
        surface = str(bold[0]).endswith(_SURFACE_SUFFIXES)
        if not confounds or (not mask and not surface):
            raise InputError(
                "--bold needs --confounds (one per run) and, for volumes, --mask — add them"
            )
        return None, Path(paths[0]), "participant"
    if len(paths) != 3:
        raise InputError(
            "expected FMRIPREP_DIR OUT_DIR participant|group, "
            f"got {len(paths)} positional argument(s) "
            "— see 'tmstarget target --help'"
        )
    src, out, level = Path(paths[0]), Path(paths[1]), paths[2]
    if level not in ("participant", "group"):
        raise InputError(
            f"analysis level '{level}' is not supported — use 'participant' or 'group'"
        )
    return check_fmriprep_dir(src, out), out, level


def participant_sessions_of(
    fmriprep_dir: Path, participants: Sequence[str] | None = None, session: str | None = None
) -> list[tuple[str, list[str | None]]]:
    """Return the participants of an fMRIPrep folder, each with its sessions.

    Parameters
    ----------
    fmriprep_dir : Path
    participants : list of str, optional
        Labels, with or without ``sub-`` (duplicates dropped); default: every ``sub-*`` folder.
    session : str, optional
        The one session to take; default: every session of each participant (``[None]`` without
        sessions).

    Returns
    -------
    list of (str, list)
        ``(label without sub-, sessions)`` in the order given (sorted by default).

    Raises
    ------
    InputError
        If there are no participants, or a participant is not in the folder.
    """
    from ..io.bids import participant_sessions

    labels = participants or sorted(
        p.name.removeprefix("sub-") for p in fmriprep_dir.glob("sub-*") if p.is_dir()
    )
    if not labels:
        raise InputError(f"no sub-* folders in {fmriprep_dir} — is this an fMRIPrep output folder?")
    return [
        (label, [session] if session else participant_sessions(fmriprep_dir, label))
        for label in dict.fromkeys(x.removeprefix("sub-") for x in labels)
    ]


def find_jobs(
    fmriprep_dir: Path | None,
    participants: Sequence[str] | None = None,
    session: str | None = None,
    task: str = "rest",
    space: str | None = None,
    surface_mesh: Sequence[Path] | None = None,
    *,
    bold: Sequence[Path] | None = None,
    confounds: Sequence[Path] | None = None,
    mask: Path | None = None,
) -> list[Job]:
    """Return the targeting jobs: one per participant and session, or one for explicit files.

    Parameters
    ----------
    fmriprep_dir : Path or None
        fMRIPrep folder; ``None`` with explicit files (``bold``, ``confounds``, ``mask``).
    participants : list of str, optional
        Labels (default: all); with explicit files the first is the participant (default ``01``).
    session, task, space : str, optional
        As for :class:`Job`; without ``session`` every session of an fMRIPrep folder is a job.
    surface_mesh : (Path, Path), optional
        Midthickness meshes of CIFTI cortical vertices.
    bold, confounds, mask : optional
        Explicit runs, their confounds TSVs and brain mask.

    Returns
    -------
    list of Job
        Paths resolved.
    """
    mesh = tuple(Path(m).resolve() for m in surface_mesh or ())
    if fmriprep_dir is None:
        label = (participants or ["01"])[0].removeprefix("sub-")
        return [
            Job(
                label,
                session,
                None,
                task,
                space,
                bold=tuple(Path(b).resolve() for b in bold or ()),
                confounds=tuple(Path(c).resolve() for c in confounds or ()),
                mask=Path(mask).resolve() if mask else None,
                surface_mesh=mesh,
            )
        ]
    return [
        Job(label, ses, fmriprep_dir, task, space, surface_mesh=mesh)
        for label, sessions in participant_sessions_of(fmriprep_dir, participants, session)
        for ses in sessions
    ]


def check_search_mask_grid(jobs: Sequence[Job], search_mask: Path | None) -> None:
    """Refuse a search mask off the grid of a single volumetric job's first BOLD run.

    The check reads the image headers only, and runs before any cleaning. Several jobs (each may
    have its own grid) and surface data are checked when each job runs.

    Raises
    ------
    InputError
        If the mask's grid differs from the BOLD run's.
    """
    if search_mask is None or len(jobs) != 1 or jobs[0].is_surface:
        return
    import nibabel as nib

    from ..io.images import load_mask

    bold = jobs[0].runs()[0].bold
    load_mask(search_mask, nib.load(str(bold)), bold.name, "search mask")
