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
from tmstarget.cohort import Job, finished_target, group_rows, run_jobs
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
