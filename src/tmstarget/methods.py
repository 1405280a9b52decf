"""Targeting methods on compressed, cleaned data: from components to circuit scores to a target.

This is the array-level core shared by the file workflow (:mod:`tmstarget.workflow`), the accuracy
benchmark and the reliability analyses. Inputs are the compressed cleaned data of each run (see
:mod:`tmstarget.clean`); nothing here reads or writes files.

Methods (``METHODS``):

``robust`` (default)
    the seed score averaged over a neighbourhood (6 mm radius), its maximum refined to the score-weighted
    centre within 4 mm (see :mod:`tmstarget.select`). On simulated participants this was the most
    accurate and stable combination of score, neighbourhood and refinement (``benchmarks/accuracy.py``).
``similarity``
    the single voxel with the highest circuit similarity (the trial's map method; Cash et al. 2021).
``seedmap``
    the voxel most anticorrelated with the sgACC seed (Fox et al. 2012 Biol Psychiatry), or — for a map
    circuit — most correlated with the circuit-weighted seed time course (Fox et al. 2013 NeuroImage).
``cluster``
    the seed map's top 10% voxels in the search region, their largest connected cluster, its centroid
    (snapped to the nearest cluster voxel), as contarg's "cluster" method.
``hierarchical``
    SNT/SAINT-style (Cole et al. 2020 Am J Psychiatry): average-linkage hierarchical clustering of the
    search region's time courses (distance 1 − r); among clusters of at least ``min_cluster_voxels``, the
    one whose mean time course has the best seed score; its centroid, snapped to the nearest cluster voxel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from .circuits import SGACC_MNI, SGACC_RADIUS_MM, sphere_mask
from .clean import normalize_columns
from .connectivity import circuit_similarity, seed_map, seed_timecourse, weighted_seed_timecourse
from .exceptions import InputError
from .select import NEIGHBOURHOOD_MM, Selection, select_target

METHODS = {
    "robust": "seed score averaged over a 6 mm neighbourhood, refined centre (default)",
    "similarity": "circuit similarity, single best voxel (the trial's map method)",
    "seedmap": "seed-map peak: most anticorrelated with sgACC (Fox 2012) / weighted seed (Fox 2013)",
    "cluster": "centroid of the largest cluster of the seed map's top 10% (contarg 'cluster')",
    "hierarchical": "SNT/SAINT-style hierarchical clustering of DLPFC time courses",
}


@dataclass
class Components:
    """Cleaned data of one participant in compressed form.

    Attributes
    ----------
    w : ndarray, shape (r, V)
        Unit-norm columns: ``w[:, i] @ w[:, j]`` is the correlation of voxels i and j.
    valid : ndarray of bool, shape (V,)
        Voxels with non-constant data.
    brain : ndarray of bool, shape (X, Y, Z)
        Voxels of ``w``'s columns (Fortran order).
    affine : ndarray, shape (4, 4)
    """

    w: np.ndarray
    valid: np.ndarray
    brain: np.ndarray
    affine: np.ndarray

    @property
    def flat(self) -> np.ndarray:
        """Fortran-order flat indices of the columns."""
        return np.flatnonzero(self.brain.ravel(order="F"))

    def columns(self, mask: np.ndarray) -> np.ndarray:
        """Column indices of the voxels of a boolean volume."""
        return np.flatnonzero(mask.ravel(order="F")[self.flat])

    def coords(self, idx: np.ndarray) -> np.ndarray:
        """MNI coordinates (mm) of columns ``idx``."""
        ijk = np.column_stack(np.unravel_index(self.flat[idx], self.brain.shape, order="F"))
        return ijk @ self.affine[:3, :3].T + self.affine[:3, 3]


def finalize_components(
    blocks: list[np.ndarray], brain: np.ndarray, affine: np.ndarray, fwhm_mm: float = 0.0, smooth=None, variable: np.ndarray | None = None
) -> Components:
    """Smooth, normalise per run (so runs weigh the same), concatenate and normalise again.

    Parameters
    ----------
    blocks : list of ndarray, each (r_run, V)
        Compressed cleaned data of each run (``projector @ X``).
    brain, affine
        Voxel grid of the columns.
    fwhm_mm : float
        Spatial smoothing applied to the components (0 = none).
    smooth : callable, optional
        ``smooth(w, brain, affine, fwhm_mm) -> w``; default :func:`tmstarget.workflow._smooth_components`.
    variable : ndarray of bool, shape (V,), optional
        Voxels whose raw time series vary; the others are constant and excluded (their cleaned data are
        rounding noise, which normalisation would otherwise blow up).
    """
    w = np.concatenate(blocks, axis=0)  # a copy: the blocks are left untouched for reuse
    if fwhm_mm and fwhm_mm > 0:
        if smooth is None:
            from .workflow import _smooth_components as smooth
        w = smooth(w, brain, affine, fwhm_mm)
    valid = np.ones(w.shape[1], bool) if variable is None else variable.copy()
    w[:, ~valid] = 0
    start = 0
    for b in blocks:
        _, ok = normalize_columns(w[start : start + b.shape[0]])
        valid &= ok
        start += b.shape[0]
    w, ok = normalize_columns(w)
    valid &= ok
    if valid.mean() < 0.5:
        raise InputError(f"BOLD data are constant in {100 * (1 - valid.mean()):.0f}% of brain voxels — check the preprocessing output and the mask")
    return Components(w=w, valid=valid, brain=brain, affine=affine)


@dataclass
class Scores:
    """Circuit scores over the search region.

    Attributes
    ----------
    search_idx : ndarray of int, shape (S,)
        Columns of the search voxels.
    coords : ndarray, shape (S, 3)
        Their MNI coordinates.
    seed : ndarray, shape (S,)
        Seed-map score (anticorrelation with sgACC, or correlation with the circuit-weighted seed).
    seed_tc : ndarray, shape (r,)
        The seed time course (compressed, unit norm).
    similarity : ndarray, shape (S,) or None
        Circuit similarity (computed when a method needs it).
    """

    search_idx: np.ndarray
    coords: np.ndarray
    seed: np.ndarray
    seed_tc: np.ndarray
    similarity: np.ndarray | None


def circuit_columns(
    comp: Components, region: np.ndarray, circuit_map: np.ndarray | None, exclude_local_mm: float = 10.0
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]:
    """Which columns act as the seed and as the circuit, as :func:`compute_scores` uses them.

    Returns
    -------
    seed_idx : ndarray of int or None
        Valid sgACC-sphere columns (``circuit_map is None``), else None.
    circuit_idx : ndarray of int
        Valid columns farther than ``exclude_local_mm`` from the search region (and, for a map, where
        the map has data): the voxels of the spatial correlation and of the weighted seed.
    c : ndarray or None
        The map's values at ``circuit_idx`` (None for the sgACC seed circuit).
    """
    zooms = np.sqrt((comp.affine[:3, :3] ** 2).sum(0))
    local = ndimage.distance_transform_edt(~region, sampling=zooms) <= exclude_local_mm
    far = ~local.ravel(order="F")[comp.flat] & comp.valid
    if circuit_map is None:
        seed_idx = comp.columns(sphere_mask(comp.affine, comp.brain.shape, SGACC_MNI, SGACC_RADIUS_MM))
        return seed_idx[comp.valid[seed_idx]], np.flatnonzero(far), None
    cmap = circuit_map.ravel(order="F")[comp.flat]
    circuit_idx = np.flatnonzero(far & np.isfinite(cmap))
    return None, circuit_idx, cmap[circuit_idx].astype(np.float64)


def compute_scores(
    comp: Components,
    region: np.ndarray,
    circuit_map: np.ndarray | None = None,
    need_similarity: bool = True,
    exclude_local_mm: float = 10.0,
) -> Scores:
    """Seed and similarity scores of every valid search voxel.

    Parameters
    ----------
    comp : Components
    region : ndarray of bool, shape (X, Y, Z)
        Search region.
    circuit_map : ndarray, shape (X, Y, Z), optional
        Group circuit map on the grid (NaN = no data); ``None`` uses the individual sgACC seed map.
    need_similarity : bool
        Compute the similarity scores (the costlier part).
    exclude_local_mm : float
        Voxels within this distance of the search region are left out of the spatial correlation, so a
        voxel's correlation with its own neighbourhood (shared smoothing, not circuit membership) does
        not count.
    """
    w, valid = comp.w, comp.valid
    search_idx = comp.columns(region)
    search_idx = search_idx[valid[search_idx]]
    if search_idx.size == 0:
        raise InputError("every search-region voxel has constant data — check the BOLD covers the DLPFC")
    seed_idx, circuit_idx, c = circuit_columns(comp, region, circuit_map, exclude_local_mm)
    if circuit_map is None:
        seed_tc = -seed_timecourse(w, seed_idx)  # positive = anticorrelated with sgACC
        values = seed_map(w, seed_tc)
    else:
        values = np.nan_to_num(circuit_map.ravel(order="F")[comp.flat])
        seed_tc = weighted_seed_timecourse(w, values, circuit_idx)
    seed = seed_map(w[:, search_idx], seed_tc)
    sim = circuit_similarity(w, values, search_idx, circuit_idx) if need_similarity else None
    return Scores(search_idx=search_idx, coords=comp.coords(search_idx), seed=seed, seed_tc=seed_tc, similarity=sim)


def _snap_centroid(coords: np.ndarray, members: np.ndarray) -> int:
    centre = coords[members].mean(0)
    return int(members[np.argmin(np.linalg.norm(coords[members] - centre, axis=1))])


def _cluster_target(scores: Scores, affine: np.ndarray, shape, top_fraction: float = 0.10) -> Selection:
    s = scores.seed
    keep = s >= np.quantile(s, 1 - top_fraction)
    vol = np.zeros(shape, bool)
    ijk = np.round(np.c_[scores.coords, np.ones(len(s))] @ np.linalg.inv(affine).T)[:, :3].astype(int)
    vol[tuple(ijk[keep].T)] = True
    labels, n = ndimage.label(vol, structure=np.ones((3, 3, 3)))
    lab = labels[tuple(ijk.T)]
    sizes = np.bincount(lab[keep], minlength=n + 1)
    sizes[0] = 0
    members = np.flatnonzero(lab == int(np.argmax(sizes)))
    idx = _snap_centroid(scores.coords, members)
    return Selection(index=idx, coord_mm=scores.coords[idx].astype(float), score=float(s[members].mean()), selection_map=s)


def _hierarchical_target(comp: Components, scores: Scores, min_cluster_voxels: int = 20, cut: float = 0.6) -> Selection:
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    ws = comp.w[:, scores.search_idx].astype(np.float64)
    dist = np.clip(1.0 - ws.T @ ws, 0.0, 2.0)
    np.fill_diagonal(dist, 0.0)
    labels = fcluster(linkage(squareform(dist, checks=False), method="average"), t=cut, criterion="distance")
    best, best_score = None, -np.inf
    for lab in np.unique(labels):
        members = np.flatnonzero(labels == lab)
        if members.size < min_cluster_voxels:
            continue
        mean_tc = ws[:, members].mean(1)
        norm = np.linalg.norm(mean_tc)
        score = float(mean_tc @ scores.seed_tc / norm) if norm > 0 else -np.inf
        if score > best_score:
            best, best_score = members, score
    if best is None:  # every cluster is small: fall back to the biggest
        counts = np.bincount(labels)
        best = np.flatnonzero(labels == int(np.argmax(counts)))
        best_score = float(scores.seed[best].mean())
    idx = _snap_centroid(scores.coords, best)
    cluster_map = np.full(len(labels), np.nan)
    cluster_map[best] = best_score
    return Selection(index=idx, coord_mm=scores.coords[idx].astype(float), score=best_score, selection_map=np.where(np.isnan(cluster_map), scores.seed, cluster_map))


def choose_target(method: str, comp: Components, scores: Scores, neighbourhood_mm: float = NEIGHBOURHOOD_MM) -> tuple[Selection, np.ndarray]:
    """Apply a targeting method; return the selection and the per-voxel raw score it used."""
    if method == "robust":
        return select_target(scores.coords, scores.seed, "robust", neighbourhood_mm), scores.seed
    if method == "similarity":
        return select_target(scores.coords, scores.similarity, "peak"), scores.similarity
    if method == "seedmap":
        return select_target(scores.coords, scores.seed, "peak"), scores.seed
    if method == "cluster":
        return _cluster_target(scores, comp.affine, comp.brain.shape), scores.seed
    if method == "hierarchical":
        return _hierarchical_target(comp, scores), scores.seed
    raise InputError(f"unknown method '{method}' — choose one of {', '.join(METHODS)}")
