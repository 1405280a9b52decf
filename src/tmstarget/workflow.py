"""The participant-level targeting run: fMRIPrep runs in, a target and a score map out.

This module orchestrates :mod:`~tmstarget.io` (reading), :mod:`~tmstarget.clean`,
:mod:`~tmstarget.connectivity` and :mod:`~tmstarget.select`; it returns a :class:`TargetResult` and
writes nothing (see :func:`tmstarget.io.derivatives.write_target_outputs`).
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import ndimage

from . import __version__
from .circuits import load_circuit_map, resolve_circuit
from .clean import HIGH_PASS_HZ, LOW_PASS_HZ, run_operator
from .methods import METHODS, choose_target, compute_scores, finalize_components
from .exceptions import InputError
from .io.bids import Run
from .io.confounds import DEFAULT_STRATEGY, load_run_confounds
from .io.derivatives import sha256
from .io.images import bold_shape, check_grid, load_image, load_mask, read_tr, stream_masked_volumes
from .regions import check_search_region, dlpfc_search_mask
from .select import NEIGHBOURHOOD_MM
from ._utils.prefetch import Prefetcher
from ._utils.progress import progress

logger = logging.getLogger(__name__)



@dataclass(frozen=True)
class TargetingOptions:
    """Parameters of a targeting run (defaults follow the trial's pipeline; see ``tmstarget target --help``)."""

    circuit: str = "sgacc"
    circuit_label: str | None = None
    method: str = "robust"
    confounds_strategy: str = DEFAULT_STRATEGY
    global_signal: bool = False
    fd_threshold_mm: float | None = 0.5
    dvars_threshold: float | None = None
    high_pass_hz: float | None = HIGH_PASS_HZ
    low_pass_hz: float | None = LOW_PASS_HZ
    fwhm_mm: float = 6.0
    min_volumes: int = 100
    neighbourhood_mm: float = NEIGHBOURHOOD_MM
    exclude_local_mm: float = 10.0
    t_r: float | None = None
    search_mask: Path | None = None
    bootstrap: int = 0
    bootstrap_seed: int = 0


@dataclass
class RunInfo:
    """What was used of one run (``fd_mm`` and ``censored`` have one entry per volume)."""

    name: str
    n_volumes: int
    n_censored: int
    t_r: float
    dof: int
    mean_fd_mm: float
    fd_mm: np.ndarray = field(default_factory=lambda: np.zeros(0))
    censored: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))


@dataclass
class TargetResult:
    """Outcome of :func:`compute_target`."""

    target_mni: np.ndarray
    score: float
    score_raw: float
    circuit: str
    method: str
    space: str
    runs: list[RunInfo]
    score_map: np.ndarray
    affine: np.ndarray
    n_search_voxels: int
    tsnr_map: np.ndarray | None = None
    confidence: dict | None = None
    inputs: dict[str, str] = field(default_factory=dict)
    timings_s: dict[str, float] = field(default_factory=dict)
    options: TargetingOptions = field(default_factory=TargetingOptions)

    @property
    def n_volumes_used(self) -> int:
        """Volumes kept after censoring, over all runs."""
        return sum(r.n_volumes - r.n_censored for r in self.runs)

    @property
    def n_volumes_censored(self) -> int:
        """Volumes censored, over all runs."""
        return sum(r.n_censored for r in self.runs)

    def qc(self) -> dict:
        """Quality summary: motion and temporal SNR (in the search region and the whole brain)."""
        fd = np.concatenate([r.fd_mm for r in self.runs]) if self.runs else np.zeros(0)
        out = {
            "mean_fd_mm": round(float(fd.mean()), 3) if fd.size else None,
            "max_fd_mm": round(float(fd.max()), 3) if fd.size else None,
            "percent_censored": round(100.0 * self.n_volumes_censored / max(1, self.n_volumes_used + self.n_volumes_censored), 1),
        }
        if self.tsnr_map is not None:
            region = np.isfinite(self.score_map) & np.isfinite(self.tsnr_map)
            brain = np.isfinite(self.tsnr_map)
            out["median_tsnr_brain"] = round(float(np.median(self.tsnr_map[brain])), 1) if brain.any() else None
            out["median_tsnr_search_region"] = round(float(np.median(self.tsnr_map[region])), 1) if region.any() else None
        return out

    def motion_table(self) -> str:
        """Per-volume framewise displacement and censoring, as TSV text."""
        lines = ["run\tvolume\tframewise_displacement\tcensored"]
        for r in self.runs:
            lines += [f"{r.name}\t{t}\t{fd:.4f}\t{int(c)}" for t, (fd, c) in enumerate(zip(r.fd_mm, r.censored))]
        return "\n".join(lines) + "\n"

    def to_json(self, participant: str, session: str | None) -> dict:
        """The target JSON object (fields in docs/outputs.md)."""
        o = self.options
        return {
            "participant": participant,
            "session": session,
            "space": self.space,
            "circuit": self.circuit,
            "method": self.method,
            "target_mni": [round(float(v), 1) for v in self.target_mni],
            "score": round(self.score, 4),
            "score_voxel": round(self.score_raw, 4),
            **({"confidence_radius_mm": self.confidence["confidence_radius_mm"], "n_bootstrap": o.bootstrap} if self.confidence else {}),
            "n_volumes_used": self.n_volumes_used,
            "n_volumes_censored": self.n_volumes_censored,
            "runs": [r.name for r in self.runs],
            "run_details": [
                {"name": r.name, "n_volumes": r.n_volumes, "n_censored": r.n_censored, "t_r_s": r.t_r, "dof": r.dof, "mean_fd_mm": round(r.mean_fd_mm, 3)}
                for r in self.runs
            ],
            "n_search_voxels": self.n_search_voxels,
            "qc": self.qc(),
            "parameters": {
                "confounds_strategy": o.confounds_strategy + ("+gsr" if o.global_signal else ""),
                "fd_threshold_mm": o.fd_threshold_mm,
                "dvars_threshold": o.dvars_threshold,
                "band_pass_hz": [o.high_pass_hz, o.low_pass_hz],
                "fwhm_mm": o.fwhm_mm,
                "neighbourhood_mm": o.neighbourhood_mm,
                "exclude_local_mm": o.exclude_local_mm,
                "search_mask": "default-left-dlpfc" if o.search_mask is None else Path(o.search_mask).name,
            },
            "inputs": self.inputs,
            "tmstarget_version": __version__,
        }


