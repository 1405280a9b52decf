"""Bad inputs of the clinic chain (issue 24: the clinic chain refuses what it cannot check).

One table row per case over ``protocol`` (saint and custom), ``screen`` and session logs, run by
:func:`bad_input_harness.check_refused`: exit code 2, exactly one stderr line starting with
``tmstarget``, no traceback, nothing on stdout, nothing written or changed. Placeholders: ``{d}`` =
this module's folder of small input files (written once by the ``inputs`` fixture), ``{o}`` = an
empty folder of the case's own for outputs.

The classes: (A) an option that moves a safety limit (``--max-pct-rmt``, the interval options,
session counts) is a gate of its own, refused without ``--force``; (B) ``--screening-override``
never overrules a physician's "not cleared", and review dates are real; (C) a session log is a
timeline (an end after its start, comparable times); (D) every number of a custom protocol is in
range. The positive side (exit 0) follows the table.
"""

from __future__ import annotations

import json
import math
from datetime import date, timedelta
from pathlib import Path

import pytest

from bad_input_harness import check_refused
from tmstarget.cli.main import main
from tmstarget.exceptions import InputError
from tmstarget.protocol import custom_protocol, parse_screening
from tmstarget.protocol.screening import SCREENING_ITEMS

SAINT = ["protocol", "--protocol", "saint"]
START = ["--start", "2026-12-07T08:00"]
DEPTHS = ["--rmt", "50", "--target-depth-mm", "20", "--motor-depth-mm", "15"]
CUSTOM = ["protocol", "--protocol", "custom"]
RTMS = [
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
]
ITBS = [
    *CUSTOM,
    "--frequency-hz",
    "50",
    "--pulses-per-burst",
    "3",
    "--burst-frequency-hz",
    "5",
    "--train-s",
    "2",
    "--iti-s",
    "8",
    "--trains",
    "60",
    "--intensity-pct-rmt",
    "90",
]
ITBS10 = [*ITBS, "--sessions-per-day", "10", "--min-interval-min", "50", "--days", "5"]
LOG_HEADER = "\t".join(
    [
        "session",
        "day",
        "planned_start",
        "delivered_start",
        "pulses_planned",
        "pulses_delivered",
        "setting_pct_mso",
        "status",
        "adverse_event",
        "notes",
        "delivered_end",
        "coil",
        "target",
        "arm_code",
        "ae_severity",
        "ae_relatedness",
        "ae_serious",
        "ae_action",
    ]
)
FUTURE = (date.today() + timedelta(days=400)).isoformat()


def log_row(
    n: int,
    start: str,
    end: str = "",
    *,
    ae: tuple[str, str, str, str, str] = ("", "", "", "", ""),
    planned: str | None = None,
) -> str:
    """One delivered SAINT session (1800 pulses at 57% MSO).

    ``ae`` = term, severity, relatedness, serious, action.
    """
    term, severity, related, serious, action = ae
    return "\t".join(
        [
            str(n),
            "1",
            planned or start,
            start,
            "1800",
            "1800",
            "57",
            "",
            term,
            "",
            end,
            "",
            "",
            "",
            severity,
            related,
            serious,
            action,
        ]
    )


def saint_log(*rows: str) -> str:
    return "\n".join([LOG_HEADER, *rows]) + "\n"


def form(
    review: tuple[str, str, str] | None = None,
    *,
    yes: str | None = "epilepsy_or_seizure",
    screening_date: str | None = None,
) -> str:
    """Return a completed screening form, optionally dated and reviewed.

    One item is answered yes unless ``yes`` is None.
    """
    rows = ["item\tanswer\tdetails"] + [
        f"{k}\t{'yes' if k == yes else 'no'}\t" for k in SCREENING_ITEMS
    ]
    if screening_date is not None:
        rows.append(f"screening_date\t{screening_date}\t")
    if review:
        rows += [
            f"{k}\t{v}\t"
            for k, v in zip(("reviewed_by", "review_date", "review_decision"), review, strict=True)
        ]
    return "\n".join(rows) + "\n"


