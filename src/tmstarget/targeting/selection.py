"""Choosing the target from a score map over the search region.

A single voxel's score is noisy; a TMS coil stimulates a patch of cortex about 1–2 cm across. The
default (``robust``) selection therefore averages the score over a neighbourhood — a Gaussian
weighting (σ = radius / 2) of the search voxels within ``radius_mm`` — takes the maximum of that
smoothed map, and refines it to the score-weighted centre of the smoothed map within ``refine_mm``
of the maximum (weights: smoothed score minus its median there, clipped at zero), which is not tied
to the 2 mm voxel grid. ``peak`` takes the single best voxel (as most published pipelines do).

Methods (:data:`~tmstarget.targeting.methods.METHODS`, the registry that says what each method is;
the selectors below are its ``selector`` functions):

``robust`` (default)
    the seed score averaged over a neighbourhood (6 mm radius), its maximum refined to the
    score-weighted centre within 4 mm (see :mod:`tmstarget.targeting.selection`). On simulated
    participants this was the most accurate and stable combination of score, neighbourhood and
    refinement (``benchmarks/accuracy.py``).
``similarity``
    the single voxel with the highest circuit similarity (the trial's map method; Cash et al. 2021).
``seedmap``
    the voxel most anticorrelated with the sgACC seed (Fox et al. 2012 Biol Psychiatry), or — for a
    map circuit — most correlated with the circuit-weighted seed time course (Fox et al. 2013
    NeuroImage).
``cluster``
    the seed map's top 10% search columns, their largest connected patch, its centre of gravity
    snapped to the nearest column of the patch, as contarg's "cluster" method — on every input kind
    through the geometry (:meth:`~tmstarget.targeting.geometry.VolumeGeometry.patches` and
    ``areas``): on a grid, voxels touching by a face, edge or corner connect and every voxel weighs
    the same; on a mesh, vertices sharing an edge connect and each weighs its area (a third of its
    triangles'), so "largest" is the largest cortical area and the centre is area-weighted.
``hierarchical``
    SNT/SAINT-style (Cole et al. 2020 Am J Psychiatry): average-linkage hierarchical clustering of
    the search region's time courses (distance 1 − r); among clusters of at least
    ``min_cluster_voxels``, the one whose mean time course has the best seed score; its centroid,
    snapped to the nearest cluster voxel.
``efield``
    the coil placement (scalp position and handle rotation, on the template head) whose
    E-field-weighted seed score, averaged over placement error (5 mm, ±10° by default), is highest
    (:mod:`tmstarget.coil.landscape`); the target is the cortical hotspot of that placement (the
    ``|E|``-weighted centre of the grey matter it stimulates), snapped to the nearest search column.
    Its resamples re-decide the placement, so the bootstrap states the coil centre's uncertainty
    too.
``shrinkage``
    the ``robust`` selection, then the registry's post-step
    (:func:`tmstarget.targeting.shrinkage.shrinkage_step`): the ``robust`` score map pulled towards
    a group prior with an empirical-Bayes weight set by its split-half noise. Resamples (the
    bootstrap) use the selection alone: they measure the uncertainty of its individual evidence.

:func:`score_and_select` is the one entry point from components to a method's target (scores,
selection and post-step): ``tmstarget target``, the simulator (:mod:`tmstarget.simulate.evaluate`)
and the benchmarks call it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.spatial import cKDTree

from ..exceptions import InputError
from .components import Components
from .defaults import NEIGHBOURHOOD_MM  # noqa: F401 - the default neighbourhood radius (mm), re-exported here
from .methods import Method, get_method
from .scores import Scores, compute_scores

#: Refinement radius (mm); the neighbourhood radius default is :data:`.defaults.NEIGHBOURHOOD_MM`.
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
    placement : dict or None
        For a method whose answer is a coil placement (``efield``): ``landscape`` (the
        :class:`~tmstarget.coil.landscape.Landscape`), ``index`` (its placement), ``expected_score``
        and ``score``.
    """

    index: int
    coord_mm: np.ndarray
    score: float
    selection_map: np.ndarray
    placement: dict | None = None


