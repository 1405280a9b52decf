"""How sure is a target? Split halves, runs, a block-bootstrap confidence region, scan length, cohort stability.

Every analysis here re-weights the kept volumes of the runs — a half, one run, the first k minutes, or a
block-bootstrap resample (counts ``c_t ≥ 0``) — and targets the re-weighted data. Nothing is recomputed from
the voxel data: run i's cleaned data are ``Y_i = U_i W_i`` (:mod:`tmstarget.clean`), so with ``D = diag(c)``

    Y_iᵀ D Y_i = W_iᵀ (U_iᵀ D U_i) W_i = (R_i W_i)ᵀ (R_i W_i),   R_i = the R of the QR of D^½ U_i  (r_i × r_i),

and a re-weighting maps each compressed voxel column ``w`` to ``R w``, then re-normalised per run (as
:func:`tmstarget.methods.finalize_components` does). The search-region, seed and r-vectors are mapped
directly. The circuit similarity (:mod:`tmstarget.connectivity`) also needs the moments of the M circuit
voxels, ``G = Σ ŵ ŵᵀ``, ``m = Σ ŵ`` and ``a = Σ c̃ ŵ``, where each ``ŵ_v`` carries its own re-normalisation
``1/ν_v`` (``ν_v² = Σ_t c_t y_vt²``). Those are exact when ``M ≤ norm_voxels``; otherwise they are the
full-data moments (computed once) plus a correction estimated on a fixed random subset of ``norm_voxels``
circuit voxels (a control variate: only the *change* of ``1/ν`` around its mean is sampled). Its error is
measured in ``benchmarks/reliability.py`` and documented in ``docs/reliability.md``.

Approximation: the resampled series are the cleaned series re-weighted, not the raw series re-cleaned (the
filter and confound fit are not refitted on each resample or window). As in the targeting itself, inner
products are not re-centred (the cleaned data are band-passed and have ~zero mean).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .exceptions import InputError
from .methods import Components, Scores, choose_target, circuit_columns, compute_scores, finalize_components
from .select import NEIGHBOURHOOD_MM
from ._utils.progress import progress

#: Confidence level of the bootstrap region.
CONFIDENCE = 0.95
#: Default number of bootstrap resamples.
N_BOOTSTRAP = 200
#: Circuit voxels whose re-normalisation is computed per resample (more: exact).
NORM_VOXELS = 20_000
#: Target precision (mm) for the "minutes needed" of the scan-length curve.
PRECISION_MM = 3.0

#: One array of non-negative weights per run, over that run's kept volumes.
Weights = list


# ------------------------------------------------------------------ re-weightings of the kept volumes
def circular_block_bootstrap(n_kept: Sequence[int], block_volumes: Sequence[int], n_resamples: int, rng: np.random.Generator) -> list[Weights]:
    """Circular block bootstrap (Politis & Romano 1992) of each run's kept volumes, as counts.

    Each run is resampled on its own (blocks never cross runs): ``ceil(K/L)`` blocks of ``L`` consecutive
    kept volumes, wrapping at the end, start at uniform positions; the first K drawn volumes are kept.
    Every volume has expected count 1.

    Returns
    -------
    list of Weights
        ``n_resamples`` re-weightings; each is a list of (K_i,) float count arrays.
    """
    per_run = []
    for k, block in zip(n_kept, block_volumes):
        block = int(min(max(1, block), k))
        starts = rng.integers(0, k, size=(n_resamples, -(-k // block)))
        idx = ((starts[:, :, None] + np.arange(block)).reshape(n_resamples, -1)[:, :k] % k) + k * np.arange(n_resamples)[:, None]
        per_run.append(np.bincount(idx.ravel(), minlength=k * n_resamples).reshape(n_resamples, k).astype(float))
    return [[c[b] for c in per_run] for b in range(n_resamples)]


def split_half_weights(base: Weights) -> tuple[Weights, Weights]:
    """The first ⌊N/2⌋ and the remaining of the N volumes with positive weight in ``base`` (run order)."""
    used = [np.asarray(b) > 0 for b in base]
    order = np.cumsum(np.concatenate(used)) - 1
    first = order < sum(int(u.sum()) for u in used) // 2
    parts = np.split(first, np.cumsum([u.size for u in used])[:-1])
    return [(u & f).astype(float) for u, f in zip(used, parts)], [(u & ~f).astype(float) for u, f in zip(used, parts)]


def kept_times_s(sample_masks: Sequence[np.ndarray], t_r: Sequence[float], n_volumes: Sequence[int]) -> list[np.ndarray]:
    """When each run's kept volumes were fully acquired (s from the start of the first run; runs back to back)."""
    offsets = np.concatenate([[0.0], np.cumsum(np.multiply(n_volumes, t_r))])
    return [off + (np.asarray(m) + 1) * tr for m, tr, off in zip(sample_masks, t_r, offsets)]


