"""The multi-echo simulator (issue 27 part 2) obeys its physics.

S(TE) = S0·exp(−TE·R2*), with BOLD in R2* and the rest in S0.

Numbers, not shapes: the per-echo means decay with the tissue's T2*, the BOLD share of the
fluctuation grows with TE as TE², the T2*-weighted combination has the best BOLD contrast-to-noise,
and an echo at the reference TE is the single-echo simulator's run of the same seed.
"""

from __future__ import annotations

import json
from dataclasses import replace

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from tmstarget.multiecho import fit_t2star, optcom_weights, optimal_combination
from tmstarget.simulate.model import SimulationParams, anatomy, simulate_participant
from tmstarget.simulate.multiecho import (
    CALIBRATED_MULTIECHO,
    MultiEchoParams,
    default_echo_times,
    simulate_participant_multiecho,
)

N = 24
TARGET = np.array([-40.0, 40.0, 30.0])
P = SimulationParams(n_volumes=N)  # deviation_pct 0: no deviation field is drawn
ME = MultiEchoParams()
NO_NEURAL = {"signal_pct": 0.0, "target_pct": 0.0, "global_pct": 0.0}
PURE = replace(
    ME, thermal_share=0.0, noise_bold_share=0.0
)  # no thermal noise, all random noise in S0


def _run(p: SimulationParams, me: MultiEchoParams, seed: int = 3) -> dict:
    return simulate_participant_multiecho(
        np.random.default_rng(seed),
        np.random.default_rng([seed, 27]),
        anatomy("brain"),
        TARGET,
        p,
        me,
        1,
    )[0]


@pytest.fixture(scope="module")
def gm() -> np.ndarray:
    anat = anatomy("brain")
    return anat.gm.ravel(order="F")[np.flatnonzero(anat.brain.ravel(order="F"))]


@pytest.fixture(scope="module")
def full() -> dict:
    return _run(P, ME)


@pytest.fixture(scope="module")
def quiet() -> dict:
    """Simulate the same run without the neural (BOLD) signals: every other draw is the same."""
    return _run(replace(P, **NO_NEURAL), ME)


def _detrend(x: np.ndarray) -> np.ndarray:
    """Remove a quadratic trend from (V, T) series."""
    t = np.linspace(-1, 1, x.shape[-1])
    design = np.column_stack([np.ones_like(t), t, t**2])
    beta = np.linalg.lstsq(design, x.T.astype(np.float64), rcond=None)[0]
    return (x.T - design @ beta).T


def _tsnr(x: np.ndarray) -> float:
    return float(np.median(x.mean(-1) / _detrend(x).std(-1)))


# --- the physical defaults, one test per value
# -------------------------------------------------------------------


def test_default_echo_times_are_tedanas_three_echo_example():
    assert ME.echo_times_ms == (
        14.5,
        38.5,
        62.5,
    )  # ME-ICA/tedana command-line example, -e 14.5 38.5 62.5
    assert default_echo_times(3) == ME.echo_times_ms
    assert default_echo_times(5) == (14.5, 26.5, 38.5, 50.5, 62.5)


def test_default_grey_matter_t2star_is_in_the_3t_range():
    assert 30.0 <= ME.t2star_gm_ms <= 45.0


def test_default_white_matter_and_csf_t2star():
    assert 20.0 <= ME.t2star_wm_ms < ME.t2star_gm_ms  # assumption: WM shorter than GM at 3 T
    assert ME.t2star_csf_ms >= 2 * ME.t2star_gm_ms  # assumption: fluid decays slowly


def test_default_reference_te_is_a_near_optimal_3t_single_echo_te():
    assert 25.0 <= ME.reference_te_ms <= 35.0
    # BOLD contrast TE·exp(−TE/T2*) at the reference TE is within 5% of its maximum (TE = T2*)
    te, t2 = ME.reference_te_ms, ME.t2star_gm_ms
    assert te * np.exp(-te / t2) / (t2 * np.exp(-1)) > 0.95


def test_default_noise_split():
    assert ME.thermal_share == 0.5 and ME.noise_bold_share == 0.5


def test_calibrated_variant_uses_the_default_echo_physics():
    assert CALIBRATED_MULTIECHO == MultiEchoParams()


# --- the physics in the simulated runs
# ---------------------------------------------------------------------------


