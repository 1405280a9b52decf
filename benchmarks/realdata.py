"""Split-half reliability of tmstarget on one real resting-state run.

For the benchmarks only; never in the tests.

Data: the preprocessing-tutorial run that the public Python package brainspace 0.3.0 ships
(``brainspace/datasets/preprocessing/``, BSD-3-Clause): participant 010188, fsaverage5 left/right
``.mgz`` (10,242 vertices each), 652 volumes, TR 1.4 s, and 29 unnamed confound columns (six motion
parameters and their derivatives, a few spike regressors and signal regressors, as in the tutorial).
The wheel is downloaded once with ``pip download`` into a cache (``--cache``, default
``$TMSTARGET_DATA/realdata`` or ``~/.cache/tmstarget/realdata``) and checked against its SHA-256;
nothing of it is committed. Offline, put ``brainspace-0.3.0-py3-none-any.whl`` into the cache folder
yourself.

What it does: the run is cut into two halves of 326 volumes; in each half the 29 confounds (and a
constant) are regressed out of every vertex; each half becomes a session of an fMRIPrep-like
fsaverage5 dataset (``sub-010188/ses-1|2/func/..._hemi-L|R_space-fsaverage5_bold.func.gii`` with a
JSON sidecar and a confounds TSV). ``tmstarget target --space fsaverage5 --confounds-strategy none
--fd-threshold none`` then runs per session, method and circuit, and the script prints, per method
and circuit: the distance between the two halves' targets, the spatial correlation of their score
maps over the search region, the 95% bootstrap radius of each half when the command computes it (and
its bootstrap and split parts, ``confidence_drift``), whether each half's 95% region contains the
other half's target, whether the halves' distance is within the combined radii ``√(r_A² + r_B²)``,
each half's verdict, the distance between the halves' **coil centres** (a coil-scale method's own
placement, else the default placement over each target on the template head), the coil centre's 95%
radii of a coil-scale method, and the share of the achievable E-field-weighted circuit score each
half's plan keeps across its 95% region (``reliability_verdict.stimulation``).

    python benchmarks/realdata.py [--methods robust similarity] [--circuits sgacc convergent]
    [--bootstrap 200]

``convergent`` uses
``../shared/data/circuits/DepressionCircuit_space-MNI152NLin6Asym_res-02.nii.gz`` when it is there,
else the command's own (downloaded, checksummed) copy.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
from targeting import SHARED_CIRCUIT

WHEEL = "brainspace-0.3.0-py3-none-any.whl"
WHEEL_SHA256 = "aec3854a9ad2ed8f05ee4da04943307833135320c990688ba7f16def1ce0132c"
STEM = "brainspace/datasets/preprocessing/sub-010188_ses-02_task-rest_acq-AP_run-01"
T_R = 1.4
LABEL = "010188"


def _surface_methods() -> list[str]:
    """Return every method of ``tmstarget target`` that runs on fsaverage inputs.

    The methods are found from the registry's input kinds.
    """
    from tmstarget.targeting.methods import methods_for

    return list(methods_for("surface"))


def default_cache() -> Path:
    root = os.environ.get("TMSTARGET_DATA")
    return (Path(root) if root else Path.home() / ".cache" / "tmstarget") / "realdata"


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def fetch_wheel(cache: Path) -> Path:
    """Return the brainspace wheel in ``cache``, checked against its SHA-256.

    The wheel is downloaded with pip once.
    """
    cache.mkdir(parents=True, exist_ok=True)
    wheel = cache / WHEEL
    if not wheel.is_file():
        print(f"downloading {WHEEL} (61 MB) with pip into {cache} ...", file=sys.stderr)
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--quiet",
            "brainspace==0.3.0",
            "-d",
            str(cache),
        ]
        if subprocess.run(cmd).returncode != 0 or not wheel.is_file():
            sys.exit(
                f"realdata: could not download brainspace 0.3.0 — offline, put {WHEEL} into {cache}"
            )
    if sha256(wheel) != WHEEL_SHA256:
        sys.exit(
            f"realdata: {wheel} does not have the expected "
            f"SHA-256 {WHEEL_SHA256} — delete it and run again"
        )
    return wheel


def load_run(wheel: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Left and right time series (vertices × volumes, float64) and the confounds (volumes × 29)."""
    import nibabel as nib

    with zipfile.ZipFile(wheel) as z:
        extract = wheel.parent / "brainspace-0.3.0"
        for suffix in (".fsa5.lh.mgz", ".fsa5.rh.mgz", "_confounds.txt"):
            target = extract / Path(STEM + suffix).name
            if not target.is_file():
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(z.read(STEM + suffix))
    name = Path(STEM).name
    lh = np.asarray(
        nib.load(str(extract / f"{name}.fsa5.lh.mgz")).dataobj, dtype=np.float64
    ).reshape(10242, -1)
    rh = np.asarray(
        nib.load(str(extract / f"{name}.fsa5.rh.mgz")).dataobj, dtype=np.float64
    ).reshape(10242, -1)
    confounds = np.loadtxt(extract / f"{name}_confounds.txt")
    if lh.shape[1] != confounds.shape[0]:
        sys.exit(
            f"realdata: {lh.shape[1]} volumes but {confounds.shape[0]} "
            "confound rows in the wheel's run"
        )
    return lh, rh, confounds


