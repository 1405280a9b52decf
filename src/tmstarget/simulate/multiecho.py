"""Multi-echo BOLD from the single-echo simulator's participants.

Participants, neural signals and motion are the same as in the single-echo simulator.

The physical model, per brain voxel ``v``, echo ``e`` and volume ``t``::

    S_e(t) = S0_v · (1 + a_v(t)) · exp(−TE_e · (R2*_v + ΔR2*_v(t))) + σ_th · ξ_e,v(t)
    ΔR2*_v(t) = −b_v(t) / TE_ref

- ``b`` (BOLD) is the single-echo model's neural fluctuation (networks, planted target, deviation
  field, global signal; fraction, not %) plus the BOLD-like share of its AR(1) spatially smooth
  noise. It enters R2*, so its fractional signal change is ``exp(TE·b/TE_ref) − 1 ≈ TE/TE_ref · b``:
  it grows with TE and equals the
  single-echo model's at ``TE = TE_ref`` (the linear BOLD relation ΔS/S = −TE·ΔR2*).
- ``a`` (non-BOLD) is the single-echo model's motion artefacts (leak and spin history), aliased
  physiology and scanner drift, plus the non-BOLD share of the AR(1) noise (an independent field of
  the same smoothness). It enters S0 and is the same fraction at every TE.
- ``ξ`` is thermal noise: white, independent per echo, with the same absolute SD at every TE, so the
  late, weak echoes have the lowest SNR.
- ``S0_v = s0_v · exp(TE_ref / T2*_v)`` with ``s0`` the single-echo baseline (1000 in grey matter),
  so an echo at ``TE_ref`` has the single-echo intensities; T2* is set per tissue (grey matter,
  white matter, CSF).

The noise at ``TE_ref`` has the single-echo model's total SD (``s0 / tsnr`` in grey matter), split
into thermal (share ``thermal_share`` of the variance) and physiological (the rest; share
``noise_bold_share`` of it BOLD-like), the two-component form of Krüger & Glover (2001, Magn Reson
Med 46:631–637). The split itself is a tmstarget assumption (see :class:`MultiEchoParams`).

Same seed, same draws: every random number of the single-echo run is drawn from ``rng`` in the same
order (the participants, targets, deviation fields, network time courses, motion, artefacts and
BOLD-like noise are those of ``tmstarget simulate`` with the same seed); the extra noise (non-BOLD
physiological share, thermal noise of each echo) comes from a separate generator ``noise_rng``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..multiecho import check_echo_times, optimal_combination
from .model import (
    Anatomy,
    SimulationParams,
    ar_noise_blocks,
    deviation_field,
    network_maps,
    run_parts,
)


@dataclass(frozen=True)
class MultiEchoParams:
    """Echo physics of the multi-echo simulator (3 T), each default with its source.

    Attributes
    ----------
    echo_times_ms : tuple of float
        Echo times. Default 14.5, 38.5, 62.5 ms: the three-echo 3 T example of ME-ICA's and tedana's
        command line (``-e 14.5 38.5 62.5``, the ``meica.py``/``tedana`` help text).
    t2star_gm_ms : float
        Effective T2* of cortical grey matter in 2–3 mm EPI voxels at 3 T. Default 35 ms, a
        tmstarget assumption inside the 30–45 ms range usually quoted for 3 T; it is what makes a
        single-echo TE of about 30 ms near-optimal (BOLD contrast ∝ TE·exp(−TE/T2*), maximal at TE =
        T2*; Posse et al. 1999).
    t2star_wm_ms : float
        White matter: 30 ms (tmstarget assumption: shorter than grey matter at 3 T).
    t2star_csf_ms : float
        CSF (and the other non-GM/WM brain voxels): 100 ms (tmstarget assumption: fluid decays
        slowly).
    reference_te_ms : float
        The echo time at which the single-echo model's fluctuations are expressed (its BOLD % change
        and noise); 30 ms, a typical 3 T single-echo TE (tmstarget assumption, consistent with the
        T2* above).
    thermal_share : float
        Share of the noise variance at ``reference_te_ms`` that is thermal: 0.5, i.e. thermal and
        physiological noise of similar size, as for 2–3 mm voxels at 3 T (tmstarget assumption; the
        σ² = σ0² + σp² form is Krüger & Glover 2001's).
    noise_bold_share : float
        Share of the physiological noise variance that is BOLD-like (in R2*): 0.5 (tmstarget
        assumption; Krüger & Glover 2001 separate BOLD and non-BOLD physiological noise but their
        proportions vary with region).
    """

    echo_times_ms: tuple[float, ...] = (14.5, 38.5, 62.5)
    t2star_gm_ms: float = 35.0
    t2star_wm_ms: float = 30.0
    t2star_csf_ms: float = 100.0
    reference_te_ms: float = 30.0
    thermal_share: float = 0.5
    noise_bold_share: float = 0.5

    def __post_init__(self) -> None:
        check_echo_times(self.echo_times_ms, what="echo_times_ms")
        for name in ("t2star_gm_ms", "t2star_wm_ms", "t2star_csf_ms", "reference_te_ms"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        for name in ("thermal_share", "noise_bold_share"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)}")


#: The multi-echo variant of :data:`~tmstarget.simulate.model.CALIBRATED` (``simulate --preset
#: calibrated --echoes N``): CALIBRATED's networks, noise and deviation (whose total noise is then
#: the noise at ``reference_te_ms``) with the default echo physics above. The echo physics is *not*
#: fitted to a real multi-echo run (none was available); only the single-echo part is calibrated.
CALIBRATED_MULTIECHO = MultiEchoParams()


def default_echo_times(n_echoes: int) -> tuple[float, ...]:
    """Return echo times for ``n_echoes`` echoes.

    These are the default three, or times evenly spaced over the same 14.5–62.5 ms span.
    """
    if n_echoes == 3:
        return MultiEchoParams().echo_times_ms
    if n_echoes < 2:
        raise ValueError("multi-echo needs at least 2 echoes")
    return tuple(float(round(v, 2)) for v in np.linspace(14.5, 62.5, n_echoes))


def t2star_map(anat: Anatomy, flat: np.ndarray, me: MultiEchoParams) -> np.ndarray:
    """Return the true T2* (ms) of each brain voxel by tissue, shape (V,)."""
    gm, wm = anat.gm.ravel(order="F")[flat], anat.wm.ravel(order="F")[flat]
    return np.where(gm, me.t2star_gm_ms, np.where(wm, me.t2star_wm_ms, me.t2star_csf_ms)).astype(
        np.float32
    )


def simulate_run_multiecho(
    rng: np.random.Generator,
    noise_rng: np.random.Generator,
    anat: Anatomy,
    maps: dict[str, np.ndarray],
    p: SimulationParams,
    me: MultiEchoParams,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One multi-echo run on the brain voxels.

    Parameters
    ----------
    rng : Generator
        The single-echo simulator's generator (the same draws in the same order as
        :func:`~.model.simulate_run`).
    noise_rng : Generator
        The generator of the extra, multi-echo-only noise.
    anat, maps, p
        As for :func:`~.model.simulate_run`.
    me : MultiEchoParams

    Returns
    -------
    echoes : ndarray, shape (E, V, T), float32
        Each echo's series on the brain voxels (flat, Fortran order of ``anat.brain``).
    flat : ndarray, shape (V,)
        Flat indices of those voxels in the grid.
    motion : ndarray, shape (T, 6)
    """
    parts = run_parts(rng, anat, maps, p)
    flat, n = parts.flat, p.n_volumes
    bold = parts.bold / np.float32(100)
    nonbold = (parts.artefact + parts.physio + parts.drift) / np.float32(100)
    del parts.bold, parts.artefact, parts.physio, parts.drift
    r2s = (1.0 / t2star_map(anat, flat, me)).astype(np.float32)  # 1/ms
    te_ref = np.float32(me.reference_te_ms)
    s0_te0 = parts.s0 * np.exp(te_ref * r2s)
    sd_phys = np.float32(np.sqrt(1.0 - me.thermal_share) / p.tsnr)
    sd_bold, sd_nonbold = (
        sd_phys * np.float32(np.sqrt(me.noise_bold_share)),
        sd_phys * np.float32(np.sqrt(1.0 - me.noise_bold_share)),
    )
    sd_thermal = np.float32(
        1000.0 * np.sqrt(me.thermal_share) / p.tsnr
    )  # grey-matter intensity at TE_ref is 1000
    tes = np.asarray(me.echo_times_ms, np.float32)
    echoes = np.empty((tes.size, flat.size, n), np.float32)
    for (t0, t1, eps), (_, _, eps2) in zip(
        ar_noise_blocks(rng, anat, p, flat), ar_noise_blocks(noise_rng, anat, p, flat)
    ):
        b = bold[t0:t1] + sd_bold * eps  # (block, V)
        a = np.float32(1) + nonbold[t0:t1] + sd_nonbold * eps2
        for e, te in enumerate(tes):
            s = (s0_te0 * np.exp(-te * r2s)) * a * np.exp((te / te_ref) * b)
            s += sd_thermal * noise_rng.standard_normal(
                s.shape, dtype=np.float32
            )  # drawn even when 0: same stream
            echoes[e, :, t0:t1] = s.T
    return echoes, flat, parts.motion


def iter_participant_multiecho(
    rng: np.random.Generator,
    noise_rng: np.random.Generator,
    anat: Anatomy,
    target_mni,
    p: SimulationParams,
    me: MultiEchoParams,
    n_runs: int,
    deviation: np.ndarray | None = None,
):
    """Yield the ``n_runs`` multi-echo runs of one participant one at a time.

    See :func:`simulate_participant_multiecho`.

    The draws are those of the list version: a caller may write each run before the next is
    simulated, holding one run's echoes in memory instead of all of them.
    """
    if deviation is None:
        deviation = deviation_field(rng, anat, p)
    maps = network_maps(anat, target_mni, p.target_sigma_mm, deviation)
    for _ in range(n_runs):
        echoes, flat, motion = simulate_run_multiecho(rng, noise_rng, anat, maps, p, me)
        combined, t2s = optimal_combination(echoes, me.echo_times_ms)
        yield {
            "echoes": echoes,
            "combined": combined,
            "t2star_ms": t2s.astype(np.float32),
            "flat": flat,
            "motion": motion,
        }


def simulate_participant_multiecho(
    rng: np.random.Generator,
    noise_rng: np.random.Generator,
    anat: Anatomy,
    target_mni,
    p: SimulationParams,
    me: MultiEchoParams,
    n_runs: int,
    deviation: np.ndarray | None = None,
) -> list[dict]:
    """Simulate ``n_runs`` multi-echo runs of one participant.

    They are drawn as :func:`~.model.simulate_participant` draws them.

    Returns
    -------
    list of dict
        Per run: ``echoes`` (E, V, T), ``combined`` (V, T, T2*-weighted optimal combination),
        ``t2star_ms`` (V,, fitted to the echoes), ``flat`` (V,) and ``motion`` (T, 6).
    """
    return list(
        iter_participant_multiecho(rng, noise_rng, anat, target_mni, p, me, n_runs, deviation)
    )


def to_grid(values: np.ndarray, flat: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """Scatter (V,) or (V, T) brain-voxel values into a zero grid (X, Y, Z[, T]), Fortran order."""
    tail = values.shape[1:]
    out = np.zeros((*shape, *tail), np.float32, order="F")
    out.reshape(-1, *tail, order="F")[flat] = values
    return out
