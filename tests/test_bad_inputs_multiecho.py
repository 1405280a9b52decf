"""Bad multi-echo inputs (issue 27 part 5).

Echo counts and echo times are given to ``simulate``, echo-wise data to ``target``.

Each case is checked by :func:`bad_input_harness.check_refused`: exit 2, one stderr line, no
traceback, nothing written or changed. Echo times must be finite, positive, in ms, strictly
increasing, one per echo; one echo is not multi-echo data; ``--echo-space boldref`` needs echoes.
``target`` refuses a run that has only echo-wise series (it needs fMRIPrep's combined series for
the grid, confounds and mask), an unknown ``--me-denoise``, and, for echo-wise series in fMRIPrep's
BOLD reference space (no ``space-``): a missing coregistration or T1w → template transform, an
unreadable transform, echoes on different grids, and a brain mask mapping outside the echoes' field
of view (wrong transforms). ``--me-denoise`` on single-echo data is not refused: it does nothing
(``tests/test_cli_target_multiecho.py``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bad_input_harness import check_refused

SIM = ["simulate", "{o}/sim", "--volumes", "20", "--runs", "1"]

CASES: list[tuple[str, list[str], str]] = [
    ("echoes-one", [*SIM, "--echoes", "1"], "is not multi-echo data"),
    ("echoes-zero", [*SIM, "--echoes", "0"], "is not multi-echo data"),
    ("echoes-negative", [*SIM, "--echoes", "-3"], "is not multi-echo data"),
    ("echoes-too-many", [*SIM, "--echoes", "12"], "use 2-8"),
    ("echoes-text", [*SIM, "--echoes", "three"], "three"),
    ("one-echo-time", [*SIM, "--echo-times-ms", "30"], "at least 2"),
    (
        "one-echo-time-one-echo",
        [*SIM, "--echoes", "1", "--echo-times-ms", "30"],
        "is not multi-echo data",
    ),
    (
        "count-mismatch-fewer",
        [*SIM, "--echoes", "3", "--echo-times-ms", "14.5", "38.5"],
        "2 echo time(s) for 3 echoes",
    ),
    (
        "count-mismatch-more",
        [*SIM, "--echoes", "2", "--echo-times-ms", "14.5", "38.5", "62.5"],
        "3 echo time(s) for 2 echoes",
    ),
    (
        "out-of-order",
        [*SIM, "--echoes", "3", "--echo-times-ms", "38.5", "14.5", "62.5"],
        "out of order",
    ),
    ("out-of-order-last", [*SIM, "--echo-times-ms", "14.5", "62.5", "38.5"], "out of order"),
    (
        "duplicate",
        [*SIM, "--echoes", "3", "--echo-times-ms", "14.5", "14.5", "62.5"],
        "given twice",
    ),
    ("zero", [*SIM, "--echo-times-ms", "0", "30", "60"], "not positive"),
    ("negative", [*SIM, "--echo-times-ms", "-14.5", "30", "60"], "not positive"),
    ("nan", [*SIM, "--echo-times-ms", "14.5", "nan", "60"], "finite number"),
    ("inf", [*SIM, "--echo-times-ms", "14.5", "30", "inf"], "finite number"),
    ("seconds-not-ms", [*SIM, "--echo-times-ms", "0.0145", "0.0385", "0.0625"], "in ms"),
    (
        "microseconds",
        [*SIM, "--echo-times-ms", "14500", "38500", "62500"],
        "not a plausible BOLD echo time",
    ),
    ("echo-time-text", [*SIM, "--echo-times-ms", "14.5", "late"], "late"),
    (
        "target-echoes-only",
        ["target", "{echoes_only}", "{o}/t", "participant", "--participant-label", "01"],
        "only echo-wise BOLD",
    ),
    (
        "target-native-echoes",
        ["target", "{native}", "{o}/t", "participant", "--participant-label", "01"],
        "sub-01_task-rest_from-boldref_to-T1w_mode-image_desc-coreg_xfm.txt is not in",
    ),
    (
        "target-native-echoes-optcom",
        ["target", "{native}", "{o}/t", "participant", "--me-denoise", "optcom"],
        "or pass --me-denoise none",
    ),
    (
        "simulate-echo-space-single-echo",
        [*SIM, "--echo-space", "boldref"],
        "--echo-space boldref is for multi-echo data",
    ),
    (
        "target-boldref-no-coreg",
        ["target", "{no_coreg}", "{o}/t", "participant", "--me-denoise", "optcom"],
        "from-boldref_to-T1w_mode-image_desc-coreg_xfm.txt is not in",
    ),
    (
        "target-boldref-no-anat",
        ["target", "{no_anat}", "{o}/t", "participant"],
        "sub-01_from-T1w_to-MNI152NLin6Asym_mode-image_xfm.h5 is not in",
    ),
    (
        "target-boldref-unreadable-coreg",
        ["target", "{bad_coreg}", "{o}/t", "participant", "--me-denoise", "optcom"],
        "cannot read transform sub-01_task-rest_from-boldref_to-T1w",
    ),
    (
        "target-boldref-echo-grids-differ",
        ["target", "{grids}", "{o}/t", "participant", "--me-denoise", "optcom"],
        "echo-2 is on another grid than echo-1",
    ),
    (
        "target-boldref-outside-fov",
        ["target", "{fov}", "{o}/t", "participant", "--me-denoise", "optcom"],
        "of the brain mask maps outside the echoes' field of view",
    ),
    (
        "target-me-denoise-unknown",
        ["target", "{native}", "{o}/t", "participant", "--me-denoise", "meica"],
        "invalid choice: 'meica'",
    ),
]


@pytest.fixture(scope="module")
def echoes_only(tmp_path_factory) -> Path:
    """Build a multi-echo dataset whose optimally combined series is missing.

    The echoes, confounds and mask are there.
    """
    from tmstarget.simulate import SimulationParams, simulate_dataset
    from tmstarget.simulate.multiecho import MultiEchoParams

    root = tmp_path_factory.mktemp("bad_me") / "fmriprep"
    simulate_dataset(
        root,
        n_runs=1,
        params=SimulationParams(n_volumes=20),
        seed=1,
        dtype="int16",
        multi_echo=MultiEchoParams(echo_times_ms=(15.0, 45.0)),
    )
    for f in (root / "sub-01" / "func").glob("sub-01_task-rest_space-*_desc-preproc_bold.*"):
        f.unlink()
    return root


@pytest.fixture(scope="module")
def native(tmp_path_factory) -> Path:
    """Build a multi-echo dataset whose echo-wise series are in the BOLD reference space.

    As fMRIPrep writes them: no ``space-``/``res-`` entities; the combined series is in MNI.
    """
    from tmstarget.simulate import SimulationParams, simulate_dataset
    from tmstarget.simulate.multiecho import MultiEchoParams

    root = tmp_path_factory.mktemp("bad_me_native") / "fmriprep"
    simulate_dataset(
        root,
        n_runs=1,
        params=SimulationParams(n_volumes=20),
        seed=1,
        dtype="int16",
        multi_echo=MultiEchoParams(echo_times_ms=(15.0, 45.0)),
    )
    for f in (root / "sub-01" / "func").glob("sub-01_task-rest_echo-*"):
        f.rename(f.with_name(f.name.replace("_space-MNI152NLin6Asym_res-2", "")))
    return root


@pytest.fixture(scope="module")
def boldref_broken(boldref_dataset, tmp_path_factory) -> dict[str, Path]:
    """Copy the BOLD-reference-space dataset, once per way of breaking it."""
    import shutil

    import nibabel as nib
    import numpy as np

    base = tmp_path_factory.mktemp("bad_boldref")
    func = Path("sub-01") / "func"
    coreg = func / "sub-01_task-rest_from-boldref_to-T1w_mode-image_desc-coreg_xfm.txt"
    roots = {}
    for case in ("no_coreg", "no_anat", "bad_coreg", "grids", "fov"):
        roots[case] = base / case / "fmriprep"
        shutil.copytree(boldref_dataset, roots[case])
    (roots["no_coreg"] / coreg).unlink()
    for p in (roots["no_anat"] / "sub-01" / "anat").glob("*_xfm.*"):
        p.unlink()
    (roots["bad_coreg"] / coreg).write_text("#Insight Transform File V1.0\nParameters: 1 2\n")
    echo2 = roots["grids"] / func / "sub-01_task-rest_echo-2_desc-preproc_bold.nii.gz"
    img = nib.load(str(echo2))
    shifted = img.affine.copy()
    shifted[:3, 3] += 2.0
    nib.save(nib.Nifti1Image(np.asarray(img.dataobj), shifted, img.header), str(echo2))
    text = (roots["fov"] / coreg).read_text().splitlines()
    params = text[3].split()  # "Parameters: 9 matrix values, then the translation (LPS mm)"
    params[10] = str(float(params[10]) + 120.0)
    text[3] = " ".join(params)
    (roots["fov"] / coreg).write_text("\n".join(text) + "\n")
    return roots


@pytest.mark.parametrize("argv, fragment", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_multiecho_input_is_refused(
    argv, fragment, echoes_only, native, boldref_broken, tmp_path, capsys, monkeypatch
):
    out = tmp_path / "out"
    out.mkdir()
    check_refused(
        argv,
        fragment,
        {"o": out, "echoes_only": echoes_only, "native": native, **boldref_broken},
        [out, echoes_only.parent, native.parent, *(r.parent for r in boldref_broken.values())],
        tmp_path,
        capsys,
        monkeypatch,
    )


def test_corpus_size():
    assert len(CASES) == 29
