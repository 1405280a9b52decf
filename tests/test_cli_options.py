"""One command-line language across the commands (issue 26 items 2 and 4).

Checked: option names, old spellings, defaults, the error format, the files written and one help
text per shared option (``tmstarget.cli._help``).
"""

from __future__ import annotations

import argparse
import json
import re
from collections import defaultdict
from pathlib import Path

import pytest

from tmstarget.cli._common import NEGATIVE_VALUES
from tmstarget.cli._help import DIFFERENT_MEANINGS, HELP
from tmstarget.cli.main import main
from tmstarget.cli.parser import build_parser, iter_commands


def _parse(capsys, argv: list[str]) -> tuple[argparse.Namespace, str]:
    capsys.readouterr()
    args = build_parser().parse_args(argv)
    return args, capsys.readouterr().err


# ---------------------------------------------------------------- old option names: work, and warn
# once
@pytest.mark.parametrize(
    ("argv", "dest", "value", "old", "new"),
    [
        (
            ["reliability", "o", "group", "--n-bootstrap", "7"],
            "bootstrap",
            7,
            "--n-bootstrap",
            "--bootstrap",
        ),
        (
            ["trial", "analyze", "t.tsv", "--remission-max", "8"],
            "remission_threshold",
            8.0,
            "--remission-max",
            "--remission-threshold",
        ),
    ],
)
def test_deprecated_option_works_and_warns_once(capsys, argv, dest, value, old, new):
    args, err = _parse(capsys, [*argv, old, str(value)])  # given twice: still one warning
    assert getattr(args, dest) == value
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert re.fullmatch(
        rf"tmstarget [a-z ]+: warning: {old} is deprecated, use {new} \(.*\)", lines[0]
    ), lines[0]
    args, err = _parse(capsys, [*argv[: argv.index(old)], new, str(value)])
    assert getattr(args, dest) == value and err == ""


def test_bootstrap_and_remission_have_one_name_in_every_command():
    names = {}
    for command, parser in iter_commands(build_parser()):
        for action in parser._actions:
            for option in action.option_strings:
                if option not in getattr(action, "deprecated_names", ()):
                    names.setdefault(option, set()).add(command)
    assert "--n-bootstrap" not in names and "--remission-max" not in names
    assert {"target", "reliability"} <= names["--bootstrap"]
    assert {"madrs", "trial analyze"} <= names["--remission-threshold"]


def test_old_spellings_are_not_advertised_in_help():
    helps = {c: p.format_help() for c, p in iter_commands(build_parser())}
    assert "--n-bootstrap" not in helps["reliability"] and "--bootstrap N" in helps["reliability"]
    assert (
        "--remission-max" not in helps["trial analyze"]
        and "--remission-threshold N" in helps["trial analyze"]
    )
    assert (
        "--group-target X,Y,Z" in helps["target"]
        and "X Y Z" not in helps["target"].split("options:")[0]
    )


# ---------------------------------------------------------------- one point syntax
def test_group_target_comma_form_and_the_old_space_form(capsys):
    base = ["target", "in", "out", "participant", "--method", "shrinkage", "--group-target"]
    args, err = _parse(capsys, [*base, "-38,44,26"])
    assert args.group_target == (-38.0, 44.0, 26.0) and err == ""
    args, err = _parse(capsys, [*base, "-38", "44", "26"])
    assert args.group_target == (-38.0, 44.0, 26.0)
    assert err.strip() == (
        "tmstarget target: warning: --group-target X Y "
        "Z (spaces) is deprecated, write --group-target "
        "-38,44,26 "
        "(the old form goes in the next release)"
    )


def test_coil_target_takes_negative_points_without_equals(capsys):
    for argv in (
        ["coil", "--target", "-40,42,30"],
        ["coil", "--target=-40,42,30"],
        ["coil", "--target", "-40, 42, 30"],
    ):
        args, err = _parse(capsys, argv)
        assert args.target == (-40.0, 42.0, 30.0) and err == ""


