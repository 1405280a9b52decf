"""Cohorts: `tmstarget target` over several participants on Dask.

Checked: failures, resume after a kill, and the group table.
"""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from tmstarget.cli.main import main
from tmstarget.cohort import Job, execute, finished_target, group_rows, run_jobs
from tmstarget.exceptions import InputError
from tmstarget.targeting import TargetingOptions

#: Participants of the small cohort: (source run, first volume); None = broken confounds.
COHORT = {"01": ("run-1", 0), "02": ("run-2", 0), "03": None, "04": ("run-1", 30)}
N_VOLUMES = 110
FAST = ["--min-volumes", "60", "--bootstrap", "0", "--quiet"]


def _write_participant(
    func_src: Path, root: Path, label: str, run: str, start: int, broken: bool
) -> None:
    """Write a cropped, uncompressed, 110-volume copy of one simulated run, fMRIPrep-named.

    The crop keeps the left frontal region and the sgACC.
    """
    bold = nib.load(next(func_src.glob(f"*{run}*_desc-preproc_bold.nii.gz")))
    mask = nib.load(next(func_src.glob(f"*{run}*_desc-brain_mask.nii.gz")))
    corner = np.floor(np.linalg.solve(bold.affine, [-70, -12, -26, 1])[:3]).astype(int)
    far = np.ceil(np.linalg.solve(bold.affine, [14, 72, 68, 1])[:3]).astype(int)
    box = tuple(slice(a, b) for a, b in zip(corner, far))
    func = root / f"sub-{label}" / "func"
    func.mkdir(parents=True)
    stem = func / f"sub-{label}_task-rest_space-MNI152NLin6Asym_res-2"
    data = np.asarray(bold.dataobj[box + (slice(start, start + N_VOLUMES),)], dtype=np.float32)
    nib.save(nib.Nifti1Image(data, bold.slicer[box].affine), f"{stem}_desc-preproc_bold.nii")
    (func / f"{stem.name}_desc-preproc_bold.json").write_text(json.dumps({"RepetitionTime": 2.0}))
    nib.save(mask.slicer[box], f"{stem}_desc-brain_mask.nii.gz")
    table = pd.read_csv(
        next(func_src.glob(f"*{run}*_desc-confounds_timeseries.tsv")), sep="\t"
    ).iloc[start : start + N_VOLUMES]
    if broken:
        table = table.iloc[:-7]
    table.to_csv(
        func / f"sub-{label}_task-rest_desc-confounds_timeseries.tsv",
        sep="\t",
        index=False,
        na_rep="n/a",
    )


@pytest.fixture(scope="module")
def cohort(sim_dataset, tmp_path_factory) -> Path:
    """Four small participants; sub-03's confounds have the wrong number of rows."""
    src, _ = sim_dataset
    root = tmp_path_factory.mktemp("cohort") / "fmriprep"
    for label, spec in COHORT.items():
        run, start = spec or ("run-1", 0)
        _write_participant(src / "sub-01" / "func", root, label, run, start, broken=spec is None)
    return root


def _targets(out: Path) -> dict[str, dict]:
    return {
        p.name[4:6]: json.loads(p.read_text())
        for p in sorted(out.glob("sub-*/sub-*_desc-sgacc_target.json"))
    }


def test_dask_cohort_reports_failure_and_matches_serial(cohort, tmp_path, capsys):
    out = tmp_path / "dask"
    code = main(["target", str(cohort), str(out), "participant", "--n-workers", "2", *FAST[:4]])
    err = capsys.readouterr().err
    assert code == 2
    errors = [line for line in err.splitlines() if line.startswith("tmstarget target: error:")]
    assert (
        len(errors) == 1
        and "sub-03" in errors[0]
        and "rows but the BOLD run has 110 volumes" in errors[0]
    ), err
    assert "1 of 4 participant(s)/session(s) failed: sub-03" in err
    assert "Traceback" not in err
    parallel = _targets(out)
    assert sorted(parallel) == ["01", "02", "04"]
    assert not (out / "sub-03").exists() or not any((out / "sub-03").iterdir())
    # the same participants in this process give the same targets
    serial_out = tmp_path / "serial"
    code = main(
        [
            "target",
            str(cohort),
            str(serial_out),
            "participant",
            "--participant-label",
            "01",
            "02",
            "--n-workers",
            "1",
            *FAST,
        ]
    )
    assert code == 0
    for label, doc in _targets(serial_out).items():
        assert doc["target_mni"] == parallel[label]["target_mni"]
        assert doc["score"] == pytest.approx(parallel[label]["score"], abs=2e-4)
    # group level: one row per target, distances to the mean target
    code = main(["target", str(cohort), str(out), "group", "--json", "--quiet"])
    summary = json.loads(capsys.readouterr().out)
    assert code == 0 and summary["n_targets"] == 3
    lines = (out / "group_desc-sgacc_targets.tsv").read_text().splitlines()
    assert lines[0].split("\t")[:5] == ["participant_id", "session", "space", "method", "x_mm"]
    assert [row.split("\t")[0] for row in lines[1:]] == ["sub-01", "sub-02", "sub-04"]
    mean = np.mean([d["target_mni"] for d in parallel.values()], axis=0)
    assert summary["group_mean_mni"] == pytest.approx(mean, abs=0.051)
    assert (
        json.loads((out / "group_desc-sgacc_targets.json").read_text())["GroupMeanMNI"]
        == summary["group_mean_mni"]
    )


