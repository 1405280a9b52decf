"""Generative model of resting-state BOLD with a planted, individual DLPFC target.

Each voxel's signal is a baseline ``S0`` (≈1000, fMRIPrep does not rescale) times percent
fluctuations of latent network time courses, plus noise and artefacts:

- **networks** (band-limited 0.01–0.15 Hz, unit variance), each a set of Gaussian nodes in grey
  matter: ``sgacc`` (subgenual cingulate at MNI (±6, 16, −10), medial PFC, posterior cingulate);
  ``task`` (task positive: intraparietal, anterior insula, right DLPFC, dorsal ACC), anticorrelated
  with ``sgacc`` (r = −0.4); ``fpn`` (an unrelated fronto-parietal network with a left-DLPFC
  *distractor* node); a ``dmn``-like network; and the **global signal** in all grey matter;
- the **individual target**: a node (Gaussian, σ = 5 mm, centred on a left-DLPFC grey-matter voxel
  and not restricted to grey matter, so that the planted point is the peak of the signal) whose time
  course is the negative of ``sgacc`` plus half of ``task`` — the spot a connectivity-guided method
  should find. It is displaced from the group location by ``shift_mm`` in a random direction; its
  amplitude and width are ``target_pct`` and ``target_sigma_mm``;
- optionally (``deviation_pct`` > 0, as in :data:`CALIBRATED`) the participant's **deviation
  field**: a smooth random field (FWHM ``deviation_fwhm_mm``), the same in every session, that
  carries the target time course over the whole cortex — individual, broad variation of the circuit
  connectivity around the node;
- **noise**: AR(1) in time (φ = ``noise_ar``), spatially smooth (FWHM ``noise_fwhm_mm``), with
  standard deviation ``S0 / tsnr``; slow scanner drift; aliased physiological (respiratory/cardiac)
  fluctuations strongest in CSF;
- **head motion**: six rigid-body parameters as random walks with occasional jumps; they leak into
  the signal through smooth voxel-wise coefficients and spin-history drops at jumps, and are written
  to the confounds with their derivatives and squares, framewise displacement, global, WM and CSF
  means.

The group circuit map (:func:`group_circuit_map`) is what a group study would see: negative on the
``sgacc`` nodes, positive on ``task`` nodes and on a broad blob at the *group* DLPFC location, plus
smooth map noise — so methods must use the individual data to get from the group spot to the
individual one.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import ndimage

#: The MNI152NLin6Asym 2 mm grid (templateflow ``res-02``), RAS.
MNI2_AFFINE = np.array([[2.0, 0, 0, -90], [0, 2.0, 0, -126], [0, 0, 2.0, -72], [0, 0, 0, 1]])
MNI2_SHAPE = (91, 109, 91)

#: Group-average left-DLPFC stimulation site of the simulated population (MNI mm).
GROUP_TARGET_MNI = (-40.0, 40.0, 30.0)

_NETWORKS = {
    "sgacc": [
        ((6, 16, -10), 5, 1.0),
        ((-6, 16, -10), 5, 1.0),
        ((0, 48, -6), 8, 0.6),
        ((0, -52, 28), 8, 0.5),
    ],
    "task": [
        ((40, -50, 44), 8, 0.8),
        ((-40, -50, 44), 8, 0.8),
        ((34, 20, 2), 6, 0.7),
        ((-34, 20, 2), 6, 0.7),
        ((42, 38, 30), 8, 0.7),
        ((4, 20, 40), 6, 0.6),
    ],
    "fpn": [
        ((-46, 24, 38), 6, 1.0),
        ((-50, -50, 40), 8, 0.8),
        ((50, -50, 40), 8, 0.6),
        ((-30, 50, 20), 6, 0.5),
    ],
    "dmn": [
        ((0, -60, 30), 9, 0.8),
        ((-46, -66, 32), 8, 0.7),
        ((46, -66, 32), 8, 0.7),
        ((-24, 30, 48), 6, 0.5),
    ],
}


@dataclass(frozen=True)
class SimulationParams:
    """Parameters of the generative model (defaults: realistic, not easy).

    Attributes
    ----------
    n_volumes : int
        Volumes per run.
    t_r : float
        Repetition time (s); 0.8–2.5 are typical.
    tsnr : float
        Temporal SNR of the noise in grey matter (S0 / noise SD), ~40–100 at 3 T with 2 mm voxels.
    signal_pct : float
        Network fluctuation amplitude at node centres (% of S0).
    target_pct : float
        Amplitude of the planted target node (% of S0).
    shift_mm : float or None
        Distance of the individual target from the group location; ``None`` draws it from 4–15 mm.
    noise_ar : float
        AR(1) coefficient of the noise.
    noise_fwhm_mm : float
        Spatial smoothness of the noise.
    motion_scale : float
        Scale of head motion (1 = typical adult patient: mean FD ≈ 0.15 mm, a few jumps > 0.5 mm).
    global_pct : float
        Global-signal amplitude (% of S0).
    fov : {"brain", "full"}
        ``full``: the whole 91×109×91 MNI 2 mm grid; ``brain``: that grid cropped to the brain.
    target_sigma_mm : float
        Gaussian width (σ) of the planted target node; broader nodes give flatter score maps.
    deviation_pct : float
        Amplitude (% of S0, grey matter) of the participant's *deviation field*: a spatially smooth
        Gaussian random field (unit SD) that carries the target time course everywhere in the
        cortex, so that the individual anticorrelation with sgACC varies smoothly and broadly around
        the planted node (0 = none, and no random numbers are drawn for it).
    deviation_fwhm_mm : float
        Spatial smoothness (FWHM) of the deviation field.

    See Also
    --------
    CALIBRATED : these parameters fitted to a real resting-state run and published reliability
    figures.
    """

    n_volumes: int = 300
    t_r: float = 2.0
    tsnr: float = 60.0
    signal_pct: float = 1.0
    target_pct: float = 1.0
    shift_mm: float | None = None
    noise_ar: float = 0.3
    noise_fwhm_mm: float = 5.0
    motion_scale: float = 1.0
    global_pct: float = 0.5
    fov: str = "brain"
    target_sigma_mm: float = 5.0
    deviation_pct: float = 0.0
    deviation_fwhm_mm: float = 20.0


#: The simulator calibrated to real data (``tmstarget simulate --preset calibrated``;
#: ``benchmarks/calibrate.py``). Fitted on fsaverage5, with the cleaning of ``tmstarget target``, to
#: the brainspace 0.3.0 tutorial run (one participant, 652 volumes at TR 1.4 s, cut into two
#: 326-volume halves; benchmarks/README.md, "Calibrating the simulator") by a coarse grid over 8
#: settings, one or two simulated participants each — a fit of noise and network *properties*, never
#: of a target location. The measures are those of :mod:`.calibration`; "real" is the run's value.
#: Provenance of each value:
CALIBRATED = SimulationParams(
    n_volumes=326,  # one half of the real run (7.6 min)
    t_r=1.4,  # the real run's TR
    # tSNR of the real run cannot be measured (its series are demeaned). 40 lowers the reproducible
    # seed-map variance towards the real 0.015 Fisher z² (tSNR 60: 0.018-0.082 over two
    # participants, tSNR 45: 0.038 on the stronger one) and the score-map r between halves towards
    # the real 0.39 (tSNR 60: 0.57-0.73).
    tsnr=40.0,
    # network amplitude: 1.0 gave a sgACC seed-map SD of 0.12-0.15 in the search region, 1.5 gives
    # 0.18-0.31
    # (real 0.181; 5th/95th percentiles real -0.18/0.38, simulated -0.19/0.38 on the same
    # participant)
    signal_pct=1.5,
    # lag-1 autocorrelation of the cleaned series: real 0.963; 0.3 gave 0.88, 0.85 0.93, 0.9-0.95
    # 0.94 (the band-passed signal sets the rest: the real series carry almost no power above 0.1
    # Hz)
    noise_ar=0.95,
    # smoothness of the cleaned, unsmoothed series along mesh edges: real FWHM 11.5 mm; 5 mm gave
    # 5.6, 10 mm
    # 10.8, 11 mm 12.1-12.3, 10.5 mm 11.5-11.8
    noise_fwhm_mm=10.5,
    # the individual deviation field: autocorrelation length of the sgACC seed map along the mesh,
    # real 6.1 mm (mean of the halves; 7.6 in the first); FWHM 20 mm gave >= 12.9 mm, 12 mm gives
    # 6.4-9.8 mm (10 calibrated participants: 8.5 ± 1.8); amplitude 0.55-0.8 gave the same seed-map
    # statistics on one participant (0.35 with network amplitude 1.0: no reproducible variance)
    deviation_pct=0.6,
    deviation_fwhm_mm=12.0,
    # a weaker, broader planted node (default 1.0 % and 5 mm): the default's split-half distance was
    # 5.9 mm against the real 34.6 mm (sgACC, robust) and its score-map r 0.04 against 0.39
    target_pct=0.5,
    target_sigma_mm=8.0,
)


@dataclass(frozen=True)
class Anatomy:
    """Grid, masks and voxel coordinates shared by all runs."""

    affine: np.ndarray
    shape: tuple[int, int, int]
    brain: np.ndarray
    gm: np.ndarray
    wm: np.ndarray
    csf: np.ndarray
    xyz: np.ndarray  # (V, 3) MNI mm of brain voxels, Fortran order of ``brain``


def _resample_template(img, affine, shape) -> np.ndarray:
    from nilearn.image import resample_img

    out = resample_img(
        img,
        target_affine=affine,
        target_shape=shape,
        interpolation="nearest",
        force_resample=True,
        copy_header=True,
    )
    return np.asanyarray(out.dataobj) > 0.5


@lru_cache(maxsize=2)
def anatomy(fov: str = "brain") -> Anatomy:
    """Build the MNI 2 mm grid with nilearn's MNI152 brain/GM/WM masks on it.

    The grid is the whole one or cropped to the brain.
    """
    from nilearn.datasets import load_mni152_brain_mask, load_mni152_gm_mask, load_mni152_wm_mask

    brain = _resample_template(load_mni152_brain_mask(resolution=2), MNI2_AFFINE, MNI2_SHAPE)
    affine, shape = MNI2_AFFINE.copy(), MNI2_SHAPE
    if fov == "brain":
        ijk = np.argwhere(brain)
        lo, hi = np.maximum(ijk.min(0) - 2, 0), np.minimum(ijk.max(0) + 3, MNI2_SHAPE)
        affine[:3, 3] = MNI2_AFFINE[:3, :3] @ lo + MNI2_AFFINE[:3, 3]
        shape = tuple(int(v) for v in hi - lo)
        brain = brain[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]]
    elif fov != "full":
        raise ValueError(f"fov must be 'brain' or 'full', got {fov!r}")
    gm = _resample_template(load_mni152_gm_mask(resolution=2), affine, shape) & brain
    wm = _resample_template(load_mni152_wm_mask(resolution=2), affine, shape) & brain & ~gm
    csf = brain & ~gm & ~wm
    flat = np.flatnonzero(brain.ravel(order="F"))
    ijk = np.column_stack(np.unravel_index(flat, shape, order="F"))
    xyz = ijk @ affine[:3, :3].T + affine[:3, 3]
    return Anatomy(affine, shape, brain, gm, wm, csf, xyz.astype(np.float32))


def _blob(xyz: np.ndarray, centre, sigma_mm: float) -> np.ndarray:
    d2 = ((xyz - np.asarray(centre, np.float32)) ** 2).sum(1)
    return np.exp(-0.5 * d2 / sigma_mm**2).astype(np.float32)


def network_maps(
    anat: Anatomy, target_mni, target_sigma_mm: float = 5.0, deviation: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """Spatial loading (V,) of each latent signal, including the individual ``target`` node.

    With a ``deviation`` field (V,), see :func:`deviation_field`, its grey-matter-weighted values
    are the loading of a ``deviation`` signal that follows the target time course.
    """
    flat = np.flatnonzero(anat.brain.ravel(order="F"))
    tissue = np.where(anat.gm.ravel(order="F")[flat], 1.0, 0.25).astype(np.float32)
    maps = {}
    for name, nodes in _NETWORKS.items():
        maps[name] = sum(a * _blob(anat.xyz, c, s) for c, s, a in nodes) * tissue
    # Not weighted by tissue: the planted point is then the true peak of the circuit signal.
    # Restricting the node to grey matter would move its centre of mass 1-3 mm towards the thicker
    # side of the cortex.
    maps["target"] = _blob(anat.xyz, target_mni, target_sigma_mm)
    maps["global"] = tissue.copy()
    if deviation is not None:
        maps["deviation"] = (deviation * tissue).astype(np.float32)
    return maps


def deviation_field(
    rng: np.random.Generator, anat: Anatomy, p: SimulationParams
) -> np.ndarray | None:
    """Return the participant's smooth deviation field (V,) of unit SD.

    It is None when ``p.deviation_pct`` is 0.

    Draw it once per participant and pass it to every session (:func:`simulate_participant`), so
    that the deviation is individual and stable while the noise is new.
    """
    if p.deviation_pct <= 0:
        return None
    fwhm_vox = p.deviation_fwhm_mm / float(np.sqrt((anat.affine[:3, :3] ** 2).sum(0)).mean())
    field = _smooth_field(rng, anat.shape, fwhm_vox, 1)[..., 0].ravel(order="F")[
        np.flatnonzero(anat.brain.ravel(order="F"))
    ]
    return (field / field.std()).astype(np.float32)


def _band_limited(
    rng: np.random.Generator, n: int, t_r: float, k: int, lo: float = 0.01, hi: float = 0.15
) -> np.ndarray:
    """K unit-variance time courses of length n with power between ``lo`` and ``hi`` Hz."""
    f = np.fft.rfftfreq(n, t_r)
    spec = rng.standard_normal((k, f.size)) + 1j * rng.standard_normal((k, f.size))
    spec *= ((f >= lo) & (f <= hi)) / np.sqrt(np.maximum(f, lo))  # pink-ish within the band
    x = np.fft.irfft(spec, n=n, axis=1)
    x -= x.mean(1, keepdims=True)
    return x / x.std(1, keepdims=True)


def latent_signals(rng: np.random.Generator, n: int, t_r: float) -> dict[str, np.ndarray]:
    """Draw the network time courses.

    ``task`` is anticorrelated with ``sgacc``, and the target follows −sgacc.
    """
    s = _band_limited(rng, n, t_r, 5)
    sig = {"sgacc": s[0], "fpn": s[2], "dmn": s[3], "global": s[4]}
    sig["task"] = -0.4 * s[0] + np.sqrt(1 - 0.16) * s[1]
    sig["target"] = (-s[0] + 0.5 * sig["task"]) / np.std(-s[0] + 0.5 * sig["task"])
    return sig


def motion_parameters(rng: np.random.Generator, n: int, scale: float = 1.0) -> np.ndarray:
    """Draw six rigid-body motion parameters per volume: random walks with jumps.

    The result is n × 6: trans_x/y/z in mm, rot_x/y/z in radians.
    """
    steps = rng.standard_normal((n, 6)) * np.array([0.02, 0.03, 0.03, 0.0004, 0.0004, 0.0003])
    jumps = rng.random(n) < 0.02
    steps[jumps] += rng.standard_normal((int(jumps.sum()), 6)) * np.array(
        [0.4, 0.6, 0.6, 0.006, 0.006, 0.004]
    )
    steps[0] = 0
    return np.cumsum(steps * scale, axis=0)


def framewise_displacement(motion: np.ndarray, radius_mm: float = 50.0) -> np.ndarray:
    """Power et al. (2012) framewise displacement (mm); 0 for the first volume."""
    d = np.abs(np.diff(motion, axis=0))
    fd = d[:, :3].sum(1) + radius_mm * d[:, 3:].sum(1)
    return np.concatenate([[0.0], fd])


def _smooth_field(rng: np.random.Generator, shape, fwhm_vox: float, n: int) -> np.ndarray:
    """N unit-variance smooth Gaussian random fields, shape (*shape, n)."""
    x = rng.standard_normal((*shape, n), dtype=np.float32)
    sigma = fwhm_vox / np.sqrt(8 * np.log(2))
    x = ndimage.gaussian_filter(x, sigma=(sigma, sigma, sigma, 0), mode="constant")
    return x / np.maximum(x.std(axis=(0, 1, 2), keepdims=True), 1e-12)


@dataclass
class RunParts:
    """The pieces of one simulated run before noise, in percent of the baseline (flat brain voxels).

    Attributes
    ----------
    flat : ndarray, shape (V,)
        Flat (Fortran-order) indices of the brain voxels in the grid.
    s0 : ndarray, shape (V,)
        Baseline intensity at the (single) echo time.
    bold : ndarray, shape (T, V)
        Neural (BOLD) fluctuations: networks, target, deviation and global signal.
    artefact, physio, drift : ndarray, shape (T, V)
        Non-neural fluctuations: motion (leak and spin history), aliased physiology, scanner drift.
    motion : ndarray, shape (T, 6)
    """

    flat: np.ndarray
    s0: np.ndarray
    bold: np.ndarray
    artefact: np.ndarray
    physio: np.ndarray
    drift: np.ndarray
    motion: np.ndarray


def run_parts(
    rng: np.random.Generator, anat: Anatomy, maps: dict[str, np.ndarray], p: SimulationParams
) -> RunParts:
    """Draw the signal and artefact terms of one run.

    These are the random draws :func:`simulate_run` makes before its noise.
    """
    n, flat = p.n_volumes, np.flatnonzero(anat.brain.ravel(order="F"))
    v = flat.size
    tissue_f = lambda m: m.ravel(order="F")[flat]  # noqa: E731
    s0 = np.float32(1000.0) * np.where(
        tissue_f(anat.gm), 1.0, np.where(tissue_f(anat.wm), 0.85, 1.2)
    ).astype(np.float32)
    sig = latent_signals(rng, n, p.t_r)
    if "deviation" in maps:
        sig["deviation"] = sig["target"]
    scale = {"target": p.target_pct, "global": p.global_pct, "deviation": p.deviation_pct}
    loadings = np.stack([maps[k] * scale.get(k, p.signal_pct) for k in sig])
    fluct = np.stack([sig[k] for k in sig]).T.astype(np.float32) @ loadings  # (T, V), percent
    motion = motion_parameters(rng, n, p.motion_scale)
    fd = framewise_displacement(motion)
    ijk = np.unravel_index(
        flat, anat.shape, order="F"
    )  # gathering rows avoids copying every field to F order
    leak = _smooth_field(rng, anat.shape, 8.0, 6)[ijk]  # (V, 6) smooth coefficients
    edge = ndimage.distance_transform_edt(anat.brain).ravel(order="F")[flat]
    edge_w = np.exp(-edge / 3.0).astype(np.float32)  # motion artefacts strongest at the brain edge
    mot = (motion - motion.mean(0)) / np.array([0.3, 0.3, 0.3, 0.005, 0.005, 0.005])
    artefact = (mot.astype(np.float32) @ leak.T) * (0.3 + 2.0 * edge_w) * 0.4  # percent
    artefact -= (
        np.minimum(fd, 3.0)[:, None].astype(np.float32) * (0.5 + 3.0 * edge_w)
    ) * 0.5  # spin history
    physio_t = np.sin(
        2 * np.pi * rng.uniform(0.02, 0.2) * np.arange(n) * p.t_r + rng.uniform(0, 6.3)
    ).astype(np.float32)
    physio = np.outer(physio_t, np.where(tissue_f(anat.csf), 1.5, 0.3).astype(np.float32))
    drift_t = np.linspace(-1, 1, n, dtype=np.float32)
    drift = np.outer(drift_t, rng.normal(0, 1.0, v).astype(np.float32)) + np.outer(
        drift_t**2, rng.normal(0, 0.5, v).astype(np.float32)
    )
    return RunParts(flat, s0, fluct, artefact, physio, drift, motion)


def ar_noise_blocks(rng: np.random.Generator, anat: Anatomy, p: SimulationParams, flat: np.ndarray):
    """Yield ``(t0, t1, eps)``: unit-SD AR(1), spatially smooth noise of volumes t0..t1-1.

    ``eps`` has shape (t1-t0, V).
    """
    n = p.n_volumes
    ijk = np.unravel_index(flat, anat.shape, order="F")
    fwhm_vox = p.noise_fwhm_mm / float(np.sqrt((anat.affine[:3, :3] ** 2).sum(0)).mean())
    prev = None
    a = np.float32(p.noise_ar)
    for t0 in range(0, n, 64):
        t1 = min(n, t0 + 64)
        eps = np.ascontiguousarray(
            _smooth_field(rng, anat.shape, fwhm_vox, t1 - t0)[ijk].T
        )  # (block, V)
        for j in range(
            t1 - t0
        ):  # the AR(1) recursion, in place: eps[j] becomes the noise of volume t0 + j
            if prev is not None:
                eps[j] = a * prev + np.sqrt(1 - a * a) * eps[j]
            prev = eps[j]
        yield t0, t1, eps


def simulate_run(
    rng: np.random.Generator, anat: Anatomy, maps: dict[str, np.ndarray], p: SimulationParams
) -> tuple[np.ndarray, np.ndarray]:
    """One run: 4-D float32 BOLD (X, Y, Z, T) and motion parameters (T × 6)."""
    parts = run_parts(rng, anat, maps, p)
    n, flat, s0 = p.n_volumes, parts.flat, parts.s0
    pct = parts.bold + parts.artefact + parts.physio + parts.drift
    del parts.bold, parts.artefact, parts.physio, parts.drift
    # AR(1), spatially smooth noise generated in blocks of volumes
    noise_sd = s0 / np.float32(p.tsnr)
    out = np.zeros((*anat.shape, n), np.float32, order="F")
    out_2d = out.reshape(-1, n, order="F")
    for t0, t1, eps in ar_noise_blocks(rng, anat, p, flat):
        out_2d[flat, t0:t1] = (s0 * (1 + pct[t0:t1] / 100) + noise_sd * eps).T
    return out, parts.motion


def group_circuit_map(rng: np.random.Generator, noise: float = 0.15) -> np.ndarray:
    """Draw the group depression-circuit map on the full MNI 2 mm grid.

    Values are t-like; positive means stimulate.
    """
    anat = anatomy("full")
    maps = network_maps(anat, GROUP_TARGET_MNI)
    group_dlpfc = _blob(anat.xyz, GROUP_TARGET_MNI, 8.0)
    values = -maps["sgacc"] + 0.6 * maps["task"] + 0.8 * group_dlpfc
    field = _smooth_field(rng, anat.shape, 6.0, 1)[..., 0].ravel(order="F")[
        np.flatnonzero(anat.brain.ravel(order="F"))
    ]
    values = values + noise * field
    values = 5.0 * values / np.abs(values).max()
    out = np.zeros(anat.shape, np.float32, order="F")
    out.reshape(-1, order="F")[np.flatnonzero(anat.brain.ravel(order="F"))] = values
    return out


def simulate_participant(
    rng: np.random.Generator,
    anat: Anatomy,
    target_mni,
    p: SimulationParams,
    n_runs: int,
    deviation: np.ndarray | None = None,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """``n_runs`` runs of one participant (one session) with the target node at ``target_mni``.

    ``deviation``: the participant's deviation field (:func:`deviation_field`); drawn here when not
    given and ``p.deviation_pct`` > 0 (pass the same field to each session of a participant).
    """
    if deviation is None:
        deviation = deviation_field(rng, anat, p)
    maps = network_maps(anat, target_mni, p.target_sigma_mm, deviation)
    return [simulate_run(rng, anat, maps, p) for _ in range(n_runs)]
