"""One participant's reliability and bootstrap confidence region.

``tmstarget reliability`` reports the reliability; ``target --bootstrap`` reports the confidence
region.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence

import numpy as np

from ..._utils.progress import progress
from ..components import Components
from ..defaults import N_BOOTSTRAP, N_BOOTSTRAP_SLOW  # noqa: F401 - default resamples (see there), re-exported here
from ..methods import get_method
from ..prepare import components_from
from ..scores import Scores, compute_scores
from ..selection import NEIGHBOURHOOD_MM, choose_target
from .engine import NORM_VOXELS, ResampleModel, resample_model, resample_selection, resample_target
from .summaries import (
    CONFIDENCE,
    RELIABLE_RADIUS_MM,
    combined_radius_mm,
    confidence_region,
    map_agreement,
    radius_at_minutes,
    reliability_verdict,
    scan_length_curve,
    search_extent_mm,
    split_radius_mm,
)
from .weights import (
    circular_block_bootstrap,
    kept_times_s,
    optimal_block_length,
    split_half_weights,
    variance_ratio,
)


def default_resamples(method: str) -> int:
    """Return the default number of bootstrap resamples of ``tmstarget target`` for ``method``.

    It depends on the method's registry cost class.
    """
    from ..methods import get_method

    return N_BOOTSTRAP_SLOW if get_method(method).cost == "slow" else N_BOOTSTRAP


def auto_block_length_s(model: ResampleModel, t_r: Sequence[float], n_probes: int = 32) -> float:
    """Block length (s) from the autocorrelation of the series the target depends on.

    :func:`optimal_block_length` of the products ``y_seed(t) · y_s(t)`` (whose means are the seed
    correlations) of ``n_probes`` search voxels spread over the region, per run; the median, in
    seconds.
    """
    probes = np.unique(np.linspace(0, model.z_search.shape[1] - 1, n_probes).astype(int))
    lengths = []
    for u, sl, tr in zip(model.bases, model.slices, t_r):
        ys, yp = u @ model.seed_tc[sl], u @ model.z_search[sl][:, probes].astype(np.float64)
        lengths += [optimal_block_length(ys * yp[:, j]) * tr for j in range(probes.size)]
    return float(np.median(lengths))


def column_spacing_mm(coords_mm: np.ndarray) -> float:
    """Spacing of the search columns: the median distance from each to its nearest neighbour (mm).

    The voxel size on an isotropic grid; the typical vertex spacing on a mesh (about 3–4 mm on
    fsaverage5), so the grid quantisation added to the confidence ellipsoid is right for every input
    kind.
    """
    from scipy.spatial import cKDTree

    pts = np.asarray(coords_mm, float)
    pts = pts[np.isfinite(pts).all(axis=1)]
    if len(pts) < 2:
        return 0.0
    return float(np.median(cKDTree(pts).query(pts, k=2)[0][:, 1]))


def _one_blas_thread():
    """Return a context that limits BLAS to one thread.

    Resamples are many small matrix products: one BLAS thread avoids threading overhead and
    contention.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - installed with scikit-learn
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def _rounded(x, nd: int = 1):
    return [round(float(v), nd) for v in np.ravel(x)] if np.ndim(x) else round(float(x), nd)


def _region_json(region: dict) -> dict:
    return {
        "level": region["level"],
        "centre_mni": _rounded(region["centre_mni"]),
        "semi_axes_mm": _rounded(region["semi_axes_mm"]),
        "axes": [_rounded(a, 4) for a in region["axes"]],
    }


