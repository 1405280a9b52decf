"""``tmstarget demo``: simulate a participant, find the target, compare it to the planted truth."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from .._common import list_written, nonneg_int, output_dir, print_json
from .._help import HELP


def add_parser(subparsers, parents) -> None:
    """Register ``demo``."""
    from ..parser import HelpFormatter

    p = subparsers.add_parser(
        "demo",
        parents=parents,
        formatter_class=HelpFormatter,
        help="run the whole targeting pipeline on built-in synthetic data",
        description="Simulate one participant (2 rest runs, 5 min each, "
        "MNI 2 mm), run 'tmstarget target' on it (with "
        "its default bootstrap confidence region), write "
        "the HTML report and print the target, its score, "
        "whether it is individually reliable and its distance "
        "to the planted target.",
    )
    p.add_argument(
        "--out",
        type=output_dir,
        default=Path("demo_out"),
        help="folder for the simulated data and the outputs",
    )
    p.add_argument("--seed", type=nonneg_int, default=1, help=HELP["seed"])
    p.add_argument("--json", action="store_true", help="print a JSON summary instead of text")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Simulate, target, compare."""
    import time

    import numpy as np

    from ... import NOTICE
    from ...io.bids import find_runs
    from ...io.derivatives import write_target_outputs
    from ...simulate import SimulationParams, simulate_dataset
    from ...targeting import TargetingOptions, compute_target
    from ...targeting.uncertainty import N_BOOTSTRAP, verdict_line

    t0 = time.perf_counter()
    src, out = args.out / "fmriprep", args.out / "tmstarget"
    params = SimulationParams(n_volumes=150, t_r=2.0)
    truth = simulate_dataset(
        src, n_participants=1, n_runs=2, params=params, seed=args.seed, dtype="int16"
    )
    t_sim = time.perf_counter() - t0
    planted = np.array(truth["participants"]["01"]["target_mni"])
    result = compute_target(
        find_runs(src, "01"), TargetingOptions(circuit="sgacc", bootstrap=N_BOOTSTRAP), root=src
    )
    paths = write_target_outputs(result, out, "01", None, src)
    from ...report import write_participant_report

    paths["report"] = write_participant_report(out, "01", None, result.circuit)
    dist = float(np.linalg.norm(result.target_mni - planted))
    summary = {
        "target": result.to_json("01", None),
        "planted_target_mni": planted.round(1).tolist(),
        "distance_to_planted_mm": round(dist, 1),
        "outputs": {k: str(v) for k, v in paths.items()},
        "seconds": {"simulate": round(t_sim, 1), "target": round(result.timings_s["total"], 1)},
    }
    if args.json:
        print_json(summary)
        return 0
    x, y, z = result.target_mni
    px, py, pz = planted
    print(f"tmstarget demo — {NOTICE}")
    print(
        f"simulated sub-01: 2 runs x {params.n_volumes} "
        f"volumes (TR {params.t_r:.1f} s) in {src} ({t_sim:.1f} "
        "s)"
    )
    print(
        f"target  ({result.circuit}, {result.method}): MNI "
        f"({x:.1f}, {y:.1f}, {z:.1f})  score {result.score:.3f}"
        f"  [{result.n_volumes_used} volumes used, {result.n_volumes_censored} "
        f"censored, {result.timings_s['total']:.1f} s]"
    )
    print(f"reliability: {verdict_line(summary['target'])}")
    print(f"planted target:           MNI ({px:.1f}, {py:.1f}, {pz:.1f})  distance {dist:.1f} mm")
    list_written([f"{src}{os.sep} (the simulated fMRIPrep dataset)", *paths.values()])
    return 0
