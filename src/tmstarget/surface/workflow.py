"""The participant-level targeting run on surface data (fsaverage GIFTI or CIFTI grayordinates).

The same steps as the volumetric :func:`tmstarget.workflow.compute_target`, on columns that are vertices
instead of voxels: each run is cleaned by the same compressed operator (:func:`tmstarget.clean.run_operator`,
``W = projector @ X``), smoothed on the mesh (Gaussian of mesh-edge distances, within each hemisphere),
normalised by :func:`tmstarget.methods.finalize_components`; circuit scores use
:mod:`tmstarget.connectivity`, and the target is chosen by :func:`tmstarget.methods.choose_target`, whose
``robust`` neighbourhood averaging then runs over the mesh's MNI coordinates. The target vertex's
midthickness coordinate is reported in MNI152 mm (see :mod:`tmstarget.surface.mesh`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

from ..circuits import resolve_circuit
from ..clean import run_operator
from ..connectivity import circuit_similarity, seed_map, seed_timecourse
from ..exceptions import InputError
from ..io.confounds import load_run_confounds
from ..io.derivatives import sha256
from ..methods import Scores, choose_target, finalize_components
from ..workflow import RunInfo, TargetingOptions, TargetResult
from .geometry import Grayordinates, cifti_grayordinates, template_grayordinates
from .io import SurfaceRun, load_surface_run
from .maps import check_region, circuit_values, dlpfc_search_region, search_region_from_file, sgacc_seed
from .mesh import load_template, read_mesh

logger = logging.getLogger(__name__)

#: Methods that work on surfaces (``cluster`` labels voxels of a grid).
SURFACE_METHODS = ("robust", "similarity", "seedmap", "hierarchical")


@dataclass
class SurfaceTarget:
    """A surface target: the contract's :class:`~tmstarget.workflow.TargetResult` (its ``score_map`` and
    ``tsnr_map`` have one value per grayordinate) with the geometry and the chosen column."""

    result: TargetResult
    geometry: Grayordinates
    column: int

    def to_json(self, participant: str, session: str | None) -> dict:
        """The output-contract JSON, plus where on the mesh the target is."""
        doc = self.result.to_json(participant, session)
        g, c = self.geometry, self.column
        doc["target_grayordinate"] = {"hemi": str(g.hemi[c]) or None, "vertex": int(g.vertex[c]) if g.vertex[c] >= 0 else None, "column": c}
        doc["mesh"] = g.mesh
        return doc


def surface_scores(w: np.ndarray, valid: np.ndarray, coords: np.ndarray, search_idx: np.ndarray, seed_idx: np.ndarray | None,
                   circuit: np.ndarray | None, exclude_local_mm: float, need_similarity: bool) -> Scores:
    """Seed and similarity scores of the search grayordinates (cf. :func:`tmstarget.methods.compute_scores`).

    Parameters
    ----------
    w : ndarray, shape (r, N)
        Compressed data with unit-norm columns.
    valid : ndarray of bool, shape (N,)
        Usable columns (data and coordinates).
    coords : ndarray, shape (N, 3)
        MNI mm of the columns.
    search_idx : ndarray of int
        Search-region columns.
    seed_idx : ndarray of int or None
        sgACC seed columns (for the individual seed circuit, ``circuit is None``).
    circuit : ndarray, shape (N,), or None
        Group circuit values (NaN = no data).
    exclude_local_mm : float
        Columns this close to a search column are left out of the spatial correlation.
    need_similarity : bool
        Compute the circuit similarity.
    """
    search_idx = search_idx[valid[search_idx]]
    if search_idx.size == 0:
        raise InputError("every search-region vertex has constant or missing data — check the surface BOLD covers the DLPFC")
    dist, _ = cKDTree(coords[search_idx]).query(np.nan_to_num(coords, nan=1e6), distance_upper_bound=exclude_local_mm)
    usable = valid & ~np.isfinite(dist)
    if circuit is None:
        tc = -seed_timecourse(w, seed_idx[valid[seed_idx]])  # positive = anticorrelated with sgACC
        values, circuit_idx = seed_map(w, tc), np.flatnonzero(usable)
    else:
        circuit_idx = np.flatnonzero(usable & np.isfinite(circuit))
        values = np.nan_to_num(circuit)
        centred = values[circuit_idx] - values[circuit_idx].mean()
        tc = seed_timecourse(w, circuit_idx, centred)
    similarity = circuit_similarity(w, values, search_idx, circuit_idx) if need_similarity else None
    return Scores(search_idx=search_idx, coords=coords[search_idx], seed=seed_map(w[:, search_idx], tc), seed_tc=tc, similarity=similarity)


def _geometry(runs: list[SurfaceRun], brain_model, meshes):
    if brain_model is None:
        return template_grayordinates(runs[0].space), load_template(runs[0].space)
    hemi_meshes = {h: read_mesh(p) for h, p in zip("LR", meshes)} if meshes else None
    return cifti_grayordinates(brain_model, hemi_meshes, runs[0].space), hemi_meshes


def compute_surface_target(runs: list[SurfaceRun], options: TargetingOptions = TargetingOptions(), root: Path | None = None,
                           meshes: tuple[Path, Path] | None = None) -> SurfaceTarget:
    """Clean surface runs, score the search region against the circuit and pick the target vertex.

    Parameters
    ----------
    runs : list of SurfaceRun
        Runs of one participant, all GIFTI pairs of one template or all CIFTI with the same columns.
    options : TargetingOptions
        As for volumes; ``fwhm_mm`` is applied on the mesh; ``search_mask`` may be NIfTI or GIFTI.
    root : Path, optional
        Folder the ``inputs`` checksums are reported relative to.
    meshes : (Path, Path), optional
        Left and right midthickness GIFTIs (MNI mm) giving the CIFTI cortical vertices' coordinates.

    Returns
    -------
    SurfaceTarget
    """
    if options.method not in SURFACE_METHODS:
        raise InputError(f"method '{options.method}' is not available on surfaces — choose one of {', '.join(SURFACE_METHODS)}")
    if not runs:
        raise InputError("no runs to process — check the inputs")
    if getattr(options, "bootstrap", 0):
        raise InputError("--bootstrap is not available for surface data yet (the confidence radius is computed on voxels) — leave it out")
    t_start = time.perf_counter()
    circuit = resolve_circuit(options.circuit, options.circuit_label)
    geom, hemi_meshes, compressed, infos, moments = None, None, [], [], []
    for run in runs:
        x, t_r, bm = load_surface_run(run)
        if geom is None:
            geom, hemi_meshes = _geometry(runs, bm, meshes)
        if x.shape[1] != geom.n:
            raise InputError(f"{run.name} has {x.shape[1]} columns, the first run {geom.n} — pass runs in the same space and density")
        bad = ~np.isfinite(x).all(axis=0)
        x[:, bad] = 0.0  # e.g. NaN medial wall: constant columns are left out as invalid
        t_r = options.t_r or t_r
        if not t_r or not 0 < t_r <= 10:
            raise InputError(f"{run.name}: no usable repetition time in its JSON sidecar or metadata — pass --t-r SECONDS")
        conf = load_run_confounds(run.confounds, x.shape[0], options.confounds_strategy, options.global_signal, options.fd_threshold_mm, options.dvars_threshold)
        censored = np.ones(x.shape[0], bool)
        censored[conf.sample_mask] = False
        info = RunInfo(run.name, x.shape[0], conf.n_censored, t_r, 0, float(conf.fd_mm.mean()), conf.fd_mm, censored)
        op = run_operator(info.n_volumes, t_r, conf.confounds, conf.sample_mask, options.high_pass_hz, options.low_pass_hz, name=info.name)
        info.dof = op.rank
        infos.append(info)
        compressed.append(op.projector @ x)
        moments.append((x.mean(axis=0), x.std(axis=0, ddof=1)))
    n_kept = sum(i.n_volumes - i.n_censored for i in infos)
    if n_kept < options.min_volumes:
        raise InputError(f"{n_kept} volumes left after censoring over {len(runs)} run(s), need >= {options.min_volumes} — raise --fd-threshold, add runs, or lower --min-volumes")
    if options.fwhm_mm and options.fwhm_mm > 0:
        smooth = geom.smoother(options.fwhm_mm)
        compressed = [np.asarray(smooth @ b.T.astype(np.float64)).T.astype(np.float32) for b in compressed]
    comp = finalize_components(compressed, np.ones((geom.n, 1, 1), bool), np.eye(4))
    comp.valid &= geom.usable
    region = dlpfc_search_region(geom) if options.search_mask is None else search_region_from_file(options.search_mask, geom)
    search_idx = check_region(region)
    cmap = None if circuit.kind == "seed" else circuit_values(circuit.path, geom, hemi_meshes)
    seed_idx = sgacc_seed(geom) if cmap is None else None
    scores = surface_scores(comp.w, comp.valid, geom.coords, search_idx, seed_idx, cmap, options.exclude_local_mm, options.method in ("robust", "similarity"))
    selection, raw = choose_target(options.method, comp, scores, options.neighbourhood_mm)
    score_map = np.full(geom.n, np.nan, np.float32)
    score_map[scores.search_idx] = selection.selection_map
    mean = np.mean([m for m, _ in moments], axis=0)
    sd = np.mean([s for _, s in moments], axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        tsnr = np.where(sd > 0, mean / sd, np.nan).astype(np.float32)
    files = sorted({f for r in runs for f in (*r.files, r.confounds)} | ({circuit.path} if circuit.path else set()))
    files += [Path(options.search_mask)] if options.search_mask else []
    inputs = {str(f.relative_to(root)) if root is not None and f.is_relative_to(root) else str(f): sha256(f) for f in files}
    column = int(scores.search_idx[selection.index])
    logger.info("target (%s, %s): vertex %s%d, MNI (%.1f, %.1f, %.1f), score %.3f", circuit.label, options.method, geom.hemi[column], geom.vertex[column], *selection.coord_mm, selection.score)
    result = TargetResult(
        target_mni=selection.coord_mm, score=selection.score, score_raw=float(raw[selection.index]), circuit=circuit.label,
        method=options.method, space=runs[0].space, runs=infos, score_map=score_map, affine=None, n_search_voxels=int(scores.search_idx.size),
        tsnr_map=tsnr, inputs=inputs, timings_s={"total": time.perf_counter() - t_start}, options=options,
    )
    return SurfaceTarget(result, geom, column)
