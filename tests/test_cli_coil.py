"""``tmstarget coil``: JSON contract, exports that parse back, native mapping, one-line errors."""

from __future__ import annotations

import json

import nibabel as nib
import numpy as np
import pytest

from nnav_reference import angle_deg, simnibs_handle, simnibs_read_brainsight, simnibs_read_localite
from tmstarget.cli.main import main
from tmstarget.export import (
    read_brainsight,
    read_localite,
    read_poses_csv,
    read_poses_json,
    rotation_difference_deg,
)

pytest.importorskip("tmstarget.headmodel")

MNI_AFFINE = np.array([[2.0, 0, 0, -90], [0, 2.0, 0, -126], [0, 0, 2.0, -72], [0, 0, 0, 1]])
TARGET = [-40.0, 42.0, 30.0]


def _run_json(capsys, argv: list[str]) -> dict:
    code = main(argv + ["--json", "--quiet"])
    out = capsys.readouterr().out
    assert code == 0
    return json.loads(out)  # exactly one JSON object and nothing else


def _target_dir(tmp_path, blob_mm=(-48.0, 34.0, 24.0)) -> tuple:
    """Write a target JSON and a score map as 'tmstarget target' writes them.

    The score map is a Gaussian blob beside the target, NaN outside a 25 mm search region.
    """
    d = tmp_path / "out" / "sub-01"
    d.mkdir(parents=True)
    ijk = np.indices((91, 109, 91)).reshape(3, -1).T
    xyz = ijk @ MNI_AFFINE[:3, :3].T + MNI_AFFINE[:3, 3]
    score = np.exp(-((xyz - blob_mm) ** 2).sum(1) / (2 * 8.0**2))
    score[np.linalg.norm(xyz - TARGET, axis=1) > 25.0] = np.nan
    score = score.reshape(91, 109, 91).astype(np.float32)
    nib.save(nib.Nifti1Image(score, MNI_AFFINE), str(d / "sub-01_desc-sgacc_score.nii.gz"))
    target = d / "sub-01_desc-sgacc_target.json"
    target.write_text(
        json.dumps(
            {
                "participant": "01",
                "session": None,
                "space": "MNI152NLin6Asym",
                "circuit": "sgacc",
                "target_mni": TARGET,
                "score": 0.4,
            }
        )
    )
    return target, np.array(blob_mm)


def test_default_placement_json(capsys):
    out = _run_json(capsys, ["coil", f"--target={','.join(map(str, TARGET))}"])
    assert out["target_mni"] == TARGET and out["optimization"] is None and out["native"] is None
    pl, ef = out["placement"], out["efield"]
    assert pl["handle_angle_from_midline_deg"] == 45.0
    assert (
        pl["handle_direction"][1] < 0 and pl["handle_direction"][0] < 0
    )  # posterior, away from the midline
    assert 8.0 < pl["scalp_cortex_distance_mm"] < 30.0
    assert ef["e_target_v_per_m"] > 0.3 and ef["max_to_target_mm"] < 10.0
    assert out["coil"]["key"] == "magventure-cool-b65" and "not a medical device" in out["notice"]


def test_optimise_on_score_map_and_export(tmp_path, capsys):
    target, blob = _target_dir(tmp_path)
    files = {
        k: tmp_path / f"sub-01.{ext}"
        for k, ext in (
            ("localite", "xml"),
            ("brainsight", "txt"),
            ("csv", "csv"),
            ("poses-json", "json"),
        )
    }
    argv = ["coil", "--target-json", str(target), "--optimize", "--coil", "magstim-d70"]
    for k, path in files.items():
        argv += [f"--{k}", str(path)]
    out = _run_json(capsys, argv)
    opt = out["optimization"]
    assert opt["score"] >= opt["default_score"] and opt["time_s"] > 0
    assert np.linalg.norm(np.array(opt["stimulated_centroid_mm"]) - blob) < np.linalg.norm(
        np.array(TARGET) - blob
    )
    assert out["default_placement"]["handle_angle_from_midline_deg"] == 45.0
    pose = np.array(out["placement"]["matrix"])
    readers = {
        "localite": read_localite,
        "brainsight": lambda p: read_brainsight(p)[0],
        "csv": lambda p: read_poses_csv(p)[0],
        "poses-json": lambda p: read_poses_json(p)[0],
    }
    for kind, path in files.items():
        back = readers[kind](path)[0]
        assert back.name == "sub-01_sgacc"
        assert np.linalg.norm(back.matrix[:3, 3] - pose[:3, 3]) < 0.5
        assert rotation_difference_deg(back.matrix, pose) < 1.0
        info = out["exports"][kind.replace("-", "_")]
        assert info["round_trip_mm"] < 0.5 and info["round_trip_deg"] < 1.0


