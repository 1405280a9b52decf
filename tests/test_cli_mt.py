"""``tmstarget mt`` end to end: JSON per session, interactive ML-PEST hunt, one-line errors.

The hunt appends to the file.
"""

from __future__ import annotations

import io
import json

import pytest

from tmstarget.cli.main import main

TRIALS = (
    "session\tintensity_pct_mso\tamplitude_uv\n"
    + "".join(
        f"day1\t{x}\t{a}\n"
        for x, amps in {48: [60, 20, 55, 70, 10, 52, 30, 80, 40, 20], 47: [10] * 10}.items()
        for a in amps
    )
    + "day2\t50\t80\n"
)


def test_json_per_session_with_both_methods(tmp_path, capsys):
    path = tmp_path / "trials.tsv"
    path.write_text(TRIALS)
    assert main(["mt", str(path), "--json", "--quiet"]) == 0
    result = json.loads(capsys.readouterr().out)
    day1, day2 = result["sessions"]
    assert day1["session"] == "day1" and day1["n_trials"] == 20
    assert (
        day1["relative_frequency"]["threshold_pct_mso"] == 48
        and day1["relative_frequency"]["confirmed"]
    )
    assert 47 <= day1["pest"]["threshold_pct_mso"] <= 51  # 0/10 at 47 pulls the fitted sigmoid up
    lo, hi = day1["pest"]["ci95_pct_mso"]
    assert lo < day1["pest"]["threshold_pct_mso"] < hi
    assert (
        day2["pest"]["next_intensity_pct_mso"] is not None
        and "pest_change_from_previous_pct_mso" in day2
    )
    assert result["notice"] == "research use; not a medical device"


def test_interactive_hunt_appends_each_mep(tmp_path, capsys, monkeypatch):
    path = tmp_path / "new.tsv"
    monkeypatch.setattr("sys.stdin", io.StringIO("300\n20\nnot a number\n60\nq\n"))
    assert main(["mt", str(path), "--interactive", "--session", "2026-12-07", "--quiet"]) == 0
    captured = capsys.readouterr()
    rows = [line.split("\t") for line in path.read_text().splitlines()]
    assert rows[0] == ["session", "intensity_pct_mso", "amplitude_uv"] and len(rows) == 4
    assert [r[0] for r in rows[1:]] == ["2026-12-07"] * 3 and rows[1][1:] == ["52", "300"]
    assert (
        "stimulate at 52% MSO" in captured.err and "'not a number' is not a number" in captured.err
    )
    assert "session 2026-12-07 (3 pulses): ML-PEST RMT" in captured.out


def test_a_valid_pct_mso_and_uv_file_gives_the_same_rmt_as_before_the_unit_checks(tmp_path, capsys):
    """Issue 24: the plausibility checks change nothing for a file in % MSO and µV.

    The numbers are from before the checks.
    """
    path = tmp_path / "trials.tsv"
    path.write_text(TRIALS)
    assert main(["mt", str(path), "--json", "--quiet"]) == 0
    day1, day2 = json.loads(capsys.readouterr().out)["sessions"]
    assert (
        day1["pest"]["threshold_pct_mso"] == 49.9
        and day1["pest"]["ci95_pct_mso"] == [47.9, 52.3]
        and day1["pest"]["done"]
    )
    assert day1["relative_frequency"]["threshold_pct_mso"] == 48.0
    assert (
        day2["pest"]["threshold_pct_mso"] == 34.7 and day2["pest"]["next_intensity_pct_mso"] == 35
    )
    assert day2["pest_change_from_previous_pct_mso"] == -15.2


def test_the_same_trials_in_fractions_or_mv_are_refused_not_estimated(tmp_path, capsys):
    rows = [line.split("\t") for line in TRIALS.splitlines()[1:]]
    fractions = "session\tintensity_pct_mso\tamplitude_uv\n" + "".join(
        f"{s}\t{float(x) / 100:g}\t{a}\n" for s, x, a in rows
    )
    mv = "session\tintensity_pct_mso\tamplitude_uv\n" + "".join(
        f"{s}\t{x}\t{float(a) / 1000:g}\n" for s, x, a in rows
    )
    for text, fragment in ((fractions, "fractions"), (mv, "look like mV")):
        path = tmp_path / "t.tsv"
        path.write_text(text)
        assert main(["mt", str(path), "--json", "--quiet"]) == 2
        captured = capsys.readouterr()
        assert (
            captured.out == ""
            and fragment in captured.err
            and len(captured.err.strip().splitlines()) == 1
        )


