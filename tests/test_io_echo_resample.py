"""Echoes in fMRIPrep's BOLD reference space brought onto the target grid (``io.echo_resample``).

Checked with answers known without tmstarget or nitransforms: trilinear interpolation reproduces a
linear function of position exactly; ITK transform files written by hand (LPS parameters, as ANTs
writes them) move a planted blob to where the image-transform convention puts it (``from-A_to-B``
maps B points to A points), through the ``.txt`` and ``.h5`` readers; the transform files are found
at session and participant level; resampled echoes written for tedana read back unchanged.
"""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest

from tmstarget.exceptions import InputError
from tmstarget.io.echo_resample import (
    boldref_resampler,
    find_echo_transforms,
    trilinear_matrix,
    write_masked_series,
)


def test_trilinear_matrix_reproduces_a_linear_function_exactly():
    rng = np.random.default_rng(0)
    shape = (7, 8, 9)
    ijk = np.stack(np.meshgrid(*[np.arange(k) for k in shape], indexing="ij"), -1).astype(float)
    coef = np.array([1.5, -2.0, 0.7])
    field = (ijk @ coef + 3.0).ravel(order="F")  # Fortran order, as the columns are
    pts = rng.uniform(0, np.array(shape) - 1, size=(500, 3))
    pts[:3] = [[0, 0, 0], [6, 7, 8], [6.0, 0.5, 8.0]]  # corners and faces
    matrix, columns, inside = trilinear_matrix(pts, shape)
    assert inside.all() and np.all(np.diff(columns) > 0)
    np.testing.assert_allclose(matrix @ field[columns], pts @ coef + 3.0, atol=1e-10)
    np.testing.assert_allclose(np.asarray(matrix.sum(1)).ravel(), 1.0, atol=1e-12)
    assert matrix.shape[1] < field.size  # only the voxels needed
    # the outer half voxel takes the edge value; beyond it, outside (an empty row)
    m2, c2, in2 = trilinear_matrix(np.array([[-0.4, 2.0, 2.0], [-0.6, 2.0, 2.0]]), shape)
    assert in2.tolist() == [True, False]
    np.testing.assert_allclose(m2 @ field[c2], [2 * -2.0 + 2 * 0.7 + 3.0, 0.0], atol=1e-10)


def _itk_txt(path, matrix_lps: np.ndarray, translation_lps) -> None:
    """Write an ITK affine as antsRegistration does (LPS physical space, centre 0)."""
    params = [*np.asarray(matrix_lps, float).ravel(), *translation_lps]
    path.write_text(
        "#Insight Transform File V1.0\n#Transform 0\n"
        "Transform: AffineTransform_double_3_3\n"
        f"Parameters: {' '.join(f'{v:.10g}' for v in params)}\nFixedParameters: 0 0 0\n"
    )


def _rot_z(deg: float) -> np.ndarray:
    t = np.deg2rad(deg)
    return np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1.0]])