@pytest.mark.parametrize(
    "text", ["-38,44,26", "-38.5,44,-26", "-.5,1,2", "-38,nan,26", "-inf,1,2", "-5"]
)
def test_negative_points_are_values_not_options(text):
    assert NEGATIVE_VALUES.match(text)


@pytest.mark.parametrize("text", ["--target", "-v", "--n-bootstrap"])
def test_options_stay_options(text):
    assert not NEGATIVE_VALUES.match(text)


def test_one_point_parser_behind_every_coordinate():
    """Every coordinate option gives the same message for the same mistake.

    The options are ``coil --target``, ``--group-target``, ``score --coords`` and ``--hotspot``.
    """
    from tmstarget._utils.points import parse_point
    from tmstarget.exceptions import InputError
    from tmstarget.scalp import parse_point as scalp_parse_point

    with pytest.raises(
        InputError, match=r"'1,2' is not three numbers \(expected 3, got 2\) — write x,y,z in mm"
    ):
        parse_point("1,2")
    with pytest.raises(
        InputError, match=r"--coords '1,2' is not three numbers \(expected 3, got 2\)"
    ):
        scalp_parse_point("1,2", "--coords")
    assert scalp_parse_point("-38;44;26").tolist() == [-38.0, 44.0, 26.0]


# ---------------------------------------------------------------- defaults: shown once, read from
# the library
def _help_texts():
    for command, parser in iter_commands(build_parser()):
        formatter = parser._get_formatter()
        for action in parser._actions:
            if action.help and action.help is not argparse.SUPPRESS:
                yield command, action, formatter._expand_help(action)


def test_help_shows_each_default_once_and_never_none():
    doubles = [
        (c, a.dest, t)
        for c, a, t in _help_texts()
        if t.count("(default") > 1 or "(default: None)" in t
    ]
    assert doubles == []
    required = [
        (c, a.dest)
        for c, a, t in _help_texts()
        if a.required and "(default: " in t and "(default: " not in (a.help or "")
    ]
    assert required == []


def test_help_shows_a_library_default_that_the_help_text_does_not_state():
    texts = {(c, a.dest): t for c, a, t in _help_texts()}
    assert texts[("reliability", "high_pass")].endswith("(default: 0.01)")
    assert texts[("coil", "handle_angle")].endswith("(default: 45.0)")
    assert "(default" not in texts[("target", "rerun")]  # a flag


def test_cli_defaults_are_the_library_defaults():
    from tmstarget.coil.geometry import DEFAULT_HANDLE_ANGLE_DEG
    from tmstarget.outcomes.madrs import DEFAULT_REMISSION_THRESHOLD
    from tmstarget.targeting import TargetingOptions
    from tmstarget.targeting.uncertainty.participant import N_BOOTSTRAP

    library = TargetingOptions()
    defaults = {
        c: {a.dest: a.default for a in p._actions} for c, p in iter_commands(build_parser())
    }
    for command in ("target", "reliability", "circuit build"):
        d = defaults[command]
        assert (
            d["fwhm"],
            d["fd_threshold"],
            d["high_pass"],
            d["low_pass"],
            d["min_volumes"],
            d["confounds_strategy"],
        ) == (
            library.fwhm_mm,
            library.fd_threshold_mm,
            library.high_pass_hz,
            library.low_pass_hz,
            library.min_volumes,
            library.confounds_strategy,
        )
    for command in ("target", "reliability"):
        assert (
            defaults[command]["circuit"],
            defaults[command]["method"],
            defaults[command]["neighbourhood_mm"],
        ) == (library.circuit, library.method, library.neighbourhood_mm)
    assert defaults["reliability"]["bootstrap"] == N_BOOTSTRAP
    assert defaults["coil"]["handle_angle"] == DEFAULT_HANDLE_ANGLE_DEG
    assert (
        defaults["madrs"]["remission_threshold"]
        == defaults["trial analyze"]["remission_threshold"]
        == DEFAULT_REMISSION_THRESHOLD
    )


