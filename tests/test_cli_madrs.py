"""``tmstarget madrs`` end to end: JSON contract, SVG plot, one-line errors with exit 2."""

from __future__ import annotations

import json

import pytest

from tmstarget.cli.main import main

HEADER = "participant\ttimepoint\tday\t" + "\t".join(f"item{i}" for i in range(1, 11))


def write_table(path, rows):
    path.write_text("\n".join([HEADER, *("\t".join(r) for r in rows)]) + "\n")
    return str(path)


def row(participant, timepoint, day, *scores):
    return [participant, timepoint, day, *(str(s) for s in scores)]


GOOD = [
    row("01", "baseline", "0", 4, 4, 4, 4, 3, 3, 3, 3, 3, 3),  # 34
    row("01", "day5", "5", 1, 1, 1, 1, 1, 1, 1, 1, 1, 0),  # 9
    row("02", "baseline", "0", 3, 3, 3, 3, 3, 3, 3, 3, 3, 3),  # 30
    row("02", "day5", "5", 2, 2, 2, 2, 2, 2, 2, 2, 2, 2),  # 20
]


def test_json_and_plot(tmp_path, capsys):
    svg = tmp_path / "madrs.svg"
    argv = [
        "madrs",
        "--quiet",
        write_table(tmp_path / "m.tsv", GOOD),
        "--endpoint",
        "day5",
        "--plot",
        str(svg),
        "--json",
    ]
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    p1, p2 = result["participants"]
    assert p1["baseline_total"] == 34 and p1["endpoint"]["total"] == 9
    assert (
        p1["endpoint"]["pct_change"] == -73.5
        and p1["endpoint"]["response"]
        and p1["endpoint"]["remission"]
    )
    assert p2["endpoint"]["change"] == -10 and not p2["endpoint"]["response"]
    assert (
        result["summary"]["remission_rule"] == "total <= 10"
        and result["summary"]["n_remitters"] == 1
    )
    assert result["plot"] == str(svg) and "<svg" in svg.read_text()


def test_threshold_is_configurable_and_reported(tmp_path, capsys):
    argv = [
        "madrs",
        "--quiet",
        write_table(tmp_path / "m.tsv", GOOD),
        "--endpoint",
        "day5",
        "--remission-threshold",
        "8",
        "--json",
    ]
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["summary"]["remission_threshold"] == 8 and result["summary"]["n_remitters"] == 0


def test_text_output(tmp_path, capsys):
    assert (
        main(["madrs", "--quiet", write_table(tmp_path / "m.tsv", GOOD), "--endpoint", "day5"]) == 0
    )
    out = capsys.readouterr().out
    assert "endpoint day5: 2/2 assessed; 1/2 responders, 1/2 remitters" in out and "-73.5%" in out


def test_default_endpoint_is_month1_and_its_absence_is_one_line(tmp_path, capsys):
    code = main(["madrs", "--quiet", write_table(tmp_path / "m.tsv", GOOD)])
    err = capsys.readouterr().err.strip().splitlines()
    assert (
        code == 2 and len(err) == 1 and "no assessment is labelled 'month1' (found: day5)" in err[0]
    )


@pytest.mark.parametrize(
    ("rows", "fragment"),
    [
        (
            [row("01", "baseline", "0", 7, 0, 0, 0, 0, 0, 0, 0, 0, 0)],
            "m.tsv line 2 (participant 01, timepoint baseline): item1 = 7 is outside 0-6",
        ),
        ([GOOD[1]], "participant 01 has no 'baseline' timepoint (found: day5)"),
        (
            [GOOD[0], GOOD[1], GOOD[1]],
            "m.tsv lines 3 and 4: participant 01 has timepoint 'day5' twice",
        ),
    ],
)
def test_errors_are_one_line(tmp_path, capsys, rows, fragment):
    svg = tmp_path / "m.svg"
    assert (
        main(["madrs", "--quiet", write_table(tmp_path / "m.tsv", rows), "--plot", str(svg)]) == 2
    )
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert (
        len(lines) == 1 and lines[0].startswith("tmstarget madrs: error: ") and fragment in lines[0]
    )
    assert captured.out == "" and not svg.exists()


