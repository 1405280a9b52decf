"""Targeting a cohort: one job per participant (and session), run in this process or on Dask.

A :class:`Job` is a small, picklable description of where a participant's data are; :func:`run_job` finds
the runs, computes the target (volumetric or surface), writes the outputs and returns an :class:`Outcome`
without raising, so one participant's failure never stops the others. :func:`run_jobs` runs many jobs:
in this process for one job (or ``n_workers=1``), otherwise on a ``dask.distributed`` cluster — a local
one (one single-threaded worker process per core by default) or an existing one given by its scheduler
address. Participants whose target JSON already exists with the same parameters are skipped, so a run
that was killed resumes where it stopped (outputs are written atomically, the target JSON last).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
import traceback
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from .exceptions import InputError
from .io.derivatives import sha256, target_path, write_json_atomic, write_text_atomic

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
        BIDS task label and output space (``None``: the first MNI space found; ``fsaverage5`` / ``fsLR``
        select surface data).
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
        """The runs to target (``io.bids.Run`` or ``surface.SurfaceRun`` objects); raises InputError."""
        if self.is_surface:
            from .surface.io import explicit_surface_runs, find_surface_runs

            if self.bold:
                return explicit_surface_runs(list(self.bold), list(self.confounds))
            return find_surface_runs(self.fmriprep_dir, self.participant, self.session, self.task, self.space)
        from .io.bids import explicit_runs, find_runs

        if self.bold:
            return explicit_runs(list(self.bold), list(self.confounds), self.mask, self.space or "MNI152NLin6Asym")
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
    """

    job: Job
    status: str
    target: dict | None = None
    error: str | None = None
    seconds: float = 0.0
    detail: str | None = None
    report: Path | None = None
    notes: list[str] = field(default_factory=list)


def circuit_label(options) -> str:
    """Label of ``options.circuit`` as it appears in output names, without fetching anything."""
    from .circuits import _label_from_path

    if options.circuit_label:
        return options.circuit_label
    if options.circuit in ("sgacc", "convergent"):
        return options.circuit
    return _label_from_path(Path(options.circuit))


def resolve_options(options):
    """Fetch the ``convergent`` circuit once (before jobs are dispatched) and point the options at the file."""
    if options.circuit != "convergent":
        return options
    from .circuits import fetch_convergent

    return replace(options, circuit=str(fetch_convergent()), circuit_label=options.circuit_label or "convergent")


def fingerprint(options) -> dict:
    """The fields of a target JSON that identify the parameters it was computed with."""
    from .workflow import TargetResult

    dummy = TargetResult(
        target_mni=np.zeros(3), score=0.0, score_raw=0.0, circuit=circuit_label(options), method=options.method,
        space="", runs=[], score_map=np.zeros(0), affine=np.eye(4), n_search_voxels=0, options=options,
    )
    doc = dummy.to_json("", None)
    return {"circuit": doc["circuit"], "method": doc["method"], "parameters": doc["parameters"], "n_bootstrap": getattr(options, "bootstrap", 0) or None}


def _input_checksums(options) -> list[str]:
    """Checksums of the (small) circuit map and search mask files a reusable target must have used."""
    files = [options.circuit] if options.circuit != "sgacc" else []
    files += [options.search_mask] if options.search_mask else []
    return [sha256(f) for f in files if Path(f).is_file()]


def finished_target(job: Job, options, out_dir: Path, checksums: list[str] | None = None) -> dict | None:
    """The target JSON of an earlier run of ``job`` if it was computed with the same parameters and runs.

    Parameters
    ----------
    job : Job
    options : TargetingOptions
    out_dir : Path
        Derivatives folder.
    checksums : list of str, optional
        SHA-256 of the circuit map / search mask files (see :func:`_input_checksums`); each must appear
        among the earlier run's ``inputs``.

    Returns
    -------
    dict or None
        The JSON, or ``None`` when the job must (re)run.
    """
    path = target_path(out_dir, job.participant, job.session, circuit_label(options))
    try:
        doc = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    if any(doc.get(k) != v for k, v in fingerprint(options).items()):
        return None
    if job.space and doc.get("space") != job.space:
        return None
    if options.t_r is not None and any(r.get("t_r_s") != options.t_r for r in doc.get("run_details", [])):
        return None
    if not set(checksums or []) <= set(doc.get("inputs", {}).values()):
        return None
    try:
        names = [r.name for r in job.runs()]
    except InputError:
        return None
    return doc if doc.get("runs") == names else None


