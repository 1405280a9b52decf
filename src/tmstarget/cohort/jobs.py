"""Jobs: where one participant's data are, whether it is already done, and running it.

Running a job never raises.
"""

from __future__ import annotations

import contextlib
import logging
import time
import traceback
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..exceptions import InputError
from ..io.derivatives import read_target, sha256, target_path

logger = logging.getLogger(__name__)

#: Output-space labels handled by :mod:`tmstarget.surface` rather than the volumetric workflow.
SURFACE_SPACES = ("fsaverage5", "fsLR")


@dataclass(frozen=True)
class Job:
    """Where one participant's (session's) data are; picklable, so it can be sent to Dask workers.

    Attributes
    ----------
    participant : str
        Label without ``sub-``.
    session : str or None
        Session label; ``None`` for datasets without sessions (or explicit files).
    fmriprep_dir : Path or None
        fMRIPrep folder; ``None`` with explicit files.
    task, space : str
        BIDS task label and output space (``None``: the first MNI space found; ``fsaverage5`` /
        ``fsLR`` select surface data).
    bold, confounds : tuple of Path
        Explicit runs (instead of ``fmriprep_dir``), one confounds TSV per run.
    mask : Path or None
        Brain mask of explicit volumetric runs.
    surface_mesh : tuple of Path
        Left and right midthickness meshes giving the coordinates of CIFTI cortical vertices.
    """

    participant: str
    session: str | None = None
    fmriprep_dir: Path | None = None
    task: str = "rest"
    space: str | None = None
    bold: tuple[Path, ...] = ()
    confounds: tuple[Path, ...] = ()
    mask: Path | None = None
    surface_mesh: tuple[Path, ...] = ()

    @property
    def name(self) -> str:
        """``sub-<l>[ ses-<s>]``, for messages."""
        return f"sub-{self.participant}" + (f" ses-{self.session}" if self.session else "")

    @property
    def is_surface(self) -> bool:
        """Whether the data are surface (GIFTI/CIFTI) time series."""
        if self.bold:
            return str(self.bold[0]).endswith((".func.gii", ".dtseries.nii"))
        return self.space in SURFACE_SPACES

    def runs(self) -> list:
        """Return the runs to target (``io.bids.Run`` or ``surface.SurfaceRun`` objects).

        Raises InputError.
        """
        if self.is_surface:
            from ..surface.io import explicit_surface_runs, find_surface_runs

            if self.bold:
                return explicit_surface_runs(list(self.bold), list(self.confounds))
            return find_surface_runs(
                self.fmriprep_dir, self.participant, self.session, self.task, self.space
            )
        from ..io.bids import explicit_runs, find_runs

        if self.bold:
            return explicit_runs(
                list(self.bold), list(self.confounds), self.mask, self.space or "MNI152NLin6Asym"
            )
        return find_runs(self.fmriprep_dir, self.participant, self.session, self.task, self.space)


@dataclass
class Outcome:
    """What happened to one job.

    Attributes
    ----------
    job : Job
    status : {"done", "skipped", "failed"}
    target : dict or None
        The target JSON (written now, or found from an earlier run).
    error : str or None
        One-line reason of a failure.
    seconds : float
        Wall time of the job.
    detail : str or None
        Traceback of an unexpected error (shown with ``--debug``).
    report : Path or None
        The HTML report, when asked for and written.
    written : list of Path
        The files this job wrote (empty when skipped or failed), the report included.
    """

    job: Job
    status: str
    target: dict | None = None
    error: str | None = None
    seconds: float = 0.0
    detail: str | None = None
    report: Path | None = None
    notes: list[str] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)


def circuit_label(options) -> str:
    """Label of ``options.circuit`` as it appears in output names, without fetching anything."""
    from ..targeting.circuits import _label_from_path

    if options.circuit_label:
        return options.circuit_label
    if options.circuit in ("sgacc", "convergent"):
        return options.circuit
    return _label_from_path(Path(options.circuit))


def resolve_options(options):
    """Fetch the ``convergent`` circuit once and point the options at the file.

    Called before jobs are dispatched.
    """
    if options.circuit != "convergent":
        return options
    from ..targeting.circuits import fetch_convergent

    return replace(
        options,
        circuit=str(fetch_convergent()),
        circuit_label=options.circuit_label or "convergent",
    )


def fingerprint(options) -> dict:
    """Return the fields of a target JSON that identify the parameters it was computed with.

    They are taken from the options alone. ``options.me_denoise`` is not among them: it matters
    only for multi-echo data and is checked against the target's ``multi_echo.method`` by
    :func:`finished_target` (:func:`multi_echo_method`).
    """
    return {
        "circuit": circuit_label(options),
        "method": options.method,
        "parameters": options.parameters_json(),
        "n_bootstrap": getattr(options, "bootstrap", 0) or None,
    }


def _input_checksums(options) -> list[str]:
    """Return checksums of the circuit map and search mask files a reusable target must have used.

    These files are small.
    """
    files = [options.circuit] if options.circuit != "sgacc" else []
    files += [options.search_mask] if options.search_mask else []
    return [sha256(f) for f in files if Path(f).is_file()]


