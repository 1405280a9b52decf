"""Summaries of re-weighted targets: confidence region, map agreement, the scan-length curve."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from .weights import split_half_weights, window_weights

if TYPE_CHECKING:
    from .engine import ResampleModel

#: Confidence level of the bootstrap region.
CONFIDENCE = 0.95
#: Target precision (mm) for the "minutes needed" of the scan-length curve.
PRECISION_MM = 3.0
#: tmstarget policy: a target is *individually reliable* when the radius of its 95 % bootstrap
#: region is at most this (mm), i.e. the region is 1 cm across. A figure-8 coil does not resolve
#: finer: its field stays above half its maximum over a cortical patch S½ of tens of cm² (focality
#: as defined by Deng, Lisanby & Peterchev 2013, Brain Stimul 6:1–13; the tool's Magstim 70 mm model
#: gives about 32 cm², some 6 cm across, 18 mm deep), and a target 5 mm off the coil's centre still
#: receives > 95 % of the field at the centre (measured with that model in
#: tests/test_targeting_uncertainty_summaries.py). A larger region means this scan cannot place the
#: individual target within what one coil position stimulates: the target is then not individually
#: reliable.
RELIABLE_RADIUS_MM = 5.0
#: tmstarget policy: fewest bootstrap resamples a reliability verdict is given for. The 95 % radius
#: is the 95th percentile of the resampled distances; with B resamples it rests on the B/20 largest,
#: so below 100 the percentile rests on fewer than 5 points and its Monte Carlo error is as large as
#: the 5 mm threshold itself (Efron & Tibshirani 1993, An Introduction to the Bootstrap, ch. 19: at
#: least 1000 for percentile intervals; 100 is the floor below which no percentile is stated at
#: all). Fewer gives "too few resamples", never "reliable".
MIN_RESAMPLES = 100
#: The resample count the "too few" message suggests (the command-line default).
N_BOOTSTRAP_HINT = 200
#: Longest scan the "minutes needed" extrapolation is stated for; beyond it: "more than" this.
MAX_EXTRAPOLATED_MINUTES = 60.0
#: tmstarget policy: no "reliable" from one run with fewer usable minutes than this (see
#: :func:`reliability_verdict`). A within-run bootstrap resamples one stretch of data and cannot see
#: how the signal drifts within it; on real runs it was over-confident for short single runs: a
#: 3.25-minute half (volumetric MNI 2 mm) gave a 4.1 mm radius ("reliable") with the other half's
#: target 28.9 mm away, a 7.6-minute brainspace half 7.8 mm with the other half 34.1 mm away (issue
#: 25). Raised from 10 to 20 minutes on the calibrated simulator (benchmarks/README.md, "The
#: 'reliable' verdict against the other session", decided before the held-out participants ran):
#: sessions at or just below 10 minutes whose drift-aware radius was <= 5 mm had the other
#: session's target more than 10 mm away in 8 of 11 (defaults study v2, `robust`: 2 of 5;
#: benchmarks/multiecho.py: 6 of 6, 24.5-37.5 mm), while at 20 minutes 1 of 9 "reliable" verdicts
#: and at 40 minutes 1 of 37 were that far off. 15 minutes was never measured. Counted in *usable*
#: minutes (kept volumes × TR). Several runs are exempt: their run-against-run split sees the drift
#: (see :func:`split_radius_mm`).
MIN_SINGLE_RUN_MINUTES = 20.0


def confidence_region(
    cloud: np.ndarray, centre: np.ndarray, level: float = CONFIDENCE, voxel_mm: float = 0.0
) -> dict:
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
        Grid spacing; its quantisation variance ``h²/12`` per axis is added to the ellipsoid's shape
        matrix so that a cloud on one plane (or one voxel) still gives a full-rank ellipsoid.

    Returns
    -------
    dict
        ``radius_mm``: the ``level`` quantile of the bootstrap targets' distances from ``centre`` (a
        sphere); ``centre_mni``, ``semi_axes_mm`` and ``axes`` (unit row vectors) of the ellipsoid
        ``(x−c)ᵀ S⁻¹ (x−c) ≤ q`` with ``S`` the cloud's second moment about ``centre`` and ``q`` the
        ``level`` quantile of the cloud's own values.
    """
    d = np.asarray(cloud, float) - np.asarray(centre, float)
    radius = float(np.quantile(np.linalg.norm(d, axis=1), level, method="higher"))
    shape = d.T @ d / len(d) + (voxel_mm**2 / 12.0) * np.eye(3)
    lam, vec = np.linalg.eigh(shape)
    lam = np.maximum(lam, 1e-12)
    q = float(
        np.quantile(np.einsum("bi,ij,bj->b", d, (vec / lam) @ vec.T, d), level, method="higher")
    )
    return {
        "level": level,
        "radius_mm": radius,
        "centre_mni": np.asarray(centre, float),
        "semi_axes_mm": np.sqrt(lam * q),
        "axes": vec.T,
    }


