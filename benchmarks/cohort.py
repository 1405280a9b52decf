"""Cohort throughput (issue 28): participants per minute, serially and on 2 Dask workers.

Usage: python benchmarks/cohort.py [--participants 8] [--distinct 2] [--volumes 150] [--repeat 1]
[--out DIR]

The cohort: ``--participants`` participants of 2 runs x ``--volumes`` volumes (TR 2 s), simulated as
``benchmarks/plan.py`` does (fMRIPrep layout, MNI 2 mm, full 91 x 109 x 91 field of view, float32,
seed 5). Only ``--distinct`` participants are simulated; they are hard-linked under new labels up to
``--participants`` (the work per participant is that of distinct data: every participant is read,
cleaned and targeted from its own files). Each participant is targeted with the default
``tmstarget target`` options (the 95% region on, 200 resamples) and the convergent depression
circuit from ``../shared/data/circuits`` (as ``plan.py``).

Three modes, each the ``tmstarget target ... participant`` command line in a fresh process, as a
user runs it (start-up, imports and the Dask cluster's start included):

- **serial**: ``--n-workers 1`` (every participant in that process, one after another);
- **local Dask, 2 workers**: ``--n-workers 2`` (a ``LocalCluster`` of 2 single-threaded worker
  processes, started and closed by the command);
- **external scheduler**: ``dask scheduler`` and 2 x ``dask worker ADDRESS --nworkers 1 --nthreads
  1`` started from the command line before the timing (a cluster user's long-lived workers), then
  ``--scheduler ADDRESS``; the scheduler and workers are shut down at the end, also on failure.

Before the timings one participant is targeted once to fill the data cache (``$TMSTARGET_DATA``,
placement landscapes and template masks on disk) and the page cache, as on a cluster that has
already run one participant on this grid. Printed: participants per minute of each mode (best of
``--repeat``), the speed-up from 1 to 2 workers, the load average before/after each run, and
whether every output file is byte-identical across the three modes. Also the CPU seconds per
participant (user + system of every process of the run, workers included) and the ceiling they put
on a cohort's rate on idle cores (cores x 60 / CPU s): on a shared machine the wall times measure
the other work as much as this one (the kernel's autogroup scheduling gives each session an equal
share of the CPU however many workers it runs), the CPU seconds much less. Goal (issue 28): >= 20
participants per minute with 2 workers on 2 cores, >= 1.7x from 1 to 2 workers.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from targeting import SHARED_CIRCUIT

REPO = Path(__file__).resolve().parents[1]
#: The ``dask`` command line of the Python running this script (the venv's entry point).
DASK = Path(sys.executable).with_name("dask")


def cohort_dataset(root: Path, n: int, distinct: int, volumes: int) -> Path:
    """Simulate ``distinct`` participants (as plan.py) and hard-link them as sub-01 … sub-<n>."""
    from tmstarget.simulate import SimulationParams, simulate_dataset

    src = root / f"fmriprep-{n}x2x{volumes}"
    if (src / f"sub-{n:02d}").is_dir():
        return src
    shutil.rmtree(src, ignore_errors=True)
    base = root / f"distinct-{distinct}x2x{volumes}"
    if not (base / f"sub-{distinct:02d}").is_dir():
        print(f"simulating {distinct} participant(s) in {base} (one time) ...", flush=True)
        simulate_dataset(
            base, distinct, 1, 2, SimulationParams(n_volumes=volumes, fov="full"), seed=5
        )
    for i in range(n):
        origin, label = f"sub-{i % distinct + 1:02d}", f"sub-{i + 1:02d}"
        for f in (base / origin).rglob("*"):
            if f.is_file():
                dst = src / str(f.relative_to(base)).replace(origin, label)
                dst.parent.mkdir(parents=True, exist_ok=True)
                os.link(f, dst)
    shutil.copy(base / "dataset_description.json", src / "dataset_description.json")
    return src


def _warm_page_cache(src: Path) -> None:
    for f in sorted(src.rglob("*_bold.nii.gz")):
        with open(f, "rb") as fh:
            while fh.read(1 << 24):
                pass


def _load() -> str:
    return "/".join(f"{v:.1f}" for v in os.getloadavg())


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of finished children and of ``pids`` (with their children)."""
    import psutil

    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = ru.ru_utime + ru.ru_stime
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            for p in [proc, *proc.children(recursive=True)]:
                t = p.cpu_times()
                total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def _target(
    src: Path, out: Path, env: dict, circuit: Path, *extra: str, pids=()
) -> tuple[float, float, list[float]]:
    """Run ``tmstarget target SRC OUT participant`` in a fresh process.

    Returns its wall time, the CPU seconds it used (with those of the processes ``pids``: the
    external Dask workers) and each participant's own time as the command logs it (from reading
    its files to writing its outputs: without start-up, imports and the cluster's start).
    """
    argv = [sys.executable, "-m", "tmstarget.cli.main", "target", str(src), str(out)]
    argv += ["participant", "--rerun", "--circuit", str(circuit), *extra]
    cpu0 = _cpu_seconds(list(pids))
    t0 = time.perf_counter()
    res = subprocess.run(argv, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if res.returncode != 0:
        raise SystemExit(f"tmstarget target failed ({res.returncode}):\n{res.stderr[-3000:]}")
    jobs = [float(m) for m in re.findall(r": target MNI .*\((\d+\.\d+) s\)$", res.stderr, re.M)]
    return wall, _cpu_seconds(list(pids)) - cpu0, jobs


class ExternalCluster:
    """``dask scheduler`` and ``n`` x ``dask worker ADDRESS`` started as subprocesses.

    Used as a context manager; every process started is stopped on exit (SIGTERM, then SIGKILL of
    its process group after 20 s), also when the body fails.
    """

    def __init__(self, n_workers: int, env: dict, workdir: Path):
        self.n_workers, self.env, self.workdir = n_workers, env, workdir
        self.procs: list[subprocess.Popen] = []
        self.address = ""

    def _start(self, *args: str, log: str) -> subprocess.Popen:
        fh = open(self.workdir / log, "w")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            [str(DASK), *args],
            env=self.env,
            stdout=fh,
            stderr=subprocess.STDOUT,
            # its own process group (the nanny's worker is stopped with it) but this session: with
            # the kernel's autogroup scheduling a new session would get its own share of a busy
            # machine's CPU, which the serial and local-Dask runs do not get
            process_group=0,
        )
        proc.log = fh  # type: ignore[attr-defined]
        self.procs.append(proc)
        return proc

    def __enter__(self) -> ExternalCluster:
        self.workdir.mkdir(parents=True, exist_ok=True)
        # the workers' allocator settings as docs/cohort.md tells a cluster user to set them
        from tmstarget.cohort.run import WORKER_MALLOC_ENV

        conf = self.workdir / "dask-config"
        conf.mkdir(exist_ok=True)
        (conf / "tmstarget.yaml").write_text(
            "distributed:\n  nanny:\n    pre-spawn-environ:\n"
            + "".join(f"      {k}: {v}\n" for k, v in WORKER_MALLOC_ENV.items())
        )
        self.env = {**self.env, "DASK_CONFIG": str(conf)}
        info = self.workdir / "scheduler.json"
        info.unlink(missing_ok=True)
        try:
            self._start(
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(info),
                log="scheduler.log",
            )
            deadline = time.time() + 60
            while not info.is_file() and time.time() < deadline:
                time.sleep(0.1)
            self.address = json.loads(info.read_text())["address"]
            for k in range(self.n_workers):
                self._start(
                    "worker",
                    self.address,
                    "--nworkers",
                    "1",
                    "--nthreads",
                    "1",
                    "--no-dashboard",
                    "--name",
                    f"w{k}",
                    "--local-directory",
                    str(self.workdir / f"w{k}"),
                    log=f"worker-{k}.log",
                )
            from distributed import Client

            with Client(self.address, timeout="30s") as client:
                client.wait_for_workers(self.n_workers, timeout=120)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        for proc in reversed(self.procs):  # workers first, then the scheduler
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            proc.log.close()  # type: ignore[attr-defined]
        self.procs.clear()


