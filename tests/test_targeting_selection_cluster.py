"""``--method cluster`` on every input kind, against a brute-force centre of gravity.

The reference (``cluster_reference.py``) shares no code with tmstarget's: the kept columns are the k
best by sorting, vertex areas are a third of each triangle's area by Heron's formula, patches are
grown by breadth-first search over edges (or voxels whose indices differ by at most 1), the centre
is a plain weighted sum and the snap a loop.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from cluster_reference import brute_force_cluster, heron
from tmstarget.surface.geometry import Grayordinates
from tmstarget.targeting import Components, Scores, choose_target
from tmstarget.targeting.geometry import SubsetGeometry, SurfaceGeometry, VolumeGeometry
from tmstarget.targeting.selection import cluster_target


def _ladder():
    """Build a strip of 2 × 10 vertices, bumpy in z: 36 triangles.

    The spacing is wide on its right end.
    """
    xs = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 9.0, 14.0, 22.0]
    bottom = [(x, 0.0, 0.3 * math.sin(x)) for x in xs]
    top = [(x, 2.0, 0.5 * math.cos(x)) for x in xs]
    points = bottom + top
    n = len(xs)
    faces = []
    for i in range(n - 1):
        faces += [(i, i + 1, n + i), (n + i, i + 1, n + i + 1)]
    return points, faces


def test_surface_cluster_is_the_area_weighted_centre_of_the_largest_patch():
    """Two high patches on a hand-built strip: the area-weighted rule picks the larger by area.

    The strip has 10 closely spaced vertices (x 0-4) and 6 widely spaced ones (x 9-22). By vertex
    count the left patch is larger; by cortical area the right one is (29.8 against 9.5 mm²), so the
    area-weighted rule picks the right patch, and its area-weighted centre snaps to the vertex at
    x = 14, y = 0. Three dummy columns (another mesh part) come first, so column indices differ
    from the strip's.
    """
    points, faces = _ladder()
    n = len(points)
    top_score = {0: 1.0, 1: 1.1, 2: 1.2, 3: 1.1, 4: 1.0, 7: 0.9, 8: 0.95, 9: 0.9}
    seed = np.array(
        [top_score.get(i % 10, 0.0) + 0.001 * i for i in range(n)]
    )  # 16 high, 4 low (x = 5 and 6)

    neighbours = [set() for _ in range(n)]
    weights = [0.0] * n
    for f in faces:
        area = heron(*(points[v] for v in f))
        for a in f:
            weights[a] += area / 3
            neighbours[a] |= {b for b in f if b != a}
    snapped, centre, patch = brute_force_cluster(points, list(seed), 16, neighbours, weights)
    assert sorted(p % 10 for p in patch) == [7, 7, 8, 8, 9, 9]  # the widely spaced patch
    assert sum(weights[i] for i in patch) == pytest.approx(29.80, abs=0.01)
    assert sum(weights[i] for i in range(n) if i % 10 < 5) == pytest.approx(9.48, abs=0.01)
    assert points[snapped][:2] == (14.0, 0.0)

    dummy = np.array([[50.0, 0, 0], [51.0, 0, 0], [50.0, 1, 0]])
    coords = np.vstack([dummy, np.array(points)])
    grays = Grayordinates(
        coords,
        np.array(["R"] * 3 + ["L"] * n),
        np.r_[0:3, 0:n],
        np.ones(n + 3, bool),
        [(np.arange(3), np.array([[0, 1, 2]])), (np.arange(3, 3 + n), np.array(faces))],
        "test",
    )
    geometry = SurfaceGeometry(grays)
    search = np.arange(3, 3 + n)
    scores = Scores(
        search_idx=search, coords=coords[search], seed=seed, seed_tc=np.zeros(1), similarity=None
    )
    sel = cluster_target(
        scores, geometry, top_fraction=0.8
    )  # the quantile at 0.2 keeps the 16 high vertices
    assert sel.index == snapped
    np.testing.assert_allclose(sel.coord_mm, points[snapped])
    np.testing.assert_allclose(geometry.areas(search), weights, rtol=1e-12)
    assert sel.score == pytest.approx(
        sum(weights[i] * seed[i] for i in patch) / sum(weights[i] for i in patch)
    )
    # the resampling engine sees only the search columns, through a SubsetGeometry: the same answer
    sub = Scores(
        search_idx=np.arange(n),
        coords=scores.coords,
        seed=seed,
        seed_tc=np.zeros(1),
        similarity=None,
    )
    assert cluster_target(sub, SubsetGeometry(geometry, search), top_fraction=0.8).index == snapped
    # the plain (unweighted) mean of the largest-by-count patch would be elsewhere: the weights
    # matter
    left = [i for i in range(n) if i % 10 < 5]
    plain = np.mean([points[i] for i in left], axis=0)
    assert np.linalg.norm(plain - np.array(points[snapped])) > 10.0


def test_volume_cluster_connects_corners_and_matches_brute_force():
    """Blobs that touch only at a corner form one patch with 26-connectivity, as brute force finds.

    A 10 × 10 × 10 grid (2 mm): blob A (5 voxels) touches blob B (4 voxels) only at a corner, blob C
    has 7. With 26-connectivity A + B (9 voxels) is the largest patch: its mean (3.33, 3.33, 2.56)
    snaps to voxel (3, 3, 2), MNI (-4, 8, 4); with 6-connectivity C would win. Every voxel weighs
    the same, so the centre is the plain mean.
    """
    shape = (10, 10, 10)
    affine = np.array([[2.0, 0, 0, -10], [0, 2.0, 0, 2], [0, 0, 2.0, 0], [0, 0, 0, 1]])
    brain = np.ones(shape, bool)
    a = [(2, 2, 2), (3, 2, 2), (2, 3, 2), (2, 2, 3), (3, 3, 2)]
    b = [(4, 4, 3), (5, 4, 3), (4, 5, 3), (5, 5, 3)]  # touches (3, 3, 2) only by a corner
    c = [(7, 7, 7), (8, 7, 7), (7, 8, 7), (7, 7, 8), (8, 8, 7), (8, 7, 8), (7, 8, 8)]
    region = np.zeros(shape, bool)
    region[1:10, 1:10, 1:10] = True
    geometry = VolumeGeometry(brain, affine)
    search = geometry.columns(region)
    ijk = [
        tuple(int(v) for v in t)
        for t in np.column_stack(np.unravel_index(geometry.flat[search], shape, order="F"))
    ]
    high = {v: 1.0 + 0.01 * k for k, v in enumerate(a + b + c)}
    seed = np.array([high.get(v, -1.0) for v in ijk])
    n_keep = len(high)
    top_fraction = (n_keep - 0.5) / len(seed)

    points = [tuple(float(x) for x in affine[:3, :3] @ v + affine[:3, 3]) for v in ijk]
    where = {v: i for i, v in enumerate(ijk)}
    neighbours = [
        {
            where[(v[0] + di, v[1] + dj, v[2] + dk)]
            for di in (-1, 0, 1)
            for dj in (-1, 0, 1)
            for dk in (-1, 0, 1)
            if (di, dj, dk) != (0, 0, 0) and (v[0] + di, v[1] + dj, v[2] + dk) in where
        }
        for v in ijk
    ]
    snapped, centre, patch = brute_force_cluster(
        points, list(seed), n_keep, neighbours, [1.0] * len(points)
    )
    assert sorted(ijk[i] for i in patch) == sorted(a + b)
    assert ijk[snapped] == (3, 3, 2) and points[snapped] == (-4.0, 8.0, 4.0)

    comp = Components(
        w=np.zeros((0, geometry.n)), valid=np.ones(geometry.n, bool), brain=brain, affine=affine
    )
    scores = Scores(
        search_idx=search,
        coords=geometry.coords(search),
        seed=seed,
        seed_tc=np.zeros(1),
        similarity=None,
    )
    assert (
        np.quantile(seed, 1 - top_fraction) > -1.0
        and (seed >= np.quantile(seed, 1 - top_fraction)).sum() == n_keep
    )
    sel = cluster_target(scores, geometry, top_fraction)
    assert sel.index == snapped
    np.testing.assert_allclose(sel.coord_mm, (-4.0, 8.0, 4.0))
    np.testing.assert_allclose(centre, np.mean([points[i] for i in patch], axis=0))
    # the registry's selector for 'cluster' (default top 10%) goes through the same geometry
    assert (
        choose_target("cluster", comp, scores)[0].coord_mm.tolist()
        == cluster_target(scores, geometry).coord_mm.tolist()
    )
