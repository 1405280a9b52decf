"""tmstarget.targeting.uncertainty: the re-weighting algebra, bootstrap pieces, summaries.

The re-weighting algebra is checked against re-weighted time series.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

from tmstarget.exceptions import InputError
from tmstarget.targeting import choose_target, compute_scores, finalize_components
from tmstarget.targeting import uncertainty as rel
from tmstarget.targeting.circuits import sphere_mask
from tmstarget.targeting.cleaning import compress_operator


# ------------------------------------------------------------------ a small problem (4 mm grid, two
# censored runs)
def _small_problem(seed: int = 0, kept=(90, 80), shape=(18, 18, 16)):
    rng = np.random.default_rng(seed)
    affine = np.diag([4.0, 4.0, 4.0, 1.0])
    affine[:3, 3] = (-60, -20, -30)
    brain = np.ones(shape, bool)
    region = sphere_mask(affine, shape, (-40, 40, 30), 12)
    n_vox = brain.sum()
    loading = 0.3 * rng.standard_normal(n_vox)
    loading[sphere_mask(affine, shape, (6, 16, -10), 10).ravel(order="F")] += 1.0
    loading[sphere_mask(affine, shape, (-36, 36, 34), 8).ravel(order="F")] -= 1.0
    ops, blocks = [], []
    for k in kept:
        n = k + 6
        signal = np.convolve(rng.standard_normal(n + 10), np.ones(5) / 5, "same")[:n]
        x = np.outer(signal, loading) + rng.standard_normal((n, n_vox))
        trend = np.column_stack([np.ones(n), np.arange(n)])
        clean = np.eye(n) - trend @ np.linalg.pinv(trend)  # detrending; 6 volumes censored
        kept_idx = np.sort(rng.choice(n, k, replace=False))
        op = compress_operator(clean[kept_idx], kept_idx)
        ops.append(op)
        blocks.append(op.projector.astype(np.float64) @ x)
    circuit = np.random.default_rng(seed + 1).standard_normal(shape)
    return affine, brain, region, ops, blocks, circuit


@pytest.fixture(scope="module")
def small():
    return _small_problem()


@pytest.fixture(autouse=True)
def one_blas_thread():
    """Many small matrix products: one BLAS thread is faster on a shared machine."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


def _direct(blocks, ops, weights, brain, affine, region, circuit, method):
    """Repeat each cleaned volume as often as its weight says and target that from scratch.

    This is the reference. Each run is weighted by its fraction of kept volumes used, relative to
    the largest.
    """
    series = [op.basis @ b for op, b in zip(ops, blocks)]
    used = [np.sum(c) > 0 for c in weights]
    rows = [
        np.repeat(y, np.asarray(c).astype(int), axis=0)
        for y, c, u in zip(series, weights, used)
        if u
    ]
    frac = np.array([np.sum(c) / len(c) for c, u in zip(weights, used) if u])
    comp = finalize_components(rows, brain, affine, run_weights=frac / frac.max())
    scores = compute_scores(comp, region, circuit, True, 10.0)
    return scores, choose_target(method, comp, scores)[0].coord_mm


@pytest.mark.parametrize("method", ["similarity", "robust", "seedmap", "cluster", "shrinkage"])
@pytest.mark.parametrize("use_map", [False, True], ids=["sgacc", "map"])
def test_resample_algebra_equals_reweighted_series(small, method, use_map):
    affine, brain, region, ops, blocks, cmap = small
    circuit = cmap if use_map else None
    comp = finalize_components(blocks, brain, affine)
    scores = compute_scores(comp, region, circuit, True, 10.0)
    model = rel.resample_model(
        comp, scores, [op.basis for op in ops], region, circuit, method, norm_voxels=None
    )
    n_kept = [op.sample_mask.size for op in ops]
    # all weights 1 reproduces the full-data target
    assert_allclose(
        rel.resample_target(model, [np.ones(k) for k in n_kept])[0],
        choose_target(method, comp, scores)[0].coord_mm,
    )
    boots = rel.circular_block_bootstrap(n_kept, [7, 5], 2, np.random.default_rng(4))
    halves = rel.split_half_weights(
        [np.ones(k) for k in n_kept]
    )  # the first half has no volume of run 2
    window = [
        np.ones(n_kept[0]),
        (np.arange(n_kept[1]) < 12).astype(float),
    ]  # run 1 and a sliver of run 2
    for weights in [*boots, *halves, window]:
        ref_scores, ref_target = _direct(
            blocks, ops, weights, brain, affine, region, circuit, method
        )
        got, _ = rel.resample_scores(model, weights)
        assert_allclose(got.seed, ref_scores.seed, atol=1e-10)
        if model.uses_similarity:
            assert_allclose(got.similarity, ref_scores.similarity, atol=1e-10)
        else:  # the seed-score fast path that resample_target takes, against the same reference
            assert model.y2_search is not None
            assert_allclose(
                rel.engine._seed_scores(model, weights).seed, ref_scores.seed, atol=1e-10
            )
        assert_allclose(rel.resample_target(model, weights)[0], ref_target, atol=1e-8)