def _smooth_components(w: np.ndarray, mask: np.ndarray, affine: np.ndarray, fwhm_mm: float, block: int = 32) -> np.ndarray:
    """Spatially smooth compressed data (r × V, in place) with a Gaussian kernel of ``fwhm_mm``.

    Smoothing (spatial) and cleaning (temporal) are both linear and act on different axes, so smoothing the
    r compressed components equals smoothing the T volumes first, at a fraction of the cost. The kernel is
    nilearn's (``smooth_img``: σ = FWHM / √(8 ln 2) per voxel size), applied with scipy on the brain's
    bounding box, ``block`` components at a time; zeros outside the mask (not skull) enter the kernel.
    """
    ijk = np.argwhere(mask)
    lo, hi = ijk.min(0), ijk.max(0) + 1
    box = tuple(int(b - a) for a, b in zip(lo, hi))
    # columns of w follow the Fortran-order flattening of the mask; place them in a C-order box
    flat_f = np.flatnonzero(mask.ravel(order="F"))
    vox = np.column_stack(np.unravel_index(flat_f, mask.shape, order="F")) - lo
    flat_c = np.ravel_multi_index(vox.T, box)
    sigma = fwhm_mm / np.sqrt(8 * np.log(2)) / np.sqrt((affine[:3, :3] ** 2).sum(0))
    vol = np.zeros((block, *box), np.float32)
    for b0 in range(0, w.shape[0], block):
        nb = min(block, w.shape[0] - b0)
        vol[:] = 0
        flat_vol = vol.reshape(block, -1)
        flat_vol[:nb, flat_c] = w[b0 : b0 + nb]
        for axis in range(3):
            ndimage.gaussian_filter1d(vol[:nb], sigma[axis], axis=axis + 1, output=vol[:nb], mode="constant", truncate=4.0)
        w[b0 : b0 + nb] = flat_vol[:nb, flat_c]
    return w


def _hash_inputs(files: list[Path], root: Path | None) -> dict[str, str]:
    out = {}
    for f in files:
        key = str(f.relative_to(root)) if root is not None and f.is_relative_to(root) else str(f)
        out[key] = sha256(f)
    return out