def region_contains(region: dict, point, tol_mm: float = 1e-6) -> tuple[bool, bool]:
    """Return whether ``point`` is in the sphere and the ellipsoid of :func:`confidence_region`."""
    d = np.asarray(point, float) - np.asarray(region["centre_mni"], float)
    u = np.asarray(region["axes"]) @ d
    semi = np.asarray(region["semi_axes_mm"])
    inside = (
        np.sum(
            np.where(
                semi > 0,
                u / np.where(semi > 0, semi, 1.0),
                np.where(np.abs(u) > tol_mm, np.inf, 0.0),
            )
            ** 2
        )
        <= 1 + 1e-9
    )
    return bool(np.linalg.norm(d) <= region["radius_mm"] + tol_mm), bool(inside)


def icc_2_1(y: np.ndarray) -> float:
    """ICC(2,1) of an (n subjects × k raters) table.

    Two-way random effects, absolute agreement (Shrout & Fleiss 1979).
    """
    n, k = y.shape
    grand = y.mean()
    msr = k * np.sum((y.mean(1) - grand) ** 2) / (n - 1)
    msc = n * np.sum((y.mean(0) - grand) ** 2) / (k - 1)
    mse = np.sum((y - y.mean(1, keepdims=True) - y.mean(0) + grand) ** 2) / ((n - 1) * (k - 1))
    return float((msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n))


def map_agreement(a: np.ndarray, b: np.ndarray) -> dict:
    """Spatial Pearson correlation and :func:`icc_2_1` of two score maps.

    Voxels are the subjects and maps the raters; voxels undefined in either map are left out.
    """
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3:
        return {"spatial_correlation": None, "icc": None, "n_voxels": int(ok.sum())}
    y = np.column_stack([a[ok], b[ok]]).astype(float)
    return {
        "spatial_correlation": float(np.corrcoef(y.T)[0, 1]),
        "icc": icc_2_1(y),
        "n_voxels": int(ok.sum()),
    }


def scan_length_curve(
    model: ResampleModel,
    times_s: Sequence[np.ndarray],
    reference: np.ndarray,
    step_min: float | None = None,
) -> list[dict]:
    """Target distance to ``reference``, and split-half distance, using only the first k minutes.

    ``k`` runs over multiples of ``step_min`` (default 1 min up to 20 min of data, else a 20th of
    the scan) and the whole scan; windows with fewer than 20 kept volumes are skipped. Up to half
    the scan, each row also has ``held_out_distance_mm``: the distance between the targets of the
    first and of the last k minutes, two windows that share no volume — how far a second scan of
    the same length would land (``distance_mm`` measures against the whole scan, which contains the
    window, and reaches 0 at its end). Beyond half the scan it is None.
    """
    from .engine import resample_target  # lazy: the report reads the verdict's words only

    total_min = max(float(t.max(initial=0.0)) for t in times_s) / 60.0
    step = step_min or max(1.0, math.ceil(total_min / 20))
    rows = []
    for minutes in [*np.arange(step, total_min - 1e-6, step), total_min]:
        w = window_weights(times_s, minutes * 60.0)
        if sum(float(x.sum()) for x in w) < 20:
            continue
        target, _ = resample_target(model, w)
        halves = [resample_target(model, h)[0] for h in split_half_weights(w)]
        held_out = None
        if 2 * minutes <= total_min + 1e-6:
            last = window_weights(times_s, total_min * 60.0, (total_min - minutes) * 60.0)
            if sum(float(x.sum()) for x in last) >= 20:
                held_out = float(np.linalg.norm(target - resample_target(model, last)[0]))
        rows.append(
            {
                "minutes": float(minutes),
                "n_volumes": int(sum(x.sum() for x in w)),
                "target_mni": target,
                "distance_mm": float(np.linalg.norm(target - reference)),
                "split_half_distance_mm": float(np.linalg.norm(halves[0] - halves[1])),
                "held_out_distance_mm": held_out,
            }
        )
    return rows


