"""Outputs over inputs, outputs over each other, and non-finite numbers, in every command.

These are classes 1, 3, 6 and 7 of issue 24.

The cases use the small input files of ``test_bad_inputs`` (``{d}``) and an empty folder of their
own (``{o}``); each is checked by :func:`bad_input_harness.check_refused`: exit 2, one stderr line,
no traceback, nothing written or changed. The walk over the parser makes sure no path-like option is
left without a role, so the collision check (``tmstarget.cli._paths``) cannot be bypassed by an
option added later.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
from pathlib import Path

import pytest

from bad_input_harness import check_refused
from test_bad_inputs import _write_inputs
from tmstarget._utils.jsonio import NonFiniteOutputError, dumps
from tmstarget.cli._common import input_file, output_dir, output_file
from tmstarget.cli._paths import OWN, chosen_command, role
from tmstarget.cli.main import main
from tmstarget.cli.parser import build_parser, iter_commands
from tmstarget.targeting.uncertainty.summaries import MIN_RESAMPLES, reliability_verdict


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("bad_outputs") / "in"
    d.mkdir()
    _write_inputs(d)
    (d / "madrs_link.tsv").symlink_to(d / "madrs.tsv")
    os.link(d / "trial.tsv", d / "trial_hardlink.tsv")
    (d / "sub").mkdir()
    (d / "compare.tsv").write_text(
        "participant_id\tnasion_inion_cm\ttragus_tragus_cm\tcircumference_cm\nsub-01\t36\t35\t57\n"
    )
    return d


SAINT = ["protocol", "--protocol", "saint"]
CUSTOM = [
    "protocol",
    "--protocol",
    "custom",
    "--frequency-hz",
    "10",
    "--train-s",
    "4",
    "--iti-s",
    "26",
    "--trains",
    "75",
    "--intensity-pct-rmt",
    "120",
]
ANALYZE = ["trial", "analyze", "{d}/trial.tsv", "--imputations", "0"]
COIL = ["coil", "--target=-40,42,30"]
SCORE = ["score", "--circuit", "{d}/circuit.nii.gz", "--coords=-38,44,26"]
REVEAL = [
    "trial",
    "reveal",
    "{d}/alloc.tsv",
    "--key",
    "{d}/key.json",
    "--participant",
    "02",
    "--stratum",
    "severity=severe",
]
BUILD = ["circuit", "build", "{d}/sites.tsv", "{d}/nope_fmriprep", "{o}/map.nii.gz"]
SAME = "are the same file"
OVER = "would overwrite the input"

#: (id, argv, expected fragment): an output over an input or over another output, refused before
#: any work.
COLLISIONS: list[tuple[str, list[str], str]] = [
    # coil: every pair of exports, and an export over the target JSON or the transforms
    ("coil-csv-brainsight", [*COIL, "--csv", "{o}/x", "--brainsight", "{o}/x"], SAME),
    ("coil-csv-localite", [*COIL, "--csv", "{o}/x", "--localite", "{o}/x"], SAME),
    ("coil-csv-poses", [*COIL, "--csv", "{o}/x", "--poses-json", "{o}/x"], SAME),
    ("coil-localite-brainsight", [*COIL, "--localite", "{o}/x", "--brainsight", "{o}/x"], SAME),
    ("coil-localite-poses", [*COIL, "--localite", "{o}/x.xml", "--poses-json", "{o}/x.xml"], SAME),
    ("coil-brainsight-poses", [*COIL, "--brainsight", "{o}/x", "--poses-json", "{o}/x"], SAME),
    ("coil-csv-dotdot", [*COIL, "--csv", "{o}/x.csv", "--brainsight", "{o}/sub/../x.csv"], SAME),
    (
        "coil-poses-over-target-json",
        ["coil", "--target-json", "{d}/target.json", "--poses-json", "{d}/target.json"],
        OVER,
    ),
    (
        "coil-csv-over-t1w",
        [*COIL, "--t1w", "{d}/circuit.nii.gz", "--csv", "{d}/circuit.nii.gz"],
        OVER,
    ),
    (
        "coil-brainsight-over-image",
        [*COIL, "--brainsight-image", "{d}/mask.nii.gz", "--brainsight", "{d}/mask.nii.gz"],
        OVER,
    ),
    (
        "coil-localite-over-circuit",
        [*COIL, "--circuit", "{d}/circuit.nii.gz", "--localite", "{d}/circuit.nii.gz"],
        OVER,
    ),
    # trial analyze: the report, plot, CONSORT and visit table over the data, the allocation and
    # each other
    ("analyze-report-over-data", [*ANALYZE, "--report", "{d}/trial.tsv"], OVER),
    ("analyze-report-over-data-link", [*ANALYZE, "--report", "{d}/trial_hardlink.tsv"], OVER),
    ("analyze-visit-table-over-data", [*ANALYZE, "--visit-table", "{d}/trial.tsv"], OVER),
    (
        "analyze-report-over-allocation",
        [
            *ANALYZE,
            "--allocation",
            "{d}/allocation_partial.tsv",
            "--report",
            "{d}/allocation_partial.tsv",
        ],
        OVER,
    ),
    (
        "analyze-report-over-secondary",
        [*ANALYZE, "--secondary", "hamd17={d}/hamd.tsv", "--report", "{d}/hamd.tsv"],
        OVER,
    ),
    ("analyze-plot-consort", [*ANALYZE, "--plot", "{o}/f.svg", "--consort", "{o}/f.svg"], SAME),
    (
        "analyze-report-visit-table",
        [*ANALYZE, "--report", "{o}/r.tsv", "--visit-table", "{o}/r.tsv"],
        SAME,
    ),
    (
        "analyze-plot-consort-dotdot",
        [*ANALYZE, "--plot", "{o}/f.png", "--consort", "{o}/./f.png"],
        SAME,
    ),
    # protocol: the calendar and the log template over the session log, the screening form and each
    # other
    (
        "protocol-template-over-log",
        [*SAINT, "--session-log", "{d}/log.csv", "--log-template", "{d}/log.csv"],
        OVER,
    ),
    (
        "protocol-template-over-screening",
        [*SAINT, "--screening", "{d}/form_flagged.tsv", "--log-template", "{d}/form_flagged.tsv"],
        OVER,
    ),
    (
        "protocol-ics-over-log",
        [*SAINT, "--session-log", "{d}/log.csv", "--ics", "{d}/log.csv"],
        OVER,
    ),
    (
        "protocol-ics-template",
        [*SAINT, "--start", "2026-12-07T08:00", "--ics", "{o}/s", "--log-template", "{o}/s"],
        SAME,
    ),
    # screen, score, madrs, circuit build, compare
    (
        "screen-template-over-form",
        ["screen", "{d}/form_flagged.tsv", "--template", "{d}/form_flagged.tsv"],
        OVER,
    ),
    (
        "score-out-over-coords-file",
        [
            "score",
            "--circuit",
            "{d}/circuit.nii.gz",
            "--coords-file",
            "{d}/coords.csv",
            "--out",
            "{d}/coords.csv",
        ],
        OVER,
    ),
    ("score-out-over-circuit", [*SCORE, "--out", "{d}/circuit.nii.gz"], OVER),
    ("madrs-plot-over-table", ["madrs", "{d}/madrs.tsv", "--plot", "{d}/madrs.tsv"], OVER),
    (
        "madrs-plot-over-table-symlink",
        ["madrs", "{d}/madrs_link.tsv", "--plot", "{d}/madrs.tsv"],
        OVER,
    ),
    (
        "circuit-map-over-sites",
        ["circuit", "build", "{d}/sites.tsv", "{d}/nope_fmriprep", "{d}/sites.tsv"],
        OVER,
    ),
    (
        "circuit-map-over-reference",
        [*BUILD[:4], "{d}/circuit.nii.gz", "--reference", "{d}/circuit.nii.gz"],
        OVER,
    ),
    (
        "circuit-sidecar-over-reference",
        [*BUILD[:4], "{d}/target.nii.gz", "--reference", "{d}/target.json"],
        "sidecar",
    ),
    (
        "compare-out-over-measurements",
        [
            "compare",
            "--targets",
            "{d}/out",
            "--rule",
            "beam-f3",
            "--measurements",
            "{d}/compare.tsv",
            "--out",
            "{d}",
        ],
        "compare.tsv",
    ),
    # trial randomize and reveal
    (
        "randomize-key-is-list",
        ["trial", "randomize", "{o}/a.tsv", "--key", "{o}/a.tsv", "--per-stratum", "4"],
        SAME,
    ),
    ("reveal-log-over-list", [*REVEAL, "--log", "{d}/alloc.tsv"], OVER),
    ("reveal-log-over-key", [*REVEAL, "--log", "{d}/key.json"], OVER),
]

#: (id, argv, fragment): NaN and infinity in number options of every command (argparse refuses them
#: centrally).
NON_FINITE: list[tuple[str, list[str], str]] = [
    ("protocol-iti-nan", [*CUSTOM[:8], "nan", *CUSTOM[9:]], "--iti-s"),
    ("protocol-frequency-inf", [*CUSTOM[:4], "inf", *CUSTOM[5:]], "--frequency-hz"),
    ("protocol-train-minus-inf", [*CUSTOM[:6], "-inf", *CUSTOM[7:]], "--train-s"),
    ("protocol-rmt-nan", [*SAINT, "--rmt", "nan"], "--rmt"),
    (
        "protocol-intensity-inf",
        [*SAINT, "--rmt", "50", "--intensity-pct-rmt", "inf"],
        "--intensity-pct-rmt",
    ),
    ("protocol-max-pct-nan", [*SAINT, "--rmt", "50", "--max-pct-rmt", "nan"], "--max-pct-rmt"),
    (
        "protocol-depth-nan",
        [*SAINT, "--rmt", "50", "--target-depth-mm", "nan", "--motor-depth-mm", "15"],
        "--target-depth-mm",
    ),
    ("protocol-interval-inf", [*SAINT, "--min-interval-min", "inf"], "--min-interval-min"),
    (
        "madrs-last-session-nan",
        ["madrs", "{d}/madrs.tsv", "--last-session-day", "nan"],
        "--last-session-day",
    ),
    ("mt-low-nan", ["mt", "{d}/mt.tsv", "--low", "nan"], "--low"),
    ("mt-high-inf", ["mt", "{d}/mt.tsv", "--high", "inf"], "--high"),
    ("analyze-response-nan", [*ANALYZE, "--response-pct", "nan"], "--response-pct"),
    ("analyze-remission-inf", [*ANALYZE, "--remission-threshold", "inf"], "--remission-threshold"),
    ("analyze-confidence-nan", [*ANALYZE, "--confidence", "NaN"], "--confidence"),
    (
        "power-alpha-inf",
        ["trial", "power", "--effect-size", "0.8", "--participants", "40", "--alpha", "inf"],
        "--alpha",
    ),
    ("power-power-nan", ["trial", "power", "--effect-size", "0.8", "--power", "nan"], "--power"),
    (
        "trial-simulate-dropout-nan",
        ["trial", "simulate", "{o}/t.tsv", "--dropout", "nan"],
        "--dropout",
    ),
    ("scalp-distance-nan", ["scalp", "--rule", "5cm", "--distance-cm", "nan"], "--distance-cm"),
    (
        "compare-circumference-inf",
        [
            "compare",
            "--target-json",
            "{d}/target.json",
            "--rule",
            "beam-f3",
            "--nasion-inion",
            "36",
            "--tragus-tragus",
            "35",
            "--circumference",
            "inf",
        ],
        "--circumference",
    ),
    ("score-radius-nan", [*SCORE, "--radius-mm", "nan"], "--radius-mm"),
    ("coil-didt-inf", [*COIL, "--didt", "inf"], "--didt"),
    ("coil-handle-nan", [*COIL, "--handle-angle", "nan"], "--handle-angle"),
    ("simulate-shift-nan", ["simulate", "{o}/sim", "--shift-mm", "nan"], "--shift-mm"),
    ("simulate-tr-inf", ["simulate", "{o}/sim", "--tr", "inf"], "--tr"),
    (
        "target-group-target-nan",
        [
            "target",
            "{d}/emptydir",
            "{o}/o",
            "participant",
            "--method",
            "shrinkage",
            "--group-target",
            "-38,nan,26",
        ],
        "--group-target",
    ),
    (
        "target-fwhm-inf",
        ["target", "{d}/emptydir", "{o}/o", "participant", "--fwhm", "inf"],
        "--fwhm",
    ),
    (
        "report-head-inf",
        ["report", "{d}/out", "participant", "--participant-label", "01", "--nasion-inion", "inf"],
        "--nasion-inion",
    ),
    (
        "f3-tragus-nan",
        ["f3", "--nasion-inion", "36", "--tragus-tragus", "nan", "--circumference", "57"],
        "--tragus-tragus",
    ),
]

CASES = COLLISIONS + NON_FINITE


def test_corpus_size():
    ids = [c[0] for c in CASES]
    assert len(ids) == len(set(ids))
    print(f"outputs and numbers corpus: {len(CASES)} cases")
    assert len(COLLISIONS) >= 35 and len(NON_FINITE) >= 25


@pytest.mark.parametrize(("argv", "fragment"), [pytest.param(a, f, id=i) for i, a, f in CASES])
def test_refused_before_any_work(argv, fragment, inputs, tmp_path, capsys, monkeypatch):
    (tmp_path / "sub").mkdir()
    line = check_refused(
        argv, fragment, {"d": inputs, "o": tmp_path}, [inputs], tmp_path, capsys, monkeypatch
    )
    if fragment in (SAME, OVER):
        assert (
            "— write the output to another path" in line
            or "— give each output its own path" in line
        )
    if (argv, fragment) in [(a, f) for _, a, f in NON_FINITE]:
        assert "must be a finite number" in line


PATH_LIKE = re.compile(
    r"FILE|TSV|JSON|DIR|PATH|MAP|CSV|\.tsv|\.json|\.nii|\.svg|LOG|SITES|OUT|TRIALS|FORM|CONCEALED|KEY",
    re.I,
)


def test_every_path_like_option_has_a_role():
    """A new option naming a file must be read, written or checked by its command.

    An option names a file by its metavar or dest.
    """
    missing = []
    for command, parser in iter_commands(build_parser()):
        if any(isinstance(a, argparse._SubParsersAction) for a in parser._actions):
            continue  # only the commands that run (not 'tmstarget' or 'trial' themselves)
        for action in parser._actions:
            meta = (
                action.metavar
                if isinstance(action.metavar, str)
                else " ".join(action.metavar or ())
            )
            if (
                action.type not in (None, str, Path, input_file, output_file, output_dir)
                or action.choices
                or action.nargs == 0
            ):
                continue
            if PATH_LIKE.search(meta or "") or PATH_LIKE.search(action.dest.replace("_", "")):
                if role(command, action) is None:
                    missing.append(f"{command} {action.dest} ({meta})")
    assert missing == []


def test_the_roles_cover_the_commands_outputs():
    """Spot checks that the walk above relies on.

    Outputs are OUT, logs appended to are INOUT, paths lists OWN.
    """
    parser = build_parser()
    args = parser.parse_args(["coil", "--target=-40,42,30", "--csv", "a.csv"])
    command, chosen = chosen_command(parser, args)
    assert command == "coil"
    roles = {a.dest: role(command, a) for a in chosen._actions}
    assert roles["csv"] == roles["brainsight"] == roles["localite"] == roles["poses_json"] == "out"
    assert roles["target_json"] == roles["t1w"] == roles["circuit"] == "in"
    args = parser.parse_args(["trial", "reveal", "a.tsv", "--key", "k.json", "--participant", "01"])
    command, chosen = chosen_command(parser, args)
    assert (
        command == "trial reveal"
        and {a.dest: role(command, a) for a in chosen._actions}["log"] == "inout"
    )
    args = parser.parse_args(["target", "a", "b", "participant"])
    assert {a.dest: role("target", a) for a in chosen_command(parser, args)[1]._actions}[
        "paths"
    ] == OWN


def test_writing_into_the_folder_of_an_input_is_not_a_collision(inputs, tmp_path, capsys):
    """Compare --targets DIR --out DIR writes compare.* beside the targets: allowed.

    Nothing is overwritten.
    """
    out = tmp_path / "deriv"
    (out / "sub-01").mkdir(parents=True)
    (out / "sub-01" / "sub-01_desc-sgacc_target.json").write_text(
        (inputs / "out" / "sub-01" / "sub-01_desc-sgacc_target.json").read_text()
    )
    argv = [
        "compare",
        "--targets",
        str(out),
        "--rule",
        "beam-f3",
        "--measurements",
        str(inputs / "heads.tsv"),
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    assert sorted(p.name for p in out.glob("compare.*")) == [
        "compare.json",
        "compare.md",
        "compare.svg",
        "compare.tsv",
    ]


def test_a_negative_point_needs_no_equals_sign(capsys):
    """--target -40,42,30 (without '=') is the same as --target=-40,42,30 (issue 24, class 7)."""
    assert main(["coil", "--target", "-40,42,30", "--json", "--quiet"]) == 0
    plain = json.loads(capsys.readouterr().out)
    assert main(["coil", "--target=-40,42,30", "--json", "--quiet"]) == 0
    assert json.loads(capsys.readouterr().out) == plain
    assert plain["target_mni"] == [-40.0, 42.0, 30.0]


def test_json_outputs_are_strict():
    assert json.loads(dumps({"a": [1.5, None]})) == {"a": [1.5, None]}
    with pytest.raises(NonFiniteOutputError, match=r"dose\.pct\[1\]"):
        dumps({"dose": {"pct": [1.0, math.nan]}})
    with pytest.raises(NonFiniteOutputError, match="x"):
        dumps({"x": math.inf})


@pytest.mark.parametrize("n", [2, 50, MIN_RESAMPLES - 1])
def test_too_few_resamples_give_no_verdict(n):
    """A 2.4 mm radius from 2 resamples is not 'reliable' (issue 24, class 6)."""
    v = reliability_verdict(2.4, 10.0, n_resamples=n)
    assert v["reliable"] is None and v["minutes_needed"] is None
    assert v["text"] == (
        f"95% region radius 2.4 mm from only {n} bootstrap "
        "resamples: too few resamples for a verdict "
        f"(need >= {MIN_RESAMPLES}; run with --bootstrap 200)"
    )


def test_enough_resamples_give_the_verdict():
    assert (
        reliability_verdict(2.4, 10.0, n_resamples=MIN_RESAMPLES)["text"]
        == "95% region radius 2.4 mm: reliable (<= 5 mm)"
    )
    assert reliability_verdict(10.0, 10.0, n_resamples=200)["minutes_needed"] == 40.0
