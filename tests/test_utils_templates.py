"""MNI152 masks on a grid: cached in memory and on disk, equal to a fresh resampling."""

from __future__ import annotations

import numpy as np
import pytest

from tmstarget._utils import templates as regions


@pytest.fixture
def grid():
    affine = np.array([[-4.0, 0, 0, 90], [0, 4, 0, -126], [0, 0, 4, -72], [0, 0, 0, 1]])
    return affine, (46, 55, 46)


def test_template_is_read_back_from_disk_unchanged(grid, tmp_path, monkeypatch):
    monkeypatch.setenv("TMSTARGET_DATA", str(tmp_path))
    monkeypatch.setattr(regions, "_TEMPLATES", {})
    affine, shape = grid
    fresh = regions._resample_template("gm", affine, shape)
    first = regions.mni_mask_on_grid("gm", affine, shape)
    assert np.array_equal(first, fresh) and 1000 < fresh.sum() < fresh.size
    assert len(list((tmp_path / "templates").glob("gm-*.npy"))) == 1
    monkeypatch.setattr(regions, "_TEMPLATES", {})  # a new process: only the disk copy is left

    def refuse(*args):
        raise AssertionError("resampled again instead of reading the cache")

    monkeypatch.setattr(regions, "_resample_template", refuse)
    again = regions.mni_mask_on_grid("gm", affine, shape)
    assert np.array_equal(again, fresh)
    again[:] = False  # callers get a copy: the cached mask is not changed through it
    assert np.array_equal(regions.mni_mask_on_grid("gm", affine, shape), fresh)


def test_a_damaged_cache_file_is_recomputed(grid, tmp_path, monkeypatch):
    monkeypatch.setenv("TMSTARGET_DATA", str(tmp_path))
    monkeypatch.setattr(regions, "_TEMPLATES", {})
    affine, shape = grid
    fresh = regions.mni_mask_on_grid("brain", affine, shape)
    (path,) = (tmp_path / "templates").glob("brain-*.npy")
    path.write_bytes(b"not an array")
    monkeypatch.setattr(regions, "_TEMPLATES", {})
    assert np.array_equal(regions.mni_mask_on_grid("brain", affine, shape), fresh)
    assert np.array_equal(np.load(path), fresh)  # and written again