def minutes_needed(curve: Sequence[dict], precision_mm: float = PRECISION_MM) -> float | None:
    """Fewest minutes from which on the curve stays within ``precision_mm`` of its reference.

    The minutes are short of the whole scan (the curve's last point, the reference), and every point
    of the curve from there on is within ``precision_mm`` of the reference; None when only the whole
    scan is.

    A convergence check for benchmarks and tests; since issue 25 no output carries it (it measured
    convergence to the scan's own answer and contradicted the verdict): outputs state the verdict's
    ``minutes_needed``.
    """
    need = None
    for row in reversed(curve[:-1]):
        if row["distance_mm"] >= precision_mm:
            break
        need = row["minutes"]
    return need


def minutes_for_radius(
    radius_mm: float, minutes: float, goal_mm: float = RELIABLE_RADIUS_MM
) -> float:
    """Scan minutes for a 95 % radius of ``goal_mm``, extrapolated as radius ∝ 1/√minutes.

    The bootstrap radius of a target estimated from ``minutes`` of usable data shrinks like a
    standard error, 1/√(minutes), while the data are all that limits it — an extrapolation (it
    ignores session-to-session change and local maxima that more data may not resolve), hence
    ``minutes × (radius / goal)²``.
    """
    return float(minutes) * (float(radius_mm) / goal_mm) ** 2


def radius_at_minutes(verdict: dict, minutes: float) -> float | None:
    """Return the verdict's model of the 95 % radius after ``minutes`` of usable data.

    The model, ``radius × √(minutes_used / minutes)``, is the one behind ``minutes_needed``
    (:func:`minutes_for_radius` is its inverse at the 5 mm threshold) and the scan-length curve's
    ``radius_95_mm``; the radius is capped at the search region's extent when the verdict has one.
    None without a radius (too few resamples still have one).
    """
    r, used = verdict.get("radius_mm"), verdict.get("minutes_used")
    if r is None or not used or minutes <= 0:
        return None
    out = float(r) * math.sqrt(float(used) / float(minutes))
    if verdict.get("search_extent_mm") is not None:
        out = min(out, float(verdict["search_extent_mm"]))
    return round(out, 1)


def _round_minutes(m: float) -> float:
    """Round up to a whole minute below 20 min, and to 5 min above.

    An extrapolation has no finer precision.
    """
    return float(math.ceil(m)) if m < 20 else float(5 * math.ceil(m / 5))


def _minutes_tail(
    need: float, max_minutes: float, how: str, lower_bound: bool = False
) -> tuple[float | None, str]:
    """``minutes_needed`` (rounded up; None beyond ``max_minutes``) and the words for it."""
    if need > max_minutes:
        return (
            None,
            f"more than {max_minutes:g} minutes would be needed "
            f"{how}; more data alone may not make it reliable",
        )
    rounded = _round_minutes(need)
    return (
        rounded,
        f"{'at least' if lower_bound else 'about'} {rounded:g} minutes would be needed {how}",
    )