def _write_inputs(d: Path) -> None:
    files = {
        "form_not_cleared.tsv": form(("Dr No", "2026-12-01", "not cleared")),
        "form_not_cleared_clear.tsv": form(("Dr No", "2026-12-01", "not cleared"), yes=None),
        "form_review_future.tsv": form(("Dr C", FUTURE, "cleared")),
        "form_date_future.tsv": form(yes=None, screening_date=FUTURE),
        "form_review_before_form.tsv": form(
            ("Dr C", "2026-11-20", "cleared"), screening_date="2026-11-25"
        ),
        "form_date_text.tsv": form(yes=None, screening_date="last Tuesday"),
        "form_needs_review.tsv": form(),
        "log_end_before_start.tsv": saint_log(
            log_row(1, "2026-12-07T08:00", "2026-12-07T08:10"),
            log_row(2, "2026-12-07T09:00", "2026-12-07T08:50"),
        ),
        "log_end_at_start.tsv": saint_log(log_row(1, "2026-12-07T08:00", "2026-12-07T08:00")),
        "log_end_text.tsv": saint_log(log_row(1, "2026-12-07T08:00", "after lunch")),
        "log_mixed_lines.tsv": saint_log(
            log_row(1, "2026-12-07T08:00"), log_row(2, "2026-12-07T09:00+01:00")
        ),
        "log_mixed_row.tsv": saint_log(log_row(1, "2026-12-07T08:00+01:00", "2026-12-07T08:10")),
        "log_mixed_z.tsv": saint_log(
            log_row(1, "2026-12-07T08:00Z"),
            log_row(2, "2026-12-07T09:00", planned="2026-12-07T09:00"),
        ),
        "log_mixed_planned.tsv": saint_log(
            log_row(1, "2026-12-07T08:00", planned="2026-12-07T08:00+00:00")
        ),
        "log_ok.tsv": saint_log(log_row(1, "2026-12-07T08:00", "2026-12-07T08:10")),
        "log_seizure_no_serious.tsv": saint_log(
            log_row(1, "2026-12-07T08:00", ae=("generalized seizure", "mild", "possible", "", ""))
        ),
    }
    files |= {name: json.dumps(doc) for name, doc in _json_inputs().items()}
    files["mt_nan.json"] = files["mt_nan.json"].replace('"NAN"', "NaN")
    files["coil_nan.json"] = files["coil_nan.json"].replace('"NAN"', "NaN")
    files["not_json.json"] = "session\tintensity_pct_mso\n"
    for name, text in files.items():
        (d / name).write_text(text, encoding="utf-8")


def _mt(**session) -> dict:
    """Return an ``mt --json`` result with one session (relative frequency confirmed at 48% MSO)."""
    s = {
        "session": "day1",
        "n_trials": 20,
        "relative_frequency": {"threshold_pct_mso": 48, "confirmed": True},
        "pest": {"threshold_pct_mso": 48.6, "done": True, "ci95_pct_mso": [46.0, 50.0]},
    }
    return {"trials": "t.tsv", "criterion_uv": 50.0, "sessions": [s | session]}


def _coil(depth, participant=None) -> dict:
    """Return a ``coil --json`` plan reduced to what ``protocol --coil-json`` reads."""
    return {
        "participant": participant,
        "target_mni": [-38.0, 44.0, 26.0],
        "placement": {"handle_direction": [0, -1, 0], "scalp_cortex_distance_mm": depth},
    }


def _json_inputs() -> dict:
    return {
        "mt_ok.json": _mt(),
        "mt_nan.json": _mt(relative_frequency={"threshold_pct_mso": "NAN", "confirmed": True}),
        "mt_no_pest.json": {
            "criterion_uv": 50.0,
            "sessions": [{"session": "day1", "relative_frequency": {"threshold_pct_mso": 48}}],
        },
        "mt_unfinished.json": _mt(
            relative_frequency={"threshold_pct_mso": None, "confirmed": False},
            pest={"threshold_pct_mso": 50.0, "done": False},
        ),
        "mt_no_sessions.json": {"criterion_uv": 50.0, "sessions": []},
        "mt_fraction.json": _mt(relative_frequency={"threshold_pct_mso": 0.48, "confirmed": True}),
        "protocol_result.json": {"protocol": {"key": "saint"}, "dose": None},
        "coil_nan.json": _coil("NAN"),
        "coil_no_depth.json": _coil(None),
        "coil_other.json": _coil(30.4, participant="09"),
    }


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    """Write the small input files once for the module.

    Every case checks that none of them changed.
    """
    d = tmp_path_factory.mktemp("bad_inputs_protocol") / "in"
    d.mkdir()
    _write_inputs(d)
    return d


