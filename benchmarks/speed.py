"""Speed of each targeting method, and of the similarity algebra against per-voxel seed maps.

On the 91x109x91 x 600-volume simulated BOLD made by ``benchmarks/targeting.py`` (made here if
absent):

1. wall time of ``compute_target`` for every ``--method`` on the same input (file reading included);
2. circuit similarity for every search voxel computed two ways from the same in-memory voxel data:
   - tmstarget: compress the cleaned data (one matrix product), r x r Gram matrix, O(r) per voxel;
   - per voxel, the way existing tools do it: clean the voxel time series, then for each search
     voxel a whole-brain seed map (correlation with every brain voxel) and its spatial correlation
     with the circuit map. This loop is timed on ``--sample`` search voxels and scaled to all of
     them;
   and the ratio is printed (goal >= 20). Both give the same numbers (checked on the sample).

    python benchmarks/speed.py [--sample 40]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workdir", type=Path, default=Path(__file__).parent / "out")
    parser.add_argument("--volumes", type=int, default=600)
    parser.add_argument(
        "--sample", type=int, default=40, help="search voxels timed in the per-voxel loop"
    )
    parser.add_argument(
        "--skip-methods",
        action="store_true",
        help="only part 2 (the algebra vs per-voxel comparison)",
    )
    args = parser.parse_args()

    from tmstarget.io.bids import find_runs
    from tmstarget.targeting import TargetingOptions, compute_target

    src = args.workdir / f"fmriprep-full-{args.volumes}"
    if not src.exists():
        from tmstarget.simulate import SimulationParams, simulate_dataset

        print(f"simulating {src} (one time) ...", flush=True)
        simulate_dataset(
            src, 1, 1, 1, SimulationParams(n_volumes=args.volumes, t_r=0.8, fov="full"), seed=3
        )
    runs = find_runs(src, "01")

    print("1. compute_target per method (same input, file reading included)")
    from tmstarget.targeting import METHODS

    for method in () if args.skip_methods else tuple(METHODS):
        t0 = time.perf_counter()
        res = compute_target(runs, TargetingOptions(method=method), src)
        print(
            f"   {method:<13} {time.perf_counter() - t0:6.1f} "
            f"s   target {np.round(res.target_mni, 1).tolist()}"
        )

    print("2. circuit similarity of every search voxel: algebra vs per-voxel seed maps")
    import nibabel as nib

    from tmstarget.io.confounds import load_run_confounds
    from tmstarget.targeting.circuits import SGACC_MNI, SGACC_RADIUS_MM, sphere_mask
    from tmstarget.targeting.cleaning import cleaning_matrix, compress_operator, normalize_columns
    from tmstarget.targeting.connectivity import circuit_similarity, seed_map, seed_timecourse
    from tmstarget.targeting.regions import dlpfc_search_mask

    img = nib.load(runs[0].bold)
    brain = np.asanyarray(nib.load(runs[0].mask).dataobj) > 0.5
    flat = np.flatnonzero(brain.ravel(order="F"))
    x = (
        np.asarray(img.dataobj, dtype=np.float32)
        .reshape(-1, img.shape[3], order="F")[flat]
        .T.copy()
    )  # (T, V)
    t_r = float(img.header.get_zooms()[3])
    conf = load_run_confounds(runs[0].confounds, x.shape[0])
    region = dlpfc_search_mask(brain, img.affine).ravel(order="F")[flat]
    search = np.flatnonzero(region)
    seed_idx = np.flatnonzero(
        sphere_mask(img.affine, brain.shape, SGACC_MNI, SGACC_RADIUS_MM).ravel(order="F")[flat]
    )
    circuit_idx = np.flatnonzero(~region)
    mat = cleaning_matrix(x.shape[0], t_r, conf.confounds, conf.sample_mask)
    mat -= mat.mean(
        axis=0, keepdims=True
    )  # centred over kept volumes, as in tmstarget.targeting.cleaning.run_operator

    t0 = time.perf_counter()
    op = compress_operator(mat, conf.sample_mask)
    w, _ = normalize_columns(op.projector @ x)
    circuit = -seed_map(w, seed_timecourse(w, seed_idx))
    fast = circuit_similarity(w, circuit, search, circuit_idx)
    t_fast = time.perf_counter() - t0

    t0 = time.perf_counter()
    # cleaned time series (kept volumes, V), in float32 like ours; voxel means first removed so that
    # float32 rounding of the operator does not leak the large baseline (~1000) into the result
    y = mat.astype(np.float32) @ (x - x.mean(axis=0))
    y -= y.mean(0)
    y /= np.linalg.norm(y, axis=0) + 1e-12
    y_circuit = np.ascontiguousarray(
        y[:, circuit_idx].T
    )  # (M, T): rows contiguous for the seed maps
    t_clean = time.perf_counter() - t0
    sample = search[np.linspace(0, search.size - 1, min(args.sample, search.size)).astype(int)]
    c = circuit[circuit_idx]
    t0 = time.perf_counter()
    slow = []
    for s in sample:
        seedmap = y_circuit @ y[:, s]  # one whole-brain seed map
        slow.append(np.corrcoef(seedmap, c)[0, 1])
    t_loop = (time.perf_counter() - t0) / sample.size * search.size
    t_slow = t_clean + t_loop
    agree = np.max(np.abs(np.asarray(slow) - fast[np.searchsorted(search, sample)]))
    print(
        f"   search voxels {search.size}, brain voxels {flat.size}, "
        f"volumes {x.shape[0]}, rank r = {op.rank}"
    )
    print(f"   tmstarget algebra:        {t_fast:7.2f} s")
    print(
        f"   per-voxel seed maps:      {t_slow:7.1f} s  "
        f"(cleaning {t_clean:.1f} s + loop {t_loop:.1f} "
        f"s, scaled from {sample.size} voxels)"
    )
    print(f"   max |difference| on the sample: {agree:.1e}")
    print(f"   speed-up ratio = {t_slow / t_fast:.0f}x   (goal >= 20x)")


if __name__ == "__main__":
    main()
