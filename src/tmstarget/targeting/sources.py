"""The sources of a participant's data: one class per input kind, the same interface.

A *source* knows how to read one input kind — :class:`VolumeSource` (fMRIPrep NIfTI runs, streamed
32 volumes at a time, with their echo-wise series when they are multi-echo) or
:class:`SurfaceSource` (fsaverage GIFTI pairs or CIFTI) — and gives the geometry of its columns,
each run's length and TR, the search region and the circuit map. :func:`open_source` picks the
class for the runs; :func:`tmstarget.targeting.prepare.prepare` reads and cleans through it.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from ..exceptions import InputError
from .circuits import load_circuit_map
from .defaults import ME_DENOISE_CHOICES, TEDANA_SEED
from .geometry import SurfaceGeometry, VolumeGeometry
from .regions import check_search_region, dlpfc_search_mask
from .result import RunInfo, TargetingOptions

logger = logging.getLogger("tmstarget.targeting.prepare")


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
