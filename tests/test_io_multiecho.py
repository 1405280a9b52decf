"""Reading fMRIPrep's echo-wise series (issue 27 part 1).

Covered: grouping, checks, and tedana's optimal combination.

tedana is the independent reference for :mod:`tmstarget.multiecho` (the simulator's own log-linear
T2* fit and Posse weights): both on the same data must agree. The refusals are those of issue 27
part 5 for read data.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from tmstarget.exceptions import InputError
from tmstarget.io.multiecho import (
    combine_echoes,
    find_echo_runs,
    load_echoes,
    read_echo_run,
    tedana_version,
)
from tmstarget.multiecho import optcom_weights, optimal_combination

TES = (14.5, 38.5, 62.5)
SHAPE = (6, 5, 4)
T = 30
AFFINE = np.diag([2.0, 2.0, 2.0, 1.0])


def _decaying(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(E, X, Y, Z, T) echoes of mono-exponential decay with T2* 20–60 ms; and the T2*.

    The BOLD signal is in R2*, and thermal noise is added.
    """
    rng = np.random.default_rng(seed)
    t2s = rng.uniform(20, 60, SHAPE)
    s0 = rng.uniform(800, 1500, SHAPE)
    bold = 0.01 * rng.standard_normal((*SHAPE, T))
    te = np.asarray(TES)[:, None, None, None, None]
    data = s0[..., None] * np.exp(-te / t2s[..., None]) * np.exp(
        te / 30.0 * bold
    ) + 3.0 * rng.standard_normal((len(TES), *SHAPE, T))
    return data.astype(np.float32), t2s


def _write(
    func: Path, data: np.ndarray, tes=TES, tr: float = 2.0, prefix: str = "sub-01_task-rest"
) -> list[Path]:
    func.mkdir(parents=True, exist_ok=True)
    paths = []
    for e, (vol, te) in enumerate(zip(data, tes), 1):
        p = func / f"{prefix}_echo-{e}_space-MNI152NLin6Asym_res-2_desc-preproc_bold.nii.gz"
        nib.save(nib.Nifti1Image(vol, AFFINE), str(p))
        (func / p.name.replace(".nii.gz", ".json")).write_text(
            json.dumps({"EchoTime": te / 1000.0, "RepetitionTime": tr})
        )
        paths.append(p)
    return paths


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> tuple[Path, np.ndarray, np.ndarray]:
    func = tmp_path_factory.mktemp("me_read") / "func"
    data, t2s = _decaying()
    _write(func, data)
    _write(func, _decaying(1)[0], prefix="sub-01_task-rest_run-2")
    return func, data, t2s


def test_echo_runs_are_grouped_and_read(good):
    func, data, _ = good
    runs = find_echo_runs(func)
    assert [r.name for r in runs] == [
        "sub-01_task-rest_run-2_space-MNI152NLin6Asym_res-2_desc-preproc_bold.nii.gz",
        "sub-01_task-rest_space-MNI152NLin6Asym_res-2_desc-preproc_bold.nii.gz",
    ]
    run = runs[1]
    assert run.echo_times_ms == TES and run.t_r == 2.0 and run.n_volumes == T
    assert [p.name.split("_echo-")[1][0] for p in run.paths] == ["1", "2", "3"]
    loaded = load_echoes(run, np.ones(SHAPE, bool))
    np.testing.assert_array_equal(loaded, data.reshape(3, -1, T))


def test_tedana_and_tmstarget_combinations_agree(good):
    """Tedana and tmstarget.multiecho agree on T2* and the combined series.

    Tedana is the independent reference.
    """
    func, data, t2s_true = good
    echoes = load_echoes(find_echo_runs(func)[1], np.ones(SHAPE, bool))
    combined, t2s = combine_echoes(echoes, TES)
    own, own_t2s = optimal_combination(echoes, TES)
    np.testing.assert_allclose(t2s, t2s_true.ravel(), rtol=0.05)  # tedana recovers the planted T2*
    np.testing.assert_allclose(
        own_t2s, t2s, rtol=0.01
    )  # log of mean vs fit over every volume: ≤ 1%
    np.testing.assert_allclose(own, combined, rtol=0.01)  # through that T2* difference only:
    with_tedana_t2s = (optcom_weights(t2s, TES)[:, :, None] * echoes).sum(0)
    np.testing.assert_allclose(
        with_tedana_t2s, combined, rtol=1e-5
    )  # the same Posse weights as make_optcom
    assert tedana_version().split(".")[0].isdigit()