def window_weights(times_s: Sequence[np.ndarray], end_s: float, start_s: float = 0.0) -> Weights:
    """Weight 1 on the kept volumes acquired within ``(start_s, end_s]``, 0 elsewhere."""
    return [((t > start_s + 1e-6) & (t <= end_s + 1e-6)).astype(float) for t in times_s]


def optimal_block_length(x: np.ndarray) -> float:
    """Block length (samples) for a circular block bootstrap of a series' mean (Politis & White 2004).

    With the correction of Patton, Politis & White (2009): flat-top lag window with the bandwidth chosen
    where the autocorrelation stops being significant, ``b = (2 Ĝ² / D̂)^⅓ n^⅓`` with ``D̂ = (4/3) ĝ(0)²``.
    """
    x = np.asarray(x, float) - np.mean(x)
    n = x.size
    kn = max(5, math.ceil(math.sqrt(math.log10(n))))
    m_max = min(math.ceil(math.sqrt(n)) + kn, n - 1)
    acov = np.array([x[: n - k] @ x[k:] / n for k in range(m_max + 1)])
    if acov[0] <= 0:
        return 1.0
    small = np.abs(acov[1:] / acov[0]) < 2.0 * math.sqrt(math.log10(n) / n)
    m_hat = next((m for m in range(m_max - kn + 1) if small[m : m + kn].all()), m_max)
    big_m = min(2 * max(m_hat, 1), m_max)
    k = np.arange(1, big_m + 1)
    lam = np.clip(2.0 * (1.0 - k / big_m), 0.0, 1.0)  # flat top: 1 up to M/2, then linear to 0
    g_hat = 2.0 * np.sum(lam * k * acov[k])
    g0 = acov[0] + 2.0 * np.sum(lam * acov[k])
    if g0 <= 0:
        return float(n) / 2
    return float(min(max((2.0 * g_hat**2 / (4.0 / 3.0 * g0**2)) ** (1 / 3) * n ** (1 / 3), 1.0), n / 2))


def variance_ratio(operators: Sequence, block_volumes: Sequence[int]) -> float:
    """Expected block-bootstrap variance ÷ sampling variance of a correlation between cleaned series.

    Cleaning (band-pass, confound regression) gives the cleaned noise long-range dependence that blocks
    cannot reproduce, so the bootstrap under-disperses. Reference model: white raw noise, so a run's cleaned
    noise has covariance ``M = L Lᵀ = U S² Uᵀ``; the numerator ``Σ_t x_t y_t`` of a correlation between two
    such series has variance ``Σ M_ts²`` and, under the circular block bootstrap (count covariance
    ``C_ts = (1 − d_ts/L)₊ − L/K``, d the circular distance), expected bootstrap variance ``Σ C_ts M_ts²``.
    Runs are weighted as :func:`~tmstarget.methods.finalize_components` weighs them (unit variance each).
    """
    num = den = 0.0
    for op, block in zip(operators, block_volumes):
        u = np.asarray(op.basis, np.float64)
        m = (u * np.einsum("ij,ij->i", op.projector, op.projector, dtype=np.float64)) @ u.T
        m2 = (m / np.trace(m)) ** 2
        k = u.shape[0]
        length = min(max(1, int(block)), k)
        d = np.abs(np.subtract.outer(np.arange(k), np.arange(k)))
        c = np.clip(1.0 - np.minimum(d, k - d) / length, 0.0, None) - length / k
        num += float((c * m2).sum())
        den += float(m2.sum())
    return min(max(num / den, 1e-3), 1.0)


# ------------------------------------------------------------------ the re-weighting engine
@dataclass(frozen=True)
class ResampleModel:
    """What stays fixed across re-weightings of one participant's data (built by :func:`resample_model`).

    Columns are those of the full-data :class:`~tmstarget.methods.Components` (unit norm); run i owns rows
    ``slices[i]`` and has basis ``bases[i]`` (K_i × r_i). ``gram``, ``total``, ``weighted``: full-data circuit
    moments ``Σ z zᵀ``, ``Σ z``, ``Σ c̃ z`` over the ``n_circuit`` circuit voxels; ``z_sub``, ``y2_sub`` (squared
    cleaned series per run) and ``c_sub``: the circuit-voxel subset, ``scale`` = M / its size.
    """

    method: str
    uses_similarity: bool
    bases: tuple
    slices: tuple
    z_search: np.ndarray
    z_seed: np.ndarray | None
    gram: np.ndarray
    total: np.ndarray
    weighted: np.ndarray | None
    c_norm: float
    z_sub: np.ndarray
    y2_sub: tuple
    c_sub: np.ndarray | None
    n_circuit: int
    scale: float
    grid: Components
    coords: np.ndarray
    neighbourhood_mm: float
    seed_tc: np.ndarray


