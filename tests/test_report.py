"""HTML reports (issue 10): contents, escaping, determinism, failures, command line.

The browser checks (headless Chromium) are in ``test_report_browser.py``; both build their outputs
with :func:`make_report_outputs` from the session's simulated participant.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import sys
from pathlib import Path

import pytest

from tmstarget.cli.main import main
from tmstarget.exceptions import InputError
from tmstarget.report import COHORT_REPORT, write_cohort_report, write_participant_report

#: A participant label that would run as a script if it were not escaped.
SCRIPT_LABEL = "a<script>b"
_RESULTS: dict = {}
MADRS_TSV = (
    "participant\ttimepoint\tday\ttotal\n01\tbaseline\t0\t32\n01\tweek1\t7\t20\n01\tweek4\t28\t8\n"
)


def _copy_participant(
    out: Path, label: str, session: str | None, shift: tuple[float, float, float], **extra
) -> None:
    """Copy sub-01's outputs to another participant/session, moving the target by ``shift`` mm."""
    src = out / "sub-01"
    dst = out / f"sub-{label}" / (f"ses-{session}" if session else "")
    dst.mkdir(parents=True, exist_ok=True)
    stem = f"sub-{label}" + (f"_ses-{session}" if session else "")
    for f in src.glob("sub-01_desc-*"):
        if f.name.endswith(("_target.json", "_report.html")):
            continue
        shutil.copyfile(f, dst / f.name.replace("sub-01", stem, 1))
    t = json.loads((src / "sub-01_desc-sgacc_target.json").read_text())
    t.update(
        participant=label,
        session=session,
        target_mni=[round(a + b, 1) for a, b in zip(t["target_mni"], shift)],
        **extra,
    )
    (dst / f"{stem}_desc-sgacc_target.json").write_text(json.dumps(t, indent=2))


def make_report_outputs(src: Path, out: Path) -> Path:
    """Write target outputs for sub-01, sub-02 and a participant named like a script.

    sub-01's outputs are computed; sub-02 has two sessions.
    """
    from tmstarget.io.bids import find_runs
    from tmstarget.io.derivatives import write_target_outputs
    from tmstarget.targeting import TargetingOptions, compute_target

    if (
        src not in _RESULTS
    ):  # targeting once per test session, whichever report test module comes first
        _RESULTS[src] = compute_target(find_runs(src, "01"), TargetingOptions(), root=src)
    write_target_outputs(_RESULTS[src], out, "01", None, src)
    _copy_participant(out, "02", "1", (4.0, -2.0, 0.0))
    _copy_participant(out, "02", "2", (6.0, -2.0, 2.0), confidence_radius_mm=3.4, n_bootstrap=200)
    reliability = {
        "participant": "02",
        "split_half_distance_mm": 4.1,
        "score_map_agreement": {"spatial_r": 0.71},
        "scan_length_curve": [
            {"minutes": m, "distance_mm": d, "held_out_distance_mm": h}
            for m, d, h in [(2.5, 9.0, 14.0), (5.0, 5.5, 7.5), (7.5, 3.2, None), (10.0, 0.0, None)]
        ],
    }
    (out / "sub-02" / "ses-2" / "sub-02_ses-2_desc-sgacc_reliability.json").write_text(
        json.dumps(reliability)
    )
    _copy_participant(out, SCRIPT_LABEL, None, (-6.0, 4.0, 6.0))
    return out


@pytest.fixture(scope="module")
def out_dir(sim_dataset, tmp_path_factory) -> Path:
    return make_report_outputs(sim_dataset[0], tmp_path_factory.mktemp("report") / "out")


@pytest.fixture(scope="module")
def protocol_json(tmp_path_factory) -> Path:
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert (
            main(
                [
                    "protocol",
                    "--protocol",
                    "saint",
                    "--rmt",
                    "50",
                    "--start",
                    "2026-12-07T08:00",
                    "--json",
                    "--quiet",
                ]
            )
            == 0
        )
    path = tmp_path_factory.mktemp("protocol") / "protocol.json"
    path.write_text(buf.getvalue())
    return path


