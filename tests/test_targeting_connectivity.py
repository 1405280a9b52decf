"""Similarity algebra against a slow, obvious per-voxel reference."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from tmstarget.exceptions import InputError
from tmstarget.targeting.connectivity import (
    circuit_similarity,
    seed_map,
    seed_timecourse,
    weighted_seed_score,
)


def _unit_data(rng, t=60, v=300):
    x = rng.standard_normal((t, v))
    x[:, :40] += rng.standard_normal((t, 1)) * 1.5  # a correlated cluster
    x -= x.mean(0)
    return x / np.linalg.norm(x, axis=0)


def _similarity_by_loop(x, circuit, search_idx, circuit_idx):
    """Compute the similarity the way existing tools do it.

    One seed map per search voxel, then a spatial correlation.
    """
    out = []
    for s in search_idx:
        seedmap = np.array([np.corrcoef(x[:, s], x[:, v])[0, 1] for v in circuit_idx])
        out.append(np.corrcoef(seedmap, circuit[circuit_idx])[0, 1])
    return np.array(out)


def test_similarity_matches_per_voxel_reference(rng):
    x = _unit_data(rng)
    circuit = rng.standard_normal(x.shape[1]) + np.r_[np.ones(40) * 2, np.zeros(x.shape[1] - 40)]
    search = np.arange(20, 70)
    circ_idx = np.setdiff1d(np.arange(x.shape[1]), np.arange(60, 80))
    fast = circuit_similarity(x.astype(np.float32), circuit, search, circ_idx)
    slow = _similarity_by_loop(x, circuit, search, circ_idx)
    assert_allclose(fast, slow, rtol=1e-4, atol=1e-5)
    # voxels in the correlated cluster match a circuit that is high on that cluster
    assert fast[:20].mean() > fast[20:].mean() + 0.3


def test_seed_map_is_correlation_with_mean_seed(rng):
    x = _unit_data(rng)
    seed_idx = np.arange(10)
    seed = seed_timecourse(x, seed_idx)
    ref_seed = x[:, seed_idx].mean(1)
    expected = np.array([np.corrcoef(ref_seed, x[:, v])[0, 1] for v in range(x.shape[1])])
    assert_allclose(seed_map(x, seed), expected, atol=1e-10)


def test_weighted_seed_uses_centered_circuit(rng):
    x = _unit_data(rng)
    circuit = np.linspace(-1, 1, x.shape[1])
    idx = np.arange(100, 300)
    scores = weighted_seed_score(x, circuit, np.arange(5), idx)
    c = circuit[idx] - circuit[idx].mean()
    ts = x[:, idx] @ c
    expected = [np.corrcoef(ts, x[:, v])[0, 1] for v in range(5)]
    assert_allclose(scores, expected, atol=1e-10)


def test_errors(rng):
    x = _unit_data(rng)
    with pytest.raises(InputError, match="seed region"):
        seed_timecourse(x, np.array([], int))
    with pytest.raises(InputError, match="constant"):
        circuit_similarity(x, np.ones(x.shape[1]), np.arange(3), np.arange(50))