def test_per_echo_mean_decays_with_t2star(full, gm):
    te = np.asarray(ME.echo_times_ms)
    means = full["echoes"][:, gm].mean(axis=2).mean(axis=1)  # grey-matter mean of each echo
    expected = 1000.0 * np.exp(ME.reference_te_ms / ME.t2star_gm_ms) * np.exp(-te / ME.t2star_gm_ms)
    np.testing.assert_allclose(means, expected, rtol=0.01)
    assert abs(np.median(full["t2star_ms"][gm]) - ME.t2star_gm_ms) < 0.02 * ME.t2star_gm_ms


def test_bold_share_of_the_fluctuation_grows_with_te(gm):
    with_bold, without = _run(P, PURE), _run(replace(P, **NO_NEURAL), PURE)
    te = np.asarray(ME.echo_times_ms)
    v_bold, v_other = [], []
    for e in range(te.size):
        mean = without["echoes"][e][gm].mean(1, keepdims=True)
        v_bold.append(
            float(((with_bold["echoes"][e][gm] - without["echoes"][e][gm]) / mean).var(1).mean())
        )
        v_other.append(float((without["echoes"][e][gm] / mean).var(1).mean()))
    v_bold, v_other = np.array(v_bold), np.array(v_other)
    np.testing.assert_allclose(
        v_other / v_other[0], 1.0, rtol=0.01
    )  # S0 fluctuations: the same fraction at every TE
    np.testing.assert_allclose(
        v_bold / v_bold[0], (te / te[0]) ** 2, rtol=0.1
    )  # ΔS/S = −TE·ΔR2*: variance ∝ TE²
    share = v_bold / (v_bold + v_other)
    assert np.all(np.diff(share) > 0), share
    assert share[0] < 0.2 < share[-1], share


def test_combination_has_the_best_bold_contrast_to_noise(full, quiet, gm):
    """Posse et al. (1999): the T2*-weighted sum beats every single echo in BOLD CNR.

    This holds with thermal noise.
    """
    w = optcom_weights(full["t2star_ms"][gm], ME.echo_times_ms)

    def cnr(a, b):
        return float(np.median((a - b).var(-1) / _detrend(b).var(-1)))

    per_echo = [cnr(full["echoes"][e][gm], quiet["echoes"][e][gm]) for e in range(3)]
    comb = cnr(
        (w[:, :, None] * full["echoes"][:, gm]).sum(0),
        (w[:, :, None] * quiet["echoes"][:, gm]).sum(0),
    )
    assert comb > 1.05 * max(per_echo), (comb, per_echo)
    assert per_echo[1] > per_echo[0]  # the echo near T2* beats the early one


def test_combined_tsnr_beats_the_single_echo_te_and_later_echoes(full, gm):
    """The combined series beats the echo at the single-echo TE and every later echo in tSNR.

    Not than the first echo: with TE1 = 14.5 ms and T2* = 35 ms, the T2* weights favour the later
    echoes, and even with thermal noise alone Σw·S / (σ·|w|) = 0.98 of the first echo's SNR (the
    weights maximise BOLD CNR, tested above, not tSNR); BOLD-like noise, growing with TE, widens the
    gap.
    """
    t = [_tsnr(full["echoes"][e][gm]) for e in range(3)]
    comb = _tsnr(full["combined"][gm])
    assert comb > 1.2 * t[1] and comb > t[2], (comb, t)
    assert t[0] > t[1] > t[2]
    assert (
        40 < t[1] < 80
    )  # the echo near the reference TE keeps the single-echo model's tSNR (60) within the signals


def test_an_echo_at_the_reference_te_is_the_single_echo_run():
    """An echo at the reference TE is the single-echo run of ``tmstarget simulate``.

    Same seed, same participant, neural signals, motion and BOLD-like noise.
    """
    anat = anatomy("brain")
    bold, motion = simulate_participant(np.random.default_rng(11), anat, TARGET, P, 1)[0]
    me = replace(ME, echo_times_ms=(30.0, 60.0), thermal_share=0.0, noise_bold_share=1.0)
    run = simulate_participant_multiecho(
        np.random.default_rng(11), np.random.default_rng(0), anat, TARGET, P, me, 1
    )[0]
    np.testing.assert_array_equal(run["motion"], motion)
    single = bold.reshape(-1, N, order="F")[run["flat"]]
    echo = run["echoes"][0]
    dev = np.abs(echo / single - 1)  # S0·(1+a)·exp(b) against s0·(1 + a + b): second order only
    assert np.median(dev) < 1e-3 and np.max(dev) < 0.01, (np.median(dev), np.max(dev))
    gm = anat.gm.ravel(order="F")[run["flat"]]
    r = [
        np.corrcoef(x, y)[0, 1]
        for x, y in zip(_detrend(echo[gm][::50]), _detrend(single[gm][::50]))
    ]
    assert np.min(r) > 0.99