def execute(job: Job, options, out_dir: Path, report: bool = False) -> Outcome:
    """Find the runs, compute and write the target of one job; errors propagate.

    The target JSON is written last, so its presence means the participant is complete.
    """
    t0 = time.perf_counter()
    out_dir = Path(out_dir)
    runs = job.runs()
    if job.is_surface:
        from .surface import compute_surface_target, write_surface_outputs

        result = compute_surface_target(runs, options, root=job.fmriprep_dir, meshes=job.surface_mesh or None)
        write_surface_outputs(result, out_dir, job.participant, job.session, job.fmriprep_dir)
    else:
        from .io.outputs import write_target_outputs
        from .workflow import compute_target

        result = compute_target(runs, options, root=job.fmriprep_dir)
        write_target_outputs(result, out_dir, job.participant, job.session, job.fmriprep_dir)
    outcome = Outcome(job, "done", target=result.to_json(job.participant, job.session))
    if report:
        try:
            from .report import write_participant_report

            outcome.report = write_participant_report(out_dir, job.participant, job.session, outcome.target["circuit"])
        except Exception as exc:  # noqa: BLE001 - a failed report never loses a target
            outcome.notes.append(f"report not written ({type(exc).__name__}: {exc})")
    outcome.seconds = time.perf_counter() - t0
    return outcome


def run_job(job: Job, options, out_dir: Path, report: bool = False, in_worker: bool = False) -> Outcome:
    """:func:`execute`, turning any error into a failed :class:`Outcome` (this is what Dask workers run)."""
    if in_worker:  # the parent shows progress and messages; workers stay silent
        from ._utils.progress import set_progress

        set_progress(False)
        logging.getLogger("tmstarget").handlers[:] = [logging.NullHandler()]
        logging.getLogger("tmstarget").propagate = False
    t0 = time.perf_counter()
    try:
        return execute(job, options, out_dir, report)
    except InputError as exc:
        return Outcome(job, "failed", error=str(exc), seconds=time.perf_counter() - t0)
    except Exception as exc:  # noqa: BLE001 - one participant's bug or crash must not stop the cohort
        return Outcome(job, "failed", error=f"{type(exc).__name__}: {exc}", seconds=time.perf_counter() - t0, detail=traceback.format_exc())


class _ProgressLine:
    """``participants: [####    ] 3/20 (1 failed) 42s`` on stderr, redrawn in place; messages print above it."""

    def __init__(self, total: int, enabled: bool):
        self.total, self.done, self.failed, self.t0 = total, 0, 0, time.perf_counter()
        self.show = enabled and total > 1 and sys.stderr.isatty()

    def _draw(self) -> None:
        if self.show:
            bar = "#" * int(24 * self.done / self.total)
            fail = f" ({self.failed} failed)" if self.failed else ""
            sys.stderr.write(f"\r\033[Kparticipants: [{bar:<24}] {self.done}/{self.total}{fail} {time.perf_counter() - self.t0:4.0f}s")
            sys.stderr.flush()

    def advance(self, failed: bool) -> None:
        self.done += 1
        self.failed += int(failed)
        self._draw()

    def clear(self) -> None:
        if self.show:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()

    def close(self) -> None:
        if self.show:
            sys.stderr.write("\n")


def _log_outcome(o: Outcome, bar: _ProgressLine) -> None:
    bar.clear()
    if o.status == "failed":
        logger.error("tmstarget: error: %s: %s", o.job.name, o.error)
        if o.detail:
            logger.debug("%s", o.detail)
    elif o.status == "done":
        x, y, z = o.target["target_mni"]
        logger.info("%s: target MNI (%.1f, %.1f, %.1f), score %.3f (%.1f s)", o.job.name, x, y, z, o.target["score"], o.seconds)
    for note in o.notes:
        logger.warning("%s: %s", o.job.name, note)
    bar._draw()


def default_workers(n_jobs: int) -> int:
    """One worker per core (2 on a 2-core machine), never more than there are jobs."""
    return max(1, min(os.cpu_count() or 1, n_jobs))


def _dask_client(scheduler: str | None, n_workers: int):
    """A ``distributed.Client`` on an existing scheduler or a new local cluster (and the cluster to close)."""
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            return Client(scheduler, timeout="15s"), None
        except (OSError, TimeoutError) as exc:
            raise InputError(f"cannot connect to the Dask scheduler at {scheduler} ({exc}) — start it (dask scheduler) or leave out --scheduler") from exc
    cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR)
    return Client(cluster), cluster