def test_a_sliver_of_a_run_weighs_by_its_share(small):
    """A sliver of a run in a split half or window weighs by its share (run_shares).

    A split half or window holding a few volumes of a run gives that run a weight in proportion, not
    the weight of a whole run: 5 volumes of run 2 barely move run 1's scores. Equal run weights (the
    old rule) would average in the sliver's noisy correlations at full weight.
    """
    affine, brain, region, ops, blocks, _ = small
    comp = finalize_components(blocks, brain, affine)
    scores = compute_scores(comp, region, None, True, 10.0)
    model = rel.resample_model(
        comp, scores, [op.basis for op in ops], region, None, "robust", norm_voxels=None
    )
    k1, k2 = (op.sample_mask.size for op in ops)
    assert_allclose(
        rel.run_shares([np.ones(k1), (np.arange(k2) < 5).astype(float)]), [1.0, 5 / 80 / 1.0]
    )
    assert_allclose(rel.run_shares([np.ones(k1), np.ones(k2)]), [1.0, 1.0])
    assert_allclose(rel.run_shares([np.zeros(k1), np.ones(k2) * 0.5]), [0.0, 1.0])
    run1 = rel.resample_scores(model, [np.ones(k1), np.zeros(k2)])[0].seed
    sliver = rel.resample_scores(model, [np.ones(k1), (np.arange(k2) < 5).astype(float)])[0].seed
    run2 = rel.resample_scores(model, [np.zeros(k1), (np.arange(k2) < 5).astype(float)])[0].seed
    series = [ops[0].basis @ blocks[0], (ops[1].basis @ blocks[1])[:5]]
    equal = compute_scores(
        finalize_components(series, brain, affine), region, None, True, 10.0
    ).seed  # the old rule
    r_share, r_equal, r_alone = (np.corrcoef(run1, x)[0, 1] for x in (sliver, equal, run2))
    print(
        f"r with run 1: sliver by share {r_share:.3f}, sliver "
        f"at equal weight {r_equal:.3f}, sliver alone {r_alone:.3f}"
    )
    assert r_share > 0.98 and r_equal < 0.8 and r_alone < 0.6


def test_circuit_voxel_subset_is_close_and_seeded(small):
    affine, brain, region, ops, blocks, _ = small
    comp = finalize_components(blocks, brain, affine)
    scores = compute_scores(comp, region, None, True, 10.0)
    bases = [op.basis for op in ops]
    exact = rel.resample_model(comp, scores, bases, region, None, "similarity", norm_voxels=None)
    subset = rel.resample_model(
        comp, scores, bases, region, None, "similarity", norm_voxels=1500, seed=3
    )
    again = rel.resample_model(
        comp, scores, bases, region, None, "similarity", norm_voxels=1500, seed=3
    )
    assert subset.scale > 3 and np.array_equal(subset.z_sub, again.z_sub)
    for w in rel.circular_block_bootstrap(
        [op.sample_mask.size for op in ops], [6, 6], 3, np.random.default_rng(0)
    ):
        err = np.nanmax(
            np.abs(
                rel.resample_scores(exact, w)[0].similarity
                - rel.resample_scores(subset, w)[0].similarity
            )
        )
        assert (
            err < 0.03
        )  # white-noise data on 5184 voxels; on smooth 2 mm data see benchmarks/reliability.py


def test_weights_are_checked(small):
    affine, brain, region, ops, blocks, _ = small
    comp = finalize_components(blocks, brain, affine)
    model = rel.resample_model(
        comp,
        compute_scores(comp, region, None, False, 10.0),
        [op.basis for op in ops],
        region,
        None,
        "seedmap",
    )
    with pytest.raises(InputError, match="non-negative"):
        rel.resample_target(model, [np.ones(3), np.ones(80)])
    with pytest.raises(InputError, match="weight 0"):
        rel.resample_target(model, [np.zeros(90), np.zeros(80)])


