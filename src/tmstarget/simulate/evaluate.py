"""Accuracy of targeting methods on simulated participants, in memory (no BOLD files written).

Each simulated session is cleaned and scored with the same array-level code as ``tmstarget target``
(:mod:`tmstarget.targeting.cleaning`, :mod:`tmstarget.targeting`); only the file reading is skipped. Shorter scans are the
first minutes of the same session, so scan lengths are compared on the same noise.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..targeting.cleaning import run_operator
from ..io.confounds import load_run_confounds
from ..targeting import METHODS, choose_target, compute_scores, finalize_components
from ..targeting.regions import dlpfc_search_mask
from .dataset import _snap_to_region, confounds_table
from .model import GROUP_TARGET_MNI, SimulationParams, anatomy, deviation_field, group_circuit_map, simulate_participant


def evaluate_participant(
    seed: int,
    params: SimulationParams = SimulationParams(),
    minutes: tuple[float, ...] = (5.0, 10.0),
    n_sessions: int = 2,
    methods: tuple[str, ...] = tuple(METHODS),
    circuit: str = "sgacc",
    fwhm_mm: float = 6.0,
    global_signal: bool = False,
) -> list[dict]:
    """Simulate one participant's sessions and target them with every method and scan length.

    Parameters
    ----------
    seed : int
        Seeds the participant (target location, noise, motion).
    params : SimulationParams
        Model parameters; ``n_volumes`` is replaced to cover the longest scan length.
    minutes : tuple of float
        Scan lengths analysed (the first minutes of each session).
    n_sessions : int
        Sessions simulated (same planted target, new noise and motion).
    methods : tuple of str
        Methods of :data:`tmstarget.targeting.METHODS` to run, and ``group``: the pure group target (the optimum of
        the ``shrinkage`` prior: the optimum of the simulated group map, or for ``sgacc`` :data:`GROUP_TARGET_MNI`).
    circuit : {"sgacc", "map"}
        The individual sgACC seed map or the simulated group circuit map.
    fwhm_mm : float
        Spatial smoothing, as ``tmstarget target --fwhm``.
    global_signal : bool
        Regress the global signal too, as ``tmstarget target --gsr``.

    Returns
    -------
    list of dict
        One row per session × scan length × method: ``seed, session, minutes, method, x, y, z,
        error_mm, target_x/y/z`` (and ``weight`` for ``shrinkage``).
    """
    rng = np.random.default_rng(seed)
    anat = anatomy(params.fov)
    region = dlpfc_search_mask(anat.brain, anat.affine)
    region_xyz = np.argwhere(region) @ anat.affine[:3, :3].T + anat.affine[:3, 3]
    shift = params.shift_mm if params.shift_mm is not None else float(rng.uniform(4.0, 15.0))
    direction = rng.standard_normal(3)
    target = _snap_to_region(np.asarray(GROUP_TARGET_MNI) + shift * direction / np.linalg.norm(direction), region_xyz)
    n_total = int(round(max(minutes) * 60 / params.t_r))
    p = replace(params, n_volumes=n_total)
    cmap = _group_map_on_grid(anat) if circuit == "map" else None
    flat = np.flatnonzero(anat.brain.ravel(order="F"))
    tissue_idx = {"global": flat, "white_matter": np.flatnonzero(anat.wm.ravel(order="F")), "csf": np.flatnonzero(anat.csf.ravel(order="F"))}
    rows = []
    deviation = deviation_field(rng, anat, p)  # the participant's own, the same in every session (None by default)
    for session in range(1, n_sessions + 1):
        bold, motion = simulate_participant(rng, anat, target, p, n_runs=1, deviation=deviation)[0]
        flat_bold = bold.reshape(-1, n_total, order="F")
        table = confounds_table(flat_bold, motion, tissue_idx)
        x = np.ascontiguousarray(flat_bold[flat].T)  # (T, V)
        del bold, flat_bold
        for mins in minutes:
            n = int(round(mins * 60 / params.t_r))
            with tempfile.TemporaryDirectory() as tmp:
                tsv = Path(tmp) / "confounds.tsv"
                table.iloc[:n].to_csv(tsv, sep="\t", index=False, na_rep="n/a")
                conf = load_run_confounds(tsv, n, global_signal=global_signal)
            op = run_operator(n, params.t_r, conf.confounds, conf.sample_mask)
            comp = finalize_components([op.projector @ x[:n]], anat.brain, anat.affine, fwhm_mm)
            scores = compute_scores(comp, region, cmap, "similarity" in methods)
            shrink = _shrinkage(comp, scores, op, region, cmap) if {"shrinkage", "group"} & set(methods) else None
            for method in methods:
                coord = np.asarray(shrink[1]["group_target_mni"]) if method == "group" else (
                    shrink[0].coord_mm if method == "shrinkage" else choose_target(method, comp, scores)[0].coord_mm)
                rows.append({
                    "seed": seed, "session": session, "minutes": mins, "method": method,
                    "x": coord[0], "y": coord[1], "z": coord[2],
                    "target_x": target[0], "target_y": target[1], "target_z": target[2],
                    "error_mm": float(np.linalg.norm(coord - target)),
                    **({"weight": shrink[1]["weight"]} if method == "shrinkage" else {}),
                })
    return rows


def _shrinkage(comp, scores, op, region, cmap):
    """Shrinkage target and block; the prior is the simulated group map, or for ``sgacc`` the simulator's group point."""
    from ..targeting.shrinkage import shrinkage_target

    return shrinkage_target(comp, scores, [op], region, cmap, prior_point=None if cmap is not None else GROUP_TARGET_MNI)


def _group_map_on_grid(anat) -> np.ndarray:
    from ..targeting.circuits import load_circuit_map
    from ..io.derivatives import write_nifti_atomic
    from .model import MNI2_AFFINE

    with tempfile.TemporaryDirectory() as tmp:
        path = write_nifti_atomic(Path(tmp) / "circuit.nii.gz", group_circuit_map(np.random.default_rng(10_000)), MNI2_AFFINE)
        return load_circuit_map(path, anat.affine, anat.brain.shape)