@pytest.fixture(scope="module")
def full_report(out_dir, protocol_json, tmp_path_factory) -> Path:
    madrs = tmp_path_factory.mktemp("madrs") / "madrs.tsv"
    madrs.write_text(MADRS_TSV)
    extras = {
        "head_measurements": {
            "nasion_inion_cm": 36,
            "tragus_tragus_cm": 35,
            "circumference_cm": 57,
        },
        "protocol": json.loads(protocol_json.read_text()),
        "madrs": madrs,
    }
    return write_participant_report(out_dir, "01", extras=extras)


def _external_refs(html: str) -> list[str]:
    """Every src/href that is not a data: URI, an in-page anchor or a relative link."""
    return [
        v
        for v in re.findall(r'(?:src|href)="([^"]*)"', html)
        if not (v.startswith(("data:", "#")) or re.match(r"^[\w%.-]+(/[\w%.-]+)*$", v))
    ]


def test_participant_report_shows_every_section(full_report, out_dir):
    assert full_report == out_dir / "sub-01" / "sub-01_desc-sgacc_report.html"
    html = full_report.read_text()
    t = json.loads((out_dir / "sub-01" / "sub-01_desc-sgacc_target.json").read_text())
    x, y, z = t["target_mni"]
    assert f"({x:.1f}, {y:.1f}, {z:.1f})" in html
    assert "research use; not a medical device" in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    for needle in (
        "10-20 F3",
        "5 cm anterior to C3",
        "Beam F3 (NI 36, TT 35, HC 57 cm)",
        "MagVenture",
        "SAINT/SNT accelerated iTBS",
        "Stimulator setting",
        "2026-12-07",
        "week4",
        "Head motion",
        "Temporal signal-to-noise ratio",
        "nilearn",
        "<strong>handle 45° posterior-lateral (pointing backwards and to the left)</strong>",
    ):
        assert needle in html, needle
    for digest in t["inputs"].values():
        assert digest in html
    assert "could not be drawn" not in html and "Not included" not in html.split("Provenance")[0]
    assert "<script" not in html.lower()
    assert _external_refs(html) == []
    images = re.findall(r'<img src="([^"]+)"', html)
    # score slices, glass brain, FD, tSNR, MADRS, and the default coil placement on the head and
    # its E-field on cortex (test_report_coil_figures.py)
    assert len(images) == 7 and all(
        src.startswith(("data:image/png;base64,", "data:image/svg+xml;base64,")) for src in images
    )


def test_labels_are_escaped(out_dir):
    path = write_participant_report(out_dir, SCRIPT_LABEL, extras={"coil": False})
    assert path.parent.name == f"sub-{SCRIPT_LABEL}"
    html = path.read_text()
    assert "a&lt;script&gt;b" in html and SCRIPT_LABEL not in html
    cohort = write_cohort_report(out_dir).read_text()
    assert "a&lt;script&gt;b" in cohort and SCRIPT_LABEL not in cohort


def test_reports_are_byte_identical_when_repeated(out_dir):
    first = write_participant_report(out_dir, "02", session="2").read_bytes()
    assert write_participant_report(out_dir, "02", session="2").read_bytes() == first
    cohort = write_cohort_report(out_dir).read_bytes()
    assert write_cohort_report(out_dir).read_bytes() == cohort
    text = first.decode()
    assert "3.4 mm" in text and "split half distance (mm)" in text and "Scan-length curve" in text
    assert re.search(r"bootstrap resamples</th><td>200<", text)


