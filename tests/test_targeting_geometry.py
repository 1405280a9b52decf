"""The volume geometry's connected patches against the whole-grid labelling they shortcut."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from tmstarget.targeting.geometry import VolumeGeometry


def test_patches_equal_labelling_the_whole_grid(rng):
    """Labelling within the columns' bounding box gives the whole grid's patches and numbers."""
    brain = np.zeros((30, 34, 28), bool)
    brain[3:27, 4:30, 2:26] = rng.random((24, 26, 24)) > 0.1
    geometry = VolumeGeometry(brain, np.eye(4))
    for _ in range(10):
        idx = np.sort(rng.choice(geometry.n, 3000, replace=False))
        keep = rng.random(3000) > 0.6
        vox = np.unravel_index(np.flatnonzero(brain.ravel(order="F"))[idx], brain.shape, order="F")
        vol = np.zeros(brain.shape, bool)
        vol[tuple(v[keep] for v in vox)] = True
        expected, n = ndimage.label(vol, structure=np.ones((3, 3, 3)))
        got = geometry.patches(idx, keep)
        assert n > 5  # several patches, so their numbering is tested too
        np.testing.assert_array_equal(got, expected[vox])
    assert geometry.patches(np.zeros(0, int), np.zeros(0, bool)).size == 0
