"""Cleaning: the compressed operator reproduces nilearn.signal.clean.

It also removes confounds and keeps the band.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose

from tmstarget.exceptions import InputError
from tmstarget.targeting.cleaning import (
    cleaning_matrix,
    compress_operator,
    normalize_columns,
    run_operator,
)


def _nilearn_clean(x, t_r, confounds, sample_mask):
    from nilearn.signal import clean

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return clean(
            x,
            detrend=True,
            standardize=False,
            confounds=confounds,
            standardize_confounds=True,
            sample_mask=sample_mask,
            filter="butterworth",
            low_pass=0.1,
            high_pass=0.01,
            t_r=t_r,
        )


@pytest.mark.parametrize("censor", [False, True])
def test_operator_equals_nilearn_clean(rng, censor):
    t, v, t_r = 240, 37, 2.0
    x = rng.standard_normal((t, v)).cumsum(0) * 0.2 + rng.standard_normal((t, v))
    conf = rng.standard_normal((t, 8))
    keep = (
        np.setdiff1d(np.arange(t), [30, 31, 32, 33, 34, 35, 100, 190]) if censor else np.arange(t)
    )
    mask = keep if censor else None
    expected = _nilearn_clean(x, t_r, conf, mask)
    mat = cleaning_matrix(t, t_r, conf, mask)
    assert mat.shape == (keep.size, t)
    assert_allclose(mat @ x, expected, atol=1e-10 * np.abs(expected).max())
    op = compress_operator(mat, keep)
    w = op.projector.astype(np.float64) @ x
    # all inner products between voxels are preserved (what correlations need)
    assert_allclose(
        w.T @ w, expected.T @ expected, rtol=0, atol=1e-6 * np.abs(expected.T @ expected).max()
    )
    # and the cleaned series are recovered through the basis
    assert_allclose(op.basis @ w, expected, atol=1e-4 * np.abs(x).max())  # truncation at rtol=1e-4
    if censor:  # censored volumes do not influence the result
        assert np.abs(mat[:, [30, 100, 190]]).max() < 1e-12


def test_planted_confound_removed_and_band_kept(rng):
    t, t_r = 400, 1.5
    time = np.arange(t) * t_r
    in_band = np.sin(2 * np.pi * 0.05 * time)  # 0.05 Hz: inside 0.01-0.1 Hz
    too_fast = np.sin(2 * np.pi * 0.25 * time)  # 0.25 Hz: above the band
    too_slow = np.sin(2 * np.pi * 0.004 * time)  # drift below the band
    confound = rng.standard_normal(t).cumsum() * 0.1 + rng.standard_normal(t)
    x = np.column_stack([in_band + 3 * confound, too_fast, too_slow, in_band])
    mat = cleaning_matrix(t, t_r, confound[:, None], None)
    y = mat @ x
    clean_conf = mat @ confound
    # the planted confound is gone: what is left is uncorrelated with the (filtered) confound
    assert abs(np.corrcoef(y[:, 0], clean_conf)[0, 1]) < 0.05
    # the band is kept: the in-band sinusoid survives with > 90% of its amplitude and the shape
    # intact
    assert np.corrcoef(y[:, 3], in_band)[0, 1] > 0.98
    assert 0.9 < y[50:-50, 3].std() / in_band.std() < 1.1
    # out-of-band signals are removed
    assert y[50:-50, 1].std() < 0.05 * too_fast.std()
    assert y[50:-50, 2].std() < 0.2 * too_slow.std()


def test_too_few_volumes_after_censoring():
    with pytest.raises(InputError, match="volumes left after censoring"):
        run_operator(200, 2.0, None, np.arange(50), min_volumes=100, name="run-1")


def test_normalize_columns_flags_constant_voxels(rng):
    w = rng.standard_normal((20, 5)).astype(np.float32)
    w[:, 2] = 0
    out, ok = normalize_columns(w)
    assert ok.tolist() == [True, True, False, True, True]
    assert_allclose(np.linalg.norm(out[:, ok], axis=0), 1.0, rtol=1e-6)
    assert np.all(out[:, 2] == 0)


def test_run_operator_gives_pearson_correlations(rng):
    t, t_r = 200, 2.0
    x = rng.standard_normal((t, 6)).cumsum(0) * 0.3 + rng.standard_normal((t, 6)) + 1000.0
    conf = rng.standard_normal((t, 4))
    keep = np.setdiff1d(np.arange(t), np.r_[20:30, 150:153])
    op = run_operator(t, t_r, conf, keep)
    w = op.projector.astype(np.float64) @ x
    w /= np.linalg.norm(w, axis=0)
    expected = np.corrcoef(_nilearn_clean(x, t_r, conf, keep), rowvar=False)
    assert_allclose(
        w.T @ w, expected, atol=2e-5
    )  # float32 projector on data with a baseline of 1000
