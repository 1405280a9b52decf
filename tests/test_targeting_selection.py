"""Target selection: a coil-sized neighbourhood beats the noisiest single voxel."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from tmstarget.exceptions import InputError
from tmstarget.targeting.selection import select_target, smooth_scores


def _grid(n=15, step=2.0):
    g = np.arange(n) * step
    return np.stack(np.meshgrid(g, g, g, indexing="ij"), -1).reshape(-1, 3)


def test_robust_prefers_broad_bump_over_spike(rng):
    coords = _grid()
    centre = np.array([10.0, 10.0, 10.0])
    score = 0.5 * np.exp(
        -((coords - centre) ** 2).sum(1) / (2 * 4.0**2)
    ) + 0.02 * rng.standard_normal(len(coords))
    spike = int(np.argmin(((coords - [24, 24, 24]) ** 2).sum(1)))
    score[spike] = 0.8
    peak = select_target(coords, score, "peak")
    robust = select_target(coords, score, "robust", radius_mm=8.0)
    assert_allclose(peak.coord_mm, coords[spike])
    assert np.linalg.norm(robust.coord_mm - centre) <= 2.0 * np.sqrt(3)
    assert robust.score < score.max()


def test_smoothing_ignores_nan_and_constant_is_preserved():
    coords = _grid(5)
    s = np.full(len(coords), 0.3)
    s[3] = np.nan
    out = smooth_scores(coords, s, 5.0)
    assert_allclose(out, 0.3)


def test_all_nan_is_an_error():
    with pytest.raises(InputError, match="no search voxel"):
        select_target(_grid(3), np.full(27, np.nan))


def test_refinement_finds_a_centre_between_voxels(rng):
    coords = _grid(11)
    centre = np.array([9.0, 11.0, 10.0])  # between voxel centres on the 2 mm grid
    score = np.exp(-((coords - centre) ** 2).sum(1) / (2 * 3.0**2))
    voxel_only = select_target(coords, score, "robust", radius_mm=6.0, refine_mm=0)
    refined = select_target(coords, score, "robust", radius_mm=6.0, refine_mm=4.0)
    assert np.linalg.norm(voxel_only.coord_mm - centre) >= 1.0  # the grid alone cannot get closer
    assert np.linalg.norm(refined.coord_mm - centre) < 0.3


def test_neighbourhood_weights_are_cached_by_points_and_radius():
    from tmstarget.targeting.selection import neighbourhood_weights

    coords = np.random.default_rng(5).uniform(0, 30, (200, 3))
    first = neighbourhood_weights(coords, 6.0)
    assert (
        neighbourhood_weights(coords.copy(), 6.0) is first
    )  # same points and radius: the cached matrix
    wider = neighbourhood_weights(coords, 10.0)
    assert wider is not first and wider.nnz > first.nnz
    moved = coords.copy()
    moved[0] += 100.0  # far from every other point: its only neighbour is itself
    isolated = neighbourhood_weights(moved, 6.0)
    assert isolated is not first and isolated[0].nnz == 1 and isolated[0, 0] == 1.0