def test_native_space_with_affine_transform_and_t1w(tmp_path, capsys):
    lps = np.diag([-1.0, -1.0, 1.0, 1.0])
    a = np.eye(4)
    a[:3, 3] = [3.0, -20.0, 15.0]  # template point -> T1w point
    params = " ".join(
        f"{v:.6f}" for v in [*(lps @ a @ lps)[:3, :3].ravel(), *(lps @ a @ lps)[:3, 3]]
    )
    xfm = tmp_path / "sub-01_from-T1w_to-MNI152NLin6Asym_mode-image_xfm.txt"
    xfm.write_text(
        "#Insight Transform File V1.0\n#Transform 0\nTransform: "
        f"AffineTransform_double_3_3\nParameters: {params}\nFixedParameters: "
        "0 0 0\n"
    )
    # a "participant head": a ball of radius 95 mm around the mapped centre of the template head
    centre = np.array([0.0, -15.0, 10.0]) + a[:3, 3]
    affine = np.diag([2.0, 2.0, 2.0, 1.0])
    affine[:3, 3] = centre - 120.0
    ijk = np.indices((121, 121, 121)).reshape(3, -1).T
    inside = np.linalg.norm(ijk * 2.0 + affine[:3, 3] - centre, axis=1) < 95.0
    t1w = tmp_path / "sub-01_desc-preproc_T1w.nii.gz"
    nib.save(
        nib.Nifti1Image((100.0 * inside).reshape(121, 121, 121).astype(np.float32), affine),
        str(t1w),
    )
    out = _run_json(
        capsys,
        [
            "coil",
            "--target=-40,42,30",
            "--xfm",
            str(xfm),
            "--t1w",
            str(t1w),
            "--scalp-offset-mm",
            "2",
            "--csv",
            str(tmp_path / "native.csv"),
        ],
    )
    nat = out["native"]
    assert np.allclose(nat["target_t1w_mm"], np.array(TARGET) + a[:3, 3], atol=0.1)
    assert nat["round_trip_mm"]["target"] < 0.01 and nat["round_trip_mm"]["inverse"] == "numerical"
    centre_t1w = np.array(nat["coil_centre_t1w_mm"])
    assert (
        abs(np.linalg.norm(centre_t1w - centre) - 97.0) < 1.5
    )  # on the ball's surface + 2 mm offset
    z = np.array(nat["matrix"])[:3, 2]
    assert z @ (centre - centre_t1w) / np.linalg.norm(centre - centre_t1w) > np.cos(
        np.deg2rad(3.0)
    )  # normal to the ball
    back, space = read_poses_csv(tmp_path / "native.csv")
    assert space == "T1w" and np.linalg.norm(back[0].matrix[:3, 3] - centre_t1w) < 0.1
    # the handle keeps its orientation on the head: same angle from the midline after mapping and
    # re-seating
    assert (
        abs(
            nat["handle_angle_from_midline_deg"] - out["placement"]["handle_angle_from_midline_deg"]
        )
        < 5.0
    )
    assert nat["handle_description"] == out["placement"]["handle_description"]
    assert angle_deg(np.array(nat["matrix"])[:3, 1], out["placement"]["handle_direction"]) < 10.0


def test_native_handle_survives_a_rotated_head(tmp_path, capsys):
    """A T1w head turned 20° about the vertical axis: the exported handle turns with it.

    The handle is read back with SimNIBS's reader.
    """
    lps = np.diag([-1.0, -1.0, 1.0, 1.0])
    th = np.deg2rad(20.0)
    a = np.eye(4)  # template point -> T1w point: rotation about z and a shift
    a[:3, :3] = [[np.cos(th), -np.sin(th), 0], [np.sin(th), np.cos(th), 0], [0, 0, 1]]
    a[:3, 3] = [3.0, -20.0, 15.0]
    m = lps @ a @ lps
    xfm = tmp_path / "sub-01_from-T1w_to-MNI152NLin6Asym_mode-image_xfm.txt"
    xfm.write_text(
        "#Insight Transform File V1.0\n#Transform 0\nTransform: "
        "AffineTransform_double_3_3\nParameters: "
        + " ".join(f"{v:.10f}" for v in [*m[:3, :3].ravel(), *m[:3, 3]])
        + "\nFixedParameters: 0 0 0\n"
    )
    for target in ([-40.0, 42.0, 30.0], [40.0, 42.0, 30.0]):
        files = {"localite": tmp_path / "n.xml", "brainsight": tmp_path / "n.txt"}
        out = _run_json(
            capsys,
            [
                "coil",
                f"--target={','.join(map(str, target))}",
                "--xfm",
                str(xfm),
                "--localite",
                str(files["localite"]),
                "--brainsight",
                str(files["brainsight"]),
            ],
        )
        planned = a[:3, :3] @ np.array(
            out["placement"]["handle_direction"]
        )  # the template handle, turned with the head
        for reader, path in (
            (simnibs_read_localite, files["localite"]),
            (simnibs_read_brainsight, files["brainsight"]),
        ):
            matsimnibs = reader(path)[0][1]
            assert angle_deg(simnibs_handle(matsimnibs), planned) < 1.0
            assert (
                np.linalg.norm(matsimnibs[:3, 3] - np.array(out["native"]["matrix"])[:3, 3]) < 0.01
            )


