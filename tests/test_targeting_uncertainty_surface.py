"""`tmstarget reliability` on surface inputs: fsaverage5 GIFTI pairs and CIFTI.

The inputs are read as `tmstarget target` reads them.

One simulated participant (two 150-volume runs, tSNR 100, seed 1: a strong planted target) written
by :func:`tmstarget.simulate.surface.simulate_surface_dataset` as fsaverage5 GIFTI pairs and as
CIFTI. The CIFTI files are copied under fMRIPrep's fsLR name so that the BIDS finder takes them;
their cortex is fsaverage5, so the template's midthickness meshes are passed with --surface-mesh.
Distances are in mm between the MNI coordinates of mesh vertices. No volume is censored
(--fd-threshold none), so the split halves are the two runs exactly.
"""

from __future__ import annotations

import json
import shutil

import nibabel as nib
import numpy as np
import pytest

from tmstarget.cli.main import main
from tmstarget.targeting.uncertainty import minutes_needed

N_BOOT = ["--bootstrap", "60"]
ALL_VOLUMES = ["--fd-threshold", "none"]


@pytest.fixture(scope="module")
def surface_reliability_data(tmp_path_factory):
    """fsaverage5 dataset (2 runs), the same runs as fsLR-named CIFTI, and the template meshes.

    The same runs are also laid out as two sessions.
    """
    from tmstarget.simulate import SimulationParams
    from tmstarget.simulate.surface import simulate_surface_dataset
    from tmstarget.surface.mesh import load_template

    base = tmp_path_factory.mktemp("surf-rel")
    gifti = base / "fmriprep"
    truth = simulate_surface_dataset(
        gifti, 1, 2, SimulationParams(n_volumes=150, tsnr=100.0), seed=1, cifti=True
    )
    func = gifti / "sub-01" / "func"
    cifti, sessions = base / "fmriprep-cifti", base / "fmriprep-sessions"
    for r in (1, 2):
        prefix = f"sub-01_task-rest_run-{r}"
        out = cifti / "sub-01" / "func"
        out.mkdir(parents=True, exist_ok=True)
        shutil.copy(
            func / f"{prefix}_space-fsaverage5_den-10k_bold.dtseries.nii",
            out / f"{prefix}_space-fsLR_den-91k_bold.dtseries.nii",
        )
        shutil.copy(
            func / f"{prefix}_space-fsaverage5_bold.json",
            out / f"{prefix}_space-fsLR_den-91k_bold.json",
        )
        shutil.copy(func / f"{prefix}_desc-confounds_timeseries.tsv", out)
        ses = sessions / "sub-01" / f"ses-{r}" / "func"
        ses.mkdir(parents=True)
        for f in func.glob(f"{prefix}_*"):
            if not f.name.endswith(".dtseries.nii"):
                shutil.copy(
                    f,
                    ses / f.name.replace("sub-01_task-rest_run-", f"sub-01_ses-{r}_task-rest_run-"),
                )
    meshes = []
    for h, mesh in load_template("fsaverage5").items():
        arrays = [
            nib.gifti.GiftiDataArray(
                mesh.midthickness.astype(np.float32), intent="NIFTI_INTENT_POINTSET"
            ),
            nib.gifti.GiftiDataArray(mesh.faces.astype(np.int32), intent="NIFTI_INTENT_TRIANGLE"),
        ]
        meshes.append(base / f"tpl_hemi-{h}_midthickness.surf.gii")
        nib.save(nib.gifti.GiftiImage(darrays=arrays), meshes[-1])
    return {
        "gifti": gifti,
        "cifti": cifti,
        "sessions": sessions,
        "meshes": [str(m) for m in meshes],
        "planted": np.array(truth["participants"]["01"]["target_mni"]),
    }


def _run(capsys, *argv) -> tuple[int, str, str]:
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse usage errors
        code = exc.code
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def _json(capsys, *argv) -> dict:
    code, out, err = _run(capsys, *argv, "--quiet", "--json")
    assert code == 0, err
    return json.loads(out)


