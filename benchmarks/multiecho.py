"""Single- vs multi-echo at equal minutes on calibrated participants, and the scan plan's check.

Issue 27, parts 3 and 4. For each participant (seed) two sessions of 40 minutes are simulated per
arm from the *same* seed (same planted node, deviation field, neural signals and motion):

- ``single``: the ``CALIBRATED`` simulator's single-echo session (``simulate.evaluate``);
- ``multi``: the calibrated multi-echo variant (``simulate.multiecho``, ``CALIBRATED_MULTIECHO``,
  echoes 14.5/38.5/62.5 ms), the series targeted being tedana's T2*-weighted combination
  (``io.multiecho.combine_echoes(..., adaptive=True)``, what ``tmstarget target --me-denoise
  optcom`` does) of the first M minutes; confounds from the simulator's combined series, as
  fMRIPrep's.

Each session is cut to its first 5, 10, 20 and 40 minutes (``--minutes``), both circuits (``sgacc``
and the simulator's group map) with the default method; ``participant_reliability`` (the code of
``tmstarget target --bootstrap``) gives the target and the drift-aware verdict radius. Rows per
seed are checkpointed in ``--work`` (a rerun resumes).

    # calibration participants (seeds 0-19), two processes; rows in benchmarks/out/multiecho/optcom
    nice python benchmarks/multiecho.py --first 0 --participants 10
    nice python benchmarks/multiecho.py --first 10 --participants 10
    # the table, the raw rows (benchmarks/results/multiecho/) and the scan plan's table
    python benchmarks/multiecho.py --summarise-only \
        --calibration src/tmstarget/data/scanplan_calibration.json
    # held-out participants (seeds 1000-1009) at the shipped plan's minutes, then the check
    nice python benchmarks/multiecho.py --first 1000 --participants 10 --held-out
    python benchmarks/multiecho.py --summarise-only --held-out --check

ME-ICA (``--me-denoise tedana``) is not used: on a 40-minute whole-brain run it costs minutes per
run (docs/multiecho.md), more than this benchmark's budget for 2 arms x 2 sessions x 4 lengths x 20+
participants.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

ARMS = ("single", "multi")
CIRCUITS = ("sgacc", "map")
RESULTS = HERE / "results" / "multiecho"


#: The simulated voxels: brain voxels within 8 mm of the default left-DLPFC search region (20 mm
#: spheres at (−36, 39, 43) and (−44, 40, 29)) or of the sgACC seed (10 mm at (6, 16, −10)). Whole-
#: brain 40-minute multi-echo sessions cost minutes each and 5 GB per session; these hold a tenth of
#: the brain's voxels. Targets, seed maps and scores use only voxels inside them (the group map's
#: part outside is not seen); the confounds' global, white-matter and CSF signals are means over
#: these voxels.
SPHERES_MM = (((-36.0, 39.0, 43.0), 28.0), ((-44.0, 40.0, 29.0), 28.0), ((6.0, 16.0, -10.0), 18.0))


def box_anatomy():
    """Return the calibrated anatomy restricted to :data:`SPHERES_MM`, on its bounding box."""
    from study import preset_params

    from tmstarget.simulate.model import Anatomy, anatomy

    full = anatomy(preset_params("calibrated").fov)
    ijk_all = np.argwhere(np.ones(full.shape, bool))
    xyz_all = ijk_all @ full.affine[:3, :3].T + full.affine[:3, 3]
    keep = np.zeros(len(ijk_all), bool)
    for centre, radius in SPHERES_MM:
        keep |= np.linalg.norm(xyz_all - np.asarray(centre), axis=1) <= radius
    near = np.zeros(full.shape, bool)
    near[tuple(ijk_all[keep].T)] = True
    near &= full.brain
    ijk = np.argwhere(near)
    lo, hi = ijk.min(0) - 2, ijk.max(0) + 3
    sl = tuple(slice(a, b) for a, b in zip(lo, hi))
    affine = full.affine.copy()
    affine[:3, 3] = full.affine[:3, :3] @ lo + full.affine[:3, 3]
    brain = near[sl]
    shape = brain.shape
    flat = np.flatnonzero(brain.ravel(order="F"))
    xyz = (
        np.column_stack(np.unravel_index(flat, shape, order="F")) @ affine[:3, :3].T + affine[:3, 3]
    )
    gm, wm, csf = (m[sl] & brain for m in (full.gm, full.wm, full.csf))
    return Anatomy(affine, shape, brain, gm, wm, csf, xyz.astype(np.float32))


def _sessions(seed: int, params, anat, region, n_total: int):
    """Yield ``(session, arm, Session)`` for the two arms' two sessions of one participant."""
    from tmstarget.io.multiecho import combine_echoes  # noqa: F401  (import cost paid once)
    from tmstarget.simulate.dataset import confounds_table
    from tmstarget.simulate.evaluate import plant_target, simulate_session
    from tmstarget.simulate.model import deviation_field
    from tmstarget.simulate.multiecho import CALIBRATED_MULTIECHO, iter_participant_multiecho

    rng_se, rng_me = np.random.default_rng(seed), np.random.default_rng(seed)
    noise_rng = np.random.default_rng([seed, 27])  # as simulate_dataset's multi-echo noise
    planted = plant_target(rng_se, anat, region, params)
    deviation = deviation_field(rng_se, anat, params)
    planted_me = plant_target(rng_me, anat, region, params)
    deviation_me = deviation_field(rng_me, anat, params)
    assert np.allclose(planted, planted_me)
    tissue_idx = {
        "global": np.flatnonzero(anat.brain.ravel(order="F")),
        "white_matter": np.flatnonzero(anat.wm.ravel(order="F")),
        "csf": np.flatnonzero(anat.csf.ravel(order="F")),
    }
    p_long = replace(params, n_volumes=n_total)
    for session in (1, 2):
        yield session, "single", simulate_session(rng_se, anat, planted, params, n_total, deviation)
        run = next(
            iter_participant_multiecho(
                rng_me, noise_rng, anat, planted_me, p_long, CALIBRATED_MULTIECHO, 1, deviation_me
            )
        )
        grid = np.zeros((anat.brain.size, n_total), np.float32)
        grid[run["flat"]] = run.pop("combined")
        table = confounds_table(grid, run["motion"], tissue_idx)
        del grid
        yield session, "multi", (run["echoes"], table, params.t_r, planted)


