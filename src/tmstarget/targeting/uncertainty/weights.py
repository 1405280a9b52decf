"""Re-weightings of the kept volumes, and block lengths.

The re-weightings are halves, windows and circular block-bootstrap counts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

#: One array of non-negative weights per run, over that run's kept volumes.
Weights = list


# ------------------------------------------------------------------ re-weightings of the kept
# volumes
def circular_block_bootstrap(
    n_kept: Sequence[int], block_volumes: Sequence[int], n_resamples: int, rng: np.random.Generator
) -> list[Weights]:
    """Circular block bootstrap (Politis & Romano 1992) of each run's kept volumes, as counts.

    Each run is resampled on its own (blocks never cross runs): ``ceil(K/L)`` blocks of ``L``
    consecutive kept volumes, wrapping at the end, start at uniform positions; the first K drawn
    volumes are kept. Every volume has expected count 1.

    Returns
    -------
    list of Weights
        ``n_resamples`` re-weightings; each is a list of (K_i,) float count arrays.
    """
    per_run = []
    for k, block in zip(n_kept, block_volumes):
        block = int(min(max(1, block), k))
        starts = rng.integers(0, k, size=(n_resamples, -(-k // block)))
        idx = (
            (starts[:, :, None] + np.arange(block)).reshape(n_resamples, -1)[:, :k] % k
        ) + k * np.arange(n_resamples)[:, None]
        per_run.append(
            np.bincount(idx.ravel(), minlength=k * n_resamples)
            .reshape(n_resamples, k)
            .astype(float)
        )
    return [[c[b] for c in per_run] for b in range(n_resamples)]


def run_shares(weights: Weights) -> np.ndarray:
    """Return each run's weight ω_i in a re-weighting.

    The weight is the run's fraction of kept volumes used, relative to the largest: ``ω_i = f_i /
    max_j f_j`` with ``f_i = Σ_t c_it / K_i``; 0 for a run without weight. Full data, a bootstrap
    resample and runs used whole give ω = 1 (runs weigh the same, as in
    :func:`~tmstarget.targeting.components.finalize_components`); a sliver of a run left in a split
    half or a scan-length window weighs by the share of the run it holds instead of as much as a
    whole run.
    """
    frac = np.array([float(np.sum(c)) / max(len(c), 1) for c in weights])
    top = frac.max(initial=0.0)
    return frac / top if top > 0 else frac


def split_half_weights(base: Weights) -> tuple[Weights, Weights]:
    """Return the first ⌊N/2⌋ and the remaining of the N volumes with positive weight in ``base``.

    The volumes are counted in run order.
    """
    used = [np.asarray(b) > 0 for b in base]
    order = np.cumsum(np.concatenate(used)) - 1
    first = order < sum(int(u.sum()) for u in used) // 2
    parts = np.split(first, np.cumsum([u.size for u in used])[:-1])
    return [(u & f).astype(float) for u, f in zip(used, parts)], [
        (u & ~f).astype(float) for u, f in zip(used, parts)
    ]


def kept_times_s(
    sample_masks: Sequence[np.ndarray], t_r: Sequence[float], n_volumes: Sequence[int]
) -> list[np.ndarray]:
    """Return when each run's kept volumes were fully acquired.

    Times are in s from the start of the first run, with the runs back to back.
    """
    offsets = np.concatenate([[0.0], np.cumsum(np.multiply(n_volumes, t_r))])
    return [off + (np.asarray(m) + 1) * tr for m, tr, off in zip(sample_masks, t_r, offsets)]


def window_weights(times_s: Sequence[np.ndarray], end_s: float, start_s: float = 0.0) -> Weights:
    """Weight 1 on the kept volumes acquired within ``(start_s, end_s]``, 0 elsewhere."""
    return [((t > start_s + 1e-6) & (t <= end_s + 1e-6)).astype(float) for t in times_s]


def optimal_block_length(x: np.ndarray) -> float:
    """Block length (samples) for a circular block bootstrap of a series' mean.

    After Politis & White (2004), with the correction of Patton, Politis & White (2009): flat-top
    lag window with the bandwidth chosen where the autocorrelation stops being significant, ``b = (2
    Ĝ² / D̂)^⅓ n^⅓`` with ``D̂ = (4/3) ĝ(0)²``.
    """
    x = np.asarray(x, float) - np.mean(x)
    n = x.size
    kn = max(5, math.ceil(math.sqrt(math.log10(n))))
    m_max = min(math.ceil(math.sqrt(n)) + kn, n - 1)
    acov = np.array([x[: n - k] @ x[k:] / n for k in range(m_max + 1)])
    if acov[0] <= 0:
        return 1.0
    small = np.abs(acov[1:] / acov[0]) < 2.0 * math.sqrt(math.log10(n) / n)
    m_hat = next((m for m in range(m_max - kn + 1) if small[m : m + kn].all()), m_max)
    big_m = min(2 * max(m_hat, 1), m_max)
    k = np.arange(1, big_m + 1)
    lam = np.clip(2.0 * (1.0 - k / big_m), 0.0, 1.0)  # flat top: 1 up to M/2, then linear to 0
    g_hat = 2.0 * np.sum(lam * k * acov[k])
    g0 = acov[0] + 2.0 * np.sum(lam * acov[k])
    if g0 <= 0:
        return float(n) / 2
    return float(
        min(max((2.0 * g_hat**2 / (4.0 / 3.0 * g0**2)) ** (1 / 3) * n ** (1 / 3), 1.0), n / 2)
    )


def cleaned_noise_covariance(op) -> np.ndarray:
    """Covariance ``M = U S² Uᵀ`` (K × K, float64) of a run's cleaned noise.

    The run's raw noise is taken as white (unit variance). ``op`` is a
    :class:`~tmstarget.targeting.cleaning.CleaningOperator` (``basis`` U, ``projector`` S Vᵀ).
    """
    u = np.asarray(op.basis, np.float64)
    return (u * np.einsum("ij,ij->i", op.projector, op.projector, dtype=np.float64)) @ u.T


def variance_ratio(operators: Sequence, block_volumes: Sequence[int]) -> float:
    """Return the expected block-bootstrap variance ÷ sampling variance of a correlation.

    The correlation is between cleaned series. Cleaning (band-pass, confound regression) gives the
    cleaned noise long-range dependence that blocks cannot reproduce, so the bootstrap
    under-disperses. Reference model: white raw noise, so a run's cleaned noise has covariance ``M =
    L Lᵀ = U S² Uᵀ``; the numerator ``Σ_t x_t y_t`` of a correlation between two such series has
    variance ``Σ M_ts²`` and, under the circular block bootstrap (count covariance ``C_ts = (1 −
    d_ts/L)₊ − L/K``, d the circular distance), expected bootstrap variance ``Σ C_ts M_ts²``. Runs
    are weighted as :func:`~tmstarget.targeting.components.finalize_components` weighs them (unit
    variance each).
    """
    num = den = 0.0
    for op, block in zip(operators, block_volumes):
        m = cleaned_noise_covariance(op)
        m2 = (m / np.trace(m)) ** 2
        k = m.shape[0]
        length = min(max(1, int(block)), k)
        d = np.abs(np.subtract.outer(np.arange(k), np.arange(k)))
        c = np.clip(1.0 - np.minimum(d, k - d) / length, 0.0, None) - length / k
        num += float((c * m2).sum())
        den += float(m2.sum())
    return min(max(num / den, 1e-3), 1.0)
