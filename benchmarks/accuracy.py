"""Accuracy and stability of the targeting methods on simulated participants with planted targets.

For every method of ``tmstarget target --method`` this measures, over simulated participants:

- the error to the planted target (median and 90th percentile, mm);
- the between-session distance (two sessions of the same participant: same target, new noise and
  motion);

across scan lengths (the first 5, 10, 20 minutes of each session) and noise levels (temporal SNR).
Results: ``accuracy_rows.csv`` (every target), ``accuracy.csv`` and ``accuracy.md`` (the table) and
``accuracy.png`` (error against scan length) in ``--out``.

    python benchmarks/accuracy.py --quick  # 8 participants, 5 and 10 min, default noise (< 5 min)
    python benchmarks/accuracy.py          # 24 participants, 5/10/20 min, tSNR 40 and 60
"""

from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd


def _one(args):
    seed, tsnr, minutes, circuit, gsr = args
    from threadpoolctl import threadpool_limits

    from tmstarget.simulate.evaluate import evaluate_participant
    from tmstarget.simulate.model import SimulationParams

    with threadpool_limits(1):  # one process per core instead of threaded BLAS
        rows = evaluate_participant(
            seed,
            replace(SimulationParams(), tsnr=tsnr),
            minutes=minutes,
            circuit=circuit,
            global_signal=gsr,
        )
    for r in rows:
        r["tsnr"] = tsnr
        r["circuit"] = circuit
    return rows


def summarise(
    rows: pd.DataFrame, keys: tuple[str, ...] = ("circuit", "tsnr", "minutes", "method")
) -> pd.DataFrame:
    """Compute the error percentiles and between-session distance per group of ``keys``.

    Median and 90th percentile error and median between-session distance per group of ``keys``
    (default: method, length and noise).

    ``rows`` has one target per ``seed`` (participant) and ``session`` (1 and 2) in each group.
    """
    keys = list(keys)
    err = rows.groupby(keys)["error_mm"].agg(
        median_error_mm="median",
        p90_error_mm=lambda e: float(np.percentile(e, 90)),
        n_targets="size",
        n_participants=lambda e: rows.loc[e.index, "seed"].nunique(),
    )
    s1 = rows[rows.session == 1].set_index([*keys, "seed"])[["x", "y", "z"]]
    s2 = rows[rows.session == 2].set_index([*keys, "seed"])[["x", "y", "z"]]
    dist = np.sqrt(((s1 - s2) ** 2).sum(axis=1)).rename("between_session_mm").reset_index()
    between = dist.groupby(keys)["between_session_mm"].median().rename("median_between_session_mm")
    return err.join(between).reset_index()


def to_markdown(table: pd.DataFrame) -> str:
    """Return the summary as a Markdown table (one block per circuit and noise level)."""
    lines = []
    for (circuit, tsnr), block in table.groupby(["circuit", "tsnr"]):
        lines += [
            f"### circuit {circuit}, tSNR {tsnr:g}",
            "",
            "| minutes | method | median error (mm) | 90th "
            "pct error (mm) | median between-session distance "
            "(mm) | targets |",
            "|---:|---|---:|---:|---:|---:|",
        ]
        for _, r in block.sort_values(["minutes", "median_error_mm"]).iterrows():
            lines.append(
                f"| {r.minutes:g} | {r.method} | {r.median_error_mm:.1f} "
                f"| {r.p90_error_mm:.1f} | {r.median_between_session_mm:.1f} "
                f"| {r.n_targets} |"
            )
        lines.append("")
    return "\n".join(lines)


def plot(table: pd.DataFrame, path: Path) -> None:
    """Median error against scan length, one line per method, one panel per noise level."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = list(table.groupby(["circuit", "tsnr"]))
    fig, axes = plt.subplots(1, len(groups), figsize=(5 * len(groups), 4), squeeze=False)
    for ax, ((circuit, tsnr), block) in zip(axes[0], groups):
        for method, m in block.groupby("method"):
            m = m.sort_values("minutes")
            ax.plot(m.minutes, m.median_error_mm, marker="o", label=method)
        ax.set(
            title=f"{circuit}, tSNR {tsnr:g}",
            xlabel="scan length (min)",
            ylabel="median error to planted target (mm)",
        )
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    axes[0][0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="8 participants, 5 and 10 min, default noise"
    )
    parser.add_argument("--participants", type=int, default=24)
    parser.add_argument("--minutes", type=float, nargs="+", default=[5, 10, 20])
    parser.add_argument("--tsnr", type=float, nargs="+", default=[40, 60])
    parser.add_argument("--circuit", choices=["sgacc", "map"], default="sgacc")
    parser.add_argument(
        "--gsr", action="store_true", help="regress the global signal (tmstarget target --gsr)"
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="default: benchmarks/results/quick or benchmarks/results/full",
    )
    args = parser.parse_args()
    if args.quick:
        args.participants, args.minutes, args.tsnr = 8, [5, 10], [60]
    if args.out is None:
        args.out = Path(__file__).parent / "results" / ("quick" if args.quick else "full")
    args.out.mkdir(parents=True, exist_ok=True)
    jobs = [
        (1000 + i, t, tuple(args.minutes), args.circuit, args.gsr)
        for t in args.tsnr
        for i in range(args.participants)
    ]
    t0 = time.perf_counter()
    rows = []
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        for i, r in enumerate(pool.map(_one, jobs), 1):
            rows += r
            print(
                f"\r{i}/{len(jobs)} participants ({time.perf_counter() - t0:.0f} s)",
                end="",
                flush=True,
            )
    print()
    df = pd.DataFrame(rows)
    df.to_csv(args.out / "accuracy_rows.csv", index=False, float_format="%.3f")
    table = summarise(df)
    table.to_csv(args.out / "accuracy.csv", index=False, float_format="%.3f")
    md = to_markdown(table)
    (args.out / "accuracy.md").write_text(md + "\n")
    plot(table, args.out / "accuracy.png")
    print(md)
    print(
        f"{len(jobs)} participants x 2 sessions in {time.perf_counter() - t0:.0f} "
        f"s (global signal regressed: {args.gsr}); written "
        f"to {args.out}"
    )


if __name__ == "__main__":
    main()