def test_reliability_verdict_in_the_report(out_dir, full_report, tmp_path):
    """The one-line verdict of the target JSON is shown in the report.

    It appears above the figures and in the confidence section; without a confidence region the
    report says reliability was not assessed.
    """
    from markupsafe import escape

    from tmstarget.targeting.uncertainty import NOT_ASSESSED, reliability_verdict

    out = tmp_path / "out"
    shutil.copytree(out_dir, out)
    verdict = reliability_verdict(14.0, 7.6)
    _copy_participant(
        out,
        "03",
        None,
        (0.0, 0.0, 0.0),
        confidence_radius_mm=14.0,
        n_bootstrap=200,
        reliability_verdict=verdict,
    )
    html = write_participant_report(out, "03", extras={"coil": False}).read_text()
    line = re.search(
        r'<p id="reliability-verdict" class="verdict bad">Reliability: ([^<]*)</p>', html
    )
    assert line and line.group(1) == verdict["text"]
    assert "about 60 minutes would be needed for 5 mm" in html and html.count(verdict["text"]) == 2
    assert re.search(r"individually reliable</div>\s*<div class=\"value\">not reliable<", html)
    assert (
        f'class="verdict note">Reliability: {escape(NOT_ASSESSED)}</p>' in full_report.read_text()
    )  # sub-01: no bootstrap


def test_shrinkage_block_in_the_report(out_dir, full_report, tmp_path):
    """A --method shrinkage target has a shrinkage section in the report.

    The section shows how far the individual target is from the group one, against its uncertainty,
    and the weight; other methods have no such section.
    """
    from tmstarget.targeting.shrinkage import difference_verdict

    out = tmp_path / "out"
    shutil.copytree(out_dir, out)
    larger, sentence = difference_verdict(12.3, 7.4, "bootstrap", 0.62)
    block = {
        "weight": 0.62,
        "prior": "circuit map",
        "prior_point_mni": [-40.0, 40.0, 30.0],
        "prior_sigma_mm": 10.0,
        "group_target_mni": [-40.0, 40.0, 30.0],
        "individual_target_mni": [-36.0, 50.0, 24.0],
        "distance_individual_to_group_mm": 12.3,
        "split_half_distance_mm": 9.8,
        "uncertainty_radius_mm": 7.4,
        "uncertainty_source": "bootstrap",
        "difference_exceeds_uncertainty": larger,
        "sentence": sentence,
    }
    _copy_participant(out, "04", None, (0.0, 0.0, 0.0), method="shrinkage", shrinkage=block)
    html = write_participant_report(out, "04", extras={"coil": False}).read_text()
    line = re.search(r'<p id="shrinkage-sentence" class="verdict ok">([^<]*)</p>', html)
    assert line and line.group(1) == sentence + "."
    assert sentence.startswith(
        "individual target 12.3 mm from the group target, "
        "larger than its 95% uncertainty (7.4 mm, bootstrap)"
    )
    for label, value in [
        ("individual target (robust, MNI mm)", "(-36.0, 50.0, 24.0)"),
        ("group target (MNI mm)", "(-40.0, 40.0, 30.0)"),
        ("difference larger than the uncertainty", "yes"),
        ("shrinkage weight (1 = individual only)", "0.62"),
    ]:
        assert re.search(
            rf"<th scope=\"row\">{re.escape(label)}</th><td>{re.escape(value)}</td>", html
        ), label
    assert 'href="#shrinkage"' in html
    assert 'id="shrinkage"' not in full_report.read_text()


