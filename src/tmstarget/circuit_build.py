"""Group circuit builder: the voxel-wise map of how site connectivity relates to improvement.

Following Weigand et al. 2018 (Biol Psychiatry) and Siddiqi et al. 2021 (Am J Psychiatry): each
stimulation site (a sphere at the site's MNI coordinate) gets a whole-brain seed map (Fisher z of
the Pearson correlation with the site's mean time course); then, at every voxel, the site maps are
correlated with the participants' clinical improvement across sites. The result is positive where
stronger connectivity to the site went with more improvement — the end of the circuit to stimulate,
as ``--circuit PATH`` expects (for depression TMS it is negative in the subgenual cingulate).

Seed maps come from resting-state data in two ways:

``normative`` (default)
    every site's map is the average over a connectome of participants (any rest data, e.g. the same
    cohort's or healthy controls'), as in the papers, which used a 1000-participant normative
    connectome;
``individual``
    each site's map comes from the rest data of the participant who was stimulated there.

Everything works on compressed cleaned data (:mod:`tmstarget.targeting.cleaning`): a site map is
``zᵀ W`` with ``z`` the site's unit-norm mean component vector, so one participant's maps for S
sites cost one (S × r)(r × V) product. Only :func:`participant_site_maps` reads data (through
:func:`tmstarget.targeting.prepare`); nothing here writes files.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from ._utils.ids import participant_label
from .exceptions import InputError
from .targeting import Components
from .targeting.circuits import sphere_mask

logger = logging.getLogger(__name__)

#: Default site sphere radius (mm).
SITE_RADIUS_MM = 10.0
MODES = ("normative", "individual")


@dataclass(frozen=True)
class Sites:
    """Stimulation sites and outcomes.

    Attributes
    ----------
    participants : tuple of str
        Label of the participant stimulated at each site (without ``sub-``).
    coords : ndarray, shape (S, 3)
        MNI mm.
    improvement : ndarray, shape (S,)
        Clinical improvement (any unit, higher = better, e.g. percent MADRS reduction).
    """

    participants: tuple[str, ...]
    coords: np.ndarray
    improvement: np.ndarray


_ALIASES = {
    "participant": ("participant", "participant_id", "sub"),
    "x": ("x", "x_mm"),
    "y": ("y", "y_mm"),
    "z": ("z", "z_mm"),
    "improvement": ("improvement", "improvement_pct", "response"),
}


def sites_from_table(table, name: str = "sites table", min_sites: int = 5) -> Sites:
    """Validate a sites table (pandas DataFrame with participant, x, y, z, improvement columns).

    Raises
    ------
    InputError
        Missing columns, non-numeric or missing values, too few sites, or no variation in
        improvement.
    """
    cols = {}
    for key, names in _ALIASES.items():
        found = [c for c in table.columns if str(c).lower() in names]
        if not found:
            raise InputError(
                f"{name} has no '{key}' column (columns: "
                f"{', '.join(map(str, table.columns))}) — use "
                "participant, x, y, z, improvement"
            )
        cols[key] = found[0]
    try:
        values = table[[cols[k] for k in ("x", "y", "z", "improvement")]].to_numpy(float)
    except ValueError as exc:
        raise InputError(
            f"{name}: x, y, z and improvement must be numbers ({exc}) — fix the table"
        ) from exc
    bad = ~np.isfinite(values).all(axis=1)
    if bad.any():
        raise InputError(
            f"{name}: row {int(np.flatnonzero(bad)[0]) + 2} "
            "has a missing or non-numeric value — fill it "
            "in or drop the row"
        )
    if len(values) < min_sites:
        raise InputError(
            f"{name} has {len(values)} site(s), need >= {min_sites} "
            "to correlate connectivity with improvement — "
            "add sites"
        )
    if np.ptp(values[:, 3]) == 0:
        raise InputError(
            f"{name}: every improvement is {values[0, 3]:g} "
            "— the map needs sites with different outcomes"
        )
    labels = tuple(
        participant_label(p, f"{name} row {i + 2}: participant")
        for i, p in enumerate(table[cols["participant"]])
    )
    return Sites(labels, values[:, :3], values[:, 3])


def site_seed_maps(
    comp: Components, coords: np.ndarray, radius_mm: float = SITE_RADIUS_MM
) -> np.ndarray:
    """Fisher-z seed maps of sites over a participant's voxels.

    Parameters
    ----------
    comp : Components
        A participant's compressed cleaned data (unit-norm columns).
    coords : ndarray, shape (S, 3)
        Site centres (MNI mm).
    radius_mm : float
        Site sphere radius.

    Returns
    -------
    ndarray, shape (S, V), float32
        ``arctanh`` of the correlation of every voxel with each site's mean time course; rows of
        sites with no usable voxel in this participant's brain are NaN.
    """
    w = comp.w
    seeds = np.zeros((w.shape[0], len(coords)))
    ok = np.zeros(len(coords), bool)
    for s, c in enumerate(coords):
        idx = comp.columns(sphere_mask(comp.affine, comp.brain.shape, c, radius_mm))
        idx = idx[comp.valid[idx]]
        if idx.size:
            tc = w[:, idx].astype(np.float64).mean(axis=1)
            norm = np.linalg.norm(tc)
            ok[s] = norm > 0
            seeds[:, s] = tc / norm if norm > 0 else 0.0
    maps = (seeds.T.astype(np.float32) @ w).astype(np.float32)
    np.clip(maps, -0.999999, 0.999999, out=maps)
    maps = np.arctanh(maps)
    maps[:, ~comp.valid] = np.nan
    maps[~ok] = np.nan
    return maps


class MapAverager:
    """Running mean of per-participant site maps on a common grid.

    Voxels are Fortran-order flat indices into the grid.

    Parameters
    ----------
    n_sites : int
    shape : tuple of int
        Grid shape; participants' brains may differ, a voxel's mean uses those that cover it.
    """

    def __init__(self, n_sites: int, shape: tuple[int, int, int]):
        self.shape = tuple(shape)
        size = int(np.prod(shape))
        self.total = np.zeros((n_sites, size), np.float64)
        self.count = np.zeros((n_sites, size), np.int32)

    def add(self, flat: np.ndarray, maps: np.ndarray, rows: np.ndarray | None = None) -> None:
        """Add maps (k × V) over voxels ``flat`` to site rows ``rows`` (default all sites)."""
        rows = np.arange(self.total.shape[0]) if rows is None else np.asarray(rows)
        ok = np.isfinite(maps)
        for i, r in enumerate(rows):
            self.total[r, flat] += np.where(ok[i], maps[i], 0.0)
            self.count[r, flat] += ok[i]

    def mean(self, min_fraction: float = 0.5) -> np.ndarray:
        """Return the (S × X·Y·Z) mean maps.

        NaN where fewer than ``min_fraction`` of a site's maps cover a voxel.
        """
        most = self.count.max(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = self.total / self.count
        out[(self.count == 0) | (self.count < min_fraction * most)] = np.nan
        return out


def improvement_map(
    site_maps: np.ndarray, improvement: np.ndarray, min_sites: int = 5
) -> np.ndarray:
    """Pearson correlation across sites, at every voxel, of site connectivity with improvement.

    Parameters
    ----------
    site_maps : ndarray, shape (S, V)
        One (Fisher z) map per site; NaN = no data.
    improvement : ndarray, shape (S,)
    min_sites : int
        Voxels with fewer sites having data are NaN.

    Returns
    -------
    ndarray, shape (V,)
        r in [−1, 1]; NaN where undefined.
    """
    improvement = np.asarray(improvement, np.float64)
    out = np.full(site_maps.shape[1], np.nan)
    ok = np.isfinite(site_maps)
    full = np.flatnonzero(ok.all(axis=0))
    if full.size:  # voxels every site has data for: one matrix product
        xc = site_maps[:, full].astype(np.float64)
        xc -= xc.mean(axis=0)
        yc = improvement - improvement.mean()
        den = np.linalg.norm(xc, axis=0) * np.linalg.norm(yc)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[full] = np.where(den > 0, (yc @ xc) / np.where(den > 0, den, 1.0), np.nan)
    for c in np.flatnonzero(
        ~ok.all(axis=0) & (ok.sum(axis=0) >= min_sites)
    ):  # edges some sites' brains miss
        m = ok[:, c]
        r = (
            np.corrcoef(site_maps[m, c], improvement[m])[0, 1]
            if np.ptp(site_maps[m, c]) > 0 and np.ptp(improvement[m]) > 0
            else np.nan
        )
        out[c] = r
    return out


def spatial_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Return the Pearson correlation between two maps.

    Computed over the voxels where both are finite (and not both zero).
    """
    a, b = np.asarray(a, float).ravel(), np.asarray(b, float).ravel()
    m = np.isfinite(a) & np.isfinite(b) & ((a != 0) | (b != 0))
    if m.sum() < 3:
        raise InputError(
            "the two maps overlap in fewer than 3 voxels — check they are on the same grid"
        )
    return float(np.corrcoef(a[m], b[m])[0, 1])