def _check_reliable_surface_target(doc: dict, planted: np.ndarray, space: str) -> None:
    """Check real numbers for a strong planted target on a mesh.

    The numbers are those of the halves, runs, bootstrap coverage and scan-length curve.
    """
    target = np.array(doc["target_mni"])
    assert doc["space"] == space and doc["n_volumes_used"] == 300
    assert np.linalg.norm(target - planted) < 2.0  # measured: 1.1 mm (GIFTI), 0.6 mm (CIFTI)
    # split halves (= the two runs): both near the planted vertex, a few mm apart (fsaverage5
    # vertices are ~3-4 mm apart)
    assert 0.0 < doc["split_half_distance_mm"] < 5.0  # measured: 3.1 / 3.7 mm
    assert (
        doc["split_half"]["n_volumes"] == [150, 150]
        and doc["run_distances_mm"][0]["distance_mm"] == doc["split_half_distance_mm"]
    )
    halves = np.array([doc["split_half"]["first_half_mni"], doc["split_half"]["second_half_mni"]])
    assert np.linalg.norm(halves - planted, axis=1).max() < 4.0
    assert (
        0.2 < doc["score_map_agreement"]["spatial_correlation"] < 0.9
        and doc["score_map_agreement"]["n_voxels"] > 300
    )  # measured 0.32 / 0.38
    # bootstrap: a radius of a few mm (measured 3.4 / 3.6) that covers the planted vertex
    radius = doc["confidence_radius_mm"]
    assert 1.0 < radius < 6.0 and len(doc["bootstrap"]["targets_mni"]) == 60
    assert np.linalg.norm(target - planted) <= radius
    # 60 resamples are below MIN_RESAMPLES: the radius is recorded, the verdict is "too few
    # resamples" (no "reliable")
    assert doc["reliability_verdict"]["reliable"] is None and doc["reliability_verdict"][
        "text"
    ].startswith(f"95% region radius {radius:.1f} mm from only 60")
    assert doc["drift"]["split"] == "runs" and doc["drift"]["distances_mm"] == [
        doc["split_half_distance_mm"]
    ]
    assert all(0.5 < a < 10 for a in doc["confidence_ellipsoid"]["semi_axes_mm"])
    # scan-length curve, 1 to 10 minutes: far off (a wrong peak, 20-29 mm) in the first minutes,
    # within a few mm from
    # 6 minutes on, 0 at the whole scan
    curve = doc["scan_length_curve"]
    dist = [row["distance_mm"] for row in curve]
    assert (
        [row["minutes"] for row in curve] == [float(m) for m in range(1, 11)]
        and doc["minutes_total"] == 10.0
        and dist[-1] == 0.0
    )
    assert dist[0] > 10.0 and max(dist[5:]) < 3.0 and minutes_needed(curve) <= 6.0


def test_fsaverage5_reliability_matches_the_target_and_has_real_numbers(
    surface_reliability_data, tmp_path, capsys
):
    d = surface_reliability_data
    doc = _json(
        capsys,
        "reliability",
        d["gifti"],
        tmp_path / "rel",
        "participant",
        "--space",
        "fsaverage5",
        *N_BOOT,
        *ALL_VOLUMES,
    )
    target = _json(
        capsys,
        "target",
        d["gifti"],
        tmp_path / "tgt",
        "participant",
        "--space",
        "fsaverage5",
        "--n-workers",
        "1",
        "--bootstrap",
        "0",
        *ALL_VOLUMES,
    )
    assert (
        doc["target_mni"] == target["target_mni"]
    )  # the same reading, cleaning and selection as 'tmstarget target'
    assert [r.endswith("hemi-L_space-fsaverage5_bold.func.gii") for r in doc["runs"]] == [
        True,
        True,
    ]
    _check_reliable_surface_target(doc, d["planted"], "fsaverage5")
    written = tmp_path / "rel" / "sub-01" / "sub-01_desc-sgacc_reliability.json"
    assert json.loads(written.read_text()) == doc