def test_cohort_report(out_dir):
    write_participant_report(out_dir, "02", session="1", extras={"coil": False})
    path = write_cohort_report(out_dir)
    assert path == out_dir / COHORT_REPORT
    html = path.read_text()
    assert "between/within-person distance ratio (medians)" in html
    assert "1 vs 2" in html and "2.8 mm" in html  # sub-02's two sessions are 2.8 mm apart
    # sub-02's session targets linked on their own figure, named in its alt text
    assert "each with one line joining their session targets" in html
    assert "median within-person distance 2.8 mm" in html
    assert 'href="sub-02/ses-1/sub-02_ses-1_desc-sgacc_report.html"' in html
    assert "Cohort report — 3 participants" in html
    assert _external_refs(html) == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"participant": "99"},
            r"participant '99' not found .*\(participants: "
            r"01, 02, a<script>b\) — check --participant-label",
        ),
        ({"participant": "02"}, r"sub-02 has sessions 1, 2 — pass one \(--session\)"),
        ({"participant": "02", "session": "3"}, r"no session '3'.*\(sessions: 1, 2\)"),
        (
            {"participant": "01", "circuit": "convergent"},
            r"no 'convergent' target .*\(circuits: sgacc\)",
        ),
        ({"participant": "../01"}, r"not a usable label"),
        ({"participant": "01", "extras": {"colour": "red"}}, r"unknown report extras colour — use"),
        (
            {"participant": "01", "extras": {"madrs": "/no/such.tsv"}},
            r"MADRS table /no/such.tsv not found",
        ),
        ({"participant": "01", "extras": {"protocol": {"dose": {}}}}, r"tmstarget protocol --json"),
        (
            {"participant": "01", "extras": {"head_measurements": {"nasion_inion_cm": 36}}},
            r"head measurements must give",
        ),
    ],
)
def test_bad_input_is_one_clear_error_and_writes_nothing(out_dir, kwargs, message):
    before = sorted(p.name for p in out_dir.rglob("*_report.html"))
    with pytest.raises(InputError, match=message):
        write_participant_report(out_dir, **kwargs)
    assert sorted(p.name for p in out_dir.rglob("*_report.html")) == before


def test_missing_target_and_empty_folder(tmp_path):
    (tmp_path / "sub-05").mkdir()
    with pytest.raises(InputError, match=r"sub-05 has no target JSON .* run 'tmstarget target'"):
        write_participant_report(tmp_path, "05")
    with pytest.raises(InputError, match=r"no \*_target.json under"):
        write_cohort_report(tmp_path)
    assert not list(tmp_path.rglob("*.html"))


def test_failed_figure_becomes_a_note(out_dir, monkeypatch, caplog):
    from tmstarget.report import brain
    from tmstarget.report.figcache import figures_dir

    def broken(*args, **kwargs):
        raise RuntimeError("simulated plotting failure")

    monkeypatch.setattr(brain, "score_map_slices", broken)
    shutil.rmtree(figures_dir(), ignore_errors=True)  # drawn, not read from the figure cache
    with caplog.at_level(logging.WARNING, logger="tmstarget.report"):
        html = write_participant_report(
            out_dir, "02", session="1", extras={"coil": False}
        ).read_text()
    assert "This figure could not be drawn (RuntimeError: simulated plotting failure)" in html
    assert "simulated plotting failure" in caplog.text
    assert html.count("<img ") == 3  # glass brain, FD and tSNR are still there


def test_missing_optional_files_and_modules_become_notes(out_dir, tmp_path, monkeypatch):
    out = tmp_path / "out"
    shutil.copytree(out_dir / "sub-01", out / "sub-01")
    (out / "sub-01" / "sub-01_desc-tsnr_map.nii.gz").unlink()
    (out / "sub-01" / "sub-01_desc-motion_timeseries.tsv").write_text("not a table\n")
    monkeypatch.setitem(
        sys.modules, "tmstarget.coil", None
    )  # as if the coil package were not installed
    html = write_participant_report(out, "01").read_text()
    assert "tSNR map sub-01_desc-tsnr_map.nii.gz was not found beside the target JSON." in html
    assert "Motion table sub-01_desc-motion_timeseries.tsv could not be read" in html
    assert "Coil placement could not be computed (ModuleNotFoundError" in html


