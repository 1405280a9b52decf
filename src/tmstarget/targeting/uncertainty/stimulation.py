"""Stimulation cost of the target's uncertainty, and the uncertainty of a coil placement's centre.

A radius in millimetres does not say whether the uncertainty matters: a coil stimulates centimetres,
so a target that moves within a broad plateau of the circuit score costs little, and one that jumps
between two peaks costs a lot. :func:`stimulation_share` states it with the placement landscape
(:mod:`tmstarget.coil.landscape`): every bootstrap resample is one plausible score map; under each,
the plan's coil placement keeps a share of the best E-field-weighted circuit score any placement
reaches (both averaged over placement error). The statement is the share kept in 95% of resamples
("keeps >= 90% of the achievable circuit score"). The plan's placement is the method's own
(``efield``) or the default placement over the target (nearest scalp point, handle 45° from the
midline), on the landscape's grid.

:func:`coil_centre_region` is the drift-aware 95% radius of the coil centre (scalp entry point) of a
method whose answer is a placement, combined from the bootstrap and the data's own split exactly as
the target's radius is.
"""

from __future__ import annotations

import math

import numpy as np

from .summaries import combined_radius_mm, confidence_region, split_radius_mm

#: Share of resamples the stated share holds in.
SHARE_LEVEL = 0.95


def plan_placement_index(landscape, target_mm, selection=None) -> int:
    """Return the index of the plan's placement on the landscape grid.

    The method's own placement when the selection has one, else the default placement over the
    target.
    """
    if selection is not None and selection.placement is not None:
        return int(selection.placement["index"])
    from ...coil.geometry import DEFAULT_HANDLE_ANGLE_DEG, place_on_head
    from ...headmodel import load_template_head

    default = place_on_head(load_template_head(), target_mm, DEFAULT_HANDLE_ANGLE_DEG)
    return landscape.nearest(default.scalp_mm, default.handle)


def stimulation_share(
    landscape,
    plan_index: int,
    values: np.ndarray,
    cloud: np.ndarray,
    centre,
    level: float = SHARE_LEVEL,
    maps: np.ndarray | None = None,
) -> dict:
    """Share of the achievable expected score the plan keeps if the target lies in its region.

    The score is the expected E-field-weighted score; the target may lie anywhere in its region.

    Each bootstrap target ``t_b`` is a plausible position of the circuit's optimum: the full-data
    score map moved so that its optimum moves from the target to ``t_b`` (a rotation about the head
    sphere's centre). The plan's coil then sits where the inverse rotation takes it on the unmoved
    map; its expected score there, over the best expected score any placement reaches on the map, is
    the share it keeps. The full-data map is used (not each resample's noisy map, whose best
    placement is biased upwards by the search); a placement moved off the landscape counts as
    keeping 0.

    Parameters
    ----------
    landscape : tmstarget.coil.landscape.Landscape
        Placements over the search region.
    plan_index : int
        The plan's placement on the landscape grid (:func:`plan_placement_index`).
    values : ndarray, shape (S,)
        The full-data score map over the search columns (the method's raw score).
    cloud : ndarray, shape (B, 3)
        Bootstrap targets (their deviations already scaled as the region's are).
    centre : array_like, shape (3,)
        The full-data target.
    level : float
        The share is stated for this fraction of resamples.
    maps : ndarray, shape (S, B), optional
        The resamples' own score maps: the best placement's score under them must be above 0 in
        ``level`` of them, else a share of it means nothing and none is stated
        (``achievable_score_range`` says why).

    Returns
    -------
    dict
        ``share_kept`` (held in ``level`` of resamples), ``median_share_kept``, ``plan_share`` (no
        displacement), placement error and ``text``; JSON-ready.
    """
    from ...coil.geometry import rotation_between, unit

    expected = landscape.scores(np.asarray(values, float))
    top = int(np.argmax(np.where(landscape.inner, expected, -np.inf)))
    best = float(expected[top])
    base = {
        "level": level,
        "placement_error_mm": landscape.error_mm,
        "placement_error_deg": landscape.error_deg,
        "achievable_score": round(best, 4),
    }
    undefined = {**base, "share_kept": None, "median_share_kept": None, "plan_share": None}
    if not best > 0:
        return {
            **undefined,
            "text": "no placement has a positive E-field-weighted "
            "circuit score: the stimulation share is not "
            "defined",
        }
    if maps is not None and np.shape(maps)[1] >= 2:
        row = landscape.score_at(top, maps)
        lo, hi = (float(np.quantile(np.ravel(row), q)) for q in ((1 - level) / 2, (1 + level) / 2))
        base["achievable_score_range"] = [round(lo, 4), round(hi, 4)]
        if lo <= 0:
            return {
                **undefined,
                "achievable_score_range": base["achievable_score_range"],
                "text": (
                    "the best placement's E-field-weighted circuit "
                    f"score ({best:.3f}) is not reliably above "
                    "0 "
                    f"({level:.0%} of resamples: {lo:.3f} to "
                    f"{hi:.3f}): no stimulation share is stated"
                ),
            }
    c = landscape.sphere.centre_mm
    u_t = unit(np.asarray(centre, float) - c)
    scalp = landscape.scalp_mm[plan_index] - c
    shares = []
    for t_b in np.asarray(cloud, float).reshape(-1, 3):
        moved = (
            rotation_between(unit(t_b - c), u_t) @ scalp + c
        )  # the coil relative to a map whose optimum moved to t_b
        j = landscape.shifted(plan_index, moved - landscape.scalp_mm[plan_index])
        shares.append(0.0 if j is None else float(expected[j]) / best)
    shares = np.clip(np.asarray(shares), 0.0, 1.0)
    kept = float(np.quantile(shares, 1.0 - level)) if shares.size else float("nan")
    plan_share = float(np.clip(expected[plan_index] / best, 0.0, 1.0))
    return {
        **base,
        "share_kept": round(kept, 3),
        "median_share_kept": round(float(np.median(shares)), 3),
        "plan_share": round(plan_share, 3),
        "text": (
            "wherever the target lies in its 95% region, "
            f"the plan keeps >= {kept:.0%} of the achievable "
            "E-field-weighted "
            f"circuit score (median {float(np.median(shares)):.0%}; "
            f"{plan_share:.0%} where it is; placement error "
            f"{landscape.error_mm:g} mm, ±{landscape.error_deg:g}°)"
        ),
    }


