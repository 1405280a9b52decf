"""Running many jobs: in this process or on a ``dask.distributed`` cluster, with a progress line."""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

from ..exceptions import InputError
from ..targeting.uncertainty.summaries import verdict_line
from .jobs import Job, Outcome, _input_checksums, execute, finished_target, resolve_options, run_job

logger = logging.getLogger("tmstarget.cohort")


class _ProgressLine:
    """Progress line on stderr, redrawn in place; messages print above it.

    It reads ``participants: [####    ] 3/20 (1 failed) 42s``.
    """

    def __init__(self, total: int, enabled: bool):
        self.total, self.done, self.failed, self.t0 = total, 0, 0, time.perf_counter()
        self.show = enabled and total > 1 and sys.stderr.isatty()

    def _draw(self) -> None:
        if self.show:
            bar = "#" * int(24 * self.done / self.total)
            fail = f" ({self.failed} failed)" if self.failed else ""
            sys.stderr.write(
                f"\r\033[Kparticipants: [{bar:<24}] {self.done}/{self.total}{fail} "
                f"{time.perf_counter() - self.t0:4.0f}s"
            )
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
        logger.error("tmstarget target: error: %s: %s", o.job.name, o.error)
        if o.detail:
            logger.debug("%s", o.detail)
    elif o.status == "done":
        x, y, z = o.target["target_mni"]
        logger.info(
            "%s: target MNI (%.1f, %.1f, %.1f), score %.3f (%.1f s)",
            o.job.name,
            x,
            y,
            z,
            o.target["score"],
            o.seconds,
        )
        logger.info("%s: %s", o.job.name, verdict_line(o.target))
        if o.target.get("shrinkage"):
            logger.info("%s: %s", o.job.name, o.target["shrinkage"]["sentence"])
        if o.target.get("coil_placement"):
            logger.info("%s: %s", o.job.name, placement_line(o.target["coil_placement"]))
    for note in o.notes:
        logger.warning("%s: %s", o.job.name, note)
    bar._draw()


def placement_line(block: dict) -> str:
    """One line for a coil-scale target: where the coil goes and how sure its centre is."""
    p = block["placement"]
    line = (
        "coil placement: scalp entry "
        f"({', '.join(f'{v:.1f}' for v in p['scalp_entry_mm'])}), "
        f"{p['handle_description']}; "
        f"expected E-field-weighted score {block['expected_score']:.3f} "
        f"over {block['placement_error_mm']:g} mm / "
        f"±{block['placement_error_deg']:g}° placement error"
    )
    centre = block.get("coil_centre_confidence")
    if centre and centre.get("spans_search_area"):
        line += (
            "; coil centre 95% region spans the whole search "
            f"area (>= {centre['radius_mm']:.1f} mm)"
        )
    elif centre:
        line += (
            f"; coil centre 95% region radius {centre['radius_mm']:.1f} "
            f"mm (handle ±{centre['handle_spread_deg']:.0f}°)"
        )
    if centre and not centre.get("region_calibrated", True):
        line += " — region not yet calibrated against held-out sessions"
    return line


def default_workers(n_jobs: int) -> int:
    """One worker per core (2 on a 2-core machine), never more than there are jobs."""
    return max(1, min(os.cpu_count() or 1, n_jobs))


#: glibc allocator settings for the local cluster's worker processes (issue 28). Dask's nanny sets
#: ``MALLOC_TRIM_THRESHOLD_=65536`` before it starts a worker, to hand freed memory back to the
#: system; setting any of glibc's thresholds also switches off its adaptive mmap threshold, so
#: every array above 128 KiB is mapped and unmapped again and its pages are faulted in anew. On a
#: participant of 2 x 150 volumes (``tmstarget target``, one BLAS thread) that doubled the minor
#: page faults (689,969 against 335,181 without it) and cost 0.4-1.0 s of system time (~10% of
#: the participant's CPU time). These values restore what glibc does by itself on that run
#: (329,356 faults): arrays up to 32 MiB (glibc's own adaptive ceiling) come from the heap, and up
#: to 1 GiB of freed heap is kept for the next participant.
WORKER_MALLOC_ENV = {"MALLOC_TRIM_THRESHOLD_": 1 << 30, "MALLOC_MMAP_THRESHOLD_": 32 << 20}


def _dask_client(scheduler: str | None, n_workers: int):
    """Return a ``distributed.Client`` on an existing scheduler or a new local cluster.

    The cluster to close is returned with it.
    """
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            return Client(scheduler, timeout="15s"), None
        except (OSError, TimeoutError) as exc:
            raise InputError(
                f"cannot connect to the Dask scheduler at {scheduler} "
                f"({exc}) — start it (dask scheduler) or leave "
                "out --scheduler"
            ) from exc
    import dask

    environ = {**dask.config.get("distributed.nanny.pre-spawn-environ", {}), **WORKER_MALLOC_ENV}
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
        cluster = LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
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
        Address of an existing Dask scheduler (``tcp://host:8786``); its workers must see the same
        paths.
    n_workers : int, optional
        Workers of the local cluster (default: one per core, at most one per job). ``1`` runs in
        this process.
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
        logger.info(
            "%d of %d participant(s)/session(s) already done with the same parameters: skipped",
            len(outcomes),
            len(jobs),
        )
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
        _run_on_dask(
            [(i, jobs[i]) for i in todo],
            options,
            out_dir,
            report,
            scheduler,
            n_workers,
            bar,
            outcomes,
        )
    bar.close()
    return [outcomes[i] for i in range(len(jobs))]


def _run_on_dask(items, options, out_dir, report, scheduler, n_workers, bar, outcomes) -> None:
    jobs = [job for _, job in items]
    for k, o, exc in parallel_map(
        run_job,
        [(job, options, out_dir, report, True) for job in jobs],
        scheduler,
        n_workers,
        "target",
    ):
        if exc is not None:  # e.g. the worker process died (out of memory, killed)
            o = Outcome(
                jobs[k],
                "failed",
                error=f"worker failed ({type(exc).__name__}: {exc}) "
                "— rerun; finished participants are kept",
            )
        outcomes[items[k][0]] = o
        bar.advance(o.status == "failed")
        _log_outcome(o, bar)


def parallel_map(
    fn,
    arg_tuples: list[tuple],
    scheduler: str | None = None,
    n_workers: int | None = None,
    name: str = "task",
):
    """Run tasks on Dask and yield their results as they finish.

    Each result is ``(k, fn(*arg_tuples[k]), None)``, or ``(k, None, exception)`` when the call
    failed.

    Parameters
    ----------
    fn : callable
        A module-level (picklable) function.
    arg_tuples : list of tuple
        Arguments of each call.
    scheduler : str, optional
        Existing scheduler address; default a local cluster of ``n_workers`` single-threaded
        processes.
    n_workers : int, optional
        Default: one per core, at most one per task.
    name : str
        Prefix of the Dask task keys.
    """
    from distributed import as_completed

    n_workers = n_workers or default_workers(len(arg_tuples))
    client, cluster = _dask_client(scheduler, n_workers)
    try:
        logger.info(
            "running %d %s(s) on Dask (%s)",
            len(arg_tuples),
            name,
            scheduler or f"local cluster, {n_workers} worker(s)",
        )
        futures = {
            client.submit(fn, *args, key=f"tmstarget-{name}-{k}", pure=False): k
            for k, args in enumerate(arg_tuples)
        }
        for fut in as_completed(list(futures)):
            try:
                yield futures[fut], fut.result(), None
            except Exception as exc:  # noqa: BLE001 - reported per task by the caller
                yield futures[fut], None, exc
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
