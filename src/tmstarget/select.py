"""Choosing the target from a score map over the search region.

A single voxel's score is noisy; a TMS coil stimulates a patch of cortex about 1–2 cm across. The
default (``robust``) selection therefore averages the score over a neighbourhood — a Gaussian weighting
(σ = radius / 2) of the search voxels within ``radius_mm`` — takes the maximum of that smoothed map, and
refines it to the score-weighted centre of the smoothed map within ``refine_mm`` of the maximum (weights:
smoothed score minus its median there, clipped at zero), which is not tied to the 2 mm voxel grid.
``peak`` takes the single best voxel (as most published pipelines do).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.spatial import cKDTree

from .exceptions import InputError

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
    """Row-normalised Gaussian weights (σ = radius/2, cut at radius) between points, as a sparse matrix."""
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
