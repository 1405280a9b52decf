"""The shrinkage (empirical-Bayes) target: its weights, noise estimate, prior and verdict.

It is also checked on simulated participants.
"""

from __future__ import annotations

import numpy as np
import pytest

from tmstarget.exceptions import InputError
from tmstarget.targeting.cleaning import run_operator
from tmstarget.targeting.selection import select_target, smooth_scores
from tmstarget.targeting.shrinkage import (
    FOX_2012_DLPFC_MNI,
    RADIUS95_PER_SD,
    check_group_target,
    check_group_target_default,
    difference_verdict,
    half_variance_ratio,
    prior_bump,
    shrinkage_weight,
)
from tmstarget.targeting.uncertainty.weights import split_half_weights

GROUP = np.array([-40.0, 40.0, 30.0])
PLANTED = np.array([-32.0, 44.0, 36.0])  # 10.8 mm from GROUP


@pytest.fixture(scope="module")
def grid() -> np.ndarray:
    """Return a 2 mm grid of left-DLPFC-like points around GROUP and PLANTED.

    The points fill a 30 × 16 × 16 mm box.
    """
    axes = [np.arange(-48, -22, 2.0), np.arange(30, 56, 2.0), np.arange(20, 46, 2.0)]
    return np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 3)


def _noise(rng: np.random.Generator, coords: np.ndarray, n: int, sd: float) -> np.ndarray:
    """N independent white noise maps (n, S) with per-point SD ``sd``.

    The SD is that before the neighbourhood smoothing.
    """
    return sd * rng.standard_normal((n, len(coords)))


def _maps(rng, coords, signal: float, noise_sd: float):
    """Full-data score and two halves of a map peaking at PLANTED.

    Each half has twice the noise variance of the full data.
    """
    truth = signal * prior_bump(coords, PLANTED, 6.0)
    e_a, e_b = _noise(rng, coords, 2, noise_sd * np.sqrt(2.0))
    return truth + (e_a + e_b) / 2, truth + e_a, truth + e_b


def test_cited_constants():
    # Fox et al. 2012 Biol Psychiatry 72:595–603: group DLPFC coordinate most anticorrelated with
    # the sgACC
    assert FOX_2012_DLPFC_MNI == (-38.0, 44.0, 26.0)
    # √χ²₃(0.95) = 2.7955 (the 95% radius of a 3-D isotropic Gaussian in per-axis SDs)
    assert RADIUS95_PER_SD == pytest.approx(2.7955, abs=1e-4)


def test_noise_variance_matches_independent_realisations(grid):
    """σ² from one pair of halves ≈ the variance of the smoothed full-map noise.

    The variance is taken across 100 independent realisations.
    """
    rng = np.random.default_rng(0)
    prior = prior_bump(grid, GROUP)
    estimates, noise = [], []
    for _ in range(100):
        s, a, b = _maps(rng, grid, 0.0, 0.2)
        estimates.append(shrinkage_weight(s, a, b, prior, grid).noise_var)
        noise.append(smooth_scores(grid, s))
    empirical = float(
        np.mean(np.var(np.array(noise), axis=0, ddof=1))
    )  # per point, across realisations
    assert np.mean(estimates) == pytest.approx(empirical, rel=0.10)
    assert np.std(estimates) / np.mean(estimates) < 0.5  # one participant's estimate is usable


def test_pure_noise_gives_group_target(grid):
    """No individual signal: the weight is ~0 and the target is the group optimum."""
    rng = np.random.default_rng(1)
    prior = prior_bump(grid, GROUP)
    group = select_target(grid, prior).coord_mm
    weights, errors = [], []
    for _ in range(20):
        s, a, b = _maps(rng, grid, 0.0, 0.2)
        est = shrinkage_weight(s, a, b, prior, grid)
        weights.append(est.weight)
        errors.append(np.linalg.norm(select_target(grid, est.posterior).coord_mm - group))
    assert np.median(weights) < 0.05 and max(weights) < 0.3
    assert np.median(errors) < 1.0


def test_weight_rises_with_signal_to_noise_and_target_moves_to_planted(grid):
    rng = np.random.default_rng(2)
    prior = prior_bump(grid, GROUP)
    group = select_target(grid, prior).coord_mm
    rows = []
    for noise_sd in (0.6, 0.15, 0.02):  # short/noisy → long/clean scan
        s, a, b = _maps(rng, grid, 1.0, noise_sd)
        est = shrinkage_weight(s, a, b, prior, grid)
        target = select_target(grid, est.posterior).coord_mm
        rows.append((est.weight, np.linalg.norm(target - PLANTED), np.linalg.norm(target - group)))
    weights = [r[0] for r in rows]
    assert weights[0] < weights[1] < weights[2] and weights[2] > 0.9
    assert rows[2][1] < 2.0  # clean: the planted target
    assert rows[0][2] < rows[2][2]  # noisy: nearer the group target than the clean one is


def test_negative_fit_keeps_the_group_optimum(grid):
    """An individual map that anti-correlates with the prior keeps the prior's optimum.

    It cannot turn the prior's optimum into its minimum.
    """
    prior = prior_bump(grid, GROUP)
    est = shrinkage_weight(
        -prior, -prior, -prior, prior, grid
    )  # no noise, negative slope: slope floored at > 0
    assert est.slope > 0 and est.weight == pytest.approx(1.0)
    est = shrinkage_weight(np.zeros(len(grid)) + 1e-9 * prior, prior * 0, prior * 0, prior, grid)
    assert (
        np.linalg.norm(
            select_target(grid, est.posterior).coord_mm - select_target(grid, prior).coord_mm
        )
        < 1.0
    )