OVERRIDE = ["--screening-override", "paper form"]

CASES: list[tuple[str, list[str], str]] = [
    # A. an option that moves a safety limit is a gate of its own
    (
        "saint-max-pct-rmt-250",
        [*SAINT, "--max-pct-rmt", "250"],
        "--max-pct-rmt 250 moves the theta-burst intensity ceiling above 120",
    ),
    (
        "saint-max-pct-rmt-250-at-180",
        [*SAINT, *DEPTHS, "--intensity-pct-rmt", "180", "--max-pct-rmt", "250"],
        "add --force",
    ),
    (
        "saint-max-pct-rmt-policy",
        [*SAINT, "--max-pct-rmt", "121"],
        "a tmstarget policy, not a published limit",
    ),
    (
        "saint-max-pct-rmt-calendar",
        [*SAINT, *START, "--ics", "{o}/s.ics", *OVERRIDE, "--max-pct-rmt", "200"],
        "--max-pct-rmt 200",
    ),
    ("saint-max-pct-rmt-nan", [*SAINT, "--max-pct-rmt", "nan"], "max"),
    (
        "saint-max-pct-rmt-stricter-still-checked",
        [*SAINT, *DEPTHS, "--max-pct-rmt", "100", "--intensity-pct-rmt", "110"],
        "exceeds the limit of 100",
    ),
    (
        "saint-interval-short-without-start",
        [*SAINT, "--min-interval-min", "10"],
        "--min-interval-min 10",
    ),
    (
        "saint-interval-start-to-start-without-start",
        [*SAINT, "--min-interval-min", "50", "--interval-basis", "start-to-start"],
        "leaves 40.1 min",
    ),
    (
        "saint-interval-basis-named",
        [*SAINT, "--min-interval-min", "30"],
        "envelope of published protocols",
    ),
    (
        "saint-interval-log-template",
        [*SAINT, *START, "--log-template", "{o}/log.tsv", *OVERRIDE, "--min-interval-min", "30"],
        "add --force",
    ),
    ("saint-interval-huge", [*SAINT, "--min-interval-min", "5000"], "5000"),
    ("saint-interval-nan", [*SAINT, "--min-interval-min", "nan"], "--min-interval-min"),
    (
        "rtms10-interval-one-session-a-day",
        ["protocol", "--protocol", "rtms10", "--min-interval-min", "30"],
        "1 session a day",
    ),
    (
        "rtms10-basis-one-session-a-day",
        ["protocol", "--protocol", "rtms10", "--interval-basis", "start-to-start"],
        "drop them",
    ),
    ("saint-intensity-negative", [*SAINT, "--intensity-pct-rmt", "-5"], "intensity = -5"),
    ("saint-intensity-zero", [*SAINT, "--intensity-pct-rmt", "0"], "outside (0, 200]"),
    ("saint-intensity-300", [*SAINT, "--intensity-pct-rmt", "300"], "300"),
    (
        "custom-itbs-11-sessions",
        [*ITBS, "--sessions-per-day", "11", "--min-interval-min", "50"],
        "(set by --sessions-per-day)",
    ),
    (
        "custom-itbs-burst-10hz",
        [
            *CUSTOM,
            "--frequency-hz",
            "50",
            "--pulses-per-burst",
            "3",
            "--burst-frequency-hz",
            "10",
            "--train-s",
            "2",
            "--iti-s",
            "8",
            "--trains",
            "30",
            "--intensity-pct-rmt",
            "90",
        ],
        "burst frequency (set by --burst-frequency-hz)",
    ),
    (
        "custom-itbs-gap-30",
        [*ITBS, "--sessions-per-day", "10", "--min-interval-min", "30"],
        "gap between sessions (set by --min-interval-min",
    ),
    ("custom-itbs-ceiling", [*ITBS10, "--max-pct-rmt", "150"], "--max-pct-rmt 150 moves"),
    (
        "custom-rtms-two-a-day",
        [*RTMS, "--sessions-per-day", "2", "--min-interval-min", "60"],
        "sessions per day (set by --sessions-per-day)",
    ),
    (
        "custom-rtms-26hz",
        [
            *CUSTOM,
            "--frequency-hz",
            "26",
            "--train-s",
            "1",
            "--iti-s",
            "30",
            "--trains",
            "5",
            "--intensity-pct-rmt",
            "90",
        ],
        "frequency (set by --frequency-hz)",
    ),
    (
        "custom-rtms-one-second-pauses",
        [
            *CUSTOM,
            "--frequency-hz",
            "20",
            "--train-s",
            "1",
            "--iti-s",
            "1",
            "--trains",
            "10",
            "--intensity-pct-rmt",
            "110",
        ],
        "(set by --iti-s)",
    ),
    # D. every number of a custom protocol is finite and in range
    ("custom-iti-nan", [*RTMS, "--iti-s", "nan"], "--iti-s"),
    ("custom-iti-negative", [*RTMS, "--iti-s", "-1"], "--iti-s -1"),
    (
        "custom-iti-zero-joins-trains",
        [*RTMS, "--iti-s", "0"],
        "joins the 10 trains into one train of 40 s",
    ),
    ("custom-frequency-inf", [*RTMS, "--frequency-hz", "inf"], "--frequency-hz"),
    ("custom-frequency-zero", [*RTMS, "--frequency-hz", "0"], "--frequency-hz 0"),
    ("custom-frequency-negative", [*RTMS, "--frequency-hz", "-10"], "--frequency-hz -10"),
    ("custom-train-zero", [*RTMS, "--train-s", "0"], "--train-s 0"),
    ("custom-train-negative", [*RTMS, "--train-s", "-4"], "--train-s -4"),
    ("custom-train-huge", [*RTMS, "--train-s", "1e6"], "--train-s"),
    ("custom-trains-negative", [*RTMS, "--trains", "-3"], "--trains -3"),
    ("custom-trains-huge", [*RTMS, "--trains", "1000000"], "--trains 1000000"),
    ("custom-pulses-per-burst-0", [*ITBS, "--pulses-per-burst", "0"], "--pulses-per-burst 0"),
    ("custom-burst-frequency-0", [*ITBS, "--burst-frequency-hz", "0"], "--burst-frequency-hz 0"),
    ("custom-burst-frequency-inf", [*ITBS, "--burst-frequency-hz", "inf"], "--burst-frequency-hz"),
    ("custom-sessions-per-day-0", [*RTMS, "--sessions-per-day", "0"], "--sessions-per-day 0"),
    (
        "custom-sessions-per-day-100",
        [*ITBS, "--sessions-per-day", "100", "--min-interval-min", "1"],
        "--sessions-per-day 100",
    ),
    ("custom-days-0", [*RTMS, "--days", "0"], "--days 0"),
    ("custom-days-negative", [*RTMS, "--days", "-1"], "--days -1"),
    ("custom-days-1000", [*RTMS, "--days", "1000"], "--days 1000"),
    ("custom-intensity-zero", [*RTMS, "--intensity-pct-rmt", "0"], "--intensity-pct-rmt 0"),
    ("custom-intensity-500", [*RTMS, "--intensity-pct-rmt", "500"], "--intensity-pct-rmt 500"),
    (
        "custom-min-interval-negative",
        [*ITBS, "--sessions-per-day", "2", "--min-interval-min", "-5"],
        "--min-interval-min -5",
    ),
    ("custom-max-pct-rmt-zero", [*ITBS, "--max-pct-rmt", "0"], "max_pct_rmt"),
    (
        "custom-min-interval-zero",
        [*RTMS, "--sessions-per-day", "2", "--min-interval-min", "0"],
        "--min-interval-min 0 is outside tmstarget's input range",
    ),
    (
        "custom-rtms-train-over-the-table",
        [
            *CUSTOM,
            "--frequency-hz",
            "10",
            "--train-s",
            "6",
            "--iti-s",
            "30",
            "--trains",
            "10",
            "--intensity-pct-rmt",
            "110",
        ],
        "train duration (set by --train-s) 6 s exceeds the limit of 5 s",
    ),
    # B. screening: a physician's "not cleared" is final; review dates are real
    (
        "override-against-not-cleared",
        [
            *SAINT,
            *START,
            "--ics",
            "{o}/s.ics",
            "--screening",
            "{d}/form_not_cleared.tsv",
            *OVERRIDE,
        ],
        "cannot overrule a physician",
    ),
    (
        "override-against-not-cleared-names-reviewer",
        [
            *SAINT,
            *START,
            "--log-template",
            "{o}/log.tsv",
            "--screening",
            "{d}/form_not_cleared_clear.tsv",
            *OVERRIDE,
        ],
        "'not cleared' by Dr No on 2026-12-01",
    ),
    (
        "override-against-not-cleared-no-outputs",
        [*SAINT, "--screening", "{d}/form_not_cleared.tsv", *OVERRIDE],
        "Dr No",
    ),
    (
        "not-cleared-without-override",
        [*SAINT, *START, "--ics", "{o}/s.ics", "--screening", "{d}/form_not_cleared.tsv"],
        "(Dr No) did not clear",
    ),
    (
        "screen-review-in-the-future",
        ["screen", "{d}/form_review_future.tsv"],
        f"review_date {FUTURE} is after today",
    ),
    (
        "screen-form-date-in-the-future",
        ["screen", "{d}/form_date_future.tsv"],
        f"screening_date {FUTURE} is after today",
    ),
    (
        "screen-review-before-the-form",
        ["screen", "{d}/form_review_before_form.tsv"],
        "before the form's screening_date 2026-11-25",
    ),
    ("screen-form-date-text", ["screen", "{d}/form_date_text.tsv"], "'last Tuesday' is not a date"),
    (
        "protocol-review-in-the-future",
        [*SAINT, *START, "--ics", "{o}/s.ics", "--screening", "{d}/form_review_future.tsv"],
        "after today",
    ),
    (
        "protocol-review-before-the-form",
        [*SAINT, "--screening", "{d}/form_review_before_form.tsv"],
        "correct either date",
    ),
    # C. the session log is a timeline
    (
        "log-end-before-start",
        [*SAINT, "--session-log", "{d}/log_end_before_start.tsv"],
        "line 3: delivered_end '2026-12-07T08:50' is not after",
    ),
    (
        "log-end-at-start",
        [*SAINT, "--session-log", "{d}/log_end_at_start.tsv"],
        "is not after delivered_start",
    ),
    ("log-end-text", [*SAINT, "--session-log", "{d}/log_end_text.tsv"], "after lunch"),
    (
        "log-offsets-mixed-between-lines",
        [*SAINT, "--session-log", "{d}/log_mixed_lines.tsv"],
        "lines 2 and 3",
    ),
    (
        "log-offsets-mixed-in-a-row",
        [*SAINT, "--session-log", "{d}/log_mixed_row.tsv"],
        "has no UTC offset",
    ),
    (
        "log-offsets-z-and-naive",
        [*SAINT, "--session-log", "{d}/log_mixed_z.tsv"],
        "lines 2 and 3: planned_start '2026-12-07T09:00' (line 3)",
    ),
    (
        "log-offsets-planned-vs-delivered",
        [*SAINT, "--session-log", "{d}/log_mixed_planned.tsv"],
        "planned_start",
    ),
    (
        "log-bad-with-custom",
        [*RTMS, "--session-log", "{d}/log_end_before_start.tsv"],
        "delivered_end",
    ),
    # E. numbers that flow in from other commands' JSON (issue 29): mt result and coil plan
    (
        "rmt-json-wrong-kind",
        [*SAINT, "--rmt-json", "{d}/protocol_result.json"],
        "is not a motor-threshold result",
    ),
    (
        "rmt-json-coil-plan",
        [*SAINT, "--rmt-json", "{d}/coil_other.json"],
        "is not a motor-threshold result",
    ),
    ("rmt-json-not-json", [*SAINT, "--rmt-json", "{d}/not_json.json"], "cannot read --rmt-json"),
    ("rmt-json-missing", [*SAINT, "--rmt-json", "{d}/no_such.json"], "not found"),
    (
        "rmt-json-missing-field",
        [*SAINT, "--rmt-json", "{d}/mt_no_pest.json"],
        "lacks relative_frequency or pest",
    ),
    ("rmt-json-nan", [*SAINT, "--rmt-json", "{d}/mt_nan.json"], "not a finite number"),
    (
        "rmt-json-unfinished",
        [*SAINT, "--rmt-json", "{d}/mt_unfinished.json"],
        "has no finished threshold",
    ),
    ("rmt-json-no-session", [*SAINT, "--rmt-json", "{d}/mt_no_sessions.json"], "has no session"),
    (
        "rmt-json-fraction",
        [*SAINT, "--rmt-json", "{d}/mt_fraction.json"],
        "is not a % MSO between 1 and 100",
    ),
    (
        "rmt-json-and-rmt",
        [*SAINT, "--rmt", "48", "--rmt-json", "{d}/mt_ok.json"],
        "--rmt and --rmt-json both give the motor threshold",
    ),
    (
        "coil-json-wrong-kind",
        [*SAINT, "--rmt", "50", "--coil-json", "{d}/mt_ok.json", "--motor-depth-mm", "15"],
        "is not a coil plan",
    ),
    (
        "coil-json-nan-depth",
        [*SAINT, "--rmt", "50", "--coil-json", "{d}/coil_nan.json", "--motor-depth-mm", "15"],
        "not a positive number",
    ),
    (
        "coil-json-no-depth",
        [*SAINT, "--rmt", "50", "--coil-json", "{d}/coil_no_depth.json", "--motor-depth-mm", "15"],
        "scalp_cortex_distance_mm is None",
    ),
    (
        "coil-json-other-participant",
        [
            *SAINT,
            *("--rmt", "50", "--participant", "01", "--motor-depth-mm", "15"),
            *("--coil-json", "{d}/coil_other.json"),
        ],
        "was made for participant '09'",
    ),
    (
        "coil-json-without-motor-depth",
        [*SAINT, "--rmt", "50", "--coil-json", "{d}/coil_other.json"],
        "depth correction needs both depths",
    ),
    (
        "coil-json-without-rmt",
        [*SAINT, "--coil-json", "{d}/coil_other.json", "--motor-depth-mm", "15"],
        "--rmt-json FILE",
    ),
    (
        "log-seizure-needs-serious",
        [*SAINT, "--session-log", "{d}/log_seizure_no_serious.tsv"],
        "ae_serious is empty",
    ),
    # F. the session timeline figure (issue 29): a figure format, never over its own log
    (
        "timeline-bad-extension",
        [*SAINT, "--session-log", "{d}/log_ok.tsv", "--timeline", "{o}/sessions.jpg"],
        "figures are written as .svg or .png",
    ),
    (
        "timeline-over-the-log",
        [*SAINT, "--session-log", "{d}/log_ok.tsv", "--timeline", "{d}/log_ok.tsv"],
        "would overwrite the input --session-log",
    ),
    (
        "timeline-without-log",
        [*SAINT, "--timeline", "{o}/sessions.svg"],
        "add --session-log LOG",
    ),
    (
        "timeline-bad-log",
        [*SAINT, "--session-log", "{d}/log_end_text.tsv", "--timeline", "{o}/sessions.svg"],
        "after lunch",
    ),
]