def test_missing_file_is_one_line(tmp_path, capsys):
    assert main(["madrs", "--quiet", str(tmp_path / "none.tsv")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not found" in err[0]


def test_endpoint_by_window_from_the_command_line(tmp_path, capsys):
    rows = [
        row("01", "baseline", "0", *[3] * 10),
        row("01", "v2", "33", *[1] * 10),  # 29 days after day 4
        row("02", "baseline", "0", *[3] * 10),
        row("02", "v2", "40", *[1] * 10),
    ]  # 36 days after: outside 25-31
    argv = [
        "madrs",
        "--quiet",
        write_table(tmp_path / "m.tsv", rows),
        "--last-session-day",
        "4",
        "--json",
    ]
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    p1, p2 = result["participants"]
    assert (
        p1["endpoint_timepoint"] == "v2"
        and p1["endpoint"]["total"] == 10
        and p2["endpoint"] is None
    )
    assert (result["summary"]["n_assessed"], result["summary"]["n_responders"]) == (1, 1)


def test_plot_format_follows_the_file_name(tmp_path, capsys):
    table = write_table(tmp_path / "m.tsv", GOOD)
    png = tmp_path / "madrs.png"
    assert main(["madrs", "--quiet", table, "--endpoint", "day5", "--plot", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"  # a PNG, not SVG text under a .png name
    capsys.readouterr()
    jpg = tmp_path / "madrs.jpg"
    assert main(["madrs", "--quiet", table, "--endpoint", "day5", "--plot", str(jpg)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and not jpg.exists()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "figures are written as .svg or .png" in lines[0]


def test_sub_prefixed_and_bare_ids_are_one_participant(tmp_path, capsys):
    """Issue 24: 'sub-01' at baseline and '01' at day5 are one participant.

    They are not a second participant without a baseline.
    """
    rows = [GOOD[0][:], GOOD[1], GOOD[2], GOOD[3][:]]
    rows[0][0], rows[3][0] = "sub-01", "sub-02"
    assert (
        main(
            [
                "madrs",
                "--quiet",
                write_table(tmp_path / "m.tsv", rows),
                "--endpoint",
                "day5",
                "--json",
            ]
        )
        == 0
    )
    result = json.loads(capsys.readouterr().out)
    assert [p["participant"] for p in result["participants"]] == ["sub-01", "02"]
    assert [p["endpoint"]["total"] for p in result["participants"]] == [9, 20] and result[
        "summary"
    ]["n_responders"] == 1


def test_last_session_day_in_range_places_the_endpoint(tmp_path, capsys):
    rows = [
        row("01", "baseline", "0", *[3] * 10),
        row("01", "later", "31", *[1] * 10),
        row("02", "baseline", "0", *[3] * 10),
    ]
    assert (
        main(
            [
                "madrs",
                "--quiet",
                write_table(tmp_path / "m.tsv", rows),
                "--last-session-day",
                "4",
                "--json",
            ]
        )
        == 0
    )
    summary = json.loads(capsys.readouterr().out)["summary"]
    assert (
        summary["endpoint_timepoints"] == ["later"]
        and summary["n_assessed"] == 1
        and summary["n_not_assessed"] == 1
    )


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        (
            ["--last-session-day", "-2"],
            "--last-session-day -2 is before participant 01's baseline (day 0)",
        ),
        (
            ["--last-session-day", "400"],
            "--last-session-day 400 is after every assessment (follow-up days 5-5)",
        ),
        (
            ["--last-session-day", "1"],
            "no assessment falls in the month1 window, days "
            "26-32 after a last session on day 1 (follow-up "
            "days 5-5)",
        ),
        (
            ["--last-session-day", "2", "--visit", "month1:-28:3"],
            "ends before the last treatment session",
        ),
    ],
)
def test_last_session_day_that_leaves_everyone_unassessed_is_refused(
    tmp_path, capsys, options, fragment
):
    assert main(["madrs", write_table(tmp_path / "m.tsv", GOOD), *options]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert captured.out == "" and len(lines) == 1 and fragment in lines[0], captured.err


def test_library_refuses_a_non_finite_last_session_day():
    from tmstarget.exceptions import InputError
    from tmstarget.outcomes import madrs_outcomes, parse_madrs_table

    table = parse_madrs_table("\n".join([HEADER, *("\t".join(r) for r in GOOD)]) + "\n")
    for bad in (float("nan"), float("inf"), True, "4"):
        with pytest.raises(InputError, match="is not a number of days"):
            madrs_outcomes(table, endpoint="month1", last_session_day=bad)


def test_plot_shades_the_treatment_days_and_returns_its_alt_text(tmp_path, capsys):
    """Issue 29: --first/--last-session-day shade the treatment; the JSON has the alt text."""
    svg = tmp_path / "madrs.svg"
    table = write_table(tmp_path / "m.tsv", GOOD)
    argv = ["madrs", "--quiet", table, "--plot", str(svg), "--json", "--endpoint"]
    days = ["--first-session-day", "1", "--last-session-day", "4"]
    assert main([*argv, "end_of_treatment", *days]) == 0  # day 5 is 1 day after the last session
    result = json.loads(capsys.readouterr().out)
    assert 'id="madrs-treatment"' in svg.read_text()
    assert "treatment from day 1 to day 4 shaded" in result["plot_alt"]
    assert (
        "sub-01: 34 at baseline (day 0), 9 at day5 (day 5) (response line at 17)"
        in (result["plot_alt"])
    )
    assert main([*argv, "day5"]) == 0
    assert "treatment period is not shown" in json.loads(capsys.readouterr().out)["plot_alt"]


def test_first_session_after_the_last_is_one_line_and_writes_nothing(tmp_path, capsys):
    svg = tmp_path / "madrs.svg"
    table = write_table(tmp_path / "m.tsv", GOOD)
    argv = ["madrs", "--quiet", table, "--plot", str(svg), "--endpoint", "day5"]
    assert main([*argv, "--first-session-day", "5", "--last-session-day", "4"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "--first-session-day 5 is after --last-session-day 4" in lines[0]
    assert not svg.exists()
