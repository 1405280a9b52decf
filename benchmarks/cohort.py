"""Cohort targeting: 20 simulated participants serially vs on a local Dask cluster with 2 workers.

Usage: python benchmarks/cohort.py [--participants 20] [--distinct 4] [--volumes 150] [--workers 2]
[--out DIR]

``--distinct`` participants are simulated (fMRIPrep layout, 2 runs, MNI 2 mm cropped to the brain)
and hard-linked under new labels up to ``--participants`` (the work per participant is the same as
for distinct data; simulating 20 takes longer than targeting them). Prints the wall time per
participant of each mode, the speed-up, the time of a re-run (every participant skipped) and the
machine's load.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path

from tmstarget.cohort import Job, run_jobs
from tmstarget.simulate import SimulationParams, simulate_dataset
from tmstarget.targeting import TargetingOptions


def cohort_dataset(root: Path, n: int, distinct: int, volumes: int) -> Path:
    """Simulate ``distinct`` participants and hard-link them as sub-01 … sub-<n>."""
    src = root / "fmriprep"
    if (src / f"sub-{n:02d}").is_dir():
        return src
    shutil.rmtree(src, ignore_errors=True)
    base = root / "distinct"
    if not (base / f"sub-{distinct:02d}").is_dir():
        simulate_dataset(
            base,
            n_participants=distinct,
            n_runs=2,
            params=SimulationParams(n_volumes=volumes),
            seed=7,
            dtype="int16",
        )
    for i in range(n):
        origin = f"sub-{i % distinct + 1:02d}"
        label = f"sub-{i + 1:02d}"
        for f in (base / origin).rglob("*"):
            if f.is_file():
                dst = src / str(f.relative_to(base)).replace(origin, label)
                dst.parent.mkdir(parents=True, exist_ok=True)
                os.link(f, dst)
    shutil.copy(base / "dataset_description.json", src / "dataset_description.json")
    return src


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--participants", type=int, default=20)
    ap.add_argument("--distinct", type=int, default=4)
    ap.add_argument("--volumes", type=int, default=150)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "out" / "cohort")
    args = ap.parse_args()
    src = cohort_dataset(args.out, args.participants, args.distinct, args.volumes)
    jobs = [Job(f"{i + 1:02d}", None, src.resolve()) for i in range(args.participants)]
    options = TargetingOptions()
    rows = {}
    for mode, workers in (("serial", 1), (f"dask-{args.workers}-workers", args.workers)):
        out = args.out / f"targets-{mode}"
        shutil.rmtree(out, ignore_errors=True)
        load0 = os.getloadavg()[0]
        t0 = time.perf_counter()
        outcomes = run_jobs(jobs, options, out, n_workers=workers, show_progress=False)
        wall = time.perf_counter() - t0
        failed = [o.job.name for o in outcomes if o.status != "done"]
        rows[mode] = {
            "wall_s": round(wall, 1),
            "per_participant_s": round(wall / len(jobs), 2),
            "failed": failed,
            "load_before": round(load0, 2),
            "load_after": round(os.getloadavg()[0], 2),
        }
        print(
            f"{mode:>18}: {wall:7.1f} s for {len(jobs)} participants "
            f"= {wall / len(jobs):5.2f} s per participant"
            f"  (load {load0:.1f} -> "
            f"{os.getloadavg()[0]:.1f}){'  FAILED: ' + ', '.join(failed) if failed else ''}",
            flush=True,
        )
    t0 = time.perf_counter()
    again = run_jobs(
        jobs,
        options,
        args.out / f"targets-dask-{args.workers}-workers",
        n_workers=args.workers,
        show_progress=False,
    )
    rows["rerun_all_skipped"] = {
        "wall_s": round(time.perf_counter() - t0, 2),
        "skipped": sum(o.status == "skipped" for o in again),
    }
    serial, parallel = rows["serial"]["wall_s"], rows[f"dask-{args.workers}-workers"]["wall_s"]
    rows["speedup"] = round(serial / parallel, 2)
    rows["cpus"] = os.cpu_count()
    print(
        f"{'speed-up':>18}: {serial / parallel:.2f}x with "
        f"{args.workers} workers on {os.cpu_count()} cores;"
        f" re-run with everything done: {rows['rerun_all_skipped']['wall_s']} s"
    )
    print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
