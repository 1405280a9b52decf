"""``tmstarget target`` on echoes in fMRIPrep's BOLD reference space (issue 27, fMRIPrep's layout).

Checked: the simulator's ``--echo-space boldref`` participant (echoes on a 2.5 mm grid, a rotated
and shifted coregistration, a T1w → template affine) gives, with ``--me-denoise optcom``, a target
within one voxel (2 mm) of the same participant simulated with its echoes on the template grid
(same seed), and the JSON names the echo space, the transforms and hashes them; with tedana, echoes
in a BOLD reference space equal to the template grid (identity transforms) give tedana's own
denoised series, as the same-grid echoes do.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

COMMON = ["--me-denoise", "optcom", "--min-volumes", "50", "--bootstrap", "0", "--n-workers", "1"]


def test_boldref_echoes_give_the_same_grid_target(boldref_dataset, tmp_path, cli_json):
    from tmstarget.simulate import SimulationParams, simulate_dataset
    from tmstarget.simulate.multiecho import MultiEchoParams

    template = tmp_path / "template"
    simulate_dataset(  # the same participant as boldref_dataset, echoes on the template grid
        template,
        n_runs=1,
        params=SimulationParams(n_volumes=60),
        seed=2,
        dtype="int16",
        multi_echo=MultiEchoParams(),
    )
    docs = {
        space: cli_json(
            ["target", str(root), str(tmp_path / f"out-{space}"), "participant", *COMMON]
        )
        for space, root in (("template", template), ("boldref", boldref_dataset))
    }
    func = boldref_dataset / "sub-01" / "func"
    assert sorted(p.name for p in func.glob("*_echo-1_*.nii.gz")) == [
        "sub-01_task-rest_echo-1_desc-preproc_bold.nii.gz"
    ]
    run = docs["boldref"]["multi_echo"]["runs"][0]
    coreg = "sub-01_task-rest_from-boldref_to-T1w_mode-image_desc-coreg_xfm.txt"
    anat = "sub-01_from-T1w_to-MNI152NLin6Asym_mode-image_xfm.txt"
    assert run["echo_space"] == "boldref" and run["transforms"] == [coreg, anat]
    assert f"sub-01/func/{coreg}" in docs["boldref"]["inputs"]
    assert f"sub-01/anat/{anat}" in docs["boldref"]["inputs"]
    same = docs["template"]["multi_echo"]["runs"][0]
    assert same["echo_space"] == "MNI152NLin6Asym" and same["transforms"] == []
    distance = np.linalg.norm(
        np.subtract(docs["boldref"]["target_mni"], docs["template"]["target_mni"])
    )
    assert distance <= 2.0, (docs["boldref"]["target_mni"], docs["template"]["target_mni"])


def test_tedana_on_identity_boldref_echoes_is_tedanas_denoised_bold(tmp_path):
    """The tedana path with resampling (echoes written for tedana on the mask's box) is tedana's."""
    import nitransforms as nt

    from test_cli_target_multiecho import (
        SPACE,
        STEM,
        _masked,
        _series,
        build_phantom,
        tedana_reference,
    )

    pytest.importorskip("tedana")
    same = build_phantom(tmp_path / "same")
    reference = tedana_reference(same, tmp_path / "reference")
    root = tmp_path / "boldref" / "fmriprep"
    shutil.copytree(same, root)
    func = root / "sub-01" / "func"
    for p in sorted(func.glob(f"{STEM}_echo-*")):
        p.rename(p.with_name(p.name.replace(SPACE, "")))
    nt.linear.Affine(np.eye(4)).to_filename(
        str(func / f"{STEM}_from-boldref_to-T1w_mode-image_desc-coreg_xfm.txt"), fmt="itk"
    )
    (root / "sub-01" / "anat").mkdir()
    nt.linear.Affine(np.eye(4)).to_filename(
        str(root / "sub-01" / "anat" / "sub-01_from-T1w_to-MNI152NLin6Asym_mode-image_xfm.txt"),
        fmt="itk",
    )
    series, source = _series(root, "tedana")
    assert source.multi_echo["runs"][0]["echo_space"] == "boldref"
    assert source.resamplers[0].matrix.shape == (14**3, 14**3)
    np.testing.assert_allclose(
        series, _masked(reference / "desc-denoised_bold.nii.gz"), rtol=1e-5, atol=1e-3
    )
