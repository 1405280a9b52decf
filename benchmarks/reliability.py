"""Target reliability on simulated participants: coverage, split halves, scan length and cost.

(a) ``coverage``: simulated participants with planted targets (in memory, as
    ``tmstarget.simulate.evaluate`` does: the same cleaning and targeting code as ``tmstarget
    target``, without writing BOLD files). For each,
    ``tmstarget.targeting.uncertainty.participant_reliability`` with 200 block-bootstrap resamples;
    reports how often the 95% sphere (``confidence_radius_mm`` around the target) and the 95%
    ellipsoid contain the planted target, and the split-half distance against the minutes of data
    used.
(b) ``cost``: on a 91x109x91 x 600-volume 2 mm BOLD (the file ``benchmarks/targeting.py``
    simulates), the wall time of ``bootstrap_confidence`` with 200 resamples divided by the wall
    time of one targeting run (``compute_target``: reading, cleaning, scoring, selecting); also the
    error of the circuit-voxel subset (``--norm-voxels``) against exact re-normalisation, for the
    similarity method.

    # ~30 min at 2 mm
    python benchmarks/reliability.py coverage [--cases 50] [--workers 2] [--voxel-mm 2]
    # ~3 min
    python benchmarks/reliability.py cost

Results go to ``--out`` (default benchmarks/out): reliability_coverage.csv and printed summaries.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np

#: Sensitivity analysis: coverage also with this fixed bootstrap block length (s).
FIXED_BLOCK_S = 30.0


def simulate_case(seed: int, minutes: float = 10.0, t_r: float = 2.0, voxel_mm: int = 2):
    """One simulated session in memory: ``(components, operators, region, planted target)``."""
    from tmstarget.io.confounds import load_run_confounds
    from tmstarget.simulate.dataset import _snap_to_region, confounds_table
    from tmstarget.simulate.model import (
        GROUP_TARGET_MNI,
        Anatomy,
        SimulationParams,
        anatomy,
        simulate_participant,
    )
    from tmstarget.targeting import finalize_components
    from tmstarget.targeting.cleaning import run_operator
    from tmstarget.targeting.regions import dlpfc_search_mask

    rng = np.random.default_rng(seed)
    anat = anatomy("brain")
    if voxel_mm != 2:  # every k-th voxel of the 2 mm grid: a coarser grid, for quick runs
        k, sl = voxel_mm // 2, (slice(None, None, voxel_mm // 2),) * 3
        aff = anat.affine.copy()
        aff[:3, :3] *= k
        ijk = np.column_stack(
            np.unravel_index(
                np.flatnonzero(anat.brain[sl].ravel(order="F")), anat.brain[sl].shape, order="F"
            )
        )
        anat = Anatomy(
            aff,
            anat.brain[sl].shape,
            anat.brain[sl],
            anat.gm[sl],
            anat.wm[sl],
            anat.csf[sl],
            (ijk @ aff[:3, :3].T + aff[:3, 3]).astype(np.float32),
        )
    region = dlpfc_search_mask(anat.brain, anat.affine)
    region_xyz = np.argwhere(region) @ anat.affine[:3, :3].T + anat.affine[:3, 3]
    shift, direction = float(rng.uniform(4.0, 15.0)), rng.standard_normal(3)
    target = _snap_to_region(
        np.asarray(GROUP_TARGET_MNI) + shift * direction / np.linalg.norm(direction), region_xyz
    )
    n = int(round(minutes * 60 / t_r))
    bold, motion = simulate_participant(
        rng, anat, target, replace(SimulationParams(), n_volumes=n, t_r=t_r), n_runs=1
    )[0]
    flat = np.flatnonzero(anat.brain.ravel(order="F"))
    flat_bold = bold.reshape(-1, n, order="F")
    tissue = {
        "global": flat,
        "white_matter": np.flatnonzero(anat.wm.ravel(order="F")),
        "csf": np.flatnonzero(anat.csf.ravel(order="F")),
    }
    with tempfile.TemporaryDirectory() as tmp:
        tsv = Path(tmp) / "confounds.tsv"
        confounds_table(flat_bold, motion, tissue).to_csv(tsv, sep="\t", index=False, na_rep="n/a")
        conf = load_run_confounds(tsv, n)
    op = run_operator(n, t_r, conf.confounds, conf.sample_mask)
    comp = finalize_components(
        [op.projector @ np.ascontiguousarray(flat_bold[flat].T)], anat.brain, anat.affine, 6.0
    )
    return comp, [op], region, np.asarray(target, float)


def _case(args) -> dict:
    seed, minutes, n_bootstrap, voxel_mm, method = args
    from threadpoolctl import threadpool_limits

    from tmstarget.targeting import NEIGHBOURHOOD_MM
    from tmstarget.targeting.uncertainty import (
        NORM_VOXELS,
        confidence_region,
        minutes_needed,
        participant_reliability,
        region_contains,
    )
    from tmstarget.targeting.uncertainty.participant import _bootstrap_summary, _setup

    with threadpool_limits(1):
        t0 = time.perf_counter()
        comp, ops, region, planted = simulate_case(seed, minutes, voxel_mm=voxel_mm)
        t1 = time.perf_counter()
        res = participant_reliability(
            comp,
            ops,
            [2.0],
            [int(round(minutes * 30))],
            region,
            method=method,
            n_bootstrap=n_bootstrap,
            seed=seed,
        )
        # sensitivity: the same resamples' model with a fixed block length
        full_mm, model, boot_seed = _setup(
            comp, None, ops, region, None, method, NEIGHBOURHOOD_MM, 10.0, NORM_VOXELS, seed
        )
        fixed = _bootstrap_summary(
            model, ops, [2.0], n_bootstrap, boot_seed, FIXED_BLOCK_S, full_mm, 0.95
        )
    full = np.array(res["target_mni"])
    reported = lambda r: {**r["confidence_ellipsoid"], "radius_mm": r["confidence_radius_mm"]}  # noqa: E731 - the region as written
    in_sphere, in_ellipsoid = region_contains(reported(res), planted)
    fixed_in = region_contains(reported(fixed), planted)
    raw = confidence_region(
        np.array(res["bootstrap"]["targets_mni"]), full, 0.95, float(voxel_mm)
    )  # without the variance correction
    raw_in = region_contains(raw, planted)
    row = {
        "seed": seed,
        "method": method,
        "error_mm": float(np.linalg.norm(full - planted)),
        "radius_mm": res["confidence_radius_mm"],
        "in_sphere": in_sphere,
        "in_ellipsoid": in_ellipsoid,
        "block_length_s": res["bootstrap"]["block_length_s"],
        "variance_ratio": res["bootstrap"]["variance_ratio"],
        "raw_radius_mm": round(raw["radius_mm"], 1),
        "raw_in_sphere": raw_in[0],
        "raw_in_ellipsoid": raw_in[1],
        "fixed_radius_mm": fixed["confidence_radius_mm"],
        "fixed_in_sphere": fixed_in[0],
        "fixed_in_ellipsoid": fixed_in[1],
        "split_half_mm": res["split_half_distance_mm"],
        "spatial_correlation": res["score_map_agreement"]["spatial_correlation"],
        "icc": res["score_map_agreement"]["icc"],
        "minutes_for_3mm": minutes_needed(
            res["scan_length_curve"]
        ),  # convergence, not in the JSON since issue 25
        "curve": json.dumps(
            {round(r["minutes"]): r["split_half_distance_mm"] for r in res["scan_length_curve"]}
        ),
        "simulate_s": round(t1 - t0, 1),
        "reliability_s": round(time.perf_counter() - t1, 1),
    }
    print(
        f"  case {seed}: error {row['error_mm']:.1f} mm, "
        f"radius {row['radius_mm']} mm, covered {in_sphere}/{in_ellipsoid}, "
        f"split half {row['split_half_mm']} mm [{row['simulate_s']} + {row['reliability_s']} s]",
        flush=True,
    )
    return row


def coverage(args) -> None:
    """Coverage of the planted target by the bootstrap regions, split halves against scan length."""
    import pandas as pd

    jobs = [
        (s, args.minutes, args.n_bootstrap, args.voxel_mm, args.method)
        for s in range(args.first, args.first + args.cases)
    ]
    print(
        f"coverage: {args.cases} simulated participants, "
        f"{args.minutes:g} min at TR 2 s, {args.voxel_mm} "
        f"mm, method {args.method}, "
        f"{args.n_bootstrap} resamples, {args.workers} worker(s)",
        flush=True,
    )
    t0 = time.perf_counter()
    if args.workers > 1:
        with ProcessPoolExecutor(args.workers) as pool:
            rows = list(pool.map(_case, jobs))
    else:
        rows = [_case(j) for j in jobs]
    df = pd.DataFrame(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    cases = f"{args.first}-{args.first + args.cases - 1}"
    df.to_csv(
        args.out / f"reliability_coverage_{args.method}_{args.voxel_mm}mm_{cases}.csv", index=False
    )
    n = len(df)
    for col, name in (
        ("in_sphere", "sphere (confidence_radius_mm)"),
        ("in_ellipsoid", "ellipsoid"),
        ("raw_in_sphere", "sphere without the variance correction"),
        ("raw_in_ellipsoid", "ellipsoid without the variance correction"),
        ("fixed_in_sphere", f"sphere, blocks of {FIXED_BLOCK_S:g} s"),
        ("fixed_in_ellipsoid", f"ellipsoid, blocks of {FIXED_BLOCK_S:g} s"),
    ):
        k = int(df[col].sum())
        se = np.sqrt(k / n * (1 - k / n) / n)
        print(
            f"nominal 95% — measured {name}: {100 * k / n:.1f}% "
            f"({k}/{n}, ±{196 * se:.1f} points at 95%)"
        )
    print(
        f"median error to planted {df.error_mm.median():.1f} "
        f"mm; median radius {df.radius_mm.median():.1f} "
        "mm "
        f"({df.fixed_radius_mm.median():.1f} mm with {FIXED_BLOCK_S:g} s blocks); "
        f"median block {df.block_length_s.median():.1f} "
        f"s, median variance ratio {df.variance_ratio.median():.2f}"
    )
    curves = pd.DataFrame(
        [{int(k): v for k, v in json.loads(c).items()} for c in df.curve]
    ).sort_index(axis=1)
    print(
        "split-half distance (mm) against minutes of data used: "
        + ", ".join(
            f"{m} min: median {curves[m].median():.1f} / mean {curves[m].mean():.1f}"
            for m in curves.columns
            if int(m) % 2 == 0
        )
    )
    print(
        f"median split-half spatial correlation {df.spatial_correlation.median():.2f}, "
        f"ICC {df.icc.median():.2f}; "
        f"minutes for 3 mm: median {df.minutes_for_3mm.median():.0f} "
        f"({time.perf_counter() - t0:.0f} s)"
    )


def cost(args) -> None:
    """Wall time of 200 resamples / one targeting run on a 600-volume 2 mm BOLD; subset error."""
    from threadpoolctl import threadpool_limits

    from tmstarget.io.bids import find_runs
    from tmstarget.targeting import (
        TargetingOptions,
        components_from,
        compute_scores,
        compute_target,
        get_method,
    )
    from tmstarget.targeting.circuits import resolve_circuit
    from tmstarget.targeting.prepare import prepare
    from tmstarget.targeting.uncertainty import (
        bootstrap_confidence,
        circular_block_bootstrap,
        resample_model,
        resample_scores,
    )

    src = args.out / "fmriprep-full-600"
    if not (src / "sub-01").is_dir():
        from tmstarget.simulate import SimulationParams, simulate_dataset

        print(f"simulating {src} (one time, as benchmarks/targeting.py) ...", flush=True)
        simulate_dataset(src, 1, 1, 1, SimulationParams(n_volumes=600, t_r=0.8, fov="full"), seed=3)
    runs = find_runs(src, "01")
    for method in args.methods:
        options = TargetingOptions(method=method)
        target_s = []
        for _ in range(
            2
        ):  # the second run reads from a warm page cache, as the bootstrap's input does
            t0 = time.perf_counter()
            compute_target(runs, options)
            target_s.append(time.perf_counter() - t0)
        prep = prepare(runs, options, resolve_circuit(options.circuit))
        t0 = time.perf_counter()
        conf = bootstrap_confidence(prep, options, 200, seed=0)
        boot_s = time.perf_counter() - t0
        comp = components_from(prep)
        scores = compute_scores(
            comp,
            prep.region,
            prep.circuit_map,
            get_method(method).needs_similarity,
            options.exclude_local_mm,
        )
        t0 = time.perf_counter()
        again = bootstrap_confidence(prep, options, 200, seed=0, components=comp, scores=scores)
        reuse_s = time.perf_counter() - t0
        assert again["confidence_radius_mm"] == conf["confidence_radius_mm"]
        print(
            f"{method}: one targeting run {min(target_s):.1f} "
            f"s (cold {target_s[0]:.1f} s); 200 resamples "
            f"{boot_s:.1f} s "
            f"-> ratio {boot_s / min(target_s):.2f} ({reuse_s:.1f} "
            f"s, ratio {reuse_s / min(target_s):.2f}, given "
            "the run's components "
            f"and scores); confidence radius {conf['confidence_radius_mm']} "
            f"mm, block {conf['bootstrap']['block_length_s']} "
            "s, "
            f"r = {sum(op.rank for op in prep.operators)}",
            flush=True,
        )
        if not get_method(
            method
        ).needs_similarity:  # the circuit-voxel subset only matters for the similarity
            continue
        bases = [op.basis for op in prep.operators]
        exact = resample_model(
            comp, scores, bases, prep.region, prep.circuit_map, method, norm_voxels=None
        )
        weights = circular_block_bootstrap(
            [op.sample_mask.size for op in prep.operators],
            [25],
            args.check,
            np.random.default_rng(1),
        )
        with threadpool_limits(1):
            t0 = time.perf_counter()
            ref = [resample_scores(exact, w)[0].similarity for w in weights]
            exact_s = (time.perf_counter() - t0) / len(weights)
        spread = np.nanmedian(np.nanstd(np.array(ref), axis=0))
        print(
            f"  exact re-normalisation of all {exact.n_circuit} "
            f"circuit voxels: {exact_s:.2f} s per resample; "
            f"resampling SD of the similarity: median {spread:.3f}",
            flush=True,
        )
        for n_sub in (10_000, 20_000):
            sub = resample_model(
                comp, scores, bases, prep.region, prep.circuit_map, method, norm_voxels=n_sub
            )
            with threadpool_limits(1):
                got = [resample_scores(sub, w)[0] for w in weights]
            errs = [np.nanmax(np.abs(r - g.similarity)) for r, g in zip(ref, got)]
            moved = [
                np.linalg.norm(g.coords[np.nanargmax(g.similarity)] - g.coords[np.nanargmax(r)])
                for r, g in zip(ref, got)
            ]
            print(
                f"  subset of {n_sub}: max |similarity error| "
                f"over {len(weights)} resamples {max(errs):.2e} "
                f"(median {np.median(errs):.2e}); "
                f"similarity peak moved in {sum(m > 0 for m in moved)} "
                f"of {len(moved)} resamples (max {max(moved):.1f} "
                "mm)",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("what", choices=["coverage", "cost", "all"])
    parser.add_argument("--cases", type=int, default=50)
    parser.add_argument("--first", type=int, default=0, help="first case seed")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--n-bootstrap", type=int, default=200)
    parser.add_argument("--voxel-mm", type=int, default=2, choices=[2, 4])
    parser.add_argument("--method", default="robust")
    parser.add_argument(
        "--methods", nargs="+", default=["robust", "similarity"], help="methods timed by 'cost'"
    )
    parser.add_argument(
        "--check", type=int, default=20, help="resamples for the subset-error check"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out")
    args = parser.parse_args()
    if args.what in ("coverage", "all"):
        coverage(args)
    if args.what in ("cost", "all"):
        cost(args)


if __name__ == "__main__":
    main()