def test_handle_words_and_brainsight_coordinate_system(tmp_path, capsys):
    import nibabel as nib

    out = _run_json(capsys, ["coil", "--target=40,42,30", "--brainsight", str(tmp_path / "r.txt")])
    assert (
        out["placement"]["handle_description"]
        == "handle 45° posterior-lateral (pointing backwards and to the right)"
    )
    info = out["exports"]["brainsight"]
    assert (info["coordinate_system"], info["version"], info["image"]) == (
        "NIfTI:Aligned",
        12,
        None,
    )
    ((name, matsimnibs),) = simnibs_read_brainsight(tmp_path / "r.txt")  # SimNIBS reads the default
    assert angle_deg(simnibs_handle(matsimnibs), out["placement"]["handle_direction"]) < 1.0
    # an MNI template whose only code is the sform's MNI_152: Brainsight lists NIfTI:MNI-152 for it
    template = nib.Nifti1Image(np.zeros((91, 109, 91), np.int16), None)
    template.set_sform(MNI_AFFINE, 4)
    template.set_qform(None, 0)
    nib.save(template, str(tmp_path / "mni.nii.gz"))
    out = _run_json(
        capsys,
        [
            "coil",
            "--target=-40,42,30",
            "--brainsight",
            str(tmp_path / "l.txt"),
            "--brainsight-image",
            str(tmp_path / "mni.nii.gz"),
        ],
    )
    assert out["exports"]["brainsight"]["coordinate_system"] == "NIfTI:MNI-152"
    assert (
        out["placement"]["handle_description"]
        == "handle 45° posterior-lateral (pointing backwards and to the left)"
    )
    assert (tmp_path / "l.txt").read_text().splitlines()[1] == "# Coordinate system: NIfTI:MNI-152"


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--brainsight-image", "{small}"], "outside small.nii.gz's field of view"),
        (
            ["--brainsight-image", "{mni}", "--brainsight-coords", "NIfTI:Scanner"],
            "it offers: NIfTI:MNI-152",
        ),
        (["--brainsight-image", "{tmp}/missing.nii.gz"], "missing.nii.gz not found"),
        (["--brainsight-version", "14", "--brainsight-coords", "NIfTI:Aligned"], "not one of"),
    ],
)
def test_brainsight_image_errors(tmp_path, capsys, extra, message):
    import nibabel as nib

    small = nib.Nifti1Image(
        np.zeros((10, 10, 10), np.int16), MNI_AFFINE
    )  # 20 mm cube far from the scalp
    small.set_sform(MNI_AFFINE, 2)
    nib.save(small, str(tmp_path / "small.nii.gz"))
    mni = nib.Nifti1Image(np.zeros((91, 109, 91), np.int16), None)
    mni.set_sform(MNI_AFFINE, 4)
    nib.save(mni, str(tmp_path / "mni.nii.gz"))
    out = tmp_path / "x.txt"
    argv = ["coil", "--target=-40,42,30", "--brainsight", str(out)]
    argv += [
        e.format(small=tmp_path / "small.nii.gz", mni=tmp_path / "mni.nii.gz", tmp=tmp_path)
        for e in extra
    ]
    try:
        code = main(argv)
    except SystemExit as exc:  # a missing input file is refused while parsing
        code = exc.code
    captured = capsys.readouterr()
    assert code == 2 and captured.out == "" and not out.exists()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in captured.err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["coil", "--target", "1,2"], "three numbers"),
        (["coil", "--target=-40,42,30", "--t1w", "x.nii.gz"], "x.nii.gz not found"),
        (["coil", "--target=-40,42,30", "--t1w", __file__], "--t1w needs the transforms"),
        (["coil", "--target=-40,42,30", "--circuit", "convergent"], "add --optimize"),
        (["coil", "--target=-40,42,30", "--optimize"], "needs the target's score map"),
        (["coil", "--target-json", "missing_target.json"], "not found"),
        (["coil", "--target=-40,42,30", "--coil", "nope"], "invalid choice"),
        (["coil", "--target=-40,42,30", "--handle-angle", "1000"], "angle in -180..180"),
    ],
)
def test_errors_are_one_line_exit_2(capsys, argv, message):
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse usage errors
        code = exc.code
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in captured.err


def test_optimise_with_group_circuit_map(shared_data, capsys):
    circuit = shared_data / "circuits" / "DepressionCircuit_space-MNI152NLin6Asym_res-02.nii.gz"
    if not circuit.is_file():
        pytest.skip(f"{circuit.name} not in the shared data")
    out = _run_json(
        capsys,
        [
            "coil",
            "--target=-40,42,30",
            "--optimize",
            "--circuit",
            str(circuit),
            "--search-radius-mm",
            "15",
        ],
    )
    opt = out["optimization"]
    assert opt["score"] >= opt["default_score"] > 0
    assert opt["shift_mm"] <= 15.5
