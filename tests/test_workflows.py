"""The command workflows as library calls (issue 26).

Each gives what its command gives, with the same checks.

``protocol.plan_course`` (``tmstarget protocol``), ``protocol.hunt_threshold``/``threshold_report``
(``mt``), ``trial.workflow`` (``trial randomize/simulate/analyze``), ``export.write_export_set``
(``coil``'s exports), ``export.plan_coil_files`` (``coil``), the one writable-path check and the
progress spinner.
"""

from __future__ import annotations

import io
import json
import stat

import pytest

from tmstarget.cli.main import main
from tmstarget.exceptions import InputError, SafetyError


def _command_json(capsys, argv):
    assert main([*argv, "--json", "--quiet"]) == 0
    out = json.loads(capsys.readouterr().out)
    out.pop("notice"), out.pop("tmstarget_version")
    return out


def _screening_form(tmp_path):
    from tmstarget.protocol.screening import SCREENING_ITEMS

    path = tmp_path / "screening.tsv"
    path.write_text("item\tanswer\tdetails\n" + "".join(f"{k}\tno\t\n" for k in SCREENING_ITEMS))
    return path


# ---------------------------------------------------------------- protocol.plan_course
def test_plan_course_gives_the_commands_json_and_files(tmp_path, capsys):
    from tmstarget.protocol import plan_course

    form = _screening_form(tmp_path)
    cli_dir, lib_dir = tmp_path / "cli", tmp_path / "lib"
    cli_dir.mkdir(), lib_dir.mkdir()
    argv = [
        "protocol",
        "--protocol",
        "saint",
        "--rmt",
        "50",
        "--target-depth-mm",
        "20",
        "--motor-depth-mm",
        "15",
        "--start",
        "2026-12-07T08:00",
        "--tz",
        "Europe/Berlin",
        "--closed",
        "2026-12-09",
        "--participant",
        "01",
        "--screening",
        str(form),
        "--ics",
        str(cli_dir / "c.ics"),
        "--log-template",
        str(cli_dir / "log.tsv"),
    ]
    from_cli = _command_json(capsys, argv)
    plan = plan_course(
        "saint",
        rmt=50,
        target_depth_mm=20,
        motor_depth_mm=15,
        start="2026-12-07T08:00",
        tz="Europe/Berlin",
        closed=["2026-12-09"],
        participant="01",
        screening=form,
        ics=lib_dir / "c.ics",
        log_template=lib_dir / "log.tsv",
    )
    from_lib = json.loads(json.dumps(plan.to_dict()))
    assert from_lib["outputs"] == {
        "ics": str(lib_dir / "c.ics"),
        "log_template": str(lib_dir / "log.tsv"),
    }
    from_lib["outputs"] = from_cli["outputs"]
    assert from_lib == from_cli
    assert plan.dose.setting_pct_mso == 57 and plan.schedule.interrupted
    assert (lib_dir / "log.tsv").read_bytes() == (cli_dir / "log.tsv").read_bytes()


