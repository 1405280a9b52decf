"""MNI ↔ T1w mapping through synthetic fMRIPrep-style ITK transform files.

The files hold an affine and a displacement field.
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from tmstarget.exceptions import InputError
from tmstarget.export.native import (
    load_native_transform,
    scalp_along_ray,
    scalp_normal,
    transform_spaces,
)

h5py = pytest.importorskip("h5py")

TEMPLATE = "MNI152NLin6Asym"
_LPS = np.diag([-1.0, -1.0, 1.0, 1.0])
POINTS = np.array(
    [
        [-40.0, 42.0, 30.0],
        [-44.0, 40.0, 29.0],
        [-36.0, 39.0, 43.0],
        [10.0, -20.0, 35.0],
        [0.0, 0.0, 0.0],
    ]
)


def write_itk_composite(path, parts) -> None:
    """Write an ITK composite .h5 as ANTs/fMRIPrep do.

    The physical space is LPS and the transforms are applied last-first.

    ``parts``: ``("affine", 4x4 RAS matrix)`` or ``("field", (RAS displacements (X, Y, Z, 3), RAS
    grid affine))`` in ITK queue order (``TransformGroup/1``, ``/2``, ...).
    """
    with h5py.File(path, "w") as f:
        group = f.create_group("TransformGroup")
        group.create_group("0")["TransformType"] = np.array([b"CompositeTransform_double_3_3"])
        for i, (kind, value) in enumerate(parts, start=1):
            g = group.create_group(str(i))
            if kind == "affine":
                lps = _LPS @ value @ _LPS
                g["TransformType"] = np.array([b"AffineTransform_double_3_3"])
                g["TransformParameters"] = np.concatenate([lps[:3, :3].ravel(), lps[:3, 3]])
                g["TransformFixedParameters"] = np.zeros(3)
            else:
                disp, affine = value
                lps_affine = _LPS @ affine
                zooms = np.linalg.norm(lps_affine[:3, :3], axis=0)
                d = disp.copy()
                d[..., :2] *= -1  # RAS -> LPS vectors
                g["TransformType"] = np.array([b"DisplacementFieldTransform_float_3_3"])
                g["TransformParameters"] = np.moveaxis(d, -1, 0).ravel(order="F")
                g["TransformFixedParameters"] = np.concatenate(
                    [
                        np.array(disp.shape[:3], float),
                        lps_affine[:3, 3],
                        zooms,
                        (lps_affine[:3, :3] / zooms).ravel(),
                    ]
                )


def _warp(x: np.ndarray) -> np.ndarray:
    """Smooth nonlinear displacement in template space (mm)."""
    return np.column_stack(
        [3 * np.sin(x[:, 1] / 25), 2 * np.cos(x[:, 2] / 30), 2.5 * np.sin(x[:, 0] / 20)]
    )


def _affine() -> np.ndarray:
    th = np.deg2rad(8.0)
    a = np.eye(4)
    a[:3, :3] = 1.05 * np.array(
        [[np.cos(th), -np.sin(th), 0], [np.sin(th), np.cos(th), 0], [0, 0, 1]]
    )
    a[:3, 3] = [2.0, -15.0, 20.0]
    return a


def _exact_to_native(p: np.ndarray) -> np.ndarray:
    a = _affine()
    return (p + _warp(p)) @ a[:3, :3].T + a[:3, 3]


@pytest.fixture
def xfm_files(tmp_path):
    """fMRIPrep-style transform pair: T1w point = A(x + u(x)) for template point x.

    The pair holds this transform and its numerical inverse.
    """
    step = 4.0
    g = np.arange(-100.0, 101.0, step)
    grid = np.stack(np.meshgrid(g, g, g, indexing="ij"), -1)
    affine = np.diag([step, step, step, 1.0])
    affine[:3, 3] = g[0]
    flat = grid.reshape(-1, 3)
    x = flat.copy()
    for _ in range(60):  # inverse warp by fixed-point iteration: x + u(x) = z  =>  x = z - u(x)
        x = flat - _warp(x)
    fwd = tmp_path / f"sub-01_from-T1w_to-{TEMPLATE}_mode-image_xfm.h5"
    inv = tmp_path / f"sub-01_from-{TEMPLATE}_to-T1w_mode-image_xfm.h5"
    write_itk_composite(
        fwd, [("affine", _affine()), ("field", (_warp(flat).reshape(grid.shape), affine))]
    )
    write_itk_composite(
        inv,
        [("field", ((x - flat).reshape(grid.shape), affine)), ("affine", np.linalg.inv(_affine()))],
    )
    return fwd, inv


def test_direction_convention_and_round_trip(xfm_files):
    fwd, inv = xfm_files
    xfm = load_native_transform([fwd, inv], TEMPLATE)
    native = xfm.to_native(POINTS)
    # from-T1w_to-<template> maps template points to T1w points (an image transform pulls back)
    assert np.linalg.norm(native - _exact_to_native(POINTS), axis=1).max() < 0.05
    trip = xfm.round_trip_mm(POINTS)
    assert trip.max() < 0.5
    assert trip.max() < 0.05
    assert_allclose(xfm.to_template(native), POINTS, atol=0.05)


@pytest.mark.parametrize("which", [0, 1])
def test_one_file_is_inverted_numerically(xfm_files, which):
    xfm = load_native_transform([xfm_files[which]], TEMPLATE)
    assert np.linalg.norm(xfm.to_native(POINTS) - _exact_to_native(POINTS), axis=1).max() < 0.05
    assert xfm.round_trip_mm(POINTS).max() < 0.05


def test_pose_mapping_keeps_a_rigid_frame(xfm_files):
    xfm = load_native_transform(list(xfm_files), TEMPLATE)
    pose = np.eye(4)
    pose[:3, :3] = np.column_stack([[1.0, 0, 0], [0, -1.0, 0], [0, 0, -1.0]])
    pose[:3, 3] = POINTS[0]
    native = xfm.pose_to_native(pose)
    assert_allclose(native[:3, :3].T @ native[:3, :3], np.eye(3), atol=1e-9)
    assert np.linalg.det(native[:3, :3]) == pytest.approx(1.0)
    assert_allclose(native[:3, 3], _exact_to_native(POINTS[:1])[0], atol=0.05)
    # about 8 degrees of rotation in the affine part: the normal stays normal-ish, the frame turns
    # with it
    back = xfm.pose_to_template(native)
    assert np.linalg.norm(back[:3, 3] - pose[:3, 3]) < 0.05
    assert (
        np.degrees(np.arccos(np.clip((np.trace(back[:3, :3].T @ pose[:3, :3]) - 1) / 2, -1, 1)))
        < 0.5
    )


def test_itk_text_affine(tmp_path):
    a = _affine()
    lps = _LPS @ a @ _LPS
    params = " ".join(f"{v:.10f}" for v in [*lps[:3, :3].ravel(), *lps[:3, 3]])
    path = tmp_path / f"sub-01_from-T1w_to-{TEMPLATE}_mode-image_xfm.txt"
    path.write_text(
        "#Insight Transform File V1.0\n#Transform 0\nTransform: "
        f"AffineTransform_double_3_3\nParameters: {params}\nFixedParameters: "
        "0 0 0\n"
    )
    xfm = load_native_transform([path], TEMPLATE)
    assert_allclose(xfm.to_native(POINTS), POINTS @ a[:3, :3].T + a[:3, 3], atol=1e-4)
    assert xfm.round_trip_mm(POINTS).max() < 1e-3


def test_transform_name_and_space_errors(tmp_path, xfm_files):
    assert transform_spaces(xfm_files[0]) == ("T1w", TEMPLATE)
    with pytest.raises(InputError, match="from-<space>_to-<space>"):
        transform_spaces(tmp_path / "warp.h5")
    with pytest.raises(InputError, match="MNI152NLin2009cAsym"):
        load_native_transform([xfm_files[0]], "MNI152NLin2009cAsym")
    missing = tmp_path / f"sub-02_from-T1w_to-{TEMPLATE}_xfm.h5"
    with pytest.raises(InputError, match="not found"):
        load_native_transform([missing], TEMPLATE)
    junk = tmp_path / f"sub-03_from-T1w_to-{TEMPLATE}_xfm.h5"
    junk.write_bytes(b"not hdf5")
    with pytest.raises(InputError, match="cannot read transform"):
        load_native_transform([junk], TEMPLATE)


def test_scalp_along_ray_finds_the_head_surface():
    affine = np.diag([2.0, 2.0, 2.0, 1.0])
    affine[:3, 3] = -100.0
    ijk = np.indices((101, 101, 101)).reshape(3, -1).T
    xyz = ijk * 2.0 - 100.0
    data = (
        np.where(np.linalg.norm(xyz - [0, 5, 0], axis=1) < 80.0, 100.0, 0.0)
        .reshape(101, 101, 101)
        .astype(np.float32)
    )
    hit = scalp_along_ray(data, affine, [0, 5, 50.0], [0, 0, 1.0])
    assert abs(hit[2] - 80.0) < 1.0  # sphere of radius 80 mm around (0, 5, 0)
    tilted = scalp_along_ray(
        data, affine, [18.0, 5, 24.0], [0.6, 0, 0.8]
    )  # 30 mm out from the centre
    radial = (tilted - [0, 5, 0]) / np.linalg.norm(tilted - [0, 5, 0])
    assert np.degrees(np.arccos(scalp_normal(data, affine, tilted) @ radial)) < 3.0
    with pytest.raises(InputError, match="head surface"):
        scalp_along_ray(np.zeros_like(data), affine, [0, 0, 0.0], [0, 0, 1.0])
    with pytest.raises(InputError, match="no head surface"):
        scalp_normal(data, affine, [0, 5, 0.0])  # deep inside: no surface nearby


def test_pose_mapping_turns_the_handle_with_the_warp(xfm_files):
    """The mapped handle is the exact Jacobian of the warp applied to the template handle.

    It is projected on the tangent plane of the mapped normal, and it is not just any orthonormal
    frame: it agrees within 1° through the nonlinear field.
    """
    xfm = load_native_transform(list(xfm_files), TEMPLATE)
    for handle_deg in (45.0, -30.0, 120.0):
        t = np.deg2rad(handle_deg)
        handle = np.array(
            [-np.sin(t), -np.cos(t), 0.0]
        )  # in the horizontal plane, normal pointing down
        pose = np.eye(4)
        pose[:3, :3] = np.column_stack([np.cross(handle, [0, 0, -1.0]), handle, [0, 0, -1.0]])
        pose[:3, 3] = POINTS[0]
        native = xfm.pose_to_native(pose)
        eps = 1e-3
        jac = np.column_stack(
            [
                (_exact_to_native(POINTS[:1] + eps * e) - _exact_to_native(POINTS[:1] - eps * e))[0]
                / (2 * eps)
                for e in np.eye(3)
            ]
        )
        z = jac @ pose[:3, 2]
        z /= np.linalg.norm(z)
        y = jac @ handle
        y -= (y @ z) * z
        y /= np.linalg.norm(y)
        assert np.degrees(np.arccos(np.clip(native[:3, 1] @ y, -1, 1))) < 1.0
        assert np.degrees(np.arccos(np.clip(native[:3, 2] @ z, -1, 1))) < 1.0
