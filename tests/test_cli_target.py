"""`tmstarget target` end to end on simulated fMRIPrep data.

Checked: the output contract, accuracy, and determinism.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from tmstarget.cli.main import main

CONTRACT_KEYS = {
    "participant",
    "session",
    "space",
    "circuit",
    "method",
    "target_mni",
    "score",
    "n_volumes_used",
    "n_volumes_censored",
    "runs",
    "inputs",
    "tmstarget_version",
}


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    return code, capsys.readouterr()


def test_sgacc_two_runs_writes_contract(sim_dataset, tmp_path, capsys):
    src, planted = sim_dataset
    out = tmp_path / "out"
    code, cap = _run(
        capsys, "target", src, out, "participant", "--participant-label", "01", "--json", "--quiet"
    )
    assert code == 0, cap.err
    printed = json.loads(cap.out)  # stdout is exactly one JSON document
    on_disk = json.loads((out / "sub-01" / "sub-01_desc-sgacc_target.json").read_text())
    assert printed == on_disk
    assert CONTRACT_KEYS <= set(on_disk)
    assert (
        on_disk["space"] == "MNI152NLin6Asym"
        and on_disk["circuit"] == "sgacc"
        and on_disk["method"] == "robust"
    )
    # by default the target carries its 95% confidence radius and the one-line verdict
    verdict = on_disk["reliability_verdict"]
    assert (
        on_disk["n_bootstrap"] == 200
        and verdict["radius_mm"] == on_disk["confidence_radius_mm"] > 0
    )
    # issue 25: this participant's drift-aware region reaches the search region's extent (38.8 mm):
    # capped, and said so
    assert verdict["text"].startswith(
        "95% region spans the whole search region (radius "
        f">= its {on_disk['confidence_radius_mm']:.1f} mm "
        "extent"
    )
    assert (
        verdict["spans_search_region"]
        and verdict["reliable"] is False
        and on_disk["confidence_drift"]["split"] == "runs"
    )
    assert verdict["minutes_used"] == pytest.approx(on_disk["n_volumes_used"] * 2.0 / 60, abs=0.05)
    assert on_disk["n_volumes_used"] + on_disk["n_volumes_censored"] == 300
    assert on_disk["n_volumes_censored"] > 0  # the simulated motion has a few jumps above 0.5 mm
    assert len(on_disk["runs"]) == 2
    assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in on_disk["inputs"].values())
    assert any(k.endswith("desc-preproc_bold.nii.gz") for k in on_disk["inputs"])
    err_mm = np.linalg.norm(np.array(on_disk["target_mni"]) - planted)
    assert err_mm <= 4.0, (
        f"target {on_disk['target_mni']} is {err_mm:.1f} mm from planted {planted}"
    )
    motion = (out / "sub-01" / "sub-01_desc-motion_timeseries.tsv").read_text().splitlines()
    assert len(motion) == 301 and motion[0] == "run\tvolume\tframewise_displacement\tcensored"
    assert sum(int(line.split("\t")[3]) for line in motion[1:]) == on_disk["n_volumes_censored"]
    assert (
        30 < on_disk["qc"]["median_tsnr_brain"] < 90
    )  # simulated with tSNR 60 plus signal and artefacts
    desc = json.loads((out / "dataset_description.json").read_text())
    assert desc["DatasetType"] == "derivative" and desc["GeneratedBy"][0]["Name"] == "tmstarget"
    import nibabel as nib

    score = nib.load(out / "sub-01" / "sub-01_desc-sgacc_score.nii.gz")
    data = score.get_fdata()
    assert data.shape == nib.load(next(src.rglob("*_desc-brain_mask.nii.gz"))).shape
    ijk = np.round(np.linalg.solve(score.affine, [*on_disk["target_mni"], 1])[:3]).astype(int)
    assert data[tuple(ijk)] == pytest.approx(on_disk["score"], abs=1e-3)
    assert data[tuple(ijk)] == pytest.approx(
        np.nanmax(data), abs=1e-6
    )  # the target is the map's maximum
    assert np.isfinite(data).sum() == on_disk["n_search_voxels"]  # NaN outside the search region


def test_map_circuit_and_determinism(sim_dataset, tmp_path, capsys):
    src, planted = sim_dataset
    circuit = next(src.glob("circuit-simulated_*.nii.gz"))
    outs = []
    for name in ("a", "b"):
        out = tmp_path / name
        code, cap = _run(
            capsys,
            "target",
            src,
            out,
            "participant",
            "--circuit",
            circuit,
            "--circuit-label",
            "sim",
            "--bootstrap",
            "0",
            "--quiet",
        )
        assert code == 0, cap.err
        assert cap.out == ""  # nothing on stdout without --json
        outs.append(out / "sub-01")
    j = [json.loads((o / "sub-01_desc-sim_target.json").read_text()) for o in outs]
    assert j[0] == j[1]
    assert (outs[0] / "sub-01_desc-sim_score.nii.gz").read_bytes() == (
        outs[1] / "sub-01_desc-sim_score.nii.gz"
    ).read_bytes()
    assert j[0]["circuit"] == "sim" and np.isfinite(j[0]["score"])
    # the target lies in the left DLPFC search region
    x, y, z = j[0]["target_mni"]
    assert x < -15 and y > 15


def test_convergent_map_from_shared_data(sim_dataset, shared_data, tmp_path, capsys):
    src, planted = sim_dataset
    circuit = shared_data / "circuits" / "DepressionCircuit_space-MNI152NLin6Asym_res-02.nii.gz"
    out = tmp_path / "out"
    code, cap = _run(
        capsys,
        "target",
        src,
        out,
        "participant",
        "--circuit",
        circuit,
        "--bootstrap",
        "0",
        "--json",
        "--quiet",
    )
    assert code == 0, cap.err
    res = json.loads(cap.out)
    assert res["circuit"] == "DepressionCircuit"
    assert np.linalg.norm(np.array(res["target_mni"]) - planted) <= 6.0


def test_explicit_files_match_bids_layout(sim_dataset, tmp_path, capsys):
    src, _ = sim_dataset
    func = src / "sub-01" / "func"
    bolds = sorted(func.glob("*_desc-preproc_bold.nii.gz"))
    confs = sorted(func.glob("*_desc-confounds_timeseries.tsv"))
    mask = next(func.glob("*_desc-brain_mask.nii.gz"))
    argv = ["target", tmp_path / "explicit"]
    for b, c in zip(bolds, confs):
        argv += ["--bold", b, "--confounds", c]
    code, cap = _run(capsys, *argv, "--mask", mask, "--bootstrap", "0", "--json", "--quiet")
    assert code == 0, cap.err
    explicit = json.loads(cap.out)
    code, cap = _run(
        capsys,
        "target",
        src,
        tmp_path / "bids",
        "participant",
        "--bootstrap",
        "0",
        "--json",
        "--quiet",
    )
    bids = json.loads(cap.out)
    assert explicit["target_mni"] == bids["target_mni"] and explicit["score"] == bids["score"]
