"""How sure a target is, measured in several ways.

Split halves, runs, a block-bootstrap confidence region, scan length and cohort stability.

Every analysis here re-weights the kept volumes of the runs — a half, one run, the first k minutes,
or a block-bootstrap resample (counts ``c_t ≥ 0``) — and targets the re-weighted data. Nothing is
recomputed from the voxel data: run i's cleaned data are ``Y_i = U_i W_i``
(:mod:`tmstarget.targeting.cleaning`), so with ``D = diag(c)``

    Y_iᵀ D Y_i = W_iᵀ (U_iᵀ D U_i) W_i = (R_i W_i)ᵀ (R_i W_i),
    R_i = the R of the QR of D^½ U_i  (r_i × r_i),

and a re-weighting maps each compressed voxel column ``w`` to ``R w``, then re-normalised per run
(as :func:`tmstarget.targeting.components.finalize_components` does). The search-region, seed and
r-vectors are mapped directly. The circuit similarity (:mod:`tmstarget.targeting.connectivity`) also
needs the moments of the M circuit voxels, ``G = Σ ŵ ŵᵀ``, ``m = Σ ŵ`` and ``a = Σ c̃ ŵ``, where
each ``ŵ_v`` carries its own re-normalisation ``1/ν_v`` (``ν_v² = Σ_t c_t y_vt²``). Those are exact
when ``M ≤ norm_voxels``; otherwise they are the full-data moments (computed once) plus a correction
estimated on a fixed random subset of ``norm_voxels`` circuit voxels (a control variate: only the
*change* of ``1/ν`` around its mean is sampled). Its error is measured in
``benchmarks/reliability.py`` and documented in ``docs/reliability.md``.

Approximation: the resampled series are the cleaned series re-weighted, not the raw series
re-cleaned (the filter and confound fit are not refitted on each resample or window). As in the
targeting itself, inner products are not re-centred (the cleaned data are band-passed and have ~zero
mean).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ...exceptions import InputError
from ..components import Components
from ..geometry import SubsetGeometry
from ..methods import Method, get_method
from ..scores import Scores, circuit_columns
from ..selection import NEIGHBOURHOOD_MM, choose_target
from .weights import Weights, run_shares

#: Circuit voxels whose re-normalisation is computed per resample (more: exact).
NORM_VOXELS = 20_000


@dataclass(frozen=True)
class ResampleModel:
    """What stays fixed across re-weightings of one participant's data.

    It is built by :func:`resample_model`.

    Columns are those of the full-data :class:`~tmstarget.targeting.components.Components` (unit
    norm); run i owns rows ``slices[i]`` and has basis ``bases[i]`` (K_i × r_i). ``gram``,
    ``total``, ``weighted``: full-data circuit moments ``Σ z zᵀ``, ``Σ z``, ``Σ c̃ z`` over the
    ``n_circuit`` circuit voxels; ``z_sub``, ``y2_sub`` (squared cleaned series per run) and
    ``c_sub``: the circuit-voxel subset, ``scale`` = M / its size.
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
    y2_search: tuple | None = None
    method_options: dict | None = None


