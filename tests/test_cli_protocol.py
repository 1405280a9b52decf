"""``tmstarget protocol`` end to end.

Checked: the JSON contract, the calendar and log files, and one-line errors with exit 2.
"""

from __future__ import annotations

import json

import pytest
from icalendar import Calendar

from tmstarget.cli.main import main

SAINT = ["protocol", "--quiet", "--protocol", "saint"]


def clear_form(tmp_path, **yes):
    """Write a completed screening form and return its path.

    Every item is answered no, except those in ``yes`` (item -> details).
    """
    from tmstarget.protocol.screening import SCREENING_ITEMS

    rows = ["item\tanswer\tdetails"] + [
        f"{k}\t{'yes' if k in yes else 'no'}\t{yes.get(k, '')}" for k in SCREENING_ITEMS
    ]
    path = tmp_path / "screening.tsv"
    path.write_text("\n".join(rows) + "\n")
    return path


def run_json(capsys, argv):
    assert main([*argv, "--json"]) == 0
    out = capsys.readouterr().out
    return json.loads(out)  # the whole of stdout is one JSON object


def test_saint_schedule_json_and_calendar(tmp_path, capsys):
    ics = tmp_path / "saint.ics"
    argv = [
        *SAINT,
        "--start",
        "2026-12-01T08:00",
        "--ics",
        str(ics),
        "--screening",
        str(clear_form(tmp_path)),
    ]
    result = run_json(capsys, argv)
    assert result["screening"]["status"] == "clear" and result["screening"]["override"] is None
    assert result["protocol"]["derived"]["pulses_per_session"] == 1800
    assert result["protocol"]["derived"]["pulses_per_day"] == 18_000
    assert result["protocol"]["derived"]["pulses_per_course"] == 90_000
    assert result["schedule"]["n_sessions"] == 50 and result["schedule"]["interrupted"]
    assert (
        result["schedule"]["sessions"][1]["start"] == "2026-12-01T09:00:00"
    )  # 50 min rest after 9.9 min
    assert result["schedule"]["interval_basis"] == "end_to_start"
    assert result["schedule"]["gap_between_sessions_min"] == 50.13
    assert (
        result["outputs"]["ics"] == str(ics)
        and result["notice"] == "research use; not a medical device"
    )
    events = Calendar.from_ical(ics.read_bytes()).walk("VEVENT")
    assert len(events) == 50


def test_dose_and_safety_in_json(capsys):
    result = run_json(
        capsys, [*SAINT, "--rmt", "50", "--target-depth-mm", "20", "--motor-depth-mm", "15"]
    )
    assert result["dose"]["setting_pct_mso"] == 57 and result["dose"]["threshold_pct_mso"] == 63.5
    assert result["safety"]["ok"] and not result["safety"]["forced"]
    assert result["schedule"] is None


def test_text_output(capsys):
    assert main([*SAINT, "--start", "2026-12-07T08:00"]) == 0
    out = capsys.readouterr().out
    assert "1800 pulses/session" in out and "90,000 pulses/course" in out
    assert "day 5 2026-12-11: 08:00 09:00" in out


def _assert_one_line_error(capsys, argv, *fragments):
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"tmstarget {argv[0]}: error: ") and " — " in lines[0]
    for fragment in fragments:
        assert fragment in lines[0]
    assert captured.out == ""


def test_unsafe_dose_is_refused_and_writes_nothing(tmp_path, capsys):
    ics = tmp_path / "s.ics"
    argv = [*SAINT, "--start", "2026-12-07T08:00", "--ics", str(ics), "--rmt", "50"]
    argv += ["--target-depth-mm", "25", "--motor-depth-mm", "15"]
    _assert_one_line_error(capsys, argv, "refused", "exceeds the limit of 120", "--force")
    assert not ics.exists()