def test_existing_scheduler_and_skip(cohort, tmp_path, capsys):
    from distributed import LocalCluster

    out = tmp_path / "out"
    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        code = main(
            [
                "target",
                str(cohort),
                str(out),
                "participant",
                "--participant-label",
                "01",
                "04",
                "--scheduler",
                cluster.scheduler_address,
                *FAST,
            ]
        )
    assert code == 0, capsys.readouterr().err
    first = {p: p.stat().st_mtime_ns for p in out.rglob("*_target.json")}
    assert len(first) == 2
    # same parameters: nothing is recomputed, the JSON is still printed
    code = main(
        [
            "target",
            str(cohort),
            str(out),
            "participant",
            "--participant-label",
            "01",
            "04",
            "--json",
            "--min-volumes",
            "60",
            "--bootstrap",
            "0",
        ]
    )
    cap = capsys.readouterr()
    assert code == 0 and "2 of 2 participant(s)/session(s) already done" in cap.err
    assert [d["participant"] for d in json.loads(cap.out)] == ["01", "04"]
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*_target.json")} == first
    # other parameters: recomputed
    job = Job("01", None, cohort)
    assert finished_target(job, TargetingOptions(min_volumes=60), out) is not None
    assert finished_target(job, TargetingOptions(min_volumes=60, fwhm_mm=4.0), out) is None
    assert finished_target(job, TargetingOptions(min_volumes=60, method="similarity"), out) is None