def resample_model(
    comp: Components,
    scores: Scores,
    bases: Sequence[np.ndarray],
    region: np.ndarray,
    circuit_map: np.ndarray | None,
    method: str | Method = "robust",
    neighbourhood_mm: float = NEIGHBOURHOOD_MM,
    exclude_local_mm: float = 10.0,
    norm_voxels: int | None = NORM_VOXELS,
    seed: int | np.random.SeedSequence = 0,
    chunk: int = 16_384,
    options=None,
) -> ResampleModel:
    """Precompute everything a re-weighting does not change.

    Parameters
    ----------
    comp, scores
        Full-data components and scores (:func:`~tmstarget.targeting.scores.compute_scores` with the
        same region, circuit and ``exclude_local_mm``; with the similarity when ``method`` selects
        on it).
    bases : sequence of ndarray, each (K_i, r_i)
        ``CleaningOperator.basis`` of each run, in the order of the component rows.
    norm_voxels : int or None
        Circuit voxels whose re-normalisation is computed per resample; None or ≥ M: all (exact).
    seed : int or SeedSequence
        Seeds the choice of that subset.
    options : TargetingOptions or mapping, optional
        Supplies the method's own settings (:attr:`~tmstarget.targeting.methods.Method.options`) to
        every resample.

    Resamples take the seed-score fast path when the method's registry entry allows it
    (:attr:`~tmstarget.targeting.methods.Method.seed_score_fast_path`).
    """
    method = get_method(method)
    uses_similarity = method.needs_similarity
    seed_idx, circuit_idx, c = circuit_columns(comp, region, circuit_map, exclude_local_mm)
    n_circ, r = circuit_idx.size, comp.w.shape[0]
    bounds = np.cumsum([0] + [b.shape[1] for b in bases])
    if bounds[-1] != r or n_circ < 3:
        raise InputError(
            f"{bounds[-1]} run components for {r} data rows "
            f"and {n_circ} circuit voxels — pass the operators "
            "of the same runs and a circuit in MNI space"
        )
    c_t = None if c is None else c - c.mean()
    gram, total, weighted = np.zeros((r, r)), np.zeros(r), np.zeros(r)
    if uses_similarity or c is not None:
        for j in range(0, n_circ, chunk):
            blk = comp.w[:, circuit_idx[j : j + chunk]].astype(np.float64)
            gram += blk @ blk.T if uses_similarity else 0.0
            total += blk.sum(axis=1)
            weighted += 0.0 if c_t is None else blk @ c_t[j : j + chunk]
    n_sub = n_circ if norm_voxels is None else min(int(norm_voxels), n_circ)
    n_sub = (
        n_sub if (uses_similarity or c is not None) else 0
    )  # only the similarity and a map's seed need the moments
    sub = np.sort(np.random.default_rng(seed).choice(n_circ, n_sub, replace=False))
    z_sub = comp.w[:, circuit_idx[sub]]
    slices = tuple(slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:]))
    flat = np.zeros(comp.brain.size, bool)
    flat[comp.flat[scores.search_idx]] = True
    n_s = scores.search_idx.size
    return ResampleModel(
        method=method.name,
        uses_similarity=uses_similarity,
        bases=tuple(np.asarray(b, np.float64) for b in bases),
        slices=slices,
        z_search=comp.w[:, scores.search_idx].astype(np.float64),
        z_seed=None if seed_idx is None else comp.w[:, seed_idx],
        gram=gram,
        total=total,
        weighted=None if c_t is None else weighted,
        c_norm=0.0 if c_t is None else float(np.linalg.norm(c_t)),
        z_sub=z_sub,
        y2_sub=tuple(
            np.square(np.asarray(u, z_sub.dtype) @ z_sub[sl]) for u, sl in zip(bases, slices)
        ),
        c_sub=None if c_t is None else c_t[sub],
        n_circuit=n_circ,
        scale=n_circ / max(n_sub, 1),
        grid=Components(
            w=np.zeros((0, n_s)),
            valid=np.ones(n_s, bool),
            brain=flat.reshape(comp.brain.shape, order="F"),
            affine=comp.affine,
            geometry=SubsetGeometry(comp.geometry, scores.search_idx),
        ),
        coords=scores.coords,
        neighbourhood_mm=neighbourhood_mm,
        seed_tc=scores.seed_tc,
        y2_search=_squared_series(bases, slices, comp.w[:, scores.search_idx])
        if method.seed_score_fast_path
        else None,
        method_options=method.option_values(options) or None,
    )


def _squared_series(bases, slices, z: np.ndarray) -> tuple:
    """Return, per run, the squared cleaned series ``(U_i z_i)²`` (K_i × columns).

    ``c @`` it is the re-weighted squared norm.
    """
    return tuple(
        np.square(np.asarray(u, np.float64) @ z[sl].astype(np.float64))
        for u, sl in zip(bases, slices)
    )


class _Factors(list):
    """Per run, R with RᵀR = Uᵀ diag(c) U, and each run's share of the data.

    R is None for a run without weight.

    ``amp[i]`` = √ω_i (:func:`~tmstarget.targeting.uncertainty.weights.run_shares`) and ``norm`` =
    √Σω: a run re-normalised to unit norm and scaled by ``amp[i] / norm`` weighs ω_i / Σω in every
    inner product.
    """

    amp: list[float]
    norm: float


