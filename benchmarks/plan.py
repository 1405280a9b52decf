"""The whole patient plan against the bare load of the BOLD files (issue 28).

The plan is the target with its region, the coil and the report.

One simulated participant (fMRIPrep layout, MNI 2 mm, full 91x109x91 field of view, 2 runs x
``--volumes``, TR 2 s, circuit ``--circuit``). Each step runs as a clinic runs it, in a fresh
process (start-up included), from a warm page cache, best of ``--repeat``:

- **bare load**: ``nibabel.load(...).get_fdata(dtype=float32)`` of both BOLD files — the physical
  limit;
- **start-up**: ``tmstarget --help``;
- **target**: ``tmstarget target`` with its default 95% region (200 resamples) — with an empty data
  cache (``cold``: the placement landscape behind the verdict's stimulation share is built) and with
  the cache of the first run (``warm``: read from disk, as for every later participant on the same
  grid);
- **target --bootstrap 0**;
- **coil**: ``tmstarget coil --target-json T --optimize`` with the Localite and Brainsight exports;
- **report**: ``tmstarget report OUT participant`` with the coil JSON — with an empty figure cache
  (``cold``: every figure drawn, as for a new patient; the patient-independent template caches
  are kept, built by one untimed report before) and with the figures of the cold run cached
  (``warm``: a report rebuilt from the same outputs, the step counted in the whole plan).

Printed: each step's wall time, its ratio to the bare load, its peak resident memory against the
BOLD files' float32 size, and the whole plan (target warm + coil + report) as a ratio. Goal (issue
28): whole plan <= 3.0x the bare load.

    python benchmarks/plan.py [--repeat 2] [--volumes 150] [--circuit convergent|sgacc]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from targeting import SHARED_CIRCUIT, _measure  # noqa: E402

_LOAD = """
import nibabel as nib, numpy as np
data = [nib.load(p).get_fdata(dtype=np.float32) for p in sys.argv[1:]]
"""

_CLI = """
from tmstarget.cli.main import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
assert code == 0, code
"""


def _best(n: int, body: str, *args: str, env: dict | None = None, before=None) -> tuple[float, int]:
    """Best wall time and the peak RSS (bytes) of ``n`` fresh-process runs."""
    runs = []
    for _ in range(n):
        if before is not None:
            before()
        old = dict(os.environ)
        os.environ.update(env or {})
        try:
            runs.append(_measure(body, *args))
        finally:
            os.environ.clear()
            os.environ.update(old)
    return min(r[0] for r in runs), max(r[1] for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--volumes", type=int, default=150)
    parser.add_argument(
        "--repeat", type=int, default=2, help="repetitions; the best time of each step is used"
    )
    parser.add_argument(
        "--circuit",
        default="convergent",
        help="convergent (the shared copy when present), sgacc or a path",
    )
    parser.add_argument("--workdir", type=Path, default=Path(__file__).parent / "out")
    args = parser.parse_args()
    circuit = (
        str(SHARED_CIRCUIT)
        if args.circuit == "convergent" and SHARED_CIRCUIT.is_file()
        else args.circuit
    )

    src = args.workdir / f"fmriprep-2x{args.volumes}"
    if not (src / "sub-01").is_dir():
        from tmstarget.simulate import SimulationParams, simulate_dataset

        print(f"simulating {src} (one time) ...", flush=True)
        simulate_dataset(src, 1, 1, 2, SimulationParams(n_volumes=args.volumes, fov="full"), seed=5)
    bolds = sorted(str(p) for p in (src / "sub-01" / "func").glob("*_desc-preproc_bold.nii.gz"))
    for b in bolds:  # warm the page cache
        with open(b, "rb") as f:
            while f.read(1 << 24):
                pass
    import nibabel as nib
    import numpy as np

    bold_mb = sum(int(np.prod(nib.load(b).shape)) * 4 for b in bolds) / 1e6
    out = args.workdir / "plan"
    cache = args.workdir / "plan-cache"
    target = [
        "target",
        str(src),
        str(out),
        "participant",
        "--participant-label",
        "01",
        "--quiet",
        "--rerun",
        "--n-workers",
        "1",
        "--circuit",
        circuit,
    ]
    desc = "convergent" if args.circuit == "convergent" else Path(circuit).name.split(".")[0]
    t_json = out / "sub-01" / f"sub-01_desc-{desc}_target.json"
    coil_json = args.workdir / "plan-coil.json"
    steps: dict[str, tuple[float, int]] = {}
    n = args.repeat
    steps["bare load (2 BOLDs)"] = _best(n, _LOAD, *bolds)
    steps["start-up (--help)"] = _best(n, _CLI, "--help")
    steps["target, cold cache"] = _best(
        n,
        _CLI,
        *target,
        env={"TMSTARGET_DATA": str(cache)},
        before=lambda: shutil.rmtree(cache, ignore_errors=True),
    )
    steps["target (default region)"] = _best(n, _CLI, *target, env={"TMSTARGET_DATA": str(cache)})
    steps["target --bootstrap 0"] = _best(
        n, _CLI, *target, "--bootstrap", "0", env={"TMSTARGET_DATA": str(cache)}
    )
    if not t_json.is_file():
        t_json = next((out / "sub-01").glob("*_target.json"))
    coil = [
        "coil",
        "--target-json",
        str(t_json),
        "--optimize",
        "--localite",
        str(args.workdir / "plan.xml"),
        "--brainsight",
        str(args.workdir / "plan-brainsight.txt"),
        "--json",
    ]
    steps["coil --optimize + exports"] = _best(n, _CLI, *coil)
    import subprocess

    coil_json.write_text(
        subprocess.run(
            [sys.executable, "-m", "tmstarget.cli.main", *coil],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    json.loads(coil_json.read_text())
    report = [
        "report",
        str(out),
        "participant",
        "--participant-label",
        "01",
        "--coil-json",
        str(coil_json),
        "--quiet",
    ]
    figures = cache / "report-figures"  # the report's figure cache (tmstarget.report.figcache)
    # one untimed report first: the patient-independent template caches (scalp rules, grey-matter
    # lattice) exist, as after the first report on this machine; "cold" then means a new patient
    _best(1, _CLI, *report, env={"TMSTARGET_DATA": str(cache)})
    steps["report, cold figure cache"] = _best(
        n,
        _CLI,
        *report,
        env={"TMSTARGET_DATA": str(cache)},
        before=lambda: shutil.rmtree(figures, ignore_errors=True),
    )
    steps["report (participant)"] = _best(n, _CLI, *report, env={"TMSTARGET_DATA": str(cache)})
    load = steps["bare load (2 BOLDs)"][0]
    print(
        f"\nBOLD float32 size: {bold_mb:.0f} MB; bare load "
        f"{load:.2f} s (best of {n}); "
        f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}"
    )
    print("| step | wall (s) | / bare load | peak RSS (MB) | / BOLD float32 |")
    print("|---|---:|---:|---:|---:|")
    for name, (wall, rss) in steps.items():
        print(
            f"| {name} | {wall:.2f} | {wall / load:.2f} | "
            f"{rss / 1e6:.0f} | {rss / 1e6 / bold_mb:.2f} "
            "|"
        )
    plan = sum(
        steps[k][0]
        for k in ("target (default region)", "coil --optimize + exports", "report (participant)")
    )
    peak = max(
        steps[k][1]
        for k in ("target (default region)", "coil --optimize + exports", "report (participant)")
    )
    print(
        f"| **whole plan** (target + coil + report) | {plan:.2f} "
        f"| **{plan / load:.2f}** | {peak / 1e6:.0f} | {peak / 1e6 / bold_mb:.2f} "
        "|"
    )
    cold = plan - steps["report (participant)"][0] + steps["report, cold figure cache"][0]
    peak = max(peak, steps["report, cold figure cache"][1])
    print(
        f"| whole plan, report with a cold figure cache | {cold:.2f} "
        f"| {cold / load:.2f} | {peak / 1e6:.0f} | {peak / 1e6 / bold_mb:.2f} "
        "|"
    )


if __name__ == "__main__":
    t0 = time.perf_counter()
    main()
    print(f"(benchmark ran {time.perf_counter() - t0:.0f} s)")