def _variant(tmp_path: Path, good_func: Path, edit) -> list[Path]:
    func = tmp_path / "func"
    shutil.copytree(good_func, func)
    for p in func.glob("*run-2*"):
        p.unlink()
    paths = sorted(func.glob("*_echo-*_desc-preproc_bold.nii.gz"))
    edit(func, paths)
    return sorted(func.glob("*_echo-*_desc-preproc_bold.nii.gz"))


def _set(func: Path, echo: int, **fields) -> None:
    side = next(func.glob(f"*_echo-{echo}_*.json"))
    doc = json.loads(side.read_text())
    for k, v in fields.items():
        if v is None:
            doc.pop(k, None)
        else:
            doc[k] = v
    side.write_text(json.dumps(doc))


def _resave(path: Path, data: np.ndarray, affine=AFFINE) -> None:
    nib.save(nib.Nifti1Image(data, affine), str(path))


BAD = [
    ("missing-echotime", lambda f, p: _set(f, 2, EchoTime=None), "has no EchoTime"),
    ("duplicate-echotime", lambda f, p: _set(f, 3, EchoTime=0.0385), "the same EchoTime"),
    ("out-of-order", lambda f, p: _set(f, 1, EchoTime=0.05), "out of order"),
    ("zero-echotime", lambda f, p: _set(f, 1, EchoTime=0), "not a positive number"),
    ("text-echotime", lambda f, p: _set(f, 1, EchoTime="14.5"), "not a positive number"),
    ("ms-echotime", lambda f, p: _set(f, 1, EchoTime=14.5), "BIDS stores seconds"),
    ("different-tr", lambda f, p: _set(f, 3, RepetitionTime=1.5), "different repetition times"),
    ("missing-sidecar", lambda f, p: next(f.glob("*_echo-2_*.json")).unlink(), "no JSON sidecar"),
    ("single-echo", lambda f, p: [q.unlink() for q in p[1:]], "at least 2"),
    ("missing-middle-echo", lambda f, p: p[1].unlink(), "echo-2 is missing"),
    (
        "different-length",
        lambda f, p: _resave(p[2], np.asanyarray(nib.load(str(p[2])).dataobj)[..., :20]),
        "volumes",
    ),
    (
        "different-grid",
        lambda f, p: _resave(
            p[1], np.asanyarray(nib.load(str(p[1])).dataobj), np.diag([3.0, 3.0, 3.0, 1.0])
        ),
        "another grid",
    ),
    (
        "different-shape",
        lambda f, p: _resave(p[1], np.asanyarray(nib.load(str(p[1])).dataobj)[:5]),
        "another grid",
    ),
]


