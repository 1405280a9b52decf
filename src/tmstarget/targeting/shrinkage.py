"""Shrinkage target: the individual score map pulled towards a group prior as far as its noise says.

An empirical-Bayes (James–Stein) estimate of the participant's circuit map over the search region.
With ``s`` the individual score map (the ``robust`` method's seed score), ``μ`` a group prior map
and every map smoothed over the selection neighbourhood
(:func:`~tmstarget.targeting.selection.smooth_scores`: the target is the optimum of the smoothed
map, so the variances that matter are those of the smoothed maps):

- noise variance ``σ²``: the two halves of the kept volumes give score maps ``s_A``, ``s_B``, and
  ``σ² = var_v(s_A − s_B) / ρ`` (spatial variance over the search region; the mean difference is
  irrelevant to an optimum). For independent halves ``ρ = 4`` (each half has twice the full data's
  noise variance), but cleaned series are band-passed and confound-regressed, so their halves are
  dependent: :func:`half_variance_ratio` computes ``ρ = var(s_A − s_B) / var(s)`` for white raw
  noise passed through the participant's own cleaning, as
  :func:`~tmstarget.targeting.uncertainty.weights.variance_ratio` does for the bootstrap;
- prior on the individual's scale: ``μ = a + b g`` with ``g`` a Gaussian bump (σ =
  :data:`PRIOR_SIGMA_MM`) at the group target — the ``robust`` optimum of the group circuit map in
  the search region (a map circuit), :data:`FOX_2012_DLPFC_MNI` (``sgacc``) or ``--group-target`` —
  and ``a, b`` the least-squares fit of ``s`` on ``g`` over the region (``b`` kept positive: the
  prior's optimum stays the group target). A bump rather than the group map's own values: the group
  map's variation within the DLPFC need not resemble an individual's (on the simulator its fit often
  had a negative slope), its optimum does;
- between-person signal variance ``τ² = max(var_v(s − μ) − σ², 0)``, weight ``w = τ² / (τ² + σ²)``;
- posterior ``m̂ = μ + w (s − μ)``; the target is its ``robust`` optimum.

This is the positive-part James–Stein estimator with a regression prior (Efron & Morris 1973 JASA
68:117–130; 1975 JASA 70:311–319): ``w = 1 − σ² / var(s − μ)``, clipped at 0. Short or noisy scans
give ``w → 0`` and the group target; long, clean scans give ``w → 1`` and the individual target. The
same idea (individual maps regularised towards the group, weighted by their reliability) underlies
Cash et al. 2021 (Hum Brain Mapp 42:4155–4172), who found individual sgACC-based targets unreliable
at typical scan lengths, and the reliability-weighted targets of Ning et al. 2019 (Brain Stimul
12:129–138).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import chi2

from ..exceptions import InputError
from .components import Components
from .scores import Scores
from .selection import NEIGHBOURHOOD_MM, Selection, select_target, smooth_scores

#: Group DLPFC coordinate most anticorrelated with the sgACC (MNI mm): the connectivity-"optimized"
#: target of
#: Fox et al. 2012 Biol Psychiatry 72:595–603 (doi:10.1016/j.biopsych.2012.04.028), the prior for
#: ``sgacc``.
FOX_2012_DLPFC_MNI = (-38.0, 44.0, 26.0)

#: Width (σ, mm) of the prior bump around a group coordinate: between-person spread of
#: sgACC-anticorrelated
#: DLPFC peaks is about 1 cm (a modelling choice, not a clinical number).
PRIOR_SIGMA_MM = 10.0

#: A ``--group-target`` must lie within this distance (mm) of a search-region point.
GROUP_TARGET_TOLERANCE_MM = 10.0

#: 95% radius of an isotropic 3-D Gaussian, in units of its per-axis standard deviation (√χ²₃(0.95)
#: ≈ 2.80).
RADIUS95_PER_SD = math.sqrt(chi2.ppf(0.95, 3))


@dataclass(frozen=True)
class ShrinkageEstimate:
    """The empirical-Bayes weights of one participant.

    They come from the variances of the neighbourhood-smoothed maps.

    Attributes
    ----------
    weight : float
        ``w = τ²/(τ²+σ²)`` in [0, 1]: 0 = the group prior, 1 = the individual map.
    noise_var, signal_var : float
        ``σ²`` (noise of the full-length map) and ``τ²`` (between-person deviation from the prior).
    intercept, slope : float
        The prior on the individual's scale: ``μ = intercept + slope · g``.
    posterior : ndarray, shape (S,)
        ``m̂ = μ + w (s − μ)`` on the raw (unsmoothed) scale.
    """

    weight: float
    noise_var: float
    signal_var: float
    intercept: float
    slope: float
    posterior: np.ndarray


def prior_bump(
    coords_mm: np.ndarray, point_mm: Sequence[float], sigma_mm: float = PRIOR_SIGMA_MM
) -> np.ndarray:
    """Return a Gaussian bump ``exp(−|x − p|² / 2σ²)`` at each point (S, 3).

    This is the prior of a group coordinate.
    """
    d2 = np.sum((np.asarray(coords_mm, float) - np.asarray(point_mm, float)) ** 2, axis=1)
    return np.exp(-0.5 * d2 / sigma_mm**2)


def check_group_target(
    point_mm: Sequence[float],
    coords_mm: np.ndarray,
    tolerance_mm: float = GROUP_TARGET_TOLERANCE_MM,
) -> np.ndarray:
    """Refuse a group coordinate off the search region's hemisphere or too far from the region.

    Too far means farther than ``tolerance_mm``.
    """
    p = np.asarray(point_mm, float)
    if p.shape != (3,) or not np.isfinite(p).all():
        raise InputError(
            "--group-target needs three finite MNI coordinates, "
            f"got {list(point_mm)} — e.g. --group-target -38 "
            "44 26"
        )
    side = np.sign(np.median(coords_mm[:, 0]))
    gap = float(np.min(np.linalg.norm(coords_mm - p, axis=1)))
    if np.sign(p[0]) != side or gap > tolerance_mm:
        where = "in the other hemisphere" if np.sign(p[0]) != side else f"{gap:.1f} mm away"
        raise InputError(
            f"--group-target ({p[0]:g}, {p[1]:g}, {p[2]:g}) "
            f"is {where} from the search region — give an "
            "MNI point within "
            f"{tolerance_mm:g} mm of it, e.g. -38 44 26 for the left DLPFC"
        )
    return p


def half_variance_ratio(operators: Sequence, halves: Sequence[Sequence[np.ndarray]]) -> float:
    """Compute ``ρ = var(s_A − s_B) / var(s)`` of a correlation score between cleaned series.

    White raw noise is the reference.

    A run-weighted correlation under per-volume weights ``c`` is ``Σ_i Σ_t k_it x_it y_it`` with
    ``k_it = ω_i c_it / (Σ_j ω_j · Σ_t c_it M_i,tt)`` (runs are normalised, then averaged with the
    weights ω of :func:`~tmstarget.targeting.uncertainty.weights.run_shares`). For two independent
    series whose raw noise is white, run i's cleaned noise has covariance ``M_i``
    (:func:`~tmstarget.targeting.uncertainty.weights.cleaned_noise_covariance`) and the score's
    variance is ``Σ_i k_iᵀ (M_i ∘ M_i) k_i``.

    Parameters
    ----------
    operators : sequence of CleaningOperator
        The runs' cleaning operators (``basis`` U, ``projector`` S Vᵀ).
    halves : (Weights, Weights)
        The two halves' per-run volume weights.
    """
    from .uncertainty.weights import cleaned_noise_covariance, run_shares

    mats = []
    for op in operators:
        m = cleaned_noise_covariance(op)
        mats.append((np.diag(m).copy(), m * m))

    def coefficients(weights) -> list[np.ndarray]:
        omega = run_shares(weights)
        used = float(sum(omega))  # ω is 0 for a run without weight
        return [
            np.asarray(c, float) * w / (used * float(np.asarray(c) @ d))
            if np.sum(c) > 0
            else np.zeros(len(c))
            for c, w, (d, _) in zip(weights, omega, mats)
        ]

    full = coefficients([np.ones(d.size) for d, _ in mats])
    diff = [a - b for a, b in zip(coefficients(halves[0]), coefficients(halves[1]))]
    var = lambda ks: sum(float(k @ m2 @ k) for k, (_, m2) in zip(ks, mats))  # noqa: E731
    return var(diff) / var(full)


def check_group_target_default(
    point_mm: Sequence[float], tolerance_mm: float = GROUP_TARGET_TOLERANCE_MM
) -> np.ndarray:
    """Run :func:`check_group_target` against the default search region's spheres.

    This runs before any data are read.
    """
    from .regions import DLPFC_SPHERES

    centres = np.array([c for _, c, _ in DLPFC_SPHERES])
    radius = max(r for _, _, r in DLPFC_SPHERES)
    # points of the spheres' surfaces towards the given point stand in for the region
    p = np.asarray(point_mm, float)
    toward = (p - centres) / np.maximum(np.linalg.norm(p - centres, axis=1, keepdims=True), 1e-9)
    near = centres + toward * np.minimum(np.linalg.norm(p - centres, axis=1, keepdims=True), radius)
    return check_group_target(p, np.vstack([centres, near]), tolerance_mm)


def shrinkage_weight(
    score: np.ndarray,
    half_a: np.ndarray,
    half_b: np.ndarray,
    prior: np.ndarray,
    coords_mm: np.ndarray,
    neighbourhood_mm: float = NEIGHBOURHOOD_MM,
    ratio: float = 4.0,
) -> ShrinkageEstimate:
    """Empirical-Bayes weight and posterior map (see the module notes).

    Parameters
    ----------
    score : ndarray, shape (S,)
        The individual score map of the full data.
    half_a, half_b : ndarray, shape (S,)
        The same score from each half of the kept volumes.
    prior : ndarray, shape (S,)
        Group prior map (any scale; higher = stimulate); NaN = no prior there.
    coords_mm : ndarray, shape (S, 3)
    neighbourhood_mm : float
        Neighbourhood over which the maps are smoothed, as the ``robust`` selection does.
    ratio : float
        ``var(s_A − s_B) / var(s)`` of the noise (4 for independent halves;
        :func:`half_variance_ratio`).
    """
    smooth = lambda v: smooth_scores(coords_mm, np.asarray(v, float), neighbourhood_mm)  # noqa: E731
    s, d, g = smooth(score), smooth(np.asarray(half_a) - half_b), smooth(prior)
    ok = np.isfinite(s) & np.isfinite(d) & np.isfinite(g)
    if ok.sum() < 3 or np.ptp(g[ok]) <= 0:
        raise InputError(
            "the group prior is flat or missing over the "
            "search region — check the circuit map covers "
            "the DLPFC or give --group-target"
        )
    noise_var = float(np.var(d[ok], ddof=1) / ratio)
    gc, sc = g[ok] - g[ok].mean(), s[ok] - s[ok].mean()
    floor = 1e-6 * float(np.std(sc)) / float(np.std(gc)) if np.std(sc) > 0 else 1e-12
    slope = max(float(gc @ sc / (gc @ gc)), floor)
    intercept = float(s[ok].mean() - slope * g[ok].mean())
    resid_var = float(np.var(sc - slope * gc, ddof=2)) if ok.sum() > 2 else 0.0
    signal_var = max(resid_var - noise_var, 0.0)
    total = signal_var + noise_var
    weight = signal_var / total if total > 0 else 0.0
    mu = intercept + slope * np.asarray(prior, float)
    posterior = mu + weight * (np.asarray(score, float) - mu)
    return ShrinkageEstimate(weight, noise_var, signal_var, intercept, slope, posterior)


def difference_verdict(
    distance_mm: float, radius_mm: float, source: str, weight: float
) -> tuple[bool, str]:
    """Decide whether the individual target differs from the group one by more than its 95% radius.

    Returns the decision and one sentence.
    """
    larger = bool(distance_mm > radius_mm)
    how = "larger" if larger else "not larger"
    tail = (
        "the scan supports an individual target"
        if larger
        else "the scan cannot tell this person's target from the group one"
    )
    return larger, (
        f"individual target {distance_mm:.1f} mm from the "
        f"group target, {how} than its 95% uncertainty "
        f"({radius_mm:.1f} mm, {source}): {tail}; shrinkage weight {weight:.2f}"
    )


def _rounded(x) -> list[float]:
    return [round(float(v), 1) for v in np.ravel(x)]


def shrinkage_target(
    comp: Components,
    scores: Scores,
    operators: Sequence,
    region: np.ndarray,
    circuit_map: np.ndarray | None,
    neighbourhood_mm: float = NEIGHBOURHOOD_MM,
    exclude_local_mm: float = 10.0,
    prior_point: Sequence[float] | None = None,
    radius_mm: float | None = None,
) -> tuple[Selection, dict]:
    """Compute the shrinkage target of one participant and its JSON ``shrinkage`` block.

    Parameters
    ----------
    comp, scores
        Full-data components and scores (:func:`~tmstarget.targeting.scores.compute_scores`).
    operators : sequence of CleaningOperator
        The runs' cleaning operators (the halves re-weight the data through them, without another
        pass over the data).
    region, circuit_map, neighbourhood_mm, exclude_local_mm
        As for ``tmstarget target``.
    prior_point : (3,) MNI mm, optional
        Group target of the prior (checked against the search region); default: the ``robust``
        optimum of the circuit map for a map circuit, :data:`FOX_2012_DLPFC_MNI` for ``sgacc``.
    radius_mm : float, optional
        95% radius of the individual target (a bootstrap); default: from the split-half distance,
        ``√χ²₃(.95) · d_AB / (2√3)`` (each half's target has twice the variance of the full one, so
        ``d_AB`` has 4× it per axis).

    Returns
    -------
    Selection, dict
        The target (``robust`` optimum of the posterior map) and the JSON-ready ``shrinkage`` block.
    """
    from .uncertainty.engine import resample_model, resample_scores
    from .uncertainty.weights import split_half_weights

    coords = scores.coords
    if prior_point is not None:
        prior_point = check_group_target(prior_point, coords)
    pick = lambda v: select_target(coords, v, "robust", neighbourhood_mm)  # noqa: E731
    source = "group coordinate" if prior_point is not None or circuit_map is None else "circuit map"
    if prior_point is None:
        prior_point = (
            FOX_2012_DLPFC_MNI
            if circuit_map is None
            else pick(
                comp.geometry.column_values(circuit_map)[scores.search_idx].astype(float)
            ).coord_mm
        )
    prior = prior_bump(coords, prior_point)
    model = resample_model(
        comp,
        scores,
        [op.basis for op in operators],
        region,
        circuit_map,
        "robust",
        neighbourhood_mm,
        exclude_local_mm,
    )
    halves = split_half_weights([np.ones(op.basis.shape[0]) for op in operators])
    (sa, _), (sb, _) = (resample_scores(model, h) for h in halves)
    ratio = half_variance_ratio(operators, halves)
    est = shrinkage_weight(scores.seed, sa.seed, sb.seed, prior, coords, neighbourhood_mm, ratio)
    sel, group, individual = pick(est.posterior), pick(prior), pick(scores.seed)
    distance = float(np.linalg.norm(individual.coord_mm - group.coord_mm))
    split = float(np.linalg.norm(pick(sa.seed).coord_mm - pick(sb.seed).coord_mm))
    how = "bootstrap"
    if radius_mm is None:
        radius_mm, how = RADIUS95_PER_SD * split / (2.0 * math.sqrt(3.0)), "split-half"
    larger, sentence = difference_verdict(distance, radius_mm, how, est.weight)
    block = {
        "weight": round(est.weight, 4),
        "half_variance_ratio": round(ratio, 4),
        "noise_variance": float(f"{est.noise_var:.4g}"),
        "signal_variance": float(f"{est.signal_var:.4g}"),
        "prior": source,
        "prior_point_mni": _rounded(prior_point),
        "prior_sigma_mm": PRIOR_SIGMA_MM,
        "group_target_mni": _rounded(group.coord_mm),
        "individual_target_mni": _rounded(individual.coord_mm),
        "distance_individual_to_group_mm": round(distance, 1),
        "split_half_distance_mm": round(split, 1),
        "uncertainty_radius_mm": round(float(radius_mm), 1),
        "uncertainty_source": how,
        "difference_exceeds_uncertainty": larger,
        "sentence": sentence,
    }
    return sel, block


def shrinkage_step(
    comp: Components,
    scores: Scores,
    operators: Sequence,
    region: np.ndarray,
    circuit_map: np.ndarray | None,
    options,
    radius_mm: float | None = None,
) -> tuple[Selection, dict]:
    """Run the ``shrinkage`` method's post-step (:data:`tmstarget.targeting.methods.METHODS`).

    It applies :func:`shrinkage_target` with the options' neighbourhood, local exclusion and
    ``group_target`` (the prior point; None: the default prior).
    """
    return shrinkage_target(
        comp,
        scores,
        operators,
        region,
        circuit_map,
        options.neighbourhood_mm,
        options.exclude_local_mm,
        options.group_target,
        radius_mm,
    )
