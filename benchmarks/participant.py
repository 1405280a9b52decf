"""Per-participant time of ``tmstarget target`` against the bare load of both BOLDs.

The participant has 2 runs x 150 volumes.

The command is timed twice: with its default 200-resample bootstrap confidence radius and with
``--bootstrap 0``; their ratio is the cost of the default confidence radius (docs/reliability.md).

One simulated participant (fMRIPrep layout, MNI 2 mm, full 91x109x91 field of view, float32, TR 2 s)
is targeted by the whole command in a fresh process; the reference is
``nibabel.load(...).get_fdata`` of its two BOLD files in a fresh process. Both are timed from a warm
page cache, best of ``--repeat``.

    python benchmarks/participant.py [--repeat 3] [--workdir benchmarks/out]

With ``--methods`` (names, or ``all``) and ``--circuits`` (``sgacc``, ``convergent`` = the
convergent depression circuit map from ``../shared/data``), it prints instead the cost of the
default 95% region for every method and circuit: ``target`` / ``target --bootstrap 0`` (issue
28: <= 1.2 for each).

    python benchmarks/participant.py --methods all --circuits sgacc,convergent --repeat 2
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from targeting import SHARED_CIRCUIT, _measure

_LOAD2 = """
import nibabel as nib, numpy as np
data = [nib.load(p).get_fdata(dtype=np.float32) for p in sys.argv[1:]]
"""

_TARGET = """
from tmstarget.cli.main import main
code = main([
    "target", sys.argv[1], sys.argv[2], "participant", "--participant-label", "01", "--quiet",
    "--rerun", "--n-workers", "1", *sys.argv[3:],
])
assert code == 0
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--volumes", type=int, default=150)
    parser.add_argument(
        "--repeat", type=int, default=3, help="repetitions; the best time of each command is used"
    )
    parser.add_argument("--workdir", type=Path, default=Path(__file__).parent / "out")
    parser.add_argument("--methods", default=None, help="comma-separated methods, or 'all'")
    parser.add_argument("--circuits", default="sgacc", help="comma-separated: sgacc, convergent")
    args = parser.parse_args()

    src = args.workdir / f"fmriprep-2x{args.volumes}"
    if not (src / "sub-01").is_dir():
        from tmstarget.simulate import SimulationParams, simulate_dataset

        print(f"simulating {src} (one time) ...", flush=True)
        t0 = time.perf_counter()
        simulate_dataset(src, 1, 1, 2, SimulationParams(n_volumes=args.volumes, fov="full"), seed=5)
        print(f"  done in {time.perf_counter() - t0:.0f} s", flush=True)
    bolds = sorted(str(p) for p in (src / "sub-01" / "func").glob("*_desc-preproc_bold.nii.gz"))
    for b in bolds:  # warm the page cache
        with open(b, "rb") as f:
            while f.read(1 << 24):
                pass
    if args.methods:
        _region_cost(args, src)
        return
    loads, targets, plain = [], [], []
    for i in range(args.repeat):
        loads.append(_measure(_LOAD2, *bolds)[0])
        targets.append(_measure(_TARGET, str(src), str(args.workdir / f"participant-{i}"))[0])
        plain.append(
            _measure(
                _TARGET, str(src), str(args.workdir / f"participant-{i}-b0"), "--bootstrap", "0"
            )[0]
        )
        print(
            f"  run {i + 1}: load {loads[-1]:.2f} s   target "
            f"{targets[-1]:.2f} s   target --bootstrap 0 {plain[-1]:.2f} "
            "s",
            flush=True,
        )
    print(
        f"bare load of {len(bolds)} BOLDs: {min(loads):.2f} "
        f"s;  tmstarget target: {min(targets):.2f} s;  ratio "
        f"{min(targets) / min(loads):.2f}"
    )
    print(
        "default bootstrap (200 resamples) / --bootstrap "
        f"0: {min(targets):.2f} s / {min(plain):.2f} s = "
        f"{min(targets) / min(plain):.2f}"
    )


def _region_cost(args: argparse.Namespace, src: Path) -> None:
    """Print the default region's cost (with / without) for every method and circuit."""
    from tmstarget.targeting.methods import METHODS

    methods = list(METHODS) if args.methods == "all" else args.methods.split(",")
    print("| method | circuit | target (s) | --bootstrap 0 (s) | ratio |")
    print("|---|---|---:|---:|---:|")
    for circuit in args.circuits.split(","):
        circ = str(SHARED_CIRCUIT) if circuit == "convergent" else circuit
        for method in methods:
            opts = ["--method", method, "--circuit", circ]
            out = str(args.workdir / "region-cost")
            with_region = min(
                _measure(_TARGET, str(src), out, *opts)[0] for _ in range(args.repeat)
            )
            without = min(
                _measure(_TARGET, str(src), out, *opts, "--bootstrap", "0")[0]
                for _ in range(args.repeat)
            )
            print(
                f"| {method} | {circuit} | {with_region:.2f} | {without:.2f} "
                f"| {with_region / without:.2f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