def resample_model(
    comp: Components,
    scores: Scores,
    bases: Sequence[np.ndarray],
    region: np.ndarray,
    circuit_map: np.ndarray | None,
    method: str = "robust",
    neighbourhood_mm: float = NEIGHBOURHOOD_MM,
    exclude_local_mm: float = 10.0,
    norm_voxels: int | None = NORM_VOXELS,
    seed: int | np.random.SeedSequence = 0,
    chunk: int = 16_384,
) -> ResampleModel:
    """Precompute everything a re-weighting does not change.

    Parameters
    ----------
    comp, scores
        Full-data components and scores (:func:`~tmstarget.methods.compute_scores` with the same region,
        circuit and ``exclude_local_mm``; with the similarity when ``method`` selects on it).
    bases : sequence of ndarray, each (K_i, r_i)
        ``CleaningOperator.basis`` of each run, in the order of the component rows.
    norm_voxels : int or None
        Circuit voxels whose re-normalisation is computed per resample; None or ≥ M: all (exact).
    seed : int or SeedSequence
        Seeds the choice of that subset.
    """
    _, raw = choose_target(method, comp, scores, neighbourhood_mm)
    uses_similarity = scores.similarity is not None and raw is scores.similarity
    seed_idx, circuit_idx, c = circuit_columns(comp, region, circuit_map, exclude_local_mm)
    n_circ, r = circuit_idx.size, comp.w.shape[0]
    bounds = np.cumsum([0] + [b.shape[1] for b in bases])
    if bounds[-1] != r or n_circ < 3:
        raise InputError(f"{bounds[-1]} run components for {r} data rows and {n_circ} circuit voxels — pass the operators of the same runs and a circuit in MNI space")
    c_t = None if c is None else c - c.mean()
    gram, total, weighted = np.zeros((r, r)), np.zeros(r), np.zeros(r)
    if uses_similarity or c is not None:
        for j in range(0, n_circ, chunk):
            blk = comp.w[:, circuit_idx[j : j + chunk]].astype(np.float64)
            gram += blk @ blk.T if uses_similarity else 0.0
            total += blk.sum(axis=1)
            weighted += 0.0 if c_t is None else blk @ c_t[j : j + chunk]
    n_sub = n_circ if norm_voxels is None else min(int(norm_voxels), n_circ)
    n_sub = n_sub if (uses_similarity or c is not None) else 0  # only the similarity and a map's seed need the moments
    sub = np.sort(np.random.default_rng(seed).choice(n_circ, n_sub, replace=False))
    z_sub = comp.w[:, circuit_idx[sub]]
    slices = tuple(slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:]))
    flat = np.zeros(comp.brain.size, bool)
    flat[comp.flat[scores.search_idx]] = True
    n_s = scores.search_idx.size
    return ResampleModel(
        method=method, uses_similarity=uses_similarity, bases=tuple(np.asarray(b, np.float64) for b in bases), slices=slices,
        z_search=comp.w[:, scores.search_idx], z_seed=None if seed_idx is None else comp.w[:, seed_idx],
        gram=gram, total=total, weighted=None if c_t is None else weighted, c_norm=0.0 if c_t is None else float(np.linalg.norm(c_t)),
        z_sub=z_sub, y2_sub=tuple(np.square(np.asarray(u, z_sub.dtype) @ z_sub[sl]) for u, sl in zip(bases, slices)),
        c_sub=None if c_t is None else c_t[sub], n_circuit=n_circ, scale=n_circ / max(n_sub, 1),
        grid=Components(w=np.zeros((0, n_s)), valid=np.ones(n_s, bool), brain=flat.reshape(comp.brain.shape, order="F"), affine=comp.affine),
        coords=scores.coords, neighbourhood_mm=neighbourhood_mm, seed_tc=scores.seed_tc,
    )