def test_corpus_size():
    """Issue 24 asks for at least 45 new cases; the ids are unique.

    Every class and command is covered.
    """
    ids = [c[0] for c in CASES]
    assert len(ids) == len(set(ids))
    assert {c[1][0] for c in CASES} == {"protocol", "screen"}
    assert any("--session-log" in c[1] for c in CASES) and any("custom" in c[1] for c in CASES)
    print(f"clinic-chain bad-input corpus: {len(CASES)} cases")
    assert len(CASES) >= 45


@pytest.mark.parametrize(("argv", "fragment"), [pytest.param(a, f, id=i) for i, a, f in CASES])
def test_bad_input_is_one_line_exit_2_and_leaves_nothing(
    argv, fragment, inputs, tmp_path, capsys, monkeypatch
):
    check_refused(
        argv, fragment, {"d": inputs, "o": tmp_path}, [inputs], tmp_path, capsys, monkeypatch
    )


# --------------------------------------------------------------------------------------------------
# the positive side: what is accepted, and how a forced course is recorded


def run_json(capsys, argv: list[str]) -> dict:
    capsys.readouterr()
    assert main([*argv, "--json", "--quiet"]) == 0
    return json.loads(
        capsys.readouterr().out, parse_constant=lambda c: pytest.fail(f"JSON holds {c}")
    )


