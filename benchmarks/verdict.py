"""Calibrating the drift-aware 95% region and the verdict on simulated participants.

Issue 25, part 4; the participants come from the calibrated simulator.

For each participant (seeds ``--first`` … ``--first + N − 1``) two sessions of the ``CALIBRATED``
simulator (same planted node and deviation field, new noise and motion), cut to their first
``--minutes`` (default 5 and 10), both circuits (``sgacc`` and the simulator's group map),
``robust`` (the default method). Per session and length, ``participant_reliability`` (the code of
``tmstarget reliability``/``target --bootstrap``) gives the target, the within-run bootstrap cloud
(``--n-bootstrap`` resamples) and the split-half targets; this script stores the raw parts so that
every combination rule is scored on the same sessions:

- ``boot_mm``: the bootstrap-only 95% radius (the cloud's deviations × ``deviation_scale``, as
  before issue 25);
- ``half_mm``: the split-half distance of the session's own data (first vs second half of the kept
  volumes);
- ``extent_mm``: the largest distance from the target to a search-region voxel;
- the session's target, the other session's target, and the noise-free optimum
  (``study.individual_optimum``).

    # rows to benchmarks/out/verdict/rows-<seed>.json
    nice python benchmarks/verdict.py --participants 20
    # coverage of each rule from the stored rows
    python benchmarks/verdict.py --summarise-only
    # also the coil centre's region
    nice python benchmarks/verdict.py --method efield --minutes 10 --participants 10

The summary prints, per circuit and length and for each rule, how often session A's sphere holds
session B's target, how often ``d_AB ≤ √(r_A² + r_B²)``, how often it holds the noise-free optimum,
the median radius, and how many "reliable" verdicts (radius ≤ 5 mm) had the other session > 10 mm
away.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))


def run_participant(
    seed: int,
    minutes: tuple[float, ...],
    n_bootstrap: int,
    preset: str = "calibrated",
    method: str = "robust",
) -> list[dict]:
    from study import individual_optimum, preset_params
    from threadpoolctl import threadpool_limits

    from tmstarget.simulate.evaluate import (
        clean_session,
        group_map_on_grid,
        plant_target,
        simulate_session,
    )
    from tmstarget.simulate.model import anatomy, deviation_field
    from tmstarget.targeting import finalize_components
    from tmstarget.targeting.regions import dlpfc_search_mask
    from tmstarget.targeting.uncertainty import confidence_region, participant_reliability
    from tmstarget.targeting.uncertainty.participant import column_spacing_mm

    params = preset_params(preset)
    rows = []
    with threadpool_limits(1):
        rng = np.random.default_rng(seed)
        anat = anatomy(params.fov)
        region = dlpfc_search_mask(anat.brain, anat.affine)
        region_xyz = np.argwhere(region) @ anat.affine[:3, :3].T + anat.affine[:3, 3]
        planted = plant_target(rng, anat, region, params)
        cmaps = {"sgacc": None, "map": group_map_on_grid(anat)}
        deviation = deviation_field(rng, anat, params)
        n_total = int(round(max(minutes) * 60 / params.t_r))
        optimum = np.asarray(individual_optimum(seed, params, anat, region), float)
        spacing = column_spacing_mm(region_xyz)
        for session in (1, 2):
            data = simulate_session(rng, anat, planted, params, n_total, deviation)
            for m in minutes:
                op, block = clean_session(data, m)
                comp = finalize_components([block], anat.brain, anat.affine, 6.0)
                n = int(round(m * 60 / params.t_r))
                for circuit, cmap in cmaps.items():
                    t0 = time.perf_counter()
                    res = participant_reliability(
                        comp,
                        [op],
                        [params.t_r],
                        [n],
                        region,
                        cmap,
                        method=method,
                        n_bootstrap=n_bootstrap,
                        seed=1000 * seed + session,
                    )
                    centre = np.asarray(res["target_mni"], float)
                    cloud = np.asarray(res["bootstrap"]["targets_mni"], float)
                    scaled = centre + (cloud - centre) * res["bootstrap"]["deviation_scale"]
                    boot = confidence_region(scaled, centre, 0.95, spacing)["radius_mm"]
                    rows.append(
                        {
                            "seed": seed,
                            "session": session,
                            "minutes": m,
                            "circuit": circuit,
                            "target_mni": centre.tolist(),
                            "optimum_mni": optimum.tolist(),
                            "planted_mni": np.asarray(planted, float).tolist(),
                            "minutes_used": float(op.sample_mask.size * params.t_r / 60.0),
                            "boot_mm": round(float(boot), 2),
                            "half_mm": res["split_half_distance_mm"],
                            "extent_mm": round(
                                float(np.linalg.norm(region_xyz - centre, axis=1).max()), 2
                            ),
                            "reported_radius_mm": res["confidence_radius_mm"],
                            "reported_verdict": res["reliability_verdict"]["text"],
                            "reported_reliable": res["reliability_verdict"]["reliable"],
                            "method": method,
                            "stimulation": res["reliability_verdict"].get("stimulation"),
                            "coil_centre": res.get("coil_centre"),
                            "seconds": round(time.perf_counter() - t0, 1),
                        }
                    )
            del data
    return rows


# ------------------------------------------------------------------ combination rules, scored on
# stored rows
CHI3_95 = math.sqrt(7.814727903)  # √χ²₃(0.95) = 2.795


def rule_radii(boot: np.ndarray, half: np.ndarray) -> dict[str, np.ndarray]:
    """Candidate 95% radii from the bootstrap radius and the split-half distance.

    ``half`` estimates the full-data target's error per axis as ``d/√12`` (halves of equal minutes,
    variance ∝ 1/minutes: each half has twice the full data's variance, their difference four
    times), whose 95% radius is ``√χ²₃(0.95) · d/√12 = 0.807 d``.
    """
    split = CHI3_95 * half / math.sqrt(12.0)
    return {
        "bootstrap": boot,
        "split": split,
        "max": np.maximum(boot, split),
        "rss": np.hypot(boot, split),
        "rss_2x_split": np.hypot(boot, 2 * split),
    }


def summarise(rows: list[dict]) -> None:
    import pandas as pd

    df = pd.DataFrame(rows)
    print(f"{df.seed.nunique()} participants, seeds {df.seed.min()}-{df.seed.max()}")
    out = []
    for (circuit, m), g in df.groupby(["circuit", "minutes"]):
        a = g[g.session == 1].set_index("seed").sort_index()
        b = g[g.session == 2].set_index("seed").reindex(a.index)
        ta, tb = np.stack(a.target_mni.to_numpy()), np.stack(b.target_mni.to_numpy())
        d_ab = np.linalg.norm(ta - tb, axis=1)
        opt = np.stack(a.optimum_mni.to_numpy())
        for name in rule_radii(a.boot_mm.to_numpy(), a.half_mm.to_numpy()):
            ra = np.minimum(
                rule_radii(a.boot_mm.to_numpy(), a.half_mm.to_numpy())[name], a.extent_mm.to_numpy()
            )
            rb = np.minimum(
                rule_radii(b.boot_mm.to_numpy(), b.half_mm.to_numpy())[name], b.extent_mm.to_numpy()
            )
            r = np.concatenate([ra, rb])
            other = np.concatenate([d_ab <= ra, d_ab <= rb])
            to_opt = np.concatenate(
                [np.linalg.norm(ta - opt, axis=1) <= ra, np.linalg.norm(tb - opt, axis=1) <= rb]
            )
            pair = d_ab <= np.hypot(ra, rb)
            reliable = r <= 5.0
            bad = reliable & (np.concatenate([d_ab, d_ab]) > 10.0)
            long_enough = (
                np.concatenate([a.minutes_used.to_numpy(), b.minutes_used.to_numpy()]) >= 10.0
            )  # the single-run minimum
            extent = np.concatenate([a.extent_mm.to_numpy(), b.extent_mm.to_numpy()])
            out.append(
                {
                    "circuit": circuit,
                    "minutes": m,
                    "rule": name,
                    "n_pairs": len(d_ab),
                    "median_d_ab": np.median(d_ab),
                    "median_r": np.median(r),
                    "other_in_sphere": other.mean(),
                    "pair_d_le_rss": pair.mean(),
                    "optimum_in_sphere": to_opt.mean(),
                    "spans": float(np.mean(r >= extent)),
                    "reliable": int(reliable.sum()),
                    "reliable_other_gt10": int(bad.sum()),
                    "reliable_policy": int((reliable & long_enough).sum()),
                    "reliable_policy_other_gt10": int((bad & long_enough).sum()),
                }
            )
        radii = np.concatenate([a.boot_mm.to_numpy(), b.boot_mm.to_numpy()])
        small = radii <= 10.0
        if small.any():
            dd = np.concatenate([d_ab, d_ab])[small]
            print(
                f"{circuit} {m:g} min: {int(small.sum())} sessions "
                "with a bootstrap radius <= 10 mm; the other "
                "session's target beyond "
                "that radius in "
                f"{np.mean(dd > radii[small]):.0%}, "
                f"beyond 10 mm in {np.mean(dd > 10):.0%} (distances "
                f"{np.round(np.sort(dd), 1).tolist()})"
            )
    coil_centre_summary(df)
    res = pd.DataFrame(out)
    with pd.option_context(
        "display.width", 200, "display.max_rows", 200, "display.float_format", "{:.2f}".format
    ):
        print(res.to_string(index=False))


def coil_centre_summary(df) -> None:
    """Print the coil-centre coverage and stated stimulation shares of a coil-scale method.

    That is, how often a session's coil-centre 95% region holds the other session's coil centre,
    and the stimulation share each session's plan states.
    """
    if "coil_centre" not in df or df.coil_centre.isna().all():
        return
    for (circuit, m), g in df.groupby(["circuit", "minutes"]):
        a = g[g.session == 1].set_index("seed").sort_index()
        b = g[g.session == 2].set_index("seed").reindex(a.index)
        ca, cb = (np.array([c["centre_mm"] for c in x.coil_centre]) for x in (a, b))
        ra, rb = (np.array([c["radius_mm"] for c in x.coil_centre]) for x in (a, b))
        d = np.linalg.norm(ca - cb, axis=1)
        share = [s.get("share_kept") for s in pd_concat(a, b, "stimulation") if s]
        stated = [v for v in share if v is not None]
        print(
            f"coil centre, {circuit} {m:g} min: between sessions "
            f"median {np.median(d):.1f} mm; 95% radius median "
            f"{np.median(np.concatenate([ra, rb])):.1f} mm; "
            "other session's centre inside "
            f"{np.mean(np.concatenate([d <= ra, d <= rb])):.0%}; "
            f"d <= sqrt(rA^2+rB^2) {np.mean(d <= np.hypot(ra, rb)):.0%}; "
            f"share stated in {sum(v is not None for v in share)}/{len(share)} "
            f"(median {np.median(stated) if stated else float('nan'):.2f})"
        )


def pd_concat(a, b, column: str) -> list:
    return list(a[column]) + list(b[column])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--participants", type=int, default=20)
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--minutes", type=float, nargs="+", default=[5.0, 10.0])
    parser.add_argument("--n-bootstrap", type=int, default=200)
    parser.add_argument("--preset", choices=["calibrated", "default"], default="calibrated")
    parser.add_argument(
        "--work",
        type=Path,
        default=None,
        help="default: benchmarks/out/verdict (calibrated), benchmarks/out/verdict-default",
    )
    parser.add_argument(
        "--method",
        default="robust",
        help="targeting method (efield: also the coil centre's region)",
    )
    parser.add_argument("--summarise-only", action="store_true")
    args = parser.parse_args()
    suffix = ("" if args.preset == "calibrated" else f"-{args.preset}") + (
        "" if args.method == "robust" else f"-{args.method}"
    )
    args.work = args.work or HERE / "out" / f"verdict{suffix}"
    args.work.mkdir(parents=True, exist_ok=True)
    if not args.summarise_only:
        for seed in range(args.first, args.first + args.participants):
            path = args.work / f"rows-{seed}.json"
            if path.is_file():
                continue
            t0 = time.perf_counter()
            rows = run_participant(
                seed, tuple(args.minutes), args.n_bootstrap, args.preset, args.method
            )
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(rows))
            tmp.replace(path)
            print(
                f"participant {seed}: {time.perf_counter() - t0:.0f} s; "
                + "; ".join(
                    f"{r['circuit']} s{r['session']} {r['minutes']:g} "
                    f"min boot {r['boot_mm']:.1f} half {r['half_mm']:.1f}"
                    for r in rows
                ),
                flush=True,
            )
    rows = [r for p in sorted(args.work.glob("rows-*.json")) for r in json.loads(p.read_text())]
    summarise(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