def regress(data: np.ndarray, confounds: np.ndarray) -> np.ndarray:
    """Regress the confounds and a constant out of vertex time series; add the vertex mean back."""
    design = np.column_stack([np.ones(len(confounds)), confounds - confounds.mean(0)])
    beta, *_ = np.linalg.lstsq(design, data.T, rcond=None)
    return (data.T - design[:, 1:] @ beta[1:]).T


def write_half(root: Path, session: str, lh: np.ndarray, rh: np.ndarray) -> None:
    """Write one half as an fMRIPrep-like fsaverage5 session.

    The session has a GIFTI per hemisphere, a sidecar and a confounds TSV.
    """
    import nibabel as nib

    func = root / f"sub-{LABEL}" / f"ses-{session}" / "func"
    func.mkdir(parents=True, exist_ok=True)
    prefix = f"sub-{LABEL}_ses-{session}_task-rest"
    for hemi, data in (("L", lh), ("R", rh)):
        arrays = [
            nib.gifti.GiftiDataArray(
                col.astype(np.float32),
                intent="NIFTI_INTENT_TIME_SERIES",
                datatype="NIFTI_TYPE_FLOAT32",
            )
            for col in data.T
        ]
        nib.save(
            nib.gifti.GiftiImage(darrays=arrays),
            str(func / f"{prefix}_hemi-{hemi}_space-fsaverage5_bold.func.gii"),
        )
    (func / f"{prefix}_space-fsaverage5_bold.json").write_text(json.dumps({"RepetitionTime": T_R}))
    n = lh.shape[1]
    (func / f"{prefix}_desc-confounds_timeseries.tsv").write_text(
        "framewise_displacement\n" + "n/a\n" + "0.0\n" * (n - 1)
    )
    (root / "dataset_description.json").write_text(
        json.dumps(
            {
                "Name": "brainspace 0.3.0 tutorial run, split in halves",
                "BIDSVersion": "1.9.0",
                "DatasetType": "derivatives",
            }
        )
    )


def build_dataset(wheel: Path, root: Path) -> None:
    lh, rh, confounds = load_run(wheel)
    half = lh.shape[1] // 2
    for session, cut in (("1", slice(0, half)), ("2", slice(half, 2 * half))):
        write_half(
            root, session, regress(lh[:, cut], confounds[cut]), regress(rh[:, cut], confounds[cut])
        )