def neighbourhood_weights(
    coords_mm: np.ndarray, radius_mm: float = NEIGHBOURHOOD_MM
) -> sparse.csr_matrix:
    """Compute row-normalised Gaussian weights between points, as a sparse matrix.

    The kernel has σ = radius/2 and is cut at the radius.

    Cached for the last few point sets (the bootstrap re-selects on the same search voxels hundreds
    of times); the matrix returned is shared, so treat it as read-only.
    """
    coords_mm = np.ascontiguousarray(coords_mm, dtype=np.float64)
    return _cached_weights(coords_mm.tobytes(), coords_mm.shape, float(radius_mm))


@functools.lru_cache(
    maxsize=8
)  # one target smooths the same search region many times (shrinkage ~10, bootstrap 200)
def _cached_weights(coords_bytes: bytes, shape: tuple, radius_mm: float) -> sparse.csr_matrix:
    coords_mm = np.frombuffer(coords_bytes, np.float64).reshape(shape)
    tree = cKDTree(coords_mm)
    dist = tree.sparse_distance_matrix(tree, radius_mm, output_type="coo_matrix")
    sigma = radius_mm / 2.0
    vals = np.exp(-0.5 * (dist.data / sigma) ** 2)
    w = sparse.coo_matrix((vals, (dist.row, dist.col)), shape=dist.shape).tocsr()
    w = w + sparse.identity(
        len(coords_mm), format="csr"
    )  # sparse_distance_matrix omits zero distances
    rows = np.asarray(w.sum(axis=1)).ravel()
    return sparse.diags(1.0 / rows) @ w


def smooth_scores(
    coords_mm: np.ndarray, scores: np.ndarray, radius_mm: float = NEIGHBOURHOOD_MM
) -> np.ndarray:
    """Average a score over each point's neighbourhood (NaN scores are ignored)."""
    ok = np.isfinite(scores)
    w = neighbourhood_weights(coords_mm, radius_mm)
    num = w @ np.where(ok, scores, 0.0)
    den = w @ ok.astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, np.nan)


def refine_centre(
    coords_mm: np.ndarray, values: np.ndarray, index: int, refine_mm: float = REFINE_MM
) -> np.ndarray:
    """Score-weighted centre of the points within ``refine_mm`` of point ``index``.

    Weights are the values minus their median over those points, clipped at zero; the point itself
    is returned when all weights vanish.
    """
    near = np.flatnonzero(np.linalg.norm(coords_mm - coords_mm[index], axis=1) <= refine_mm)
    v = values[near]
    ok = np.isfinite(v)
    weights = np.clip(v[ok] - np.median(v[ok]), 0.0, None)
    if weights.sum() <= 0:
        return np.asarray(coords_mm[index], float)
    return (coords_mm[near[ok]] * weights[:, None]).sum(0) / weights.sum()


def select_target(
    coords_mm: np.ndarray,
    scores: np.ndarray,
    rule: str = "robust",
    radius_mm: float = NEIGHBOURHOOD_MM,
    refine_mm: float = REFINE_MM,
) -> Selection:
    """Pick the target among search voxels.

    Parameters
    ----------
    coords_mm : ndarray, shape (S, 3)
        MNI coordinates of the search voxels.
    scores : ndarray, shape (S,)
        Circuit score per voxel (higher = better); NaN = unusable.
    rule : {"robust", "peak"}
        ``robust``: maximum of the neighbourhood-averaged score, refined; ``peak``: best single
        voxel.
    radius_mm : float
        Neighbourhood radius for ``robust``.
    refine_mm : float
        Refinement radius for ``robust`` (0 = no refinement: the best voxel of the smoothed map).

    Returns
    -------
    Selection
    """
    if not np.isfinite(scores).any():
        raise InputError(
            "no search voxel has a usable score (constant "
            "or missing data there) — check the BOLD covers "
            "the DLPFC"
        )
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