def test_unexpected_shapes_from_other_commands_do_not_break_the_report(out_dir, protocol_json):
    protocol = json.loads(protocol_json.read_text()) | {
        "dose": [1, 2],
        "safety": {"checks": ["over", None]},
    }
    target = json.loads(
        (out_dir / "sub-02" / "ses-1" / "sub-02_ses-1_desc-sgacc_target.json").read_text()
    )
    coil = {
        "target_mni": target["target_mni"],
        "placement": {"handle_direction": [0, -1, 0]},
        "efield": None,
        "exports": {"csv": "x.csv"},
        "coil": {"name": "test coil"},
    }
    html = write_participant_report(
        out_dir, "02", session="1", extras={"coil": coil, "protocol": protocol}
    ).read_text()
    assert "test coil" in html and "SAINT/SNT accelerated iTBS" in html


def _coil_plan(capsys, target: str) -> dict:
    assert main(["coil", f"--target={target}", "--json", "--quiet"]) == 0
    return json.loads(capsys.readouterr().out)


def test_a_coil_plan_for_another_target_is_refused(out_dir, capsys, tmp_path):
    target = json.loads(
        (out_dir / "sub-02" / "ses-1" / "sub-02_ses-1_desc-sgacc_target.json").read_text()
    )
    x, y, z = target["target_mni"]
    right = _coil_plan(capsys, f"{-x},{y},{z}")  # the mirror point: a right-hemisphere plan
    with pytest.raises(InputError, match=r"right-hemisphere point for a left-hemisphere target"):
        write_participant_report(out_dir, "02", session="1", extras={"coil": right})
    other = _coil_plan(capsys, f"{x},{y + 8},{z}") | {"participant": "02"}
    with pytest.raises(InputError, match=r"8\.0 mm from this target"):
        write_participant_report(out_dir, "02", session="1", extras={"coil": other})
    same = _coil_plan(capsys, f"{x},{y},{z}")
    with pytest.raises(InputError, match="made for participant '03'"):
        write_participant_report(
            out_dir, "02", session="1", extras={"coil": same | {"participant": "sub-03"}}
        )
    for junk in (
        {"supplied": True},
        {"target_mni": [1, 2], "placement": {}},
        {"target_mni": [x, y, z], "placement": "left"},
    ):
        with pytest.raises(InputError, match="is not a coil plan"):
            write_participant_report(out_dir, "02", session="1", extras={"coil": junk})
    html = write_participant_report(
        out_dir, "02", session="1", extras={"coil": same | {"participant": "sub-02"}}
    ).read_text()
    assert "handle 45° posterior-lateral (pointing backwards and to the left)" in html
    path = tmp_path / "right.json"
    path.write_text(json.dumps(right))
    assert (
        main(
            [
                "report",
                str(out_dir),
                "participant",
                "--participant-label",
                "02",
                "--session",
                "1",
                "--coil-json",
                str(path),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert (
        len(err.strip().splitlines()) == 1
        and "coil plan is for target" in err
        and "right-hemisphere" in err
    )


def test_command_line(out_dir, capsys):
    assert (
        main(
            [
                "report",
                str(out_dir),
                "participant",
                "--participant-label",
                "02",
                "--no-coil",
                "--json",
                "--quiet",
            ]
        )
        == 0
    )
    written = json.loads(capsys.readouterr().out)["reports"]
    assert [Path(p).name for p in written] == [
        "sub-02_ses-1_desc-sgacc_report.html",
        "sub-02_ses-2_desc-sgacc_report.html",
    ]
    assert main(["report", str(out_dir), "group", "--quiet"]) == 0
    assert (out_dir / COHORT_REPORT).is_file()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["participant"], "needs --participant-label"),
        (["participant", "--participant-label", "77"], "participant '77' not found"),
        (["group", "--participant-label", "01"], "participant options were given with 'group'"),
        (
            ["participant", "--participant-label", "01", "--nasion-inion", "36"],
            "Beam F3 needs all of",
        ),
        (
            ["participant", "--participant-label", "01", "--protocol-json", "/no/such.json"],
            "--protocol-json /no/such.json not found",
        ),
    ],
)
def test_command_line_errors_are_one_line_exit_2(out_dir, capsys, argv, message):
    assert main(["report", str(out_dir), *argv]) == 2
    err = capsys.readouterr().err
    assert (
        len(err.strip().splitlines()) == 1
        and message in err
        and err.startswith("tmstarget report: error: ")
    )