def run_target(
    fmriprep: Path, out: Path, session: str, circuit: str, method: str, bootstrap: int
) -> dict:
    cmd = [
        sys.executable,
        "-m",
        "tmstarget.cli.main",
        "target",
        str(fmriprep),
        str(out),
        "participant",
        "--participant-label",
        LABEL,
        "--session",
        session,
        "--space",
        "fsaverage5",
        "--confounds-strategy",
        "none",
        "--fd-threshold",
        "none",
        "--circuit",
        circuit,
        "--method",
        method,
        "--json",
        "--quiet",
        "--rerun",
    ]
    if bootstrap:
        cmd += ["--bootstrap", str(bootstrap)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        return {
            "error": proc.stderr.strip().splitlines()[-1]
            if proc.stderr.strip()
            else f"exit {proc.returncode}"
        }
    obj = json.loads(proc.stdout)
    obj = obj[0] if isinstance(obj, list) else obj  # one session: 'target --json' prints one object
    obj["_seconds"] = time.perf_counter() - t0
    return obj


def coil_centre(target: dict) -> np.ndarray:
    """Return the coil centre (scalp entry, MNI mm) of a target.

    A coil-scale method's own placement, else the default placement over the target on the template
    head (what 'tmstarget coil' does without --optimize).
    """
    block = target.get("coil_placement")
    if block:
        return np.asarray(block["placement"]["scalp_entry_mm"], float)
    from tmstarget.coil.geometry import place_on_head
    from tmstarget.headmodel import load_template_head

    return place_on_head(load_template_head(), target["target_mni"]).scalp_mm


def score_vector(out: Path, session: str, circuit_desc: str) -> np.ndarray:
    import nibabel as nib

    folder = out / f"sub-{LABEL}" / f"ses-{session}"
    parts = []
    for hemi in "LR":
        files = sorted(folder.glob(f"*hemi-{hemi}*desc-{circuit_desc}*score*.gii"))
        if files:
            parts.append(
                np.concatenate(
                    [np.asarray(d.data, float).ravel() for d in nib.load(str(files[0])).darrays]
                )
            )
    return np.concatenate(parts) if parts else np.array([])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=default_cache())
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out" / "realdata")
    parser.add_argument("--methods", nargs="+", default=_surface_methods())
    parser.add_argument("--circuits", nargs="+", default=["convergent", "sgacc"])
    parser.add_argument(
        "--bootstrap", type=int, default=200, help="resamples for the 95%% radius (0: none)"
    )
    args = parser.parse_args()

    fmriprep = args.out / "fmriprep"
    if not (fmriprep / "dataset_description.json").is_file():
        build_dataset(fetch_wheel(args.cache), fmriprep)
    rows = []
    for circuit in args.circuits:
        spec = (
            str(SHARED_CIRCUIT) if circuit == "convergent" and SHARED_CIRCUIT.is_file() else circuit
        )
        for method in args.methods:
            out = args.out / "targets" / f"{circuit}-{method}"
            res = [run_target(fmriprep, out, s, spec, method, args.bootstrap) for s in ("1", "2")]
            row = {"circuit": circuit, "method": method}
            if any("error" in r for r in res):
                row["error"] = next(r["error"] for r in res if "error" in r)
                rows.append(row)
                print(json.dumps(row), flush=True)
                continue
            a, b = (np.array(r["target_mni"]) for r in res)
            row["split_half_mm"] = round(float(np.linalg.norm(a - b)), 1)
            desc = res[0].get("circuit", circuit)
            sa, sb = score_vector(out, "1", desc), score_vector(out, "2", desc)
            ok = (
                np.isfinite(sa) & np.isfinite(sb) & (sa != 0) & (sb != 0)
                if sa.size and sa.size == sb.size
                else None
            )
            row["score_map_r"] = (
                round(float(np.corrcoef(sa[ok], sb[ok])[0, 1]), 3)
                if ok is not None and ok.sum() > 2
                else None
            )
            radii = [r.get("confidence_radius_mm") for r in res]
            row["radius_95_mm"] = radii
            row["other_half_inside"] = [
                None if rad is None else bool(row["split_half_mm"] <= rad) for rad in radii
            ]
            if all(
                rad is not None for rad in radii
            ):  # issue 25: the halves' distance against the combined radii
                row["within_combined"] = bool(row["split_half_mm"] <= float(np.hypot(*radii)))
            drift = [r.get("confidence_drift") or {} for r in res]
            row["bootstrap_radius_mm"] = [d.get("bootstrap_radius_mm") for d in drift]
            row["split_radius_mm"] = [d.get("radius_mm") for d in drift]
            row["own_split_mm"] = [d.get("distances_mm") for d in drift]
            verdicts = [r.get("reliability_verdict") or {} for r in res]
            row["reliable"] = [v.get("reliable") for v in verdicts]
            row["reliable_but_other_half_gt_10mm"] = (
                any(v.get("reliable") for v in verdicts) and row["split_half_mm"] > 10.0
            )
            row["verdicts"] = [v.get("text") for v in verdicts]
            centres = [coil_centre(r) for r in res]
            row["coil_centre_split_mm"] = round(float(np.linalg.norm(centres[0] - centres[1])), 1)
            coil_radii = [
                (r.get("coil_placement") or {}).get("coil_centre_confidence", {}).get("radius_mm")
                for r in res
            ]
            row["coil_centre_radius_mm"] = coil_radii
            if all(rad is not None for rad in coil_radii):
                row["coil_centre_within_combined"] = bool(
                    row["coil_centre_split_mm"] <= float(np.hypot(*coil_radii))
                )
            row["share_kept"] = [(v.get("stimulation") or {}).get("share_kept") for v in verdicts]
            row["seconds"] = [round(r["_seconds"], 1) for r in res]
            rows.append(row)
            print(json.dumps(row), flush=True)
    print(
        "\n| circuit | method | split-half distance (mm) "
        "| coil-centre distance (mm) | score-map r | 95% "
        "radius half 1 / 2 (mm) | "
        "bootstrap / split part (mm) | other half inside "
        "95% region | d <= sqrt(rA^2+rB^2) | coil centre: "
        "95% radii, within | "
        "share kept (95%) | reliable |"
    )
    print("|---|---|---:|---:|---:|---|---|---|---|---|---|---|")
    for r in rows:
        if "error" in r:
            print(f"| {r['circuit']} | {r['method']} | error: {r['error']} | | | |")
            continue
        radius = " / ".join("n/a" if v is None else f"{v:.1f}" for v in r["radius_95_mm"])
        inside = " / ".join(
            "n/a" if v is None else ("yes" if v else "no") for v in r["other_half_inside"]
        )
        parts = " / ".join(
            f"{b}, {s}" for b, s in zip(r["bootstrap_radius_mm"], r["split_radius_mm"])
        )
        coil = (
            "n/a"
            if r["coil_centre_radius_mm"][0] is None
            else (
                f"{' / '.join(f'{v:.1f}' for v in r['coil_centre_radius_mm'])}, "
                f"{r.get('coil_centre_within_combined', 'n/a')}"
            )
        )
        shares = " / ".join("n/a" if v is None else f"{v:.2f}" for v in r["share_kept"])
        print(
            f"| {r['circuit']} | {r['method']} | {r['split_half_mm']:.1f} "
            f"| {r['coil_centre_split_mm']:.1f} | "
            f"{r['score_map_r'] if r['score_map_r'] is not None else 'n/a'} | {radius} | "
            f"{parts} | {inside} | {r.get('within_combined', 'n/a')} "
            f"| {coil} | {shares} | {r['reliable']} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