def test_interactive_asks_again_for_an_amplitude_that_looks_like_mv(tmp_path, capsys, monkeypatch):
    path = tmp_path / "new.tsv"
    monkeypatch.setattr("sys.stdin", io.StringIO("0.3\ninf\n300\nq\n"))
    assert main(["mt", str(path), "--interactive", "--session", "d1", "--quiet"]) == 0
    err = capsys.readouterr().err
    assert (
        "0.3 looks like mV — type µV (0.3 mV = 300 µV)" in err and "amplitudes are >= 0 µV" in err
    )
    assert path.read_text().splitlines()[1:] == ["d1\t52\t300"]


@pytest.mark.parametrize(
    ("argv", "content", "fragment"),
    [
        (["mt", "missing.tsv"], None, "MEP trials missing.tsv not found"),
        (
            ["mt", "t.tsv"],
            "intensity\tamp\n50\t3\n",
            "column(s) intensity_pct_mso, amplitude_uv missing",
        ),
        (["mt", "t.tsv", "--low", "90", "--high", "50"], TRIALS, "search range 90-50% MSO"),
        (["mt", "t.tsv", "--interactive", "--json"], TRIALS, "drop --json"),
    ],
)
def test_errors_are_one_line(tmp_path, capsys, monkeypatch, argv, content, fragment):
    monkeypatch.chdir(tmp_path)
    if content is not None:
        (tmp_path / "t.tsv").write_text(content)
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert (
        len(lines) == 1
        and lines[0].startswith(f"tmstarget {argv[0]}: error: ")
        and fragment in lines[0]
    ), captured.err
    assert captured.out == ""


def test_plot_draws_every_pulse_and_lists_the_file(tmp_path, capsys):
    """Issue 29: ``mt --plot`` writes the MEP curve with its fits, atomically, named in 'wrote'."""
    path, svg = tmp_path / "trials.tsv", tmp_path / "mep.svg"
    path.write_text(TRIALS)
    assert main(["mt", str(path), "--plot", str(svg), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.strip().splitlines()[-1] == f"wrote: {svg}"
    text = svg.read_text()
    assert text.count("<use ") >= 21  # one marker per pulse (20 + 1), plus the per-level squares
    assert "ML-PEST fit: RMT 49.9% MSO" in text and "relative frequency: RMT 48% MSO" in text
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp file
    assert main(["mt", str(path), "--plot", str(svg), "--json", "--quiet"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["plot"] == str(svg) and result["plot_alt"].startswith(
        "MEP amplitude against stimulator intensity. session day1: 20 pulses at 47-48% MSO"
    )
    assert svg.read_text() == text  # same trials, same bytes


def test_plot_png(tmp_path, capsys):
    path, png = tmp_path / "trials.tsv", tmp_path / "mep.png"
    path.write_text(TRIALS)
    assert main(["mt", str(path), "--plot", str(png), "--quiet"]) == 0
    assert png.read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("mep.jpg", "--plot {d}/mep.jpg: figures are written as .svg or .png"),
        ("trials.tsv", "--plot {d}/trials.tsv and TRIALS_TSV {d}/trials.tsv are the same file"),
    ],
)
def test_bad_plot_path_is_one_line_and_writes_nothing(tmp_path, capsys, name, fragment):
    path = tmp_path / "trials.tsv"
    path.write_text(TRIALS)
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(["mt", str(path), "--plot", str(tmp_path / name), "--quiet"]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tmstarget mt: error: ")
    assert fragment.format(d=tmp_path) in lines[0]
    assert captured.out == "" and sorted(p.name for p in tmp_path.iterdir()) == before
    assert path.read_text() == TRIALS