# ------------------------------------------------------------------ re-weightings and block length
def test_circular_block_bootstrap_counts():
    a = rel.circular_block_bootstrap([50, 31], [7, 40], 400, np.random.default_rng(1))
    b = rel.circular_block_bootstrap([50, 31], [7, 40], 400, np.random.default_rng(1))
    assert all(np.array_equal(x, y) for wa, wb in zip(a, b) for x, y in zip(wa, wb))
    counts = np.array([w[0] for w in a])
    assert counts.shape == (400, 50) and np.all(counts.sum(1) == 50) and np.all(counts >= 0)
    assert abs(counts.mean() - 1.0) < 1e-12 and np.all(
        np.abs(counts.mean(0) - 1) < 0.3
    )  # circular: no edge effect
    assert np.all(np.array([w[1] for w in a]).sum(1) == 31)  # block longer than the run: clipped
    one = a[0][0]  # 7 blocks of 7 + 1 volume: counts change only at block edges
    assert np.count_nonzero(np.diff(np.r_[one, one[0]])) <= 2 * 8


def test_split_half_and_windows():
    first, second = rel.split_half_weights([np.ones(5), np.r_[0.0, np.ones(4)]])
    assert [list(x) for x in first] == [[1, 1, 1, 1, 0], [0, 0, 0, 0, 0]]
    assert [list(x) for x in second] == [[0, 0, 0, 0, 1], [0, 1, 1, 1, 1]]
    times = rel.kept_times_s([np.array([0, 2, 3]), np.array([1, 4])], [2.0, 1.0], [5, 6])
    assert_allclose(times[0], [2, 6, 8]) and assert_allclose(times[1], [12, 15])
    assert [list(w) for w in rel.window_weights(times, 12.0, 6.0)] == [[0, 0, 1], [1, 0]]


@pytest.mark.parametrize("phi", [0.0, 0.5])
def test_optimal_block_length_matches_ar1_theory(phi):
    # AR(1): G/g = 2 phi / (1 - phi^2), so b = (1.5 (G/g)^2)^(1/3) n^(1/3) for the circular
    # bootstrap
    n, rng = 4000, np.random.default_rng(7)
    lengths = []
    for _ in range(8):
        e = rng.standard_normal(n + 200)
        x = np.zeros_like(e)
        for t in range(1, e.size):
            x[t] = phi * x[t - 1] + e[t]
        lengths.append(rel.optimal_block_length(x[200:]))
    theory = (1.5 * (2 * phi / (1 - phi**2)) ** 2) ** (1 / 3) * n ** (1 / 3)
    if phi == 0:
        assert np.median(lengths) < 3
    else:
        assert 0.6 * theory < np.median(lengths) < 1.6 * theory


def test_variance_ratio_matches_monte_carlo():
    """Block-bootstrap variance of Σ x_t y_t over cleaned white noise ÷ its true variance.

    The true variance comes from simulation.
    """
    from tmstarget.targeting.cleaning import run_operator

    rng = np.random.default_rng(0)
    op = run_operator(150, 2.0, np.cumsum(rng.standard_normal((150, 6)), axis=0), np.arange(150))
    clean = op.basis @ op.projector.astype(np.float64)
    for block in (1, 5):
        sums, boot = [], []
        for _ in range(250):
            z = (clean @ rng.standard_normal(150)) * (clean @ rng.standard_normal(150))
            counts = np.array(
                [w[0] for w in rel.circular_block_bootstrap([150], [block], 100, rng)]
            )
            sums.append(z.sum())
            boot.append(np.var(counts @ z))
        assert rel.variance_ratio([op], [block]) == pytest.approx(
            np.mean(boot) / np.var(sums), rel=0.2
        )
    assert rel.variance_ratio([op], [5]) < rel.variance_ratio([op], [30]) < 1


# ------------------------------------------------------------------ summaries
def test_confidence_region_quantiles_and_membership(rng):
    cloud = rng.standard_normal((4000, 3)) * [3.0, 1.0, 1.0]
    region = rel.confidence_region(cloud, np.zeros(3), 0.95)
    assert region["radius_mm"] == pytest.approx(
        np.quantile(np.linalg.norm(cloud, axis=1), 0.95), rel=0.01
    )
    assert sorted(region["semi_axes_mm"]) == pytest.approx(
        np.sqrt(7.8147) * np.array([1, 1, 3]), rel=0.06
    )  # chi2(3) 95%
    assert np.mean([rel.region_contains(region, p)[1] for p in cloud[:1000]]) == pytest.approx(
        0.95, abs=0.02
    )
    assert rel.region_contains(region, [0, 0, 3.2]) == (
        True,
        False,
    )  # inside the sphere, outside the thin axis
    point = rel.confidence_region(np.zeros((20, 3)), np.zeros(3))  # every resample on the target
    assert point["radius_mm"] == 0 and rel.region_contains(point, [0, 0, 0]) == (True, True)
    assert rel.region_contains(point, [2, 0, 0]) == (False, False)


