"""Tedana's combination by blocks of voxels equals tedana's one-shot calls (issue 27, memory).

The reference is the sequence of tedana calls on the whole (V, E, T) array that
``tmstarget target --me-denoise optcom`` made before it combined by blocks (and that tedana's
workflow makes for its ``desc-optcom_bold``).
"""

from __future__ import annotations

import json

import nibabel as nib
import numpy as np
import pytest
from tedana.combine import make_optcom
from tedana.decay import fit_decay, modify_t2s_s0_maps
from tedana.utils import make_adaptive_mask

from tmstarget.io.echo_combine import adaptive_mask, block_voxels, combine
from tmstarget.io.multiecho import combine_echoes, echo_series, read_echo_run

TES = (14.5, 38.5, 62.5)
V, T = 400, 40


def _echoes(seed: int = 0) -> np.ndarray:
    """(V, E, T) float32 decaying echoes with every adaptive-mask case.

    Voxels 0–29 drop out after echo 1, 30–59 after echo 2 (mean below a third of the exemplar's),
    60–69 are empty, 70–89 have one non-positive sample in echo 3 (positive mean: tedana's base mask
    counts 2 echoes there; a means-only array would count 3) and 90–99 in echo 1.
    """
    rng = np.random.default_rng(seed)
    t2s = rng.uniform(20, 60, V)
    s0 = rng.uniform(800, 1500, V)
    te = np.asarray(TES)[None, :, None]
    bold = 0.01 * rng.standard_normal((V, 1, T))
    data = s0[:, None, None] * np.exp(-te / t2s[:, None, None]) * np.exp(te / 30.0 * bold)
    data += 3.0 * rng.standard_normal(data.shape)
    data[0:30, 1:] *= 0.01
    data[30:60, 2:] *= 0.01
    data[60:70] = 0.0
    data[70:90, 2, 5] = -1.0
    data[90:100, 0, 7] = 0.0
    return data.astype(np.float32)


def _one_shot(data: np.ndarray, adaptive: bool) -> tuple[np.ndarray, np.ndarray]:
    """Tedana's calls on the whole array (the former ``combine_echoes``)."""
    tes = np.asarray(TES)
    if not adaptive:
        counts = np.full(len(data), data.shape[1], dtype=int)
        t2s, *_ = fit_decay(data, tes, counts, fittype="loglin", report=False)
        t2s = np.clip(np.nan_to_num(t2s, nan=500.0, posinf=500.0), 1.0, 500.0)
        return make_optcom(data, tes, counts, t2s=t2s, combmode="t2s"), t2s
    good, counts = make_adaptive_mask(data, threshold=1, methods=["dropout"])
    good = np.asarray(good, bool)
    t2s = np.zeros(len(data))
    fitted, s0, *_ = fit_decay(data[good], tes, counts[good], fittype="loglin", report=False)
    fitted, *_ = modify_t2s_s0_maps(t2s=fitted, s0=s0, adaptive_mask=counts[good], tes=tes)
    t2s[good] = fitted
    combined = make_optcom(data, tes, counts, t2s=t2s, combmode="t2s")
    return np.nan_to_num(combined), t2s


def test_adaptive_mask_from_means_is_tedanas():
    data = _echoes()
    good, counts = make_adaptive_mask(data, threshold=1, methods=["dropout"])
    for chunk in (None, 7, 1000):
        g, c = adaptive_mask(data, chunk)
        np.testing.assert_array_equal(c, counts)
        np.testing.assert_array_equal(g, good)
    # every case is present, and the non-positive samples matter (means alone would differ)
    assert set(np.unique(counts)) == {0, 1, 2, 3}
    assert (counts[70:90] == 2).all() and (counts[90:100] == 0).all()
    _, means_only = make_adaptive_mask(data.mean(-1, keepdims=True), methods=["dropout"])
    assert (means_only[70:90] > counts[70:90]).sum() >= 15


@pytest.mark.parametrize("adaptive", [True, False])
def test_blocks_equal_the_one_shot_calls(adaptive):
    data = _echoes()
    expected, expected_t2s = _one_shot(data, adaptive)
    results = [combine(data, TES, adaptive, chunk_voxels=c) for c in (37, 128, V, None)]
    for combined, t2s in results:
        assert combined.dtype == np.float32 and combined.shape == (V, T)
        np.testing.assert_allclose(t2s, expected_t2s, rtol=1e-6)
        np.testing.assert_allclose(combined, expected, rtol=1e-6, atol=1e-4)
    for combined, t2s in results[1:]:  # the block size does not change the result
        np.testing.assert_allclose(combined, results[0][0], rtol=1e-6, atol=1e-4)
        np.testing.assert_allclose(t2s, results[0][1], rtol=1e-9)
    if adaptive:
        assert (results[0][0][60:70] == 0).all() and (results[0][1][60:70] == 0).all()
        assert np.abs(results[0][0][:60]).min() > 0  # dropout voxels are combined from echoes 1–2


def test_combine_echoes_keeps_its_layout_and_writes_into_out():
    data = _echoes(1)
    expected, expected_t2s = _one_shot(data, True)
    combined, t2s = combine_echoes(np.moveaxis(data, 1, 0), TES, adaptive=True, chunk_voxels=50)
    np.testing.assert_allclose(combined, expected, rtol=1e-6, atol=1e-4)
    np.testing.assert_allclose(t2s, expected_t2s, rtol=1e-6)
    series = np.zeros((T, V), np.float32)  # (T, V), written through its transpose
    combine(data, TES, True, out=series.T, chunk_voxels=64)
    np.testing.assert_allclose(series, expected.T, rtol=1e-6, atol=1e-4)


def test_block_size_follows_the_run_length():
    assert block_voxels(3, 300) == (1 << 23) // 900
    assert block_voxels(3, 1700) == (1 << 23) // 5100  # ~1,600 voxels: ~100 MB of float64 copies
    assert block_voxels(3, 300, 16) == 16
    with pytest.raises(ValueError):
        block_voxels(3, 300, 0)


def test_optcom_series_streams_the_echoes_into_the_combination(tmp_path):
    """``echo_series(…, "optcom")`` from files (more than one 32-volume chunk) = the combination."""
    shape, n_vols = (8, 10, 5), 70
    rng = np.random.default_rng(3)
    mask = rng.random(shape) > 0.3
    flat = np.flatnonzero(mask.ravel(order="F"))
    data = np.concatenate([_echoes(4), _echoes(5)])[:, :, :T]
    data = np.concatenate([data, data[:, :, : n_vols - T] * 1.01], axis=2)[: flat.size]
    paths = []
    for e, te in enumerate(TES):
        vol = np.zeros((int(np.prod(shape)), n_vols), np.float32)
        vol[flat] = data[:, e]
        p = tmp_path / f"sub-01_task-rest_echo-{e + 1}_space-MNI152NLin6Asym_desc-preproc_bold.nii"
        nib.save(nib.Nifti1Image(vol.reshape(*shape, n_vols, order="F"), np.eye(4)), str(p))
        p.with_suffix(".json").write_text(json.dumps({"EchoTime": te / 1000, "RepetitionTime": 2}))
        paths.append(p)
    series = echo_series(read_echo_run(paths), mask, np.eye(4), "optcom", seed=0)
    expected, _ = _one_shot(data, True)
    assert series.method == "optcom" and series.data.shape == (n_vols, flat.size)
    assert series.data.flags.c_contiguous and series.data.dtype == np.float32
    np.testing.assert_allclose(series.data, expected.T, rtol=1e-6, atol=1e-4)
