"""Tedana's T2* fit and optimal combination, a block of voxels at a time.

:func:`combine` gives what tedana's one-shot calls give on a whole (V, E, T) array — the adaptive
("dropout") mask of ``tedana.utils.make_adaptive_mask``, the log-linear ``tedana.decay.fit_decay``,
``tedana.decay.modify_t2s_s0_maps`` and ``tedana.combine.make_optcom`` — without tedana's working
copies of the whole array (its float copies of the log signal, the tiled weights, the products of
``np.average``): tedana stays the engine, it is only called on fewer voxels at a time.

Why the blocks give the same result (tedana 26):

* ``make_adaptive_mask`` reads the data through two per-(voxel, echo) summaries only: whether any
  sample is NaN or ≤ 0 (its base mask) and the temporal mean (``data.mean(axis=-1)``, its dropout
  thresholds). :func:`adaptive_mask` computes both per block and hands tedana a (V, E, 2) stand-in
  with the same two summaries, so that tedana's thresholds and counts are computed from identical
  numbers.
* ``fit_loglinear`` solves an independent least-squares problem per voxel (one design matrix of the
  echo times, one column of log signal per voxel), grouped by the voxel's count of good echoes.
* ``modify_t2s_s0_maps`` is called once on the whole T2* map (its floors are per voxel).
* ``make_optcom`` weights each voxel's echoes by its own T2*.

``tests/test_io_echo_combine.py`` checks the blocks against the one-shot calls.
"""

from __future__ import annotations

import numpy as np

#: float32 values of echo data per block (32 MB): tedana's working copies of a block (float64 log
#: signal, tiled weights) stay a few times this, whatever the run's length.
BLOCK_VALUES = 1 << 23


def block_voxels(n_echoes: int, n_volumes: int, chunk_voxels: int | None = None) -> int:
    """Voxels per block: ``chunk_voxels``, or as many as fit :data:`BLOCK_VALUES`."""
    if chunk_voxels is not None:
        if chunk_voxels < 1:
            raise ValueError(f"chunk_voxels must be >= 1, got {chunk_voxels}")
        return int(chunk_voxels)
    return max(1, BLOCK_VALUES // max(1, n_echoes * n_volumes))


def adaptive_mask(
    data: np.ndarray, chunk_voxels: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Tedana's dropout adaptive mask of (V, E, T) echoes, without tedana reading the whole array.

    Parameters
    ----------
    data : ndarray, shape (V, E, T)
    chunk_voxels : int, optional
        Voxels summarised at a time (default: :func:`block_voxels`).

    Returns
    -------
    good : ndarray of bool, shape (V,)
    counts : ndarray of int, shape (V,)
        ``tedana.utils.make_adaptive_mask(data, threshold=1, methods=["dropout"])``.
    """
    from tedana.utils import make_adaptive_mask

    n_vox, n_echoes, n_vols = data.shape
    step = block_voxels(n_echoes, n_vols, chunk_voxels)
    stand_in = np.empty((n_vox, n_echoes, 2), np.float32)
    for i in range(0, n_vox, step):
        block = data[i : i + step]
        mean = block.mean(axis=-1, dtype=np.float32)
        bad = np.isnan(block).any(axis=-1) | (block <= 0).any(axis=-1)
        # [m, m] and [0, 2m] both average to m exactly (float32); 0 flags tedana's "≤ 0" sample
        stand_in[i : i + step, :, 0] = np.where(bad, np.float32(0), mean)
        stand_in[i : i + step, :, 1] = np.where(bad, 2 * mean, mean)
    good, counts = make_adaptive_mask(stand_in, threshold=1, methods=["dropout"])
    return np.asarray(good, bool), np.asarray(counts)


def combine(
    data: np.ndarray,
    echo_times_ms,
    adaptive: bool,
    out: np.ndarray | None = None,
    chunk_voxels: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """T2* fit and optimal combination of (V, E, T) echoes with tedana, by blocks of voxels.

    Parameters
    ----------
    data : ndarray, shape (V, E, T)
        Float32 preferred (tedana's working precision; other types are converted per block).
    echo_times_ms : sequence of float, length E
    adaptive : bool
        As :func:`tmstarget.io.multiecho.combine_echoes`.
    out : ndarray, shape (V, T), optional
        Receives the combined series (any layout, e.g. the transpose of a (T, V) array).
    chunk_voxels : int, optional
        Voxels per block (default: :func:`block_voxels`); the result does not depend on it.

    Returns
    -------
    combined : ndarray, shape (V, T)
        ``out`` (float32 when allocated here).
    t2s_ms : ndarray, shape (V,)
    """
    from tedana.combine import make_optcom
    from tedana.decay import fit_decay, modify_t2s_s0_maps

    n_vox, n_echoes, n_vols = data.shape
    tes = np.asarray(echo_times_ms, np.float64)
    step = block_voxels(n_echoes, n_vols, chunk_voxels)
    if out is None:
        out = np.empty((n_vox, n_vols), np.float32)
    if adaptive:
        good, counts = adaptive_mask(data, step)
    else:
        good = np.ones(n_vox, bool)
        counts = np.full(n_vox, n_echoes, dtype=int)  # every echo usable everywhere
    t2s = np.zeros(n_vox)
    s0 = np.zeros(n_vox)
    for i in range(0, n_vox, step):
        sel = np.flatnonzero(good[i : i + step]) + i
        if sel.size:
            block = np.asarray(data[sel], np.float32)
            fitted, fitted_s0, *_ = fit_decay(
                block, tes, counts[sel], fittype="loglin", report=False
            )
            t2s[sel], s0[sel] = fitted, fitted_s0
    if adaptive:
        if good.any():
            fitted, *_ = modify_t2s_s0_maps(
                t2s=t2s[good], s0=s0[good], adaptive_mask=counts[good], tes=tes
            )
            t2s[good] = fitted
    else:
        t2s = np.clip(np.nan_to_num(t2s, nan=500.0, posinf=500.0), 1.0, 500.0)
    for i in range(0, n_vox, step):
        block = np.asarray(data[i : i + step], np.float32)
        combined = make_optcom(
            block, tes, counts[i : i + step], t2s=t2s[i : i + step], combmode="t2s"
        )
        out[i : i + step] = np.nan_to_num(combined) if adaptive else combined
    return out, t2s