def test_icc_matches_shrout_fleiss():
    # Shrout & Fleiss (1979) Table 2: 6 targets x 4 judges, ICC(2,1) = 0.29
    y = np.array(
        [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]], float
    )
    assert rel.icc_2_1(y) == pytest.approx(0.29, abs=0.005)
    a = np.r_[np.arange(10.0), np.nan]
    same = rel.map_agreement(a, a)
    assert (
        same["spatial_correlation"] == pytest.approx(1)
        and same["icc"] == pytest.approx(1)
        and same["n_voxels"] == 10
    )
    assert (
        rel.map_agreement(a, a + 5)["icc"]
        < 0.5
        < rel.map_agreement(a, a + 5)["spatial_correlation"]
    )


def test_minutes_needed():
    curve = [
        {"minutes": m, "distance_mm": d}
        for m, d in [(1, 9.0), (2, 2.0), (3, 4.0), (4, 2.9), (5, 0.0)]
    ]
    assert rel.minutes_needed(curve) == 4
    assert (
        rel.minutes_needed(curve[:3] + [{"minutes": 4, "distance_mm": 0.0}]) is None
    )  # only the whole scan


def test_cohort_stability():
    targets = [
        ("01", "1", [-40, 40, 30]),
        ("01", "2", [-40, 42, 30]),
        ("02", "1", [-30, 50, 20]),
        ("02", "2", [-31, 50, 20]),
        ("03", None, [-45, 30, 40]),
    ]
    rows, summary = rel.cohort_stability(targets)
    assert [r["participant"] for r in rows] == ["01", "02", "03"]
    assert rows[0]["within_mm"] == pytest.approx(2.0) and rows[2]["within_mm"] is None
    assert summary["n_with_repeat_sessions"] == 2 and summary["median_within_mm"] == pytest.approx(
        1.5
    )
    assert summary["ratio_between_within"] > 5 and summary["fraction_closer_to_self"] == 1.0
    with pytest.raises(InputError, match=">= 2 sessions"):
        rel.cohort_stability([("01", None, [0, 0, 0]), ("02", None, [1, 1, 1])])
    with pytest.raises(InputError, match="need >= 2"):
        rel.cohort_stability([("01", "1", [0, 0, 0]), ("01", "2", [1, 1, 1])])


# ------------------------------------------------------------------ simulated participants (4 mm
# grid, in memory)
def coarse_anatomy():
    """Return the simulator's anatomy on every second voxel of its 2 mm grid.

    The voxels are 4 mm, so the work is 8x less.
    """
    from tmstarget.simulate.model import Anatomy, anatomy

    full = anatomy("brain")
    sl = (slice(None, None, 2),) * 3
    affine = full.affine.copy()
    affine[:3, :3] *= 2
    brain = full.brain[sl]
    ijk = np.column_stack(
        np.unravel_index(np.flatnonzero(brain.ravel(order="F")), brain.shape, order="F")
    )
    return Anatomy(
        affine,
        brain.shape,
        brain,
        full.gm[sl],
        full.wm[sl],
        full.csf[sl],
        (ijk @ affine[:3, :3].T + affine[:3, 3]).astype(np.float32),
    )


def _coarse_session(seed: int, minutes: float, n_runs: int = 1):
    """Simulate a session (TR 2 s) on the 4 mm grid: components, operators and search region."""
    from tmstarget.io.confounds import load_run_confounds
    from tmstarget.simulate.dataset import confounds_table
    from tmstarget.simulate.model import SimulationParams, simulate_participant
    from tmstarget.targeting.cleaning import run_operator
    from tmstarget.targeting.regions import dlpfc_search_mask

    anat = coarse_anatomy()
    flat = np.flatnonzero(anat.brain.ravel(order="F"))
    n = int(minutes * 30) // n_runs
    tissue = {
        "global": flat,
        "white_matter": np.flatnonzero(anat.wm.ravel(order="F")),
        "csf": np.flatnonzero(anat.csf.ravel(order="F")),
    }
    ops, blocks = [], []
    for bold, motion in simulate_participant(
        np.random.default_rng(seed),
        anat,
        (-38.0, 44.0, 30.0),
        replace(SimulationParams(), n_volumes=n),
        n_runs,
    ):
        x = bold.reshape(-1, n, order="F")
        with tempfile.TemporaryDirectory() as tmp:
            tsv = Path(tmp) / "confounds.tsv"
            confounds_table(x, motion, tissue).to_csv(tsv, sep="\t", index=False, na_rep="n/a")
            conf = load_run_confounds(tsv, n)
        ops.append(run_operator(n, 2.0, conf.confounds, conf.sample_mask))
        blocks.append(ops[-1].projector @ np.ascontiguousarray(x[flat].T))
    return (
        finalize_components(blocks, anat.brain, anat.affine, 6.0),
        ops,
        dlpfc_search_mask(anat.brain, anat.affine),
    )


