"""Coil placement optimisation time per participant, and what it gains over the default placement.

Prints, for simulated participants on the template head (a circuit "hot spot" planted at a random
left-DLPFC location, a target picked near it with a few mm of error, a noisy score map over grey
matter), the wall time of the optimisation (reference field + coarse grid + Nelder-Mead), of the
whole coil plan (placement, optimisation, E-field summary), and the E-field-weighted circuit score
of the optimised vs the default placement. With the group depression-circuit map in
``../shared/data`` it also optimises three published DLPFC targets against it. Usage::

    python benchmarks/coil.py [--participants 8] [--seed 7] [--coil magventure-cool-b65]

For comparison: TANS (Lynch et al. 2022) optimises coil placement with finite-element simulations in
hours per participant; SimNIBS's ADM optimisation takes minutes.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from targeting import SHARED_CIRCUIT

GROUP_MAP = SHARED_CIRCUIT
PUBLISHED = {
    "BA46 (-44, 40, 29)": (-44.0, 40.0, 29.0),
    "BA9 (-36, 39, 43)": (-36.0, 39.0, 43.0),
    "F3 (-37, 26, 49)": (-37.0, 26.0, 49.0),
}


def grey_matter_voxels() -> tuple[np.ndarray, np.ndarray, tuple]:
    """Voxel centres of nilearn's MNI152 grey-matter mask at 2 mm (as ``tmstarget coil`` uses)."""
    from nilearn.datasets import load_mni152_gm_mask

    img = load_mni152_gm_mask(resolution=2)
    ijk = np.argwhere(img.get_fdata() > 0.5)
    return ijk @ img.affine[:3, :3].T + img.affine[:3, 3], img.affine, img.shape


def run(participants: int, seed: int, coil_key: str) -> None:
    from tmstarget.coil import get_coil, plan_coil
    from tmstarget.headmodel import load_template_head

    head = load_template_head()
    coil = get_coil(coil_key)
    points, _, _ = grey_matter_voxels()
    rng = np.random.default_rng(seed)
    print(
        f"coil {coil.name}; {len(points)} grey-matter voxels; "
        f"template head ({len(head.scalp_vertices)} scalp "
        "vertices)"
    )
    print(
        f"{'participant':>11} {'opt s':>6} {'plan s':>6} "
        f"{'evals':>6} {'default':>8} {'optimised':>9} {'shift mm':>8} "
        f"{'rot deg':>7}"
    )
    times, gains = [], []
    for k in range(participants):
        hot = np.array([-40.0, 42.0, 30.0]) + rng.uniform(-12, 12, size=3)
        target = hot + rng.normal(scale=3.0, size=3)
        values = np.exp(-((points - hot) ** 2).sum(1) / (2 * 9.0**2)) + 0.05 * rng.normal(
            size=len(points)
        )
        t0 = time.perf_counter()
        plan = plan_coil(head, target, coil, circuit_points_mm=points, circuit_values=values)
        total = time.perf_counter() - t0
        opt = plan.optimization
        times.append(opt.time_s)
        gains.append(opt.score - opt.default_score)
        print(
            f"{k + 1:>11} {opt.time_s:6.2f} {total:6.2f} {opt.n_evaluations:6d} "
            f"{opt.default_score:8.4f} {opt.score:9.4f} "
            f"{opt.shift_mm:8.1f} {opt.rotation_deg:7.1f}"
        )
    print(
        f"optimisation per participant: median {statistics.median(times):.2f} "
        f"s (range {min(times):.2f}-{max(times):.2f} s); "
        f"optimised >= default in {sum(g >= 0 for g in gains)}/{len(gains)}, "
        f"median gain {statistics.median(gains):+.4f}"
    )
    if GROUP_MAP.is_file():
        import nibabel as nib

        from tmstarget.targeting.circuits import load_circuit_map

        img = nib.load(str(GROUP_MAP))
        vals = load_circuit_map(GROUP_MAP, img.affine, img.shape)
        gm, gm_affine, gm_shape = grey_matter_voxels()
        ijk = np.rint((gm - img.affine[:3, 3]) @ np.linalg.inv(img.affine[:3, :3]).T).astype(int)
        ok = np.all((ijk >= 0) & (ijk < np.array(img.shape)), axis=1)
        v = np.full(len(gm), np.nan)
        v[ok] = vals[tuple(ijk[ok].T)]
        keep = np.isfinite(v)
        print(f"group depression-circuit map ({GROUP_MAP.name}), {keep.sum()} voxels:")
        for name, target in PUBLISHED.items():
            plan = plan_coil(head, target, coil, circuit_points_mm=gm[keep], circuit_values=v[keep])
            opt = plan.optimization
            print(
                f"  {name:>18}: {opt.time_s:.2f} s, weighted "
                f"score {opt.default_score:.3f} -> {opt.score:.3f}, "
                f"entry moved {opt.shift_mm:.1f} mm, centroid "
                f"{np.round(opt.stimulated_centroid_mm, 1).tolist()}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--participants", type=int, default=8)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--coil", default="magventure-cool-b65")
    args = parser.parse_args()
    run(args.participants, args.seed, args.coil)


if __name__ == "__main__":
    main()
