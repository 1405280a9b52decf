"""Accuracy of targeting methods on simulated participants, in memory (no BOLD files written).

Each simulated session is cleaned with the same array-level code as ``tmstarget target``
(:mod:`tmstarget.targeting.cleaning`) and every method's target comes from the same
:func:`~tmstarget.targeting.score_and_select` (selector and post-step of the method registry); only
the file reading is skipped. Shorter scans are the
first minutes of the same session, so scan lengths are compared on the same noise.

The steps are public so that studies can reuse the costly ones: :func:`plant_target`,
:func:`simulate_session` (once per session), :func:`clean_session` (once per scan length and
confound set), then :func:`~tmstarget.targeting.finalize_components` per smoothing and
:func:`~tmstarget.targeting.compute_scores` per circuit, with every method and neighbourhood chosen
on the same scores (:func:`select_method`).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ..io.confounds import load_run_confounds
from ..targeting import (
    METHODS,
    NEIGHBOURHOOD_MM,
    TargetingOptions,
    compute_scores,
    finalize_components,
    get_method,
    score_and_select,
)
from ..targeting.cleaning import CleaningOperator, run_operator
from ..targeting.regions import dlpfc_search_mask
from .dataset import _snap_to_region, confounds_table
from .model import (
    GROUP_TARGET_MNI,
    Anatomy,
    SimulationParams,
    anatomy,
    deviation_field,
    group_circuit_map,
    simulate_participant,
)

#: The simulator's pseudo-method ``group``: the pure group target (no individual data), not a
#: ``--method``.
GROUP = "group"


@dataclass(frozen=True)
class Session:
    """One simulated session in memory.

    Attributes
    ----------
    x : ndarray, shape (T, V)
        BOLD of the brain voxels (Fortran order of ``anat.brain``).
    confounds : DataFrame
        fMRIPrep-style confounds of the T volumes.
    t_r : float
        Repetition time (s).
    """

    x: np.ndarray
    confounds: pd.DataFrame
    t_r: float


def plant_target(
    rng: np.random.Generator, anat: Anatomy, region: np.ndarray, params: SimulationParams
) -> np.ndarray:
    """Return the participant's planted target: the group site moved within the region.

    The site is moved by ``shift_mm`` (or 4–15 mm) in a random direction.
    """
    region_xyz = np.argwhere(region) @ anat.affine[:3, :3].T + anat.affine[:3, 3]
    shift = params.shift_mm if params.shift_mm is not None else float(rng.uniform(4.0, 15.0))
    direction = rng.standard_normal(3)
    return _snap_to_region(
        np.asarray(GROUP_TARGET_MNI) + shift * direction / np.linalg.norm(direction), region_xyz
    )


def simulate_session(
    rng: np.random.Generator,
    anat: Anatomy,
    target: np.ndarray,
    params: SimulationParams,
    n_volumes: int,
    deviation: np.ndarray | None = None,
) -> Session:
    """Simulate one session of ``n_volumes`` with the target planted at ``target``.

    ``deviation``: the participant's deviation field
    (:func:`~tmstarget.simulate.model.deviation_field`), drawn once per participant and given to
    each of its sessions.
    """
    bold, motion = simulate_participant(
        rng, anat, target, replace(params, n_volumes=n_volumes), n_runs=1, deviation=deviation
    )[0]
    flat_bold = bold.reshape(-1, n_volumes, order="F")
    flat = np.flatnonzero(anat.brain.ravel(order="F"))
    tissue_idx = {
        "global": flat,
        "white_matter": np.flatnonzero(anat.wm.ravel(order="F")),
        "csf": np.flatnonzero(anat.csf.ravel(order="F")),
    }
    table = confounds_table(flat_bold, motion, tissue_idx)
    return Session(x=np.ascontiguousarray(flat_bold[flat].T), confounds=table, t_r=params.t_r)


def clean_session(
    session: Session, minutes: float, global_signal: bool = False
) -> tuple[CleaningOperator, np.ndarray]:
    """Clean the first ``minutes`` of a session as ``tmstarget target`` does.

    Returns the operator and the compressed data (r, V).
    """
    n = int(round(minutes * 60 / session.t_r))
    with tempfile.TemporaryDirectory() as tmp:
        tsv = Path(tmp) / "confounds.tsv"
        session.confounds.iloc[:n].to_csv(tsv, sep="\t", index=False, na_rep="n/a")
        conf = load_run_confounds(tsv, n, global_signal=global_signal)
    op = run_operator(n, session.t_r, conf.confounds, conf.sample_mask)
    return op, op.projector @ session.x[:n]


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
        Methods of :data:`tmstarget.targeting.METHODS` to run, and ``group``: the pure group target
        (the optimum of the ``shrinkage`` prior: the optimum of the simulated group map, or for
        ``sgacc`` :data:`GROUP_TARGET_MNI`).
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
    target = plant_target(rng, anat, region, params)
    n_total = int(round(max(minutes) * 60 / params.t_r))
    cmap = group_map_on_grid(anat) if circuit == "map" else None
    rows = []
    deviation = deviation_field(
        rng, anat, params
    )  # the participant's own, the same in every session (None by default)
    real = [get_method(m) for m in methods if m != GROUP]
    for session in range(1, n_sessions + 1):
        data = simulate_session(rng, anat, target, params, n_total, deviation)
        for mins in minutes:
            op, block = clean_session(data, mins, global_signal)
            comp = finalize_components([block], anat.brain, anat.affine, fwhm_mm)
            scores = compute_scores(comp, region, cmap, any(m.needs_similarity for m in real))
            posts = []  # post-step blocks of this length (shrinkage's holds the group target)
            for method in methods:
                if method == GROUP:  # the pure group target: the optimum of the shrinkage prior
                    prior = (
                        next((b for b in posts if "group_target_mni" in b), None)
                        or shrinkage_and_group(comp, scores, op, region, cmap)[1]
                    )
                    rows.append(
                        target_row(
                            seed,
                            session,
                            mins,
                            method,
                            np.asarray(prior["group_target_mni"]),
                            target,
                        )
                    )
                    continue
                choice = select_method(method, comp, scores, op, region, cmap)
                posts += [choice.post] if choice.post is not None else []
                rows.append(
                    {
                        **target_row(
                            seed, session, mins, method, choice.selection.coord_mm, target
                        ),
                        **({"weight": choice.post["weight"]} if choice.post is not None else {}),
                    }
                )
    return rows


def select_method(
    method: str,
    comp,
    scores,
    op: CleaningOperator,
    region: np.ndarray,
    cmap: np.ndarray | None,
    neighbourhood_mm: float = NEIGHBOURHOOD_MM,
):
    """Choose one method's target as ``tmstarget target`` does.

    The choice is made by :func:`~tmstarget.targeting.score_and_select`, on the given scores; a
    post-step's group prior is the simulated group map, or for ``sgacc`` the simulator's group point
    :data:`GROUP_TARGET_MNI`.
    """
    options = TargetingOptions(
        method=method,
        neighbourhood_mm=neighbourhood_mm,
        group_target=None if cmap is not None else GROUP_TARGET_MNI,
    )
    return score_and_select(comp, region, cmap, options, [op], scores=scores)


def shrinkage_and_group(
    comp,
    scores,
    op: CleaningOperator,
    region: np.ndarray,
    cmap: np.ndarray | None,
    neighbourhood_mm: float = NEIGHBOURHOOD_MM,
):
    """Return the shrinkage target and its block, by :func:`select_method`.

    In the block, ``group_target_mni`` is the pure group target.
    """
    choice = select_method("shrinkage", comp, scores, op, region, cmap, neighbourhood_mm)
    return choice.selection, choice.post


def target_row(seed: int, session: int, minutes: float, method: str, coord_mm, target) -> dict:
    """One evaluated target: where it is and its error to the planted ``target`` (mm)."""
    coord_mm, target = np.asarray(coord_mm, float), np.asarray(target, float)
    return {
        "seed": seed,
        "session": session,
        "minutes": minutes,
        "method": method,
        "x": coord_mm[0],
        "y": coord_mm[1],
        "z": coord_mm[2],
        "target_x": target[0],
        "target_y": target[1],
        "target_z": target[2],
        "error_mm": float(np.linalg.norm(coord_mm - target)),
    }


def group_map_on_grid(anat: Anatomy) -> np.ndarray:
    """Return the simulated group circuit map on ``anat``'s grid.

    It is drawn with seed 10 000, as :func:`~tmstarget.simulate.simulate_dataset` does with seed 0.
    """
    from ..io.derivatives import write_nifti_atomic
    from ..targeting.circuits import load_circuit_map
    from .model import MNI2_AFFINE

    with tempfile.TemporaryDirectory() as tmp:
        path = write_nifti_atomic(
            Path(tmp) / "circuit.nii.gz",
            group_circuit_map(np.random.default_rng(10_000)),
            MNI2_AFFINE,
        )
        return load_circuit_map(path, anat.affine, anat.brain.shape)