def test_reliability_advice_says_what_the_region_means_and_what_to_do():
    from tmstarget.report.sections import reliability_advice

    base = {"radius_mm": 12.3, "threshold_mm": 5.0, "minutes_used": 7.6, "minutes_needed": 46.0}
    wide = reliability_advice({**base, "reliable": False})
    assert "within 12.3 mm" in wide[0] and "after 7.6 minutes" in wide[0]
    assert "about 46 minutes" in wide[1] and "multi-echo" in wide[1] and "group target" in wide[1]
    spans = reliability_advice({**base, "reliable": False, "spans_search_region": True})
    assert "cannot place an individual target" in spans[0] and "whole left-DLPFC" in spans[0]
    ok = reliability_advice({**base, "radius_mm": 3.1, "reliable": True, "minutes_needed": None})
    assert len(ok) == 1 and "within 3.1 mm" in ok[0] and "used as it is" in ok[0]
    short = reliability_advice({**base, "radius_mm": 4.0, "single_run_too_short": True})
    assert "one run of 7.6 minutes" in short[0]
    none = reliability_advice({**base, "reliable": None, "region_uncalibrated": True}, "efield")
    assert "--method efield" in none[0] and len(none) == 1
    stim = {**base, "reliable": False, "stimulation": {"text": "keeps >= 79% of the score"}}
    assert reliability_advice(stim)[-1] == "In stimulation terms: keeps >= 79% of the score."
    assert reliability_advice(None) == [] and reliability_advice({"reliable": True}) == []


def test_the_scan_length_figure_shows_held_out_distances_only():
    from tmstarget.report.sections import reliability_section

    rows = [
        {"minutes": 2.0, "distance_mm": 8.0, "held_out_distance_mm": 12.0},
        {"minutes": 4.0, "distance_mm": 3.0, "held_out_distance_mm": 6.5},
        {"minutes": 8.0, "distance_mm": 0.0, "held_out_distance_mm": None},
    ]
    assert reliability_section({"scan_length_curve": rows}, None)["curve"] == (
        [2.0, 4.0],
        [12.0, 6.5],
    )
    old = [{"minutes": m, "distance_mm": d} for m, d in [(2.0, 8.0), (8.0, 0.0)]]
    assert reliability_section({"scan_length_curve": old}, None)["curve"] is None


def test_confidence_region_figure_comes_from_the_target_json_or_the_reliability_json():
    import base64

    from tmstarget.report.brain import region_glass
    from tmstarget.report.participant import _confidence_region

    cloud = [[-40.0 + i, 42.0, 30.0 - i] for i in range(5)]
    t = {
        "confidence_region": {
            "bootstrap_targets_mni": cloud,
            "ellipsoid": {"centre_mni": [1, 2, 3]},
        }
    }
    assert _confidence_region(t, None) == (cloud, {"centre_mni": [1, 2, 3]})
    rel = {"bootstrap": {"targets_mni": cloud[:2]}, "confidence_ellipsoid": None}
    assert _confidence_region({}, rel) == (cloud[:2], None)
    assert (
        _confidence_region({}, {"bootstrap": {}}) is None and _confidence_region({}, None) is None
    )
    uri = region_glass([-40.0, 42.0, 30.0], cloud, 8.0)
    png = base64.b64decode(uri.split(",", 1)[1])
    assert uri.startswith("data:image/png;base64,") and png[:4] == b"\x89PNG"
    assert region_glass([-40.0, 42.0, 30.0], cloud, 8.0) == uri  # deterministic
    assert region_glass([-40.0, 42.0, 30.0], cloud, None) != uri  # the outline is drawn


# --------------------------------------------------------- figures of the treatment (issue 29)
def _alts(html: str) -> list[str]:
    import html as html_module

    return [html_module.unescape(a) for a in re.findall(r'<img src="[^"]+" alt="([^"]*)"', html)]