def test_force_records_a_raised_ceiling_in_every_output(tmp_path, capsys):
    ics, log = tmp_path / "s.ics", tmp_path / "log.tsv"
    argv = [
        *SAINT,
        *DEPTHS,
        "--intensity-pct-rmt",
        "180",
        "--max-pct-rmt",
        "250",
        "--force",
        *START,
        *OVERRIDE,
    ]
    result = run_json(capsys, [*argv, "--ics", str(ics), "--log-template", str(log)])
    assert result["force"] and result["forced"] and result["safety"]["forced"]
    assert result["safety"]["refusals"] == ["tbs.intensity"]
    ceiling = next(
        c for c in result["safety"]["checks"] if c["name"] == "theta-burst intensity ceiling"
    )
    assert (
        ceiling["value"] == 250
        and ceiling["limit"] == 120
        and ceiling["basis"] == "tmstarget policy"
        and not ceiling["ok"]
    )
    assert "SAFETY LIMIT OVERRIDDEN WITH --force" in ics.read_text().replace("\r\n ", "")
    rows = [line.split("\t") for line in log.read_text().splitlines()]
    notes = rows[0].index("notes")
    assert all(r[notes].startswith("safety limit overridden with --force") for r in rows[1:])
    assert main([*argv]) == 0
    assert "safety checks at the dose: FORCED (--force)" in capsys.readouterr().out