def _factors(model: ResampleModel, weights: Weights) -> _Factors:
    """Compute, per run, R with RᵀR = Uᵀ diag(c) U, and the runs' shares (:class:`_Factors`).

    R is None for a run without weight.
    """
    out = _Factors()
    for u, c in zip(model.bases, weights):
        c = np.asarray(c, float)
        if c.shape != (u.shape[0],) or np.any(c < 0):
            raise InputError(
                f"weights must be {u.shape[0]} non-negative "
                f"values for this run, got shape {c.shape} "
                "— one weight per kept volume"
            )
        out.append(np.linalg.qr(np.sqrt(c)[:, None] * u, mode="r") if c.sum() > 0 else None)
    if all(f is None for f in out):
        raise InputError("every volume has weight 0 — give some volumes positive weight")
    omega = run_shares(weights)
    out.amp = [math.sqrt(w) for w in omega]
    out.norm = math.sqrt(float(sum(omega)))  # ω is 0 for a run without weight
    return out


def _inverse(nu: np.ndarray) -> np.ndarray:
    ok = nu > 1e-10 * max(float(nu.max(initial=0.0)), 1e-300)
    return np.where(ok, 1.0 / np.where(ok, nu, 1.0), 0.0)


def _apply(model: ResampleModel, rs: _Factors, z: np.ndarray) -> np.ndarray:
    """Return the re-weighted columns ``z``, re-normalised per run and overall.

    The normalisation is the one finalize_components applies (runs weighted by their share).
    """
    out = np.zeros(z.shape)
    for sl, f, amp in zip(model.slices, rs, rs.amp):
        if f is not None:
            p = f @ z[sl]
            out[sl] = p * _inverse(np.sqrt(np.einsum("ij,ij->j", p, p))) * amp
    return out / rs.norm


def _moments(model: ResampleModel, rs: _Factors, weights: Weights):
    """Re-weighted circuit moments ``(G, m, a)`` in re-weighted coordinates (None when not needed).

    Control variate: the full-data moments scaled by each run's mean re-normalisation ``κ_i``, plus
    ``M/N ×`` the subset's difference between its exact re-normalisation and ``κ_i`` (exact when N =
    M).
    """
    if not model.uses_similarity:
        return None, None, _map_seed(model, rs, weights)
    row_scale = np.zeros(model.z_sub.shape)
    for sl, f, c, y2, amp in zip(model.slices, rs, weights, model.y2_sub, rs.amp):
        if f is not None:
            row_scale[sl] = _inverse(np.sqrt(np.maximum(np.asarray(c) @ y2, 0.0))) * amp / rs.norm
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
    return (
        (None if g is None else big_r @ g @ big_r.T),
        (None if m is None else big_r @ m),
        (None if a is None else big_r @ a),
    )


def _map_seed(model: ResampleModel, rs: _Factors, weights: Weights) -> np.ndarray | None:
    """Return the circuit-weighted seed ``a`` of :func:`_moments` when no similarity is needed.

    The same control variate, one matrix-vector product per run: each run's rows of the subset's
    re-normalisation are one vector ``s_i`` (the run's ``1/ν``), so ``diff @ c`` is
    ``z_i @ ((s_i − κ_i) c)`` with ``κ_i`` the mean of ``s_i`` — no (r × N) temporaries.
    """
    if model.c_sub is None:
        return None
    a = np.zeros(model.z_sub.shape[0])
    for sl, f, c, y2, amp in zip(model.slices, rs, weights, model.y2_sub, rs.amp):
        if f is None:
            continue
        nu2 = (np.asarray(c, y2.dtype) @ y2).astype(np.float64)  # no float64 copy of y2
        scale = _inverse(np.sqrt(np.maximum(nu2, 0.0))) * amp / rs.norm
        kappa = scale.mean()
        corr = model.z_sub[sl] @ ((scale - kappa) * model.c_sub).astype(model.z_sub.dtype)
        a[sl] = f @ (kappa * model.weighted[sl] + model.scale * corr.astype(np.float64))
    return a