def compute_target(runs: list[Run], options: TargetingOptions = TargetingOptions(), root: Path | None = None) -> TargetResult:
    """Clean the runs, score the search region against the circuit and pick the target.

    Parameters
    ----------
    runs : list of Run
        One or more BOLD runs (same grid) with confounds and masks.
    options : TargetingOptions
        Parameters.
    root : Path, optional
        Folder the ``inputs`` checksums are reported relative to (the fMRIPrep folder).

    Returns
    -------
    TargetResult
    """
    if options.method not in METHODS:
        raise InputError(f"unknown method '{options.method}' — choose one of {', '.join(METHODS)}")
    if not runs:
        raise InputError("no runs to process — check the inputs")
    t_start = time.perf_counter()
    timings: dict[str, float] = {}
    circuit = resolve_circuit(options.circuit, options.circuit_label)
    files = sorted({p for r in runs for p in (r.bold, r.confounds, r.mask)} | ({circuit.path} if circuit.path else set()))
    files += [Path(options.search_mask)] if options.search_mask else []
    hasher = ThreadPoolExecutor(max_workers=1)
    hashes = hasher.submit(_hash_inputs, files, root)
    try:
        return _compute(runs, options, circuit, hashes, timings, t_start)
    finally:
        hasher.shutdown(wait=True, cancel_futures=True)


def _prepare(runs, imgs, brain, options):
    """Confounds, censoring and cleaning operator of every run, and the search region."""
    infos, ops = [], []
    for run, img in zip(runs, imgs):
        n_vol = img.shape[3]
        t_r = read_tr(run.bold, img, options.t_r)
        conf = load_run_confounds(
            run.confounds, n_vol, options.confounds_strategy, options.global_signal,
            options.fd_threshold_mm, options.dvars_threshold,
        )
        censored = np.ones(n_vol, bool)
        censored[conf.sample_mask] = False
        infos.append(RunInfo(run.bold.name, n_vol, conf.n_censored, t_r, 0, float(conf.fd_mm.mean()), conf.fd_mm, censored))
        ops.append((conf, t_r))
        logger.info("%s: %d volumes, %d censored (FD > %s mm), TR %.2f s", run.bold.name, n_vol, conf.n_censored, options.fd_threshold_mm, t_r)
    n_kept = sum(c.sample_mask.size for c, _ in ops)
    if n_kept < options.min_volumes:
        raise InputError(
            f"{n_kept} volumes left after censoring over {len(runs)} run(s), need >= {options.min_volumes} — "
            "raise --fd-threshold, add runs, or lower --min-volumes (targets from short scans are unreliable)"
        )
    operators = []
    for (conf, t_r), info in zip(ops, infos):
        op = run_operator(info.n_volumes, t_r, conf.confounds, conf.sample_mask, options.high_pass_hz, options.low_pass_hz, name=info.name)
        info.dof = op.rank
        operators.append(op)
    if options.search_mask is None:
        region = dlpfc_search_mask(brain, imgs[0].affine)
    else:
        region = load_mask(options.search_mask, imgs[0], runs[0].bold.name, "search mask")[0]
    return infos, operators, check_search_region(region, brain)


def _variable(moments: np.ndarray, n_volumes: list[int], rtol: float = 1e-6) -> np.ndarray:
    """Voxels whose raw time series vary in every run (SD > ``rtol`` × |mean|, and > 0)."""
    n = np.asarray(n_volumes, float)[:, None]
    mean = moments[:, 0] / n
    var = moments[:, 1] / n - mean**2
    return np.all(var > np.maximum((rtol * mean) ** 2, 1e-30), axis=0)


