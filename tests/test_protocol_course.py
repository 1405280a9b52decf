"""A delivered course against its plan: structured adverse events and deviations.

The deviations checked are those of spacing and daily dose.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from tmstarget.exceptions import InputError
from tmstarget.protocol import (
    check_course_log,
    format_session_log,
    get_protocol,
    parse_session_log,
    plan_schedule,
    planned_records,
)

MONDAY = datetime(2026, 12, 7, 8, 0)
SAINT = get_protocol("saint")


def _log(edit=None) -> str:
    records = planned_records(plan_schedule(SAINT, MONDAY))
    rows = [line.split("\t") for line in format_session_log(records).splitlines()]
    for row in rows[1:11]:  # day 1 delivered as planned, at 57% MSO
        row[3], row[5], row[6] = row[2], row[4], "57"
    if edit:
        edit(rows)
    return "\n".join("\t".join(r) for r in rows) + "\n"


def _kinds(text: str, **kw) -> list[tuple[int | None, str, bool]]:
    return [
        (d.session, d.kind, d.safety)
        for d in check_course_log(parse_session_log(text), SAINT, **kw)
    ]


def test_day_as_planned_has_no_deviation():
    assert _kinds(_log(), setting_pct_mso=57) == []


def test_sessions_40_minutes_apart_break_the_saint_rest():
    def squeeze(rows):
        rows[2][3] = (
            "2026-12-07T08:50"  # session 2 starts 40.1 min after session 1 ended (start + 9.87 min)
        )

    devs = check_course_log(parse_session_log(_log(squeeze)), SAINT)
    assert [(d.session, d.kind, d.safety) for d in devs] == [(2, "short_gap", True)]
    assert "40.1 min after session 1 ended (start + planned length)" in devs[0].detail


def test_recorded_end_is_used_for_the_rest():
    def late_end(rows):
        rows[1][10] = "2026-12-07T08:15"  # session 1 ran long: 45 min of rest before 09:00

    assert _kinds(_log(late_end)) == [(2, "short_gap", True)]


def test_extra_session_in_a_day_and_other_setting_and_late_start():
    def edit(rows):
        rows[11][3], rows[11][5] = (
            "2026-12-07T17:59",
            rows[11][4],
        )  # session 11 given on day 1 as well
        rows[3][6] = "60"  # session 3 above the planned setting
        rows[4][3] = "2026-12-07T11:45"  # session 4 45 min late

    kinds = _kinds(_log(edit), setting_pct_mso=57)
    assert (3, "setting", True) in kinds and (4, "late", False) in kinds
    assert (None, "sessions_per_day", True) in kinds and (None, "pulses_per_day", True) in kinds


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        ({8: "headache"}, "ae_serious is empty for an adverse event"),
        (
            {8: "headache", 14: "bad", 15: "possible", 16: "no"},
            "ae_severity = 'bad' is not allowed",
        ),
        (
            {8: "headache", 14: "mild", 15: "maybe", 16: "no"},
            "ae_relatedness = 'maybe' is not allowed — use one of: not related, unlikely",
        ),
        ({8: "headache", 14: "mild", 15: "possible", 16: "perhaps"}, "ae_serious = 'perhaps'"),
        ({14: "mild"}, "ae_severity is filled but adverse_event is empty"),
    ],
)
def test_adverse_event_columns_are_validated(cells, message):
    def edit(rows):
        for col, value in cells.items():
            rows[2][col] = value

    with pytest.raises(InputError, match=f"^log.tsv line 3: {message}"):
        parse_session_log(_log(edit), source="log.tsv")


def test_serious_event_is_counted():
    def edit(rows):
        rows[2][8], rows[2][14:18] = "seizure", ["severe", "probable", "yes", "course_stopped"]

    event = parse_session_log(_log(edit))[1].event
    assert event is not None and event.serious and event.action == "course stopped"


def test_log_in_the_older_ten_column_format_still_reads():
    old = "session\tday\tplanned_start\tdelivered_start\tpulses_planned\tpulses_delivered\t"
    old += "setting_pct_mso\tstatus\t"
    old += "adverse_event\tnotes\n1\t1\t2026-12-07T08:00\t2026-12-07T08:00\t1800\t1800\t57\t\t\t\n"
    (record,) = parse_session_log(old)
    assert record.status == "delivered" and record.event is None and record.delivered_end is None


def test_bad_adverse_event_in_the_cli_is_one_line(tmp_path, capsys):
    from tmstarget.cli.main import main

    def edit(rows):
        rows[2][8], rows[2][14:17] = "headache", ["awful", "possible", "no"]

    log = tmp_path / "log.tsv"
    log.write_text(_log(edit))
    assert main(["protocol", "--protocol", "saint", "--session-log", str(log)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "tmstarget protocol: error: log.tsv line 3: ae_severity "
        "= 'awful' is not allowed — use one of: mild, moderate, "
        "severe"
    ]


@pytest.mark.parametrize(
    ("term", "seizure"),
    [
        ("generalized seizure", True),
        ("Tonic-clonic episode", True),
        ("convulsion", True),
        ("focal seizures", True),
        ("epileptic fit", True),
        ("headache", False),
        ("syncope", False),
        ("scalp discomfort", False),
    ],
)
def test_what_counts_as_a_seizure(term, seizure):
    from tmstarget.protocol import is_seizure

    assert is_seizure(term) is seizure


def test_a_seizure_logged_mild_and_not_serious_is_serious_and_a_safety_deviation():
    def edit(rows):
        rows[3][8], rows[3][14:18] = "generalised seizure", ["mild", "possible", "no", "none"]

    records = parse_session_log(_log(edit))
    event = records[2].event
    assert (
        event.seizure
        and event.serious
        and event.serious_as_logged is False
        and event.physician_review
    )
    assert (3, "seizure", True) in _kinds(_log(edit), setting_pct_mso=57)


def test_sessions_after_the_course_was_stopped_are_safety_deviations():
    def edit(rows):
        rows[4][8], rows[4][14:18] = (
            "severe headache",
            ["severe", "probable", "no", "course stopped"],
        )

    kinds = _kinds(_log(edit), setting_pct_mso=57)
    assert [s for s, k, safe in kinds if k == "after_course_stopped" and safe] == list(range(5, 11))


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        (
            {10: "2026-12-07T08:55"},
            r"line 3: delivered_end '2026-12-07T08:55' is "
            r"not after delivered_start '2026-12-07T09:00'",
        ),
        (
            {2: "2026-12-07T09:00+01:00"},
            r"lines 2 and 3: planned_start '2026-12-07T08:00' \(line 2\) has no UTC offset but "
            r"planned_start '2026-12-07T09:00\+01:00' \(line 3\) has one",
        ),
    ],
)
def test_the_log_is_a_timeline(cells, message):
    def edit(rows):
        for col, value in cells.items():
            rows[2][col] = value

    with pytest.raises(InputError, match=f"^log.tsv {message}"):
        parse_session_log(_log(edit), source="log.tsv")