def resample_scores(model: ResampleModel, weights: Weights) -> tuple[Scores, np.ndarray]:
    """Scores of the search voxels under a re-weighting, and the re-weighted search columns (r, S).

    ``seed`` is always computed; ``similarity`` when the model's method selects on it.
    """
    rs = _factors(model, weights)
    ws = _apply(model, rs, model.z_search)
    seed, g, m, a = _seed_vector(model, rs, weights)
    sim = None
    if model.uses_similarity:
        n, proj_m = model.n_circuit, ws.T @ m
        if model.z_seed is not None:  # the circuit values are the re-weighted sgACC map itself
            gs = g @ seed
            c_bar = float(seed @ m) / n
            num, c_norm = (
                ws.T @ gs - proj_m * c_bar,
                math.sqrt(max(float(seed @ gs) - n * c_bar**2, 0.0)),
            )
        else:
            num, c_norm = ws.T @ a, model.c_norm
        quad = np.einsum("is,is->s", ws, g @ ws)
        var = quad - proj_m**2 / n
        with np.errstate(invalid="ignore", divide="ignore"):
            sim = num / (c_norm * np.sqrt(var))
        sim[~(var > 1e-12 * np.maximum(quad, 1e-300))] = np.nan
    scores = Scores(
        search_idx=np.arange(ws.shape[1]),
        coords=model.coords,
        seed=seed @ ws,
        seed_tc=seed,
        similarity=sim,
    )
    return scores, ws


def _seed_vector(model: ResampleModel, rs: _Factors, weights: Weights):
    """Return the re-weighted unit seed time course and the circuit moments ``(G, m, a)``.

    The time course is in re-weighted coordinates.
    """
    g, m, a = (
        _moments(model, rs, weights)
        if (model.uses_similarity or model.z_seed is None)
        else (None, None, None)
    )
    seed = -_apply(model, rs, model.z_seed).mean(axis=1) if model.z_seed is not None else a
    return seed / np.linalg.norm(seed), g, m, a


def _seed_scores(model: ResampleModel, weights: Weights) -> Scores:
    """Compute the seed scores of the search columns under a re-weighting.

    The re-weighted columns are never formed.

    ``seed · ws_s = Σ_i (seedᵢᵀ R_i) z_is / ν_is / √n`` with ``ν_is² = ‖R_i z_is‖² = Σ_t c_t (U_i
    z_is)_t²``: O(K·S) per run instead of the O(r²·S) of :func:`resample_scores` (same values up to
    rounding).
    """
    rs = _factors(model, weights)
    seed, *_ = _seed_vector(model, rs, weights)
    out = np.zeros(model.z_search.shape[1])
    for sl, f, c, y2, amp in zip(model.slices, rs, weights, model.y2_search, rs.amp):
        if f is not None:
            out += (
                ((seed[sl] @ f) @ model.z_search[sl])
                * _inverse(np.sqrt(np.maximum(np.asarray(c, float) @ y2, 0.0)))
                * amp
            )
    out /= rs.norm
    return Scores(
        search_idx=np.arange(out.size), coords=model.coords, seed=out, seed_tc=seed, similarity=None
    )


def resample_selection(model: ResampleModel, weights: Weights):
    """Return the method's selection and its raw score map under a re-weighting.

    The selection is a :class:`~tmstarget.targeting.selection.Selection`; the raw score map is the
    one it was chosen on (over the search voxels).
    """
    if model.y2_search is not None:  # the target depends only on the seed scores
        scores = _seed_scores(model, weights)
        return choose_target(
            model.method, model.grid, scores, model.neighbourhood_mm, model.method_options
        )
    scores, ws = resample_scores(model, weights)
    grid = Components(
        w=ws,
        valid=model.grid.valid,
        brain=model.grid.brain,
        affine=model.grid.affine,
        geometry=model.grid.geometry,
    )
    return choose_target(model.method, grid, scores, model.neighbourhood_mm, model.method_options)


def resample_target(model: ResampleModel, weights: Weights) -> tuple[np.ndarray, np.ndarray]:
    """Return the target (MNI mm) and the raw score map it was chosen on, under a re-weighting.

    The score map covers the search voxels.
    """
    sel, raw = resample_selection(model, weights)
    return np.asarray(sel.coord_mm, float), raw
