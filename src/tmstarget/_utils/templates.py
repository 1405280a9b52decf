"""Nilearn's MNI152 masks on a data grid, cached in memory and on disk.

Loading a bundled template costs about a second (nilearn derives the 2 mm masks from the 1 mm
image), and the search region (:mod:`tmstarget.targeting.regions`) and the coil optimiser's grey
matter (:mod:`tmstarget.coil.optimize`) need the same masks on the same grids for every participant.
"""

from __future__ import annotations

import numpy as np

#: Templates resampled onto grids in this process, by (template, affine, shape).
_TEMPLATES: dict[tuple, np.ndarray] = {}


def mni_mask_on_grid(which: str, affine: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """Nilearn's bundled MNI152 mask (``"gm"`` or ``"brain"``) resampled (nearest) onto a grid.

    Loading the template costs about a second (nilearn derives the 2 mm mask from the 1 mm image),
    so each result is kept in memory and on disk (``$TMSTARGET_DATA/templates``, keyed by the
    template, the grid and nilearn's version); a failed disk write only logs.
    """
    import hashlib

    key = (which, np.asarray(affine, float).round(6).tobytes(), tuple(int(n) for n in shape))
    if key in _TEMPLATES:
        return _TEMPLATES[key].copy()
    import nilearn

    digest = hashlib.sha1(repr((key, nilearn.__version__)).encode()).hexdigest()[:16]
    path = _templates_dir() / f"{which}-{digest}.npy"
    mask = _read_cached(path, tuple(shape))
    if mask is None:
        mask = _resample_template(which, affine, shape)
        _write_cached(path, mask)
    _TEMPLATES[key] = mask
    return mask.copy()


def _resample_template(which: str, affine: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    from nilearn.datasets import load_mni152_brain_mask, load_mni152_gm_mask
    from nilearn.image import resample_img

    img = (
        load_mni152_gm_mask(resolution=2) if which == "gm" else load_mni152_brain_mask(resolution=2)
    )
    out = resample_img(
        img,
        target_affine=affine,
        target_shape=tuple(shape),
        interpolation="nearest",
        force_resample=True,
        copy_header=True,
    )
    return np.asanyarray(out.dataobj) > 0.5


def _templates_dir():
    from .._utils.cache import cache_dir

    return cache_dir() / "templates"


def _read_cached(path, shape: tuple[int, ...]) -> np.ndarray | None:
    try:
        mask = np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        return None
    return mask if mask.shape == shape and mask.dtype == bool else None


def _write_cached(path, mask: np.ndarray) -> None:
    import logging
    import os
    import tempfile

    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npy.tmp")
        with os.fdopen(fd, "wb") as f:
            np.save(f, mask, allow_pickle=False)
        os.replace(tmp, path)
    except OSError as exc:
        logging.getLogger("tmstarget").debug("template not cached at %s (%s)", path, exc)
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
