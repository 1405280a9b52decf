"""Multi-echo fMRI: checking echo times, fitting T2* and the T2*-weighted optimal combination.

Pure array functions (no files). The optimal combination weights each echo by ``TE · exp(−TE /
T2*)``, the weighting of Posse et al. (1999, Magn Reson Med 42:87–97, "Enhancement of BOLD-contrast
sensitivity by single-shot multi-echo functional MR imaging"), which tedana calls ``t2s``
combination; Poser et al. (2006, Magn Reson Med 55:1227–1235) weight by ``TE · tSNR`` instead
(PAID). T2* comes from a log-linear fit of the temporal mean of the echoes, ``log S(TE) = log S0 −
TE / T2*``, as tedana's ``loglin`` decay fit does.

These functions are what the simulator writes as the combined series (as fMRIPrep does with tedana's
``t2smap``); the ME-ICA denoising of issue 27 is tedana's, not re-implemented here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .exceptions import InputError

#: T2* assigned where the log-linear fit gives no decay (non-negative slope or non-finite): long, so
#: the weights grow with TE as for a slowly decaying voxel; and the floor below which a fit is not
#: trusted (ms).
T2STAR_MAX_MS = 500.0
T2STAR_MIN_MS = 1.0


def check_echo_times(
    echo_times_ms: Sequence[float], n_echoes: int | None = None, what: str = "--echo-times-ms"
) -> tuple[float, ...]:
    """Validate multi-echo echo times (ms): finite, positive, strictly increasing, at least two.

    Parameters
    ----------
    echo_times_ms : sequence of float
        Echo times in milliseconds, in acquisition order.
    n_echoes : int, optional
        The number of echoes they must describe (e.g. ``--echoes``).
    what : str
        How the user gave them, for the message.

    Returns
    -------
    tuple of float

    Raises
    ------
    InputError
        One message per problem, naming the offending value and how to fix it.
    """
    tes = [float(t) for t in echo_times_ms]
    if n_echoes is not None and n_echoes < 2:
        raise InputError(
            f"{n_echoes} echo is not multi-echo data — use "
            "--echoes 2 or more, or drop --echoes for single-echo "
            "data"
        )
    if n_echoes is not None and len(tes) != n_echoes:
        raise InputError(
            f"{what} gives {len(tes)} echo time(s) for {n_echoes} "
            "echoes — give exactly one echo time per echo"
        )
    if len(tes) < 2:
        raise InputError(
            f"{what} gives {len(tes)} echo time(s); multi-echo "
            "data need at least 2 — give one echo time per "
            "echo"
        )
    for t in tes:
        if not math.isfinite(t):
            raise InputError(
                f"{what}: echo time {t} is not a finite number "
                "— give echo times in ms, e.g. 14.5 38.5 62.5"
            )
        if t <= 0:
            raise InputError(
                f"{what}: echo time {t:g} ms is not positive "
                "— give echo times in ms, e.g. 14.5 38.5 62.5"
            )
    for a, b in zip(tes, tes[1:]):
        if a == b:
            raise InputError(
                f"{what}: echo time {a:g} ms is given twice — each echo has its own echo time"
            )
        if b < a:
            raise InputError(
                f"{what}: echo times {a:g} then {b:g} ms are "
                "out of order — list them from the first echo "
                "to the last"
            )
    if tes[0] < 1:
        raise InputError(
            f"{what}: echo time {tes[0]:g} ms is too short "
            "for BOLD — give echo times in ms (BIDS sidecars "
            "store seconds)"
        )
    if tes[-1] > 200:
        raise InputError(
            f"{what}: echo time {tes[-1]:g} ms is not a plausible "
            "BOLD echo time — give echo times in ms (not "
            "µs), at most 200"
        )
    return tuple(tes)


def fit_t2star(means: np.ndarray, echo_times_ms: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Log-linear fit of mono-exponential decay to per-echo signals.

    Parameters
    ----------
    means : ndarray, shape (E, V)
        Signal of each echo (typically the temporal mean), positive.
    echo_times_ms : sequence of float, length E

    Returns
    -------
    t2star_ms : ndarray, shape (V,)
        Clipped to ``[T2STAR_MIN_MS, T2STAR_MAX_MS]``; voxels without decay get the maximum.
    s0 : ndarray, shape (V,)
        Extrapolated signal at TE = 0 (0 where a voxel has a non-positive echo).
    """
    te = np.asarray(echo_times_ms, np.float64)
    y = np.asarray(means, np.float64)
    ok = np.all(y > 0, axis=0)
    logy = np.log(np.where(ok, y, 1.0))
    tc = te - te.mean()
    slope = (tc[:, None] * (logy - logy.mean(0))).sum(0) / (tc**2).sum()
    intercept = logy.mean(0) - slope * te.mean()
    with np.errstate(divide="ignore"):
        t2s = np.where((slope < 0) & ok, -1.0 / np.where(slope < 0, slope, -1.0), T2STAR_MAX_MS)
    t2s = np.clip(t2s, T2STAR_MIN_MS, T2STAR_MAX_MS)
    return t2s, np.where(ok, np.exp(intercept), 0.0)


def optcom_weights(t2star_ms: np.ndarray, echo_times_ms: Sequence[float]) -> np.ndarray:
    """Compute Posse et al. (1999) weights ``TE · exp(−TE / T2*)`` per echo and voxel.

    The weights of each voxel sum to 1; shape (E, V).
    """
    te = np.asarray(echo_times_ms, np.float64)[:, None]
    w = te * np.exp(-te / np.asarray(t2star_ms, np.float64)[None, :])
    return w / w.sum(0, keepdims=True)


def optimal_combination(
    echoes: np.ndarray, echo_times_ms: Sequence[float]
) -> tuple[np.ndarray, np.ndarray]:
    """T2*-weighted combination of echo time series.

    Parameters
    ----------
    echoes : ndarray, shape (E, V, T)
    echo_times_ms : sequence of float, length E

    Returns
    -------
    combined : ndarray, shape (V, T), float32
    t2star_ms : ndarray, shape (V,)
        The T2* fitted to the temporal means and used for the weights.
    """
    t2s, _ = fit_t2star(echoes.mean(axis=2, dtype=np.float64), echo_times_ms)
    w = optcom_weights(t2s, echo_times_ms).astype(np.float32)
    combined = np.zeros(echoes.shape[1:], np.float32)
    for e in range(echoes.shape[0]):
        combined += w[e][:, None] * echoes[e]
    return combined, t2s
