"""Start-up time of the command line: the median wall time of its ``--help`` calls.

The calls are ``tmstarget --help`` and every ``COMMAND --help``.

Each run is a fresh interpreter (``python -m tmstarget.cli.main ... --help``), so imports are paid
every time, as a user pays them. Goal (issue 26): at most 0.3 s on a quiet 2-core machine. Under
load the numbers grow with the load; compare runs made on the same machine at the same load.

usage: PYTHONPATH=src python benchmarks/startup.py [--runs N] [--commands target coil ...]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), *filter(None, [env.get("PYTHONPATH")])])
    env["PYTHONWARNINGS"] = (
        "ignore"  # runpy's "found in sys.modules" note is not part of the timing
    )
    return env


def median_help_time(args: list[str], runs: int) -> float:
    """Return the median wall time (s) of ``*args --help`` over ``runs`` fresh processes.

    Each process runs ``python -m tmstarget.cli.main *args --help``.
    """
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "tmstarget.cli.main", *args, "--help"],
            env=_env(),
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--runs", type=int, default=5, help="runs per command (the median is printed)"
    )
    parser.add_argument(
        "--commands", nargs="*", default=None, help="commands to time (default: all)"
    )
    args = parser.parse_args()
    sys.path.insert(0, str(SRC))
    from tmstarget.cli.parser import command_names

    commands = args.commands if args.commands is not None else command_names()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"median of {args.runs} runs, load average {load:.2f}, {os.cpu_count()} cores")
    rows = [("tmstarget --help", median_help_time([], args.runs))]
    rows += [(f"tmstarget {c} --help", median_help_time([c], args.runs)) for c in commands]
    width = max(len(name) for name, _ in rows)
    for name, t in rows:
        print(f"{name:<{width}}  {t:6.3f} s")
    print(f"{'slowest':<{width}}  {max(t for _, t in rows):6.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