@pytest.fixture(scope="module")
def session_log(tmp_path_factory) -> Path:
    """Write a SAINT session log with ten sessions given (session 3 missed)."""
    d = tmp_path_factory.mktemp("sessions")
    log = d / "log.tsv"
    argv = ["protocol", "--quiet", "--protocol", "saint", "--start", "2026-12-07T08:00"]
    assert main([*argv, "--log-template", str(log), "--screening-override", "test"]) == 0
    rows = [line.split("\t") for line in log.read_text().splitlines()]
    for row in rows[1:11]:
        row[5] = row[4]
    rows[3][5] = "0"
    log.write_text("\n".join("\t".join(r) for r in rows) + "\n")
    return log


def test_madrs_figure_shows_the_response_line_treatment_and_flags(out_dir, tmp_path):
    from tmstarget.io.derivatives import sha256
    from tmstarget.report import participant_report_html

    html = participant_report_html(out_dir, "01", extras={"madrs": _madrs(tmp_path, "")})
    (alt,) = [a for a in _alts(html) if a.startswith("MADRS")]
    assert alt == (
        "MADRS total by assessment for sub-01: 32 at baseline (day 0), 20 at week1 (day 7), "
        "8 at week4 (day 28) (response line at 16); remission line at 10; treatment days not "
        "given, so the treatment period is not shown; item 10 not recorded (totals only), so no "
        "suicidal-thoughts flags."
    )
    assert "Dotted line: 50% response line at half the baseline total" in html
    assert "dashed line = remission threshold." not in html  # the old caption
    assert "The treatment period is not shown" in html
    # the treatment days: from the table's columns, or given (which win)
    table = _madrs(tmp_path, "\t1\t5")
    html = participant_report_html(out_dir, "01", extras={"madrs": table})
    assert "treatment from day 1 to day 5 shaded" in html
    assert (
        f"Treatment days from the first_session_day and last_session_day columns of {table.name}"
        in html
    )
    assert sha256(table) in html
    days = {"first_session_day": 2, "last_session_day": 6}
    html = participant_report_html(out_dir, "01", extras={"madrs": table, "treatment_days": days})
    assert "treatment from day 2 to day 6 shaded" in html and "Treatment days from" not in html
    with pytest.raises(InputError, match="is after the last"):
        participant_report_html(
            out_dir, "01", extras={"madrs": table, "treatment_days": {"first_session_day": 9}}
        )


def _madrs(tmp_path: Path, days: str) -> Path:
    """MADRS_TSV, with first/last_session_day columns when ``days`` gives their cells."""
    lines = MADRS_TSV.splitlines()
    if days:
        lines = [lines[0] + "\tfirst_session_day\tlast_session_day"] + [
            line + days for line in lines[1:]
        ]
    path = tmp_path / ("madrs_days.tsv" if days else "madrs.tsv")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_session_timeline_in_the_report(out_dir, session_log):
    from tmstarget.io.derivatives import sha256
    from tmstarget.report import participant_report_html

    html = participant_report_html(out_dir, "01", extras={"session_log": session_log})
    (alt,) = [a for a in _alts(html) if a.startswith("Session timeline")]
    assert alt.startswith(
        "Session timeline by day and time of day: 50 planned sessions over days 1-5; "
        "9 delivered as planned; 1 missed; 40 not yet given"
    )
    assert '<section id="course">' in html and "missed sessions" in html  # caption
    assert sha256(session_log) in html and "Session timeline — pass" not in html
    assert "Session timeline — pass the filled-in session log" in participant_report_html(
        out_dir, "01"
    )


