"""Fast paths against the obvious reference: smoothing compressed components, background reading."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest
from numpy.testing import assert_allclose

from tmstarget._utils.prefetch import Prefetcher
from tmstarget.targeting.geometry import smooth_components as _smooth_components


def test_smoothing_components_equals_nilearn_smooth_img(rng):
    from nilearn.image import smooth_img

    affine = np.diag([2.0, 2.0, 2.0, 1.0])
    affine[:3, 3] = [-20, -30, -10]
    # nilearn reflects at the grid's edges; a brain mask lies well inside the field of view, as here
    mask = np.zeros((27, 29, 31), bool)
    mask[8:20, 9:21, 7:24] = True
    mask[8, 8, 8] = False
    flat = np.flatnonzero(mask.ravel(order="F"))
    w = rng.standard_normal((5, flat.size)).astype(np.float32)
    vol = np.zeros((*mask.shape, 5), np.float32, order="F")
    vol.reshape(-1, 5, order="F")[flat] = w.T
    expected = (
        np.asarray(smooth_img(nib.Nifti1Image(vol, affine), 6.0).dataobj)
        .reshape(-1, 5, order="F")[flat]
        .T
    )
    got = _smooth_components(w.copy(), mask, affine, 6.0, block=2)
    assert_allclose(got, expected, atol=1e-6)
    assert np.abs(got - w).max() > 0.1  # it did smooth


def test_prefetcher_yields_in_order_and_reraises():
    with Prefetcher(iter(range(50)), depth=3) as p:
        assert list(p) == list(range(50))

    def broken():
        yield 1
        raise ValueError("bad chunk")

    with Prefetcher(broken()) as p, pytest.raises(ValueError, match="bad chunk"):
        list(p)


def test_prefetcher_stops_when_closed_early():
    produced = []

    def slow():
        for i in range(10_000):
            produced.append(i)
            yield i

    with Prefetcher(slow(), depth=2) as p:
        next(iter(p))
    assert len(produced) < 100
