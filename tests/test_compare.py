"""Circuit scores of points (affine-aware sampling), the score command and the compare command."""

from __future__ import annotations

import json

import nibabel as nib
import numpy as np
import pytest

from tmstarget.cli.main import main
from tmstarget.compare import compare_targets, sample_map, to_markdown, to_tsv

CIRCUIT = "circuits/DepressionCircuit_space-MNI152NLin6Asym_res-02.nii.gz"


def _linear_map(affine: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """f(x, y, z) = x + 2y − z at every voxel centre (world mm)."""
    ijk = np.indices(shape).reshape(3, -1).T
    xyz = ijk @ affine[:3, :3].T + affine[:3, 3]
    return (xyz @ [1.0, 2.0, -1.0]).reshape(shape)


def _slow_sphere_mean(data, affine, point, radius):
    vals = []
    for ijk in np.ndindex(*data.shape):
        xyz = affine[:3, :3] @ ijk + affine[:3, 3]
        if np.linalg.norm(xyz - point) <= radius and np.isfinite(data[ijk]):
            vals.append(data[ijk])
    return float(np.mean(vals))


RAS = np.array([[2.0, 0, 0, -20], [0, 2.0, 0, -30], [0, 0, 2.0, -10], [0, 0, 0, 1]])
#: x flipped (LAS), shifted origin and 3 mm slices: the same world, stored differently.
FLIPPED = np.array([[-2.0, 0, 0, 24], [0, 2.0, 0, -31], [0, 0, 3.0, -13], [0, 0, 0, 1]])


@pytest.mark.parametrize("affine", [RAS, FLIPPED])
def test_sample_map_respects_the_affine(rng, affine):
    shape = (23, 27, 19)
    data = _linear_map(affine, shape)
    point = np.array([1.3, 4.1, 6.2])
    # a linear function's mean over a (symmetric) sphere of voxels ≈ its value at the centre
    value, n = sample_map(data, affine, point, 6.0)
    assert value == pytest.approx(point @ [1, 2, -1], abs=0.6) and n > 20
    assert value == pytest.approx(_slow_sphere_mean(data, affine, point, 6.0), abs=1e-9)
    # radius 0 interpolates exactly
    assert sample_map(data, affine, point, 0.0)[0] == pytest.approx(point @ [1, 2, -1], abs=1e-6)
    g, _ = sample_map(data, affine, point, 8.0, "gaussian")
    assert g == pytest.approx(point @ [1, 2, -1], abs=0.6)
    noisy = data + rng.normal(0, 0.01, shape)
    noisy[0] = np.nan  # NaN voxels are ignored
    assert np.isfinite(sample_map(noisy, affine, point, 6.0)[0])


def test_flipped_and_ras_grids_give_the_same_scores():
    a = sample_map(_linear_map(RAS, (23, 27, 19)), RAS, [2.0, 3.0, 5.0], 0.0)[0]
    b = sample_map(_linear_map(FLIPPED, (23, 27, 19)), FLIPPED, [2.0, 3.0, 5.0], 0.0)[0]
    assert a == pytest.approx(b, abs=1e-6) == 2.0 + 6.0 - 5.0


def test_score_command_on_the_depression_circuit(shared_data, capsys):
    path = str(shared_data / CIRCUIT)
    # Cash et al. 2021 / Fox et al. 2012 connectivity target (-38, 44, 26) vs the F3 (-37, 26, 49)
    # and 5-cm
    # (-41, 16, 54) group sites (Fox et al. 2012 Biol Psychiatry): the circuit favours the first.
    assert (
        main(
            [
                "score",
                "--circuit",
                path,
                "--coords=-38,44,26",
                "--coords=-37,26,49",
                "--coords=-41,16,54",
                "--json",
            ]
        )
        == 0
    )
    obj = json.loads(capsys.readouterr().out)
    scores = [p["score"] for p in obj["points"]]
    assert scores[0] > 1.0 and scores[0] > scores[1] and scores[0] > scores[2]
    assert obj["points"][0]["n_voxels"] > 400  # ~4/3·π·10³ / 8 mm³ voxels


@pytest.mark.parametrize(
    "argv,fragment",
    [
        (["--coords=0,0,200"], "outside the head"),
        (["--coords", "1,2"], "three numbers"),
        (["--coords=-38,44,26", "--radius-mm", "-1"], "radius"),
        ([], "no coordinates"),
    ],
)
def test_score_bad_inputs(tmp_path, capsys, argv, fragment):
    img = tmp_path / "map.nii.gz"
    nib.save(nib.Nifti1Image(np.ones((10, 10, 10), np.float32), RAS), str(img))
    assert main(["score", "--circuit", str(img), *argv]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0] and captured.out == ""


def test_score_sgacc_group_gives_advice(capsys):
    assert main(["score", "--circuit", "sgacc-group", "--coords=-38,44,26"]) == 2
    assert "pass a group map NIfTI path" in capsys.readouterr().err


def test_compare_logic_and_tables():
    data = _linear_map(RAS, (40, 40, 40))
    r = compare_targets(
        "01",
        None,
        "f3",
        [0, 10, 10],
        [0, 0, 10],
        [0, 0, 30],
        group=(data, RAS),
        individual=(data, RAS),
    )
    assert r.distance_mm == pytest.approx(10.0)
    assert (
        r.better_group == "connectivity" and r.better_individual == "connectivity"
    )  # higher y scores higher
    tsv = to_tsv([r])
    assert tsv.splitlines()[1].split("\t")[9] == "10.0"
    assert "| 01 |" in to_markdown([r])


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    """Return the simulated cohort (3 participants, planted targets, simulated group circuit)."""
    from tmstarget.simulate.dataset import simulate_dataset
    from tmstarget.simulate.model import SimulationParams

    out = tmp_path_factory.mktemp("cohort")
    truth = simulate_dataset(
        out, n_participants=3, n_runs=1, params=SimulationParams(n_volumes=12), seed=3
    )
    heads = out / "heads.tsv"
    heads.write_text(
        "participant_id\tnasion_inion_cm\ttragus_tragus_cm\tcircumference_cm\n"
        "sub-01\t36\t35\t57\nsub-02\t35.5\t34\t56\n03\t37\t36\t58.5\n"
    )
    return out, truth["circuit"], heads


def test_compare_runs_on_the_simulated_cohort(cohort, tmp_path, capsys):
    root, circuit, heads = cohort
    argv = [
        "compare",
        "--targets",
        str(root),
        "--measurements",
        str(heads),
        "--circuit",
        circuit,
        "--json",
    ]
    assert main([*argv, "--out", str(tmp_path / "a")]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["summary"]["n"] == 3 and len(obj["comparisons"]) == 3
    for c in obj["comparisons"]:
        assert 0 < c["distance_mm"] < 60 and c["better_group"] in (
            "connectivity",
            "scalp-rule",
            "tie",
        )
    # group scores are means over the map's brain voxels only (the simulated map is 0 outside the
    # brain): checked by
    # a slow loop; the individual targets are planted 4-15 mm from the group peak, so the scalp
    # rule's point (12 mm
    # from it) wins for two of them — with the zeros counted, the shallow scalp-rule point lost half
    # its score
    img = nib.load(circuit)
    data = np.where(img.get_fdata() == 0, np.nan, img.get_fdata())
    for c in obj["comparisons"]:
        for key, point in (
            ("group_score_connectivity", c["connectivity_mni"]),
            ("group_score_scalp_rule", c["scalp_rule_mni"]),
        ):
            assert c[key] == pytest.approx(
                _slow_sphere_mean(data, img.affine, np.array(point), 10.0), abs=0.02
            )  # points rounded to 0.1 mm
    assert obj["summary"]["group_connectivity_better"] == 1
    assert main([*argv, "--out", str(tmp_path / "b")]) == 0
    capsys.readouterr()
    for name in ("compare.tsv", "compare.md", "compare.json", "compare.svg"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), (
            name
        )  # deterministic
    assert len((tmp_path / "a" / "compare.tsv").read_text().splitlines()) == 4


def test_compare_one_participant_with_score_map(cohort, tmp_path, capsys):
    root, circuit, _ = cohort
    target = tmp_path / "sub-07_desc-sgacc_target.json"
    target.write_text(
        json.dumps(
            {"participant": "07", "session": None, "target_mni": [-40.0, 42.0, 30.0], "score": 0.4}
        )
    )
    img = nib.load(circuit)
    score = np.asanyarray(img.dataobj).astype(np.float32)
    nib.save(nib.Nifti1Image(score, img.affine), str(tmp_path / "sub-07_desc-sgacc_score.nii.gz"))
    assert (
        main(
            [
                "compare",
                "--target-json",
                str(target),
                "--rule",
                "f3",
                "--circuit",
                circuit,
                "--out",
                str(tmp_path / "o"),
                "--figure-format",
                "png",
                "--json",
            ]
        )
        == 0
    )
    c = json.loads(capsys.readouterr().out)["comparisons"][0]
    assert (
        c["individual_score_connectivity"] is not None
        and c["individual_score_scalp_rule"] is not None
    )
    assert (tmp_path / "o" / "compare.png").stat().st_size > 1000


@pytest.mark.parametrize(
    "extra,fragment",
    [
        (["--target-json", "/nonexistent/sub-01_desc-x_target.json"], "does not exist"),
        (["--targets", "/nonexistent", "--out", "/tmp/x"], "no *_target.json"),
        ([], "exactly one"),
    ],
)
def test_compare_bad_inputs(capsys, extra, fragment):
    assert main(["compare", "--rule", "f3", *extra]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0]


def test_compare_refuses_target_outside_head_and_missing_measurements(cohort, tmp_path, capsys):
    root, circuit, heads = cohort
    bad = tmp_path / "sub-09_desc-x_target.json"
    bad.write_text(json.dumps({"participant": "09", "target_mni": [0, 0, 250]}))
    assert main(["compare", "--target-json", str(bad), "--rule", "f3"]) == 2
    assert "outside the head" in capsys.readouterr().err
    ok = tmp_path / "t" / "sub-09_desc-x_target.json"
    ok.parent.mkdir()
    ok.write_text(json.dumps({"participant": "09", "target_mni": [-40, 42, 30]}))
    assert (
        main(
            [
                "compare",
                "--targets",
                str(ok.parent),
                "--measurements",
                str(heads),
                "--out",
                str(tmp_path / "o"),
            ]
        )
        == 2
    )
    assert "no row in --measurements" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()  # no partial outputs


def test_zeros_outside_the_brain_are_no_data():
    """A map stored with zeros outside the brain: a sphere holding only zeros has no score.

    Such a sphere's score is missing, not 0.0.
    """
    from tmstarget.compare import data_mask

    affine = np.diag([2.0, 2.0, 2.0, 1.0])
    affine[:3, 3] = [-90.0, -126.0, -72.0]
    ijk = np.indices((91, 109, 91)).reshape(3, -1).T
    xyz = ijk @ affine[:3, :3].T + affine[:3, 3]
    inside = (np.linalg.norm((xyz - [0, -18, 18]) / [70, 95, 75], axis=1) < 1).reshape(91, 109, 91)
    data = np.where(inside, 0.5, 0.0)
    assert sample_map(data, affine, [-40, 42, 30], 10.0) == (0.5, 515)
    value, n = sample_map(
        data, affine, [-85, 42, 30], 10.0
    )  # inside the head box, outside the "brain"
    assert np.isnan(value) and n == 0
    assert np.isnan(sample_map(data, affine, [-85, 42, 30], 0.0)[0])
    with_nan = np.where(inside, data, np.nan)
    with_nan[45, 60, 45] = 0.0  # an exact zero inside the data of a NaN-masked map is a value
    assert data_mask(with_nan)[45, 60, 45] and not data_mask(data)[0, 0, 0]


def test_a_mask_is_not_a_circuit_and_an_empty_coordinates_file_is_one_line(tmp_path, capsys):
    mask = np.zeros((20, 20, 20), np.float32)
    mask[5:10, 5:10, 5:10] = 0.99999  # stored like the shared ROI masks
    nib.save(nib.Nifti1Image(mask, RAS), str(tmp_path / "roi.nii.gz"))
    assert main(["score", "--circuit", str(tmp_path / "roi.nii.gz"), "--coords=-10,-18,4"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "holds only the values {0, 0.99999}: a mask or label image" in err[0]
    (tmp_path / "empty.csv").write_text("")
    assert (
        main(
            [
                "score",
                "--circuit",
                str(tmp_path / "roi.nii.gz"),
                "--coords-file",
                str(tmp_path / "empty.csv"),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "empty.csv is empty" in err[0] and "Traceback" not in err[0]


def test_compare_figure_has_the_head_outline_and_equal_axes():
    from tmstarget.compare import _labels_text, comparison_figure

    data = _linear_map(RAS, (40, 40, 40))
    rows = [
        compare_targets(
            f"0{k}",
            None,
            "f3",
            [-38.0 + k, 44.0, 30.0],
            [-38.0 + k, 47.0, 30.0],  # 3 mm apart, along y
            [-50.0, 40.0, 50.0],
            group=(data, RAS),
        )
        for k in range(3)
    ]
    fig = comparison_figure(rows)
    fig.canvas.draw()
    for ax in fig.axes[:2]:
        assert ax.get_aspect() == 1.0
        assert any(line.get_label() == "template scalp" for line in ax.get_lines())
        # the same number of pixels per mm across and up: a 3 mm step looks like 3 mm
        (x0, y0), (x1, y1) = ax.transData.transform([(0.0, 0.0), (10.0, 10.0)])
        assert (x1 - x0) == pytest.approx(y1 - y0, rel=1e-3)
        head = next(line for line in ax.get_lines() if line.get_label() == "template scalp")
        xs = head.get_xdata()
        assert xs.max() - xs.min() > 120  # a whole head, not the targets' few mm
    # the score labels are kept
    assert fig.axes[2].get_xlabel().replace("\n", " ") == _labels_text(rows)


def test_compare_figure_bytes_are_deterministic(tmp_path):
    from tmstarget.compare import write_comparison

    data = _linear_map(RAS, (40, 40, 40))
    rows = [
        compare_targets(
            "01", None, "f3", [-38, 44, 30], [-38, 47, 30], [-50, 40, 50], group=(data, RAS)
        )
    ]
    a = write_comparison(tmp_path / "a", rows)[-1].read_bytes()
    b = write_comparison(tmp_path / "b", rows)[-1].read_bytes()
    assert a == b and b"template scalp" in a