def test_force_overrides_and_is_recorded_in_every_output(tmp_path, capsys):
    ics, log = tmp_path / "s.ics", tmp_path / "log.tsv"
    argv = [*SAINT, "--rmt", "50", "--target-depth-mm", "25", "--motor-depth-mm", "15", "--force"]
    argv += ["--start", "2026-12-07T08:00", "--ics", str(ics), "--log-template", str(log)]
    argv += ["--screening-override", "paper form signed by Dr A"]
    assert main([*argv, "--json"]) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert result["force"] and result["safety"]["forced"] and not result["safety"]["ok"]
    assert result["safety"]["refusals"] == ["tbs.intensity"]
    assert "overridden with --force" in captured.err
    assert (
        result["screening"]["status"] == "missing"
        and result["screening"]["override"] == "paper form signed by Dr A"
    )
    for event in Calendar.from_ical(ics.read_bytes()).walk("VEVENT"):
        text = str(event["description"])
        assert (
            "OVERRIDDEN WITH --force" in text
            and "without clearing screening (missing): paper form" in text
        )
    rows = log.read_text().splitlines()[1:]
    note = (
        "safety limit overridden with --force; scheduled "
        "without clearing screening (missing): paper form "
        "signed by Dr A"
    )
    assert len(rows) == 50 and all(r.split("\t")[9] == note for r in rows)


def test_safety_is_checked_at_the_protocol_intensity_without_rmt(capsys):
    result = run_json(capsys, [*SAINT])
    assert (
        result["dose"] is None
        and result["safety"]["ok"]
        and result["safety"]["pct_of_measured_rmt"] == 90
    )
    checks = {c["rule"]: c for c in result["safety"]["checks"]}
    assert checks["tbs.intensity"]["basis"] == "tmstarget policy"
    assert (
        checks["tbs.session_gap"]["value"] == 50
        and "Cole et al. 2020" in checks["tbs.session_gap"]["source"]
    )


def test_text_output_lists_checks_with_their_basis(capsys):
    assert main([*SAINT]) == 0
    out = capsys.readouterr().out
    assert "ok   intensity: 90 <= 120 % of measured RMT [tbs.intensity, tmstarget policy]" in out


@pytest.mark.parametrize(
    ("extra", "fragments"),
    [
        (["--start", "1 Dec"], ["is not an ISO date-time"]),
        (["--ics", "x.ics"], ["need the course start"]),
        (["--start", "2026-12-07T12:00"], ["start between 08:00 and 08:50"]),
        (["--start", "2026-12-07T08:00", "--tz", "Mars/Olympus"], ["not a known time zone"]),
        (["--start", "2026-12-07T08:00", "--clinic-hours", "8-6"], ["HH:MM-HH:MM"]),
        (["--start", "2026-12-07T08:00", "--closed", "someday"], ["is not a date"]),
        (
            ["--start", "2026-12-07T08:00", "--min-interval-min", "30"],
            ["below the protocol's 50 min"],
        ),
        (
            [
                "--start",
                "2026-12-07T08:00",
                "--min-interval-min",
                "50",
                "--interval-basis",
                "start-to-start",
            ],
            ["leaves 40.1 min between sessions", "add --force to override it"],
        ),
        (["--target-depth-mm", "20"], ["add --rmt"]),
        (["--rmt", "50", "--target-depth-mm", "20"], ["needs both depths"]),
        (["--rmt", "0"], ["resting motor threshold = 0"]),
        (["--session-log", "nope.tsv"], ["session log nope.tsv not found"]),
    ],
)
def test_input_errors_are_one_line(tmp_path, capsys, monkeypatch, extra, fragments):
    monkeypatch.chdir(tmp_path)
    _assert_one_line_error(capsys, [*SAINT, *extra], *fragments)


def test_bad_second_output_leaves_no_first_file(tmp_path, capsys):
    ics = tmp_path / "s.ics"
    argv = [
        *SAINT,
        "--start",
        "2026-12-07T08:00",
        "--ics",
        str(ics),
        "--log-template",
        str(tmp_path / "no" / "l.tsv"),
    ]
    argv += ["--screening", str(clear_form(tmp_path))]
    _assert_one_line_error(capsys, argv, "does not exist")
    assert not ics.exists()