def _multi_cut(payload, minutes: float):
    """Return the session ``tmstarget target --me-denoise`` targets in the first ``minutes``."""
    from tmstarget.io.multiecho import combine_echoes
    from tmstarget.simulate.evaluate import Session
    from tmstarget.simulate.multiecho import CALIBRATED_MULTIECHO

    echoes, table, t_r, _ = payload
    n = int(round(minutes * 60 / t_r))
    combined, _ = combine_echoes(echoes[:, :, :n], CALIBRATED_MULTIECHO.echo_times_ms, True)
    return Session(x=np.ascontiguousarray(combined.T), confounds=table, t_r=t_r)


def run_participant(
    seed: int,
    minutes: tuple[float, ...],
    n_bootstrap: int,
    method: str,
    me_denoise: str = "optcom",
    arms: tuple[str, ...] = ARMS,
) -> list[dict]:
    """Target both arms' two sessions of one participant at every length and circuit."""
    from study import individual_optimum, preset_params
    from threadpoolctl import threadpool_limits

    import tmstarget.targeting.uncertainty.participant as reliability_module
    from tmstarget.simulate.evaluate import clean_session, group_map_on_grid
    from tmstarget.targeting import finalize_components
    from tmstarget.targeting.regions import dlpfc_search_mask
    from tmstarget.targeting.uncertainty import participant_reliability

    # The scan-length curve (71 re-weighted targets at 40 min, a third of the reliability's time)
    # is not used by the verdict, which is computed before it: skipped here.
    reliability_module.scan_length_curve = lambda *args, **kwargs: []
    params = preset_params("calibrated")
    rows = []
    with threadpool_limits(1):
        anat = box_anatomy()
        region = dlpfc_search_mask(anat.brain, anat.affine)
        cmaps = {"sgacc": None, "map": group_map_on_grid(anat)}
        n_total = int(round(max(minutes) * 60 / params.t_r))
        optimum = np.asarray(individual_optimum(seed, params, anat, region), float)
        t_prev = time.perf_counter()
        for session, arm, data in _sessions(seed, params, anat, region, n_total):
            if arm not in arms:
                continue
            t_sim = time.perf_counter()
            sim_s = t_sim - t_prev
            for m in minutes:
                t0 = time.perf_counter()
                cut = data if arm == "single" else _multi_cut(data, m)
                op, block = clean_session(cut, m)
                comp = finalize_components([block], anat.brain, anat.affine, 6.0)
                n = int(round(m * 60 / params.t_r))
                for circuit, cmap in cmaps.items():
                    res = participant_reliability(
                        comp, [op], [params.t_r], [n], region, cmap, method=method,
                        n_bootstrap=n_bootstrap, seed=1000 * seed + session,
                    )  # fmt: skip
                    verdict = res["reliability_verdict"]
                    target = np.asarray(res["target_mni"], float)
                    rows.append(
                        {
                            "seed": seed,
                            "session": session,
                            "arm": arm,
                            "me_denoise": me_denoise if arm == "multi" else "",
                            "minutes": m,
                            "circuit": circuit,
                            "method": method,
                            "x": target[0],
                            "y": target[1],
                            "z": target[2],
                            "optimum_error_mm": round(float(np.linalg.norm(target - optimum)), 2),
                            "radius_mm": verdict["radius_mm"],
                            "reliable": verdict["reliable"],
                            "minutes_used": verdict["minutes_used"],
                            "seconds": round(time.perf_counter() - t0, 1),
                        }
                    )
            print(
                f"  seed {seed} s{session} {arm}: simulated {sim_s:.0f} s, targeted "
                f"{time.perf_counter() - t_sim:.0f} s",
                flush=True,
            )
            del data
            t_prev = time.perf_counter()
    return rows