def _factors(model: ResampleModel, weights: Weights) -> list[np.ndarray | None]:
    """Per run, R with RᵀR = Uᵀ diag(c) U (None for a run without weight)."""
    out = []
    for u, c in zip(model.bases, weights):
        c = np.asarray(c, float)
        if c.shape != (u.shape[0],) or np.any(c < 0):
            raise InputError(f"weights must be {u.shape[0]} non-negative values for this run, got shape {c.shape} — one weight per kept volume")
        out.append(np.linalg.qr(np.sqrt(c)[:, None] * u, mode="r") if c.sum() > 0 else None)
    if all(f is None for f in out):
        raise InputError("every volume has weight 0 — give some volumes positive weight")
    return out


def _inverse(nu: np.ndarray) -> np.ndarray:
    ok = nu > 1e-10 * max(float(nu.max(initial=0.0)), 1e-300)
    return np.where(ok, 1.0 / np.where(ok, nu, 1.0), 0.0)


def _apply(model: ResampleModel, rs: list, z: np.ndarray) -> np.ndarray:
    """Re-weighted columns ``z``, re-normalised per run and overall as finalize_components does."""
    out = np.zeros(z.shape)
    for sl, f in zip(model.slices, rs):
        if f is not None:
            p = f @ z[sl]
            out[sl] = p * _inverse(np.sqrt(np.einsum("ij,ij->j", p, p)))
    return out / math.sqrt(sum(f is not None for f in rs))


def _moments(model: ResampleModel, rs: list, weights: Weights):
    """Re-weighted circuit moments ``(G, m, a)`` in re-weighted coordinates (None when not needed).

    Control variate: the full-data moments scaled by each run's mean re-normalisation ``κ_i``, plus
    ``M/N ×`` the subset's difference between its exact re-normalisation and ``κ_i`` (exact when N = M).
    """
    used = math.sqrt(sum(f is not None for f in rs))
    row_scale = np.zeros(model.z_sub.shape)
    for sl, f, c, y2 in zip(model.slices, rs, weights, model.y2_sub):
        if f is not None:
            row_scale[sl] = _inverse(np.sqrt(np.maximum(np.asarray(c) @ y2, 0.0))) / used
    kappa = row_scale.mean(axis=1)
    a_sub = model.z_sub * row_scale.astype(model.z_sub.dtype)
    b_sub = model.z_sub * kappa[:, None].astype(model.z_sub.dtype)
    diff = a_sub - b_sub
    g = m = a = None
    if model.uses_similarity:
        x = (diff @ (a_sub + b_sub).T).astype(np.float64)  # = A Aᵀ − B Bᵀ after symmetrising
        g = kappa[:, None] * model.gram * kappa[None, :] + model.scale * 0.5 * (x + x.T)
        m = kappa * model.total + model.scale * diff.sum(axis=1, dtype=np.float64)
    if model.c_sub is not None:
        a = kappa * model.weighted + model.scale * (diff.astype(np.float64) @ model.c_sub)
    big_r = np.zeros((kappa.size, kappa.size))
    for sl, f in zip(model.slices, rs):
        if f is not None:
            big_r[sl, sl] = f
    return (None if g is None else big_r @ g @ big_r.T), (None if m is None else big_r @ m), (None if a is None else big_r @ a)


def resample_scores(model: ResampleModel, weights: Weights) -> tuple[Scores, np.ndarray]:
    """Scores of the search voxels under a re-weighting, and the re-weighted search columns (r, S).

    ``seed`` is always computed; ``similarity`` when the model's method selects on it.
    """
    rs = _factors(model, weights)
    ws = _apply(model, rs, model.z_search)
    g, m, a = _moments(model, rs, weights) if (model.uses_similarity or model.z_seed is None) else (None, None, None)
    seed = -_apply(model, rs, model.z_seed).mean(axis=1) if model.z_seed is not None else a
    seed = seed / np.linalg.norm(seed)
    sim = None
    if model.uses_similarity:
        n, proj_m = model.n_circuit, ws.T @ m
        if model.z_seed is not None:  # the circuit values are the re-weighted sgACC map itself
            gs = g @ seed
            c_bar = float(seed @ m) / n
            num, c_norm = ws.T @ gs - proj_m * c_bar, math.sqrt(max(float(seed @ gs) - n * c_bar**2, 0.0))
        else:
            num, c_norm = ws.T @ a, model.c_norm
        quad = np.einsum("is,is->s", ws, g @ ws)
        var = quad - proj_m**2 / n
        with np.errstate(invalid="ignore", divide="ignore"):
            sim = num / (c_norm * np.sqrt(var))
        sim[~(var > 1e-12 * np.maximum(quad, 1e-300))] = np.nan
    scores = Scores(search_idx=np.arange(ws.shape[1]), coords=model.coords, seed=seed @ ws, seed_tc=seed, similarity=sim)
    return scores, ws


