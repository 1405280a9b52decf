"""Confound selection and censoring from fMRIPrep confounds TSVs, through nilearn's loader.

nilearn's :func:`nilearn.interfaces.fmriprep.load_confounds` finds the TSV from the BOLD filename.
To accept explicit ``--confounds`` files with any name, the TSV (and its JSON) are copied into a
temporary folder under fMRIPrep names first; the same path is used for fMRIPrep inputs, so there is
one code path.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..exceptions import InputError

if TYPE_CHECKING:
    import pandas as pd

from .defaults import DEFAULT_STRATEGY, STRATEGIES  # noqa: E402,F401 - defined in the import-free leaf


@dataclass(frozen=True)
class RunConfounds:
    """Selected confounds and the volumes kept after censoring, for one run.

    Attributes
    ----------
    confounds : ndarray, shape (T, K)
        Demeaned confound regressors (K may be 0).
    names : tuple of str
        Column names of ``confounds``.
    sample_mask : ndarray of int
        Indices of the volumes kept (not censored).
    fd_mm : ndarray, shape (T,)
        Framewise displacement (mm), 0 for the first volume.
    """

    confounds: np.ndarray
    names: tuple[str, ...]
    sample_mask: np.ndarray
    fd_mm: np.ndarray

    @property
    def n_volumes(self) -> int:
        """Number of volumes in the run."""
        return int(self.fd_mm.shape[0])

    @property
    def n_censored(self) -> int:
        """Number of volumes censored (high motion, non-steady state or too-short segments)."""
        return self.n_volumes - int(self.sample_mask.shape[0])


def _framewise_displacement(df: pd.DataFrame, radius_mm: float = 50.0) -> np.ndarray:
    """Power et al. (2012) framewise displacement from the six motion parameters.

    The rotations are in radians.
    """
    trans = df[["trans_x", "trans_y", "trans_z"]].to_numpy(float)
    rot = df[["rot_x", "rot_y", "rot_z"]].to_numpy(float) * radius_mm
    fd = np.zeros(len(df))
    fd[1:] = np.abs(np.diff(trans, axis=0)).sum(1) + np.abs(np.diff(rot, axis=0)).sum(1)
    return fd


def read_confounds_table(path: Path, n_volumes: int) -> pd.DataFrame:
    """Read a confounds TSV and check it has one row per volume."""
    from .tables import (
        read_tsv,
    )  # imported here: the strategies above are read by --help without pandas

    df = read_tsv(
        path,
        "confounds",
        "pass fMRIPrep's desc-confounds_timeseries.tsv",
        na_values=["n/a", "NaN", "nan"],
    )
    if len(df) != n_volumes:
        raise InputError(
            f"confounds {path.name} has {len(df)} rows but "
            f"the BOLD run has {n_volumes} volumes — use the "
            "confounds file of the same run"
        )
    return df


def load_run_confounds(
    confounds_path: Path,
    n_volumes: int,
    strategy: str = DEFAULT_STRATEGY,
    global_signal: bool = False,
    fd_threshold_mm: float | None = 0.5,
    dvars_threshold: float | None = None,
    min_segment: int = 5,
) -> RunConfounds:
    """Select confounds and censored volumes for one run.

    Parameters
    ----------
    confounds_path : Path
        fMRIPrep confounds TSV.
    n_volumes : int
        Number of volumes of the BOLD run (checked against the TSV rows).
    strategy : str
        One of :data:`STRATEGIES` (default: 24 motion parameters + white matter + CSF).
    global_signal : bool
        Also regress the global signal (added to strategies that lack it).
    fd_threshold_mm : float or None
        Censor volumes whose framewise displacement exceeds this (mm); ``None`` disables censoring.
    dvars_threshold : float or None
        Also censor volumes whose standardised DVARS exceeds this; ``None`` disables it.
    min_segment : int
        Uncensored segments shorter than this many volumes are censored too (Power et al. 2014).

    Returns
    -------
    RunConfounds
    """
    from nilearn.interfaces.fmriprep import load_confounds

    if strategy not in STRATEGIES:
        raise InputError(
            f"unknown confound strategy '{strategy}' — choose one of {', '.join(STRATEGIES)}"
        )
    df = read_confounds_table(confounds_path, n_volumes)
    if {"trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z"} <= set(df.columns):
        fd = (
            df["framewise_displacement"].to_numpy(float)
            if "framewise_displacement" in df
            else _framewise_displacement(df)
        )
    elif fd_threshold_mm is not None:
        raise InputError(
            f"confounds {confounds_path.name} has no motion "
            "parameters (trans_x … rot_z) — pass fMRIPrep's "
            "confounds TSV or --fd-threshold none"
        )
    else:
        fd = np.zeros(n_volumes)
    fd = np.nan_to_num(fd, nan=0.0)
    df["framewise_displacement"] = fd
    if "std_dvars" not in df:
        df["std_dvars"] = 0.0
    kwargs = dict(STRATEGIES[strategy])
    kwargs["strategy"] = list(kwargs["strategy"])
    if global_signal and "global_signal" not in kwargs["strategy"]:
        kwargs["strategy"].append("global_signal")
        kwargs["global_signal"] = "basic"
    if fd_threshold_mm is not None or dvars_threshold is not None:
        kwargs["strategy"].append("scrub")
        kwargs.update(
            scrub=min_segment,
            fd_threshold=np.inf if fd_threshold_mm is None else fd_threshold_mm,
            std_dvars_threshold=np.inf if dvars_threshold is None else dvars_threshold,
        )
    with tempfile.TemporaryDirectory(prefix="tmstarget-confounds-") as tmp:
        stem = Path(tmp) / "sub-x_task-rest"
        bold = Path(f"{stem}_space-MNI152NLin6Asym_desc-preproc_bold.nii.gz")
        bold.touch()
        df.to_csv(f"{stem}_desc-confounds_timeseries.tsv", sep="\t", index=False, na_rep="n/a")
        sidecar = confounds_path.with_suffix(".json")
        if sidecar.is_file():
            shutil.copyfile(sidecar, f"{stem}_desc-confounds_timeseries.json")
        try:
            selected, sample_mask = load_confounds(str(bold), **kwargs)
        except ValueError as exc:
            raise InputError(
                f"confounds {confounds_path.name} cannot provide strategy '{strategy}': {exc} — "
                "choose another --confounds-strategy or pass fMRIPrep's full confounds TSV"
            ) from exc
    values = (
        selected.to_numpy(float)
        if selected is not None and selected.size
        else np.zeros((n_volumes, 0))
    )
    keep = np.arange(n_volumes) if sample_mask is None else np.asarray(sample_mask, dtype=int)
    if keep.size < 2:  # everything censored: the caller reports too few volumes
        return RunConfounds(
            confounds=np.zeros((n_volumes, 0)), names=(), sample_mask=keep, fd_mm=fd
        )
    if not np.isfinite(values).all():
        bad = [c for c in selected.columns if not np.isfinite(selected[c]).all()]
        raise InputError(
            f"confounds {confounds_path.name} has missing "
            f"values in {', '.join(bad[:5])} — fix or drop "
            "those columns"
        )
    names = tuple(selected.columns) if selected is not None else ()
    return RunConfounds(confounds=values, names=names, sample_mask=keep, fd_mm=fd)
