"""Outputs stay the same: golden outputs of ``tmstarget target`` / ``reliability``.

The outputs are computed on simulated data.

The golden values were first recorded from the code before the targeting core was restructured
(issue 14). Since the bootstrap confidence radius became the default of ``tmstarget target`` (issue
15), the tests of that earlier content pass ``--bootstrap 0``; ``test_volume_default_outputs``
checks the default output (200 resamples, confidence radius and reliability verdict).

What is compared (``tests/data/outputs_golden.json``, one entry per test): every JSON output in full
(without ``tmstarget_version``), every map by its NaN count and the quantiles, mean and spread of
its finite non-zero decoded values, and every other file by its SHA-256. Numbers are compared to one
unit in the last decimal the output is rounded to (plus 1e-4 relative): the maps come out of BLAS
matrix products whose last float32 bits depend on the CPU kernel OpenBLAS picks (the first goldens,
exact hashes recorded with ``OPENBLAS_CORETYPE=Haswell``, failed on a machine without that setting),
while any real change of the outputs moves them far more. A change here means the outputs changed:
if that is intended, say which field was wrong and re-record with ``TMSTARGET_RECORD_GOLDEN=1 pytest
tests/test_outputs_regression.py`` (then check the diff of the golden file).

Re-recorded (issue 25, coil-scale targets): the reliability verdict gained ``stimulation`` (the
share of the achievable E-field-weighted circuit score the plan keeps across its 95% region) and its
text one sentence; nothing else changed.

Re-recorded (issue 29, reliability in plain words): each scan-length curve row up to half the scan
gained ``held_out_distance_mm`` (the first k minutes' target against the last k minutes'); the
old ``distance_mm`` measured each window against the whole scan, which contains it, and reaches 0
at the end. Nothing else changed.

Re-recorded (issue 29, pictures): a target JSON with a 95 % region gained ``confidence_region``
(the ellipsoid and the bootstrap targets the region was computed from), so the report can draw the
point cloud; nothing else changed (checked key by key against the previous golden file).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from tmstarget.cli.main import main

#: Fields that legitimately differ between versions or runs.
VOLATILE = ("tmstarget_version",)
GOLDEN_FILE = Path(__file__).parent / "data" / "outputs_golden.json"
RECORD = os.environ.get("TMSTARGET_RECORD_GOLDEN") == "1"
QUANTILES = (0, 1, 5, 25, 50, 75, 95, 99, 100)


def _json_doc(doc: dict) -> dict:
    doc = {k: v for k, v in doc.items() if k not in VOLATILE}
    if isinstance(
        doc.get("inputs"), dict
    ):  # explicit --bold inputs are keyed by absolute (temporary) paths
        doc["inputs"] = {Path(k).name: v for k, v in doc["inputs"].items()}
    return doc


def _map_summary(path: Path) -> dict:
    img = nib.load(str(path))
    data = np.asarray(
        img.get_fdata(dtype=np.float32) if not hasattr(img, "agg_data") else img.agg_data(),
        dtype=np.float64,
    )
    nonzero = data[np.isfinite(data) & (data != 0)]
    return {
        "shape": list(data.shape),
        "nonzero": int(nonzero.size),
        "nan": int(np.isnan(data).sum()),
        "quantiles": [float(np.percentile(nonzero, q)) for q in QUANTILES] if nonzero.size else [],
        "mean": float(nonzero.mean()) if nonzero.size else 0.0,
        "std": float(nonzero.std()) if nonzero.size else 0.0,
    }


def _outputs(folder: Path) -> dict:
    out = {}
    for f in sorted(
        p for p in folder.rglob("*") if p.is_file() and p.name != "dataset_description.json"
    ):
        key = str(f.relative_to(folder))
        if f.name.endswith(".json"):
            out[key] = _json_doc(json.loads(f.read_text()))
        elif f.name.endswith((".nii.gz", ".nii", ".gii")):
            out[key] = _map_summary(f)
        else:
            out[key] = hashlib.sha256(f.read_bytes()).hexdigest()[:16]
    return out


def _tolerance(golden: float) -> float:
    """One unit in the last decimal of the golden value as written, plus 1e-4 relative.

    For example 0.1 for 42.1 and 0.001 for 0.328.
    """
    text = repr(float(golden))
    decimals = len(text.split(".")[1]) if "." in text and "e" not in text else 0
    return (1.01 * 10.0**-decimals if decimals < 12 else 0.0) + 1e-4 * abs(golden)


def _differences(found, golden, where: str = "") -> list[str]:
    """Where ``found`` differs from ``golden`` beyond the tolerance (empty: the same outputs)."""
    if isinstance(golden, dict) and isinstance(found, dict):
        if set(found) != set(golden):
            return [f"{where or '(top)'}: keys {sorted(set(found) ^ set(golden))} added or missing"]
        return [
            d
            for k in golden
            for d in _differences(found[k], golden[k], f"{where}.{k}" if where else k)
        ]
    if isinstance(golden, list) and isinstance(found, list):
        if len(found) != len(golden):
            return [f"{where}: {len(found)} items, golden {len(golden)}"]
        return [
            d
            for i, (f, g) in enumerate(zip(found, golden))
            for d in _differences(f, g, f"{where}[{i}]")
        ]
    if isinstance(golden, float) and isinstance(found, int | float) and not isinstance(found, bool):
        return (
            []
            if abs(found - golden) <= _tolerance(golden)
            else [f"{where}: {found!r}, golden {golden!r}"]
        )
    return [] if found == golden else [f"{where}: {found!r}, golden {golden!r}"]


def _check(found: dict, name: str) -> None:
    goldens = json.loads(GOLDEN_FILE.read_text()) if GOLDEN_FILE.is_file() else {}
    if RECORD:
        goldens[name] = found
        GOLDEN_FILE.parent.mkdir(exist_ok=True)
        GOLDEN_FILE.write_text(json.dumps(goldens, indent=1, sort_keys=True) + "\n")
        return
    if name not in goldens:
        pytest.fail(f"no golden outputs recorded for {name}: run with TMSTARGET_RECORD_GOLDEN=1")
    differences = _differences(found, goldens[name])
    assert differences == [], "outputs changed:\n" + "\n".join(differences[:20])


def _run(argv: list[str], capsys) -> dict:
    code = main([*argv, "--quiet", "--json"])
    cap = capsys.readouterr()
    assert code == 0, cap.err
    return json.loads(cap.out)


def test_tolerance_is_one_unit_in_the_last_decimal():
    assert _differences({"a": [42.1, 0.328, 3]}, {"a": [42.0, 0.329, 3]}) == []
    assert _differences({"a": [42.3, 0.328]}, {"a": [42.1, 0.326]}) == [
        "a[0]: 42.3, golden 42.1",
        "a[1]: 0.328, golden 0.326",
    ]
    assert _differences({"n": 3, "s": "x"}, {"n": 4, "s": "x"}) == ["n: 3, golden 4"]
    assert _differences({"a": 1.0}, {"b": 1.0}) == ["(top): keys ['a', 'b'] added or missing"]


def test_volume_target_outputs_unchanged(sim_dataset, tmp_path, capsys):
    src, _ = sim_dataset
    doc = _run(
        [
            "target",
            str(src),
            str(tmp_path),
            "participant",
            "--participant-label",
            "01",
            "--n-workers",
            "1",
            "--bootstrap",
            "0",
        ],
        capsys,
    )
    assert "reliability_verdict" not in doc and "confidence_radius_mm" not in doc
    assert (
        doc["target_mni"]
        == json.loads((tmp_path / "sub-01" / "sub-01_desc-sgacc_target.json").read_text())[
            "target_mni"
        ]
    )
    _check(_outputs(tmp_path), "volume")


def test_volume_similarity_bootstrap_outputs_unchanged(sim_dataset, tmp_path, capsys):
    src, _ = sim_dataset
    _run(
        [
            "target",
            str(src),
            str(tmp_path),
            "participant",
            "--participant-label",
            "01",
            "--n-workers",
            "1",
            "--method",
            "similarity",
            "--bootstrap",
            "20",
            "--fwhm",
            "4",
        ],
        capsys,
    )
    _check(_outputs(tmp_path), "volume_similarity_bootstrap")


def test_volume_efield_outputs_unchanged(sim_dataset, tmp_path, capsys):
    """The coil-scale method: its target, placement block and the coil centre's region.

    The region comes from 100 resamples.
    """
    src, _ = sim_dataset
    doc = _run(
        [
            "target",
            str(src),
            str(tmp_path),
            "participant",
            "--participant-label",
            "01",
            "--n-workers",
            "1",
            "--method",
            "efield",
            "--bootstrap",
            "100",
        ],
        capsys,
    )
    assert doc["coil_placement"]["coil_centre_confidence"]["radius_mm"] > 0
    _check(_outputs(tmp_path), "volume_efield")


def test_volume_default_outputs(sim_dataset, tmp_path, capsys):
    """The default run: the --bootstrap 0 outputs plus a confidence radius and the verdict.

    The confidence radius comes from 200 resamples and the verdict is one line.
    """
    src, _ = sim_dataset
    argv = [
        "target",
        str(src),
        str(tmp_path),
        "participant",
        "--participant-label",
        "01",
        "--n-workers",
        "1",
        "--json",
    ]
    assert main(argv) == 0
    cap = capsys.readouterr()
    doc = json.loads(cap.out)
    verdict = doc["reliability_verdict"]
    # issue 25: this participant's region (bootstrap 37.9 mm with the run-vs-run split added)
    # reaches the search region's
    # 38.8 mm extent from the target: the radius is capped there and the verdict says so
    assert doc["n_bootstrap"] == 200 and verdict["text"].startswith(
        "95% region spans the whole search region (radius >= its 38.8 mm extent"
    )
    assert (
        doc["confidence_radius_mm"] == verdict["radius_mm"] == verdict["search_extent_mm"] == 38.8
        and verdict["reliable"] is False
    )
    assert f"sub-01: {verdict['text']}" in cap.err  # the command's summary says it in one line
    _check(_outputs(tmp_path), "volume_default")


def test_reliability_outputs_unchanged(sim_dataset, tmp_path, capsys):
    src, _ = sim_dataset
    _run(
        [
            "reliability",
            str(src),
            str(tmp_path),
            "participant",
            "--participant-label",
            "01",
            "--bootstrap",
            "20",
            "--seed",
            "3",
        ],
        capsys,
    )
    _check(_outputs(tmp_path), "reliability")


@pytest.fixture(scope="module")
def small_surface(tmp_path_factory):
    """One fsaverage5 participant with one 120-volume run, as GIFTI pair and CIFTI.

    The template meshes come with it.
    """
    from tmstarget.simulate import SimulationParams
    from tmstarget.simulate.surface import simulate_surface_dataset
    from tmstarget.surface.mesh import load_template

    root = tmp_path_factory.mktemp("surf-golden") / "fmriprep"
    simulate_surface_dataset(
        root, 1, 1, SimulationParams(n_volumes=120, tsnr=100.0), seed=2, cifti=True
    )
    meshes = []
    for h, mesh in load_template("fsaverage5").items():
        arrays = [
            nib.gifti.GiftiDataArray(
                mesh.midthickness.astype(np.float32), intent="NIFTI_INTENT_POINTSET"
            ),
            nib.gifti.GiftiDataArray(mesh.faces.astype(np.int32), intent="NIFTI_INTENT_TRIANGLE"),
        ]
        meshes.append(root.parent / f"tpl_hemi-{h}_midthickness.surf.gii")
        nib.save(nib.gifti.GiftiImage(darrays=arrays), meshes[-1])
    return root, meshes


def test_fsaverage_outputs_unchanged(small_surface, tmp_path, capsys):
    src, _ = small_surface
    _run(
        [
            "target",
            str(src),
            str(tmp_path),
            "participant",
            "--space",
            "fsaverage5",
            "--min-volumes",
            "60",
            "--n-workers",
            "1",
            "--bootstrap",
            "0",
        ],
        capsys,
    )
    _check(_outputs(tmp_path), "surface")


def test_cifti_outputs_unchanged(small_surface, tmp_path, capsys):
    src, meshes = small_surface
    func = src / "sub-01" / "func"
    _run(
        [
            "target",
            str(tmp_path),
            "--bold",
            str(next(func.glob("*.dtseries.nii"))),
            "--confounds",
            str(next(func.glob("*confounds_timeseries.tsv"))),
            "--surface-mesh",
            *map(str, meshes),
            "--method",
            "similarity",
            "--min-volumes",
            "60",
            "--bootstrap",
            "0",
        ],
        capsys,
    )
    _check(_outputs(tmp_path), "cifti")


def test_volume_map_circuit_outputs_unchanged(sim_dataset, tmp_path, capsys):
    src, _ = sim_dataset
    circuit = next(src.glob("circuit-simulated_*.nii.gz"))
    _run(
        [
            "target",
            str(src),
            str(tmp_path),
            "participant",
            "--participant-label",
            "01",
            "--n-workers",
            "1",
            "--circuit",
            str(circuit),
            "--circuit-label",
            "sim",
            "--method",
            "cluster",
            "--bootstrap",
            "0",
        ],
        capsys,
    )
    _check(_outputs(tmp_path), "volume_map")


def test_fsaverage_map_circuit_outputs_unchanged(small_surface, sim_dataset, tmp_path, capsys):
    src, _ = small_surface
    circuit = next(sim_dataset[0].glob("circuit-simulated_*.nii.gz"))
    _run(
        [
            "target",
            str(src),
            str(tmp_path),
            "participant",
            "--space",
            "fsaverage5",
            "--min-volumes",
            "60",
            "--n-workers",
            "1",
            "--circuit",
            str(circuit),
            "--circuit-label",
            "sim",
            "--method",
            "similarity",
            "--bootstrap",
            "0",
        ],
        capsys,
    )
    _check(_outputs(tmp_path), "surface_map")


def test_fsaverage_bootstrap_same_target_with_a_confidence_radius(small_surface, tmp_path, capsys):
    """Surfaces take the volumes' path through the bootstrap too: the same target, plus a radius."""
    src, _ = small_surface
    argv = [
        "target",
        str(src),
        str(tmp_path),
        "participant",
        "--space",
        "fsaverage5",
        "--min-volumes",
        "60",
        "--n-workers",
        "1",
    ]
    doc = _run([*argv, "--bootstrap", "20"], capsys)
    plain = _run([*argv, "--rerun", "--bootstrap", "0"], capsys)
    assert (
        doc["target_mni"] == plain["target_mni"]
        and doc["n_bootstrap"] == 20
        and "confidence_radius_mm" not in plain
    )
    assert (
        0 < doc["confidence_radius_mm"] < 20
        and doc["reliability_verdict"]["radius_mm"] == doc["confidence_radius_mm"]
    )