def participant_site_maps(job, options, coords: np.ndarray, radius_mm: float = SITE_RADIUS_MM):
    """Read and clean one participant's rest runs and return its site maps.

    Parameters
    ----------
    job : tmstarget.cohort.Job
        Where the participant's runs are (volumetric MNI space).
    options : TargetingOptions
        Cleaning parameters (confounds, censoring, band, smoothing, minimum volumes).
    coords : ndarray, shape (k, 3)
        Sites to map.

    Returns
    -------
    flat : ndarray of int
        Fortran-order grid indices of the maps' columns.
    maps : ndarray, shape (k, V)
    shape, affine
        The participant's grid.
    """
    from .targeting import components_from, resolve_circuit
    from .targeting.prepare import prepare

    prep = prepare(job.runs(), options, resolve_circuit("sgacc"))
    comp = components_from(prep)  # as the targeting run: constant voxels left out
    return comp.flat, site_seed_maps(comp, coords, radius_mm), prep.brain.shape, prep.affine


def check_sites_in_brain(sites: Sites, radius_mm: float = SITE_RADIUS_MM) -> None:
    """Refuse sites whose sphere holds no voxel of the MNI152 brain (nilearn's template mask, 2 mm).

    A site outside the brain (a scalp coordinate, a sign error, a typo) would have no seed time
    course and drop out of the map; this says so before any rest data are read.

    Raises
    ------
    InputError
        Naming the first sites (table row, participant, coordinates) and their distance to the
        brain.
    """
    from nilearn.datasets import load_mni152_brain_mask
    from scipy.spatial import cKDTree

    mask = load_mni152_brain_mask(resolution=2)
    ijk = np.argwhere(np.asanyarray(mask.dataobj) > 0.5)
    xyz = ijk @ mask.affine[:3, :3].T + mask.affine[:3, 3]
    dist, _ = cKDTree(xyz).query(sites.coords)
    outside = np.flatnonzero(dist > radius_mm)
    if outside.size:
        listed = "; ".join(
            f"row {i + 2} (sub-{sites.participants[i]} at "
            f"{np.round(sites.coords[i], 1).tolist()}, {dist[i]:.0f} "
            "mm from the brain)"
            for i in outside[:3]
        )
        more = f" and {outside.size - 3} more" if outside.size > 3 else ""
        raise InputError(
            f"{outside.size} site(s) lie outside the brain: "
            f"{listed}{more} — give cortical MNI mm coordinates "
            "(not scalp positions) or remove those rows"
        )


