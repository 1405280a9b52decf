"""A brute-force centre-of-gravity cluster target, sharing no code with tmstarget.

It is the reference for the cluster tests.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np


def heron(a, b, c) -> float:
    la, lb, lc = math.dist(b, c), math.dist(a, c), math.dist(a, b)
    s = (la + lb + lc) / 2
    return math.sqrt(max(s * (s - la) * (s - lb) * (s - lc), 0.0))


def brute_force_cluster(points, scores, n_keep, neighbours, weights):
    """Index (into ``points``) of the snapped centre of gravity, the centre and the patch, by loops.

    ``neighbours[i]``: set of the indices touching i; ``weights[i]``: each point's weight.
    """
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    kept = set(order[:n_keep])
    seen, patches = set(), []
    for start in sorted(kept):
        if start in seen:
            continue
        patch, queue = [], deque([start])
        seen.add(start)
        while queue:
            i = queue.popleft()
            patch.append(i)
            for j in neighbours[i]:
                if j in kept and j not in seen:
                    seen.add(j)
                    queue.append(j)
        patches.append(sorted(patch))
    best = max(patches, key=lambda p: sum(weights[i] for i in p))
    total = sum(weights[i] for i in best)
    centre = [sum(weights[i] * points[i][d] for i in best) / total for d in range(3)]
    snapped = min(best, key=lambda i: math.dist(points[i], centre))
    return snapped, centre, best


def mesh_neighbours_and_areas(points, faces):
    """Return each vertex's edge neighbours and its share of the mesh area.

    Per vertex: the set of vertices sharing an edge with it, and the sum of a third of the area
    (Heron's formula) of each triangle it is in.
    """
    neighbours = [set() for _ in range(len(points))]
    weights = [0.0] * len(points)
    for f in faces:
        f = [int(v) for v in f]
        area = heron(*(points[v] for v in f))
        for a in f:
            weights[a] += area / 3
            neighbours[a] |= {b for b in f if b != a}
    return neighbours, weights


def surface_cluster_from_map(values, points, faces, top_fraction: float = 0.10):
    """Return the cluster target of a written per-vertex score map on a mesh: its vertex.

    The map is NaN outside the search region. Keeps the search vertices whose score is at least the
    (1 - top_fraction) quantile of the search scores (numpy's default linear interpolation, as the
    method's definition says), then :func:`brute_force_cluster`.
    """
    search = [i for i, v in enumerate(values) if not math.isnan(v)]
    scores = [float(values[i]) for i in search]
    n_keep = int(sum(s >= np.quantile(scores, 1 - top_fraction) for s in scores))
    used = set(search)
    sub_faces = [f for f in faces if any(int(v) in used for v in f)]
    neighbours, weights = mesh_neighbours_and_areas(points, sub_faces)
    local = {v: k for k, v in enumerate(search)}
    snapped, _, _ = brute_force_cluster(
        [points[i] for i in search],
        scores,
        n_keep,
        [{local[j] for j in neighbours[i] if j in local} for i in search],
        [weights[i] for i in search],
    )
    return search[snapped]
