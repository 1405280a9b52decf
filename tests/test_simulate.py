"""The simulator does what it claims.

Checked: the planted anticorrelation, motion in the signal and confounds, and a realistic tSNR.
"""

from __future__ import annotations

import numpy as np
import pytest

from tmstarget.simulate.dataset import confounds_table
from tmstarget.simulate.model import (
    SimulationParams,
    anatomy,
    framewise_displacement,
    motion_parameters,
    simulate_participant,
)


@pytest.fixture(scope="module")
def one_run():
    anat = anatomy("brain")
    target = np.array([-40.0, 40.0, 30.0])
    rng = np.random.default_rng(7)
    bold, motion = simulate_participant(
        rng, anat, target, SimulationParams(n_volumes=200, t_r=2.0), n_runs=1
    )[0]
    flat = np.flatnonzero(anat.brain.ravel(order="F"))
    x = bold.reshape(-1, bold.shape[3], order="F")[flat].T.astype(np.float64)  # (T, V)
    return anat, target, bold, motion, x


def _sphere_mean(anat, x, centre, radius):
    d = np.linalg.norm(anat.xyz - np.asarray(centre, np.float32), axis=1)
    return x[:, d <= radius].mean(1)


def _clean(ts, confounds, t_r=2.0):
    from tmstarget.targeting.cleaning import cleaning_matrix

    return cleaning_matrix(len(ts), t_r, confounds) @ ts


def test_planted_target_is_anticorrelated_with_sgacc(one_run):
    anat, target, bold, motion, x = one_run
    table = confounds_table(
        bold.reshape(-1, bold.shape[3], order="F"),
        motion,
        {
            "global": np.flatnonzero(anat.brain.ravel(order="F")),
            "white_matter": np.flatnonzero(anat.wm.ravel(order="F")),
            "csf": np.flatnonzero(anat.csf.ravel(order="F")),
        },
    )
    conf = np.nan_to_num(
        table[
            [c for c in table.columns if c.startswith(("trans", "rot"))] + ["white_matter", "csf"]
        ].to_numpy()
    )
    sg = _clean(_sphere_mean(anat, x, (6, 16, -10), 6), conf)
    at_target = _clean(_sphere_mean(anat, x, target, 4), conf)
    far_away = _clean(
        _sphere_mean(anat, x, (-24, -90, 0), 4), conf
    )  # occipital, no planted structure
    r_target = np.corrcoef(sg, at_target)[0, 1]
    r_far = np.corrcoef(sg, far_away)[0, 1]
    assert r_target < -0.4, r_target
    assert abs(r_far) < 0.3, r_far


def test_confounds_describe_the_motion_in_the_signal(one_run):
    anat, _, bold, motion, x = one_run
    flat2d = bold.reshape(-1, bold.shape[3], order="F")
    brain = np.flatnonzero(anat.brain.ravel(order="F"))
    table = confounds_table(flat2d, motion, {"global": brain, "white_matter": brain, "csf": brain})
    # columns are the fMRIPrep ones, and derived columns are consistent with the parameters
    for c in (
        "trans_x",
        "rot_z_derivative1_power2",
        "framewise_displacement",
        "global_signal",
        "std_dvars",
        "csf",
    ):
        assert c in table
    fd = framewise_displacement(motion)
    np.testing.assert_allclose(table["framewise_displacement"].to_numpy()[1:], fd[1:])
    np.testing.assert_allclose(
        table["global_signal"], flat2d[brain].mean(0, dtype=np.float64), rtol=1e-6
    )
    # motion leaks into the voxel signal: the 24 motion regressors explain much of the edge voxels'
    # variance
    from scipy import ndimage

    edge = ndimage.distance_transform_edt(anat.brain).ravel(order="F")[brain] <= 2
    m24 = np.nan_to_num(
        table[[c for c in table.columns if c.startswith(("trans", "rot"))]].to_numpy()
    )
    design = np.c_[np.ones(len(m24)), np.linspace(-1, 1, len(m24)), m24]
    y = x[:, edge][:, ::50]
    resid = y - design @ np.linalg.lstsq(design, y, rcond=None)[0]
    r2 = 1 - resid.var(0) / y.var(0)
    assert np.median(r2) > 0.15, np.median(r2)


def test_motion_is_realistic():
    fds = [
        framewise_displacement(motion_parameters(np.random.default_rng(s), 300)) for s in range(20)
    ]
    mean_fd = np.mean([f.mean() for f in fds])
    assert 0.08 < mean_fd < 0.3
    assert np.mean([(f > 0.5).mean() for f in fds]) < 0.05  # a few jumps