def test_session_log_template_and_summary(tmp_path, capsys):
    log = tmp_path / "log.tsv"
    argv = [*SAINT, "--start", "2026-12-07T08:00", "--rmt", "50", "--log-template", str(log)]
    assert main([*argv, "--screening", str(clear_form(tmp_path))]) == 0
    capsys.readouterr()
    rows = [line.split("\t") for line in log.read_text().splitlines()]
    assert rows[0][:3] == ["session", "day", "planned_start"] and len(rows) == 51
    for row in rows[1:]:
        row[5] = row[4]  # every session delivered in full ...
    rows[7][5], rows[7][8] = "0", "syncope"  # ... except session 7, missed after an adverse event
    rows[7][14:18] = ["moderate", "probable", "no", "session stopped"]
    log.write_text("\n".join("\t".join(r) for r in rows) + "\n")
    course = run_json(capsys, [*SAINT, "--session-log", str(log)])["course"]
    assert course["sessions_delivered"] == 49 and course["missed_sessions"] == [7]
    assert course["pulses_delivered"] == 49 * 1800 and course["pct_pulses_delivered"] == 98.0
    assert course["adverse_events"] == [
        {
            "session": 7,
            "event": "syncope",
            "severity": "moderate",
            "relatedness": "probable",
            "serious": False,
            "serious_as_logged": False,
            "seizure": False,
            "physician_review": False,
            "action": "session stopped",
        }
    ]
    assert course["deviations"] == [
        {"session": 7, "kind": "missed", "detail": "session 7 was missed", "safety": False}
    ]


def test_session_timeline_figure_is_written_deterministically(tmp_path, capsys):
    log = tmp_path / "log.tsv"
    argv = [*SAINT, "--start", "2026-12-07T08:00", "--rmt", "50", "--log-template", str(log)]
    assert main([*argv, "--screening", str(clear_form(tmp_path))]) == 0
    rows = [line.split("\t") for line in log.read_text().splitlines()]
    for row in rows[1:11]:
        row[5] = row[4]  # the first ten sessions delivered in full ...
    rows[3][5] = "0"  # ... except session 3, missed
    log.write_text("\n".join("\t".join(r) for r in rows) + "\n")
    capsys.readouterr()
    first, second = tmp_path / "a.svg", tmp_path / "b.svg"
    assert main([*SAINT, "--session-log", str(log), "--timeline", str(first)]) == 0
    assert f"wrote timeline: {first}" in capsys.readouterr().out.splitlines()
    result = run_json(capsys, [*SAINT, "--session-log", str(log), "--timeline", str(second)])
    assert result["outputs"]["timeline"] == str(second)
    assert result["timeline_alt"].startswith("Session timeline by day and time of day: 50 planned")
    assert "9 delivered as planned; 1 missed; 40 not yet given" in result["timeline_alt"]
    svg = first.read_text()
    assert svg == second.read_text() and svg.startswith("<?xml") and 'width="100%"' in svg
    assert 'id="sessions-missed"' in svg and 'id="sessions-planned"' in svg
    png = tmp_path / "c.png"
    assert main([*SAINT, "--session-log", str(log), "--timeline", str(png)]) == 0
    assert png.read_bytes().startswith(b"\x89PNG")
    capsys.readouterr()
    assert "timeline" not in run_json(capsys, [*SAINT, "--session-log", str(log)])["outputs"]


def test_bad_session_log_is_one_line(tmp_path, capsys):
    log = tmp_path / "log.tsv"
    log.write_text("session\tpulses_planned\tpulses_delivered\n1\t1800\t1800\n1\t1800\t900\n")
    _assert_one_line_error(
        capsys,
        [*SAINT, "--session-log", str(log)],
        "log.tsv lines 2 and 3: session 1 appears twice",
    )


CUSTOM = ["protocol", "--quiet", "--protocol", "custom"]


def test_custom_rtms_is_checked_like_a_built_in(capsys):
    argv = [*CUSTOM, "--frequency-hz", "20", "--train-s", "1.6", "--iti-s", "5", "--trains", "10"]
    result = run_json(capsys, [*argv, "--intensity-pct-rmt", "110"])
    assert (
        result["protocol"]["key"] == "custom"
        and result["protocol"]["derived"]["pulses_per_session"] == 320
    )
    checks = {c["rule"]: c for c in result["safety"]["checks"]}
    assert checks["rtms.train_duration"]["limit"] == 1.6 and checks["rtms.train_duration"]["ok"]
    assert "row 20 Hz, column 110% MT" in checks["rtms.train_duration"]["source"]
    assert (
        checks["rtms.inter_train_interval"]["ok"]
        and "Chen et al. 1997" in checks["rtms.inter_train_interval"]["source"]
    )
    assert result["force"] is False


def test_custom_rtms_with_one_second_pauses_is_refused(capsys):
    argv = [*CUSTOM, "--frequency-hz", "20", "--train-s", "1.6", "--iti-s", "1", "--trains", "10"]
    _assert_one_line_error(
        capsys,
        [*argv, "--intensity-pct-rmt", "110"],
        "rule rtms.inter_train_interval",
        "Chen et al. 1997",
        "--force",
    )