# ---------------------------------------------------------------- reliability cleans as target does
CLEANING = [
    "--confounds-strategy",
    "36p",
    "--gsr",
    "--fd-threshold",
    "0.3",
    "--dvars-threshold",
    "1.5",
    "--high-pass",
    "0.02",
    "--low-pass",
    "0.08",
    "--fwhm",
    "4",
    "--min-volumes",
    "50",
]


def test_reliability_accepts_targets_cleaning_options(capsys):
    from tmstarget.cli.commands.reliability import options_from_args
    from tmstarget.targeting import TargetingOptions

    expected = dict(
        confounds_strategy="36p",
        global_signal=True,
        fd_threshold_mm=0.3,
        dvars_threshold=1.5,
        high_pass_hz=0.02,
        low_pass_hz=0.08,
        fwhm_mm=4.0,
        min_volumes=50,
    )
    args, _ = _parse(capsys, ["reliability", "in", "out", "participant", *CLEANING])
    assert options_from_args(args) == TargetingOptions(**expected)
    target, _ = _parse(capsys, ["target", "in", "out", "participant", *CLEANING])
    from tmstarget.cli._common import cleaning_options

    assert cleaning_options(target) == cleaning_options(args)
    args, _ = _parse(capsys, ["reliability", "in", "out", "participant"])
    assert options_from_args(args) == TargetingOptions()


def test_reliability_passes_the_cleaning_options_to_the_library(
    sim_dataset, tmp_path, capsys, monkeypatch
):
    import tmstarget.targeting.uncertainty as uncertainty

    seen = {}

    def fake(runs, options, participant, session, **settings):
        seen.update(options=options, settings=settings)
        raise uncertainty_stop

    uncertainty_stop = RuntimeError("stop after the options were passed")
    monkeypatch.setattr(uncertainty, "session_reliability", fake)
    src, _ = sim_dataset
    with pytest.raises(RuntimeError, match="stop after"):
        main(
            [
                "reliability",
                str(src),
                str(tmp_path / "out"),
                "participant",
                *CLEANING,
                "--bootstrap",
                "9",
                "--quiet",
            ]
        )
    options = seen["options"]
    assert (
        options.confounds_strategy,
        options.global_signal,
        options.fd_threshold_mm,
        options.dvars_threshold,
    ) == ("36p", True, 0.3, 1.5)
    assert (options.high_pass_hz, options.low_pass_hz, options.fwhm_mm, options.min_volumes) == (
        0.02,
        0.08,
        4.0,
        50,
    )
    assert seen["settings"]["n_bootstrap"] == 9