def finished_target(
    job: Job, options, out_dir: Path, checksums: list[str] | None = None
) -> dict | None:
    """Return the target JSON of an earlier run of ``job``, if it can be reused.

    It can be reused when it was computed with the same parameters and runs.

    Parameters
    ----------
    job : Job
    options : TargetingOptions
    out_dir : Path
        Derivatives folder.
    checksums : list of str, optional
        SHA-256 of the circuit map / search mask files (see :func:`_input_checksums`); each must
        appear among the earlier run's ``inputs``.

    Returns
    -------
    dict or None
        The JSON, or ``None`` when the job must (re)run.
    """
    path = target_path(out_dir, job.participant, job.session, circuit_label(options))
    try:
        doc = read_target(path)
    except InputError:
        return None
    if any(doc.get(k) != v for k, v in fingerprint(options).items()):
        return None
    if job.space and doc.get("space") != job.space:
        return None
    if options.t_r is not None and any(
        r.get("t_r_s") != options.t_r for r in doc.get("run_details", [])
    ):
        return None
    if not set(checksums or []) <= set(doc.get("inputs", {}).values()):
        return None
    try:
        runs = job.runs()
    except InputError:
        return None
    if (doc.get("multi_echo") or {}).get("method") != multi_echo_method(runs, options):
        return None
    return doc if doc.get("runs") == [r.name for r in runs] else None


def multi_echo_method(runs: list, options) -> str | None:
    """Return the ``multi_echo.method`` a target of ``runs`` computed with ``options`` has.

    It is ``options.me_denoise`` for volumetric runs with echo-wise series, ``none`` for surface
    runs with echo-wise series beside them (echoes are not used on surfaces) and None for
    single-echo data (no ``multi_echo`` block): part of the resume check, so that a target made
    with another ``--me-denoise`` is recomputed while single-echo targets never depend on it.
    """
    if any(getattr(r, "echoes", ()) for r in runs):
        return options.me_denoise
    if runs and hasattr(runs[0], "files"):
        from ..io.multiecho import echo_files_beside

        return "none" if any(any(echo_files_beside(r.files[0])) for r in runs) else None
    return None


def one_blas_thread():
    """Return a context in which BLAS uses one thread, in every thread of this process.

    A target is computed in it wherever it runs: OpenBLAS splits the sums of matrix-vector products
    (the seed's connectivity with every voxel) among its threads, so with its default, one thread
    per core, the last bits of the score maps would depend on the machine's core count and differ
    between a serial run and a Dask worker (which starts with one BLAS thread). One thread also
    leaves the other core to the thread that reads the next run, and a worker per core does not
    over-subscribe the cores.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - a dependency of tmstarget
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def execute(job: Job, options, out_dir: Path, report: bool = False) -> Outcome:
    """Find the runs, compute and write the target of one job; errors propagate.

    The target JSON is written last, so its presence means the participant is complete. The target
    is computed with one BLAS thread (:func:`one_blas_thread`), so that its outputs are the same
    byte for byte in this process, on a local Dask cluster or on any scheduler's workers.
    """
    t0 = time.perf_counter()
    out_dir = Path(out_dir)
    runs = job.runs()
    from ..io.derivatives import write_target_outputs
    from ..targeting import compute_target

    with one_blas_thread():
        result = compute_target(
            runs, options, root=job.fmriprep_dir, meshes=job.surface_mesh or None
        )
    paths = write_target_outputs(result, out_dir, job.participant, job.session, job.fmriprep_dir)
    outcome = Outcome(
        job,
        "done",
        target=result.to_json(job.participant, job.session),
        written=list(paths.values()),
    )
    if report:
        try:
            from ..report import write_participant_report

            outcome.report = write_participant_report(
                out_dir, job.participant, job.session, outcome.target["circuit"]
            )
            outcome.written.append(outcome.report)
        except Exception as exc:  # noqa: BLE001 - a failed report never loses a target
            outcome.notes.append(f"report not written ({type(exc).__name__}: {exc})")
    outcome.seconds = time.perf_counter() - t0
    return outcome


def run_job(
    job: Job, options, out_dir: Path, report: bool = False, in_worker: bool = False
) -> Outcome:
    """Run :func:`execute`, turning any error into a failed :class:`Outcome`.

    This is what Dask workers run.
    """
    if in_worker:  # the parent shows progress and messages; workers stay silent
        from .._utils.progress import set_progress

        set_progress(False)
        logging.getLogger("tmstarget").handlers[:] = [logging.NullHandler()]
        logging.getLogger("tmstarget").propagate = False
    t0 = time.perf_counter()
    try:
        return execute(job, options, out_dir, report)
    except InputError as exc:
        return Outcome(job, "failed", error=str(exc), seconds=time.perf_counter() - t0)
    except Exception as exc:  # noqa: BLE001 - one participant's bug or crash must not stop the cohort
        return Outcome(
            job,
            "failed",
            error=f"{type(exc).__name__}: {exc}",
            seconds=time.perf_counter() - t0,
            detail=traceback.format_exc(),
        )