def test_force_records_a_short_interval_without_a_schedule(capsys):
    result = run_json(capsys, [*SAINT, "--min-interval-min", "30", "--force"])
    assert (
        result["forced"]
        and result["safety"]["forced"]
        and result["safety"]["refusals"] == ["tbs.session_gap"]
    )
    gap = next(c for c in result["safety"]["checks"] if c["rule"] == "tbs.session_gap")
    assert gap["value"] == pytest.approx(30.13, abs=0.01)


def test_force_records_a_second_rtms_session_a_day(capsys):
    result = run_json(
        capsys, [*RTMS, "--sessions-per-day", "2", "--min-interval-min", "60", "--force"]
    )
    assert result["forced"] and result["safety"]["refusals"] == ["rtms.sessions_per_day"]


def test_no_forced_without_a_refusal_and_a_stricter_ceiling_needs_no_force(capsys):
    result = run_json(capsys, [*SAINT, *DEPTHS, "--max-pct-rmt", "115"])  # 57% MSO = 114% of RMT 50
    assert (
        not result["forced"] and result["safety"]["ok"] and result["protocol"]["max_pct_rmt"] == 115
    )
    result = run_json(capsys, [*SAINT, *DEPTHS, "--force"])
    assert result["force"] and not result["forced"] and not result["safety"]["forced"]


