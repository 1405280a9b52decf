"""Neuronavigation exports: files parse back to the same poses; documented axis conventions."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from tmstarget.exceptions import InputError
from tmstarget.export import (
    NamedPose,
    position_difference_mm,
    read_brainsight,
    read_localite,
    read_poses_csv,
    read_poses_json,
    rotation_difference_deg,
    write_brainsight,
    write_localite,
    write_poses_csv,
    write_poses_json,
)
from tmstarget.export.poses import check_pose


def random_poses(rng, n=5) -> list[NamedPose]:
    poses = []
    for k in range(n):
        q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
        q *= np.sign(np.linalg.det(q))
        m = np.eye(4)
        m[:3, :3] = q
        m[:3, 3] = rng.uniform(-90, 90, size=3)
        poses.append(NamedPose(f"target {k} ü", m))
    return poses


def _assert_same(poses, back):
    assert [p.name for p in back] == [p.name for p in poses]
    for a, b in zip(poses, back):
        assert position_difference_mm(a.matrix, b.matrix) < 0.5
        assert rotation_difference_deg(a.matrix, b.matrix) < 1.0
        assert (
            position_difference_mm(a.matrix, b.matrix) < 1e-3
            and rotation_difference_deg(a.matrix, b.matrix) < 0.02
        )


@pytest.mark.parametrize("space", ["RAS", "LPS"])
def test_localite_round_trip(tmp_path, rng, space):
    poses = random_poses(rng)
    path = write_localite(tmp_path / "InstrumentMarker.xml", poses, space)
    _assert_same(poses, read_localite(path))


def test_brainsight_csv_json_round_trip(tmp_path, rng):
    poses = random_poses(rng)
    back, system = read_brainsight(
        write_brainsight(tmp_path / "targets.txt", poses, "NIfTI:Scanner")
    )
    assert system == "NIfTI:Scanner"
    _assert_same(poses, back)
    back, space = read_poses_csv(write_poses_csv(tmp_path / "poses.csv", poses, "T1w"))
    assert space == "T1w"
    _assert_same(poses, back)
    back, space = read_poses_json(
        write_poses_json(tmp_path / "poses.json", poses, "MNI152NLin6Asym")
    )
    assert space == "MNI152NLin6Asym"
    _assert_same(poses, back)


def test_documented_axes_and_units(tmp_path):
    """The documented axes of Localite and Brainsight.

    Localite: x = into the head, y = towards the handle. Brainsight: y = away from the handle,
    z = out of the head.
    """
    m = np.eye(4)
    m[:3, :3] = np.column_stack(
        [[1.0, 0, 0], [0, -1.0, 0], [0, 0, -1.0]]
    )  # handle posterior, normal down
    m[:3, 3] = [-40.0, 42.0, 60.0]
    poses = [NamedPose("t", m)]
    import xml.etree.ElementTree as ET

    node = ET.parse(write_localite(tmp_path / "a.xml", poses)).getroot().find(".//Matrix4D")
    lm = np.array([[float(node.get(f"data{i}{j}")) for j in range(4)] for i in range(4)])
    assert_allclose(lm[:3, 0], [0, 0, -1.0])  # x_L: into the head
    assert_allclose(lm[:3, 1], [0, -1.0, 0])  # y_L: towards the handle (posterior)
    assert_allclose(lm[:3, 2], [-1.0, 0, 0])  # z_L = x_L x y_L
    assert_allclose(lm[:3, 3], [-40.0, 42.0, 60.0])  # mm, RAS
    lps = ET.parse(write_localite(tmp_path / "b.xml", poses, "LPS")).getroot().find(".//Matrix4D")
    assert float(lps.get("data03")) == pytest.approx(40.0) and float(
        lps.get("data13")
    ) == pytest.approx(-42.0)
    text = write_brainsight(tmp_path / "b.txt", poses).read_text()
    assert text.startswith("# Version: 12\n# Coordinate system: NIfTI:Aligned\n")
    values = [float(v) for v in text.splitlines()[-1].split("\t")[1:]]
    assert_allclose(values[:3], [-40.0, 42.0, 60.0])
    assert_allclose(values[3:6], [1.0, 0, 0])  # m0 = x
    assert_allclose(values[6:9], [0, 1.0, 0])  # m1 = y: away from the handle
    assert_allclose(values[9:12], [0, 0, 1.0])  # m2 = z: out of the head
    v14 = write_brainsight(tmp_path / "c.txt", poses, "NIfTI:Q:Aligned", 14).read_text()
    assert v14.startswith("# Version: 14\n# Coordinate system: NIfTI:Q:Aligned\n")
    assert v14.splitlines()[-1] == text.splitlines()[-1]
    json_pose = read_poses_json(write_poses_json(tmp_path / "p.json", poses, "T1w"))[0][0]
    import json

    matsimnibs = np.array(json.loads((tmp_path / "p.json").read_text())["poses"][0]["matsimnibs"])
    assert_allclose(matsimnibs[:3, 1], [0, 1.0, 0])  # SimNIBS: handle at -y
    assert_allclose(matsimnibs[:3, 2], [0, 0, -1.0])  # SimNIBS: z into the head
    assert_allclose(json_pose.matrix, m)


def test_writers_are_deterministic_and_atomic(tmp_path, rng):
    poses = random_poses(rng, 2)
    a = write_localite(tmp_path / "a.xml", poses).read_bytes()
    assert write_localite(tmp_path / "b.xml", poses).read_bytes() == a
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "a.xml",
        "b.xml",
    ]  # no temporary files left


def test_bad_inputs_are_input_errors(tmp_path):
    bad = np.eye(4)
    bad[0, 0] = 2.0
    with pytest.raises(InputError, match="not a rotation"):
        check_pose(bad)
    with pytest.raises(InputError, match="RAS or LPS"):
        write_localite(tmp_path / "x.xml", [NamedPose("a", np.eye(4))], "XYZ")
    with pytest.raises(InputError, match="tab"):
        write_brainsight(tmp_path / "x.txt", [NamedPose("a\tb", np.eye(4))])
    with pytest.raises(InputError, match="version 13 is not one of 12, 14"):
        write_brainsight(tmp_path / "x.txt", [NamedPose("a", np.eye(4))], version=13)
    with pytest.raises(InputError, match="not one of .* for file version 12"):
        write_brainsight(tmp_path / "x.txt", [NamedPose("a", np.eye(4))], "NIfTI:Q:Aligned")
    (tmp_path / "other.xml").write_text("<TriggerMarkerList/>")
    with pytest.raises(InputError, match="InstrumentMarkerList"):
        read_localite(tmp_path / "other.xml")
    (tmp_path / "broken.xml").write_text(
        "<InstrumentMarkerList><InstrumentMarker><Marker "
        "description='a'/></InstrumentMarker></InstrumentMarkerList>"
    )
    with pytest.raises(InputError, match="Matrix4D"):
        read_localite(tmp_path / "broken.xml")
    (tmp_path / "empty.txt").write_text("# Version: 13\n")
    with pytest.raises(InputError, match="Target Name"):
        read_brainsight(tmp_path / "empty.txt")
    (tmp_path / "bad.csv").write_text("name,space\nx,T1w\n")
    with pytest.raises(InputError, match="lacks a column"):
        read_poses_csv(tmp_path / "bad.csv")


def _image(qform=None, qcode=0, sform=None, scode=0):
    import nibabel as nib

    img = nib.Nifti1Image(np.zeros((4, 4, 4), np.float32), None)
    img.set_qform(qform, int(qcode))
    img.set_sform(sform, int(scode))
    return img


A = np.diag([2.0, 2.0, 2.0, 1.0])
A[:3, 3] = [-90.0, -126.0, -72.0]
B = A.copy()
B[:3, 3] += [0.0, 3.0, 0.0]


@pytest.mark.parametrize(
    "codes, version, expected",
    [
        ((A, 2, A, 2), 12, ["NIfTI:Aligned"]),  # SimNIBS-style T1: qform = sform, ALIGNED_ANAT
        ((A, 2, A, 2), 14, ["NIfTI:Q:Aligned", "NIfTI:S:Aligned"]),
        ((A, 1, A, 1), 12, ["NIfTI:Scanner"]),  # scanner-coded T1w
        (
            (A, 1, A, 2),
            12,
            ["NIfTI:Aligned", "NIfTI:Scanner"],
        ),  # both offered; the SimNIBS-readable one first
        ((None, 0, A, 4), 12, ["NIfTI:MNI-152"]),  # a template with only an MNI sform
        ((None, 0, A, 4), 14, ["NIfTI:S:MNI-152"]),
        (
            (B, 2, A, 2),
            12,
            [],
        ),  # same code, different matrices: Brainsight <= 2.5.2 uses the qform (B)
        ((B, 2, A, 2), 14, ["NIfTI:S:Aligned"]),
        (
            (A, 1, B, 2),
            12,
            ["NIfTI:Scanner"],
        ),  # only the qform holds A (nibabel's affine would be the sform B)
        ((B, 1, B, 2), 12, []),  # neither form holds A: coordinates of another image
        ((None, 0, None, 0), 12, []),
    ],
)
def test_brainsight_coordinate_system_follows_the_image_codes(codes, version, expected):
    from tmstarget.export.brainsight import coordinate_system_for, coordinate_systems_for

    img = _image(*codes)
    assert coordinate_systems_for(img.header, A, version) == expected
    if expected:
        assert coordinate_system_for(img.header, A, version) == expected[0]
    else:
        with pytest.raises(InputError, match="no Brainsight coordinate system"):
            coordinate_system_for(img.header, A, version)