def reliability_verdict(
    radius_mm: float,
    minutes: float,
    level: float = CONFIDENCE,
    threshold_mm: float = RELIABLE_RADIUS_MM,
    max_minutes: float = MAX_EXTRAPOLATED_MINUTES,
    n_resamples: int | None = None,
    extent_mm: float | None = None,
    n_runs: int | None = None,
    min_single_run_minutes: float | None = None,
    far_share: float | None = None,
    uncalibrated_method: str | None = None,
) -> dict:
    """Whether a target is individually reliable, in one line and as fields.

    Parameters
    ----------
    radius_mm : float
        Radius of the ``level`` confidence region.
    minutes : float
        Usable scan minutes the target was computed from (kept volumes × TR).
    threshold_mm : float
        :data:`RELIABLE_RADIUS_MM` (tmstarget policy).
    max_minutes : float
        Extrapolations beyond this are stated as "more than ``max_minutes``".
    n_resamples : int, optional
        Bootstrap resamples behind ``radius_mm``; fewer than :data:`MIN_RESAMPLES` gives no verdict
        (``reliable`` None, "too few resamples").
    extent_mm : float, optional
        The search region's extent from the target (:func:`search_extent_mm`). A radius at or beyond
        it says nothing more than "anywhere in the search region": the verdict then says "95% region
        spans the whole search region", ``radius_mm`` is capped at ``extent_mm`` and
        ``spans_search_region`` is True.

    Returns
    -------
    dict
        ``text`` (one line, e.g. ``"95% region radius 3.1 mm: reliable (<= 5 mm)"``), ``reliable``,
        ``radius_mm`` (capped at ``extent_mm``), ``threshold_mm``, ``level``, ``minutes_used`` and
        ``minutes_needed`` (the :func:`minutes_for_radius` extrapolation, rounded up; a lower bound
        when the region spans the search region; None when reliable or beyond ``max_minutes``); with
        ``extent_mm``: ``search_extent_mm`` and ``spans_search_region``.
    n_runs : int, optional
        Runs (separate stretches of data) behind the target. From one run shorter than
        ``min_single_run_minutes`` (default :data:`MIN_SINGLE_RUN_MINUTES`, tmstarget policy) the
        verdict is never "reliable": a small radius then says "... but from one run of M min: not
        reliable (a single run shorter than 20 minutes is not enough, tmstarget policy)", and
        ``minutes_needed`` is at least that minimum (``single_run_too_short`` True).
    far_share : float, optional
        Share of the bootstrap resamples whose target is more than 2 × ``threshold_mm`` from the
        target. When a target is not reliable and more than ``1 − level`` of them are that far, the
        text says why: "(N% of resamples chose a spot more than 10 mm away: a second peak this scan
        cannot rule out)" — the target can be accurate and still not reliable (``far_share`` is
        recorded).
    uncalibrated_method : str, optional
        A method whose 95% region has not been checked against held-out sessions on the calibrated
        simulator (:attr:`~tmstarget.targeting.methods.Method.region_calibrated` False). A radius
        within the threshold then gives no verdict (``reliable`` None, ``region_uncalibrated``
        True): a small region that was never checked must not say "reliable". Not-reliable verdicts
        are given as usual.
    """
    floor = (
        MIN_SINGLE_RUN_MINUTES if min_single_run_minutes is None else float(min_single_run_minutes)
    )
    short = n_runs == 1 and minutes < floor
    spans = extent_mm is not None and radius_mm >= extent_mm
    shown = min(float(radius_mm), float(extent_mm)) if spans else float(radius_mm)
    head = f"{level:.0%} region radius {shown:.1f} mm"
    extra = (
        {}
        if extent_mm is None
        else {"search_extent_mm": round(float(extent_mm), 1), "spans_search_region": bool(spans)}
    )
    if n_runs is not None:
        extra["single_run_too_short"] = bool(short)
    if far_share is not None:
        extra["far_share"] = round(float(far_share), 3)
    why = (
        f" ({far_share:.0%} of resamples chose a spot more "
        f"than {2 * threshold_mm:g} mm away: a second peak "
        "this scan cannot rule out)"
        if far_share is not None and far_share > 1 - level
        else ""
    )
    base = {
        "radius_mm": round(shown, 1),
        "threshold_mm": threshold_mm,
        "level": level,
        "minutes_used": round(float(minutes), 1),
        "minutes_needed": None,
        **extra,
    }
    if n_resamples is not None and n_resamples < MIN_RESAMPLES:
        return {
            "text": f"{head} from only {n_resamples} bootstrap resamples: "
            f"too few resamples for a verdict (need >= {MIN_RESAMPLES}; "
            f"run with --bootstrap {N_BOOTSTRAP_HINT})",
            "reliable": None,
            **base,
            "n_resamples": int(n_resamples),
        }
    how = f"for {threshold_mm:g} mm (extrapolated: radius ~ 1/sqrt(minutes))"
    at_least = (
        floor if short else 0.0
    )  # the single-run minimum is also a floor of the minutes needed
    if spans:
        need, tail = _minutes_tail(
            max(minutes_for_radius(shown, minutes, threshold_mm), at_least),
            max_minutes,
            how,
            lower_bound=True,
        )
        return {
            "text": f"{level:.0%} region spans the whole search region "
            f"(radius >= its {shown:.1f} mm extent from the "
            "target): "
            f"not reliable at {minutes:.1f} min; {tail}{why}",
            "reliable": False,
            **{**base, "minutes_needed": need},
        }
    if radius_mm <= threshold_mm and short:
        need = _round_minutes(floor)
        return {
            "text": f"{head}, but from one run of {minutes:.1f} min: "
            f"not reliable (a single run shorter than {floor:g} "
            "minutes is not "
            f"enough, tmstarget policy); at least {need:g} minutes would be needed",
            "reliable": False,
            **{**base, "minutes_needed": need},
        }
    if radius_mm <= threshold_mm and uncalibrated_method:
        return {
            "text": f"{head}, but the 95% region of --method {uncalibrated_method} "
            "is not yet calibrated against held-out "
            "sessions (benchmarks/verdict.py): no 'reliable' verdict",
            "reliable": None,
            **base,
            "region_uncalibrated": True,
        }
    if radius_mm <= threshold_mm:
        return {"text": f"{head}: reliable (<= {threshold_mm:g} mm)", "reliable": True, **base}
    model_need = minutes_for_radius(radius_mm, minutes, threshold_mm)
    need, tail = _minutes_tail(
        max(model_need, at_least), max_minutes, how, lower_bound=model_need < at_least
    )
    return {
        "text": f"{head}: not reliable at {minutes:.1f} min; {tail}{why}",
        "reliable": False,
        **{**base, "minutes_needed": need},
    }