def test_plan_course_custom_protocol_equals_the_command(capsys):
    from tmstarget.protocol import plan_course

    argv = [
        "protocol",
        "--protocol",
        "custom",
        "--frequency-hz",
        "20",
        "--train-s",
        "1.6",
        "--iti-s",
        "5",
        "--trains",
        "10",
        "--intensity-pct-rmt",
        "110",
    ]
    plan = plan_course(
        "custom",
        custom={"frequency_hz": 20, "train_s": 1.6, "iti_s": 5, "trains": 10},
        intensity_pct_rmt=110,
    )
    assert json.loads(json.dumps(plan.to_dict())) == _command_json(capsys, argv)
    assert plan.protocol.pulses_per_session == 20 * 1.6 * 10


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        (
            {"rmt": 50, "target_depth_mm": 25, "motor_depth_mm": 15},
            SafetyError,
            "exceeds the limit of 120",
        ),
        ({"target_depth_mm": 20}, InputError, "need the resting motor threshold"),
        ({"start": "1 Dec"}, InputError, "is not an ISO date-time"),
        ({"custom": {"frequency_hz": 20}}, InputError, "only apply to --protocol custom"),
        ({"max_pct_rmt": 150}, SafetyError, "--max-pct-rmt"),
    ],
)
def test_plan_course_refuses_as_the_command_and_writes_nothing(tmp_path, kwargs, error, fragment):
    from tmstarget.protocol import plan_course

    with pytest.raises(error, match=fragment):
        plan_course(
            "saint",
            **{
                "start": "2026-12-07T08:00",
                "ics": tmp_path / "s.ics",
                "screening_override": "test",
                **kwargs,
            },
        )
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- protocol.hunt_threshold /
# threshold_report
def test_hunt_threshold_with_scripted_answers_matches_the_interactive_command(
    tmp_path, capsys, monkeypatch
):
    from tmstarget.protocol import hunt_threshold, threshold_report

    answers = ["300", "20", "not a number", "0.5", "60", "q"]
    notes: list[str] = []
    prompts: list[str] = []
    feed = iter(answers)

    def ask(prompt):
        prompts.append(prompt)
        return next(feed)

    lib = hunt_threshold(tmp_path / "lib.tsv", ask=ask, tell=notes.append, session="2026-12-07")
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(answers) + "\n"))
    assert (
        main(
            ["mt", str(tmp_path / "cli.tsv"), "--interactive", "--session", "2026-12-07", "--quiet"]
        )
        == 0
    )
    capsys.readouterr()
    assert lib.read_bytes() == (tmp_path / "cli.tsv").read_bytes()
    assert "stimulate at 52% MSO" in prompts[0] and any("looks like mV" in n for n in notes)
    report = threshold_report(lib)
    assert report == {**_command_json(capsys, ["mt", str(lib)]), "trials": str(lib)}
    assert report["sessions"][0]["n_trials"] == 3


def test_hunt_threshold_without_answers_writes_nothing(tmp_path):
    from tmstarget.protocol import hunt_threshold

    with pytest.raises(InputError, match="no trials were entered"):
        hunt_threshold(tmp_path / "t.tsv", ask=lambda prompt: None)
    assert not (tmp_path / "t.tsv").exists()


# ---------------------------------------------------------------- trial.workflow
def test_analyze_trial_files_equals_the_command(tmp_path, capsys):
    from tmstarget.trial.workflow import analyze_trial_files, simulate_table_file

    simulate_table_file(tmp_path / "t.tsv", seed=1, days=True, dropout=0.1)
    assert (
        main(
            [
                "trial",
                "analyze",
                str(tmp_path / "t.tsv"),
                "--imputations",
                "2",
                "--json",
                "--quiet",
                "--report",
                str(tmp_path / "cli.json"),
            ]
        )
        == 0
    )
    from_cli = capsys.readouterr().out
    run = analyze_trial_files(
        tmp_path / "t.tsv",
        imputations=2,
        report=tmp_path / "lib.json",
        visit_table=tmp_path / "visits.tsv",
    )
    assert run.payload == from_cli and (tmp_path / "lib.json").read_text() == from_cli
    assert run.written == (tmp_path / "lib.json", tmp_path / "visits.tsv")
    assert run.result.arms[0] == json.loads(from_cli)["arms"][0]


def test_analyze_trial_files_checks_options_before_reading(tmp_path):
    from tmstarget.trial.workflow import analyze_trial_files

    with pytest.raises(InputError, match="--response-pct 0.5 — a percentage is expected"):
        analyze_trial_files(tmp_path / "missing.tsv", response_pct=0.5, report=tmp_path / "r.json")
    assert list(tmp_path.iterdir()) == []


def test_randomize_to_files_writes_both_or_neither(tmp_path):
    from tmstarget.trial.io import read_allocation, read_concealed
    from tmstarget.trial.workflow import randomize_to_files

    allocation = randomize_to_files(
        tmp_path / "list.tsv",
        tmp_path / "key.json",
        per_stratum=8,
        factors=["severity=moderate,severe"],
        seed=3,
    )
    assert read_allocation(tmp_path / "key.json").chain_head == allocation.chain_head
    assert (
        len(read_concealed(tmp_path / "list.tsv")) == len(allocation.entries) >= 16
    )  # whole blocks per stratum
    assert stat.S_IMODE((tmp_path / "key.json").stat().st_mode) == 0o600
    with pytest.raises(InputError, match="already exist"):
        randomize_to_files(tmp_path / "list.tsv", tmp_path / "key.json", per_stratum=8)
    with pytest.raises(InputError, match="does not exist"):
        randomize_to_files(tmp_path / "new.tsv", tmp_path / "missing" / "key.json", per_stratum=8)
    assert not (tmp_path / "new.tsv").exists()