def _tsnr(moments: np.ndarray, n_volumes: list[int], brain: np.ndarray) -> np.ndarray:
    """Temporal SNR (mean / SD over time, averaged over runs) as a volume, NaN outside the brain."""
    n = np.asarray(n_volumes, float)[:, None]
    mean = moments[:, 0] / n
    var = np.maximum(moments[:, 1] / n - mean**2, 0.0) * n / np.maximum(n - 1, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_run = np.where(var > 0, mean / np.sqrt(var), np.nan)
    out = np.full(brain.shape, np.nan, np.float32, order="F")
    out.reshape(-1, order="F")[np.flatnonzero(brain.ravel(order="F"))] = np.nanmean(per_run, axis=0) if len(per_run) else np.nan
    return out


def _chunks(imgs, brain, names):
    """(run index, first volume, in-mask data) for every chunk of every run, in order."""
    for i, (img, name) in enumerate(zip(imgs, names)):
        for start, x in stream_masked_volumes(img, brain, name):
            yield i, start, x


@dataclass
class Prepared:
    """A participant's data after one pass over the BOLD files: everything targeting needs.

    Attributes
    ----------
    blocks : list of ndarray, each (r_run, V)
        Compressed cleaned (and smoothed) data of each run; ``operators[i].basis @ blocks[i]`` are the
        cleaned time series of run i at its kept volumes.
    operators : list of CleaningOperator
    infos : list of RunInfo
    brain, affine, region
        Voxel grid of the columns, its affine and the search region.
    circuit_map : ndarray or None
        Group circuit map on the grid (None for the sgACC seed circuit).
    tsnr : ndarray
        Temporal SNR volume.
    """

    blocks: list
    operators: list
    infos: list
    brain: np.ndarray
    affine: np.ndarray
    region: np.ndarray
    circuit_map: np.ndarray | None
    tsnr: np.ndarray
    variable: np.ndarray


def prepare(runs: list[Run], options: TargetingOptions, circuit, timings: dict | None = None) -> Prepared:
    """Read and clean the runs in one pass (see :mod:`tmstarget.clean`); smooth; load the circuit map."""
    timings = {} if timings is None else timings
    t_start = time.perf_counter()
    # ---- headers and masks (cheap), then start decompressing the BOLD data in the background
    imgs, brain = [], None
    for run in runs:
        img = load_image(run.bold, "BOLD")
        bold_shape(img, run.bold.name)
        if imgs:
            check_grid(imgs[0], img, runs[0].bold.name, run.bold.name)
        mask, _ = load_mask(run.mask, img, run.bold.name)
        brain = mask if brain is None else brain & mask
        imgs.append(img)
    with Prefetcher(_chunks(imgs, brain, [r.bold.name for r in runs]), depth=4) as chunks:
        infos, operators, region = _prepare(runs, imgs, brain, options)
        timings["setup"] = time.perf_counter() - t_start
        # ---- one pass over the voxel data: compressed cleaned data, run by run
        t0 = time.perf_counter()
        n_vox = int(brain.sum())
        blocks = [np.zeros((op.rank, n_vox), np.float32) for op in operators]
        moments = np.zeros((len(runs), 2, n_vox))  # per run: sum and sum of squares (for tSNR)
        n_chunks = sum(-(-info.n_volumes // 32) for info in infos)
        for i, start, x in progress(chunks, n_chunks, "reading BOLD"):
            blocks[i] += operators[i].projector[:, start : start + x.shape[0]] @ x
            moments[i, 0] += x.sum(axis=0, dtype=np.float64)
            moments[i, 1] += np.einsum("tv,tv->v", x, x, dtype=np.float64)
        timings["read_clean"] = time.perf_counter() - t0
    affine = imgs[0].affine
    t0 = time.perf_counter()
    if options.fwhm_mm and options.fwhm_mm > 0:
        blocks = [_smooth_components(b, brain, affine, options.fwhm_mm) for b in blocks]
    timings["smooth"] = time.perf_counter() - t0
    cmap = None if circuit.kind == "seed" else load_circuit_map(circuit.path, affine, brain.shape)
    tsnr = _tsnr(moments, [info.n_volumes for info in infos], brain)
    return Prepared(blocks, operators, infos, brain, affine, region, cmap, tsnr, _variable(moments, [i.n_volumes for i in infos]))


def _compute(runs, options, circuit, hashes, timings, t_start) -> TargetResult:
    prep = prepare(runs, options, circuit, timings)
    shape3, affine, infos, tsnr = prep.brain.shape, prep.affine, prep.infos, prep.tsnr
    t0 = time.perf_counter()
    comp = finalize_components(prep.blocks, prep.brain, affine, variable=prep.variable)
    scores = compute_scores(comp, prep.region, prep.circuit_map, options.method == "similarity", options.exclude_local_mm)
    selection, raw = choose_target(options.method, comp, scores, options.neighbourhood_mm)
    search_idx = scores.search_idx
    timings["score_select"] = time.perf_counter() - t0
    confidence = None
    if options.bootstrap > 0:
        from .reliability import bootstrap_confidence

        t0 = time.perf_counter()
        confidence = bootstrap_confidence(prep, options, options.bootstrap, options.bootstrap_seed, components=comp, scores=scores)
        timings["bootstrap"] = time.perf_counter() - t0

    score_map = np.full(shape3, np.nan, np.float32)  # NaN = outside the search region
    vox = np.column_stack(np.unravel_index(comp.flat[search_idx], shape3, order="F"))
    score_map[vox[:, 0], vox[:, 1], vox[:, 2]] = selection.selection_map
    timings["total"] = time.perf_counter() - t_start
    logger.info(
        "target (%s, %s): MNI (%.1f, %.1f, %.1f), score %.3f", circuit.label, options.method, *selection.coord_mm, selection.score
    )
    return TargetResult(
        target_mni=selection.coord_mm,
        score=selection.score,
        score_raw=float(raw[selection.index]),
        circuit=circuit.label,
        method=options.method,
        space=runs[0].space,
        runs=infos,
        score_map=score_map,
        affine=affine,
        n_search_voxels=int(search_idx.size),
        tsnr_map=tsnr,
        confidence=confidence,
        inputs=hashes.result(),
        timings_s=timings,
        options=options,
    )
