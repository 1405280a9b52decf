"""Measures that tie the simulator to real data (used by ``benchmarks/calibrate.py`` and the tests).

Each is a pure function of arrays, computed the same way on a real run and on simulated
participants:

- :func:`lag1_autocorrelation` — temporal spectrum, per column;
- :func:`edge_fwhm` — spatial smoothness of time series on a mesh: for an edge of length d whose end
  points' series correlate with ρ, a Gaussian-smoothed white-noise field has ρ = exp(−2 ln 2 · d² /
  FWHM²), so FWHM = d √(2 ln 2 / −ln ρ); the median over edges;
- :func:`autocorrelation_length` — spatial extent of a map: the distance at which the correlation of
  its values between pairs of points falls to 0.5;
- :func:`seed_map_variance` — how much of a seed map's spatial variance is reproducible between two
  halves.
"""

from __future__ import annotations

import numpy as np


def lag1_autocorrelation(y: np.ndarray) -> np.ndarray:
    """Lag-1 autocorrelation of each column of ``y`` (T, N), after removing its mean."""
    y = y - y.mean(axis=0)
    return (y[1:] * y[:-1]).sum(axis=0) / np.maximum((y * y).sum(axis=0), 1e-30)


def mesh_edges(grayordinates) -> tuple[np.ndarray, np.ndarray]:
    """Return the edges (E, 2) between usable columns of each mesh part of ``grayordinates``.

    Their lengths (mm) are returned too.
    """
    edges = []
    for idx, faces in grayordinates.parts:
        if faces is None:
            continue
        e = np.vstack([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
        edges.append(idx[np.unique(np.sort(e, axis=1), axis=0)])
    out = np.vstack(edges)
    out = out[grayordinates.usable[out].all(axis=1)]
    coords = grayordinates.coords
    return out, np.linalg.norm(coords[out[:, 0]] - coords[out[:, 1]], axis=1)


def edge_fwhm(y: np.ndarray, edges: np.ndarray, edge_mm: np.ndarray) -> float:
    """Median smoothness (FWHM, mm) of time series ``y`` (T, N) over mesh ``edges`` (E, 2).

    The edges have lengths ``edge_mm``.

    Edges whose correlation is not in (0, 1) carry no smoothness estimate and are left out.
    """
    y = y - y.mean(axis=0)
    y = y / np.maximum(np.sqrt((y * y).sum(axis=0)), 1e-30)
    rho = np.einsum("tk,tk->k", y[:, edges[:, 0]], y[:, edges[:, 1]])
    ok = (rho > 0) & (rho < 1)
    return float(np.median(edge_mm[ok] * np.sqrt(2 * np.log(2) / -np.log(rho[ok]))))


def autocorrelation_length(
    values: np.ndarray,
    distance: np.ndarray,
    max_mm: float = 40.0,
    step_mm: float = 2.0,
    min_pairs: int = 200,
) -> float:
    """Distance (mm) at which the correlation of a map between pairs of points falls to 0.5.

    The map is ``values``, shape (S,).

    Parameters
    ----------
    values : ndarray, shape (S,)
    distance : ndarray, shape (S, S)
        Distances between the points (on a mesh, distances along it: straight lines would pair the
        two banks of a sulcus).
    max_mm, step_mm : float
        The correlogram's range and bin width.
    min_pairs : int
        Bins with fewer pairs are skipped (the shortest distances hold few, unrepresentative pairs).

    Returns
    -------
    float
        Linear interpolation between the last bin above 0.5 and the first below (correlation 1 at 0
        mm); ``inf`` when it never falls below 0.5 within ``max_mm``.
    """
    i, j = np.triu_indices(len(values), 1)
    d = distance[i, j]
    v = values - values.mean()
    prod = v[i] * v[j] / v.var()
    centres, corr = [0.0], [1.0]
    edges = np.arange(0.0, max_mm + step_mm, step_mm)
    for lo, hi in zip(edges[:-1], edges[1:]):
        sel = (d > lo) & (d <= hi)
        if sel.sum() >= min_pairs:
            centres.append(0.5 * (lo + hi))
            corr.append(float(prod[sel].mean()))
    corr_a = np.array(corr)
    below = np.flatnonzero(corr_a < 0.5)
    if below.size == 0:
        return float("inf")
    k = int(below[0])
    return float(
        centres[k - 1]
        + (corr_a[k - 1] - 0.5) / (corr_a[k - 1] - corr_a[k]) * (centres[k] - centres[k - 1])
    )


def seed_map_variance(r1: np.ndarray, r2: np.ndarray) -> dict[str, float]:
    """Split a seed map's spatial variance into reproducible and noise parts.

    The parts are estimated from two halves' maps over one region.

    With Fisher-z maps z₁ = atanh(r₁), z₂ = atanh(r₂) over the same points:

    - ``var_total`` = mean over halves of the spatial variance of zₕ;
    - ``var_noise`` = var(z₁ − z₂) / 2 — the spatial variance one half's map owes to noise
      (independent noise of equal size in each half);
    - ``var_signal`` = ``var_total`` − ``var_noise`` — the part both halves share;
    - ``reliability`` = ``var_signal`` / ``var_total``.
    """
    z1, z2 = (np.arctanh(np.clip(r, -0.999, 0.999)) for r in (r1, r2))
    total = 0.5 * (float(z1.var()) + float(z2.var()))
    noise = float(np.var(z1 - z2)) / 2
    return {
        "var_total": total,
        "var_noise": noise,
        "var_signal": total - noise,
        "reliability": (total - noise) / total,
    }
