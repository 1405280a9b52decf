"""``tmstarget target`` uses the echoes of multi-echo runs (issue 27 part 1, ``--me-denoise``).

Checked: the target JSON names the echo times and the method and hashes the echo-wise inputs; the
series targeted with ``tedana`` is tedana's own ``desc-denoised_bold`` and with ``optcom`` its
``desc-optcom_bold`` (a separate ``tedana_workflow`` run with the same seed is the independent
reference); ``none`` is fMRIPrep's combined series; single-echo data do not depend on the option;
the resume check includes it; the participant report shows one line.

tedana is slow, so its cases run on a 14³-voxel phantom of 80 volumes (three BOLD sources in R2*,
three non-BOLD sources in S0, as in ``tests/test_io_multiecho.py``) written in fMRIPrep's layout;
the simulator's whole-brain multi-echo data are targeted with ``optcom`` and ``none``.
"""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from tmstarget.cli.main import main

TES = (14.5, 38.5, 62.5)
SHAPE = (14, 14, 14)
N = 80
#: The phantom sits in the left DLPFC: voxel (7, 7, 7) is MNI (-38, 44, 26).
AFFINE = np.array(
    [[2.0, 0, 0, -52.0], [0, 2.0, 0, 30.0], [0, 0, 2.0, 12.0], [0, 0, 0, 1.0]], dtype=float
)
STEM = "sub-01_task-rest"
SPACE = "_space-MNI152NLin6Asym_res-2"