def cluster_target(scores: Scores, geometry, top_fraction: float = 0.10) -> Selection:
    """Return the centre of gravity of the largest connected patch of the top seed scores.

    The patches are formed by the top ``top_fraction`` seed scores; the centre is snapped to the
    patch.

    ``geometry`` answers for the search columns ``scores.search_idx``: ``patches(idx, keep)`` labels
    the connected patches of the kept columns (0 = not kept) and ``areas(idx)`` weighs each column
    (1 per voxel, the vertex area on a mesh). The largest patch is the one of largest total weight;
    its centre is the weighted mean of its columns' coordinates, moved to the nearest column of the
    patch (on the cortex); the score is the patch's weighted mean seed score.
    """
    s = scores.seed
    keep = s >= np.quantile(s, 1 - top_fraction)
    labels = geometry.patches(scores.search_idx, keep)
    weights = np.asarray(geometry.areas(scores.search_idx), float)
    weights = np.where(
        weights > 0, weights, weights[weights > 0].min(initial=1.0)
    )  # a vertex without triangles still counts
    sizes = np.bincount(labels[keep], weights=weights[keep], minlength=int(labels.max()) + 1)
    sizes[0] = 0
    members = np.flatnonzero(labels == int(np.argmax(sizes)))
    w = weights[members]
    coords = scores.coords[members]
    centre = (coords * w[:, None]).sum(0) / w.sum()
    idx = int(members[np.argmin(np.linalg.norm(coords - centre, axis=1))])
    return Selection(
        index=idx,
        coord_mm=scores.coords[idx].astype(float),
        score=float((s[members] * w).sum() / w.sum()),
        selection_map=s,
    )


def _hierarchical_target(
    comp: Components, scores: Scores, min_cluster_voxels: int = 20, cut: float = 0.6
) -> Selection:
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    ws = comp.w[:, scores.search_idx].astype(np.float64)
    dist = np.clip(1.0 - ws.T @ ws, 0.0, 2.0)
    np.fill_diagonal(dist, 0.0)
    labels = fcluster(
        linkage(squareform(dist, checks=False), method="average"), t=cut, criterion="distance"
    )
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
    return Selection(
        index=idx,
        coord_mm=scores.coords[idx].astype(float),
        score=best_score,
        selection_map=np.where(np.isnan(cluster_map), scores.seed, cluster_map),
    )


def robust_selection(
    comp: Components, scores: Scores, neighbourhood_mm: float = NEIGHBOURHOOD_MM
) -> tuple[Selection, np.ndarray]:
    """Select on the neighbourhood-averaged seed score, refined (the ``robust`` method).

    ``shrinkage`` uses this selection as its individual evidence.
    """
    return select_target(scores.coords, scores.seed, "robust", neighbourhood_mm), scores.seed


def similarity_selection(
    comp: Components, scores: Scores, neighbourhood_mm: float = NEIGHBOURHOOD_MM
) -> tuple[Selection, np.ndarray]:
    """``similarity``: the best single column of the circuit similarity."""
    return select_target(scores.coords, scores.similarity, "peak"), scores.similarity


def seedmap_selection(
    comp: Components, scores: Scores, neighbourhood_mm: float = NEIGHBOURHOOD_MM
) -> tuple[Selection, np.ndarray]:
    """``seedmap``: the best single column of the seed score."""
    return select_target(scores.coords, scores.seed, "peak"), scores.seed


def cluster_selection(
    comp: Components, scores: Scores, neighbourhood_mm: float = NEIGHBOURHOOD_MM
) -> tuple[Selection, np.ndarray]:
    """``cluster``: :func:`cluster_target` through the columns' geometry."""
    return cluster_target(scores, comp.geometry), scores.seed


def hierarchical_selection(
    comp: Components, scores: Scores, neighbourhood_mm: float = NEIGHBOURHOOD_MM
) -> tuple[Selection, np.ndarray]:
    """``hierarchical``: SNT/SAINT-style clustering of the search columns' time courses."""
    return _hierarchical_target(comp, scores), scores.seed