def run_jobs(
    jobs: list[Job],
    options,
    out_dir: Path | str,
    scheduler: str | None = None,
    n_workers: int | None = None,
    report: bool = False,
    resume: bool = True,
    show_progress: bool = True,
) -> list[Outcome]:
    """Run targeting for every job; return one :class:`Outcome` per job, in job order.

    Parameters
    ----------
    jobs : list of Job
    options : TargetingOptions
    out_dir : path
        Derivatives folder.
    scheduler : str, optional
        Address of an existing Dask scheduler (``tcp://host:8786``); its workers must see the same paths.
    n_workers : int, optional
        Workers of the local cluster (default: one per core, at most one per job). ``1`` runs in this process.
    report : bool
        Write each participant's HTML report after its outputs.
    resume : bool
        Skip jobs whose target JSON exists with the same parameters (see :func:`finished_target`).
    show_progress : bool
        Draw a progress line on stderr (only when it is a terminal).

    Notes
    -----
    With a single job to run and no scheduler, the job runs in this process and its errors propagate
    (the command line prints them as one line). Otherwise failures become ``"failed"`` outcomes.
    """
    out_dir = Path(out_dir).resolve()
    options = resolve_options(options)
    checksums = _input_checksums(options)
    outcomes: dict[int, Outcome] = {}
    todo = []
    for i, job in enumerate(jobs):
        done = finished_target(job, options, out_dir, checksums) if resume else None
        if done is not None:
            outcomes[i] = Outcome(job, "skipped", target=done)
        else:
            todo.append(i)
    if len(outcomes):
        logger.info("%d of %d participant(s)/session(s) already done with the same parameters: skipped", len(outcomes), len(jobs))
    n_workers = n_workers or default_workers(len(todo))
    bar = _ProgressLine(len(todo), show_progress)
    if len(todo) == 1 and not scheduler and len(jobs) == 1:
        outcomes[todo[0]] = execute(jobs[todo[0]], options, out_dir, report)
        _log_outcome(outcomes[todo[0]], bar)
    elif todo and (n_workers == 1 or len(todo) == 1) and not scheduler:
        bar._draw()
        for i in todo:
            outcomes[i] = run_job(jobs[i], options, out_dir, report)
            bar.advance(outcomes[i].status == "failed")
            _log_outcome(outcomes[i], bar)
    elif todo:
        bar._draw()
        _run_on_dask([(i, jobs[i]) for i in todo], options, out_dir, report, scheduler, n_workers, bar, outcomes)
    bar.close()
    return [outcomes[i] for i in range(len(jobs))]


def _run_on_dask(items, options, out_dir, report, scheduler, n_workers, bar, outcomes) -> None:
    jobs = [job for _, job in items]
    for k, o, exc in parallel_map(run_job, [(job, options, out_dir, report, True) for job in jobs], scheduler, n_workers, "target"):
        if exc is not None:  # e.g. the worker process died (out of memory, killed)
            o = Outcome(jobs[k], "failed", error=f"worker failed ({type(exc).__name__}: {exc}) — rerun; finished participants are kept")
        outcomes[items[k][0]] = o
        bar.advance(o.status == "failed")
        _log_outcome(o, bar)


def parallel_map(fn, arg_tuples: list[tuple], scheduler: str | None = None, n_workers: int | None = None, name: str = "task"):
    """Yield ``(k, fn(*arg_tuples[k]), None)`` — or ``(k, None, exception)`` — as tasks finish on Dask.

    Parameters
    ----------
    fn : callable
        A module-level (picklable) function.
    arg_tuples : list of tuple
        Arguments of each call.
    scheduler : str, optional
        Existing scheduler address; default a local cluster of ``n_workers`` single-threaded processes.
    n_workers : int, optional
        Default: one per core, at most one per task.
    name : str
        Prefix of the Dask task keys.
    """
    from distributed import as_completed

    n_workers = n_workers or default_workers(len(arg_tuples))
    client, cluster = _dask_client(scheduler, n_workers)
    try:
        logger.info("running %d %s(s) on Dask (%s)", len(arg_tuples), name, scheduler or f"local cluster, {n_workers} worker(s)")
        futures = {client.submit(fn, *args, key=f"tmstarget-{name}-{k}", pure=False): k for k, args in enumerate(arg_tuples)}
        for fut in as_completed(list(futures)):
            try:
                yield futures[fut], fut.result(), None
            except Exception as exc:  # noqa: BLE001 - reported per task by the caller
                yield futures[fut], None, exc
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