def test_command_line_draws_mep_curve_timeline_and_treatment(
    out_dir, session_log, tmp_path, capsys
):
    """--session-log, --last-session-day, and the MEP trials found through the protocol JSON."""
    import contextlib
    import io

    from tmstarget.io.derivatives import sha256

    trials = tmp_path / "trials.tsv"
    trials.write_text(
        "session\tintensity_pct_mso\tamplitude_uv\n"
        + "".join(f"day1\t48\t{a}\n" for a in (60, 20, 55, 70, 10, 52, 30, 80, 40, 20))
        + "day1\t47\t10\n" * 10
    )
    for cmd, out in (
        (["mt", str(trials)], tmp_path / "mt.json"),
        (["protocol", "--protocol", "saint", "--rmt-json", str(tmp_path / "mt.json")], None),
    ):
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            assert main([*cmd, "--json", "--quiet"]) == 0
        (out or tmp_path / "protocol.json").write_text(buf.getvalue())
    madrs = tmp_path / "madrs02.tsv"
    madrs.write_text(MADRS_TSV.replace("\n01\t", "\n02\t"))
    base = ["report", str(out_dir), "participant", "--participant-label", "02", "--session", "1"]
    argv = [*base, "--no-coil", "--quiet", "--madrs", str(madrs), "--last-session-day", "5"]
    argv += ["--protocol-json", str(tmp_path / "protocol.json"), "--session-log", str(session_log)]
    assert main(argv) == 0
    html = (out_dir / "sub-02" / "ses-1" / "sub-02_ses-1_desc-sgacc_report.html").read_text()
    alts = _alts(html)
    assert any(
        a.startswith("MEP amplitude against stimulator intensity. session day1") for a in alts
    )
    assert any(a.startswith("Session timeline by day and time of day") for a in alts)
    assert any("last treatment session on day 5 marked" in a for a in alts)
    for f in (trials, session_log, madrs, tmp_path / "protocol.json", tmp_path / "mt.json"):
        assert sha256(f) in html, f.name
    # an explicit --mt-trials must be the table behind the protocol's threshold (a copy is)
    copy = tmp_path / "copy.tsv"
    copy.write_bytes(trials.read_bytes())
    assert main([*argv, "--mt-trials", str(copy)]) == 0
    capsys.readouterr()
    other = tmp_path / "other.tsv"
    other.write_text(trials.read_text().replace("\t80\n", "\t81\n"))

    def refused(extra: list[str], message: str, base_argv: list[str] = argv) -> None:
        assert main([*base_argv, *extra]) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and message in err, err

    refused(["--mt-trials", str(other)], "is not the MEP trials table behind the protocol")
    refused(["--mt-trials", str(madrs)], "is not the MEP trials table behind the protocol")
    # without a protocol: a table naming another participant, and a table that is not one
    plain = [*base, "--no-coil", "--quiet"]
    named = tmp_path / "named.tsv"
    named.write_text(
        "participant\t"
        + trials.read_text().replace("\n", "\nsub-01\t", trials.read_text().count("\n") - 1)
    )
    refused(["--mt-trials", str(named)], "holds MEP trials of sub-01, not of participant 02", plain)
    refused(["--mt-trials", str(madrs)], "intensity_pct_mso", plain)
    # a first treatment day after the last (one given, one typed)
    refused(["--first-session-day", "9"], "first treatment session day 9 is after the last (5)")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--last-session-day", "5"], "add --madrs TSV"),
        (["--session-log", "/no/such.tsv"], "session log /no/such.tsv not found"),
        (["--mt-trials", "/no/such.tsv"], "MEP trials /no/such.tsv not found"),
    ],
)
def test_treatment_figure_options_errors_are_one_line(out_dir, capsys, extra, message):
    assert main(["report", str(out_dir), "participant", "--participant-label", "01", *extra]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and message in err, err


def test_reliability_advice_without_an_estimate_says_more_than_an_hour():
    from tmstarget.report.sections import reliability_advice

    v = {"radius_mm": 38.8, "reliable": False, "spans_search_region": True, "minutes_used": 9.8}
    assert "more than an hour" in reliability_advice({**v, "minutes_needed": None})[1]