def bootstrap_cloud(
    model: ResampleModel,
    n_kept: Sequence[int],
    block_volumes: Sequence[int],
    n: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Targets (n, 3) of ``n`` circular-block-bootstrap resamples."""
    return bootstrap_selections(model, n_kept, block_volumes, n, rng)[0]


def bootstrap_selections(
    model: ResampleModel,
    n_kept: Sequence[int],
    block_volumes: Sequence[int],
    n: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, list]:
    """Run ``n`` circular-block-bootstrap resamples: their targets, raw score maps and selections.

    Targets have shape (n, 3) and raw score maps (S, n).
    """
    resamples = circular_block_bootstrap(n_kept, block_volumes, n, rng)
    picks = [resample_selection(model, w) for w in progress(resamples, n, "bootstrap")]
    targets = np.array([np.asarray(sel.coord_mm, float) for sel, _ in picks]).reshape(-1, 3)
    maps = (
        np.column_stack([raw for _, raw in picks])
        if picks
        else np.zeros((model.coords.shape[0], 0))
    )
    return targets, maps, [sel for sel, _ in picks]


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
    options=None,
) -> dict:
    """Split-half, run-vs-run, bootstrap and scan-length reliability of one participant's target.

    Parameters
    ----------
    comp : Components
        Full-data components (:func:`~tmstarget.targeting.components.finalize_components` of the
        runs' smoothed blocks).
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
    options : TargetingOptions or mapping, optional
        The method's own settings (e.g. ``efield``'s placement error).

    Returns
    -------
    dict
        JSON-ready (coordinates and distances rounded to 0.1 mm); see ``docs/reliability.md``.
    """
    full, model, boot_seed, selection = _setup(
        comp,
        scores,
        operators,
        region,
        circuit_map,
        method,
        neighbourhood_mm,
        exclude_local_mm,
        norm_voxels,
        seed,
        options,
    )
    n_kept = [op.sample_mask.size for op in operators]
    ones = [np.ones(k) for k in n_kept]
    dist = lambda a, b: round(float(np.linalg.norm(np.asarray(a) - b)), 1)  # noqa: E731
    out: dict = {"method": method, "target_mni": _rounded(full), "n_volumes_used": int(sum(n_kept))}
    with _one_blas_thread():
        halves = split_half_weights(ones)
        (t1, m1), (t2, m2) = (resample_target(model, h) for h in halves)
        out["split_half_distance_mm"] = dist(t1, t2)
        out["split_half"] = {
            "first_half_mni": _rounded(t1),
            "second_half_mni": _rounded(t2),
            "n_volumes": [int(sum(x.sum() for x in h)) for h in halves],
        }
        out["score_map_agreement"] = {
            k: (None if v is None else round(v, 4)) for k, v in map_agreement(m1, m2).items()
        }
        if len(operators) > 1:
            runs = [
                resample_target(model, [ones[j] * (j == i) for j in range(len(ones))])[0]
                for i in range(len(ones))
            ]
            out["run_targets_mni"] = [_rounded(t) for t in runs]
            out["run_distances_mm"] = [
                {"runs": [i, j], "distance_mm": dist(runs[i], runs[j])}
                for i in range(len(runs))
                for j in range(i + 1, len(runs))
            ]
        if n_bootstrap > 0:
            out.update(
                _bootstrap_summary(
                    model,
                    operators,
                    t_r,
                    n_bootstrap,
                    boot_seed,
                    block_length_s,
                    full,
                    level,
                    selection,
                )
            )
        curve = scan_length_curve(
            model, kept_times_s([op.sample_mask for op in operators], t_r, n_volumes), full
        )
    verdict = out.get("reliability_verdict")

    # the verdict's model at each window's usable minutes (its kept volumes' share of the
    # verdict's), or none without a region
    def model_radius(n):
        if not (verdict and n):
            return None
        return radius_at_minutes(verdict, verdict["minutes_used"] * n / out["n_volumes_used"])

    out["scan_length_curve"] = [
        {
            **r,
            "minutes": round(r["minutes"], 2),
            "target_mni": _rounded(r["target_mni"]),
            "distance_mm": round(r["distance_mm"], 1),
            "split_half_distance_mm": round(r["split_half_distance_mm"], 1),
            "held_out_distance_mm": None
            if r["held_out_distance_mm"] is None
            else round(r["held_out_distance_mm"], 1),
            "radius_95_mm": model_radius(r["n_volumes"]),
        }
        for r in curve
    ]
    out["minutes_needed"] = verdict["minutes_needed"] if verdict else None
    out["minutes_total"] = round(curve[-1]["minutes"], 2) if curve else None
    return out


def _setup(
    comp,
    scores,
    operators,
    region,
    circuit_map,
    method,
    neighbourhood_mm,
    exclude_local_mm,
    norm_voxels,
    seed,
    options=None,
):
    """Prepare the bootstrap: full-data target, resample model, seed and full-data selection.

    Returns the full-data target, the resample model, the bootstrap seed (the subset and the
    resamples get independent streams) and the full-data selection with its raw score map.
    """
    if scores is None:
        scores = compute_scores(comp, region, circuit_map, True, exclude_local_mm)
    full, raw = choose_target(method, comp, scores, neighbourhood_mm, options)
    sub_seed, boot_seed = np.random.SeedSequence(seed).spawn(2)
    model = resample_model(
        comp,
        scores,
        [op.basis for op in operators],
        region,
        circuit_map,
        method,
        neighbourhood_mm,
        exclude_local_mm,
        norm_voxels,
        sub_seed,
        options=options,
    )
    return np.asarray(full.coord_mm, float), model, boot_seed, (full, raw)


def data_split(model: ResampleModel, operators, t_r) -> dict:
    """Split the data its own way: each run alone, or halves of the kept volumes.

    With two or more runs each run is a part; otherwise the parts are the first and second half of
    the kept volumes.

    Returns ``split`` ("runs" or "halves"), each part's ``targets_mni``, usable ``minutes`` and
    ``selections``.
    """
    ones = [np.ones(op.sample_mask.size) for op in operators]
    if len(ones) > 1:
        parts, kind = (
            [[ones[j] * (j == i) for j in range(len(ones))] for i in range(len(ones))],
            "runs",
        )
    else:
        parts, kind = list(split_half_weights(ones)), "halves"
    picks = [resample_selection(model, w)[0] for w in parts]
    minutes = [sum(float(np.sum(x)) * tr for x, tr in zip(w, t_r)) / 60.0 for w in parts]
    return {
        "split": kind,
        "targets_mni": [np.asarray(p.coord_mm, float) for p in picks],
        "minutes": minutes,
        "selections": picks,
    }


def _bootstrap_summary(
    model: ResampleModel, operators, t_r, n, boot_seed, block_length_s, centre, level, full_pick
) -> dict:
    """Compute the drift-aware confidence region and the verdict.

    The bootstrap cloud's deviations, scaled by 1/√(:func:`variance_ratio`), give the within-run
    radius; the data's own split (:func:`data_split`, :func:`split_radius_mm`) gives the
    between-part radius; the 95 % radius is :func:`combined_radius_mm` of the two, capped at the
    search region's extent (:func:`reliability_verdict`). The ellipsoid's semi-axes are combined
    with the split radius the same way.
    """
    block_s = auto_block_length_s(model, t_r) if block_length_s is None else float(block_length_s)
    block_vol = [max(1, int(round(block_s / tr))) for tr in t_r]
    cloud, maps, picks = bootstrap_selections(
        model,
        [op.sample_mask.size for op in operators],
        block_vol,
        n,
        np.random.default_rng(boot_seed),
    )
    ratio = variance_ratio(operators, block_vol)
    scaled = centre + (cloud - centre) / math.sqrt(ratio)
    region = confidence_region(scaled, centre, level, column_spacing_mm(model.coords))
    split = data_split(model, operators, t_r)
    split_mm = split_radius_mm(split["targets_mni"], split["minutes"], level)
    boot_mm = region["radius_mm"]
    radius = combined_radius_mm(boot_mm, split_mm)
    region = {
        **region,
        "radius_mm": radius,
        "semi_axes_mm": np.array([combined_radius_mm(a, split_mm) for a in region["semi_axes_mm"]]),
    }
    minutes = (
        sum(op.sample_mask.size * tr for op, tr in zip(operators, t_r)) / 60.0
    )  # usable (kept) scan time
    verdict = reliability_verdict(
        round(radius, 1),
        minutes,
        level,
        n_resamples=int(n),
        extent_mm=search_extent_mm(model.coords, centre),
        n_runs=len(operators),
        far_share=float(np.mean(np.linalg.norm(cloud - centre, axis=1) > 2 * RELIABLE_RADIUS_MM)),
        uncalibrated_method=None if get_method(model.method).region_calibrated else model.method,
    )
    pts = split["targets_mni"]
    stimulation = _stimulation(model, centre, full_pick, scaled, maps, picks, split, ratio, level)
    if stimulation is not None:
        verdict = {
            **verdict,
            "stimulation": stimulation["share"],
            "text": f"{verdict['text']}; {stimulation['share']['text']}",
        }
    return {
        "confidence_level": level,
        "confidence_radius_mm": verdict[
            "radius_mm"
        ],  # capped at the search region's extent (verdict["spans_search_region"])
        "reliability_verdict": verdict,
        "confidence_ellipsoid": _region_json(region),
        "drift": {
            "split": split["split"],
            "targets_mni": [_rounded(t) for t in pts],
            "minutes": _rounded(split["minutes"], 2),
            "distances_mm": [
                round(float(np.linalg.norm(pts[i] - pts[j])), 1)
                for i in range(len(pts))
                for j in range(i + 1, len(pts))
            ],
            "radius_mm": round(split_mm, 1),
            "bootstrap_radius_mm": round(boot_mm, 1),
        },
        "bootstrap": {
            "n_resamples": int(n),
            "block_length_s": round(block_s, 1),
            "block_length_volumes": block_vol,
            "variance_ratio": round(ratio, 4),
            "deviation_scale": round(1 / math.sqrt(ratio), 4),
            "norm_voxels": model.z_sub.shape[1] or None,
            "n_circuit_voxels": model.n_circuit,
            "targets_mni": [_rounded(t) for t in cloud],
        },
        **(
            {"coil_centre": stimulation["coil_centre"]}
            if stimulation and stimulation.get("coil_centre")
            else {}
        ),
    }


def _stimulation(
    model: ResampleModel, centre, full_pick, cloud, maps, picks, split, ratio, level
) -> dict | None:
    """Return the stimulation share the plan keeps across the resamples.

    For a placement method, also return its coil centre's region.
    """
    from ...coil.landscape import landscape_for
    from .stimulation import coil_centre_region, plan_placement_index, stimulation_share

    if len(picks) < 2:
        return None
    method = get_method(model.method)
    full_selection, raw = full_pick
    if method.places_coil:  # its own landscape, with its own placement error
        land = full_selection.placement["landscape"]
    else:  # the default placement error (a method without a placement has no placement options)
        land = landscape_for(
            model.coords, model.grid.geometry.areas(np.arange(model.coords.shape[0]))
        )
    plan = plan_placement_index(land, centre, full_selection)
    out = {"share": stimulation_share(land, plan, raw, cloud, centre, maps=maps)}
    if method.places_coil:
        out["coil_centre"] = {
            **coil_centre_region(
                land,
                plan,
                np.array([p.placement["index"] for p in picks]),
                [p.placement["index"] for p in split["selections"]],
                split["minutes"],
                ratio,
                level,
            ),
            "region_calibrated": method.region_calibrated,
        }
    return out


def bootstrap_confidence(
    prepared,
    options,
    n: int = N_BOOTSTRAP,
    seed: int = 0,
    *,
    components: Components | None = None,
    scores: Scores | None = None,
    block_length_s: float | None = None,
    norm_voxels: int | None = NORM_VOXELS,
) -> dict:
    """Compute the bootstrap confidence region and reliability verdict of a targeting run.

    ``tmstarget target`` computes this by default.

    Parameters
    ----------
    prepared : tmstarget.targeting.prepare.Prepared
        Output of :func:`tmstarget.targeting.prepare.prepare`.
    options : tmstarget.targeting.result.TargetingOptions
    n, seed : int
        Resamples and seed.
    components, scores : optional
        The run's full-data components and scores, to avoid recomputing them.

    Returns
    -------
    dict
        ``confidence_radius_mm``, ``confidence_level``, ``reliability_verdict``
        (:func:`reliability_verdict`, from the kept scan minutes), ``confidence_ellipsoid`` and
        ``bootstrap`` (settings, ``seed`` and the point cloud ``targets_mni``), JSON-ready.
    """
    comp = components if components is not None else components_from(prepared)
    full, model, boot_seed, selection = _setup(
        comp,
        scores,
        prepared.operators,
        prepared.region,
        prepared.circuit_map,
        options.method,
        options.neighbourhood_mm,
        options.exclude_local_mm,
        norm_voxels,
        seed,
        options,
    )
    with _one_blas_thread():
        out = _bootstrap_summary(
            model,
            prepared.operators,
            [info.t_r for info in prepared.infos],
            n,
            boot_seed,
            block_length_s,
            full,
            CONFIDENCE,
            selection,
        )
    out["bootstrap"]["seed"] = seed
    return out