#: Columns of the cohort table and their descriptions (written to the JSON sidecar).
GROUP_COLUMNS = {
    "participant_id": "participant label (sub-<l>)",
    "session": "session label, n/a without sessions",
    "space": "space of the BOLD data the target was computed in",
    "method": "targeting method",
    "x_mm": "target, MNI x (mm)",
    "y_mm": "target, MNI y (mm)",
    "z_mm": "target, MNI z (mm)",
    "score": "circuit score at the target (higher = better)",
    "n_volumes_used": "volumes kept after censoring",
    "n_volumes_censored": "volumes censored",
    "distance_to_group_mean_mm": "Euclidean distance from the target to the mean target of the table (mm)",
}


def group_rows(targets: list[dict]) -> tuple[list[dict], list[float]]:
    """Rows of the cohort table (sorted by participant and session) and the group mean target (MNI mm).

    Parameters
    ----------
    targets : list of dict
        Target JSONs (the output contract).
    """
    if not targets:
        raise InputError("no targets to tabulate — run the participant level first")
    targets = sorted(targets, key=lambda d: (str(d["participant"]), str(d.get("session") or "")))
    xyz = np.array([d["target_mni"] for d in targets], float)
    mean = xyz.mean(axis=0)
    dist = np.linalg.norm(xyz - mean, axis=1)
    rows = [
        {
            "participant_id": f"sub-{d['participant']}", "session": d.get("session") or "n/a", "space": d.get("space", "n/a"),
            "method": d.get("method", "n/a"), "x_mm": p[0], "y_mm": p[1], "z_mm": p[2], "score": d.get("score"),
            "n_volumes_used": d.get("n_volumes_used"), "n_volumes_censored": d.get("n_volumes_censored"),
            "distance_to_group_mean_mm": round(float(r), 1),
        }
        for d, p, r in zip(targets, xyz.round(1).tolist(), dist)
    ]
    return rows, [round(float(v), 1) for v in mean]


def read_targets(out_dir: Path | str, circuit: str, participants: list[str] | None = None) -> list[dict]:
    """Target JSONs of one circuit under a derivatives folder (optionally only some participants)."""
    out_dir = Path(out_dir)
    found = sorted(out_dir.glob(f"sub-*/**/sub-*_desc-{circuit}_target.json"))
    keep = {p.removeprefix("sub-") for p in participants} if participants else None
    docs = [json.loads(p.read_text()) for p in found]
    docs = [d for d in docs if keep is None or str(d.get("participant")) in keep]
    if not docs:
        labels = sorted({p.name.split("_desc-")[1].removesuffix("_target.json") for p in out_dir.glob("sub-*/**/sub-*_desc-*_target.json")})
        hint = f" (circuits there: {', '.join(labels)}; pass --circuit-label)" if labels else " (none at all: run the participant level first)"
        raise InputError(f"no {circuit} targets under {out_dir}{hint} — e.g. tmstarget target FMRIPREP_DIR {out_dir} participant")
    return docs


def write_group_table(out_dir: Path | str, circuit: str, participants: list[str] | None = None) -> tuple[Path, dict]:
    """Write the cohort table ``OUT/group_desc-<circuit>_targets.tsv`` and its JSON sidecar, atomically.

    Returns
    -------
    path : Path
        The TSV.
    summary : dict
        ``{"table": path, "n_targets": n, "group_mean_mni": [x, y, z], "rows": [...]}``.
    """
    rows, mean = group_rows(read_targets(out_dir, circuit, participants))
    cols = list(GROUP_COLUMNS)
    text = "\t".join(cols) + "\n" + "".join("\t".join("n/a" if r[c] is None else str(r[c]) for c in cols) + "\n" for r in rows)
    path = Path(out_dir) / f"group_desc-{circuit}_targets.tsv"
    sidecar = {c: {"Description": d} for c, d in GROUP_COLUMNS.items()}
    sidecar["GroupMeanMNI"] = mean
    write_json_atomic(path.with_suffix(".json"), sidecar)
    write_text_atomic(path, text)
    return path, {"table": str(path), "n_targets": len(rows), "group_mean_mni": mean, "rows": rows}


__all__ = [
    "GROUP_COLUMNS", "Job", "Outcome", "SURFACE_SPACES", "circuit_label", "execute", "finished_target", "fingerprint",
    "group_rows", "parallel_map", "read_targets", "run_job", "run_jobs", "write_group_table",
]