# ------------------------------------------------------------------------------------- summaries
def load_rows(work: Path) -> list[dict]:
    return [r for p in sorted(work.glob("rows-*.json")) for r in json.loads(p.read_text())]


def pair_table(rows: list[dict]):
    """One line per arm, circuit and length: error, between-session distance, radius, verdict.

    "reliable" is recounted from each row's radius and usable minutes by today's verdict
    (``reliability_verdict``; a session is one run of 100 resamples), so that rows made before
    the single-run floor was raised to 20 minutes count alike.
    """
    import pandas as pd

    from tmstarget.targeting.uncertainty import reliability_verdict

    df = pd.DataFrame(rows)
    df["reliable"] = [
        reliability_verdict(r, m, n_runs=1, n_resamples=100)["reliable"] is True
        for r, m in zip(df.radius_mm, df.minutes_used)
    ]
    out = []
    for (circuit, arm, m), g in df.groupby(["circuit", "arm", "minutes"]):
        a = g[g.session == 1].set_index("seed").sort_index()
        b = g[g.session == 2].set_index("seed").reindex(a.index)
        d_ab = np.linalg.norm(a[["x", "y", "z"]].to_numpy() - b[["x", "y", "z"]].to_numpy(), axis=1)
        radius = np.concatenate([a.radius_mm, b.radius_mm])
        out.append(
            {
                "circuit": circuit,
                "arm": arm,
                "minutes": m,
                "participants": len(a),
                "error_median_mm": float(np.median(g.optimum_error_mm)),
                "d_ab_median_mm": float(np.median(d_ab)),
                "radius_median_mm": float(np.median(radius)),
                "radius_p80_mm": float(np.quantile(radius, 0.8)),
                "reliable": int(np.sum(g.reliable == True)),  # noqa: E712
                "sessions": len(g),
            }
        )
    return pd.DataFrame(out)