def coil_centre_region(
    landscape,
    centre_index: int,
    cloud_index: np.ndarray,
    split_index: list[int],
    split_minutes: list[float],
    variance_ratio: float,
    level: float,
) -> dict:
    """Drift-aware 95% radius of the coil centre (scalp point).

    The radius is computed from the placements of the bootstrap resamples and of the data's split.
    The bootstrap deviations are scaled by 1/√``variance_ratio`` and combined with the split's
    radius as the target's are
    (:func:`~tmstarget.targeting.uncertainty.summaries.combined_radius_mm`); like the target's, the
    radius is capped at the search area's extent from the centre (the farthest candidate placement),
    ``spans_search_area`` then true.
    """
    from ...coil.landscape import STEP_MM

    centre = landscape.scalp_mm[centre_index]
    cloud = landscape.scalp_mm[np.asarray(cloud_index, int)]
    scaled = centre + (cloud - centre) / math.sqrt(variance_ratio)
    boot = confidence_region(scaled, centre, level, STEP_MM)["radius_mm"]
    parts = landscape.scalp_mm[np.asarray(split_index, int)]
    split = split_radius_mm(parts, split_minutes, level)
    dists = [
        float(np.linalg.norm(parts[i] - parts[j]))
        for i in range(len(parts))
        for j in range(i + 1, len(parts))
    ]
    extent = float(np.linalg.norm(landscape.scalp_mm[landscape.inner] - centre, axis=1).max())
    radius = combined_radius_mm(boot, split)
    return {
        "centre_mm": [round(float(v), 1) for v in centre],
        "radius_mm": round(min(radius, extent), 1),
        "search_extent_mm": round(extent, 1),
        "spans_search_area": bool(radius >= extent),
        "bootstrap_radius_mm": round(float(boot), 1),
        "split_radius_mm": round(float(split), 1),
        "split_distances_mm": [round(d, 1) for d in dists],
        "handle_spread_deg": round(
            float(
                np.percentile(
                    np.abs(
                        (
                            (
                                landscape.params[np.asarray(cloud_index, int), 2]
                                - landscape.params[centre_index, 2]
                                + 90
                            )
                            % 180
                        )
                        - 90
                    ),
                    100 * level,
                )
            ),
            1,
        ),
    }
