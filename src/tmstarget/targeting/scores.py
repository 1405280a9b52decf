"""Scores: how well each search column matches the circuit, from the components.

Two scores per search column (:mod:`tmstarget.targeting.connectivity` has the maths):

``seed``
    correlation with the seed time course — the (negated) mean of the sgACC sphere for the ``sgacc``
    circuit (Fox et al. 2012), or the circuit-weighted sum of every circuit column for a map (Fox et
    al. 2013);
``similarity``
    spatial correlation of the column's connectivity map with the circuit map (Cash et al. 2021);
    for ``sgacc`` the circuit map is the individual's own seed map.

Columns within ``exclude_local_mm`` of the search region are left out of the circuit, so that a
column's correlation with its own neighbourhood (shared smoothing, not circuit membership) does not
count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..exceptions import InputError
from .components import Components
from .connectivity import circuit_similarity, seed_map, seed_timecourse, weighted_seed_timecourse


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


def search_columns(comp: Components, region: np.ndarray) -> np.ndarray:
    """Return the valid columns of the search region (refused when there are none)."""
    search_idx = comp.columns(region)
    search_idx = search_idx[comp.valid[search_idx]]
    if search_idx.size == 0:
        geom = comp.geometry
        what = (
            "constant or missing data — check the surface BOLD covers the DLPFC"
            if geom.kind == "surface"
            else "constant data — check the BOLD covers the DLPFC"
        )
        raise InputError(f"every search-region {geom.noun} has {what}")
    return search_idx


def circuit_columns(
    comp: Components,
    region: np.ndarray,
    circuit_map: np.ndarray | None,
    exclude_local_mm: float = 10.0,
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]:
    """Which columns act as the seed and as the circuit, as :func:`compute_scores` uses them.

    Returns
    -------
    seed_idx : ndarray of int or None
        Valid sgACC-sphere columns (``circuit_map is None``), else None.
    circuit_idx : ndarray of int
        Valid columns farther than ``exclude_local_mm`` from the search region (and, for a map,
        where the map has data): the columns of the spatial correlation and of the weighted seed.
    c : ndarray or None
        The map's values at ``circuit_idx`` (None for the sgACC seed circuit).
    """
    geom = comp.geometry
    far = ~geom.near(region, search_columns(comp, region), exclude_local_mm) & comp.valid
    if circuit_map is None:
        seed_idx = geom.seed_columns()
        return seed_idx[comp.valid[seed_idx]], np.flatnonzero(far), None
    cmap = geom.column_values(circuit_map)
    circuit_idx = np.flatnonzero(far & np.isfinite(cmap))
    return None, circuit_idx, cmap[circuit_idx].astype(np.float64)


def compute_scores(
    comp: Components,
    region: np.ndarray,
    circuit_map: np.ndarray | None = None,
    need_similarity: bool = True,
    exclude_local_mm: float = 10.0,
) -> Scores:
    """Seed and similarity scores of every valid search column.

    Parameters
    ----------
    comp : Components
    region : ndarray of bool
        Search region: a volume (X, Y, Z) for volumes, one boolean per column for surfaces.
    circuit_map : ndarray, optional
        Group circuit map on the grid (a volume, or one value per column; NaN = no data); ``None``
        uses the individual sgACC seed map.
    need_similarity : bool
        Compute the similarity scores (the costlier part).
    exclude_local_mm : float
        Columns within this distance of the search region are left out of the circuit.
    """
    w = comp.w
    search_idx = search_columns(comp, region)
    seed_idx, circuit_idx, _ = circuit_columns(comp, region, circuit_map, exclude_local_mm)
    if circuit_map is None:
        seed_tc = -seed_timecourse(w, seed_idx)  # positive = anticorrelated with sgACC
        values = seed_map(w, seed_tc)
    else:
        values = np.nan_to_num(comp.geometry.column_values(circuit_map))
        seed_tc = weighted_seed_timecourse(w, values, circuit_idx)
    seed = seed_map(w[:, search_idx], seed_tc)
    sim = circuit_similarity(w, values, search_idx, circuit_idx) if need_similarity else None
    return Scores(
        search_idx=search_idx,
        coords=comp.coords(search_idx),
        seed=seed,
        seed_tc=seed_tc,
        similarity=sim,
    )