def markdown(table) -> str:
    lines = [
        "| circuit | arm | min | n | error to optimum (median, mm) | between sessions (median, mm) "
        "| 95% radius (median / 80th pct, mm) | reliable |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in table.itertuples():
        lines.append(
            f"| {r.circuit} | {r.arm} | {r.minutes:g} | {r.participants} | {r.error_median_mm:.1f} "
            f"| {r.d_ab_median_mm:.1f} | {r.radius_median_mm:.1f} / {r.radius_p80_mm:.1f} "
            f"| {r.reliable}/{r.sessions} |"
        )
    return "\n".join(lines)


def write_csv(rows: list[dict], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    keys = list(rows[0])
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", newline="") as fh:
        w = csv.DictWriter(fh, keys)
        w.writeheader()
        for r in sorted(
            rows, key=lambda r: (r["seed"], r["session"], r["arm"], r["minutes"], r["circuit"])
        ):
            w.writerow(r)
    tmp.replace(path)


def binomial_interval(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Clopper–Pearson interval of a proportion ``k/n`` (statsmodels' ``beta`` method)."""
    from statsmodels.stats.proportion import proportion_confint

    lo, hi = proportion_confint(k, n, alpha=1 - level, method="beta")
    return float(lo), float(hi)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--participants", type=int, default=20)
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--minutes", type=float, nargs="+", default=[5.0, 10.0, 20.0, 40.0])
    parser.add_argument("--n-bootstrap", type=int, default=100)
    parser.add_argument("--method", default="robust")
    parser.add_argument("--work", type=Path, default=HERE / "out" / "multiecho")
    parser.add_argument(
        "--held-out", action="store_true", help="at the shipped plan's predicted minutes"
    )
    parser.add_argument("--calibration", type=Path, default=None, help="write the plan's table")
    parser.add_argument("--check", action="store_true", help="the plan against held-out rows")
    parser.add_argument(
        "--table-seeds", type=int, nargs="+", default=None, help="seeds of the table (default: all)"
    )
    parser.add_argument(
        "--check-seeds",
        type=int,
        nargs="+",
        default=[],
        help="calibration-run seeds kept out of the table and used as held-out participants",
    )
    parser.add_argument("--summarise-only", action="store_true")
    args = parser.parse_args()
    work = args.work / "optcom"
    held = args.work / "held-out"
    minutes = tuple(args.minutes)
    if args.held_out:
        from tmstarget.protocol.scanplan import load_calibration, plan_scan

        cal = load_calibration()
        predicted = set()
        for circuit in CIRCUITS:
            plan = plan_scan(cal, circuit=circuit, method=args.method)
            predicted |= {a.minutes or plan.longest_minutes for a in plan.arms.values()}
        minutes = tuple(sorted(predicted))  # only the predicted lengths (the longest if none)
        work = held
        print(f"held-out minutes: {minutes}", flush=True)
    work.mkdir(parents=True, exist_ok=True)
    if not args.summarise_only:
        for seed in range(args.first, args.first + args.participants):
            path = work / f"rows-{seed}.json"
            if path.is_file():
                continue
            t0 = time.perf_counter()
            rows = run_participant(
                seed,
                minutes,
                args.n_bootstrap,
                args.method,
            )
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(rows))
            tmp.replace(path)
            print(f"participant {seed}: {time.perf_counter() - t0:.0f} s", flush=True)
    rows = load_rows(work)
    if args.table_seeds and not args.held_out:
        rows = [r for r in rows if r["seed"] in args.table_seeds]
    if rows:
        seeds = sorted({r["seed"] for r in rows})
        print(f"{len(seeds)} participants in {work} (seeds {', '.join(map(str, seeds))})")
        print(markdown(pair_table(rows)))
        write_csv(rows, RESULTS / f"rows-{work.name}.csv")
    if args.calibration:
        import subprocess

        from tmstarget.protocol.scanplan import calibration_from_rows

        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE
        ).stdout.strip()
        doc = calibration_from_rows(
            [
                r
                for r in load_rows(args.work / "optcom")
                if args.table_seeds is None or r["seed"] in args.table_seeds
            ],
            command="python benchmarks/multiecho.py --first F --participants N (rows of seeds "
            "below), then --summarise-only --calibration",
            git_commit=commit,
            simulator="CALIBRATED + CALIBRATED_MULTIECHO (echoes 14.5/38.5/62.5 ms), brain "
            "voxels within 8 mm of the DLPFC search spheres and the sgACC seed, two 40-minute "
            "sessions per participant cut to their first 5/10/20/40 minutes",
            multi_echo_combination="optcom (tedana's T2* combination, --me-denoise optcom)",
            n_bootstrap=args.n_bootstrap,
            radius="reliability_verdict.radius_mm of participant_reliability (the drift-aware "
            "95% region radius of tmstarget target --bootstrap)",
        )
        args.calibration.write_text(json.dumps(doc, indent=1) + "\n")
        print(f"calibration table: {args.calibration}")
    if args.check:
        extra = [r for r in load_rows(args.work / "optcom") if r["seed"] in args.check_seeds]
        if extra:
            write_csv(extra, RESULTS / "rows-check-seeds.csv")
        check(load_rows(held) + extra, args.method)
        pilot_check(extra, args.method)
    return 0


def check(rows: list[dict], method: str) -> None:
    """Print the plan's predicted minutes against held-out sessions of that length.

    A predicted length must hold: the share of held-out sessions within 5 mm at it must be
    consistent with the plan's probability (its 95% Clopper-Pearson interval holds it). A "more
    than the longest length" answer must hold too: at that length the interval must reach below the
    probability.
    """
    from tmstarget.protocol.scanplan import RELIABLE_RADIUS_MM, load_calibration, plan_scan

    cal = load_calibration()
    seeds = sorted({r["seed"] for r in rows})
    print(f"held-out check: {len(seeds)} participants (seeds {', '.join(map(str, seeds))})")
    for circuit in CIRCUITS:
        plan = plan_scan(cal, circuit=circuit, method=method)
        for arm, a in plan.arms.items():
            m = a.minutes if a.minutes is not None else plan.longest_minutes
            at = [
                r for r in rows
                if (r["circuit"], r["arm"]) == (circuit, arm) and math.isclose(r["minutes"], m)
            ]  # fmt: skip
            k = sum(r["radius_mm"] <= RELIABLE_RADIUS_MM for r in at)
            lo, hi = binomial_interval(k, len(at)) if at else (float("nan"),) * 2
            p = plan.probability
            ok = lo <= p <= hi if a.minutes is not None else lo < p
            said = (
                f"predicted {m:g} min for {p:.0%}"
                if a.minutes is not None
                else f"predicted more than {m:g} min (fewer than {p:.0%} at {m:g})"
            )
            print(
                f"{circuit} {arm}: {said}; held-out sessions within {RELIABLE_RADIUS_MM:g} mm at "
                f"{m:g} min: {k}/{len(at)} = {k / max(len(at), 1):.0%} (95% Clopper-Pearson "
                f"{lo:.0%}-{hi:.0%}): {'consistent' if ok else 'NOT consistent'}"
            )
            for length, share in a.share_reached.items():  # the table's stated shares
                at = [
                    r for r in rows
                    if (r["circuit"], r["arm"]) == (circuit, arm)
                    and math.isclose(r["minutes"], length)
                ]  # fmt: skip
                if not at:
                    continue
                k = sum(r["radius_mm"] <= RELIABLE_RADIUS_MM for r in at)
                lo, hi = binomial_interval(k, len(at))
                verdict = "consistent" if lo <= share <= hi else "NOT consistent"
                print(
                    f"    at {length:g} min: table {share:.0%}, held-out {k}/{len(at)} "
                    f"({lo:.0%}-{hi:.0%}): {verdict}"
                )


def pilot_check(
    rows: list[dict],
    method: str,
    pilot_minutes: float = 10.0,
    probabilities: tuple[float, ...] = (0.8, 0.5, 0.2),
) -> None:
    """Print the pilot-updated plan against each held-out session's own longer scan.

    Each held-out session's first ``pilot_minutes`` are its pilot (radius and usable minutes, as
    ``--pilot-json`` reads them); the plan for its own arm follows the simulated sessions closest to
    it. Its outcome is the same session at the table's lengths. Where the plan predicts M minutes,
    the session should reach the radius at the first simulated length >= M with the plan's
    probability; where it says "more than" the longest length, fewer than that share should reach it
    there. Both are counted over sessions, with Clopper–Pearson intervals, for each of
    ``probabilities`` (the plan's default and lower ones, whose answers are more often finite).
    """
    from tmstarget.protocol.scanplan import RELIABLE_RADIUS_MM, load_calibration, plan_scan

    cal = load_calibration()
    by = {}
    for r in rows:
        by.setdefault((r["seed"], r["session"], r["arm"], r["circuit"]), {})[r["minutes"]] = r
    groups: dict = {}
    for (seed, session, arm, circuit), at in sorted(by.items()):
        first = at.get(pilot_minutes)
        if first is None:
            continue
        pilot = {"circuit": circuit, "circuit_name": circuit, "method": method, "arm": arm,
                 "radius_mm": first["radius_mm"], "minutes_used": first["minutes_used"],
                 "file": f"seed {seed} session {session}"}  # fmt: skip
        for p in probabilities:
            plan = plan_scan(cal, circuit=circuit, method=method, probability=p, pilot=pilot)
            a = plan.arms[arm]
            finite = a.minutes is not None
            longest = plan.longest_minutes
            lengths = sorted(m for m in at if m >= (a.minutes if finite else longest))
            if not lengths:
                continue
            reached = at[lengths[0]]["radius_mm"] <= RELIABLE_RADIUS_MM
            groups.setdefault((p, circuit, arm, finite, lengths[0]), []).append(reached)
    print(f"pilot check: each held-out session's first {pilot_minutes:g} minutes as its pilot")
    for (p, circuit, arm, finite, length), hits in sorted(groups.items(), reverse=True):
        k, n = sum(hits), len(hits)
        lo, hi = binomial_interval(k, n)
        ok = (lo <= p <= hi or k / n >= p) if finite else lo < p
        said = f"plan <= {length:g} min" if finite else f"plan: more than {length:g} min"
        print(
            f"  {circuit} {arm}, {said}: {n} sessions, {k} reached {RELIABLE_RADIUS_MM:g} mm at "
            f"{length:g} min = {k / n:.0%} ({lo:.0%}-{hi:.0%}; plan {p:.0%}): "
            f"{'consistent' if ok else 'NOT consistent'}"
        )


if __name__ == "__main__":
    raise SystemExit(main())