def test_custom_theta_burst_matches_saint_and_policy_ceiling_can_be_set(capsys):
    argv = [
        *CUSTOM,
        "--frequency-hz",
        "50",
        "--pulses-per-burst",
        "3",
        "--burst-frequency-hz",
        "5",
        "--train-s",
        "2",
    ]
    argv += [
        "--iti-s",
        "8",
        "--trains",
        "60",
        "--sessions-per-day",
        "10",
        "--min-interval-min",
        "50",
        "--days",
        "5",
    ]
    result = run_json(capsys, [*argv, "--intensity-pct-rmt", "90"])
    assert (
        result["protocol"]["kind"] == "itbs"
        and result["protocol"]["derived"]["pulses_per_course"] == 90_000
    )
    assert result["safety"]["ok"]
    _assert_one_line_error(
        capsys, [*argv, "--intensity-pct-rmt", "130"], "rule tbs.intensity, tmstarget policy"
    )
    _assert_one_line_error(
        capsys,
        [*argv, "--intensity-pct-rmt", "110", "--max-pct-rmt", "100.5"],
        "rule tbs.intensity, tmstarget policy",
        "exceeds the limit of 100.5",
    )
    _assert_one_line_error(
        capsys,
        [*argv, "--intensity-pct-rmt", "130", "--max-pct-rmt", "130"],
        "--max-pct-rmt 130 moves the theta-burst intensity ceiling above 120 % of measured RMT",
        "a tmstarget policy, not a published limit",
        "add --force",
    )
    result = run_json(
        capsys, [*argv, "--intensity-pct-rmt", "130", "--max-pct-rmt", "130", "--force"]
    )
    intensity = next(c for c in result["safety"]["checks"] if c["rule"] == "tbs.intensity")
    assert (
        intensity["ok"] and intensity["limit"] == 130 and result["protocol"]["max_pct_rmt"] == 130
    )
    assert (
        result["forced"]
        and result["safety"]["forced"]
        and result["safety"]["refusals"] == ["tbs.intensity"]
    )


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (
            [*CUSTOM, "--frequency-hz", "10"],
            ["--protocol custom needs --train-s, --trains, --intensity-pct-rmt"],
        ),
        (
            [
                *CUSTOM,
                "--frequency-hz",
                "10",
                "--train-s",
                "4",
                "--trains",
                "3",
                "--intensity-pct-rmt",
                "100",
            ],
            ["add --iti-s"],
        ),
        (
            [
                *CUSTOM,
                "--kind",
                "itbs",
                "--frequency-hz",
                "50",
                "--train-s",
                "2",
                "--trains",
                "1",
                "--intensity-pct-rmt",
                "80",
            ],
            ["needs its burst pattern"],
        ),
        (
            [
                *CUSTOM,
                "--frequency-hz",
                "10",
                "--train-s",
                "4.05",
                "--trains",
                "1",
                "--intensity-pct-rmt",
                "100",
            ],
            ["not a whole positive number"],
        ),
        ([*SAINT, "--trains", "3"], ["--trains only apply to --protocol custom"]),
        (
            ["protocol", "--protocol", "rtms10", "--max-pct-rmt", "130"],
            ["--max-pct-rmt sets the theta-burst policy"],
        ),
        (
            [
                *CUSTOM,
                "--frequency-hz",
                "10",
                "--train-s",
                "4",
                "--iti-s",
                "26",
                "--trains",
                "10",
                "--intensity-pct-rmt",
                "100",
                "--sessions-per-day",
                "3",
            ],
            ["3 sessions a day need the interval between them"],
        ),
    ],
)
def test_custom_protocol_errors_are_one_line(capsys, argv, fragments):
    _assert_one_line_error(capsys, argv, *fragments)