def split_radius_mm(
    targets_mni: Sequence, minutes: Sequence[float], level: float = CONFIDENCE
) -> float:
    """Return the ``level`` radius (mm) of the full-data target's error implied by the data's split.

    The split is the data's own: ``targets_mni`` are the targets of disjoint parts of the data (two
    halves, or each run) of ``minutes`` usable minutes each. If each part's target scatters
    isotropically around a common point with per-axis variance ``σ² T / T_i`` (variance ∝ 1/minutes,
    ``T`` the total and ``σ²`` that of the full-data target), a pair's squared distance has
    expectation ``3 σ² (T/T_i + T/T_j)``; ``σ²`` is the mean of ``d_ij² / (3 (T/T_i + T/T_j))`` over
    the pairs (``d²/12`` for two equal halves), and the radius is ``√χ²₃(level) · σ`` (2.80 σ at
    95 %). Unlike a within-run bootstrap, the parts' difference carries whatever changed between
    them (drift, state).
    """
    from scipy.stats import chi2

    pts = np.asarray(targets_mni, float)
    t = np.asarray(minutes, float)
    total = float(t.sum())
    est = [
        float(np.sum((pts[i] - pts[j]) ** 2)) / (3.0 * (total / t[i] + total / t[j]))
        for i in range(len(pts))
        for j in range(i + 1, len(pts))
        if t[i] > 0 and t[j] > 0
    ]
    return float(math.sqrt(chi2.ppf(level, 3) * np.mean(est))) if est else 0.0


def combined_radius_mm(bootstrap_mm: float, split_mm: float) -> float:
    """Return the drift-aware 95 % radius, the root-sum-square of the bootstrap and split radii.

    The two see different errors (resampling noise within the stretch; change between its parts), so
    their variances add. Calibrated on the calibrated simulator: docs/reliability.md ("Drift-aware
    region").
    """
    return float(math.hypot(bootstrap_mm, split_mm))


def search_extent_mm(coords_mm: np.ndarray, centre: np.ndarray) -> float:
    """Return the search region's extent from the target (mm).

    The extent is the largest distance from ``centre`` to a search point. A sphere of this radius
    around the target holds the whole search region, so a 95 % region at least this large places the
    target nowhere in particular within it.
    """
    pts = np.asarray(coords_mm, float)
    pts = pts[np.isfinite(pts).all(axis=1)]
    return float(np.linalg.norm(pts - np.asarray(centre, float), axis=1).max(initial=0.0))


#: What the outputs say when no confidence region was computed.
NOT_ASSESSED = (
    "reliability not assessed: no 95% region (--bootstrap "
    "0); run with --bootstrap N or 'tmstarget reliability'"
)


def verdict_line(doc: dict) -> str:
    """Return the one-line verdict of a target or reliability JSON, or why there is none.

    The verdict is :func:`reliability_verdict`'s ``text``.
    """
    verdict = doc.get("reliability_verdict")
    return verdict["text"] if isinstance(verdict, dict) and verdict.get("text") else NOT_ASSESSED