@pytest.mark.parametrize("anat_kind", ["txt", "h5"])
def test_a_planted_blob_lands_where_the_transforms_say(tmp_path, anat_kind):
    """Coreg: 30° about z, LPS translation (10, 0, 0); anat: RAS translation (5, 0, 0).

    ITK maps a fixed (T1w) LPS point p to the moving (BOLD reference) point R p + t; a rotation
    about z is the same in LPS and RAS, and LPS x is −RAS x. So, in RAS mm, T1w point q ↦ BOLD
    reference point R q + (−10, 0, 0), and template point m ↦ T1w point m + (5, 0, 0). A blob
    centred at BOLD reference b0 is thus at template m0 = R⁻¹ (b0 + (10, 0, 0)) − (5, 0, 0).
    Applying the two transforms in the other order would put it 2.6 mm away.
    """
    func = tmp_path / "sub-01" / "func"
    anat_dir = tmp_path / "sub-01" / "anat"
    func.mkdir(parents=True)
    anat_dir.mkdir()
    rot = _rot_z(30.0)
    _itk_txt(
        func / "sub-01_task-rest_from-boldref_to-T1w_mode-image_desc-coreg_xfm.txt", rot, (10, 0, 0)
    )
    a_ras = np.eye(4)
    a_ras[0, 3] = 5.0
    if anat_kind == "txt":
        _itk_txt(
            anat_dir / "sub-01_from-T1w_to-MNI152NLin6Asym_mode-image_xfm.txt",
            np.eye(3),
            (-5, 0, 0),
        )
    else:
        pytest.importorskip("h5py")
        from test_export_native import write_itk_composite

        write_itk_composite(
            anat_dir / "sub-01_from-T1w_to-MNI152NLin6Asym_mode-image_xfm.h5", [("affine", a_ras)]
        )
    # BOLD reference grid: 2.5 mm voxels, a blob (sigma 5 mm) at b0, 3 volumes scaled 1, 2, 3
    b_aff = np.diag([2.5, 2.5, 2.5, 1.0])
    b_aff[:3, 3] = [-100.0, -40.0, -30.0]
    b_shape = (64, 56, 32)
    b0 = np.array([-35.0, 22.0, 8.0])
    ijk = np.stack(np.meshgrid(*[np.arange(k) for k in b_shape], indexing="ij"), -1)
    mm = ijk @ b_aff[:3, :3].T + b_aff[:3, 3]
    blob = np.exp(-((mm - b0) ** 2).sum(-1) / (2 * 5.0**2)).astype(np.float32)
    echo = func / "sub-01_task-rest_echo-1_desc-preproc_bold.nii.gz"
    nib.save(nib.Nifti1Image(blob[..., None] * np.arange(1, 4, dtype=np.float32), b_aff), str(echo))
    # target grid: 2 mm, a mask around the expected place
    t_aff = np.diag([2.0, 2.0, 2.0, 1.0])
    t_aff[:3, 3] = [-60.0, 0.0, -10.0]
    mask = np.ones((30, 30, 20), bool)
    coreg, anat = find_echo_transforms(echo, "MNI152NLin6Asym")
    assert anat.suffix == f".{anat_kind}"
    res = boldref_resampler(mask, t_aff, echo, (coreg, anat))
    x = np.concatenate([x for _, x in res.chunks(echo)])  # (T, V), streamed
    assert x.shape == (3, mask.sum()) and res.outside_fraction == 0.0
    np.testing.assert_allclose(x[1], 2 * x[0], rtol=1e-6)
    ijk_t = np.column_stack(np.unravel_index(np.arange(mask.sum()), mask.shape, order="F"))
    mm_t = ijk_t @ t_aff[:3, :3].T + t_aff[:3, 3]
    w = x[0] * (x[0] > 0.2)
    centroid = (w[:, None] * mm_t).sum(0) / w.sum()
    expected = rot.T @ (b0 + [10.0, 0, 0]) - [5.0, 0, 0]
    np.testing.assert_allclose(centroid, expected, atol=0.3)  # mm
    wrong_order = rot.T @ (b0 + [10.0, 0, 0] - [5.0, 0, 0])  # coreg first, then anat
    assert np.linalg.norm(wrong_order - expected) > 2.5
    # the peak value is kept (trilinear interpolation of a smooth blob, 2.5 mm voxels)
    assert 0.9 < x[0].max() <= 1.0


def test_transforms_are_found_at_session_or_participant_level(tmp_path):
    func = tmp_path / "sub-01" / "ses-2" / "func"
    func.mkdir(parents=True)
    echo = func / "sub-01_ses-2_task-rest_run-1_echo-1_desc-preproc_bold.nii.gz"
    with pytest.raises(InputError, match=r"sub-01_ses-2_task-rest_run-1_from-boldref_to-T1w"):
        find_echo_transforms(echo, "MNI152NLin6Asym")
    coreg = func / "sub-01_ses-2_task-rest_run-1_from-boldref_to-T1w_mode-image_desc-coreg_xfm.txt"
    coreg.write_text("x")
    with pytest.raises(InputError, match=r"sub-01_from-T1w_to-MNI152NLin6Asym_mode-image_xfm\.h5"):
        find_echo_transforms(echo, "MNI152NLin6Asym")
    (tmp_path / "sub-01" / "anat").mkdir()
    top = tmp_path / "sub-01" / "anat" / "sub-01_from-T1w_to-MNI152NLin6Asym_mode-image_xfm.h5"
    top.write_text("x")
    assert find_echo_transforms(echo, "MNI152NLin6Asym") == (coreg, top)
    (tmp_path / "sub-01" / "ses-2" / "anat").mkdir()
    own = func.parent / "anat" / "sub-01_ses-2_from-T1w_to-MNI152NLin6Asym_mode-image_xfm.h5"
    own.write_text("x")
    assert find_echo_transforms(echo, "MNI152NLin6Asym") == (coreg, own)
    with pytest.raises(InputError, match=r"from-T1w_to-MNI152NLin2009cAsym"):
        find_echo_transforms(echo, "MNI152NLin2009cAsym")


def test_written_series_read_back_on_the_masks_voxels(tmp_path):
    rng = np.random.default_rng(1)
    mask = np.zeros((9, 8, 7), bool)
    mask[2:6, 1:7, 3:5] = True
    mask[4, 4, 6] = True
    data = rng.standard_normal((10, int(mask.sum()))).astype(np.float32)
    aff = np.diag([2.0, 2.0, 2.0, 1.0])
    path = tmp_path / "e.nii"
    chunks = ((t, data[t : t + 4]) for t in range(0, 10, 4))
    box, box_aff = write_masked_series(path, chunks, mask, aff, 10, 2.0)
    img = nib.load(str(path))
    assert img.shape == (*box.shape, 10) and box.shape == (4, 6, 4)
    np.testing.assert_allclose(img.affine, box_aff)
    np.testing.assert_allclose(box_aff[:3, 3], [4.0, 2.0, 6.0])
    back = np.asarray(img.dataobj).reshape(-1, 10, order="F")[np.flatnonzero(box.ravel(order="F"))]
    np.testing.assert_array_equal(back.T, data)
    assert img.header.get_zooms()[3] == 2.0