def test_course_files_need_a_clearing_screening_form(tmp_path, capsys):
    ics = tmp_path / "s.ics"
    argv = [*SAINT, "--start", "2026-12-07T08:00", "--ics", str(ics)]
    _assert_one_line_error(capsys, argv, "cannot schedule the course: no screening form was given")
    flagged = clear_form(tmp_path, medication_lowers_seizure_threshold="bupropion 300 mg")
    _assert_one_line_error(
        capsys,
        [*argv, "--screening", str(flagged)],
        "need a physician's review (medication_lowers_seizure_threshold)",
    )
    assert not ics.exists()
    with flagged.open("a") as fh:
        fh.write("reviewed_by\tDr B\t\nreview_date\t2026-12-01\t\nreview_decision\tcleared\t\n")
    result = run_json(capsys, [*argv, "--screening", str(flagged)])
    assert (
        result["screening"]["status"] == "cleared" and result["screening"]["reviewed_by"] == "Dr B"
    )
    assert result["screening"]["flags"][0]["details"] == "bupropion 300 mg" and ics.exists()


# -------------------------------------------------------------- numbers that flow in (issue 29)
MT_TRIALS = (
    "session\tintensity_pct_mso\tamplitude_uv\n"
    + "".join(f"day1\t48\t{a}\n" for a in (60, 20, 55, 70, 10, 52, 30, 80, 40, 20))
    + "day1\t47\t10\n" * 10
)


@pytest.fixture
def mt_json(tmp_path, capsys):
    """Run ``tmstarget mt --json`` on 20 pulses and save its output."""
    trials = tmp_path / "trials.tsv"
    trials.write_text(MT_TRIALS)
    path = tmp_path / "mt.json"
    path.write_text(json.dumps(run_json(capsys, ["mt", str(trials), "--quiet"])))
    return path


@pytest.fixture(scope="module")
def coil_json(tmp_path_factory):
    """Save ``tmstarget coil --json`` output for a left-DLPFC point."""
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["coil", "--target=-38,44,26", "--json", "--quiet"]) == 0
    path = tmp_path_factory.mktemp("coil") / "coil.json"
    path.write_text(buf.getvalue())
    return path


def test_mt_result_flows_into_the_dose(mt_json, capsys):
    via_file = run_json(capsys, [*SAINT, "--rmt-json", str(mt_json)])
    typed = run_json(capsys, [*SAINT, "--rmt", "48"])
    assert via_file["dose"]["threshold_pct_mso"] == typed["dose"]["threshold_pct_mso"] == 48
    assert via_file["dose"]["setting_pct_mso"] == typed["dose"]["setting_pct_mso"]
    rmt = via_file["dose"]["sources"]["rmt"]
    assert rmt["method"] == "relative frequency" and rmt["session"] == "day1"
    assert rmt["file"] == str(mt_json) and len(rmt["sha256"]) == 64
    assert typed["dose"]["sources"]["rmt"] == {"from": "--rmt"}
    assert main([*SAINT, "--rmt-json", str(mt_json)]) == 0
    assert f"RMT from {mt_json} (session day1, relative frequency)" in capsys.readouterr().out


def test_coil_plan_depth_feeds_the_dose(coil_json, capsys):
    depth = json.loads(coil_json.read_text())["placement"]["scalp_cortex_distance_mm"]
    base = [*SAINT, "--rmt", "50", "--motor-depth-mm", "20"]
    planned = run_json(capsys, [*base, "--coil-json", str(coil_json)])
    typed = run_json(capsys, [*base, "--target-depth-mm", str(depth)])
    assert planned["dose"]["target_depth_mm"] == depth and planned["dose"]["depth_corrected"]
    assert planned["dose"]["setting_pct_mso"] == typed["dose"]["setting_pct_mso"]
    assert planned["dose"]["sources"]["target_depth"]["from"] == "coil plan"
    assert planned["warnings"] == []


def test_typed_depth_that_disagrees_with_the_plan_warns(coil_json, capsys):
    depth = json.loads(coil_json.read_text())["placement"]["scalp_cortex_distance_mm"]
    argv = [*SAINT, "--rmt", "50", "--motor-depth-mm", "20", "--coil-json", str(coil_json)]
    close = run_json(capsys, [*argv, "--target-depth-mm", str(depth - 4)])
    assert close["warnings"] == [] and close["dose"]["target_depth_mm"] == pytest.approx(depth - 4)
    assert main([*argv, "--target-depth-mm", str(depth - 8), "--json"]) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    (warning,) = result["warnings"]
    assert "differs by 8.0 mm from the coil plan" in warning and warning in captured.err
    assert result["dose"]["target_depth_mm"] == pytest.approx(depth - 8)  # used as typed
    assert result["dose"]["sources"]["target_depth"]["coil_plan"]["depth_mm"] == depth