def test_half_variance_ratio_identity_cleaning_is_four():
    """Without cleaning (U = I, S = 1) the halves are independent: var(s_A − s_B) = 4 var(s)."""

    class Op:
        basis = np.eye(40)
        projector = np.eye(40)

    halves = split_half_weights([np.ones(40)])
    assert half_variance_ratio([Op()], halves) == pytest.approx(4.0)
    # two runs, one half each: still independent, still 4
    assert half_variance_ratio(
        [Op(), Op()], ([np.ones(40), np.zeros(40)], [np.zeros(40), np.ones(40)])
    ) == pytest.approx(4.0)


def test_half_variance_ratio_matches_monte_carlo():
    """Band-passed cleaning: ρ against the variance of correlations of cleaned white noise.

    The latter is the slow, obvious reference.
    """
    op = run_operator(120, 2.0, np.zeros((120, 0)), np.arange(120))
    halves = split_half_weights([np.ones(op.basis.shape[0])])
    rng = np.random.default_rng(3)
    x, y = (op.basis @ (op.projector @ rng.standard_normal((120, 4000))) for _ in range(2))

    def corr(c):
        return np.einsum("t,tn,tn->n", c, x, y) / np.sqrt(
            np.einsum("t,tn->n", c, x * x) * np.einsum("t,tn->n", c, y * y)
        )

    full, a, b = corr(np.ones(x.shape[0])), corr(halves[0][0]), corr(halves[1][0])
    expected = np.var(a - b) / np.var(full)
    assert half_variance_ratio([op], halves) == pytest.approx(expected, rel=0.08)
    assert expected < 3.7  # dependent halves (band-pass): the naive 4 overstates the noise


def test_group_target_checks(grid):
    assert check_group_target((-38, 44, 26), grid).tolist() == [-38.0, 44.0, 26.0]
    with pytest.raises(InputError, match="other hemisphere"):
        check_group_target((38, 44, 26), grid)
    with pytest.raises(InputError, match=r"16\.1 mm away"):
        check_group_target(
            (-22, 42, 60), grid
        )  # nearest grid point (-24, 42, 44): √(2² + 16²) = 16.1 mm
    check_group_target_default(FOX_2012_DLPFC_MNI)
    with pytest.raises(InputError, match="other hemisphere"):
        check_group_target_default((38, 44, 26))


def test_difference_verdict():
    larger, text = difference_verdict(8.0, 4.5, "split-half", 0.7)
    assert larger and text.startswith(
        "individual target 8.0 mm from the group target, "
        "larger than its 95% uncertainty (4.5 mm, split-half)"
    )
    larger, text = difference_verdict(3.0, 4.5, "bootstrap", 0.1)
    assert not larger and "cannot tell" in text and text.endswith("shrinkage weight 0.10")


@pytest.mark.slow
def test_simulated_participant_weight_rises_with_scan_length():
    """3 vs 15 minutes of one simulated participant.

    The circuit is sgacc, and the prior is at the simulator's group point.
    """
    from tmstarget.simulate.evaluate import evaluate_participant

    rows = evaluate_participant(
        1, minutes=(3.0, 15.0), n_sessions=1, methods=("robust", "shrinkage", "group")
    )
    by = {(r["minutes"], r["method"]): r for r in rows}
    w3, w15 = by[3.0, "shrinkage"]["weight"], by[15.0, "shrinkage"]["weight"]
    assert w3 < 0.1 and w15 > 0.4
    xyz = lambda r: np.array([r["x"], r["y"], r["z"]])  # noqa: E731
    # 3 min: the group target (the robust one is far off); 15 min: nearer the planted target than
    # the group target is
    assert np.linalg.norm(xyz(by[3.0, "shrinkage"]) - xyz(by[3.0, "group"])) < 1.0
    assert by[3.0, "robust"]["error_mm"] > 20.0
    assert by[15.0, "shrinkage"]["error_mm"] < 0.5 * by[15.0, "group"]["error_mm"]


@pytest.mark.slow
def test_cli_volume_shrinkage_with_group_target_and_bootstrap(sim_dataset, tmp_path, capsys):
    """Two runs on a volume: --group-target is the prior, the bootstrap radius the uncertainty.

    The CLI prints the sentence.
    """
    import json

    from tmstarget.cli.main import main

    src, planted = sim_dataset
    argv = [
        "target",
        str(src),
        str(tmp_path / "out"),
        "participant",
        "--method",
        "shrinkage",
        "--group-target",
        "-40,40,30",
        "--bootstrap",
        "20",
        "--min-volumes",
        "60",
        "--json",
    ]
    code = main(argv)
    cap = capsys.readouterr()
    assert code == 0, cap.err
    doc = json.loads(cap.out)
    block = doc["shrinkage"]
    assert block["prior"] == "group coordinate" and block["prior_point_mni"] == [-40.0, 40.0, 30.0]
    assert doc["parameters"]["group_target_mni"] == [-40.0, 40.0, 30.0]
    assert (
        block["uncertainty_source"] == "bootstrap"
        and block["uncertainty_radius_mm"] == doc["confidence_radius_mm"]
    )
    assert block["sentence"] in cap.err and block["difference_exceeds_uncertainty"] == (
        block["distance_individual_to_group_mm"] > block["uncertainty_radius_mm"]
    )
    assert (
        np.linalg.norm(np.array(doc["target_mni"]) - planted)
        <= np.linalg.norm(np.array(block["group_target_mni"]) - planted) + 1.0
    )