def efield_selection(
    comp: Components,
    scores: Scores,
    neighbourhood_mm: float = NEIGHBOURHOOD_MM,
    *,
    error_mm: float | None = None,
    error_deg: float | None = None,
) -> tuple[Selection, np.ndarray]:
    """Select the placement of highest expected E-field-weighted seed score (``efield``).

    See :mod:`tmstarget.coil.landscape`.
    """
    from ..coil.landscape import ERROR_DEG, ERROR_MM, landscape_for

    if not np.isfinite(scores.seed).any():
        raise InputError(
            "no search column has a usable score (constant "
            "or missing data there) — check the data cover "
            "the DLPFC"
        )
    land = landscape_for(
        scores.coords,
        comp.geometry.areas(scores.search_idx),
        error_mm=ERROR_MM if error_mm is None else error_mm,
        error_deg=ERROR_DEG if error_deg is None else error_deg,
    )
    best, expected = land.best(scores.seed)
    hotspot = land.hotspots_mm[best]
    idx = int(np.argmin(np.linalg.norm(scores.coords - hotspot, axis=1)))
    exact = land.score_at(best, scores.seed, averaged=False)
    return Selection(
        index=idx,
        coord_mm=scores.coords[idx].astype(float),
        score=expected,
        selection_map=scores.seed,
        placement={"landscape": land, "index": best, "expected_score": expected, "score": exact},
    ), scores.seed


def choose_target(
    method: str | Method,
    comp: Components,
    scores: Scores,
    neighbourhood_mm: float = NEIGHBOURHOOD_MM,
    options=None,
) -> tuple[Selection, np.ndarray]:
    """Apply a method's selector (no post-step).

    Returns the selection and the per-column raw score it used.

    ``options`` (``TargetingOptions`` or a mapping of its fields) supplies the method's own settings
    (:attr:`Method.options`).
    """
    return get_method(method).select(comp, scores, neighbourhood_mm, options)


def method_scores(
    comp: Components,
    region: np.ndarray,
    circuit_map: np.ndarray | None,
    method: str | Method,
    exclude_local_mm: float = 10.0,
) -> Scores:
    """Compute the scores ``method`` selects on, with the circuit similarity only if needed."""
    return compute_scores(
        comp, region, circuit_map, get_method(method).needs_similarity, exclude_local_mm
    )


@dataclass(frozen=True)
class Choice:
    """A method's target on the full data (:func:`score_and_select`).

    Attributes
    ----------
    method : Method
    scores : Scores
    selection : Selection
        The final target (after the post-step, if any).
    raw : ndarray, shape (S,)
        The raw per-column score the selector used.
    post : dict or None
        The post-step's JSON block (``shrinkage``), None without a post-step.
    """

    method: Method
    scores: Scores
    selection: Selection
    raw: np.ndarray
    post: dict | None = None


def score_and_select(
    comp: Components,
    region: np.ndarray,
    circuit_map: np.ndarray | None,
    options,
    operators=(),
    *,
    scores: Scores | None = None,
    radius_mm: float | None = None,
) -> Choice:
    """Score the search region, apply ``options.method``'s selector and its post-step.

    This is the one path to a target.

    Parameters
    ----------
    comp : Components
        Full-data components.
    region, circuit_map
        Search region and circuit map (None: the sgACC seed), as
        :func:`~tmstarget.targeting.scores.compute_scores` takes them.
    options : TargetingOptions
        ``method``, ``neighbourhood_mm``, ``exclude_local_mm`` and, for a post-step,
        ``group_target``.
    operators : sequence of CleaningOperator
        The runs' cleaning operators (a post-step re-weights the data through them).
    scores : Scores, optional
        Scores already computed on the same components, region and circuit (with the similarity if
        the method needs it).
    radius_mm : float, optional
        95% radius of the target (a bootstrap), for the post-step's verdict.
    """
    method = get_method(options.method)
    if scores is None:
        scores = method_scores(comp, region, circuit_map, method, options.exclude_local_mm)
    selection, raw = method.select(comp, scores, options.neighbourhood_mm, options)
    post = None
    if method.post_step is not None:
        selection, post = method.post_step(
            comp, scores, operators, region, circuit_map, options, radius_mm
        )
    return Choice(method, scores, selection, raw, post)