def test_loglinear_t2star_and_weights_on_exact_decay():
    te = np.array([12.0, 30.0, 48.0, 66.0])
    t2 = np.array([20.0, 35.0, 60.0])
    signal = 800.0 * np.exp(-te[:, None] / t2[None, :])
    fitted, s0 = fit_t2star(signal, te)
    np.testing.assert_allclose(fitted, t2, rtol=1e-9)
    np.testing.assert_allclose(s0, 800.0, rtol=1e-9)
    w = optcom_weights(fitted, te)
    manual = (
        te[:, None] * np.exp(-te[:, None] / t2) / (te[:, None] * np.exp(-te[:, None] / t2)).sum(0)
    )
    np.testing.assert_allclose(w, manual, rtol=1e-12)
    series = np.repeat(signal[:, :, None], 5, axis=2)
    combined, _ = optimal_combination(series.astype(np.float32), te)
    np.testing.assert_allclose(combined[:, 0], (w * signal).sum(0), rtol=1e-5)
    flat, _ = fit_t2star(
        np.full((4, 1), 500.0), te
    )  # no decay: the longest T2*, not a division by zero
    assert flat[0] == 500.0


# --- the written dataset
# ------------------------------------------------------------------------------------------


def test_simulate_writes_fmriprep_multiecho_layout(tmp_path, capsys):
    from tmstarget.cli.main import main

    out = tmp_path / "me"
    assert (
        main(
            [
                "simulate",
                str(out),
                "--echoes",
                "2",
                "--echo-times-ms",
                "15",
                "45",
                "--volumes",
                "20",
                "--runs",
                "1",
                "--seed",
                "4",
                "--quiet",
            ]
        )
        == 0
    )
    func = out / "sub-01" / "func"
    echoes = [
        func / f"sub-01_task-rest_echo-{e}_space-MNI152NLin6Asym_res-2_desc-preproc_bold"
        for e in (1, 2)
    ]
    sidecars = [json.loads(e.with_suffix(".json").read_text()) for e in echoes]
    assert [s["EchoTime"] for s in sidecars] == [0.015, 0.045]  # seconds, as BIDS
    assert all(s["RepetitionTime"] == 2.0 for s in sidecars)
    stem = func / "sub-01_task-rest_space-MNI152NLin6Asym_res-2"
    combined = np.asanyarray(nib.load(f"{stem}_desc-preproc_bold.nii.gz").dataobj)
    assert "EchoTime" not in json.loads(
        stem.with_name(stem.name + "_desc-preproc_bold.json").read_text()
    )
    data = np.stack([np.asanyarray(nib.load(f"{e}.nii.gz").dataobj) for e in echoes])
    brain = np.asanyarray(nib.load(f"{stem}_desc-brain_mask.nii.gz").dataobj) > 0
    again, t2s = optimal_combination(data[:, brain], (15.0, 45.0))
    np.testing.assert_allclose(combined[brain], again, rtol=1e-5)
    t2map = np.asanyarray(nib.load(f"{stem}_T2starmap.nii.gz").dataobj)
    np.testing.assert_allclose(t2map[brain], t2s / 1000.0, rtol=1e-5)
    conf = pd.read_csv(func / "sub-01_task-rest_desc-confounds_timeseries.tsv", sep="\t")
    assert len(conf) == 20 and "framewise_displacement" in conf
    description = json.loads((out / "dataset_description.json").read_text())
    assert description["MultiEchoParameters"]["echo_times_ms"] == [15.0, 45.0]
    truth = json.loads((out / "sub-01" / "sub-01_desc-truth_target.json").read_text())
    assert truth["echo_times_ms"] == [15.0, 45.0]
