"""The calibrated simulator reproduces the real run's measured properties.

The calibration measures are right.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from tmstarget.simulate.calibration import (
    autocorrelation_length,
    edge_fwhm,
    lag1_autocorrelation,
    mesh_edges,
    seed_map_variance,
)

#: Measured on the real run by ``python benchmarks/calibrate.py`` (benchmarks/README.md):
#: smoothness of the
#: cleaned, unsmoothed cortical series along mesh edges (FWHM, mm); 10 calibrated participants gave
#: 11.3 ± 0.1.
REAL_FWHM_MM = 11.5


def test_lag1_autocorrelation_of_an_ar1_process():
    rng = np.random.default_rng(0)
    e = rng.standard_normal((4000, 3))
    x = np.zeros_like(e)
    for t in range(1, len(e)):
        x[t] = 0.7 * x[t - 1] + e[t]
    np.testing.assert_allclose(lag1_autocorrelation(x), 0.7, atol=0.03)


def test_edge_fwhm_recovers_the_smoothing_of_white_noise_on_a_line():
    # points 1 mm apart on a line, white noise smoothed with a Gaussian kernel of FWHM 6 mm
    from scipy.ndimage import gaussian_filter1d

    rng = np.random.default_rng(1)
    fwhm = 6.0
    y = gaussian_filter1d(rng.standard_normal((400, 3000)), fwhm / np.sqrt(8 * np.log(2)), axis=1)
    edges = np.column_stack([np.arange(2999), np.arange(1, 3000)])
    assert edge_fwhm(y, edges, np.ones(2999)) == pytest.approx(fwhm, rel=0.05)
    # pairs 3 mm apart measure the same field
    edges3 = np.column_stack([np.arange(2997), np.arange(3, 3000)])
    assert edge_fwhm(y, edges3, np.full(2997, 3.0)) == pytest.approx(fwhm, rel=0.05)


def test_autocorrelation_length_of_a_smooth_map():
    # a Gaussian-smoothed white-noise map has correlation exp(-d^2 / (4 s^2)): 0.5 at d = 2 s
    # sqrt(ln 2)
    from scipy.ndimage import gaussian_filter1d

    rng = np.random.default_rng(2)
    s = 4.0
    values = gaussian_filter1d(rng.standard_normal(6000), s)
    idx = np.arange(0, 6000, 3)[:1500]
    dist = np.abs(idx[:, None] - idx[None, :]).astype(float)
    assert autocorrelation_length(values[idx], dist, step_mm=1.0) == pytest.approx(
        2 * s * np.sqrt(np.log(2)), rel=0.15
    )


def test_seed_map_variance_splits_signal_and_noise():
    rng = np.random.default_rng(3)
    signal = rng.normal(0, 0.15, 20000)  # reproducible part (z units), variance 0.0225
    z1, z2 = (
        signal + rng.normal(0, 0.1, signal.size) for _ in range(2)
    )  # noise variance 0.01 per half
    out = seed_map_variance(np.tanh(z1), np.tanh(z2))
    assert out["var_signal"] == pytest.approx(0.0225, rel=0.05)
    assert out["var_noise"] == pytest.approx(0.01, rel=0.05)
    assert out["reliability"] == pytest.approx(0.0225 / 0.0325, rel=0.05)


@pytest.mark.slow
def test_calibrated_preset_reproduces_the_real_spatial_smoothness():
    """A short calibrated surface participant's cleaned series are as smooth as the real run's.

    Smoothness is measured along the mesh, and must match within ±1.5 mm.

    (The lag-1 autocorrelation is not checked here: after the band-pass it depends on the run's
    length, and the calibrated value, 0.94 against the real 0.963, is for 326 volumes.)
    """
    from tmstarget.simulate.model import CALIBRATED
    from tmstarget.simulate.surface import planted_vertex, simulate_surface_runs
    from tmstarget.surface.geometry import template_grayordinates
    from tmstarget.targeting.cleaning import cleaning_matrix

    grays = template_grayordinates("fsaverage5")
    edges, edge_mm = mesh_edges(grays)
    p = replace(CALIBRATED, n_volumes=120)
    fwhm = []
    for seed in (1,):
        rng = np.random.default_rng(seed)
        _, target = planted_vertex(rng, None)
        data, table = simulate_surface_runs(rng, target, p, 1)[0]
        confounds = table[
            [c for c in table.columns if c.startswith(("trans", "rot")) and "power2" not in c]
            + ["white_matter", "csf"]
        ]
        cleaned = cleaning_matrix(
            p.n_volumes, p.t_r, confounds.fillna(0.0).to_numpy()
        ) @ np.nan_to_num(data.astype(np.float64))
        fwhm.append(edge_fwhm(cleaned, edges, edge_mm))
    assert np.mean(fwhm) == pytest.approx(REAL_FWHM_MM, abs=1.5)


def test_deviation_field_defaults_draw_nothing_and_calibrated_fields_are_set():
    from tmstarget.simulate.model import CALIBRATED, SimulationParams, anatomy, deviation_field

    rng = np.random.default_rng(0)
    assert deviation_field(rng, anatomy("brain"), SimulationParams()) is None
    assert rng.random() == np.random.default_rng(0).random()  # no random numbers drawn by default
    assert (
        CALIBRATED.deviation_pct > 0
        and CALIBRATED.target_sigma_mm > SimulationParams().target_sigma_mm
    )


def test_simulate_cli_calibrated_preset(tmp_path):
    import json

    from tmstarget.cli.main import main

    assert (
        main(
            [
                "simulate",
                str(tmp_path / "sim"),
                "--preset",
                "calibrated",
                "--volumes",
                "20",
                "--runs",
                "1",
                "--quiet",
            ]
        )
        == 0
    )
    truth = json.loads((tmp_path / "sim" / "sub-01" / "sub-01_desc-truth_target.json").read_text())
    assert len(truth["target_mni"]) == 3


def test_surface_runs_take_the_participants_deviation_field():
    """Sessions simulated by separate calls can share one deviation field (the defaults study)."""
    from tmstarget.simulate.model import CALIBRATED, anatomy, deviation_field
    from tmstarget.simulate.surface import planted_vertex, simulate_surface_runs

    p = replace(CALIBRATED, n_volumes=12)
    field = deviation_field(np.random.default_rng(7), anatomy(p.fov), p)
    assert field is not None and np.ptp(field) > 0

    def run(deviation):
        rng = np.random.default_rng(3)
        _, target = planted_vertex(rng, None)
        return simulate_surface_runs(rng, target, p, 1, deviation=deviation)[0][0]

    a, b, c = run(field), run(field), run(2.0 * field)
    assert np.array_equal(a, b, equal_nan=True)  # the same field: the same data
    assert not np.allclose(a, c, equal_nan=True)  # the field is used
