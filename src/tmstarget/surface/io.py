"""Reading surface files: fMRIPrep's fsaverage GIFTI and fsLR CIFTI time series.

Score maps are written out by :mod:`tmstarget.io.derivatives`.

fMRIPrep names surface outputs ``<prefix>_hemi-L_space-fsaverage5_bold.func.gii`` (before 21.0:
``<prefix>_space-fsaverage5_hemi-L_bold.func.gii``) and
``<prefix>_space-fsLR_den-91k_bold.dtseries.nii``, with ``<prefix>_desc-confounds_timeseries.tsv``
beside them and the repetition time in a JSON sidecar.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np

from ..exceptions import InputError
from ..io.bids import confounds_path, participant_sessions

_PREFIX = (
    r"(?P<prefix>sub-(?P<sub>[a-zA-Z0-9]+)(?:_ses-(?P<ses>[a-zA-Z0-9]+))?_task-(?P<task>[a-zA-Z0-9]+)"
    r"(?:_(?:acq|ce|dir|rec|run|echo)-[a-zA-Z0-9]+)*)"
)
_GIFTI_RE = re.compile(
    _PREFIX
    + r"(?:_hemi-(?P<h1>[LR])_space-(?P<s1>fsaverage[0-9]?)"
    + r"|_space-(?P<s2>fsaverage[0-9]?)_hemi-(?P<h2>[LR]))"
    + r"(?:_den-[a-zA-Z0-9]+)?_bold\.func\.gii$"
)
_CIFTI_RE = re.compile(
    _PREFIX + r"_space-(?P<space>fsLR)(?:_den-(?P<den>[a-zA-Z0-9]+))?_bold\.dtseries\.nii$"
)


@dataclass(frozen=True)
class SurfaceRun:
    """One surface run and its confounds.

    ``files`` are the left and right GIFTIs, or one CIFTI.
    """

    files: tuple[Path, ...]
    confounds: Path
    space: str
    name: str
    session: str | None = None

    @property
    def is_cifti(self) -> bool:
        """Whether the run is one CIFTI dense time series."""
        return len(self.files) == 1


def _confounds_for(prefix: str, folder: Path, bold_name: str) -> Path:
    conf = confounds_path(folder, prefix)
    if not conf.is_file():
        raise InputError(
            f"confounds file missing for {bold_name}: expected "
            f"{conf.name} — fMRIPrep writes it beside the "
            "BOLD"
        )
    return conf


def find_surface_runs(
    fmriprep_dir: Path,
    participant: str,
    session: str | None = None,
    task: str = "rest",
    space: str = "fsaverage5",
) -> list[SurfaceRun]:
    """Find the fMRIPrep surface runs of one participant/session.

    These are GIFTI pairs for fsaverage* and CIFTI files for fsLR.

    Raises
    ------
    InputError
        When no complete run exists; the message says what was found.
    """
    participant = participant.removeprefix("sub-")
    participant_sessions(Path(fmriprep_dir), participant)  # validates the label
    base = Path(fmriprep_dir) / f"sub-{participant}"
    folders = (
        [base / f"ses-{session}" / "func"]
        if session
        else [base / "func", *sorted(base.glob("ses-*/func"))]
    )
    runs, hemis = [], {}
    for folder in folders:
        for p in sorted(folder.glob("*_bold.*")):
            g, c = _GIFTI_RE.match(p.name), _CIFTI_RE.match(p.name)
            m = g or c
            if (
                not m
                or m["sub"] != participant
                or m["task"] != task
                or (session and m["ses"] != session)
            ):
                continue
            if c and space == "fsLR":
                runs.append(
                    SurfaceRun(
                        (p,), _confounds_for(m["prefix"], folder, p.name), "fsLR", p.name, m["ses"]
                    )
                )
            elif g and (g["s1"] or g["s2"]) == space:
                hemis.setdefault((folder, m["prefix"], m["ses"]), {})[g["h1"] or g["h2"]] = p
    for (folder, prefix, ses), pair in sorted(hemis.items()):
        if set(pair) != {"L", "R"}:
            have = next(iter(pair.values())).name
            raise InputError(
                f"{have} has no other hemisphere beside it "
                "— fMRIPrep writes hemi-L and hemi-R; copy "
                "both"
            )
        runs.append(
            SurfaceRun(
                (pair["L"], pair["R"]),
                _confounds_for(prefix, folder, pair["L"].name),
                space,
                pair["L"].name,
                ses,
            )
        )
    if not runs:
        found = sorted(
            {
                p.name.split("_space-")[1].split("_")[0]
                for d in folders
                for p in d.glob("*_space-*_bold.*")
            }
        )
        hint = f" (spaces present: {', '.join(found)})" if found else ""
        raise InputError(
            f"no {space} surface BOLD for sub-{participant} task-{task} in {base}{hint} — "
            "rerun fMRIPrep with --output-spaces fsaverage:den-10k "
            "(or --cifti-output 91k), or choose another --space"
        )
    return sorted(runs, key=lambda r: r.name)


def explicit_surface_runs(bolds: list[Path], confounds: list[Path]) -> list[SurfaceRun]:
    """Build the runs from ``--bold`` files: CIFTI ``.dtseries.nii``, or left-hemisphere GIFTIs.

    A left-hemisphere GIFTI (``hemi-L``) needs its right hemisphere (``hemi-R``, same name
    otherwise) beside it.
    """
    if len(confounds) != len(bolds):
        raise InputError(
            f"{len(bolds)} --bold file(s) but {len(confounds)} "
            "--confounds file(s) — give one confounds TSV "
            "per run, in the same order"
        )
    runs = []
    for b, c in zip(map(Path, bolds), map(Path, confounds)):
        for f in (b, c):
            if not f.is_file():
                raise InputError(f"file not found: {f} — check the path")
        space = re.search(r"_space-([a-zA-Z0-9]+)", b.name)
        if b.name.endswith(".dtseries.nii"):
            runs.append(SurfaceRun((b,), c, space.group(1) if space else "fsLR", b.name))
            continue
        if "hemi-L" not in b.name:
            raise InputError(
                f"{b.name}: pass the left-hemisphere GIFTI "
                "(hemi-L) as --bold; the hemi-R file must "
                "be beside it"
            )
        right = b.with_name(b.name.replace("hemi-L", "hemi-R"))
        if not right.is_file():
            raise InputError(
                f"right hemisphere not found: {right} — put the hemi-R GIFTI beside the hemi-L one"
            )
        runs.append(SurfaceRun((b, right), c, space.group(1) if space else "fsaverage5", b.name))
    return runs


def _sidecar_tr(path: Path) -> float | None:
    stem = path.name.removesuffix(".func.gii").removesuffix(".dtseries.nii")
    for name in (f"{stem}.json", stem.replace("_hemi-L", "").replace("_hemi-R", "") + ".json"):
        f = path.with_name(name)
        if f.is_file():
            try:
                return float(json.loads(f.read_text())["RepetitionTime"])
            except (KeyError, ValueError, TypeError, json.JSONDecodeError):
                return None
    return None


def load_surface_run(run: SurfaceRun) -> tuple[np.ndarray, float | None, object]:
    """Read a surface run.

    Returns
    -------
    data : ndarray, shape (T, N), float32
        Time series of every column (left then right vertices, or the CIFTI's grayordinates).
    t_r : float or None
        Repetition time from the sidecar JSON or the file's metadata.
    brain_model : BrainModelAxis or None
        The CIFTI columns (``None`` for GIFTI).
    """
    t_r = _sidecar_tr(run.files[0])
    try:
        if run.is_cifti:
            img = nib.load(str(run.files[0]))
            series, bm = img.header.get_axis(0), img.header.get_axis(1)
            if not isinstance(bm, nib.cifti2.BrainModelAxis) or not isinstance(
                series, nib.cifti2.SeriesAxis
            ):
                raise InputError(
                    f"{run.name} is not a dense time series (series "
                    "× brain models) — pass the *_bold.dtseries.nii"
                )
            if t_r is None and series.unit == "SECOND" and series.step > 0:
                t_r = float(series.step)
            return np.asarray(img.get_fdata(dtype=np.float32)), t_r, bm
        parts = []
        for f in run.files:
            img = nib.load(str(f))
            if t_r is None and img.darrays and "TimeStep" in img.darrays[0].meta:
                step = float(img.darrays[0].meta["TimeStep"])
                t_r = (
                    step / 1000.0 if step > 20 else step
                )  # Workbench writes seconds, some tools milliseconds
            parts.append(
                np.column_stack([np.asarray(d.data, np.float32).ravel() for d in img.darrays]).T
            )
    except (OSError, ValueError, nib.filebasedimages.ImageFileError) as exc:
        raise InputError(
            f"cannot read {run.name} ({exc}) — pass fMRIPrep's "
            "surface BOLD (.func.gii or .dtseries.nii)"
        ) from exc
    if parts[0].shape[0] != parts[1].shape[0]:
        raise InputError(
            f"{run.files[0].name} has {parts[0].shape[0]} "
            f"volumes but {run.files[1].name} has {parts[1].shape[0]} "
            "— use the two hemispheres of one run"
        )
    return np.concatenate(parts, axis=1), t_r, None
