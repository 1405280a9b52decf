"""`tmstarget reliability` end to end.

Checked: the participant JSON contract, sessions and runs, the group table, and bad input.
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from tmstarget.cli.main import main

RELIABILITY_KEYS = {
    "participant",
    "session",
    "space",
    "circuit",
    "method",
    "target_mni",
    "runs",
    "split_half_distance_mm",
    "split_half",
    "score_map_agreement",
    "run_distances_mm",
    "confidence_radius_mm",
    "confidence_ellipsoid",
    "bootstrap",
    "scan_length_curve",
    "minutes_needed",
    "drift",
    "session_distances_mm",
    "tmstarget_version",
    "reliability_verdict",
}


@pytest.fixture(scope="module")
def coarse_dataset(tmp_path_factory):
    """sub-01 with sessions 1 and 2, two runs of 100 volumes (TR 2 s) each, on a 4 mm grid.

    The files have fMRIPrep names.
    """
    import nibabel as nib

    from test_targeting_uncertainty import coarse_anatomy
    from tmstarget.io.derivatives import write_json_atomic, write_nifti_atomic
    from tmstarget.simulate.dataset import confounds_table
    from tmstarget.simulate.model import SimulationParams, simulate_participant

    root = tmp_path_factory.mktemp("coarse") / "fmriprep"
    anat = coarse_anatomy()
    flat = np.flatnonzero(anat.brain.ravel(order="F"))
    tissue = {
        "global": flat,
        "white_matter": np.flatnonzero(anat.wm.ravel(order="F")),
        "csf": np.flatnonzero(anat.csf.ravel(order="F")),
    }
    rng = np.random.default_rng(3)
    for ses in ("1", "2"):
        func = root / "sub-01" / f"ses-{ses}" / "func"
        func.mkdir(parents=True)
        for run, (bold, motion) in enumerate(
            simulate_participant(
                rng, anat, (-38.0, 44.0, 30.0), replace(SimulationParams(), n_volumes=100), 2
            ),
            1,
        ):
            stem = func / f"sub-01_ses-{ses}_task-rest_run-{run}_space-MNI152NLin6Asym_res-2"
            img = nib.Nifti1Image(bold, anat.affine)
            img.header["pixdim"][4] = 2.0
            nib.save(img, f"{stem}_desc-preproc_bold.nii.gz")
            write_json_atomic(f"{stem}_desc-preproc_bold.json", {"RepetitionTime": 2.0})
            write_nifti_atomic(
                f"{stem}_desc-brain_mask.nii.gz", anat.brain.astype(np.float32), anat.affine
            )
            table = confounds_table(bold.reshape(-1, 100, order="F"), motion, tissue)
            table.to_csv(
                func / f"sub-01_ses-{ses}_task-rest_run-{run}_desc-confounds_timeseries.tsv",
                sep="\t",
                index=False,
                na_rep="n/a",
            )
    return root


def _run(capsys, *argv):
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:  # usage errors from argparse
        code = exc.code
    return code, capsys.readouterr()


def test_participant_writes_contract_json(coarse_dataset, tmp_path, capsys):
    out = tmp_path / "out"
    code, cap = _run(
        capsys,
        "reliability",
        coarse_dataset,
        out,
        "participant",
        "--participant-label",
        "01",
        "--bootstrap",
        "20",
        "--json",
        "--quiet",
    )
    assert code == 0, cap.err
    printed = json.loads(cap.out)
    assert isinstance(printed, list) and [p["session"] for p in printed] == ["1", "2"]
    paths = [
        out / "sub-01" / f"ses-{s}" / f"sub-01_ses-{s}_desc-sgacc_reliability.json"
        for s in ("1", "2")
    ]
    on_disk = [json.loads(p.read_text()) for p in paths]
    assert on_disk == printed
    one = on_disk[0]
    assert RELIABILITY_KEYS <= set(one)
    assert (
        one["session_distances_mm"].keys() == {"2"}
        and one["session_distances_mm"]["2"] == on_disk[1]["session_distances_mm"]["1"]
    )
    assert [len(r["runs"]) for r in one["run_distances_mm"]] == [2] and one["run_distances_mm"][0][
        "runs"
    ][0].endswith("run-1_space-MNI152NLin6Asym_res-2_desc-preproc_bold.nii.gz")
    assert (
        len(one["bootstrap"]["targets_mni"]) == 20
        and len(one["confidence_ellipsoid"]["semi_axes_mm"]) == 3
    )
    assert (
        one["scan_length_curve"][-1]["minutes"] == pytest.approx(one["minutes_total"])
        and one["n_volumes_used"] <= 200
    )
    assert (out / "dataset_description.json").is_file()


def test_group_table(tmp_path, capsys):
    targets = {
        ("01", "1"): [-40, 40, 30],
        ("01", "2"): [-41, 40, 30],
        ("02", "1"): [-30, 50, 22],
        ("02", "2"): [-30, 48, 22],
        ("03", "1"): [-46, 32, 40],
    }
    for (p, s), xyz in targets.items():
        path = tmp_path / f"sub-{p}" / f"ses-{s}" / f"sub-{p}_ses-{s}_desc-sgacc_target.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps({"participant": p, "session": s, "target_mni": xyz}))
    code, cap = _run(capsys, "reliability", tmp_path, "group", "--json")
    assert code == 0, cap.err
    summary = json.loads(cap.out)
    assert summary == json.loads((tmp_path / "group_desc-sgacc_reliability.json").read_text())
    assert (
        summary["n_participants"] == 3
        and summary["n_with_repeat_sessions"] == 2
        and summary["ratio_between_within"] > 5
    )
    lines = (tmp_path / "group_desc-sgacc_reliability.tsv").read_text().splitlines()
    assert lines[0] == "participant_id\tn_sessions\twithin_person_mm\tbetween_person_mm" and lines[
        3
    ].startswith("03\t1\tn/a\t")


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["{src}", "{out}", "participant", "--participant-label", "99"],
            "participant '99' not found",
        ),
        (["{src}", "{out}", "participant", "--session", "7"], "check --session"),
        (["{src}", "{out}"], "expected 'FMRIPREP_DIR OUT_DIR participant' or 'OUT_DIR group'"),
        (["{tmp}/missing", "{out}", "participant"], "fMRIPrep folder not found"),
        (["{out}", "group"], "output folder not found"),
        (["{src}", "group"], "no target JSONs"),
        (
            ["{src}", "{out}", "participant", "--bootstrap", "0"],
            "--bootstrap/--n-bootstrap: must be >= 1",
        ),
        (["{src}", "{out}", "participant", "--method", "best"], "--method: invalid choice"),
    ],
)
def test_bad_input_exits_2_with_one_line(coarse_dataset, tmp_path, capsys, argv, message):
    fill = {"src": coarse_dataset, "out": tmp_path / "out", "tmp": tmp_path}
    if argv == ["{src}", "group"]:
        fill["src"] = tmp_path  # a folder without targets
    code, cap = _run(capsys, "reliability", *[a.format(**fill) for a in argv])
    assert code == 2
    lines = cap.err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "—" in lines[0], cap.err
    assert cap.out == "" and not (tmp_path / "out").exists()