@pytest.mark.parametrize("edit, fragment", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_echo_sets_are_refused(edit, fragment, good, tmp_path):
    paths = _variant(tmp_path, good[0], edit)
    with pytest.raises(InputError, match=None) as info:
        read_echo_run(paths)
    message = str(info.value)
    assert fragment in message and " — " in message and "\n" not in message, message


def test_find_runs_takes_the_combined_series_not_the_echoes(good, tmp_path, caplog):
    """``target``'s run finder takes fMRIPrep's combined series as the run.

    This holds with echo-wise files beside it; they come with the run (``Run.echoes``), and reading
    the runs says they were found.
    """
    import logging

    from tmstarget.io.bids import find_runs

    func = tmp_path / "sub-01" / "func"
    _write(func, _decaying()[0])
    stem = "sub-01_task-rest_space-MNI152NLin6Asym_res-2"
    nib.save(
        nib.Nifti1Image(np.ones((*SHAPE, T), np.float32), AFFINE),
        str(func / f"{stem}_desc-preproc_bold.nii.gz"),
    )
    nib.save(
        nib.Nifti1Image(np.ones(SHAPE, np.float32), AFFINE),
        str(func / f"{stem}_desc-brain_mask.nii.gz"),
    )
    (func / "sub-01_task-rest_desc-confounds_timeseries.tsv").write_text("trans_x\n" + "0\n" * T)
    with caplog.at_level(logging.INFO, logger="tmstarget"):
        runs = find_runs(tmp_path, "01")
    assert [r.name for r in runs] == [f"{stem}_desc-preproc_bold.nii.gz"]
    assert [p.name.split("_echo-")[1][0] for p in runs[0].echoes] == ["1", "2", "3"]
    from tmstarget.targeting import TargetingOptions
    from tmstarget.targeting.sources import VolumeSource

    with caplog.at_level(logging.INFO, logger="tmstarget"):
        VolumeSource(runs, TargetingOptions(me_denoise="none"))
    assert "3 echo-wise series found" in caplog.text


def test_tedana_meica_removes_s0_sources_more_than_bold_sources(tmp_path):
    """Tedana's ME-ICA on a 14³-voxel phantom removes S0 sources more than BOLD sources.

    The phantom holds three BOLD sources (in R2*) and three non-BOLD sources (in S0). After
    denoising, the non-BOLD sources' time courses are mostly gone from their blobs while the BOLD
    sources' remain (they lose some too: 80 volumes and 6 sources are a small ICA problem).
    """
    from tmstarget.io.multiecho import tedana_denoise

    rng = np.random.default_rng(0)
    shape, n, tes = (14, 14, 14), 80, (14.5, 38.5, 62.5)
    ijk = np.stack(np.meshgrid(*[np.arange(k) for k in shape], indexing="ij"), -1).astype(float)

    def blob(c):
        return np.exp(-((ijk - np.asarray(c, float)) ** 2).sum(-1) / (2 * 2.5**2))

    def courses(k):
        f = np.fft.rfftfreq(n, 2.0)
        x = np.fft.irfft(
            (rng.standard_normal((k, f.size)) + 1j * rng.standard_normal((k, f.size)))
            * ((f > 0.01) & (f < 0.1)),
            n=n,
        )
        return (x - x.mean(1, keepdims=True)) / x.std(1, keepdims=True)

    bold_t, s0_t = courses(3), courses(3)
    bold_m = [blob(c) for c in ((4, 4, 7), (10, 5, 7), (7, 10, 4))]
    s0_m = [blob(c) for c in ((4, 10, 10), (10, 10, 10), (7, 4, 11))]
    b = 0.02 * sum(m[..., None] * t for m, t in zip(bold_m, bold_t))
    a = 0.02 * sum(m[..., None] * t for m, t in zip(s0_m, s0_t))
    data = np.stack(
        [
            1500 * (1 + a) * np.exp(-te / 35) * np.exp(te / 30 * b)
            + 5 * rng.standard_normal((*shape, n))
            for te in tes
        ]
    )
    func = tmp_path / "func"
    paths = _write(func, data.astype(np.float32), tes)
    mask = func / "mask.nii.gz"
    nib.save(nib.Nifti1Image(np.ones(shape, np.uint8), AFFINE), str(mask))
    result = tedana_denoise(read_echo_run(paths), mask, tmp_path / "tedana")
    assert result.n_components >= 3 and 1 <= result.components_rejected < result.n_components
    denoised, optcom = (
        np.asarray(nib.load(str(p)).dataobj) for p in (result.denoised, result.optcom)
    )

    def kept(img, maps, ts):
        return np.mean([np.corrcoef(img[m > 0.8].mean(0), t)[0, 1] for m, t in zip(maps, ts)])

    assert (
        kept(optcom, s0_m, s0_t) > 0.95 and kept(optcom, bold_m, bold_t) > 0.95
    )  # optimal combination keeps both
    assert kept(denoised, s0_m, s0_t) < 0.5 < kept(denoised, bold_m, bold_t)
