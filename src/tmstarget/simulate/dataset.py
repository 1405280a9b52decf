"""Write simulated participants as an fMRIPrep-like derivatives folder, with the planted truth."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from .._utils.progress import progress
from ..io.derivatives import write_json_atomic, write_nifti_atomic, write_text_atomic
from ..targeting.regions import dlpfc_search_mask
from .model import (
    GROUP_TARGET_MNI,
    MNI2_AFFINE,
    SimulationParams,
    anatomy,
    deviation_field,
    framewise_displacement,
    group_circuit_map,
    simulate_participant,
)
from .multiecho import MultiEchoParams, iter_participant_multiecho, to_grid

logger = logging.getLogger(__name__)

SPACE = "MNI152NLin6Asym"
CIRCUIT_FILENAME = "circuit-simulated_space-MNI152NLin6Asym_res-2_map.nii.gz"


def confounds_table(
    bold_2d: np.ndarray, motion: np.ndarray, tissue_idx: dict[str, np.ndarray]
) -> pd.DataFrame:
    """fMRIPrep-style confounds: motion (+derivatives, squares), FD, DVARS, global/WM/CSF means.

    Parameters
    ----------
    bold_2d : ndarray, shape (N, T)
        Voxel time series (flattened grid).
    motion : ndarray, shape (T, 6)
    tissue_idx : dict
        Flat voxel indices of ``global`` (brain), ``white_matter`` and ``csf``.
    """
    cols: dict[str, np.ndarray] = {}
    names = ["trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z"]
    series = {n: motion[:, i] for i, n in enumerate(names)}
    for key in ("global_signal", "white_matter", "csf"):
        idx = tissue_idx["global" if key == "global_signal" else key]
        series[key] = bold_2d[idx].mean(axis=0, dtype=np.float64)
    for n, x in series.items():
        d = np.concatenate([[np.nan], np.diff(x)])
        cols[n] = x
        cols[f"{n}_derivative1"] = d
        cols[f"{n}_power2"] = x**2
        cols[f"{n}_derivative1_power2"] = d**2
    brain = tissue_idx["global"]
    diff = np.diff(bold_2d[brain], axis=1)
    dvars = np.concatenate([[np.nan], np.sqrt((diff.astype(np.float64) ** 2).mean(0))])
    cols["dvars"] = dvars
    cols["std_dvars"] = dvars / np.nanmedian(dvars)
    fd = framewise_displacement(motion)
    fd[0] = np.nan
    cols["framewise_displacement"] = fd
    return pd.DataFrame(cols)


#: Largest shift from the group site that still plants the target inside the left-DLPFC search
#: region (mm).
MAX_SHIFT_MM = 30.0


def _snap_to_region(point, region_xyz: np.ndarray) -> np.ndarray:
    d = np.linalg.norm(region_xyz - np.asarray(point), axis=1)
    return region_xyz[int(np.argmin(d))]


def simulate_dataset(
    out_dir: Path | str,
    n_participants: int = 1,
    n_sessions: int = 1,
    n_runs: int = 2,
    params: SimulationParams = SimulationParams(),
    seed: int = 0,
    dtype: str = "float32",
    multi_echo: MultiEchoParams | None = None,
    echo_space: str = "template",
) -> dict:
    """Simulate participants and write them in fMRIPrep's layout (MNI152NLin6Asym, 2 mm).

    Writes, under ``out_dir``: ``dataset_description.json``; per participant/session/run the
    ``desc-preproc_bold.nii.gz`` (+ JSON with ``RepetitionTime``), ``desc-confounds_timeseries.tsv``
    (+ JSON) and ``desc-brain_mask.nii.gz``; ``sub-<l>/sub-<l>_desc-truth_target.json`` with the
    planted target; ``truth.tsv`` for all participants; and the group circuit map
    :data:`CIRCUIT_FILENAME`.

    With ``multi_echo``, each run is simulated by :func:`.multiecho.simulate_run_multiecho` (same
    participants, targets, neural signals and motion as without it, for the same seed) and written
    as fMRIPrep does with ``--me-output-echos``: one ``echo-<n>`` series per echo (JSON sidecar with
    ``EchoTime`` in seconds and ``RepetitionTime``), the T2*-weighted optimal combination as
    ``desc-preproc_bold`` (confounds computed from it) and the fitted ``T2starmap``. With
    ``echo_space="template"`` the echoes are on the same MNI grid as the combined series and say so
    (``space-``); with ``"boldref"`` they are written as fMRIPrep does, in a BOLD reference grid
    (no ``space-``; :mod:`.boldref`), with each run's ``from-boldref_to-T1w`` coregistration
    (``func/``) and the participant's ``from-T1w_to-<space>`` transform (``anat/``), both ITK
    ``.txt`` affines.

    Returns
    -------
    dict
        ``{"participants": {label: {"target_mni": [...], "shift_mm": ...}}, "circuit": path}``.
    """
    if echo_space not in ("template", "boldref"):
        raise ValueError(f"echo_space must be 'template' or 'boldref', got {echo_space!r}")
    out = Path(out_dir)
    rng = np.random.default_rng(seed)
    anat = anatomy(params.fov)
    layout = None
    if multi_echo is not None and echo_space == "boldref":
        from .boldref import boldref_layout

        layout = boldref_layout(anat.affine, anat.shape)
    region = dlpfc_search_mask(anat.brain, anat.affine)
    region_xyz = np.argwhere(region) @ anat.affine[:3, :3].T + anat.affine[:3, 3]
    write_json_atomic(
        out / "dataset_description.json",
        {
            "Name": "tmstarget simulated fMRIPrep derivatives",
            "BIDSVersion": "1.9.0",
            "DatasetType": "derivative",
            "GeneratedBy": [
                {
                    "Name": "tmstarget.simulate",
                    "Description": "synthetic data with planted targets (not real participants)",
                }
            ],
            "SimulationParameters": {k: getattr(params, k) for k in params.__dataclass_fields__},
            **(
                {
                    "MultiEchoParameters": {
                        k: getattr(multi_echo, k) for k in multi_echo.__dataclass_fields__
                    }
                }
                if multi_echo
                else {}
            ),
            **({"EchoSpace": "boldref"} if layout is not None else {}),
            "Seed": seed,
        },
    )
    noise_rng = (
        np.random.default_rng([seed, 27]) if multi_echo else None
    )  # the multi-echo-only noise (issue 27)
    circuit = write_nifti_atomic(
        out / CIRCUIT_FILENAME,
        group_circuit_map(np.random.default_rng(seed + 10_000)),
        MNI2_AFFINE,
        "simulated group circuit",
    )
    flat_brain = np.flatnonzero(anat.brain.ravel(order="F"))
    tissue_idx = {
        "global": flat_brain,
        "white_matter": np.flatnonzero(anat.wm.ravel(order="F")),
        "csf": np.flatnonzero(anat.csf.ravel(order="F")),
    }
    truth: dict = {"participants": {}, "circuit": str(circuit)}
    rows = []
    for i in progress(range(n_participants), n_participants, "simulating participants"):
        label = f"{i + 1:02d}"
        shift = params.shift_mm if params.shift_mm is not None else float(rng.uniform(4.0, 15.0))
        direction = rng.standard_normal(3)
        direction /= np.linalg.norm(direction)
        target = _snap_to_region(np.asarray(GROUP_TARGET_MNI) + shift * direction, region_xyz)
        planted = float(np.linalg.norm(target - np.asarray(GROUP_TARGET_MNI)))
        if abs(planted - shift) > 3.0:
            logger.warning(
                "sub-%s: the search region allows a target "
                "%.1f mm from the group site, not %.1f mm; "
                "the truth "
                "records %.1f mm",
                label,
                planted,
                shift,
                planted,
            )
        sessions = [None] if n_sessions == 1 else [str(s + 1) for s in range(n_sessions)]
        deviation = deviation_field(
            rng, anat, params
        )  # the participant's own; None (no draw) by default
        for ses in sessions:
            func = out / f"sub-{label}" / (f"ses-{ses}" if ses else "") / "func"
            prefix = f"sub-{label}" + (f"_ses-{ses}" if ses else "") + "_task-rest"
            if multi_echo is None:
                runs = [
                    {"bold": b, "motion": m}
                    for b, m in simulate_participant(rng, anat, target, params, n_runs, deviation)
                ]
            else:
                runs = iter_participant_multiecho(
                    rng, noise_rng, anat, target, params, multi_echo, n_runs, deviation
                )  # one run in memory
            for r, run in enumerate(runs, 1):
                run_prefix = prefix + (f"_run-{r}" if n_runs > 1 else "")
                stem = func / f"{run_prefix}_space-{SPACE}_res-2"
                sidecar = {"RepetitionTime": params.t_r, "SkullStripped": False, "TaskName": "rest"}
                if multi_echo is not None:
                    if layout is not None:
                        _write_boldref_transforms(out, func, label, run_prefix, layout)
                    for e, te in enumerate(multi_echo.echo_times_ms):
                        if layout is None:
                            echo_stem = func / f"{run_prefix}_echo-{e + 1}_space-{SPACE}_res-2"
                            echo = to_grid(run["echoes"][e], run["flat"], anat.shape)
                        else:
                            from .boldref import to_boldref

                            echo_stem = func / f"{run_prefix}_echo-{e + 1}"
                            echo = to_boldref(
                                run["echoes"][e], run["flat"], anat.affine, anat.shape, layout
                            )
                        _write_bold(
                            f"{echo_stem}_desc-preproc_bold.nii.gz",
                            echo,
                            anat.affine if layout is None else layout.affine,
                            params.t_r,
                            dtype,
                        )
                        write_json_atomic(
                            f"{echo_stem}_desc-preproc_bold.json",
                            {"EchoTime": round(te / 1000.0, 6), **sidecar},
                        )
                    write_nifti_atomic(
                        f"{stem}_T2starmap.nii.gz",
                        to_grid(run["t2star_ms"] / 1000.0, run["flat"], anat.shape),
                        anat.affine,
                        "T2* (s)",
                    )
                    run["bold"] = to_grid(run.pop("combined"), run["flat"], anat.shape)
                    del run["echoes"]
                bold, motion = run["bold"], run["motion"]
                _write_bold(
                    f"{stem}_desc-preproc_bold.nii.gz", bold, anat.affine, params.t_r, dtype
                )
                write_json_atomic(f"{stem}_desc-preproc_bold.json", sidecar)
                write_nifti_atomic(
                    f"{stem}_desc-brain_mask.nii.gz",
                    anat.brain.astype(np.float32),
                    anat.affine,
                    "brain mask",
                )
                table = confounds_table(
                    bold.reshape(-1, bold.shape[3], order="F"), motion, tissue_idx
                )
                write_text_atomic(
                    func / f"{run_prefix}_desc-confounds_timeseries.tsv",
                    table.to_csv(sep="\t", index=False, na_rep="n/a", float_format="%.6g"),
                )
                write_json_atomic(
                    func / f"{run_prefix}_desc-confounds_timeseries.json",
                    {c: {"Method": "tmstarget.simulate"} for c in table.columns},
                )
                logger.info(
                    "sub-%s%s run %d: mean FD %.2f mm",
                    label,
                    f" ses-{ses}" if ses else "",
                    r,
                    np.nanmean(table["framewise_displacement"]),
                )
        entry = {
            "target_mni": [float(v) for v in target],
            "group_target_mni": list(GROUP_TARGET_MNI),
            "shift_mm": round(planted, 2),
            "requested_shift_mm": round(shift, 2),
        }
        if multi_echo is not None:
            entry["echo_times_ms"] = list(multi_echo.echo_times_ms)
        write_json_atomic(
            out / f"sub-{label}" / f"sub-{label}_desc-truth_target.json",
            {"participant": label, **entry},
        )
        truth["participants"][label] = entry
        rows.append(f"{label}\t{target[0]:.1f}\t{target[1]:.1f}\t{target[2]:.1f}\t{planted:.2f}")
    write_text_atomic(
        out / "truth.tsv", "participant_id\tx_mm\ty_mm\tz_mm\tshift_mm\n" + "\n".join(rows) + "\n"
    )
    return truth


def _write_boldref_transforms(out: Path, func: Path, label: str, run_prefix: str, layout) -> None:
    """Write a run's coregistration (``func/``) and the participant's T1w → template transform."""
    from .boldref import write_transforms

    write_transforms(
        layout,
        func / f"{run_prefix}_from-boldref_to-T1w_mode-image_desc-coreg_xfm.txt",
        out / f"sub-{label}" / "anat" / f"sub-{label}_from-T1w_to-{SPACE}_mode-image_xfm.txt",
    )


def _write_bold(path: str, data: np.ndarray, affine: np.ndarray, t_r: float, dtype: str) -> None:
    import nibabel as nib

    from ..io.derivatives import atomic_path

    img = nib.Nifti1Image(data, affine)
    img.header.set_xyzt_units("mm", "sec")
    img.header["pixdim"][4] = t_r
    img.header.set_sform(affine, code=4)
    img.header.set_qform(affine, code=4)
    if dtype == "int16":
        img.set_data_dtype(np.int16)  # nibabel picks slope/intercept
    with atomic_path(path) as tmp:
        nib.save(img, str(tmp))
