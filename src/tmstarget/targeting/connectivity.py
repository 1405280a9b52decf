"""Seed maps and circuit similarity by linear algebra on compressed, unit-norm voxel data.

All functions take ``w``, the cleaned data of V voxels in compressed form (r × V, see
:mod:`tmstarget.targeting.cleaning`) with unit-norm columns, so that ``w[:, i] @ w[:, j]`` is the
Pearson correlation of voxels i and j over the cleaned time series.

The circuit similarity of a search voxel s is the spatial Pearson correlation, over the circuit
voxels M, between s's whole-brain connectivity map ``ρ_s = w_Mᵀ w_s`` and the circuit map ``c``.
Writing ``c̃ = c − mean(c)``, ``a = w_M c̃``, ``m = w_M 1`` and ``G = w_M w_Mᵀ`` (r × r), it is

    sim(s) = (w_sᵀ a) / ( ‖c̃‖ · sqrt(w_sᵀ G w_s − (w_sᵀ m)² / |M|) )

so no seed map is ever formed: the cost is one r × r Gram matrix plus O(r) per search voxel, instead
of one V-voxel seed map per search voxel.
"""

from __future__ import annotations

import numpy as np

from ..exceptions import InputError

#: Rows of ``w`` converted to float64 at a time by :func:`seed_timecourse`.
_ROWS = 16


def seed_timecourse(
    w: np.ndarray, seed_idx: np.ndarray, weights: np.ndarray | None = None
) -> np.ndarray:
    """Unit-norm (weighted) mean time course of seed voxels, in compressed form.

    Parameters
    ----------
    w : ndarray, shape (r, V)
        Compressed cleaned data with unit-norm columns.
    seed_idx : ndarray of int
        Columns of the seed voxels.
    weights : ndarray, optional
        One weight per seed voxel (e.g. circuit map values); default equal weights.

    Returns
    -------
    ndarray, shape (r,)
    """
    if seed_idx.size == 0:
        raise InputError(
            "the seed region has no voxels inside the brain "
            "mask — check the mask covers the subgenual cingulate "
            "(MNI 6, 16, −10)"
        )
    if weights is None:
        seed = w[:, seed_idx].astype(np.float64).mean(axis=1)
    else:  # a circuit map weights most columns: one pass over w, no (r × seed) float64 copy
        full = np.zeros(w.shape[1])
        full[seed_idx] = np.asarray(weights, np.float64)
        seed = np.empty(w.shape[0])
        for i in range(0, w.shape[0], _ROWS):
            seed[i : i + _ROWS] = w[i : i + _ROWS].astype(np.float64) @ full
    norm = np.linalg.norm(seed)
    if norm == 0:
        raise InputError(
            "the seed time course is constant after cleaning — check the data in the seed region"
        )
    return seed / norm


def seed_map(w: np.ndarray, seed: np.ndarray) -> np.ndarray:
    """Correlation of every voxel with a seed time course: ``wᵀ seed`` (V,)."""
    return (seed.astype(w.dtype) @ w).astype(np.float64)


def circuit_similarity(
    w: np.ndarray, circuit: np.ndarray, search_idx: np.ndarray, circuit_idx: np.ndarray
) -> np.ndarray:
    """Spatial correlation between each search voxel's connectivity map and a circuit map.

    Parameters
    ----------
    w : ndarray, shape (r, V)
        Compressed cleaned data with unit-norm columns.
    circuit : ndarray, shape (V,)
        Circuit map value at every voxel (only ``circuit_idx`` entries are used).
    search_idx : ndarray of int, shape (S,)
        Columns of the search-region voxels.
    circuit_idx : ndarray of int, shape (M,)
        Columns over which the spatial correlation is computed.

    Returns
    -------
    ndarray, shape (S,)
        Pearson correlation in [−1, 1]; NaN for voxels whose map is constant.
    """
    if circuit_idx.size < 3:
        raise InputError(
            "the circuit map overlaps fewer than 3 brain voxels — check it is in MNI space"
        )
    c = circuit[circuit_idx].astype(np.float64)
    c_tilde = c - c.mean()
    c_norm = np.linalg.norm(c_tilde)
    if c_norm == 0:
        raise InputError(
            "the circuit map is constant over the brain — pass a map with spatial structure"
        )
    w_m = w[:, circuit_idx]
    a = w_m @ c_tilde.astype(w.dtype)
    m = w_m.sum(axis=1, dtype=np.float64)
    w64 = w_m.astype(np.float64)
    gram = w64 @ w64.T
    ws = w[:, search_idx].astype(np.float64)
    num = ws.T @ a.astype(np.float64)
    quad = np.einsum("is,is->s", ws, gram @ ws)
    var = quad - (ws.T @ m) ** 2 / circuit_idx.size
    with np.errstate(invalid="ignore", divide="ignore"):
        out = num / (c_norm * np.sqrt(var))
    out[~(var > 1e-12 * np.maximum(quad, 1e-300))] = np.nan
    return out


def weighted_seed_timecourse(
    w: np.ndarray, circuit: np.ndarray, circuit_idx: np.ndarray
) -> np.ndarray:
    """Return the unit-norm seed time course (r,) ``Σ_v c̃_v x_v`` over the circuit voxels.

    Here ``c̃`` is the centred circuit map.
    """
    c = circuit[circuit_idx].astype(np.float64)
    return seed_timecourse(w, circuit_idx, c - c.mean())


def weighted_seed_score(
    w: np.ndarray, circuit: np.ndarray, search_idx: np.ndarray, circuit_idx: np.ndarray
) -> np.ndarray:
    """Correlate each search voxel with the circuit-weighted seed time course (Fox et al. 2013).

    The seed is ``Σ_v c̃_v x_v`` over the circuit voxels (the numerator of
    :func:`circuit_similarity`), so voxels that move with the positive end and against the negative
    end score high.
    """
    return seed_map(w[:, search_idx], weighted_seed_timecourse(w, circuit, circuit_idx))