def test_killed_run_resumes(cohort, tmp_path):
    out = tmp_path / "out"
    argv = [
        sys.executable,
        "-m",
        "tmstarget.cli.main",
        "target",
        str(cohort),
        str(out),
        "participant",
        "--participant-label",
        "01",
        "02",
        "04",
        "--n-workers",
        "1",
        *FAST,
    ]
    proc = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    deadline = time.time() + 120
    while not list(out.rglob("*_target.json")) and time.time() < deadline and proc.poll() is None:
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = sorted(p.name for p in out.rglob("*_target.json"))
    assert 1 <= len(done_before) < 3, "the run finished before it could be killed"
    assert not [
        p
        for p in out.rglob("sub-*")
        if p.is_file() and p.name.endswith(".json") and p.stat().st_size == 0
    ]
    res = subprocess.run([*argv[:-1], "--json"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert f"{len(done_before)} of 3 participant(s)/session(s) already done" in res.stderr
    assert sorted(d["participant"] for d in json.loads(res.stdout)) == ["01", "02", "04"]


def test_jobs_pickle_and_group_rows(cohort, tmp_path):
    job = Job("01", "1", cohort, space="fsaverage5")
    assert pickle.loads(pickle.dumps(job)) == job and job.is_surface and job.name == "sub-01 ses-1"
    docs = [
        {
            "participant": "02",
            "session": None,
            "target_mni": [-40.0, 40.0, 30.0],
            "score": 0.2,
            "n_volumes_used": 100,
            "n_volumes_censored": 2,
        },
        {
            "participant": "01",
            "session": None,
            "target_mni": [-36.0, 40.0, 30.0],
            "score": 0.3,
            "n_volumes_used": 90,
            "n_volumes_censored": 12,
        },
    ]
    rows, mean = group_rows(docs)
    assert [r["participant_id"] for r in rows] == ["sub-01", "sub-02"] and mean == [
        -38.0,
        40.0,
        30.0,
    ]
    assert [r["distance_to_group_mean_mm"] for r in rows] == [2.0, 2.0]
    assert run_jobs([], TargetingOptions(), tmp_path) == []
    with pytest.raises(
        InputError, match="no sgacc targets under .* run the participant level first"
    ):
        main(["target", str(cohort), str(tmp_path / "none"), "group", "--debug"])


def test_group_level_without_targets_is_one_line(cohort, tmp_path, capsys):
    code = main(["target", str(cohort), str(tmp_path / "empty"), "group"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "no sgacc targets" in err[0]


def test_report_flag_writes_participant_report(cohort, tmp_path, capsys):
    pytest.importorskip("tmstarget.report")
    out = tmp_path / "out"
    code = main(
        [
            "target",
            str(cohort),
            str(out),
            "participant",
            "--participant-label",
            "04",
            "--report",
            *FAST,
        ]
    )
    assert code == 0, capsys.readouterr().err
    assert (out / "sub-04" / "sub-04_desc-sgacc_report.html").is_file()


def _start(argv: list[str], log: Path) -> subprocess.Popen:
    """Start a ``dask`` command line in its own process group, its output in ``log``."""
    env = dict(os.environ)  # TMSTARGET_DATA of this test session included
    env["PYTHONPATH"] = os.pathsep.join(
        [str(Path(__import__("tmstarget").__file__).parents[1]), env.get("PYTHONPATH", "")]
    )
    with open(log, "w") as fh:
        return subprocess.Popen(argv, env=env, stdout=fh, stderr=subprocess.STDOUT, process_group=0)


def _stop(procs: list[subprocess.Popen]) -> None:
    for proc in reversed(procs):
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_scheduler_started_from_command_line_gives_the_serial_bytes(cohort, tmp_path):
    """``dask scheduler`` and two ``dask worker ADDRESS``, as a cluster user starts them.

    ``tmstarget target --scheduler ADDRESS`` writes the same files, byte for byte, as a serial run
    in this process (whose BLAS has a thread per core, while the workers' has one).
    """
    dask_cli = Path(sys.executable).with_name("dask")
    if not dask_cli.is_file():
        pytest.skip(f"the dask command line is not installed ({dask_cli})")
    labels = ["--participant-label", "01", "04"]
    opts = ["--min-volumes", "60", "--bootstrap", "20", "--quiet"]
    serial = tmp_path / "serial"
    assert (
        main(
            ["target", str(cohort), str(serial), "participant", *labels, "--n-workers", "1"] + opts
        )
        == 0
    )
    info = tmp_path / "scheduler.json"
    procs = [
        _start(
            [
                str(dask_cli),
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(info),
            ],
            tmp_path / "scheduler.log",
        )
    ]
    try:
        deadline = time.time() + 60
        while not info.is_file() and time.time() < deadline:
            time.sleep(0.1)
        address = json.loads(info.read_text())["address"]
        for k in range(2):
            procs.append(
                _start(
                    [
                        str(dask_cli),
                        "worker",
                        address,
                        "--nworkers",
                        "1",
                        "--nthreads",
                        "1",
                        "--no-dashboard",
                        "--local-directory",
                        str(tmp_path / f"w{k}"),
                    ],
                    tmp_path / f"worker-{k}.log",
                )
            )
        external = tmp_path / "external"
        code = main(
            ["target", str(cohort), str(external), "participant", *labels, "--scheduler", address]
            + opts
        )
        assert code == 0, (tmp_path / "worker-0.log").read_text()[-2000:]
    finally:
        _stop(procs)
    assert all(p.returncode is not None for p in procs)
    want, got = _files(serial), _files(external)
    assert len(want) == 9 and "sub-04/sub-04_desc-sgacc_target.json" in want
    assert json.loads(want["sub-04/sub-04_desc-sgacc_target.json"])["n_bootstrap"] == 20
    assert sorted(got) == sorted(want)
    assert [name for name in want if got[name] != want[name]] == []


def test_target_is_computed_with_one_blas_thread(cohort, tmp_path, monkeypatch):
    """Whatever BLAS threads the process has, a target is computed with one, as on Dask workers.

    With more, OpenBLAS splits the sums of matrix-vector products among them and the score maps'
    last bits depend on the number of cores.
    """
    threadpoolctl = pytest.importorskip("threadpoolctl")
    import tmstarget.targeting as targeting

    def blas_threads() -> list[int]:
        return [
            p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"
        ]

    seen, compute = [], targeting.compute_target

    def spy(*args, **kwargs):
        seen.append(blas_threads())
        return compute(*args, **kwargs)

    monkeypatch.setattr(targeting, "compute_target", spy)
    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        before = blas_threads()
        outcome = execute(Job("01", None, cohort), TargetingOptions(min_volumes=60), tmp_path)
        after = blas_threads()
    assert before and set(before) == {2} and after == before
    assert outcome.status == "done" and len(seen) == 1 and set(seen[0]) == {1}


def test_local_cluster_workers_keep_glibcs_adaptive_allocator():
    """Local workers start with WORKER_MALLOC_ENV, not Dask's 64 KiB trim threshold."""
    from tmstarget.cohort.run import WORKER_MALLOC_ENV, _dask_client

    client, cluster = _dask_client(None, 1)
    try:
        env = next(
            iter(client.run(lambda: {k: os.environ.get(k) for k in WORKER_MALLOC_ENV}).values())
        )
    finally:
        client.close()
        cluster.close()
    assert env == {"MALLOC_TRIM_THRESHOLD_": str(1 << 30), "MALLOC_MMAP_THRESHOLD_": "33554432"}
