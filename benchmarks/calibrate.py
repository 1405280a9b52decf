"""Calibrating the simulator to real data: the same measures on a real run and on simulated ones.

Real data: the brainspace 0.3.0 tutorial run that ``realdata.py`` fetches (fsaverage5, 652 volumes,
TR 1.4 s, 29 confounds; its functions are imported, nothing is committed). Each 326-volume half has
its 29 confounds regressed (``realdata.regress``), then the tool's own cleaning runs on it as
``tmstarget target --space fsaverage5 --confounds-strategy none --fd-threshold none`` does: linear
detrend, 0.01-0.1 Hz Butterworth band-pass, 6 mm smoothing on the mesh. Simulated participants
(:func:`tmstarget.simulate.surface.simulate_surface_runs`, one 652-volume run at TR 1.4 s cut into
the same halves) have their own fMRIPrep-style confounds regressed (24 motion parameters + WM + CSF,
the tool's default strategy, no censoring) and then the same cleaning.

Measures (per half, then averaged over halves unless said otherwise):

- ``ac1_raw`` / ``slope_raw``: lag-1 autocorrelation and log-log spectral slope (Welch, 0.01-0.25
  Hz) of the confound-regressed, detrended cortical series before band-pass; ``ac1_clean``: lag-1
  autocorrelation of the cleaned (band-passed) series — median over cortical vertices;
- ``tsnr_raw``: median temporal SNR (mean / SD) of the raw series (n/a when the data are demeaned);
- ``fwhm_mm``: smoothness of the cleaned, unsmoothed series: for every mesh edge of length d and
  time-series correlation ρ, FWHM = d √(2 ln 2 / −ln ρ) (a Gaussian-smoothed white-noise field);
  median over edges;
- ``seed_mean`` / ``seed_sd`` / ``seed_p05`` / ``seed_p95``: the sgACC seed map (correlation of each
  vertex with the mean of the sgACC seed, after smoothing) over the left-DLPFC search region;
- ``seed_acl_mm``: spatial autocorrelation length of that seed map: the distance at which the
  correlation of seed-map values between pairs of search vertices falls to 0.5 (linear interpolation
  of a correlogram);
- ``group_r``: spatial correlation over the search region of the individual map (−seed map) with the
  group circuit map (real: the convergent depression circuit; simulated: the simulator's group
  circuit map);
- ``dist_<circuit>`` / ``score_r_<circuit>``: split-half distance of the default (``robust``) target
  and spatial correlation of the two halves' score maps over the search region, for ``sgacc`` and
  the group map;
- seed-map variance, on Fisher-z seed maps z₁, z₂ of the halves over the search region:
  ``var_total`` = mean over halves of the spatial variance of zₕ; ``var_noise`` = var(z₁ − z₂) / 2,
  the spatial variance a single half's map owes to noise; ``var_signal`` = ``var_total`` −
  ``var_noise`` (the reproducible part); ``seed_reliability`` = ``var_signal`` / ``var_total``.

    python benchmarks/calibrate.py [--participants 10] [--preset calibrated] [--real-only]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import realdata  # benchmarks/realdata.py (this folder is on sys.path when the script runs)

from tmstarget.simulate.calibration import (
    autocorrelation_length,
    edge_fwhm,
    lag1_autocorrelation,
    mesh_edges,
    seed_map_variance,
)

T_R = realdata.T_R
HALF = 326
FWHM_MM = 6.0  # tmstarget target's default smoothing


@dataclass
class Context:
    """fsaverage5 geometry, search region, sgACC seed and mesh edges, shared by all measurements."""

    geometry: object
    region: np.ndarray
    seed: np.ndarray
    edges: np.ndarray
    edge_mm: np.ndarray
    usable: np.ndarray
    geodesic: np.ndarray  # (N_region, N_region) mesh distances (mm) between search-region columns


def _region_geodesic(grays, region: np.ndarray) -> np.ndarray:
    from scipy.sparse.csgraph import dijkstra

    from tmstarget.surface.mesh import edge_graph

    idx, faces = grays.parts[0]  # the left hemisphere, where the search region is
    cols = np.flatnonzero(region)
    dist = dijkstra(edge_graph(grays.coords[idx], faces), directed=False, indices=cols - idx[0])
    return dist[:, cols - idx[0]]


def context() -> Context:
    from tmstarget.surface.geometry import template_grayordinates
    from tmstarget.surface.mesh import load_template
    from tmstarget.targeting.geometry import SurfaceGeometry
    from tmstarget.targeting.surface_maps import dlpfc_search_region, sgacc_seed

    grays = template_grayordinates("fsaverage5")
    meshes = load_template("fsaverage5")
    edges, edge_mm = mesh_edges(grays)
    region = dlpfc_search_region(grays)
    return Context(
        SurfaceGeometry(grays, meshes),
        region,
        sgacc_seed(grays),
        edges,
        edge_mm,
        grays.usable,
        _region_geodesic(grays, region),
    )


def group_map_values(ctx: Context, path: Path) -> np.ndarray:
    """Return a volumetric group circuit map on the fsaverage5 columns.

    The map is sampled on the columns as ``tmstarget target --circuit PATH`` samples it.
    """
    from tmstarget.targeting.surface_maps import circuit_values

    return circuit_values(path, ctx.geometry.grayordinates, ctx.geometry.meshes)


def simulated_group_map(ctx: Context) -> np.ndarray:
    """Return the simulator's group circuit map on the fsaverage5 columns.

    The map is drawn as evaluate.py draws it.
    """
    from tmstarget.io.derivatives import write_nifti_atomic
    from tmstarget.simulate.model import MNI2_AFFINE, group_circuit_map

    with tempfile.TemporaryDirectory() as tmp:
        path = write_nifti_atomic(
            Path(tmp) / "circuit.nii.gz",
            group_circuit_map(np.random.default_rng(10_000)),
            MNI2_AFFINE,
        )
        return group_map_values(ctx, path)


def temporal(x: np.ndarray, cols: np.ndarray) -> dict:
    """Lag-1 autocorrelation and spectral slope of detrended series (T, N) at columns ``cols``."""
    from scipy.signal import detrend, welch

    y = detrend(x[:, cols], axis=0)
    f, pxx = welch(y, fs=1 / T_R, nperseg=128, axis=0)
    band = (f >= 0.01) & (f <= 0.25)
    slope = np.polyfit(np.log10(f[band]), np.log10(np.median(pxx[band], axis=1)), 1)[0]
    return {"ac1_raw": float(np.median(lag1_autocorrelation(y))), "slope_raw": float(slope)}


def half_components(x: np.ndarray, ctx: Context):
    """Return the cleaning operator, cleaned series and smoothed components of one half (T, N).

    The cleaned series is unsmoothed.
    """
    from tmstarget.targeting.cleaning import run_operator
    from tmstarget.targeting.components import finalize_components

    n = x.shape[0]
    op = run_operator(n, T_R, None, np.arange(n))
    block = op.projector @ x.astype(np.float32)
    cleaned = op.basis @ block
    variable = x.std(axis=0) > 0
    comp = finalize_components(
        [ctx.geometry.smooth(block, FWHM_MM)],
        np.ones((x.shape[1], 1, 1), bool),
        np.eye(4),
        variable=variable,
        geometry=ctx.geometry,
    )
    comp.valid &= ctx.usable
    return cleaned, comp


def measure(
    halves: list[np.ndarray], ctx: Context, group_map: np.ndarray, raw_tsnr: float | None
) -> dict:
    """Compute every measure of the module notes for one participant.

    The input is the participant's two confound-regressed halves (T, N).
    """
    from tmstarget.targeting.scores import compute_scores
    from tmstarget.targeting.selection import choose_target

    out: dict = {"tsnr_raw": raw_tsnr}
    per_half, seeds, picks = [], [], {"sgacc": [], "group": []}
    for x in halves:
        cols = np.flatnonzero(ctx.usable & (x.std(axis=0) > 0))
        cleaned, comp = half_components(x, ctx)
        m = temporal(x, cols[:: max(1, cols.size // 4000)])
        m["ac1_clean"] = float(np.median(lag1_autocorrelation(cleaned[:, cols])))
        m["fwhm_mm"] = edge_fwhm(cleaned, ctx.edges, ctx.edge_mm)
        for name, cmap in (("sgacc", None), ("group", group_map)):
            scores = compute_scores(comp, ctx.region, cmap, need_similarity=False)
            sel, _ = choose_target("robust", comp, scores)
            picks[name].append((sel.coord_mm, sel.selection_map, scores))
        s = picks["sgacc"][-1][2]
        seed = -s.seed  # correlation with the sgACC seed
        pos = np.searchsorted(np.flatnonzero(ctx.region), s.search_idx)
        m.update(
            seed_mean=float(seed.mean()),
            seed_sd=float(seed.std()),
            seed_p05=float(np.percentile(seed, 5)),
            seed_p95=float(np.percentile(seed, 95)),
            seed_acl_mm=autocorrelation_length(seed, ctx.geodesic[np.ix_(pos, pos)]),
        )
        g = group_map[s.search_idx]
        ok = np.isfinite(g)
        m["group_r"] = float(np.corrcoef(s.seed[ok], g[ok])[0, 1])
        seeds.append(seed)
        per_half.append(m)
    for key in per_half[0]:
        out[key] = float(np.mean([m[key] for m in per_half]))
    for name, ((a, ma, sa), (b, mb, sb)) in picks.items():
        out[f"dist_{name}"] = float(np.linalg.norm(a - b))
        common, ia, ib = np.intersect1d(sa.search_idx, sb.search_idx, return_indices=True)
        out[f"score_r_{name}"] = float(np.corrcoef(ma[ia], mb[ib])[0, 1])
    variance = seed_map_variance(*seeds)
    out.update(
        var_total=variance["var_total"],
        var_noise=variance["var_noise"],
        var_signal=variance["var_signal"],
        seed_reliability=variance["reliability"],
    )
    return out


def real_measures(ctx: Context, cache: Path) -> dict:
    """Return the measures on the real run.

    Its 29 confounds are regressed within each half, as realdata.py does.
    """
    lh, rh, confounds = realdata.load_run(realdata.fetch_wheel(cache))
    x = np.vstack([lh, rh])
    halves = [
        realdata.regress(x[:, s], confounds[s]).T for s in (slice(0, HALF), slice(HALF, 2 * HALF))
    ]
    cmap = (
        group_map_values(ctx, realdata.SHARED_CIRCUIT)
        if realdata.SHARED_CIRCUIT.is_file()
        else None
    )
    if cmap is None:
        sys.exit(
            "calibrate: the convergent circuit map is not "
            "at ../shared/data/circuits — cannot compare "
            "with the group map"
        )
    demeaned = np.abs(x.mean(axis=1)).max() < 1e-3 * x.std()
    return measure(
        halves,
        ctx,
        cmap,
        None if demeaned else float(np.median(x.mean(1) / np.maximum(x.std(1), 1e-12))),
    )


def _regress_confounds(x: np.ndarray, table) -> np.ndarray:
    """Regress the tool's default confounds of a simulated run out of x (T, N).

    The default confounds are 24 motion parameters + WM + CSF.
    """
    from tmstarget.io.confounds import load_run_confounds

    with tempfile.TemporaryDirectory() as tmp:
        tsv = Path(tmp) / "confounds.tsv"
        table.to_csv(tsv, sep="\t", index=False, na_rep="n/a")
        conf = load_run_confounds(tsv, len(table), fd_threshold_mm=None)
    return realdata.regress(x.T, conf.confounds).T


def simulated_measures(
    seed: int, params, ctx: Context, group_map: np.ndarray
) -> tuple[dict, float]:
    """Return the measures on one simulated participant, and the seconds taken.

    The participant has one 652-volume run, cut into halves.
    """
    from tmstarget.simulate.surface import planted_vertex, simulate_surface_runs

    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    _, target = planted_vertex(rng, params.shift_mm)
    p = replace(params, n_volumes=2 * HALF, t_r=T_R)
    data, table = simulate_surface_runs(rng, target, p, 1)[0]
    seconds = time.perf_counter() - t0
    data = data.astype(np.float64)
    cortex = np.flatnonzero(ctx.usable & (data.std(axis=0) > 0))
    tsnr = float(np.median(data[:, cortex].mean(0) / data[:, cortex].std(0)))
    halves = [
        _regress_confounds(data[s], table.iloc[s]) for s in (slice(0, HALF), slice(HALF, 2 * HALF))
    ]
    return measure(halves, ctx, group_map, tsnr), seconds


ROWS = [  # (key, label, format)
    ("dist_sgacc", "split-half target distance, sgACC circuit, robust (mm)", "{:.1f}"),
    ("dist_group", "split-half target distance, group circuit map, robust (mm)", "{:.1f}"),
    ("score_r_sgacc", "score-map r between halves, sgACC", "{:.2f}"),
    ("score_r_group", "score-map r between halves, group map", "{:.2f}"),
    ("var_total", "seed-map variance (Fisher z², search region): total", "{:.4f}"),
    ("var_noise", "seed-map variance: noise (var(z1 − z2) / 2)", "{:.4f}"),
    ("var_signal", "seed-map variance: reproducible (total − noise)", "{:.4f}"),
    ("seed_reliability", "seed-map reliability (reproducible / total)", "{:.2f}"),
    ("seed_mean", "sgACC seed r in the search region: mean", "{:.3f}"),
    ("seed_sd", "sgACC seed r in the search region: SD", "{:.3f}"),
    ("seed_p05", "sgACC seed r: 5th percentile", "{:.3f}"),
    ("seed_p95", "sgACC seed r: 95th percentile", "{:.3f}"),
    ("seed_acl_mm", "seed-map autocorrelation length (mm, along the mesh)", "{:.1f}"),
    ("group_r", "individual map (−seed r) vs group circuit map, spatial r", "{:.2f}"),
    ("ac1_clean", "lag-1 autocorrelation, cleaned (band-passed) series", "{:.3f}"),
    ("ac1_raw", "lag-1 autocorrelation, confound-regressed series (no band-pass)", "{:.3f}"),
    ("slope_raw", "spectral slope (log-log, 0.01–0.25 Hz), no band-pass", "{:.2f}"),
    ("fwhm_mm", "smoothness of the cleaned series, unsmoothed (FWHM mm, mesh edges)", "{:.1f}"),
    ("tsnr_raw", "tSNR of the raw series (median)", "{:.0f}"),
]


def _worker(seed: int, preset: str) -> tuple[dict, float]:
    from tmstarget.simulate.model import CALIBRATED, SimulationParams

    params = CALIBRATED if preset == "calibrated" else SimulationParams()
    ctx = _worker_context()
    return simulated_measures(seed, params, ctx, simulated_group_map(ctx))


_CTX: list = []


def _worker_context() -> Context:
    if not _CTX:
        _CTX.append(context())
    return _CTX[0]


def table(real: dict, sims: list[dict]) -> str:
    """Markdown table: measure, simulated mean ± SD (n), real."""
    lines = [f"| measure | simulated, mean ± SD (n = {len(sims)}) | real run |", "|---|---:|---:|"]
    for key, label, fmt in ROWS:
        vals = np.array(
            [s[key] for s in sims if s.get(key) is not None and np.isfinite(s[key])], float
        )
        sim = (
            f"{fmt.format(vals.mean())} ± {fmt.format(vals.std(ddof=1))}"
            if vals.size > 1
            else (fmt.format(vals[0]) if vals.size else "n/a")
        )
        r = real.get(key)
        lines.append(f"| {label} | {sim} | {'n/a' if r is None else fmt.format(r)} |")
    return "\n".join(lines)


def main() -> int:
    from concurrent.futures import ProcessPoolExecutor

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=realdata.default_cache())
    parser.add_argument("--participants", type=int, default=10)
    parser.add_argument("--preset", choices=["calibrated", "default"], default="calibrated")
    parser.add_argument(
        "--seed",
        type=int,
        default=100,
        help="first participant's seed (participants use seed, seed+1, ...)",
    )
    parser.add_argument("--jobs", type=int, default=1, help="participants simulated in parallel")
    parser.add_argument("--real-only", action="store_true")
    parser.add_argument(
        "--out", type=Path, help="also write the real and simulated measures here (JSON)"
    )
    args = parser.parse_args()

    ctx = context()
    real = real_measures(ctx, args.cache)
    print("real", json.dumps(real), flush=True)
    sims, seconds = [], []
    if not args.real_only:
        seeds = range(args.seed, args.seed + args.participants)
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            for seed, (m, s) in zip(seeds, pool.map(_worker, seeds, [args.preset] * len(seeds))):
                print(f"simulated seed {seed} ({s:.0f} s to simulate)", json.dumps(m), flush=True)
                sims.append(m)
                seconds.append(s)
        print(
            "\nsimulating one participant (652 volumes, fsaverage5): "
            f"{np.mean(seconds):.0f} ± {np.std(seconds):.0f} "
            "s"
        )
    if args.out:
        args.out.write_text(
            json.dumps(
                {"real": real, "simulated": sims, "preset": args.preset, "seconds": seconds},
                indent=1,
            )
        )
    if sims:
        print(f"\npreset '{args.preset}', 326 + 326 volumes at TR {T_R} s, same cleaning:\n")
        print(table(real, sims))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