def _tree(out: Path) -> dict[str, str]:
    """SHA-256 of every file under ``out``, by relative path."""
    return {
        str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*"))
        if p.is_file()
    }


def _compare(trees: dict[str, dict[str, str]]) -> list[str]:
    """Return the files missing from a mode, extra in it or differing from the serial run's."""
    ref, bad = trees["serial"], []
    for mode, tree in trees.items():
        for rel in sorted(set(ref) | set(tree)):
            if rel not in tree:
                bad.append(f"{mode}: {rel} missing")
            elif rel not in ref:
                bad.append(f"{mode}: {rel} extra")
            elif ref[rel] != tree[rel]:
                bad.append(f"{mode}: {rel} differs")
    return bad


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--participants", type=int, default=8)
    ap.add_argument("--distinct", type=int, default=2)
    ap.add_argument("--volumes", type=int, default=150)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=1, help="runs per mode; the best is used")
    ap.add_argument("--circuit", type=Path, default=SHARED_CIRCUIT, help="the circuit map")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "out" / "cohort")
    args = ap.parse_args()
    if not args.circuit.is_file():
        raise SystemExit(f"the circuit map is missing: {args.circuit} (pass --circuit PATH)")
    if not DASK.is_file():
        raise SystemExit(f"the dask command line is missing: {DASK} (install dask[distributed])")
    out = args.out.resolve()
    src = cohort_dataset(out, args.participants, args.distinct, args.volumes).resolve()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    env["TMSTARGET_DATA"] = str(out / "data-cache")
    print(
        f"cohort: {args.participants} participants x 2 runs x {args.volumes} volumes, "
        f"MNI 2 mm full field of view ({args.distinct} simulated, hard-linked under "
        f"{args.participants} labels); "
        f"default options (95% region, 200 resamples), convergent circuit; {os.cpu_count()} cores; "
        f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}",
        flush=True,
    )
    _warm_page_cache(src)
    one = ("--participant-label", "01", "--n-workers", "1")
    warm = _target(src, out / "warm-up", env, args.circuit, *one)[0]
    print(f"warm-up (1 participant, fills the data cache): {warm:.1f} s", flush=True)

    n = args.participants
    modes = {
        "serial": ("--n-workers", "1"),
        f"local Dask, {args.workers} workers": ("--n-workers", str(args.workers)),
    }
    rows: dict[str, dict] = {}
    dirs: dict[str, Path] = {}

    def measure(mode: str, extra: tuple[str, ...], pids=()) -> None:
        dirs[mode] = out / ("targets-" + mode.split(",")[0].replace(" ", "-"))
        shutil.rmtree(dirs[mode], ignore_errors=True)
        runs = []
        for _ in range(args.repeat):
            before = _load()
            wall, cpu, jobs = _target(src, dirs[mode], env, args.circuit, *extra, pids=pids)
            runs.append((wall, before, _load(), cpu, jobs))
            print(
                f"  {mode}: {wall:6.1f} s = {60 * n / wall:5.1f} participants/min, "
                f"{cpu / n:.1f} CPU s per participant, {cpu / wall:.2f} cores busy, "
                f"each participant {min(jobs, default=0):.1f}-{max(jobs, default=0):.1f} s "
                f"(load {before} -> {runs[-1][2]})",
                flush=True,
            )
        best = min(runs)
        rows[mode] = {
            "wall_s": round(best[0], 1),
            "per_minute": round(60 * n / best[0], 1),
            "load_before": best[1],
            "load_after": best[2],
            "cpu_s_per_participant": round(best[3] / n, 1),
            "cores_busy": round(best[3] / best[0], 2),
            "participant_s": [round(t, 1) for t in best[4]],
            "runs_s": [round(r[0], 1) for r in runs],
        }

    for mode, extra in modes.items():
        measure(mode, extra)
    ext = f"external scheduler, {args.workers} workers"
    with ExternalCluster(args.workers, env, out / "dask-cli") as cluster:
        print(f"  (dask scheduler at {cluster.address}, {args.workers} dask worker(s))", flush=True)
        measure(ext, ("--scheduler", cluster.address), [p.pid for p in cluster.procs])

    trees = {m: _tree(d) for m, d in dirs.items()}
    diff = _compare(trees)
    serial, local = rows["serial"]["wall_s"], rows[f"local Dask, {args.workers} workers"]["wall_s"]
    cores = os.cpu_count() or 1
    print(
        "\n| mode | wall (s) | participants/min | CPU s per participant | cores busy "
        f"| CPU-bound ceiling on {cores} idle cores (/min) "
        "| load average (1/5/15 min) before -> after |"
    )
    print("|---|---:|---:|---:|---:|---:|---|")
    for mode, r in rows.items():
        r["ceiling_per_minute"] = round(60 * cores / r["cpu_s_per_participant"], 1)
        print(
            f"| {mode} | {r['wall_s']} | {r['per_minute']} | {r['cpu_s_per_participant']} | "
            f"{r['cores_busy']} | {r['ceiling_per_minute']} | "
            f"{r['load_before']} -> {r['load_after']} |"
        )
    print(
        f"\nspeed-up 1 -> {args.workers} workers: {serial / local:.2f}x (local Dask), "
        f"{serial / rows[ext]['wall_s']:.2f}x (external scheduler); goals >= 20/min, >= 1.7x"
    )
    n_files = len(trees["serial"])
    print(
        f"outputs: {n_files} files per mode; "
        + (
            "every file byte-identical across the three modes"
            if not diff
            else f"{len(diff)} difference(s):\n  " + "\n  ".join(diff)
        )
    )
    rows["speedup_local"] = round(serial / local, 2)
    rows["identical"] = not diff
    print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    t0 = time.perf_counter()
    main()
    print(f"(benchmark ran {time.perf_counter() - t0:.0f} s)")