def test_cifti_reliability_with_meshes(surface_reliability_data, tmp_path, capsys):
    d = surface_reliability_data
    argv = ["--space", "fsLR", "--surface-mesh", *d["meshes"], *ALL_VOLUMES]
    doc = _json(capsys, "reliability", d["cifti"], tmp_path / "rel", "participant", *argv, *N_BOOT)
    target = _json(
        capsys,
        "target",
        d["cifti"],
        tmp_path / "tgt",
        "participant",
        *argv,
        "--n-workers",
        "1",
        "--bootstrap",
        "0",
    )
    assert doc["target_mni"] == target["target_mni"]
    _check_reliable_surface_target(doc, d["planted"], "fsLR")
    # without meshes the CIFTI cortex has no coordinates: one line, as for 'tmstarget target'
    code, _, err = _run(
        capsys,
        "reliability",
        d["cifti"],
        tmp_path / "nomesh",
        "participant",
        "--space",
        "fsLR",
        *N_BOOT,
        "--quiet",
    )
    assert code == 2 and len(err.strip().splitlines()) == 1 and "--surface-mesh" in err


def test_surface_sessions_and_cluster(surface_reliability_data, tmp_path, capsys):
    d = surface_reliability_data
    docs = _json(
        capsys,
        "reliability",
        d["sessions"],
        tmp_path / "rel",
        "participant",
        "--space",
        "fsaverage5",
        "--bootstrap",
        "20",
        *ALL_VOLUMES,
    )
    assert [x["session"] for x in docs] == ["1", "2"]
    between = docs[0]["session_distances_mm"]["2"]
    assert between == docs[1]["session_distances_mm"]["1"] and 0.0 < between < 5.0
    assert all(np.linalg.norm(np.array(x["target_mni"]) - d["planted"]) < 4.0 for x in docs)
    # cluster runs on surfaces too (it was refused): its resamples see the search vertices through
    # the mesh
    doc = _json(
        capsys,
        "reliability",
        d["gifti"],
        tmp_path / "cl",
        "participant",
        "--space",
        "fsaverage5",
        "--method",
        "cluster",
        "--bootstrap",
        "20",
        *ALL_VOLUMES,
    )
    assert (
        doc["method"] == "cluster"
        and np.linalg.norm(np.array(doc["target_mni"]) - d["planted"]) < 6.0
    )
    assert 0.0 < doc["confidence_radius_mm"] < 20.0 and doc["split_half_distance_mm"] < 10.0


@pytest.mark.parametrize("kind", ["gifti", "cifti"])
def test_efield_places_the_coil_on_surfaces(surface_reliability_data, tmp_path, capsys, kind):
    """The coil-scale method runs on fsaverage5 and CIFTI.

    Its placement sits over the planted vertex and its coil centre has a drift-aware region.
    """
    from tmstarget.coil.geometry import place_on_head
    from tmstarget.headmodel import load_template_head

    d = surface_reliability_data
    argv = (
        ["--space", "fsaverage5"]
        if kind == "gifti"
        else ["--space", "fsLR", "--surface-mesh", *d["meshes"]]
    )
    doc = _json(
        capsys,
        "target",
        d[kind],
        tmp_path / "ef",
        "participant",
        *argv,
        "--method",
        "efield",
        "--n-workers",
        "1",
        "--bootstrap",
        "20",
        *ALL_VOLUMES,
    )
    block = doc["coil_placement"]
    hotspot, entry = (
        np.array(block["cortical_hotspot_mni"]),
        np.array(block["placement"]["scalp_entry_mm"]),
    )
    over_planted = place_on_head(load_template_head(), d["planted"]).scalp_mm
    assert (
        np.linalg.norm(hotspot - d["planted"]) < 10.0
        and np.linalg.norm(entry - over_planted) < 10.0
    )
    assert (
        np.linalg.norm(np.array(doc["target_mni"]) - hotspot) < 4.0
    )  # the hotspot snapped to the nearest search vertex
    assert (
        block["placement_error_mm"] == 5.0
        and block["placement_error_deg"] == 10.0
        and 0 < block["expected_score"] <= block["score_at_plan"] + 0.05
    )
    centre = block["coil_centre_confidence"]
    assert (
        0.0 <= centre["bootstrap_radius_mm"] <= centre["radius_mm"] < 30.0
        and len(centre["split_distances_mm"]) == 1
    )
    assert doc["parameters"]["placement_error_mm"] == 5.0