def test_reliability_refuses_a_band_pass_upside_down(tmp_path, capsys):
    (tmp_path / "in").mkdir()
    code = main(
        [
            "reliability",
            str(tmp_path / "in"),
            str(tmp_path / "out"),
            "participant",
            "--high-pass",
            "0.2",
            "--low-pass",
            "0.1",
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err == [
        "tmstarget reliability: error: --high-pass 0.2 "
        "Hz must be below --low-pass 0.1 Hz — swap or fix "
        "them"
    ]


# ---------------------------------------------------------------- one error format
def _error_line(capsys, argv: list[str]) -> str:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse usage errors
        code = exc.code
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(lines) == 1, lines
    return lines[0]


@pytest.mark.parametrize(
    ("argv", "prefix"),
    [
        (["coil", "--target", "1,2"], "tmstarget coil: error: "),  # argparse
        (
            ["coil", "--target", "-40,42,30", "--circuit", "convergent"],
            "tmstarget coil: error: ",
        ),  # tmstarget
        (
            ["trial", "power", "--effect-size", "x"],
            "tmstarget trial power: error: ",
        ),  # argparse, nested
        (
            ["trial", "power", "--effect-size", "0.8"],
            "tmstarget trial power: error: ",
        ),  # tmstarget, nested
        (
            ["f3", "--nasion-inion", "36", "--tragus-tragus", "35", "--circumference", "45"],
            "tmstarget f3: error: ",
        ),
        (["nosuchcommand"], "tmstarget: error: "),  # no command chosen: the program's own name
    ],
)
def test_argparse_and_tmstarget_errors_read_the_same(capsys, argv, prefix):
    line = _error_line(capsys, argv)
    assert line.startswith(prefix) and " — " in line, line


# ---------------------------------------------------------------- every command that writes files
# lists them
def _wrote(text: str) -> list[str]:
    return [
        line.removeprefix("wrote: ") for line in text.splitlines() if line.startswith("wrote: ")
    ]


def test_trial_commands_list_the_files_they_wrote(tmp_path, capsys):
    table, alloc, key = tmp_path / "t.tsv", tmp_path / "a.tsv", tmp_path / "k.json"
    # commands that report in log lines list their files there (stderr), before the closing notice
    assert main(["trial", "simulate", str(table), "--participants", "12"]) == 0
    assert _wrote(capsys.readouterr().err) == [str(table)]
    assert (
        main(
            [
                "trial",
                "randomize",
                str(alloc),
                "--key",
                str(key),
                "--per-stratum",
                "4",
                "--seed",
                "1",
            ]
        )
        == 0
    )
    captured = capsys.readouterr()
    assert _wrote(captured.err) == [str(alloc), str(key)] and captured.out == ""
    # commands that print their result on stdout end it with the list
    report, visits = tmp_path / "r.json", tmp_path / "v.tsv"
    assert main(["trial", "simulate", str(table), "--participants", "12", "--days", "--quiet"]) == 0
    capsys.readouterr()
    code = main(
        [
            "trial",
            "analyze",
            str(table),
            "--report",
            str(report),
            "--visit-table",
            str(visits),
            "--quiet",
            "--imputations",
            "2",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0 and out.splitlines()[-2:] == [f"wrote: {report}", f"wrote: {visits}"]
    assert report.is_file() and visits.is_file()


def test_score_lists_its_table_and_json_stays_clean(shared_data, tmp_path, capsys):
    circuit = str(shared_data / "circuits/DepressionCircuit_space-MNI152NLin6Asym_res-02.nii.gz")
    out = tmp_path / "scores.tsv"
    assert (
        main(["score", "--circuit", circuit, "--coords", "-38,44,26", "--out", str(out), "--quiet"])
        == 0
    )
    text = capsys.readouterr().out
    assert text.splitlines()[-1] == f"wrote: {out}" and out.is_file()
    assert (
        main(
            [
                "score",
                "--circuit",
                circuit,
                "--coords",
                "-38,44,26",
                "--out",
                str(out),
                "--json",
                "--quiet",
            ]
        )
        == 0
    )
    assert (
        json.loads(capsys.readouterr().out)["points"][0]["label"] == "-38,44,26"
    )  # stdout: only the JSON


def test_every_writing_command_lists_its_files():
    """A command module that writes files calls the shared lister.

    A module writes files when it has an output option or an output positional argument.
    """
    from tmstarget.cli._common import output_dir, output_file

    root = Path(__file__).resolve().parents[1] / "src" / "tmstarget" / "cli" / "commands"
    writers = {
        c.split()[0]
        for c, p in iter_commands(build_parser())
        if c
        for a in p._actions
        if a.type in (output_file, output_dir)
    } | {"target", "reliability", "report"}
    own_lines = {
        "coil": "wrote {kind}: ",
        "madrs": "wrote plot: ",
        "protocol": "wrote {kind}: ",
        "screen": "wrote screening form template: ",
    }
    # a command whose text report is rendered by the library: its module and that renderer
    renderers = {
        "coil": root.parents[1] / "export" / "text.py",
        "protocol": root.parents[1] / "protocol" / "text.py",
    }

    def text(name):  # a command is a module, or a package of one module per action
        files = sorted((root / name).glob("*.py")) if (root / name).is_dir() else []
        return "".join(f.read_text() for f in files or [root / f"{name}.py"]) + (
            renderers[name].read_text() if name in renderers else ""
        )

    missing = [
        name
        for name in sorted(writers)
        if "list_written(" not in text(name) and own_lines.get(name, "\0") not in text(name)
    ]
    assert missing == []


def test_target_lists_every_file_it_wrote(sim_dataset, tmp_path, capsys):
    src, _ = sim_dataset
    out = tmp_path / "out"
    assert (
        main(["target", str(src), str(out), "participant", "--bootstrap", "0", "--n-workers", "1"])
        == 0
    )
    captured = capsys.readouterr()
    wrote = _wrote(captured.err)
    assert captured.out == ""
    assert sorted(wrote) == sorted(
        str(p) for p in [out / "dataset_description.json", *out.glob("sub-01/*")] if p.is_file()
    )
    assert any(p.endswith("_desc-sgacc_target.json") for p in wrote)


def test_a_zero_default_is_shown():
    texts = {(c, a.dest): t for c, a, t in _help_texts()}
    assert texts[("reliability", "seed")].endswith("(default: 0)")
    assert texts[("coil", "scalp_offset_mm")].endswith("(default: 0.0)")


# ---------------------------------------------------------------- one help text per shared option
# (issue 26 item 2)
def _name(action: argparse.Action) -> str:
    """Option name without ``--``: the first long spelling that is not deprecated."""
    hidden = getattr(action, "deprecated_names", ())
    longs = [s for s in action.option_strings if s.startswith("--") and s not in hidden]
    return (longs or action.option_strings)[0].lstrip("-")


@pytest.fixture(scope="module")
def shared_options() -> dict[str, dict[str, str]]:
    """Option name -> {command: help text} over every (sub)command."""
    found: dict[str, dict[str, str]] = defaultdict(dict)
    for command, parser in iter_commands(build_parser()):
        if not command:
            continue
        for action in parser._actions:  # noqa: SLF001
            if action.option_strings and action.help not in (None, argparse.SUPPRESS):
                found[_name(action)][command] = action.help
    return found


def _exempt() -> set[tuple[str, str]]:
    """``(command, option)`` pairs of ``"COMMAND --option"`` entries of DIFFERENT_MEANINGS."""
    pairs = set()
    for entry in DIFFERENT_MEANINGS:
        if " --" in entry:
            command, option = entry.rsplit(" --", 1)
            pairs.add((command, option))
    return pairs


def test_help_and_different_meanings_name_real_options(shared_options):
    for name in HELP:
        assert len(shared_options.get(name, {})) >= 2, f"--{name} is in HELP but not in 2+ commands"
    for entry in DIFFERENT_MEANINGS:
        if " --" in entry:
            command, option = entry.rsplit(" --", 1)
            assert option in HELP, f"{entry!r}: exempts a command from an option not in HELP"
            assert command in shared_options.get(option, {}), f"{entry!r}: no such command option"
        else:
            assert entry not in HELP, f"--{entry} is in both HELP and DIFFERENT_MEANINGS"
            assert len(shared_options.get(entry, {})) >= 2, f"--{entry} is not in 2+ commands"


def test_shared_options_use_the_shared_text(shared_options):
    exempt = _exempt()
    wrong = [
        f"tmstarget {command} --{name}: {text!r}"
        for name, shared in HELP.items()
        for command, text in shared_options.get(name, {}).items()
        if (command, name) not in exempt and not text.startswith(shared)
    ]
    assert not wrong, "help text not from tmstarget.cli._help.HELP:\n" + "\n".join(wrong)


def test_no_silent_second_wording(shared_options):
    unlisted = sorted(
        name
        for name, texts in shared_options.items()
        if len(texts) >= 2
        and len(set(texts.values())) > 1
        and name not in HELP
        and name not in DIFFERENT_MEANINGS
    )
    assert not unlisted, (
        f"options worded differently in different commands: {unlisted} — "
        "add them to tmstarget.cli._help.HELP (same meaning) or DIFFERENT_MEANINGS"
    )


def test_shared_texts_are_plain_and_formattable():
    for name, text in HELP.items():
        assert text and text == text.strip() and not text.endswith("."), name
        text % {"default": "x"}  # argparse's %-formatting must not fail
