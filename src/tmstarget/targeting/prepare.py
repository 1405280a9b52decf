"""Reading and cleaning a participant's runs in one pass: every input kind, one path.

A *source* knows how to read one input kind — :class:`VolumeSource` (fMRIPrep NIfTI runs, streamed
32 volumes at a time) or :class:`SurfaceSource` (fsaverage GIFTI pairs or CIFTI) — and gives the
geometry of its columns, each run's length and TR, the search region and the circuit map.
:func:`prepare` does the rest the same way for all: confounds and censoring, the cleaning operator
of each run (:mod:`tmstarget.targeting.cleaning`), the compressed cleaned data ``W_i = P_i X_i``
accumulated while the data are read, smoothing, temporal SNR and which columns vary.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._utils.prefetch import Prefetcher
from .._utils.progress import progress
from ..exceptions import InputError
from ..io.confounds import load_run_confounds
from .circuits import load_circuit_map
from .cleaning import run_operator
from .components import Components, finalize_components
from .defaults import ME_DENOISE_CHOICES, TEDANA_SEED
from .geometry import SurfaceGeometry, VolumeGeometry
from .regions import check_search_region, dlpfc_search_mask
from .result import RunInfo, TargetingOptions

logger = logging.getLogger(__name__)


class VolumeSource:
    """fMRIPrep volumetric runs (same grid): headers and masks now, voxel data later.

    The voxel data are streamed by :meth:`chunks`. A multi-echo run (``run.echoes``, issue 27) is
    read as ``options.me_denoise`` says: fMRIPrep's optimally combined series as given (``none``),
    or the echoes combined (``optcom``) or ME-ICA denoised (``tedana``) by tedana, made when
    :meth:`chunks` reaches the run and held in memory for that run only. :attr:`multi_echo` is then
    the target JSON's ``multi_echo`` block (None for single-echo runs).
    """

    def __init__(self, runs: list, options: TargetingOptions | None = None) -> None:
        from ..io.images import bold_shape, check_grid, load_image, load_mask

        self.runs, self.imgs, self.masks, brain = runs, [], [], None
        for run in runs:
            img = load_image(run.bold, "BOLD")
            bold_shape(img, run.bold.name)
            if self.imgs:
                check_grid(self.imgs[0], img, runs[0].bold.name, run.bold.name)
            mask, _ = load_mask(run.mask, img, run.bold.name)
            brain = mask if brain is None else brain & mask
            self.imgs.append(img)
            self.masks.append(mask)
        self.brain, self.affine = brain, self.imgs[0].affine
        self.geometry = VolumeGeometry(brain, self.affine)
        self.names = [r.bold.name for r in runs]
        self.confounds = [r.confounds for r in runs]
        self.space = runs[0].space
        self.me_denoise = (options or TargetingOptions()).me_denoise
        self.resamplers: dict[int, object] = {}  # runs whose echoes are in BOLD reference space
        self.echo_runs = [self._echo_run(i) for i in range(len(runs))]
        self.echo_info: dict[int, dict] = {}
        n_echo_runs = sum(e is not None for e in self.echo_runs)
        if n_echo_runs:
            what = {
                "tedana": "tedana's ME-ICA denoised series",
                "optcom": "the echoes combined by T2* weights (tedana)",
                "none": "fMRIPrep's optimally combined series",
            }
            logger.info(
                "%d of %d run(s) multi-echo (%d echo-wise series found); --me-denoise %s: "
                "targeting %s",
                n_echo_runs,
                len(runs),
                sum(len(e.paths) for e in self.echo_runs if e is not None),
                self.me_denoise,
                what[self.me_denoise],
            )

    def _echo_run(self, i: int):
        """Return the checked echoes of run ``i`` (an ``EchoRun``), or None.

        None when the run is single-echo, or with ``me_denoise`` ``none`` when its echoes cannot
        be read (they are not used then). Echoes in fMRIPrep's BOLD reference space get a
        resampler onto the run's mask (:mod:`tmstarget.io.echo_resample`, in :attr:`resamplers`).
        """
        from ..io.images import check_grid, load_image
        from ..io.multiecho import read_echo_run

        run, img = self.runs[i], self.imgs[i]
        echoes = tuple(getattr(run, "echoes", ()) or ())
        if not echoes:
            return None
        if self.me_denoise not in ME_DENOISE_CHOICES:
            raise InputError(
                f"unknown me_denoise {self.me_denoise!r} — use one of "
                f"{', '.join(ME_DENOISE_CHOICES)}"
            )
        if self.me_denoise == "none":
            try:
                return read_echo_run(echoes)
            except InputError as exc:
                logger.warning(
                    "%s: echo-wise series not read (%s); they are not used", run.name, exc
                )
                return None
        echo_run = read_echo_run(echoes)
        if echo_run.n_volumes != img.shape[3]:
            raise InputError(
                f"{run.name}: its echoes have {echo_run.n_volumes} volumes, the combined series "
                f"{img.shape[3]} — use the echoes and series of the same fMRIPrep run"
            )
        if any("_space-" not in p.name for p in echoes):
            from ..io.echo_resample import boldref_resampler, find_echo_transforms

            self.resamplers[i] = boldref_resampler(
                self.masks[i],
                self.affine,
                echo_run.paths[0],
                find_echo_transforms(echo_run.paths[0], run.space),
                run.name,
            )
        else:
            first = load_image(echo_run.paths[0], "echo-wise BOLD")
            check_grid(img, first, run.bold.name, echo_run.paths[0].name)
        return echo_run

    @property
    def multi_echo(self) -> dict | None:
        """The target JSON's ``multi_echo`` block (None when no run has echo-wise series).

        One block per participant: the method, the tedana version, the echo times (null when the
        runs' differ) and the components tedana rejected over all runs, with each run's in
        ``runs``. Complete once :meth:`chunks` has read every run.
        """
        from ..io.multiecho import tedana_version

        found = [(i, e) for i, e in enumerate(self.echo_runs) if e is not None]
        if not found and not any(getattr(r, "echoes", ()) for r in self.runs):
            return None
        runs = [
            {
                "name": self.names[i],
                "echo_times_ms": [round(t, 3) for t in e.echo_times_ms],
                "n_components": self.echo_info.get(i, {}).get("n_components"),
                "components_rejected": self.echo_info.get(i, {}).get("components_rejected"),
                "echo_space": "boldref"
                if any("_space-" not in p.name for p in e.paths)
                else self.runs[i].space,
                "transforms": [p.name for p in self.resamplers[i].transforms]
                if i in self.resamplers
                else [],
            }
            for i, e in found
        ]
        times = {tuple(r["echo_times_ms"]) for r in runs}
        rejected = [r["components_rejected"] for r in runs if r["components_rejected"] is not None]
        return {
            "echo_times_ms": list(times.pop()) if len(times) == 1 else None,
            "method": self.me_denoise if found else "none",
            "tedana_version": tedana_version() if found and self.me_denoise != "none" else None,
            "components_rejected": sum(rejected) if self.me_denoise == "tedana" and found else None,
            "runs": runs,
        }

    @staticmethod
    def files(runs: list, options: TargetingOptions | None = None) -> set[Path]:
        """Input files of the runs (for the checksums).

        With echoes used (``me_denoise`` not ``none``) they include the echo-wise series and their
        JSON sidecars (the echo times), never a file made from them.
        """
        from ..io.multiecho import sidecar_path

        files = {p for r in runs for p in (r.bold, r.confounds, r.mask)}
        if (options or TargetingOptions()).me_denoise != "none":
            from ..io.echo_resample import find_echo_transforms

            echoes = [Path(p) for r in runs for p in getattr(r, "echoes", ()) or ()]
            files |= {f for p in echoes for f in (p, sidecar_path(p)) if f.is_file()}
            for r in runs:  # fMRIPrep's transforms, for echoes in the BOLD reference space
                native = [
                    Path(p) for p in getattr(r, "echoes", ()) or () if "_space-" not in p.name
                ]
                files |= set(find_echo_transforms(native[0], r.space)) if native else set()
        return files

    def n_volumes(self, i: int) -> int:
        """Volumes of run ``i``."""
        return self.imgs[i].shape[3]

    def t_r(self, i: int, options: TargetingOptions) -> float:
        """Repetition time of run ``i`` (s)."""
        from ..io.images import read_tr

        return read_tr(self.runs[i].bold, self.imgs[i], options.t_r)

    def chunks(self):
        """(run index, first volume, in-mask data (t, V)) for every chunk of every run, in order."""
        from ..io.images import stream_masked_volumes

        for i, (img, name) in enumerate(zip(self.imgs, self.names)):
            if self.echo_runs[i] is not None and self.me_denoise != "none":
                yield from self._echo_chunks(i)
                continue
            for start, x in stream_masked_volumes(img, self.brain, name):
                yield i, start, x

    def _echo_chunks(self, i: int, chunk: int = 32):
        """Chunks of run ``i``'s series made from its echoes (tedana, optcom), as :meth:`chunks`."""
        from ..io.multiecho import echo_series

        t0 = time.perf_counter()
        series = echo_series(
            self.echo_runs[i],
            self.masks[i],
            self.affine,
            self.me_denoise,
            TEDANA_SEED,
            self.resamplers.get(i),
        )
        own = np.flatnonzero(self.masks[i].ravel(order="F"))
        keep = np.searchsorted(own, np.flatnonzero(self.brain.ravel(order="F")))
        self.echo_info[i] = {
            "n_components": series.n_components,
            "components_rejected": series.components_rejected,
        }
        logger.info(
            "%s: %s of %d echoes (%s ms%s)%s, %.0f s",
            self.names[i],
            "ME-ICA denoised by tedana"
            if series.method == "tedana"
            else "T2*-weighted combination",
            len(self.echo_runs[i].paths),
            ", ".join(f"{t:g}" for t in self.echo_runs[i].echo_times_ms),
            "; resampled from the BOLD reference space" if i in self.resamplers else "",
            f", {series.components_rejected} of {series.n_components} components rejected"
            if series.method == "tedana"
            else "",
            time.perf_counter() - t0,
        )
        data, series.data = series.data, None
        for start in range(0, data.shape[0], chunk):
            x = np.ascontiguousarray(data[start : start + chunk][:, keep])
            if not np.isfinite(x).all():
                raise InputError(
                    f"{self.names[i]}: the {series.method} series has NaN or infinite values "
                    "inside the brain mask — check the echo-wise series, or pass --me-denoise none"
                )
            yield i, start, x

    def n_chunks(self, infos: list[RunInfo]) -> int:
        """Chunks :meth:`chunks` yields (for the progress bar)."""
        return sum(-(-info.n_volumes // 32) for info in infos)

    def search_region(self, options: TargetingOptions) -> np.ndarray:
        """Return the default left DLPFC or ``--search-mask``, checked (a volume)."""
        from ..io.images import load_mask

        if options.search_mask is None:
            region = dlpfc_search_mask(self.brain, self.affine)
        else:
            region = load_mask(options.search_mask, self.imgs[0], self.names[0], "search mask")[0]
        return check_search_region(region, self.brain)

    def circuit_map(self, circuit) -> np.ndarray | None:
        """Return the group circuit map on the grid (None for the sgACC seed circuit)."""
        return (
            None
            if circuit.kind == "seed"
            else load_circuit_map(circuit.path, self.affine, self.brain.shape)
        )


class SurfaceSource:
    """Surface runs, read whole.

    They are fsaverage GIFTI pairs of one template, or CIFTI files with the same columns.
    """

    def __init__(self, runs: list, meshes: tuple[Path, Path] | None = None) -> None:
        from ..surface.geometry import cifti_grayordinates, template_grayordinates
        from ..surface.io import load_surface_run
        from ..surface.mesh import load_template, read_mesh

        self.runs, self.data, self.file_tr, grays = runs, [], [], None
        for run in runs:
            x, t_r, bm = load_surface_run(run)
            if grays is None:
                if bm is None:
                    grays, self.meshes = (
                        template_grayordinates(runs[0].space),
                        load_template(runs[0].space),
                    )
                else:
                    self.meshes = (
                        {h: read_mesh(p) for h, p in zip("LR", meshes)} if meshes else None
                    )
                    grays = cifti_grayordinates(bm, self.meshes, runs[0].space)
            if x.shape[1] != grays.n:
                raise InputError(
                    f"{run.name} has {x.shape[1]} columns, the "
                    f"first run {grays.n} — pass runs in the "
                    "same space and density"
                )
            x[:, ~np.isfinite(x).all(axis=0)] = (
                0.0  # e.g. NaN medial wall: constant columns are left out as invalid
            )
            self.data.append(x)
            self.file_tr.append(t_r)
        self.lengths = [x.shape[0] for x in self.data]
        self.geometry = SurfaceGeometry(grays, self.meshes)
        self.brain, self.affine = np.ones((grays.n, 1, 1), bool), None
        self.names = [r.name for r in runs]
        self.confounds = [r.confounds for r in runs]
        self.space = runs[0].space
        self.multi_echo = _surface_echoes(runs)

    @staticmethod
    def files(runs: list) -> set[Path]:
        """Input files of the runs (for the checksums)."""
        return {f for r in runs for f in (*r.files, r.confounds)}

    def n_volumes(self, i: int) -> int:
        """Volumes of run ``i``."""
        return self.lengths[i]

    def t_r(self, i: int, options: TargetingOptions) -> float:
        """Repetition time of run ``i`` (s): ``--t-r``, else the sidecar or file metadata."""
        t_r = options.t_r or self.file_tr[i]
        if not t_r or not 0 < t_r <= 10:
            raise InputError(
                f"{self.names[i]}: no usable repetition time "
                "in its JSON sidecar or metadata — pass --t-r "
                "SECONDS"
            )
        return t_r

    def chunks(self):
        """(run index, 0, data (T, N)) of every run, each run released once read."""
        for i in range(len(self.data)):
            x, self.data[i] = self.data[i], None
            yield i, 0, x

    def n_chunks(self, infos: list[RunInfo]) -> int:
        """Chunks :meth:`chunks` yields."""
        return len(infos)

    def search_region(self, options: TargetingOptions) -> np.ndarray:
        """Return the default left DLPFC or ``--search-mask`` (NIfTI or GIFTI), checked.

        The region is one boolean per column.
        """
        from .surface_maps import check_region, dlpfc_search_region, search_region_from_file

        grays = self.geometry.grayordinates
        region = (
            dlpfc_search_region(grays)
            if options.search_mask is None
            else search_region_from_file(options.search_mask, grays)
        )
        check_region(region)
        return region

    def circuit_map(self, circuit) -> np.ndarray | None:
        """Return the group circuit map at every column (None for the sgACC seed circuit)."""
        from .surface_maps import circuit_values

        return (
            None
            if circuit.kind == "seed"
            else circuit_values(circuit.path, self.geometry.grayordinates, self.meshes)
        )


def _surface_echoes(runs: list) -> dict | None:
    """Return the ``multi_echo`` block of surface runs with echo-wise volumes beside them.

    fMRIPrep writes echo-wise series as volumes only: on surfaces the echoes are not used (method
    ``none``, said in a log line); None when there are no echo-wise series.
    """
    from ..io.multiecho import echo_files_beside, read_echo_run

    blocks = []
    for run in runs:
        same, reference = echo_files_beside(run.files[0])
        found = same or reference
        if not found:
            continue
        try:
            times = [round(t, 3) for t in read_echo_run(found).echo_times_ms]
        except InputError:
            times = None
        blocks.append({"name": run.name, "echo_times_ms": times})
    if not blocks:
        return None
    logger.info(
        "%d run(s) have echo-wise series; echoes are not used on surfaces (%s): the surface "
        "series is targeted as given (multi_echo method 'none')",
        len(blocks),
        runs[0].space,
    )
    times = {tuple(b["echo_times_ms"] or ()) for b in blocks}
    return {
        "echo_times_ms": list(times.pop()) or None if len(times) == 1 else None,
        "method": "none",
        "tedana_version": None,
        "components_rejected": None,
        "runs": [{**b, "n_components": None, "components_rejected": None} for b in blocks],
    }


def input_kind(runs: list) -> str:
    """Return the input kind of the runs: ``volume``, ``surface`` or ``cifti``.

    ``surface`` means fsaverage GIFTI pairs; with no runs the kind is ``volume``.
    """
    if not runs or not hasattr(runs[0], "files"):
        return "volume"
    return "cifti" if runs[0].is_cifti else "surface"


def open_source(
    runs: list,
    meshes: tuple[Path, Path] | None = None,
    options: TargetingOptions | None = None,
) -> VolumeSource | SurfaceSource:
    """Open the source for these runs (surface runs have ``files``; volumetric runs a ``bold``)."""
    return SurfaceSource(runs, meshes) if hasattr(runs[0], "files") else VolumeSource(runs, options)


def clean_runs(source, options: TargetingOptions) -> tuple[list[RunInfo], list]:
    """Confounds, censoring and cleaning operator of every run; refuses too few volumes left."""
    infos, confs = [], []
    for i, name in enumerate(source.names):
        n_vol, t_r = source.n_volumes(i), source.t_r(i, options)
        conf = load_run_confounds(
            source.confounds[i],
            n_vol,
            options.confounds_strategy,
            options.global_signal,
            options.fd_threshold_mm,
            options.dvars_threshold,
        )
        censored = np.ones(n_vol, bool)
        censored[conf.sample_mask] = False
        infos.append(
            RunInfo(
                name, n_vol, conf.n_censored, t_r, 0, float(conf.fd_mm.mean()), conf.fd_mm, censored
            )
        )
        confs.append(conf)
        logger.info(
            "%s: %d volumes, %d censored (FD > %s mm), TR %.2f s",
            name,
            n_vol,
            conf.n_censored,
            options.fd_threshold_mm,
            t_r,
        )
    n_kept = sum(c.sample_mask.size for c in confs)
    if n_kept < options.min_volumes:
        raise InputError(
            f"{n_kept} volumes left after censoring over {len(infos)} "
            f"run(s), need >= {options.min_volumes} — "
            "raise --fd-threshold, add runs, or lower --min-volumes "
            "(targets from short scans are unreliable)"
        )
    operators = []
    for conf, info in zip(confs, infos):
        op = run_operator(
            info.n_volumes,
            info.t_r,
            conf.confounds,
            conf.sample_mask,
            options.high_pass_hz,
            options.low_pass_hz,
            name=info.name,
        )
        info.dof = op.rank
        operators.append(op)
    return infos, operators


def _variable(moments: np.ndarray, n_volumes: list[int], rtol: float = 1e-6) -> np.ndarray:
    """Columns whose raw time series vary in every run (SD > ``rtol`` × |mean|, and > 0)."""
    n = np.asarray(n_volumes, float)[:, None]
    mean = moments[:, 0] / n
    var = moments[:, 1] / n - mean**2
    return np.all(var > np.maximum((rtol * mean) ** 2, 1e-30), axis=0)


def _tsnr(moments: np.ndarray, n_volumes: list[int]) -> np.ndarray:
    """Compute the temporal SNR per column, averaged over runs.

    Per run it is mean / SD over time (SD with n − 1).
    """
    n = np.asarray(n_volumes, float)[:, None]
    mean = moments[:, 0] / n
    var = np.maximum(moments[:, 1] / n - mean**2, 0.0) * n / np.maximum(n - 1, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_run = np.where(var > 0, mean / np.sqrt(var), np.nan)
    return np.nanmean(per_run, axis=0)


@dataclass
class Prepared:
    """A participant's data after one pass over the BOLD files: everything targeting needs.

    Attributes
    ----------
    blocks : list of ndarray, each (r_run, V)
        Compressed cleaned (and smoothed) data of each run; ``operators[i].basis @ blocks[i]`` are
        the cleaned time series of run i at its kept volumes.
    operators : list of CleaningOperator
    infos : list of RunInfo
    brain, affine, region
        Voxel grid of the columns (a (V, 1, 1) placeholder and None for surfaces) and the search
        region.
    circuit_map : ndarray or None
        Group circuit map on the grid or per column (None for the sgACC seed circuit).
    tsnr : ndarray
        Temporal SNR (a volume, or per column).
    variable : ndarray of bool
        Columns whose raw data vary.
    geometry : VolumeGeometry or SurfaceGeometry
    """

    blocks: list
    operators: list
    infos: list
    brain: np.ndarray
    affine: np.ndarray | None
    region: np.ndarray
    circuit_map: np.ndarray | None
    tsnr: np.ndarray
    variable: np.ndarray
    geometry: VolumeGeometry | SurfaceGeometry | None = None


def prepare(
    runs: list,
    options: TargetingOptions,
    circuit,
    timings: dict | None = None,
    meshes: tuple[Path, Path] | None = None,
    source=None,
) -> Prepared:
    """Read and clean the runs in one pass, smooth, load the circuit map (see the module notes)."""
    timings = {} if timings is None else timings
    t_start = time.perf_counter()
    source = open_source(runs, meshes, options) if source is None else source
    geometry = source.geometry
    smooth = bool(options.fwhm_mm and options.fwhm_mm > 0)
    # A run's components are smoothed in a worker thread as soon as the run is complete, while this
    # thread projects the next run's chunks and the prefetch thread decompresses them: scipy's
    # filter holds the GIL, the matrix products and the inflating release it.
    with (
        Prefetcher(source.chunks(), depth=4) as chunks,  # reading starts in the background
        ThreadPoolExecutor(1, thread_name_prefix="tmstarget-smooth") as smoother,
    ):
        infos, operators = clean_runs(source, options)
        region = source.search_region(options)
        timings["setup"] = time.perf_counter() - t_start
        t0 = time.perf_counter()
        blocks = [np.zeros((op.rank, geometry.n), np.float32) for op in operators]
        moments = np.zeros(
            (len(infos), 2, geometry.n)
        )  # per run: sum and sum of squares (for tSNR)
        seen, smoothed = [0] * len(infos), [None] * len(infos)
        for i, start, x in progress(chunks, source.n_chunks(infos), "reading BOLD"):
            blocks[i] += operators[i].projector[:, start : start + x.shape[0]] @ x
            moments[i, 0] += x.sum(axis=0, dtype=np.float64)
            moments[i, 1] += np.einsum("tv,tv->v", x, x, dtype=np.float64)
            seen[i] += x.shape[0]
            if smooth and seen[i] == infos[i].n_volumes:
                smoothed[i] = smoother.submit(geometry.smooth, blocks[i], options.fwhm_mm)
        timings["read_clean"] = time.perf_counter() - t0
        # while the last run is smoothed: the circuit map and the per-column summaries
        circuit_map = source.circuit_map(circuit)
        n_volumes = [info.n_volumes for info in infos]
        tsnr, variable = geometry.to_grid(_tsnr(moments, n_volumes)), _variable(moments, n_volumes)
        t0 = time.perf_counter()
        if smooth:  # every complete run has its smoothing under way
            blocks = [
                geometry.smooth(b, options.fwhm_mm) if f is None else f.result()
                for b, f in zip(blocks, smoothed)
            ]
        timings["smooth_wait"] = time.perf_counter() - t0
    return Prepared(
        blocks,
        operators,
        infos,
        source.brain,
        source.affine,
        region,
        circuit_map,
        tsnr,
        variable,
        geometry,
    )


def components_from(prepared: Prepared) -> Components:
    """Full-data components of a :class:`Prepared`, exactly as the targeting run builds them."""
    comp = finalize_components(
        prepared.blocks,
        prepared.brain,
        prepared.affine if prepared.affine is not None else np.eye(4),
        variable=prepared.variable,
        geometry=prepared.geometry,
    )
    if isinstance(prepared.geometry, SurfaceGeometry):
        comp.valid &= (
            prepared.geometry.grayordinates.usable
        )  # no coordinates (CIFTI cortex without meshes) or medial wall
    return comp
