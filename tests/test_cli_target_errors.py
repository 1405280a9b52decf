"""Bad input to `tmstarget target`: one line on stderr naming the problem and the fix.

The command exits with code 2 and writes no outputs.
"""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from tmstarget.cli.main import main


@pytest.fixture(scope="module")
def small_run(sim_dataset, tmp_path_factory):
    """Write a cropped, uncompressed copy of a simulated run.

    The copy is a left frontal + sgACC box of 120 volumes.
    """
    src, _ = sim_dataset
    func = src / "sub-01" / "func"
    bold = nib.load(next(func.glob("*run-1*_desc-preproc_bold.nii.gz")))
    mask = nib.load(next(func.glob("*run-1*_desc-brain_mask.nii.gz")))
    lo = np.floor(np.linalg.solve(bold.affine, [-70, -10, -24, 1])[:3]).astype(int)
    hi = np.ceil(np.linalg.solve(bold.affine, [12, 70, 66, 1])[:3]).astype(int)
    sl = tuple(slice(a, b) for a, b in zip(lo, hi))
    d = tmp_path_factory.mktemp("small")
    data = np.asarray(bold.dataobj[sl + (slice(0, 120),)], dtype=np.float32)
    b = nib.Nifti1Image(data, bold.slicer[sl].affine, bold.header)
    b.set_data_dtype(np.float32)
    nib.save(b, d / "bold.nii")
    nib.save(mask.slicer[sl], d / "mask.nii.gz")
    conf = pd.read_csv(next(func.glob("*run-1*_desc-confounds_timeseries.tsv")), sep="\t").iloc[
        :120
    ]
    conf.to_csv(d / "confounds.tsv", sep="\t", index=False, na_rep="n/a")
    return d


def _variant(small_run, tmp_path, kind):
    """Paths (bold, confounds, mask) and extra args for a broken input of the given kind."""
    bold, conf, mask, extra = (
        small_run / "bold.nii",
        small_run / "confounds.tsv",
        small_run / "mask.nii.gz",
        [],
    )
    if kind == "missing":
        bold = tmp_path / "nope_bold.nii.gz"
    elif kind == "3d":
        bold = mask
    elif kind == "grid":
        m = nib.load(mask)
        nib.save(m.slicer[1:, :, :], tmp_path / "mask.nii.gz")
        mask = tmp_path / "mask.nii.gz"
    elif kind == "rows":
        pd.read_csv(conf, sep="\t").iloc[:100].to_csv(
            tmp_path / "c.tsv", sep="\t", index=False, na_rep="n/a"
        )
        conf = tmp_path / "c.tsv"
    elif kind in ("nan", "constant"):
        img = nib.load(bold)
        data = np.asarray(img.dataobj).copy()
        if kind == "nan":
            data[20, 20, 20, 5] = np.nan
        else:
            data[:] = 1000.0
        nib.save(nib.Nifti1Image(data, img.affine, img.header), tmp_path / "b.nii")
        bold = tmp_path / "b.nii"
    elif kind == "few":
        extra = ["--fd-threshold", "0.05"]
    elif kind in ("search", "search-empty"):
        m = nib.load(mask)
        region = np.zeros(m.shape, np.uint8)
        if kind == "search":
            region[:2, :2, :2] = 1  # a corner outside the brain
        nib.save(nib.Nifti1Image(region, m.affine), tmp_path / "search.nii.gz")
        extra = ["--search-mask", tmp_path / "search.nii.gz"]
    return bold, conf, mask, extra


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("missing", r"not found: .*nope_bold.* — check the path"),
        ("3d", r"is 3-D .* expected a 4-D time series"),
        ("grid", r"grid .* does not match .* — use the mask"),
        ("rows", r"has 100 rows but the BOLD run has 120 volumes"),
        ("nan", r"NaN or infinite values .* volume 5"),
        ("constant", r"constant"),
        ("few", r"volumes left after censoring .* need >= 100 — raise --fd-threshold"),
        ("search", r"search region has \d voxel\(s\) inside the brain mask \(need >= 10\)"),
        ("search-empty", r"search mask search.nii.gz is empty"),
    ],
)
def test_bad_explicit_input(small_run, tmp_path, capsys, kind, message):
    bold, conf, mask, extra = _variant(small_run, tmp_path, kind)
    out = tmp_path / "out"
    code = main(
        [
            "target",
            str(out),
            "--bold",
            str(bold),
            "--confounds",
            str(conf),
            "--mask",
            str(mask),
            "--quiet",
            *map(str, extra),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("tmstarget target: error: ")
    assert "Traceback" not in err
    import re

    assert re.search(message, lines[0]), lines[0]
    assert not out.exists() or not any(p.is_file() for p in out.rglob("*"))


def test_unknown_participant(sim_dataset, tmp_path, capsys):
    src, _ = sim_dataset
    code = main(
        ["target", str(src), str(tmp_path / "o"), "participant", "--participant-label", "99"]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert "participant '99' not found" in err[0] and "01" in err[0]


def test_wrong_space(tmp_path, capsys):
    func = tmp_path / "fmriprep" / "sub-01" / "func"
    func.mkdir(parents=True)
    (func / "sub-01_task-rest_space-T1w_desc-preproc_bold.nii.gz").touch()
    code = main(["target", str(tmp_path / "fmriprep"), str(tmp_path / "o"), "participant"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert "only in space(s) T1w, not MNI" in err[0] and "--output-spaces MNI152NLin6Asym" in err[0]


def test_debug_shows_traceback(tmp_path):
    from tmstarget.exceptions import InputError

    with pytest.raises(InputError):
        main(
            [
                "target",
                str(tmp_path / "o"),
                "--bold",
                str(tmp_path / "x.nii"),
                "--confounds",
                "c.tsv",
                "--mask",
                "m.nii",
                "--debug",
            ]
        )


def test_usage_error_is_one_line(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["target", "--fwhm", "-3"])
    assert exc.value.code == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