def test_tsnr_is_realistic(one_run):
    anat, _, _, _, x = one_run
    gm = anat.gm.ravel(order="F")[np.flatnonzero(anat.brain.ravel(order="F"))]
    tsnr = x[:, gm].mean(0) / x[:, gm].std(0)
    assert 35 < np.median(tsnr) < 80


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--shift-mm", "500"], "--shift-mm 500 is outside 0-30 mm"),
        (["--shift-mm", "-3"], "--shift-mm -3 is outside 0-30 mm"),
        (["--existing"], "already exists and is not an empty folder"),
    ],
)
def test_simulate_refuses_what_it_cannot_plant_or_would_mix(tmp_path, capsys, argv, message):
    from tmstarget.cli.main import main

    out = tmp_path / "sim"
    if argv == ["--existing"]:
        out.mkdir()
        (out / "dataset_description.json").write_text('{"Name": "someone else\'s data"}')
        argv = []
    assert main(["simulate", str(out), "--volumes", "20", *argv]) == 2
    captured = capsys.readouterr()
    assert len(captured.err.strip().splitlines()) == 1 and message in captured.err
    if out.exists():
        assert [p.name for p in out.iterdir()] == ["dataset_description.json"]
        assert "someone else" in (out / "dataset_description.json").read_text()


def test_truth_records_the_planted_shift(tmp_path, caplog):
    import json
    import logging

    from tmstarget.simulate import simulate_dataset

    params = SimulationParams(n_volumes=20, shift_mm=29.0)
    with caplog.at_level(logging.WARNING, logger="tmstarget"):
        truth = simulate_dataset(tmp_path / "sim", 1, 1, 1, params, seed=2, dtype="int16")
    entry = truth["participants"]["01"]
    planted = float(
        np.linalg.norm(np.array(entry["target_mni"]) - np.array(entry["group_target_mni"]))
    )
    assert (
        entry["shift_mm"] == pytest.approx(planted, abs=0.01)
        and entry["requested_shift_mm"] == 29.0
    )
    on_disk = json.loads(
        (tmp_path / "sim" / "sub-01" / "sub-01_desc-truth_target.json").read_text()
    )
    assert on_disk["shift_mm"] == entry["shift_mm"]
    assert (abs(planted - 29.0) > 3.0) == ("not 29.0 mm" in caplog.text)


def test_clean_session_cleans_the_first_minutes_and_regresses_the_global_signal():
    from tmstarget.simulate.evaluate import Session, clean_session

    rng = np.random.default_rng(3)
    n, v = 300, 40
    shared = rng.standard_normal(n)
    x = (1000 + 5 * shared[:, None] + rng.standard_normal((n, v))).astype(np.float32)
    table = confounds_table(
        x.T,
        motion_parameters(rng, n, scale=0.1),
        {"global": np.arange(v), "white_matter": np.arange(5), "csf": np.arange(5, 10)},
    )
    session = Session(x=x, confounds=table, t_r=2.0)
    op, block = clean_session(session, 5.0)  # 150 volumes at TR 2 s
    assert (
        op.basis.shape[0] == op.sample_mask.size
        and op.sample_mask.max() < 150
        and op.sample_mask.size > 140
    )
    np.testing.assert_allclose(block, op.projector @ x[:150], rtol=1e-4, atol=1e-3)
    gs = table["global_signal"].to_numpy()[:150]
    op_gsr, _ = clean_session(session, 5.0, global_signal=True)
    kept_off, kept_on = op.basis @ (op.projector @ gs), op_gsr.basis @ (op_gsr.projector @ gs)
    assert np.linalg.norm(kept_on) < 1e-3 * np.linalg.norm(
        kept_off
    )  # the global signal is regressed out only with GSR


def test_planted_target_is_shift_from_the_group_site_inside_the_search_region():
    from tmstarget.simulate.evaluate import plant_target
    from tmstarget.simulate.model import GROUP_TARGET_MNI
    from tmstarget.targeting.regions import dlpfc_search_mask

    anat = anatomy("brain")
    region = dlpfc_search_mask(anat.brain, anat.affine)
    region_xyz = np.argwhere(region) @ anat.affine[:3, :3].T + anat.affine[:3, 3]
    for seed in range(5):
        target = plant_target(
            np.random.default_rng(seed), anat, region, SimulationParams(shift_mm=8.0)
        )
        assert np.min(np.linalg.norm(region_xyz - target, axis=1)) == 0.0  # a search-region voxel
        assert (
            abs(np.linalg.norm(target - np.asarray(GROUP_TARGET_MNI)) - 8.0) <= 2.0
        )  # snapped to the 2 mm grid