def test_custom_protocol_json_is_finite_and_ranges_are_the_library_s():
    p = custom_protocol(
        frequency_hz=10,
        train_duration_s=4,
        trains_per_session=10,
        intensity_pct_rmt=100,
        inter_train_interval_s=26,
    )
    assert all(math.isfinite(v) for v in p.to_dict()["derived"].values())
    for bad in (
        {"inter_train_interval_s": math.nan},
        {"frequency_hz": math.inf},
        {"trains_per_session": 0},
        {"treatment_days": 0},
        {"train_duration_s": -1.0},
        {"sessions_per_day": 2.5},
    ):
        kw = {
            "frequency_hz": 10,
            "train_duration_s": 4,
            "trains_per_session": 10,
            "intensity_pct_rmt": 100,
            "inter_train_interval_s": 26,
            "sessions_per_day": 1,
            "min_interval_min": 60,
        } | bad
        with pytest.raises(
            InputError, match="is outside tmstarget's input range \\(not a safety limit\\) — give"
        ):
            custom_protocol(**kw)


def test_ctbs_single_train_without_pause_is_still_accepted(capsys):
    result = run_json(
        capsys,
        [
            *CUSTOM,
            "--kind",
            "ctbs",
            "--frequency-hz",
            "50",
            "--pulses-per-burst",
            "3",
            "--burst-frequency-hz",
            "5",
            "--train-s",
            "40",
            "--iti-s",
            "0",
            "--trains",
            "1",
            "--intensity-pct-rmt",
            "80",
        ],
    )
    assert result["protocol"]["derived"]["pulses_per_session"] == 600 and result["safety"]["ok"]


