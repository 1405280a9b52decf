"""Outputs stay the same: golden fingerprints of ``tmstarget target`` / ``reliability`` on simulated data.

The golden values were recorded from the code before the targeting core was restructured (issue 14). Since
the bootstrap confidence radius became the default of ``tmstarget target`` (issue 15), the tests of that
earlier content pass ``--bootstrap 0``; ``test_volume_default_outputs`` fingerprints the default output
(200 resamples, confidence radius and reliability verdict). A
fingerprint is the SHA-256 of the target JSON (sorted keys, ``tmstarget_version`` left out) and of each
written map's decoded data (float32 values and shape) — not of the compressed bytes, which depend on
the zlib build. A change here means the outputs changed: if that is intended, say which field was wrong
and record the new values.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from tmstarget.cli.main import main

#: Fields that legitimately differ between versions or runs.
VOLATILE = ("tmstarget_version",)


def _json_hash(doc: dict) -> str:
    doc = {k: v for k, v in doc.items() if k not in VOLATILE}
    if isinstance(doc.get("inputs"), dict):  # explicit --bold inputs are keyed by absolute (temporary) paths
        doc["inputs"] = {Path(k).name: v for k, v in doc["inputs"].items()}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:16]


def _array_hash(path: Path) -> str:
    img = nib.load(str(path))
    data = np.asarray(img.get_fdata(dtype=np.float32) if not hasattr(img, "agg_data") else img.agg_data(), dtype=np.float32)
    h = hashlib.sha256(str(data.shape).encode())
    h.update(np.ascontiguousarray(data).tobytes())
    return h.hexdigest()[:16]


def _fingerprint(folder: Path) -> dict[str, str]:
    out = {}
    for f in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "dataset_description.json"):
        key = str(f.relative_to(folder))
        if f.name.endswith(".json"):
            out[key] = _json_hash(json.loads(f.read_text()))
        elif f.name.endswith((".nii.gz", ".nii", ".gii")):
            out[key] = _array_hash(f)
        else:
            out[key] = hashlib.sha256(f.read_bytes()).hexdigest()[:16]
    return out


def _run(argv: list[str], capsys) -> dict:
    code = main([*argv, "--quiet", "--json"])
    cap = capsys.readouterr()
    assert code == 0, cap.err
    return json.loads(cap.out)


GOLDEN_VOLUME = {
    "sub-01/sub-01_desc-motion_timeseries.tsv": "1e0cdb9ea0caa4b7",
    "sub-01/sub-01_desc-sgacc_score.nii.gz": "d90aca53e24e4661",
    "sub-01/sub-01_desc-sgacc_target.json": "c1eee7905192572f",
    "sub-01/sub-01_desc-tsnr_map.nii.gz": "d68dacd8029647c5",
}

#: The target JSON gained ``reliability_verdict`` (issue 15); without that field its fingerprint is the earlier
#: 8eb629dffb30590d (checked when re-recording).
GOLDEN_VOLUME_SIMILARITY_BOOTSTRAP = {
    "sub-01/sub-01_desc-motion_timeseries.tsv": "1e0cdb9ea0caa4b7",
    "sub-01/sub-01_desc-sgacc_score.nii.gz": "05231cfa8c0184c3",
    "sub-01/sub-01_desc-sgacc_target.json": "64ec5525d37bc5ff",
    "sub-01/sub-01_desc-tsnr_map.nii.gz": "d68dacd8029647c5",
}

#: ``reliability_verdict`` added (issue 15); without it the earlier 50393e272e58c08b.
#: Changed (issue 15) when split halves and scan-length windows began to weigh each run by its share of volumes
#: (``run_shares``): half A held all of run 1 and a sliver of run 2, and the scan-length windows part of run 2,
#: each weighing as much as a whole run. Split-half distance 15.1 -> 19.1 mm (now about run 1 vs run 2), the
#: 6-, 7- and 8-minute window targets (run 2 at 20-60% of its volumes) and minutes for 3 mm 7 -> 9.
GOLDEN_RELIABILITY = {
    "sub-01/sub-01_desc-sgacc_reliability.json": "593073cb6d8aaf48",
}

GOLDEN_SURFACE = {
    "sub-01/sub-01_desc-motion_timeseries.tsv": "909690c9cc712d31",
    "sub-01/sub-01_desc-sgacc_target.json": "998071266cfb5081",
    "sub-01/sub-01_hemi-L_space-fsaverage5_desc-sgacc_score.shape.gii": "de1864d004e0c46e",
}

GOLDEN_CIFTI = {
    "sub-01/sub-01_desc-motion_timeseries.tsv": "1cd12207b1f940a7",
    "sub-01/sub-01_desc-sgacc_target.json": "6d729e1d3d7b059b",
    "sub-01/sub-01_space-fsaverage5_desc-sgacc_score.dscalar.nii": "7b8411f49d5edd5a",
}


def _check(found: dict, golden: dict) -> None:
    if not golden:
        pytest.fail("no golden values recorded; found:\n" + json.dumps(found, indent=1))
    assert found == golden


def test_volume_target_outputs_unchanged(sim_dataset, tmp_path, capsys):
    src, _ = sim_dataset
    doc = _run(["target", str(src), str(tmp_path), "participant", "--participant-label", "01", "--n-workers", "1", "--bootstrap", "0"], capsys)
    assert "reliability_verdict" not in doc and "confidence_radius_mm" not in doc
    assert doc["target_mni"] == json.loads((tmp_path / "sub-01" / "sub-01_desc-sgacc_target.json").read_text())["target_mni"]
    _check(_fingerprint(tmp_path), GOLDEN_VOLUME)


def test_volume_similarity_bootstrap_outputs_unchanged(sim_dataset, tmp_path, capsys):
    src, _ = sim_dataset
    _run(["target", str(src), str(tmp_path), "participant", "--participant-label", "01", "--n-workers", "1",
          "--method", "similarity", "--bootstrap", "20", "--fwhm", "4"], capsys)
    _check(_fingerprint(tmp_path), GOLDEN_VOLUME_SIMILARITY_BOOTSTRAP)


GOLDEN_VOLUME_DEFAULT = {
    "sub-01/sub-01_desc-motion_timeseries.tsv": "1e0cdb9ea0caa4b7",
    "sub-01/sub-01_desc-sgacc_score.nii.gz": "d90aca53e24e4661",
    "sub-01/sub-01_desc-sgacc_target.json": "8f3681252ff9b8c7",
    "sub-01/sub-01_desc-tsnr_map.nii.gz": "d68dacd8029647c5",
}


def test_volume_default_outputs(sim_dataset, tmp_path, capsys):
    """The default run: the --bootstrap 0 outputs plus a 200-resample confidence radius and the one-line verdict."""
    src, _ = sim_dataset
    argv = ["target", str(src), str(tmp_path), "participant", "--participant-label", "01", "--n-workers", "1", "--json"]
    assert main(argv) == 0
    cap = capsys.readouterr()
    doc = json.loads(cap.out)
    verdict = doc["reliability_verdict"]
    assert doc["n_bootstrap"] == 200 and verdict["text"].startswith(f"95% region radius {doc['confidence_radius_mm']:.1f} mm: ")
    assert f"sub-01: {verdict['text']}" in cap.err  # the command's summary says it in one line
    found = _fingerprint(tmp_path)
    assert {k: v for k, v in found.items() if not k.endswith("_target.json")} == {k: v for k, v in GOLDEN_VOLUME.items() if not k.endswith("_target.json")}
    _check(found, GOLDEN_VOLUME_DEFAULT)


def test_reliability_outputs_unchanged(sim_dataset, tmp_path, capsys):
    src, _ = sim_dataset
    _run(["reliability", str(src), str(tmp_path), "participant", "--participant-label", "01", "--n-bootstrap", "20", "--seed", "3"], capsys)
    _check(_fingerprint(tmp_path), GOLDEN_RELIABILITY)


@pytest.fixture(scope="module")
def small_surface(tmp_path_factory):
    """One fsaverage5 participant, one 120-volume run, GIFTI pair and CIFTI, plus the template meshes."""
    from tmstarget.simulate import SimulationParams
    from tmstarget.simulate.surface import simulate_surface_dataset
    from tmstarget.surface.mesh import load_template

    root = tmp_path_factory.mktemp("surf-golden") / "fmriprep"
    simulate_surface_dataset(root, 1, 1, SimulationParams(n_volumes=120, tsnr=100.0), seed=2, cifti=True)
    meshes = []
    for h, mesh in load_template("fsaverage5").items():
        arrays = [nib.gifti.GiftiDataArray(mesh.midthickness.astype(np.float32), intent="NIFTI_INTENT_POINTSET"),
                  nib.gifti.GiftiDataArray(mesh.faces.astype(np.int32), intent="NIFTI_INTENT_TRIANGLE")]
        meshes.append(root.parent / f"tpl_hemi-{h}_midthickness.surf.gii")
        nib.save(nib.gifti.GiftiImage(darrays=arrays), meshes[-1])
    return root, meshes


def test_fsaverage_outputs_unchanged(small_surface, tmp_path, capsys):
    src, _ = small_surface
    _run(["target", str(src), str(tmp_path), "participant", "--space", "fsaverage5", "--min-volumes", "60", "--n-workers", "1", "--bootstrap", "0"], capsys)
    _check(_fingerprint(tmp_path), GOLDEN_SURFACE)


def test_cifti_outputs_unchanged(small_surface, tmp_path, capsys):
    src, meshes = small_surface
    func = src / "sub-01" / "func"
    _run(["target", str(tmp_path), "--bold", str(next(func.glob("*.dtseries.nii"))), "--confounds", str(next(func.glob("*confounds_timeseries.tsv"))),
          "--surface-mesh", *map(str, meshes), "--method", "similarity", "--min-volumes", "60", "--bootstrap", "0"], capsys)
    _check(_fingerprint(tmp_path), GOLDEN_CIFTI)


GOLDEN_VOLUME_MAP = {
    "sub-01/sub-01_desc-motion_timeseries.tsv": "1e0cdb9ea0caa4b7",
    "sub-01/sub-01_desc-sim_score.nii.gz": "afcafd76d495fabf",
    "sub-01/sub-01_desc-sim_target.json": "82d2f121c660043e",
    "sub-01/sub-01_desc-tsnr_map.nii.gz": "d68dacd8029647c5",
}

GOLDEN_SURFACE_MAP = {
    "sub-01/sub-01_desc-motion_timeseries.tsv": "909690c9cc712d31",
    "sub-01/sub-01_desc-sim_target.json": "e4e467083fbf5541",
    "sub-01/sub-01_hemi-L_space-fsaverage5_desc-sim_score.shape.gii": "6a88cc5ab827a223",
}


def test_volume_map_circuit_outputs_unchanged(sim_dataset, tmp_path, capsys):
    src, _ = sim_dataset
    circuit = next(src.glob("circuit-simulated_*.nii.gz"))
    _run(["target", str(src), str(tmp_path), "participant", "--participant-label", "01", "--n-workers", "1",
          "--circuit", str(circuit), "--circuit-label", "sim", "--method", "cluster", "--bootstrap", "0"], capsys)
    _check(_fingerprint(tmp_path), GOLDEN_VOLUME_MAP)


def test_fsaverage_map_circuit_outputs_unchanged(small_surface, sim_dataset, tmp_path, capsys):
    src, _ = small_surface
    circuit = next(sim_dataset[0].glob("circuit-simulated_*.nii.gz"))
    _run(["target", str(src), str(tmp_path), "participant", "--space", "fsaverage5", "--min-volumes", "60", "--n-workers", "1",
          "--circuit", str(circuit), "--circuit-label", "sim", "--method", "similarity", "--bootstrap", "0"], capsys)
    _check(_fingerprint(tmp_path), GOLDEN_SURFACE_MAP)


def test_fsaverage_bootstrap_same_target_with_a_confidence_radius(small_surface, tmp_path, capsys):
    """Surfaces take the volumes' path through the bootstrap too: the same target, plus a radius."""
    src, _ = small_surface
    argv = ["target", str(src), str(tmp_path), "participant", "--space", "fsaverage5", "--min-volumes", "60", "--n-workers", "1"]
    doc = _run([*argv, "--bootstrap", "20"], capsys)
    plain = _run([*argv, "--rerun", "--bootstrap", "0"], capsys)
    assert doc["target_mni"] == plain["target_mni"] and doc["n_bootstrap"] == 20 and "confidence_radius_mm" not in plain
    assert 0 < doc["confidence_radius_mm"] < 20 and doc["reliability_verdict"]["radius_mm"] == doc["confidence_radius_mm"]