def _phantom(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(E, X, Y, Z, T) echoes with BOLD (R2*) and non-BOLD (S0) sources; and a circuit map."""
    rng = np.random.default_rng(seed)
    ijk = np.stack(np.meshgrid(*[np.arange(k) for k in SHAPE], indexing="ij"), -1).astype(float)

    def blob(c):
        return np.exp(-((ijk - np.asarray(c, float)) ** 2).sum(-1) / (2 * 2.5**2))

    def courses(k):
        f = np.fft.rfftfreq(N, 2.0)
        x = np.fft.irfft(
            (rng.standard_normal((k, f.size)) + 1j * rng.standard_normal((k, f.size)))
            * ((f > 0.01) & (f < 0.1)),
            n=N,
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
            + 5 * rng.standard_normal((*SHAPE, N))
            for te in TES
        ]
    )
    return data.astype(np.float32), bold_m[1] + bold_m[2]


@pytest.fixture(scope="module")
def phantom(tmp_path_factory) -> Path:
    """FMRIPrep-like folder of the phantom: echoes, combined series, mask, confounds, circuit."""
    return build_phantom(tmp_path_factory.mktemp("me_target"))


def build_phantom(base: Path) -> Path:
    """Write the phantom as an fMRIPrep-like ``base/fmriprep`` (circuit and search in ``base``)."""
    from tmstarget.multiecho import optimal_combination

    root = base / "fmriprep"
    func = root / "sub-01" / "func"
    func.mkdir(parents=True)
    data, circuit = _phantom()
    for e, (vol, te) in enumerate(zip(data, TES), 1):
        p = func / f"{STEM}_echo-{e}{SPACE}_desc-preproc_bold.nii.gz"
        nib.save(nib.Nifti1Image(vol, AFFINE), str(p))
        p.with_name(p.name.replace(".nii.gz", ".json")).write_text(
            json.dumps({"EchoTime": te / 1000.0, "RepetitionTime": 2.0})
        )
    combined, _ = optimal_combination(data.reshape(len(TES), -1, N), TES)
    nib.save(
        nib.Nifti1Image(combined.reshape(*SHAPE, N), AFFINE),
        str(func / f"{STEM}{SPACE}_desc-preproc_bold.nii.gz"),
    )
    (func / f"{STEM}{SPACE}_desc-preproc_bold.json").write_text(json.dumps({"RepetitionTime": 2.0}))
    nib.save(
        nib.Nifti1Image(np.ones(SHAPE, np.uint8), AFFINE),
        str(func / f"{STEM}{SPACE}_desc-brain_mask.nii.gz"),
    )
    cols = ["trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z", "framewise_displacement"]
    rows = ["\t".join(["0.0"] * len(cols))] * N
    (func / f"{STEM}_desc-confounds_timeseries.tsv").write_text(
        "\t".join(cols) + "\n" + "\n".join(rows) + "\n"
    )
    nib.save(
        nib.Nifti1Image(circuit.astype(np.float32), AFFINE), str(root.parent / "circuit.nii.gz")
    )
    search = np.zeros(SHAPE, np.uint8)
    search[1:6, 1:13, 1:13] = 1  # the circuit (the other blobs) is > 10 mm away
    nib.save(nib.Nifti1Image(search, AFFINE), str(root.parent / "search.nii.gz"))
    return root


@pytest.fixture(scope="module")
def reference(phantom, tmp_path_factory) -> Path:
    """Tedana's own workflow on the phantom's echoes, seed 42: the independent reference."""
    return tedana_reference(phantom, tmp_path_factory.mktemp("tedana_reference"))


def tedana_reference(phantom: Path, out: Path) -> Path:
    """Run tedana's workflow on the phantom's same-grid echoes (seed 42) into ``out``."""
    from tedana.workflows import tedana_workflow

    from tmstarget.targeting.defaults import TEDANA_SEED

    func = phantom / "sub-01" / "func"
    tedana_workflow(
        [str(func / f"{STEM}_echo-{e}{SPACE}_desc-preproc_bold.nii.gz") for e in (1, 2, 3)],
        [te / 1000.0 for te in TES],
        out_dir=str(out),
        mask=str(func / f"{STEM}{SPACE}_desc-brain_mask.nii.gz"),
        ica_method="fastica",
        fixed_seed=TEDANA_SEED,
        no_reports=True,
        quiet=True,
    )
    return out


def _series(phantom: Path, method: str):
    """Return the series ``target`` reads for the phantom run with ``--me-denoise method``."""
    from tmstarget.io.bids import find_runs
    from tmstarget.targeting import TargetingOptions
    from tmstarget.targeting.sources import VolumeSource

    runs = find_runs(phantom, "01")
    assert len(runs) == 1 and len(runs[0].echoes) == 3
    source = VolumeSource(runs, TargetingOptions(me_denoise=method))
    blocks = [(start, x) for _, start, x in source.chunks()]
    assert [s for s, _ in blocks] == list(range(0, N, 32))
    return np.concatenate([x for _, x in blocks]), source


def _masked(path: Path) -> np.ndarray:
    """(T, V) of a 4-D phantom image, every voxel, Fortran order (the mask is the whole grid)."""
    data = np.asarray(nib.load(str(path)).dataobj, np.float32)
    return data.reshape(-1, data.shape[3], order="F").T


def test_tedana_series_is_tedanas_denoised_bold(phantom, reference):
    import pandas as pd

    series, source = _series(phantom, "tedana")
    np.testing.assert_allclose(
        series, _masked(reference / "desc-denoised_bold.nii.gz"), rtol=1e-5, atol=1e-3
    )
    metrics = pd.read_csv(reference / "desc-tedana_metrics.tsv", sep="\t")
    block = source.multi_echo
    assert block["method"] == "tedana" and block["echo_times_ms"] == list(TES)
    assert block["components_rejected"] == int((metrics["classification"] == "rejected").sum())
    assert block["runs"][0]["n_components"] == len(metrics)
    assert block["tedana_version"].split(".")[0].isdigit()


def test_optcom_series_is_tedanas_optcom_bold(phantom, reference):
    series, source = _series(phantom, "optcom")
    np.testing.assert_allclose(
        series, _masked(reference / "desc-optcom_bold.nii.gz"), rtol=1e-5, atol=1e-3
    )
    assert source.multi_echo["method"] == "optcom"
    assert source.multi_echo["components_rejected"] is None


def test_none_series_is_fmripreps_combined_series(phantom):
    series, source = _series(phantom, "none")
    combined = phantom / "sub-01" / "func" / f"{STEM}{SPACE}_desc-preproc_bold.nii.gz"
    np.testing.assert_array_equal(series, _masked(combined))
    assert source.multi_echo == {
        "echo_times_ms": list(TES),
        "method": "none",
        "tedana_version": None,
        "components_rejected": None,
        "runs": [
            {
                "name": f"{STEM}{SPACE}_desc-preproc_bold.nii.gz",
                "echo_times_ms": list(TES),
                "n_components": None,
                "components_rejected": None,
                "echo_space": "MNI152NLin6Asym",
                "transforms": [],
            }
        ],
    }


def _phantom_argv(command: str, phantom: Path, out: Path, bootstrap: int) -> list[str]:
    """``tmstarget <command>`` on the phantom with its circuit and search region, no confounds."""
    return [
        command,
        str(phantom),
        str(out),
        "participant",
        "--circuit",
        str(phantom.parent / "circuit.nii.gz"),
        "--search-mask",
        str(phantom.parent / "search.nii.gz"),
        "--confounds-strategy",
        "none",
        "--min-volumes",
        "50",
        "--bootstrap",
        str(bootstrap),
    ]


def test_target_with_tedana_names_the_echoes_and_hashes_them(phantom, tmp_path, cli_json):
    """The default (tedana) end to end; no temporary file among the inputs; a second run resumes."""
    argv = [*_phantom_argv("target", phantom, tmp_path / "out", 0), "--n-workers", "1"]
    doc = cli_json(argv)
    me = doc["multi_echo"]
    assert me["method"] == "tedana" and me["echo_times_ms"] == list(TES)
    assert isinstance(me["components_rejected"], int) and me["tedana_version"]
    inputs = set(doc["inputs"])
    for e in (1, 2, 3):
        assert f"sub-01/func/{STEM}_echo-{e}{SPACE}_desc-preproc_bold.nii.gz" in inputs
        assert f"sub-01/func/{STEM}_echo-{e}{SPACE}_desc-preproc_bold.json" in inputs
    assert all("tmstarget-tedana" not in k and "tedana/" not in k for k in inputs)
    # the same options again: skipped (same JSON); another --me-denoise: recomputed
    assert cli_json(argv) == doc
    again = cli_json([*argv, "--rerun"])
    assert again == doc  # recomputed, the same: tedana's FastICA has a fixed seed
    none = cli_json([*argv, "--me-denoise", "none"])
    assert none["multi_echo"]["method"] == "none" and none["multi_echo"]["tedana_version"] is None
    assert not any("_echo-" in k for k in none["inputs"])  # echoes not used, not hashed


def test_report_shows_the_multi_echo_line(phantom, tmp_path, cli_json):
    from tmstarget.report.participant import multi_echo_line

    assert multi_echo_line(
        {
            "echo_times_ms": [14.5, 38.5, 62.5],
            "method": "tedana",
            "tedana_version": "26.0.3",
            "components_rejected": 4,
        }
    ) == (
        "3 echoes (14.5, 38.5, 62.5 ms): tedana's ME-ICA denoised series, tedana 26.0.3, "
        "4 ICA component(s) rejected"
    )
    out = tmp_path / "out"
    cli_json([*_phantom_argv("target", phantom, out, 0), "--me-denoise", "optcom", "--report"])
    html = next(out.rglob("*report*.html")).read_text()
    assert "3 echoes (14.5, 38.5, 62.5 ms): the echoes combined by T2* weights (tedana)" in html


@pytest.mark.slow
def test_simulated_multiecho_dataset_end_to_end(tmp_path, cli_json):
    """``simulate --echoes 3`` then ``target``: the JSON names the echo times and the method."""
    sim = tmp_path / "sim"
    assert (
        main(
            [
                "simulate",
                str(sim),
                "--echoes",
                "3",
                "--volumes",
                "60",
                "--runs",
                "1",
                "--seed",
                "2",
                "--dtype",
                "int16",
                "--quiet",
            ]
        )
        == 0
    )
    common = ["--min-volumes", "50", "--bootstrap", "0", "--n-workers", "1"]
    docs = {
        m: cli_json(
            ["target", str(sim), str(tmp_path / m), "participant", "--me-denoise", m, *common]
        )
        for m in ("optcom", "none")
    }
    for m, doc in docs.items():
        assert doc["multi_echo"]["method"] == m
        assert doc["multi_echo"]["echo_times_ms"] == [14.5, 38.5, 62.5]
    assert docs["optcom"]["multi_echo"]["tedana_version"]


def test_single_echo_data_ignore_the_option(sim_dataset, tmp_path, cli_json):
    """``--me-denoise tedana`` (the default) on single-echo data: no multi_echo, same target."""
    src, _ = sim_dataset
    common = ["participant", "--participant-label", "01", "--bootstrap", "0", "--n-workers", "1"]
    docs = [
        cli_json(["target", str(src), str(tmp_path / m), *common, "--me-denoise", m])
        for m in ("tedana", "none")
    ]
    assert all("multi_echo" not in d for d in docs)
    assert docs[0]["target_mni"] == docs[1]["target_mni"] and docs[0]["inputs"] == docs[1]["inputs"]


def test_surfaces_do_not_use_the_echoes(tmp_path, caplog):
    """Echo-wise volumes beside surface runs: a log line, method ``none``; none beside: no block."""
    import logging

    from tmstarget.cohort.jobs import multi_echo_method
    from tmstarget.surface.io import SurfaceRun
    from tmstarget.targeting import TargetingOptions
    from tmstarget.targeting.sources import _surface_echoes

    func = tmp_path / "func"
    func.mkdir()
    gifti = [func / f"{STEM}_hemi-{h}_space-fsaverage5_bold.func.gii" for h in "LR"]
    run = SurfaceRun(tuple(gifti), func / "c.tsv", "fsaverage5", gifti[0].name)
    assert _surface_echoes([run]) is None
    assert multi_echo_method([run], TargetingOptions()) is None
    for e, te in enumerate(TES, 1):
        p = func / f"{STEM}_echo-{e}_desc-preproc_bold.nii.gz"  # fMRIPrep's boldref echoes
        nib.save(nib.Nifti1Image(np.ones((2, 2, 2, 5), np.float32), AFFINE), str(p))
        p.with_name(p.name.replace(".nii.gz", ".json")).write_text(
            json.dumps({"EchoTime": te / 1000.0, "RepetitionTime": 2.0})
        )
    with caplog.at_level(logging.INFO, logger="tmstarget"):
        block = _surface_echoes([run])
    assert "echoes are not used on surfaces" in caplog.text
    assert block["method"] == "none" and block["echo_times_ms"] == list(TES)
    assert block["tedana_version"] is None and block["components_rejected"] is None
    assert multi_echo_method([run], TargetingOptions(me_denoise="tedana")) == "none"


def test_reliability_json_carries_the_multi_echo_block(phantom, tmp_path, cli_json):
    """``tmstarget reliability`` on multi-echo runs records how the echoes were used, as target."""
    argv = [*_phantom_argv("reliability", phantom, tmp_path / "out", 2), "--me-denoise", "optcom"]
    doc = cli_json(argv)
    me = doc["multi_echo"]
    assert me["method"] == "optcom" and me["echo_times_ms"] == list(TES)
    assert me["tedana_version"] and me["components_rejected"] is None
    written = json.loads(next((tmp_path / "out").rglob("*_reliability.json")).read_text())
    assert written["multi_echo"] == me
    none = cli_json([*argv[:-1], "none"])
    assert none["multi_echo"]["method"] == "none"