def _log_file(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "log.tsv"
    path.write_text(saint_log(*rows))
    return path


def test_a_seizure_is_serious_and_flagged_whatever_was_typed(tmp_path, capsys):
    log = _log_file(
        tmp_path,
        log_row(1, "2026-12-07T08:00", "2026-12-07T08:10"),
        log_row(
            2,
            "2026-12-07T09:00",
            "2026-12-07T09:10",
            ae=("generalized seizure", "mild", "possible", "no", "none"),
        ),
    )
    course = run_json(capsys, [*SAINT, "--session-log", str(log)])["course"]
    (event,) = course["adverse_events"]
    assert (
        event["serious"]
        and event["seizure"]
        and event["physician_review"]
        and event["serious_as_logged"] is False
    )
    assert (
        course["serious_adverse_events"] == 1 and "SEIZURE: physician review" in course["summary"]
    )
    (dev,) = [d for d in course["deviations"] if d["kind"] == "seizure"]
    assert dev["session"] == 2 and dev["safety"] and "logged mild, not serious" in dev["detail"]
    assert main([*SAINT, "--session-log", str(log), "--quiet"]) == 0
    assert (
        "deviation (SAFETY): session 2: seizure ('generalized seizure'" in capsys.readouterr().out
    )


def test_sessions_after_an_event_that_stopped_the_course_are_deviations(tmp_path, capsys):
    log = _log_file(
        tmp_path,
        log_row(1, "2026-12-07T08:00"),
        log_row(
            2,
            "2026-12-07T09:00",
            ae=("severe headache", "severe", "probable", "no", "course stopped"),
        ),
        log_row(3, "2026-12-07T10:00"),
        log_row(4, "2026-12-07T11:00"),
    )
    course = run_json(capsys, [*SAINT, "--session-log", str(log)])["course"]
    stopped = [d for d in course["deviations"] if d["kind"] == "after_course_stopped"]
    assert [d["session"] for d in stopped] == [3, 4] and all(d["safety"] for d in stopped)
    assert "stopped at session 2 (adverse event 'severe headache'" in stopped[0]["detail"]
    assert main([*SAINT, "--session-log", str(log), "--quiet"]) == 0
    assert (
        "deviation (SAFETY): session 3 was given after the course was stopped"
        in capsys.readouterr().out
    )


def test_a_log_with_consistent_offsets_still_reads(tmp_path, capsys):
    # every time carries an offset (here across a DST-like change of offset): comparable, so
    # accepted
    log = _log_file(
        tmp_path,
        log_row(1, "2026-12-07T08:00+01:00", "2026-12-07T08:10+01:00"),
        log_row(2, "2026-12-07T08:00+00:00", "2026-12-07T08:10+00:00"),
    )
    course = run_json(capsys, [*SAINT, "--session-log", str(log)])["course"]
    assert course["sessions_delivered"] == 2 and course["deviations"] == []
    naive = _log_file(
        tmp_path, log_row(1, "2026-12-07T08:00", "2026-12-07T08:10"), log_row(2, "2026-12-07T09:00")
    )
    assert run_json(capsys, [*SAINT, "--session-log", str(naive)])["course"]["deviations"] == []


def test_override_still_stands_in_for_a_form_awaiting_review(tmp_path, capsys):
    path = tmp_path / "form.tsv"
    path.write_text(form())
    ics = tmp_path / "s.ics"
    result = run_json(
        capsys, [*SAINT, *START, "--ics", str(ics), "--screening", str(path), *OVERRIDE]
    )
    assert (
        result["screening"]["status"] == "needs review"
        and result["screening"]["override"] == "paper form"
    )
    assert ics.exists()


def test_review_dates_are_checked_against_the_form_and_today():
    text = form(("Dr C", "2026-12-02", "cleared"), screening_date="2026-12-01")
    result = parse_screening(text, today=date(2026, 12, 2))
    assert result.status == "cleared" and result.screening_date == date(2026, 12, 1)
    assert result.to_dict()["screening_date"] == "2026-12-01"
    with pytest.raises(InputError, match=r"review_date 2026-12-02 is after today \(2026-12-01\)"):
        parse_screening(text, today=date(2026, 12, 1))
