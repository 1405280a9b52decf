"""Fast reference-field sampling and the lateral bound behind the optimiser's voxel pruning."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.ndimage import map_coordinates

from tmstarget.coil.models import PRESETS, coil_dipoles
from tmstarget.coil.optimize import HALF_MAX, reference_field, weighted_circuit_score
from tmstarget.coil.sampling import LateralBound, PlacementScorer, trilinear

RADIUS = 86.0


def test_trilinear_matches_map_coordinates_inside_and_outside(rng):
    grid = rng.random((7, 5, 6))
    idx = rng.uniform(-1.5, 7.5, size=(3, 400))
    idx[:, :5] = [[0, 6, 3, 6, 2.5], [0, 4, 2, 0, 4], [0, 5, 5, 5, 0]]  # nodes and edges
    expected = map_coordinates(grid, idx, order=1, mode="constant", cval=0.0)
    got = trilinear(grid, *(row.copy() for row in idx))
    assert_allclose(got, expected, rtol=0, atol=1e-13)
    assert (got[np.any((idx < 0) | (idx > np.array([[6], [4], [5]])), axis=0)] == 0).all()
    assert got[0] == grid[0, 0, 0] and got[1] == grid[6, 4, 5]


@pytest.fixture(scope="module")
def ref():
    return reference_field(coil_dipoles(PRESETS["magventure-cool-b65"], 1, 12), RADIUS, RADIUS)


def test_lateral_bound_is_an_upper_bound_and_prunes(ref, rng):
    # points in the reference pose at random radii and azimuths
    n = 20000
    radius = rng.uniform(RADIUS - 40, RADIUS - 2, n)
    polar = np.arccos(rng.uniform(np.cos(0.9), 1.0, n))
    azimuth = rng.uniform(0, 2 * np.pi, n)
    q = radius[:, None] * np.column_stack(
        [np.sin(polar) * np.cos(azimuth), np.sin(polar) * np.sin(azimuth), np.cos(polar)]
    )
    value = ref.sample(q)
    bound = LateralBound(ref.magnitude, ref.origin_mm, ref.step_mm, radius)
    b = bound.bound(np.hypot(q[:, 0], q[:, 1]))
    assert (b >= value).all()
    # far from the axis the bound is below half the field under the coil: such voxels are skipped
    far = np.hypot(q[:, 0], q[:, 1]) > 55
    assert b[far].max() < 0.45 * value.max()
    assert bound.bound(np.array([200.0]), np.array([0]))[0] == 0.0


def test_pruned_scores_equal_scores_over_all_voxels(ref, rng):
    from tmstarget.coil.geometry import Sphere

    centre = np.array([2.0, 12.0, 6.0])
    u0 = np.array([-0.55, 0.5, 0.67]) / np.linalg.norm([-0.55, 0.5, 0.67])
    h0 = np.cross(u0, [1.0, 0, 0])
    h0 /= np.linalg.norm(h0)
    g = np.arange(-90.0, 91.0, 3.0)
    vox = np.stack(np.meshgrid(g, g, g, indexing="ij"), -1).reshape(-1, 3)
    r = np.linalg.norm(vox, axis=1)
    vox = vox[(r < RADIUS - 6) & (r > RADIUS - 35) & (vox @ u0 > 45)] + centre
    values = rng.normal(size=len(vox))
    scorer = PlacementScorer(ref, Sphere(centre, RADIUS), u0, h0, vox, values, RADIUS, HALF_MAX)
    params = np.column_stack(
        [rng.uniform(-20, 20, 40), rng.uniform(-20, 20, 40), rng.uniform(0, 180, 40)]
    )
    params[8:16, :2] = params[7, :2]  # one position, several rotations
    fast = scorer.scores(params)
    rots = scorer.rotations(params)
    q = np.matmul((vox - centre)[None], rots)
    full = weighted_circuit_score(ref.sample(q), values)
    assert_allclose(fast, full, rtol=1e-12, atol=1e-14)
    assert np.ptp(full) > 0.05  # the placements differ
    assert scorer.n == 40
    # the vectorised rotations are the scalar pose's
    for (a, b, psi), rot in zip(params[:5], rots[:5]):
        u, h = scorer.pose(a, b, psi)
        assert_allclose(rot, np.column_stack([np.cross(h, u), h, u]), atol=1e-14)