# ---------------------------------------------------------------- export.write_export_set
def _pose():
    try:
        from tmstarget.headmodel import load_template_head
    except ImportError:  # pragma: no cover
        pytest.skip("no template head")
    from tmstarget.coil import plan_coil
    from tmstarget.coil.models import DEFAULT_COIL, get_coil

    return plan_coil(
        load_template_head(), [-40.0, 42.0, 30.0], get_coil(DEFAULT_COIL)
    ).placement.matrix


def test_write_export_set_writes_what_each_writer_writes_and_reads_it_back(tmp_path):
    from tmstarget.export import (
        NamedPose,
        write_export_set,
        write_localite,
        write_poses_csv,
        write_poses_json,
    )

    pose = _pose()
    out = write_export_set(
        pose,
        "target",
        "MNI152NLin6Asym",
        localite=tmp_path / "m.xml",
        csv=tmp_path / "p.csv",
        poses_json=tmp_path / "p.json",
    )
    assert list(out) == ["localite", "csv", "poses_json"]
    assert all(v["round_trip_mm"] < 1e-3 and v["round_trip_deg"] < 1e-2 for v in out.values())
    poses = [NamedPose("target", pose)]
    write_localite(tmp_path / "ref.xml", poses, "RAS")
    write_poses_csv(tmp_path / "ref.csv", poses, "MNI152NLin6Asym")
    write_poses_json(tmp_path / "ref.json", poses, "MNI152NLin6Asym")
    for mine, ref in (("m.xml", "ref.xml"), ("p.csv", "ref.csv"), ("p.json", "ref.json")):
        assert (tmp_path / mine).read_bytes() == (tmp_path / ref).read_bytes()


def test_write_export_set_is_all_or_nothing(tmp_path):
    from tmstarget.export import write_export_set

    (tmp_path / "old.csv").write_text("before\n")
    (
        tmp_path / "taken"
    ).mkdir()  # a folder where the JSON should go: the set fails after the first files are staged
    with pytest.raises(OSError):
        write_export_set(
            _pose(),
            "target",
            "MNI152NLin6Asym",
            localite=tmp_path / "m.xml",
            csv=tmp_path / "old.csv",
            poses_json=tmp_path / "taken",
        )
    assert not (tmp_path / "m.xml").exists() and (tmp_path / "old.csv").read_text() == "before\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.csv", "taken"]


# ---------------------------------------------------------------- export.plan_coil_files
def _coil_target(tmp_path):
    target = tmp_path / "sub-01_desc-sgacc_target.json"
    target.write_text(
        json.dumps(
            {
                "participant": "01",
                "session": None,
                "space": "MNI152NLin6Asym",
                "circuit": "sgacc",
                "target_mni": [-40.0, 42.0, 30.0],
            }
        )
    )
    return target