def resample_target(model: ResampleModel, weights: Weights) -> tuple[np.ndarray, np.ndarray]:
    """Target (MNI mm) and the raw score map it was chosen on (over the search voxels), under a re-weighting."""
    scores, ws = resample_scores(model, weights)
    grid = Components(w=ws, valid=model.grid.valid, brain=model.grid.brain, affine=model.grid.affine)
    sel, raw = choose_target(model.method, grid, scores, model.neighbourhood_mm)
    return np.asarray(sel.coord_mm, float), raw


# ------------------------------------------------------------------ summaries
def confidence_region(cloud: np.ndarray, centre: np.ndarray, level: float = CONFIDENCE, voxel_mm: float = 0.0) -> dict:
    """Confidence region for the target from a bootstrap cloud, around the full-data target.

    Parameters
    ----------
    cloud : ndarray, shape (B, 3)
        Bootstrap targets (MNI mm).
    centre : ndarray, shape (3,)
        Full-data target.
    level : float
        Coverage level.
    voxel_mm : float
        Grid spacing; its quantisation variance ``h²/12`` per axis is added to the ellipsoid's shape matrix
        so that a cloud on one plane (or one voxel) still gives a full-rank ellipsoid.

    Returns
    -------
    dict
        ``radius_mm``: the ``level`` quantile of the bootstrap targets' distances from ``centre`` (a sphere);
        ``centre_mni``, ``semi_axes_mm`` and ``axes`` (unit row vectors) of the ellipsoid
        ``(x−c)ᵀ S⁻¹ (x−c) ≤ q`` with ``S`` the cloud's second moment about ``centre`` and ``q`` the
        ``level`` quantile of the cloud's own values.
    """
    d = np.asarray(cloud, float) - np.asarray(centre, float)
    radius = float(np.quantile(np.linalg.norm(d, axis=1), level, method="higher"))
    shape = d.T @ d / len(d) + (voxel_mm**2 / 12.0) * np.eye(3)
    lam, vec = np.linalg.eigh(shape)
    lam = np.maximum(lam, 1e-12)
    q = float(np.quantile(np.einsum("bi,ij,bj->b", d, (vec / lam) @ vec.T, d), level, method="higher"))
    return {"level": level, "radius_mm": radius, "centre_mni": np.asarray(centre, float), "semi_axes_mm": np.sqrt(lam * q), "axes": vec.T}


def region_contains(region: dict, point, tol_mm: float = 1e-6) -> tuple[bool, bool]:
    """Whether ``point`` lies in the confidence sphere and in the ellipsoid of :func:`confidence_region`."""
    d = np.asarray(point, float) - np.asarray(region["centre_mni"], float)
    u = np.asarray(region["axes"]) @ d
    semi = np.asarray(region["semi_axes_mm"])
    inside = np.sum(np.where(semi > 0, u / np.where(semi > 0, semi, 1.0), np.where(np.abs(u) > tol_mm, np.inf, 0.0)) ** 2) <= 1 + 1e-9
    return bool(np.linalg.norm(d) <= region["radius_mm"] + tol_mm), bool(inside)


def icc_2_1(y: np.ndarray) -> float:
    """ICC(2,1) of an (n subjects × k raters) table: two-way random effects, absolute agreement (Shrout & Fleiss 1979)."""
    n, k = y.shape
    grand = y.mean()
    msr = k * np.sum((y.mean(1) - grand) ** 2) / (n - 1)
    msc = n * np.sum((y.mean(0) - grand) ** 2) / (k - 1)
    mse = np.sum((y - y.mean(1, keepdims=True) - y.mean(0) + grand) ** 2) / ((n - 1) * (k - 1))
    return float((msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n))


def map_agreement(a: np.ndarray, b: np.ndarray) -> dict:
    """Spatial Pearson correlation and :func:`icc_2_1` of two score maps (voxels = subjects, maps = raters).

    Voxels undefined in either map are left out.
    """
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3:
        return {"spatial_correlation": None, "icc": None, "n_voxels": int(ok.sum())}
    y = np.column_stack([a[ok], b[ok]]).astype(float)
    return {"spatial_correlation": float(np.corrcoef(y.T)[0, 1]), "icc": icc_2_1(y), "n_voxels": int(ok.sum())}