def test_split_half_distance_shrinks_with_scan_length():
    distances: dict[int, list[float]] = {4: [], 8: [], 16: []}
    for seed in (0, 1):
        comp, ops, region = _coarse_session(seed, 16.0)
        scores = compute_scores(comp, region, None, False, 10.0)
        model = rel.resample_model(comp, scores, [op.basis for op in ops], region, None, "robust")
        times = rel.kept_times_s([op.sample_mask for op in ops], [2.0], [480])
        for (
            length,
            found,
        ) in distances.items():  # split halves of every disjoint window of that length
            for start in range(0, 16, length):
                first, second = rel.split_half_weights(
                    rel.window_weights(times, (start + length) * 60, start * 60)
                )
                found.append(
                    float(
                        np.linalg.norm(
                            rel.resample_target(model, first)[0]
                            - rel.resample_target(model, second)[0]
                        )
                    )
                )
    means = {length: np.mean(d) for length, d in distances.items()}
    assert means[4] > means[8] > means[16], means


def test_participant_reliability_contract_and_determinism():
    comp, ops, region = _coarse_session(5, 6.0, n_runs=2)
    kwargs = dict(n_bootstrap=30, seed=11)
    a = rel.participant_reliability(comp, ops, [2.0, 2.0], [90, 90], region, **kwargs)
    assert a == rel.participant_reliability(comp, ops, [2.0, 2.0], [90, 90], region, **kwargs)
    b = rel.participant_reliability(
        comp, ops, [2.0, 2.0], [90, 90], region, n_bootstrap=30, seed=12
    )
    assert (
        a["bootstrap"]["targets_mni"] != b["bootstrap"]["targets_mni"]
        and a["split_half_distance_mm"] == b["split_half_distance_mm"]
    )
    assert len(a["bootstrap"]["targets_mni"]) == 30 and a["confidence_radius_mm"] >= 0
    assert a["run_distances_mm"][0]["runs"] == [0, 1] and len(a["run_targets_mni"]) == 2
    assert (
        a["scan_length_curve"][-1]["distance_mm"] == 0
        and a["scan_length_curve"][-1]["n_volumes"] == a["n_volumes_used"]
    )
    assert a["minutes_total"] == pytest.approx(6.0, abs=0.05)
    # held out (issue 29): first vs last k minutes, up to half the scan; at half the scan the two
    # windows are the two runs
    held = {r["minutes"]: r["held_out_distance_mm"] for r in a["scan_length_curve"]}
    assert [m for m, h in held.items() if h is not None] == [1.0, 2.0, 3.0]
    assert held[3.0] == pytest.approx(a["run_distances_mm"][0]["distance_mm"], abs=0.11)
    # issue 25: the region combines the bootstrap with the run-vs-run split, never exceeds the
    # search region, and the
    # minutes needed and the curve's radius are the verdict's
    drift, v = a["drift"], a["reliability_verdict"]
    assert (
        drift["split"] == "runs"
        and drift["distances_mm"] == [a["run_distances_mm"][0]["distance_mm"]]
        and drift["minutes"] == [2.97, 3.0]
    )  # 89 and 90 kept volumes at TR 2 s
    assert a["confidence_radius_mm"] == pytest.approx(
        min(np.hypot(drift["bootstrap_radius_mm"], drift["radius_mm"]), v["search_extent_mm"]),
        abs=0.11,
    )
    assert (
        a["minutes_needed"] == v["minutes_needed"]
        and a["scan_length_curve"][-1]["radius_95_mm"] == v["radius_mm"]
    )
    assert (
        all(r["radius_95_mm"] <= v["search_extent_mm"] for r in a["scan_length_curve"])
        and "minutes_for_3mm" not in a
    )
    assert -1 <= a["score_map_agreement"]["spatial_correlation"] <= 1