def test_plan_coil_files_gives_the_commands_json_and_files(tmp_path, capsys):
    pytest.importorskip("tmstarget.headmodel")
    import numpy as np

    from tmstarget.export import coil_files_text, plan_coil_files

    target = _coil_target(tmp_path)
    cli_dir, lib_dir = tmp_path / "cli", tmp_path / "lib"
    argv = ["coil", "--target-json", str(target), "--handle-angle", "30", "--didt", "2"]
    for flag, name in (("--localite", "m.xml"), ("--csv", "p.csv"), ("--poses-json", "p.json")):
        argv += [flag, str(cli_dir / name)]
    from_cli = _command_json(capsys, argv)
    done = plan_coil_files(
        target_json=target,
        handle_angle=30.0,
        didt=2.0,
        localite=lib_dir / "m.xml",
        csv=lib_dir / "p.csv",
        poses_json=lib_dir / "p.json",
    )
    assert done.name == "sub-01_sgacc" and done.pose_space == "MNI152NLin6Asym"
    assert done.placement_source == "default over the target" and done.native is None
    assert done.plan.placement.to_json()["handle_angle_from_midline_deg"] == 30.0
    assert np.array_equal(done.pose, done.plan.placement.matrix)
    out = done.to_dict()
    assert out["efield"]["didt_a_per_us"] == 2.0 and out["participant"] == "01"
    assert list(out["exports"]) == ["localite", "csv", "poses_json"]
    assert out["exports"]["csv"]["path"] == str(lib_dir / "p.csv")
    text = coil_files_text(out).splitlines()
    assert text[1] == "  placement: default over the target" and "E-field at 2 A/us" in text[4]
    assert text[-1].startswith(f"  wrote poses_json: {lib_dir / 'p.json'} (read back: ")
    for info in (*out["exports"].values(), *from_cli["exports"].values()):
        info.pop("path")
    assert out == from_cli
    for name in ("m.xml", "p.csv", "p.json"):
        assert (lib_dir / name).read_bytes() == (cli_dir / name).read_bytes()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"circuit": "convergent"}, "--circuit only weights the optimisation — add --optimize"),
        ({"optimize": True, "circuit": "sgacc"}, "score map sub-01_desc-sgacc_score.nii.gz not"),
        ({"t1w": "t1w.nii.gz"}, "--t1w needs the transforms — add --xfm"),
        ({"target": [1.0, 2.0, 3.0]}, "pass either a target point or a target JSON"),
    ],
)
def test_plan_coil_files_refuses_as_the_command_and_writes_nothing(tmp_path, kwargs, message):
    pytest.importorskip("tmstarget.headmodel")
    from tmstarget.export import plan_coil_files

    target = _coil_target(tmp_path)
    with pytest.raises(InputError, match=message):
        plan_coil_files(target_json=target, csv=tmp_path / "p.csv", **kwargs)
    assert not (tmp_path / "p.csv").exists()


# ---------------------------------------------------------------- one writable-path check, one JSON
# printer
def test_check_output_file_with_and_without_parents(tmp_path):
    from tmstarget.io.paths import check_output_file

    assert (
        check_output_file(tmp_path / "new" / "f.txt") == tmp_path / "new" / "f.txt"
    )  # folder can be created
    with pytest.raises(InputError, match="folder .* does not exist — create it"):
        check_output_file(tmp_path / "new" / "f.txt", "file", parents=False)
    with pytest.raises(InputError, match="is a folder"):
        check_output_file(tmp_path, parents=False)


def test_one_json_printer(capsys):
    from tmstarget.cli._common import emit, print_json

    print_json({"a": "é", "b": 1.5})
    assert capsys.readouterr().out == '{\n  "a": "\\u00e9",\n  "b": 1.5\n}\n'
    assert emit({"a": "é"}, as_json=True, render=str) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["a"] == "é" and out["notice"] == "research use; not a medical device"
    with pytest.raises(ValueError, match="non-finite"):
        print_json({"x": float("nan")})


# ---------------------------------------------------------------- progress
def test_spinner_is_silent_when_not_a_terminal_or_quiet(capsys, monkeypatch):
    from tmstarget._utils import progress

    progress.set_progress(
        True
    )  # as without --quiet (an earlier main(["...", "--quiet"]) in this process turned it off)
    with progress.spinner("working", interval_s=0.01):
        pass
    assert capsys.readouterr().err == ""

    class Tty(io.StringIO):
        def isatty(self):
            return True

    fake = Tty()
    monkeypatch.setattr("sys.stderr", fake)
    import time

    with progress.spinner("working", interval_s=0.01):
        time.sleep(0.05)
    assert "working" in fake.getvalue() and fake.getvalue().endswith("\r")
    fake.truncate(0), fake.seek(0)
    progress.set_progress(False)
    try:
        with progress.spinner("working", interval_s=0.01):
            time.sleep(0.03)
    finally:
        progress.set_progress(True)
    assert fake.getvalue() == ""
