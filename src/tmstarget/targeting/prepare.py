"""Reading and cleaning a participant's runs in one pass: every input kind, one path.

A *source* (:mod:`tmstarget.targeting.sources`) knows how to read one input kind — volumes
(fMRIPrep NIfTI runs) or surfaces (fsaverage GIFTI pairs or CIFTI). :func:`prepare` does the rest
the same way for all: confounds and censoring, the cleaning operator of each run
(:mod:`tmstarget.targeting.cleaning`), the compressed cleaned data ``W_i = P_i X_i`` accumulated
while the data are read, smoothing, temporal SNR and which columns vary.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._utils.prefetch import Prefetcher
from .._utils.progress import progress
from ..exceptions import InputError
from ..io.confounds import load_run_confounds
from .cleaning import run_operator
from .components import Components, finalize_components
from .geometry import SurfaceGeometry, VolumeGeometry
from .result import RunInfo, TargetingOptions
from .sources import SurfaceSource, VolumeSource, input_kind, open_source  # noqa: F401 - API

logger = logging.getLogger(__name__)


def clean_runs(source, options: TargetingOptions) -> tuple[list[RunInfo], list]:
    """Confounds, censoring and cleaning operator of every run; refuses too few volumes left."""
    infos, confs = [], []
    for i, name in enumerate(source.names):
        n_vol, t_r = source.n_volumes(i), source.t_r(i, options)
        conf = load_run_confounds(
            source.confounds[i],
            n_vol,
            options.confounds_strategy,
            options.global_signal,
            options.fd_threshold_mm,
            options.dvars_threshold,
        )
        censored = np.ones(n_vol, bool)
        censored[conf.sample_mask] = False
        infos.append(
            RunInfo(
                name, n_vol, conf.n_censored, t_r, 0, float(conf.fd_mm.mean()), conf.fd_mm, censored
            )
        )
        confs.append(conf)
        logger.info(
            "%s: %d volumes, %d censored (FD > %s mm), TR %.2f s",
            name,
            n_vol,
            conf.n_censored,
            options.fd_threshold_mm,
            t_r,
        )
    n_kept = sum(c.sample_mask.size for c in confs)
    if n_kept < options.min_volumes:
        raise InputError(
            f"{n_kept} volumes left after censoring over {len(infos)} "
            f"run(s), need >= {options.min_volumes} — "
            "raise --fd-threshold, add runs, or lower --min-volumes "
            "(targets from short scans are unreliable)"
        )
    operators = []
    for conf, info in zip(confs, infos):
        op = run_operator(
            info.n_volumes,
            info.t_r,
            conf.confounds,
            conf.sample_mask,
            options.high_pass_hz,
            options.low_pass_hz,
            name=info.name,
        )
        info.dof = op.rank
        operators.append(op)
    return infos, operators


def _variable(moments: np.ndarray, n_volumes: list[int], rtol: float = 1e-6) -> np.ndarray:
    """Columns whose raw time series vary in every run (SD > ``rtol`` × |mean|, and > 0)."""
    n = np.asarray(n_volumes, float)[:, None]
    mean = moments[:, 0] / n
    var = moments[:, 1] / n - mean**2
    return np.all(var > np.maximum((rtol * mean) ** 2, 1e-30), axis=0)


def _tsnr(moments: np.ndarray, n_volumes: list[int]) -> np.ndarray:
    """Compute the temporal SNR per column, averaged over runs.

    Per run it is mean / SD over time (SD with n − 1).
    """
    n = np.asarray(n_volumes, float)[:, None]
    mean = moments[:, 0] / n
    var = np.maximum(moments[:, 1] / n - mean**2, 0.0) * n / np.maximum(n - 1, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_run = np.where(var > 0, mean / np.sqrt(var), np.nan)
    return np.nanmean(per_run, axis=0)


@dataclass
class Prepared:
    """A participant's data after one pass over the BOLD files: everything targeting needs.

    Attributes
    ----------
    blocks : list of ndarray, each (r_run, V)
        Compressed cleaned (and smoothed) data of each run; ``operators[i].basis @ blocks[i]`` are
        the cleaned time series of run i at its kept volumes.
    operators : list of CleaningOperator
    infos : list of RunInfo
    brain, affine, region
        Voxel grid of the columns (a (V, 1, 1) placeholder and None for surfaces) and the search
        region.
    circuit_map : ndarray or None
        Group circuit map on the grid or per column (None for the sgACC seed circuit).
    tsnr : ndarray
        Temporal SNR (a volume, or per column).
    variable : ndarray of bool
        Columns whose raw data vary.
    geometry : VolumeGeometry or SurfaceGeometry
    """

    blocks: list
    operators: list
    infos: list
    brain: np.ndarray
    affine: np.ndarray | None
    region: np.ndarray
    circuit_map: np.ndarray | None
    tsnr: np.ndarray
    variable: np.ndarray
    geometry: VolumeGeometry | SurfaceGeometry | None = None


def prepare(
    runs: list,
    options: TargetingOptions,
    circuit,
    timings: dict | None = None,
    meshes: tuple[Path, Path] | None = None,
    source=None,
) -> Prepared:
    """Read and clean the runs in one pass, smooth, load the circuit map (see the module notes)."""
    timings = {} if timings is None else timings
    t_start = time.perf_counter()
    source = open_source(runs, meshes, options) if source is None else source
    geometry = source.geometry
    smooth = bool(options.fwhm_mm and options.fwhm_mm > 0)
    # A run's components are smoothed in a worker thread as soon as the run is complete, while this
    # thread projects the next run's chunks and the prefetch thread decompresses them: scipy's
    # filter holds the GIL, the matrix products and the inflating release it.
    with (
        Prefetcher(source.chunks(), depth=4) as chunks,  # reading starts in the background
        ThreadPoolExecutor(1, thread_name_prefix="tmstarget-smooth") as smoother,
    ):
        infos, operators = clean_runs(source, options)
        region = source.search_region(options)
        timings["setup"] = time.perf_counter() - t_start
        t0 = time.perf_counter()
        blocks = [np.zeros((op.rank, geometry.n), np.float32) for op in operators]
        moments = np.zeros(
            (len(infos), 2, geometry.n)
        )  # per run: sum and sum of squares (for tSNR)
        seen, smoothed = [0] * len(infos), [None] * len(infos)
        for i, start, x in progress(chunks, source.n_chunks(infos), "reading BOLD"):
            blocks[i] += operators[i].projector[:, start : start + x.shape[0]] @ x
            moments[i, 0] += x.sum(axis=0, dtype=np.float64)
            moments[i, 1] += np.einsum("tv,tv->v", x, x, dtype=np.float64)
            seen[i] += x.shape[0]
            if smooth and seen[i] == infos[i].n_volumes:
                smoothed[i] = smoother.submit(geometry.smooth, blocks[i], options.fwhm_mm)
        timings["read_clean"] = time.perf_counter() - t0
        # while the last run is smoothed: the circuit map and the per-column summaries
        circuit_map = source.circuit_map(circuit)
        n_volumes = [info.n_volumes for info in infos]
        tsnr, variable = geometry.to_grid(_tsnr(moments, n_volumes)), _variable(moments, n_volumes)
        t0 = time.perf_counter()
        if smooth:  # every complete run has its smoothing under way
            blocks = [
                geometry.smooth(b, options.fwhm_mm) if f is None else f.result()
                for b, f in zip(blocks, smoothed)
            ]
        timings["smooth_wait"] = time.perf_counter() - t0
    return Prepared(
        blocks,
        operators,
        infos,
        source.brain,
        source.affine,
        region,
        circuit_map,
        tsnr,
        variable,
        geometry,
    )


def components_from(prepared: Prepared) -> Components:
    """Full-data components of a :class:`Prepared`, exactly as the targeting run builds them."""
    comp = finalize_components(
        prepared.blocks,
        prepared.brain,
        prepared.affine if prepared.affine is not None else np.eye(4),
        variable=prepared.variable,
        geometry=prepared.geometry,
    )
    if isinstance(prepared.geometry, SurfaceGeometry):
        comp.valid &= (
            prepared.geometry.grayordinates.usable
        )  # no coordinates (CIFTI cortex without meshes) or medial wall
    return comp
