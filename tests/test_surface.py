"""Surface inputs: a simulated fsaverage5 participant gives back its planted target.

This holds for GIFTI and for CIFTI input.
"""

from __future__ import annotations

import json

import nibabel as nib
import numpy as np
import pytest

from tmstarget.cli.main import main
from tmstarget.exceptions import InputError
from tmstarget.surface import explicit_surface_runs, find_surface_runs
from tmstarget.surface.mesh import gaussian_smoother, load_template
from tmstarget.targeting import TargetingOptions, compute_target

FAST = ["--min-volumes", "60", "--bootstrap", "0", "--quiet", "--json"]


@pytest.fixture(scope="module")
def surface_dataset(tmp_path_factory):
    """One participant, one 200-volume run (tSNR 100) on fsaverage5.

    The run is written as a GIFTI pair and as synthetic CIFTI.
    """
    from tmstarget.simulate import SimulationParams
    from tmstarget.simulate.surface import simulate_surface_dataset

    root = tmp_path_factory.mktemp("surf") / "fmriprep"
    truth = simulate_surface_dataset(
        root, 1, 1, SimulationParams(n_volumes=200, tsnr=100.0), seed=1, cifti=True
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
    return root, np.array(truth["participants"]["01"]["target_mni"]), meshes


def _target(capsys, argv: list[str], planted: np.ndarray, what: str) -> dict:
    """Run ``tmstarget`` with ``argv`` and check the target is within 4 mm of ``planted``.

    The error (the target's distance from ``planted``) is printed.
    """
    code = main([*argv, *FAST])
    cap = capsys.readouterr()
    assert code == 0, cap.err
    doc = json.loads(cap.out)
    err_mm = float(np.linalg.norm(np.array(doc["target_mni"]) - planted))
    with capsys.disabled():
        print(
            f"\n{what}: target {doc['target_mni']} vs planted "
            f"{planted.round(1).tolist()}: {err_mm:.1f} mm"
        )
    assert err_mm <= 4.0
    return doc


def test_fsaverage_gifti_target_within_4mm(surface_dataset, tmp_path, capsys):
    src, planted, _ = surface_dataset
    out = tmp_path / "out"
    doc = _target(
        capsys,
        ["target", str(src), str(out), "participant", "--space", "fsaverage5"],
        planted,
        "fsaverage5 GIFTI",
    )
    assert (
        doc["space"] == "fsaverage5"
        and doc["target_grayordinate"]["hemi"] == "L"
        and doc["n_volumes_used"] + doc["n_volumes_censored"] == 200
    )
    assert doc == json.loads((out / "sub-01" / "sub-01_desc-sgacc_target.json").read_text())
    score = np.asarray(
        nib.load(
            out / "sub-01" / "sub-01_hemi-L_space-fsaverage5_desc-sgacc_score.shape.gii"
        ).agg_data()
    )
    assert score.shape == (10242,) and np.isfinite(score).sum() == doc["n_search_voxels"]
    assert (
        score[doc["target_grayordinate"]["vertex"]]
        == pytest.approx(np.nanmax(score))
        == pytest.approx(doc["score"], abs=1e-4)
    )
    assert not (
        out / "sub-01" / "sub-01_hemi-R_space-fsaverage5_desc-sgacc_score.shape.gii"
    ).exists()


def test_cifti_with_meshes_matches_and_needs_them(surface_dataset, tmp_path, capsys):
    src, planted, meshes = surface_dataset
    func = src / "sub-01" / "func"
    argv = [
        "target",
        str(tmp_path / "cifti"),
        "--bold",
        str(next(func.glob("*.dtseries.nii"))),
        "--confounds",
        str(next(func.glob("*confounds_timeseries.tsv"))),
    ]
    doc = _target(
        capsys,
        [*argv, "--surface-mesh", *map(str, meshes)],
        planted,
        "CIFTI (fsaverage5 cortex + voxels)",
    )
    assert doc["space"] == "fsaverage5"
    dscalar = nib.load(
        tmp_path / "cifti" / "sub-01" / "sub-01_space-fsaverage5_desc-sgacc_score.dscalar.nii"
    )
    assert (
        dscalar.shape[0] == 1 and np.isfinite(dscalar.get_fdata()).sum() == doc["n_search_voxels"]
    )
    # without meshes the cortex has no coordinates: the volume part alone has no DLPFC
    code = main([*argv[:1], str(tmp_path / "nomesh"), *argv[2:], "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert (
        code == 2
        and len(err) == 1
        and "search region has 0 grayordinate(s)" in err[0]
        and "--surface-mesh" in err[0]
    )
    assert not (tmp_path / "nomesh").exists() or not any(
        p.is_file() for p in (tmp_path / "nomesh").rglob("*")
    )


def test_surface_input_errors(surface_dataset, sim_dataset, tmp_path):
    src, _, _ = surface_dataset
    runs = find_surface_runs(src, "01", None, "rest", "fsaverage5")
    with pytest.raises(InputError, match="unknown method 'best'"):
        compute_target(runs, TargetingOptions(method="best"))
    with pytest.raises(
        InputError, match=r"no fsaverage5 surface BOLD .*spaces present: MNI152NLin6Asym"
    ):
        find_surface_runs(sim_dataset[0], "01", None, "rest", "fsaverage5")
    lonely = tmp_path / "sub-01_task-rest_hemi-L_space-fsaverage5_bold.func.gii"
    lonely.write_bytes(runs[0].files[0].read_bytes())
    with pytest.raises(InputError, match="right hemisphere not found"):
        explicit_surface_runs([lonely], [runs[0].confounds])


def test_mesh_smoother_is_a_gaussian_of_the_right_width():
    """On a flat 1 mm triangulated sheet, smoothing an impulse gives a Gaussian kernel.

    The kernel's FWHM is about the one asked for.
    """
    n = 41
    xy = np.indices((n, n)).reshape(2, -1).T.astype(float)
    coords = np.c_[xy, np.zeros(len(xy))]
    idx = np.arange(n * n).reshape(n, n)
    a, b, c, d = (
        idx[:-1, :-1].ravel(),
        idx[1:, :-1].ravel(),
        idx[:-1, 1:].ravel(),
        idx[1:, 1:].ravel(),
    )
    faces = np.r_[np.c_[a, b, d], np.c_[a, d, c]]
    s = gaussian_smoother(coords, faces, fwhm_mm=6.0)
    np.testing.assert_allclose(np.asarray(s.sum(axis=1)).ravel(), 1.0)
    centre = idx[n // 2, n // 2]
    kernel = s[centre].toarray().ravel()
    sd = np.sqrt(kernel @ ((xy - xy[centre]) ** 2).sum(axis=1) / 2)
    assert sd == pytest.approx(
        6.0 / np.sqrt(8 * np.log(2)), rel=0.25
    )  # edge paths overestimate distances a little


def test_fsaverage_shrinkage_target(surface_dataset, tmp_path, capsys):
    """--method shrinkage on fsaverage5: the shrinkage block and an intermediate target.

    The target lies between the group and individual ones.
    """
    src, planted, _ = surface_dataset
    code = main(
        [
            "target",
            str(src),
            str(tmp_path / "out"),
            "participant",
            "--space",
            "fsaverage5",
            "--method",
            "shrinkage",
            *FAST,
        ]
    )
    cap = capsys.readouterr()
    assert code == 0, cap.err
    doc = json.loads(cap.out)
    block = doc["shrinkage"]
    assert doc["method"] == "shrinkage" and 0.0 <= block["weight"] <= 1.0
    assert (
        np.linalg.norm(np.subtract(block["group_target_mni"], (-38.0, 44.0, 26.0))) < 8.0
    )  # Fox 2012, on the cortex
    ind, grp, tgt = (
        np.array(v)
        for v in (block["individual_target_mni"], block["group_target_mni"], doc["target_mni"])
    )
    assert block["distance_individual_to_group_mm"] == pytest.approx(
        np.linalg.norm(ind - grp), abs=0.11
    )
    assert (
        np.linalg.norm(tgt - ind) <= np.linalg.norm(grp - ind) + 1.0
    )  # the shrinkage target does not overshoot
    # 200 volumes at tSNR 100: the individual evidence dominates and the target stays near the
    # planted one
    assert block["weight"] > 0.3 and np.linalg.norm(tgt - planted) < 6.0
    assert isinstance(block["difference_exceeds_uncertainty"], bool) and block[
        "sentence"
    ].startswith("individual target")


def test_sampling_matrix_equals_nilearn_vol_to_surf():
    """The simulator's sparse sampling matrix gives what nilearn's vol_to_surf gives.

    The slow reference is nilearn's vol_to_surf.
    """
    from tmstarget.targeting.surface_maps import sample_to_mesh, sampling_matrix

    mesh = load_template("fsaverage5")["L"]
    affine = np.array([[6.0, 0, 0, -90], [0, 6.0, 0, -126], [0, 0, 6.0, -72], [0, 0, 0, 1]])
    shape = (31, 37, 29)  # unequal sides: an axis mix-up fails
    rng = np.random.default_rng(3)
    mask = rng.random(shape) > 0.2
    data = rng.standard_normal((*shape, 4)).astype(np.float32)
    expected = sample_to_mesh(data, affine, mesh, mask)
    matrix, empty = sampling_matrix(affine, shape, mesh, mask)
    got = np.asarray(matrix @ data.reshape(-1, 4, order="F"))
    got[empty] = np.nan
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10, equal_nan=True)
    assert 0.5 < np.isfinite(expected).mean() < 1.0  # some vertices fall in masked voxels only


def _left_values_of_cifti(path) -> np.ndarray:
    """Return the left-hemisphere vertex values of a one-map CIFTI (NaN where it has no column)."""
    img = nib.load(path)
    data = np.asarray(img.get_fdata())[0]
    for name, sl, bm in img.header.get_axis(1).iter_structures():
        if name == "CIFTI_STRUCTURE_CORTEX_LEFT":
            out = np.full(int(bm.nvertices[name]), np.nan)
            out[bm.vertex] = data[sl]
            return out
    raise AssertionError("no left cortex in the CIFTI")


def test_cluster_on_fsaverage_and_cifti_is_the_brute_force_centre_of_gravity(
    surface_dataset, tmp_path, capsys
):
    """--method cluster on fsaverage5 GIFTI and on CIFTI (with meshes) matches brute force.

    The target is near the planted target, and it is the vertex a brute-force centre of gravity (top
    10% of the written score map, largest patch by Heron vertex areas over mesh edges, area-weighted
    centre snapped to the patch; tests/cluster_reference.py) picks from the same map.
    """
    from cluster_reference import surface_cluster_from_map

    src, planted, meshes = surface_dataset
    mesh = load_template("fsaverage5")["L"]
    points, faces = [tuple(p) for p in mesh.midthickness.tolist()], mesh.faces.tolist()
    func = src / "sub-01" / "func"
    runs = {
        "fsaverage5 GIFTI": [
            "target",
            str(src),
            str(tmp_path / "gii"),
            "participant",
            "--space",
            "fsaverage5",
        ],
        "CIFTI": [
            "target",
            str(tmp_path / "cifti"),
            "--bold",
            str(next(func.glob("*.dtseries.nii"))),
            "--confounds",
            str(next(func.glob("*confounds_timeseries.tsv"))),
            "--surface-mesh",
            *map(str, meshes),
        ],
    }
    for what, argv in runs.items():
        code = main([*argv, "--method", "cluster", *FAST])
        cap = capsys.readouterr()
        assert code == 0, cap.err
        doc = json.loads(cap.out)
        err_mm = float(np.linalg.norm(np.array(doc["target_mni"]) - planted))
        if what == "CIFTI":
            values = _left_values_of_cifti(
                tmp_path
                / "cifti"
                / "sub-01"
                / "sub-01_space-fsaverage5_desc-sgacc_score.dscalar.nii"
            )
        else:
            values = np.asarray(
                nib.load(
                    tmp_path
                    / "gii"
                    / "sub-01"
                    / "sub-01_hemi-L_space-fsaverage5_desc-sgacc_score.shape.gii"
                ).agg_data(),
                float,
            )
        expected = surface_cluster_from_map(values, points, faces)
        with capsys.disabled():
            print(
                f"\ncluster on {what}: target {doc['target_mni']} "
                f"(vertex {doc['target_grayordinate']['vertex']}, "
                f"brute force {expected}) "
                f"vs planted {planted.round(1).tolist()}: {err_mm:.1f} mm"
            )
        assert doc["method"] == "cluster" and doc["target_grayordinate"]["hemi"] == "L"
        assert doc["target_grayordinate"]["vertex"] == expected
        np.testing.assert_allclose(
            doc["target_mni"], np.round(mesh.midthickness[expected], 1), atol=0.051
        )  # on the cortex
        assert err_mm <= 6.0  # as tests/test_targeting_methods.py: a patch's centre, not its peak
