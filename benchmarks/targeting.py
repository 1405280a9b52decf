"""Targeting speed and memory against the physical limit (reading the BOLD file).

On a 91x109x91 x 600-volume float32 MNI BOLD (.nii.gz) this prints, measured in one run:

(a) wall time of ``tmstarget target`` / wall time of ``nibabel.load(...).get_fdata(dtype=float32)``
    on the same file (goal <= 1.5);
(b) peak resident memory of ``tmstarget target`` / the BOLD's float32 size (goal <= 2.5).

Both commands run in fresh subprocesses (timed as whole processes, start-up and imports included),
after one untimed read that puts the file in the page cache, so both are timed from a warm cache.
Usage::

    python benchmarks/targeting.py [--volumes 600] [--repeat 2] [--workdir benchmarks/out]

The first run simulates the dataset (a few minutes) and keeps it in the work folder.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

#: The convergent depression circuit map (MNI 2 mm) from ../shared/data, used by the benchmarks.
SHARED_CIRCUIT = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "data"
    / "circuits"
    / "DepressionCircuit_space-MNI152NLin6Asym_res-02.nii.gz"
)

# Peak memory is the process's own high-water mark (VmHWM); ru_maxrss would include the parent's
# peak, which a forked child inherits on Linux.
_MEASURE = """
import sys, time
t0 = time.perf_counter()
{body}
wall = time.perf_counter() - t0
hwm = [int(l.split()[1]) * 1024 for l in open("/proc/self/status") if l.startswith("VmHWM")][0]
print("MEASURE", wall, hwm)
"""

_LOAD = """
import nibabel as nib, numpy as np
data = nib.load(sys.argv[1]).get_fdata(dtype=np.float32)
"""

_TARGET = """
from tmstarget.cli.main import main
code = main([
    "target", sys.argv[1], sys.argv[2], "participant", "--participant-label", "01", "--quiet",
    "--rerun",
])
assert code == 0
"""


def _measure(body: str, *args: str) -> tuple[float, int]:
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE.format(body=body), *args],
        capture_output=True,
        text=True,
        check=True,
    )
    wall_process = time.perf_counter() - t0  # includes interpreter start-up and imports
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("MEASURE")][-1]
    _, _, rss = line.split()
    return wall_process, int(rss)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--volumes", type=int, default=600)
    parser.add_argument("--tr", type=float, default=0.8)
    parser.add_argument(
        "--repeat", type=int, default=2, help="repetitions; the best time of each command is used"
    )
    parser.add_argument("--workdir", type=Path, default=Path(__file__).parent / "out")
    args = parser.parse_args()

    src = args.workdir / f"fmriprep-full-{args.volumes}"
    bold = (
        src
        / "sub-01"
        / "func"
        / "sub-01_task-rest_space-MNI152NLin6Asym_res-2_desc-preproc_bold.nii.gz"
    )
    if not bold.exists():
        from tmstarget.simulate import SimulationParams, simulate_dataset

        print(f"simulating {bold} (one time) ...", flush=True)
        t0 = time.perf_counter()
        simulate_dataset(
            src, 1, 1, 1, SimulationParams(n_volumes=args.volumes, t_r=args.tr, fov="full"), seed=3
        )
        print(f"  done in {time.perf_counter() - t0:.0f} s", flush=True)
    import nibabel as nib

    img = nib.load(bold)
    f32_bytes = int(4 * __import__("numpy").prod(img.shape))
    print(
        f"BOLD {img.shape} {img.get_data_dtype()} — {bold.stat().st_size / 2**20:.0f} "
        f"MiB on disk, {f32_bytes / 2**30:.2f} GiB as float32"
    )
    print(
        f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')} "
        f" cores={os.cpu_count()}"
    )
    with open(bold, "rb") as f:  # warm the page cache
        while f.read(1 << 24):
            pass
    loads, targets = [], []
    for i in range(args.repeat):
        loads.append(_measure(_LOAD, str(bold)))
        targets.append(_measure(_TARGET, str(src), str(args.workdir / f"tmstarget-{i}")))
        print(
            f"  run {i + 1}: load {loads[-1][0]:.1f} s / {loads[-1][1] / 2**30:.2f} "
            f"GiB   target {targets[-1][0]:.1f} s / {targets[-1][1] / 2**30:.2f} "
            "GiB",
            flush=True,
        )
    load_s = min(t for t, _ in loads)
    target_s = min(t for t, _ in targets)
    target_rss = max(r for _, r in targets)
    timings = json.loads(
        (args.workdir / "tmstarget-0" / "sub-01" / "sub-01_desc-sgacc_target.json").read_text()
    )
    print(
        f"bare nibabel load+get_fdata(float32): {load_s:.1f} "
        f"s, peak {min(r for _, r in loads) / 2**30:.2f} "
        "GiB"
    )
    print(
        f"tmstarget target (whole command):     {target_s:.1f} "
        f"s, peak {target_rss / 2**30:.2f} GiB ({timings['n_volumes_used']} "
        "volumes used)"
    )
    print(f"(a) time ratio   target / load    = {target_s / load_s:.2f}   (goal <= 1.5)")
    print(f"(b) memory ratio peak / float32   = {target_rss / f32_bytes:.2f}   (goal <= 2.5)")


if __name__ == "__main__":
    main()