def scan_length_curve(model: ResampleModel, times_s: Sequence[np.ndarray], reference: np.ndarray, step_min: float | None = None) -> list[dict]:
    """Target distance to ``reference``, and split-half distance, when only the first k minutes are used.

    ``k`` runs over multiples of ``step_min`` (default 1 min up to 20 min of data, else a 20th of the scan)
    and the whole scan; windows with fewer than 20 kept volumes are skipped.
    """
    total_min = max(float(t.max(initial=0.0)) for t in times_s) / 60.0
    step = step_min or max(1.0, math.ceil(total_min / 20))
    rows = []
    for minutes in [*np.arange(step, total_min - 1e-6, step), total_min]:
        w = window_weights(times_s, minutes * 60.0)
        if sum(float(x.sum()) for x in w) < 20:
            continue
        target, _ = resample_target(model, w)
        halves = [resample_target(model, h)[0] for h in split_half_weights(w)]
        rows.append({"minutes": float(minutes), "n_volumes": int(sum(x.sum() for x in w)), "target_mni": target,
                     "distance_mm": float(np.linalg.norm(target - reference)), "split_half_distance_mm": float(np.linalg.norm(halves[0] - halves[1]))})
    return rows


def minutes_needed(curve: Sequence[dict], precision_mm: float = PRECISION_MM) -> float | None:
    """Fewest minutes, short of the whole scan (the curve's last point, the reference), from which on every
    point of the curve is within ``precision_mm`` of the reference; None when only the whole scan is."""
    need = None
    for row in reversed(curve[:-1]):
        if row["distance_mm"] >= precision_mm:
            break
        need = row["minutes"]
    return need


# ------------------------------------------------------------------ a participant
def auto_block_length_s(model: ResampleModel, t_r: Sequence[float], n_probes: int = 32) -> float:
    """Block length (s) from the autocorrelation of the series the target depends on.

    :func:`optimal_block_length` of the products ``y_seed(t) · y_s(t)`` (whose means are the seed
    correlations) of ``n_probes`` search voxels spread over the region, per run; the median, in seconds.
    """
    probes = np.unique(np.linspace(0, model.z_search.shape[1] - 1, n_probes).astype(int))
    lengths = []
    for u, sl, tr in zip(model.bases, model.slices, t_r):
        ys, yp = u @ model.seed_tc[sl], u @ model.z_search[sl][:, probes].astype(np.float64)
        lengths += [optimal_block_length(ys * yp[:, j]) * tr for j in range(probes.size)]
    return float(np.median(lengths))


