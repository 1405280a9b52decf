"""Summaries of re-weighted targets: confidence region, map agreement, the scan-length curve."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .engine import ResampleModel, resample_target
from .weights import split_half_weights, window_weights

#: Confidence level of the bootstrap region.
CONFIDENCE = 0.95
#: Target precision (mm) for the "minutes needed" of the scan-length curve.
PRECISION_MM = 3.0


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