@dataclass
class CircuitBuild:
    """A built circuit map and how it was made.

    Attributes
    ----------
    volume : ndarray, shape (X, Y, Z)
        r of site connectivity with improvement (NaN outside the data).
    affine : ndarray, shape (4, 4)
    n_sites : int
        Sites that entered the map.
    participants : list of str
        Participants whose rest data were used.
    failed : dict
        Participant → reason, for rest data that could not be used.
    dropped_sites : list of int
        Table rows (1 = header) of sites left out because no participant's data covered their
        sphere.
    """

    volume: np.ndarray
    affine: np.ndarray
    n_sites: int
    participants: list
    failed: dict
    dropped_sites: list = field(default_factory=list)


def build_circuit(
    sites: Sites,
    jobs: list,
    options,
    mode: str = "normative",
    radius_mm: float = SITE_RADIUS_MM,
    scheduler: str | None = None,
    n_workers: int | None = None,
) -> CircuitBuild:
    """Build the improvement map of stimulation sites over participants' rest data.

    Parameters
    ----------
    sites : Sites
    jobs : list of tmstarget.cohort.Job
        Participants with rest data (one job per participant).
    options : TargetingOptions
        Cleaning parameters.
    mode : {"normative", "individual"}
        Average every site's map over all participants, or take it from the stimulated participant's
        data.
    radius_mm : float
        Site sphere radius.
    scheduler, n_workers
        As :func:`tmstarget.cohort.run_jobs`; one worker (or one job) runs in this process.

    Raises
    ------
    InputError
        Unknown mode, sites without rest data (individual mode), grids that differ, or too few
        usable sites.
    """
    from .cohort import parallel_map

    if mode not in MODES:
        raise InputError(f"unknown connectome mode '{mode}' — choose one of {', '.join(MODES)}")
    check_sites_in_brain(sites, radius_mm)
    if mode == "individual":
        have = {j.participant for j in jobs}
        missing = sorted(set(sites.participants) - have)
        if missing:
            raise InputError(
                f"sites of participant(s) {', '.join(missing[:10])} "
                "have no rest data among the participants "
                "given — add them or use --connectome normative"
            )
        jobs = [j for j in jobs if j.participant in set(sites.participants)]
    rows = [
        np.arange(len(sites.coords))
        if mode == "normative"
        else np.flatnonzero(np.array(sites.participants) == j.participant)
        for j in jobs
    ]
    args = [(j, options, sites.coords[r], radius_mm) for j, r in zip(jobs, rows)]
    if len(jobs) == 1 or (n_workers == 1 and not scheduler):
        results = ((k, *_guarded(participant_site_maps, a)) for k, a in enumerate(args))
    else:
        results = parallel_map(participant_site_maps, args, scheduler, n_workers, "sitemaps")
    averager, grid, used, failed = None, None, [], {}
    for k, res, exc in results:
        label = jobs[k].participant
        if exc is not None:
            failed[label] = (
                str(exc) if isinstance(exc, InputError) else f"{type(exc).__name__}: {exc}"
            )
            continue
        flat, maps, shape, affine = res
        if grid is None:
            grid, averager = (tuple(shape), affine), MapAverager(len(sites.coords), shape)
        elif tuple(shape) != grid[0] or not np.allclose(affine, grid[1], atol=1e-3):
            raise InputError(
                f"sub-{label}'s BOLD grid {tuple(shape)} differs "
                f"from the first participant's {grid[0]} — "
                "use one fMRIPrep output space and resolution"
            )
        averager.add(flat, maps, rows[k])
        used.append(label)
    if (
        averager is None
    ):  # every participant failed: one line, the first failure (the others are usually the same)
        label, why = next(iter(failed.items()))
        others = f" (and {len(failed) - 1} other participant(s))" if len(failed) > 1 else ""
        raise InputError(f"no participant's rest data could be used{others}: sub-{label}: {why}")
    for label, why in failed.items():
        logger.error("tmstarget circuit build: error: sub-%s: %s", label, why)
    mean = averager.mean()
    keep = np.isfinite(mean).any(axis=1)
    if keep.sum() < 5:
        raise InputError(
            f"only {int(keep.sum())} site(s) have connectivity "
            "maps (need >= 5) — check the sites are inside "
            "the brain (MNI mm) and the rest data"
        )
    dropped = [int(i) + 2 for i in np.flatnonzero(~keep)]
    if dropped:
        logger.warning(
            "%d site(s) left out of the map, no participant's "
            "data cover their sphere: table row(s) %s",
            len(dropped),
            ", ".join(map(str, dropped)),
        )
    r = improvement_map(mean[keep], sites.improvement[keep])
    volume = r.reshape(grid[0], order="F").astype(np.float32)
    return CircuitBuild(volume, grid[1], int(keep.sum()), sorted(used), failed, dropped)


def _guarded(fn, args):
    try:
        return fn(*args), None
    except InputError as exc:
        return None, exc


def sidecar(built: CircuitBuild, summary: dict, sites_name: str, sites_sha256: str) -> dict:
    """Return the JSON sidecar of a built map.

    It says what the map is, its sources and how it was made (``summary`` minus ``map``).
    """
    from . import __version__

    return {
        "Description": "r across stimulation sites between site connectivity "
        "(Fisher z) and improvement; positive = stimulate",
        "Sources": {"sites": {"path": sites_name, "sha256": sites_sha256}},
        "GeneratedBy": [{"Name": "tmstarget circuit build", "Version": __version__}],
        **{k: v for k, v in summary.items() if k != "map"},
    }