def _one_blas_thread():
    """Resamples are many small matrix products: one BLAS thread avoids threading overhead and contention."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - installed with scikit-learn
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def _rounded(x, nd: int = 1):
    return [round(float(v), nd) for v in np.ravel(x)] if np.ndim(x) else round(float(x), nd)


def _region_json(region: dict) -> dict:
    return {"level": region["level"], "centre_mni": _rounded(region["centre_mni"]), "semi_axes_mm": _rounded(region["semi_axes_mm"]),
            "axes": [_rounded(a, 4) for a in region["axes"]]}


def bootstrap_cloud(model: ResampleModel, n_kept: Sequence[int], block_volumes: Sequence[int], n: int, rng: np.random.Generator) -> np.ndarray:
    """Targets (n, 3) of ``n`` circular-block-bootstrap resamples."""
    resamples = circular_block_bootstrap(n_kept, block_volumes, n, rng)
    return np.array([resample_target(model, w)[0] for w in progress(resamples, n, "bootstrap")])


def participant_reliability(
    comp: Components,
    operators: Sequence,
    t_r: Sequence[float],
    n_volumes: Sequence[int],
    region: np.ndarray,
    circuit_map: np.ndarray | None = None,
    method: str = "robust",
    neighbourhood_mm: float = NEIGHBOURHOOD_MM,
    exclude_local_mm: float = 10.0,
    n_bootstrap: int = N_BOOTSTRAP,
    seed: int = 0,
    block_length_s: float | None = None,
    norm_voxels: int | None = NORM_VOXELS,
    level: float = CONFIDENCE,
    scores: Scores | None = None,
) -> dict:
    """Split-half, run-vs-run, bootstrap and scan-length reliability of one participant's target.

    Parameters
    ----------
    comp : Components
        Full-data components (:func:`~tmstarget.methods.finalize_components` of the runs' smoothed blocks).
    operators : sequence of CleaningOperator
        The runs' cleaning operators, in the order of the blocks.
    t_r, n_volumes : sequence
        Repetition time (s) and number of acquired volumes of each run.
    region, circuit_map, method, neighbourhood_mm, exclude_local_mm
        As for ``tmstarget target``.
    n_bootstrap : int
        Bootstrap resamples (0 = no bootstrap).
    seed : int
        Seeds the bootstrap and the circuit-voxel subset: same input and seed, same output.
    block_length_s : float, optional
        Bootstrap block length; default :func:`auto_block_length_s`.
    norm_voxels : int or None
        See :func:`resample_model`.
    scores : Scores, optional
        Full-data scores, when already computed.

    Returns
    -------
    dict
        JSON-ready (coordinates and distances rounded to 0.1 mm); see ``docs/reliability.md``.
    """
    full, model, boot_seed = _setup(comp, scores, operators, region, circuit_map, method, neighbourhood_mm, exclude_local_mm, norm_voxels, seed)
    n_kept = [op.sample_mask.size for op in operators]
    ones = [np.ones(k) for k in n_kept]
    dist = lambda a, b: round(float(np.linalg.norm(np.asarray(a) - b)), 1)  # noqa: E731
    out: dict = {"method": method, "target_mni": _rounded(full), "n_volumes_used": int(sum(n_kept))}
    with _one_blas_thread():
        halves = split_half_weights(ones)
        (t1, m1), (t2, m2) = (resample_target(model, h) for h in halves)
        out["split_half_distance_mm"] = dist(t1, t2)
        out["split_half"] = {"first_half_mni": _rounded(t1), "second_half_mni": _rounded(t2), "n_volumes": [int(sum(x.sum() for x in h)) for h in halves]}
        out["score_map_agreement"] = {k: (None if v is None else round(v, 4)) for k, v in map_agreement(m1, m2).items()}
        if len(operators) > 1:
            runs = [resample_target(model, [ones[j] * (j == i) for j in range(len(ones))])[0] for i in range(len(ones))]
            out["run_targets_mni"] = [_rounded(t) for t in runs]
            out["run_distances_mm"] = [{"runs": [i, j], "distance_mm": dist(runs[i], runs[j])} for i in range(len(runs)) for j in range(i + 1, len(runs))]
        if n_bootstrap > 0:
            out.update(_bootstrap_summary(model, operators, t_r, n_bootstrap, boot_seed, block_length_s, full, level))
        curve = scan_length_curve(model, kept_times_s([op.sample_mask for op in operators], t_r, n_volumes), full)
    out["scan_length_curve"] = [{**r, "minutes": round(r["minutes"], 2), "target_mni": _rounded(r["target_mni"]), "distance_mm": round(r["distance_mm"], 1),
                                 "split_half_distance_mm": round(r["split_half_distance_mm"], 1)} for r in curve]
    out["minutes_for_3mm"] = minutes_needed(curve, PRECISION_MM)
    out["minutes_total"] = round(curve[-1]["minutes"], 2) if curve else None
    return out


def _setup(comp, scores, operators, region, circuit_map, method, neighbourhood_mm, exclude_local_mm, norm_voxels, seed):
    """Full-data target, resample model and bootstrap seed (the subset and the resamples get independent streams)."""
    if scores is None:
        scores = compute_scores(comp, region, circuit_map, True, exclude_local_mm)
    full, _ = choose_target(method, comp, scores, neighbourhood_mm)
    sub_seed, boot_seed = np.random.SeedSequence(seed).spawn(2)
    model = resample_model(comp, scores, [op.basis for op in operators], region, circuit_map, method, neighbourhood_mm, exclude_local_mm, norm_voxels, sub_seed)
    return np.asarray(full.coord_mm, float), model, boot_seed


def _bootstrap_summary(model: ResampleModel, operators, t_r, n, boot_seed, block_length_s, centre, level) -> dict:
    """Bootstrap cloud and the confidence region from its deviations, scaled by 1/√(:func:`variance_ratio`)."""
    block_s = auto_block_length_s(model, t_r) if block_length_s is None else float(block_length_s)
    block_vol = [max(1, int(round(block_s / tr))) for tr in t_r]
    cloud = bootstrap_cloud(model, [op.sample_mask.size for op in operators], block_vol, n, np.random.default_rng(boot_seed))
    ratio = variance_ratio(operators, block_vol)
    scaled = centre + (cloud - centre) / math.sqrt(ratio)
    region = confidence_region(scaled, centre, level, float(np.sqrt((model.grid.affine[:3, :3] ** 2).sum(0)).mean()))
    return {
        "confidence_level": level,
        "confidence_radius_mm": round(region["radius_mm"], 1),
        "confidence_ellipsoid": _region_json(region),
        "bootstrap": {"n_resamples": int(n), "block_length_s": round(block_s, 1), "block_length_volumes": block_vol,
                      "variance_ratio": round(ratio, 4), "deviation_scale": round(1 / math.sqrt(ratio), 4),
                      "norm_voxels": model.z_sub.shape[1] or None, "n_circuit_voxels": model.n_circuit,
                      "targets_mni": [_rounded(t) for t in cloud]},
    }


def components_from(prepared) -> Components:
    """Full-data components of a :class:`tmstarget.workflow.Prepared`, exactly as the targeting run builds them."""
    variable = getattr(prepared, "variable", None)  # voxels whose raw data vary, when the workflow records them
    return finalize_components(prepared.blocks, prepared.brain, prepared.affine, **({} if variable is None else {"variable": variable}))


def bootstrap_confidence(prepared, options, n: int = N_BOOTSTRAP, seed: int = 0, *, components: Components | None = None,
                         scores: Scores | None = None, block_length_s: float | None = None, norm_voxels: int | None = NORM_VOXELS) -> dict:
    """Bootstrap confidence region of a targeting run, for ``tmstarget target --bootstrap N``.

    Parameters
    ----------
    prepared : tmstarget.workflow.Prepared
        Output of :func:`tmstarget.workflow.prepare`.
    options : tmstarget.workflow.TargetingOptions
    n, seed : int
        Resamples and seed.
    components, scores : optional
        The run's full-data components and scores, to avoid recomputing them.

    Returns
    -------
    dict
        ``confidence_radius_mm``, ``confidence_level``, ``confidence_ellipsoid`` and ``bootstrap`` (settings,
        ``seed`` and the point cloud ``targets_mni``), JSON-ready.
    """
    comp = components if components is not None else components_from(prepared)
    full, model, boot_seed = _setup(comp, scores, prepared.operators, prepared.region, prepared.circuit_map, options.method,
                                    options.neighbourhood_mm, options.exclude_local_mm, norm_voxels, seed)
    with _one_blas_thread():
        out = _bootstrap_summary(model, prepared.operators, [info.t_r for info in prepared.infos], n, boot_seed, block_length_s, full, CONFIDENCE)
    out["bootstrap"]["seed"] = seed
    return out


# ------------------------------------------------------------------ a cohort
def cohort_stability(targets: Sequence[tuple[str, str | None, Sequence[float]]]) -> tuple[list[dict], dict]:
    """Within-person (between sessions) versus between-person target distances (Cash et al. 2021, HBM).

    Parameters
    ----------
    targets : sequence of (participant, session, target_mni)
        One entry per participant and session.

    Returns
    -------
    rows : list of dict
        Per participant: ``n_sessions``, ``within_mm`` (mean distance between its sessions' targets; None
        with one session), ``between_mm`` (mean distance from its targets to every other participant's).
    summary : dict
        Medians over participants with ≥ 2 sessions, ``ratio_between_within`` (median between / median
        within; Cash et al. report up to 6.85) and the fraction of participants closer to themselves.
    """
    people: dict[str, list[np.ndarray]] = {}
    for participant, _, xyz in targets:
        people.setdefault(participant, []).append(np.asarray(xyz, float))
    if len(people) < 2:
        raise InputError(f"found targets of {len(people)} participant(s), need >= 2 — run 'tmstarget target' on more participants")
    if not any(len(p) > 1 for p in people.values()):
        raise InputError("no participant has targets from >= 2 sessions — run 'tmstarget target' per session (ses-* folders)")
    rows = []
    for label, pts in sorted(people.items()):
        own = np.array(pts)
        others = np.array([q for other, qs in people.items() if other != label for q in qs])
        pair = np.linalg.norm(own[:, None] - own[None], axis=2)[np.triu_indices(len(own), 1)]
        within = float(pair.mean()) if pair.size else None
        between = float(np.linalg.norm(own[:, None] - others[None], axis=2).mean())
        rows.append({"participant": label, "n_sessions": len(own), "within_mm": within, "between_mm": between})
    rep = [r for r in rows if r["within_mm"] is not None]
    within, between = float(np.median([r["within_mm"] for r in rep])), float(np.median([r["between_mm"] for r in rep]))
    summary = {
        "n_participants": len(rows), "n_with_repeat_sessions": len(rep),
        "median_within_mm": round(within, 2), "median_between_mm": round(between, 2),
        "ratio_between_within": round(between / within, 2) if within > 0 else None,
        "fraction_closer_to_self": round(float(np.mean([r["within_mm"] < r["between_mm"] for r in rep])), 3),
    }
    return rows, summary
