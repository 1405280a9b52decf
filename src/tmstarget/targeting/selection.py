"""Choosing the target from a score map over the search region.

A single voxel's score is noisy; a TMS coil stimulates a patch of cortex about 1–2 cm across. The
default (``robust``) selection therefore averages the score over a neighbourhood — a Gaussian weighting
(σ = radius / 2) of the search voxels within ``radius_mm`` — takes the maximum of that smoothed map, and
refines it to the score-weighted centre of the smoothed map within ``refine_mm`` of the maximum (weights:
smoothed score minus its median there, clipped at zero), which is not tied to the 2 mm voxel grid.
``peak`` takes the single best voxel (as most published pipelines do).

Methods (``METHODS``):

``robust`` (default)
    the seed score averaged over a neighbourhood (6 mm radius), its maximum refined to the score-weighted
    centre within 4 mm (see :mod:`tmstarget.targeting.selection`). On simulated participants this was the most
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
``shrinkage``
    the ``robust`` score map pulled towards a group prior with an empirical-Bayes weight set by its split-half
    noise (:mod:`tmstarget.targeting.shrinkage`, which needs the runs and the prior). Here, without them — as the
    resampling engine calls it — it is the ``robust`` selection: a bootstrap of ``shrinkage`` measures the
    uncertainty of its individual evidence.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from scipy import ndimage, sparse
from scipy.spatial import cKDTree

from ..exceptions import InputError
from .components import Components
from .methods import METHODS
from .scores import Scores

#: Default neighbourhood radius (mm) over which the score is averaged, and the refinement radius.
NEIGHBOURHOOD_MM = 6.0
REFINE_MM = 4.0


@dataclass(frozen=True)
class Selection:
    """A chosen target.

    Attributes
    ----------
    index : int
        Position of the target in the search-voxel arrays.
    coord_mm : ndarray, shape (3,)
        Target coordinates (MNI mm).
    score : float
        Value of the selection map at the target.
    selection_map : ndarray, shape (S,)
        The map the target maximises (smoothed for ``robust``, raw for ``peak``).
    """

    index: int
    coord_mm: np.ndarray
    score: float
    selection_map: np.ndarray


def neighbourhood_weights(coords_mm: np.ndarray, radius_mm: float = NEIGHBOURHOOD_MM) -> sparse.csr_matrix:
    """Row-normalised Gaussian weights (σ = radius/2, cut at radius) between points, as a sparse matrix.

    Cached for the last few point sets (the bootstrap re-selects on the same search voxels hundreds of
    times); the matrix returned is shared, so treat it as read-only.
    """
    coords_mm = np.ascontiguousarray(coords_mm, dtype=np.float64)
    return _cached_weights(coords_mm.tobytes(), coords_mm.shape, float(radius_mm))


@functools.lru_cache(maxsize=8)  # one target smooths the same search region many times (shrinkage ~10, bootstrap 200)
def _cached_weights(coords_bytes: bytes, shape: tuple, radius_mm: float) -> sparse.csr_matrix:
    coords_mm = np.frombuffer(coords_bytes, np.float64).reshape(shape)
    tree = cKDTree(coords_mm)
    dist = tree.sparse_distance_matrix(tree, radius_mm, output_type="coo_matrix")
    sigma = radius_mm / 2.0
    vals = np.exp(-0.5 * (dist.data / sigma) ** 2)
    w = sparse.coo_matrix((vals, (dist.row, dist.col)), shape=dist.shape).tocsr()
    w = w + sparse.identity(len(coords_mm), format="csr")  # sparse_distance_matrix omits zero distances
    rows = np.asarray(w.sum(axis=1)).ravel()
    return sparse.diags(1.0 / rows) @ w


def smooth_scores(coords_mm: np.ndarray, scores: np.ndarray, radius_mm: float = NEIGHBOURHOOD_MM) -> np.ndarray:
    """Average a score over each point's neighbourhood (NaN scores are ignored)."""
    ok = np.isfinite(scores)
    w = neighbourhood_weights(coords_mm, radius_mm)
    num = w @ np.where(ok, scores, 0.0)
    den = w @ ok.astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, np.nan)


def refine_centre(coords_mm: np.ndarray, values: np.ndarray, index: int, refine_mm: float = REFINE_MM) -> np.ndarray:
    """Score-weighted centre of the points within ``refine_mm`` of point ``index``.

    Weights are the values minus their median over those points, clipped at zero; the point itself is
    returned when all weights vanish.
    """
    near = np.flatnonzero(np.linalg.norm(coords_mm - coords_mm[index], axis=1) <= refine_mm)
    v = values[near]
    ok = np.isfinite(v)
    weights = np.clip(v[ok] - np.median(v[ok]), 0.0, None)
    if weights.sum() <= 0:
        return np.asarray(coords_mm[index], float)
    return (coords_mm[near[ok]] * weights[:, None]).sum(0) / weights.sum()


def select_target(
    coords_mm: np.ndarray, scores: np.ndarray, rule: str = "robust", radius_mm: float = NEIGHBOURHOOD_MM, refine_mm: float = REFINE_MM
) -> Selection:
    """Pick the target among search voxels.

    Parameters
    ----------
    coords_mm : ndarray, shape (S, 3)
        MNI coordinates of the search voxels.
    scores : ndarray, shape (S,)
        Circuit score per voxel (higher = better); NaN = unusable.
    rule : {"robust", "peak"}
        ``robust``: maximum of the neighbourhood-averaged score, refined; ``peak``: best single voxel.
    radius_mm : float
        Neighbourhood radius for ``robust``.
    refine_mm : float
        Refinement radius for ``robust`` (0 = no refinement: the best voxel of the smoothed map).

    Returns
    -------
    Selection
    """
    if not np.isfinite(scores).any():
        raise InputError("no search voxel has a usable score (constant or missing data there) — check the BOLD covers the DLPFC")
    if rule == "robust":
        sel = smooth_scores(coords_mm, scores, radius_mm)
    elif rule == "peak":
        sel = np.asarray(scores, float)
    else:
        raise InputError(f"unknown selection rule '{rule}' — use 'robust' or 'peak'")
    idx = int(np.nanargmax(sel))
    coord = np.asarray(coords_mm[idx], float)
    if rule == "robust" and refine_mm > 0:
        coord = refine_centre(coords_mm, sel, idx, refine_mm)
    return Selection(index=idx, coord_mm=coord, score=float(sel[idx]), selection_map=sel)


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
    if method in ("robust", "shrinkage"):  # shrinkage's prior: targeting.shrinkage (see the module notes)
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
