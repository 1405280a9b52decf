"""Protocol arithmetic, schedules and calendars, depth-corrected dose, safety limits, session logs.

Published numbers checked here:
* SAINT/SNT (Cole et al. 2020 Am J Psychiatry 177:716; 2022 179:132): 1800 pulses a session, 10
  sessions a day >= 50 min apart, 5 days, i.e. 18,000 pulses a day and 90,000 a course; a session
  lasts ~10 min.
* iTBS (Huang et al. 2005 Neuron 45:201): 600 pulses in 20 trains of 2 s every 10 s (~190 s).
* 10 Hz rTMS (O'Reardon et al. 2007; Blumberger et al. 2018): 3000 pulses, 4 s on / 26 s off, 37.5
  min.
* cTBS600 (Huang et al. 2005): 600 pulses in 40 s.
* Depth gradients from the abstracts: Stokes 2005 3% MSO/mm, Stokes 2007 2.8%/mm, Stokes 2013
  2.7%/mm.
* Single-train limits (Rossi et al. 2009 table from Wassermann 1998, kept by Rossi et al. 2021):
  10 Hz at 120% MT 4.2 s, at 130% 2.9 s; 20 Hz at 100% MT 2.05 s, at 110% 1.6 s
  (every cell is tested in tests/test_protocol_safety.py).
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from tmstarget.exceptions import InputError, SafetyError
from tmstarget.protocol import (
    PROTOCOLS,
    ClinicHours,
    check_safety,
    compute_dose,
    depth_adjusted_mt,
    format_session_log,
    get_protocol,
    parse_clinic_days,
    parse_clinic_hours,
    parse_session_log,
    plan_schedule,
    planned_records,
    schedule_to_ics,
    summarize_course,
    write_atomic,
)

MONDAY = datetime(2026, 12, 7, 8, 0)
TUESDAY = datetime(2026, 12, 1, 8, 0)


# --- protocol arithmetic -------------------------------------------------------------------------


def test_saint_numbers_match_the_published_protocol():
    saint = get_protocol("saint")
    assert saint.pulses_per_train == 30  # 10 bursts of 3 pulses in a 2 s train
    assert saint.pulses_per_session == 1800
    assert saint.session_duration_s == 592.0  # 60 trains of 2 s every 10 s, no pause after the last
    assert abs(saint.session_duration_s - 600) <= 10  # "1800 pulses ~ 10 min"
    assert saint.pulses_per_day == 18_000
    assert saint.pulses_per_course == 90_000
    assert saint.sessions_per_course == 50


@pytest.mark.parametrize(
    ("key", "pulses", "duration_s"),
    [("itbs", 600, 192.0), ("rtms10", 3000, 2224.0), ("rtms1", 720, 810.0), ("ctbs", 600, 40.0)],
)
def test_other_protocols(key, pulses, duration_s):
    p = get_protocol(key)
    assert p.pulses_per_session == pulses
    assert p.session_duration_s == duration_s


def test_ten_hz_session_is_about_37_5_minutes():
    assert get_protocol("rtms10").session_duration_s / 60 == pytest.approx(37.5, abs=0.5)


def test_derived_numbers_follow_the_stated_ones():
    half = dataclasses.replace(
        get_protocol("saint"), key="half", trains_per_session=30, sessions_per_day=5
    )
    assert half.pulses_per_session == 900
    assert half.pulses_per_course == 900 * 5 * 5


def test_protocol_with_fractional_bursts_is_rejected():
    with pytest.raises(InputError, match="not a whole positive number"):
        dataclasses.replace(get_protocol("saint"), key="odd", train_duration_s=2.1)


def test_every_protocol_has_references_and_json():
    for p in PROTOCOLS.values():
        d = p.to_dict()
        assert d["references"] and d["derived"]["pulses_per_course"] == p.pulses_per_course


def test_unknown_protocol():
    with pytest.raises(InputError, match="unknown protocol 'tms' — use one of"):
        get_protocol("tms")


# --- schedule and calendar -----------------------------------------------------------------------


def test_saint_schedule_from_monday_is_consecutive_and_within_hours():
    s = plan_schedule(get_protocol("saint"), MONDAY)
    assert len(s.sessions) == 50 and not s.skipped_dates and not s.interrupted
    days = sorted({x.start.date() for x in s.sessions})
    assert days == [date(2026, 12, 7) + timedelta(days=i) for i in range(5)]
    for day in days:
        starts = [x.start for x in s.sessions if x.start.date() == day]
        assert len(starts) == 10
        # 50 min of rest after each 9.87-minute session, start times rounded up to the minute:
        # hourly
        assert all(b - a == timedelta(minutes=60) for a, b in zip(starts, starts[1:], strict=False))
        assert all(
            b.start - a.end >= timedelta(minutes=50) for a, b in zip(s.sessions, s.sessions[1:])
        )
    assert all(x.start.time() >= time(8) and x.end.time() <= time(18) for x in s.sessions)
    assert s.sessions[-1].end == datetime(2026, 12, 11, 17, 9, 52)
    assert s.interval_basis == "end_to_start" and s.gap_min == pytest.approx(60 - 592 / 60)


def test_weekend_interrupts_a_consecutive_course_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING):
        s = plan_schedule(get_protocol("saint"), TUESDAY)
    assert len(s.sessions) == 50
    assert s.skipped_dates == (date(2026, 12, 5), date(2026, 12, 6)) and s.interrupted
    assert "skips 2026-12-05, 2026-12-06" in caplog.text


def test_closed_dates_and_custom_days():
    hours = ClinicHours(
        days=parse_clinic_days("mon-sun"), closed_dates=frozenset({date(2026, 12, 3)})
    )
    s = plan_schedule(get_protocol("saint"), TUESDAY, hours=hours)
    assert sorted({x.start.date().day for x in s.sessions}) == [1, 2, 4, 5, 6]


def test_longer_interval_is_honoured_and_shorter_refused():
    s = plan_schedule(get_protocol("saint"), MONDAY, min_interval_min=55)  # 55 min of rest
    assert s.sessions[1].start - s.sessions[0].start == timedelta(minutes=65)
    s = plan_schedule(
        get_protocol("saint"), MONDAY, min_interval_min=60, interval_basis="start-to-start"
    )
    assert s.sessions[1].start - s.sessions[0].start == timedelta(minutes=60)
    with pytest.raises(
        SafetyError, match="leaves 40.1 min between sessions, below the protocol's 50 min"
    ):
        plan_schedule(
            get_protocol("saint"), MONDAY, min_interval_min=50, interval_basis="start_to_start"
        )
    with pytest.raises(SafetyError, match="below the protocol's 50 min"):
        plan_schedule(get_protocol("saint"), MONDAY, min_interval_min=45)
    forced = plan_schedule(get_protocol("saint"), MONDAY, min_interval_min=45, force=True)
    assert forced.forced and forced.to_dict()["forced"]
    assert b"SAFETY LIMIT OVERRIDDEN" in schedule_to_ics(forced)


def test_day_that_does_not_fit_names_the_latest_start():
    with pytest.raises(InputError, match="start between 08:00 and 08:50"):
        plan_schedule(get_protocol("saint"), MONDAY.replace(hour=11))


def test_start_on_a_closed_day():
    with pytest.raises(InputError, match="is a sat, not a clinic day"):
        plan_schedule(get_protocol("saint"), datetime(2026, 12, 5, 8, 0))


@pytest.mark.parametrize(
    ("text", "expected"),
    [("mon-fri", {0, 1, 2, 3, 4}), ("sat-mon", {5, 6, 0}), ("tue,thu", {1, 3})],
)
def test_parse_clinic_days(text, expected):
    assert parse_clinic_days(text) == frozenset(expected)


def test_parse_clinic_hours_errors():
    assert parse_clinic_hours("07:30-19:00") == (time(7, 30), time(19))
    with pytest.raises(InputError, match="HH:MM-HH:MM"):
        parse_clinic_hours("8 to 6")


def test_saint_calendar_has_50_events_and_reads_back():
    schedule = plan_schedule(get_protocol("saint"), TUESDAY)
    raw = schedule_to_ics(schedule, participant="01", dose=compute_dose(50, 90))
    cal = Calendar.from_ical(raw)
    events = list(cal.walk("VEVENT"))
    assert len(events) == 50
    starts = [e.decoded("dtstart") for e in events]
    assert starts[0] == TUESDAY and starts[10] == datetime(2026, 12, 2, 8, 0)
    assert all(e.decoded("dtend") - e.decoded("dtstart") == timedelta(seconds=592) for e in events)
    assert len({str(e["uid"]) for e in events}) == 50
    assert "Setting 45% MSO" in str(events[0]["description"])
    assert (
        schedule_to_ics(schedule, participant="01", dose=compute_dose(50, 90)) == raw
    )  # deterministic


def test_calendar_with_time_zone_has_vtimezone():
    schedule = plan_schedule(get_protocol("itbs"), MONDAY.replace(tzinfo=ZoneInfo("Europe/Berlin")))
    cal = Calendar.from_ical(schedule_to_ics(schedule))
    assert [tz["tzid"] for tz in cal.walk("VTIMEZONE")] == ["Europe/Berlin"]
    first = next(iter(cal.walk("VEVENT"))).decoded("dtstart")
    assert first.utcoffset() == timedelta(hours=1)
    assert len(cal.walk("VEVENT")) == 30


def test_calendar_with_fixed_offset_is_written_in_utc():
    schedule = plan_schedule(get_protocol("itbs"), datetime.fromisoformat("2026-12-07T08:00+01:00"))
    raw = schedule_to_ics(schedule)
    assert b"DTSTART:20261207T070000Z" in raw and b"VTIMEZONE" not in raw


# --- dose ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [("stokes2013", 63.5), ("stokes2007", 64.0), ("stokes2005", 65.0), (2.7, 63.5)],
)
def test_depth_adjusted_mt_worked_example(source, expected):
    # MT 50% MSO at a hotspot 15 mm below the scalp, target 20 mm: MT + k * (20 - 15)
    assert depth_adjusted_mt(50, 20, 15, source) == pytest.approx(expected)


def test_shallower_target_lowers_the_threshold():
    assert depth_adjusted_mt(60, 12, 16) == pytest.approx(60 - 2.7 * 4)


def test_saint_dose_with_depth_correction():
    d = compute_dose(50, 90, target_depth_mm=20, motor_depth_mm=15)
    assert d.threshold_pct_mso == pytest.approx(63.5)
    assert d.prescribed_pct_mso == pytest.approx(57.15)
    assert d.setting_pct_mso == 57 and not d.capped
    assert d.pct_of_measured_rmt == pytest.approx(114.0)


def test_dose_is_capped_at_100_percent_mso(caplog):
    with caplog.at_level(logging.WARNING):
        d = compute_dose(80, 120, target_depth_mm=20, motor_depth_mm=15)
    assert d.prescribed_pct_mso == pytest.approx(112.2)
    assert d.setting_pct_mso == 100 and d.capped
    assert "capped at 100% MSO" in caplog.text


def test_setting_never_exceeds_the_prescription():
    d = compute_dose(53, 120)  # 63.6% MSO
    assert d.setting_pct_mso == 63 and d.pct_of_measured_rmt <= 120


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rmt_pct_mso": 0, "intensity_pct_rmt": 90}, "resting motor threshold = 0 is outside"),
        ({"rmt_pct_mso": 120, "intensity_pct_rmt": 90}, "resting motor threshold = 120 is outside"),
        ({"rmt_pct_mso": 50, "intensity_pct_rmt": 250}, "intensity = 250 is outside"),
        ({"rmt_pct_mso": 50, "intensity_pct_rmt": 90, "target_depth_mm": 20}, "needs both depths"),
        (
            {
                "rmt_pct_mso": 50,
                "intensity_pct_rmt": 90,
                "target_depth_mm": -1,
                "motor_depth_mm": 15,
            },
            "target depth = -1 mm",
        ),
        (
            {
                "rmt_pct_mso": 50,
                "intensity_pct_rmt": 90,
                "target_depth_mm": 20,
                "motor_depth_mm": 15,
                "gradient": "x",
            },
            "unknown",
        ),
    ],
)
def test_dose_input_errors(kwargs, message):
    with pytest.raises(InputError, match=message):
        compute_dose(**kwargs)


# --- safety --------------------------------------------------------------------------------------


def test_saint_with_a_deep_target_is_refused_with_the_reason():
    d = compute_dose(
        50, 90, target_depth_mm=25, motor_depth_mm=15
    )  # 90% of 77% MSO = 69% -> 138% RMT
    with pytest.raises(
        SafetyError, match=r"intensity 138 % of measured RMT exceeds the limit of 120 .*Blumberger"
    ):
        check_safety(get_protocol("saint"), d.pct_of_measured_rmt)
    report = check_safety(get_protocol("saint"), d.pct_of_measured_rmt, force=True)
    assert report.forced and not report.ok and [c.name for c in report.violations] == ["intensity"]


def test_ten_hz_at_120_percent_fits_the_table_but_not_at_130():
    report = check_safety(get_protocol("rtms10"), 120)
    assert report.ok and report.checks[0].limit == 4.2
    with pytest.raises(
        SafetyError,
        match=r"train duration 4 s exceeds the limit of 2.9 s .*Rossi .*10 Hz, column 130% MT",
    ):
        check_safety(get_protocol("rtms10"), 125)


def test_twenty_hz_two_second_trains_are_allowed_at_100_and_refused_at_110():
    fast = dataclasses.replace(
        get_protocol("rtms10"), key="rtms20", frequency_hz=20.0, train_duration_s=2.0
    )
    assert check_safety(fast, 100).ok  # 2.05 s at 100% MT
    with pytest.raises(SafetyError, match="limit of 1.6 s"):
        check_safety(fast, 110)


@pytest.mark.parametrize(
    ("freq", "pct", "message"),
    [(30.0, 100, "no limits above 25 Hz"), (10.0, 140, "no limits above 130% MT")],
)
def test_outside_the_table_is_refused(freq, pct, message):
    p = dataclasses.replace(
        get_protocol("rtms10"), key="x", frequency_hz=freq, train_duration_s=1.0
    )
    with pytest.raises(SafetyError, match=message):
        check_safety(p, pct)


def test_more_tbs_pulses_a_day_than_saint_is_refused():
    with pytest.raises(SafetyError, match="pulses per day 21600 pulses exceeds the limit of 18000"):
        check_safety(dataclasses.replace(get_protocol("saint"), sessions_per_day=12), 90)


# --- session log ---------------------------------------------------------------------------------


def _filled_log() -> str:
    schedule = plan_schedule(get_protocol("saint"), MONDAY)
    lines = format_session_log(planned_records(schedule, compute_dose(50, 90))).splitlines()
    rows = [line.split("\t") for line in lines]
    for row in rows[1:]:
        row[7] = "delivered"
    rows[3][5], rows[3][7] = "900", "partial"  # session 3
    rows[4][7], rows[4][9] = "missed", "patient late"  # session 4
    rows[12][8] = "headache"  # session 12
    rows[12][14:17] = ["mild", "possible", "no"]
    for row in rows[41:]:  # sessions 41-50 not yet recorded
        row[7] = ""
    return "\n".join("\t".join(r) for r in rows) + "\n"


def test_session_log_round_trip_and_course_summary():
    records = parse_session_log(_filled_log())
    assert len(records) == 50
    summary = summarize_course(records)
    assert (
        summary.sessions_delivered,
        summary.sessions_partial,
        summary.sessions_missed,
        summary.sessions_pending,
    ) == (
        38,
        1,
        1,
        10,
    )
    assert summary.pulses_delivered == 38 * 1800 + 900
    assert summary.pulses_planned == 90_000
    assert summary.days_treated == 4 and not summary.complete
    assert summary.missed_sessions == (4,) and summary.partial_sessions == (3,)
    assert [(e.session, e.term, e.severity, e.action) for e in summary.adverse_events] == [
        (12, "headache", "mild", "none")
    ]
    assert (
        "Delivered 38 of 50" in summary.text() and "#12 headache (mild, possible)" in summary.text()
    )


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda rows: rows.append(rows[1]), "lines 2 and 52: session 1 appears twice"),
        (lambda rows: rows[1].__setitem__(7, "done"), "status = 'done' is unknown"),
        (
            lambda rows: rows[1].__setitem__(5, "2000"),
            "pulses_delivered = 2000 exceeds the 1800 planned",
        ),
        (
            lambda rows: rows[1].__setitem__(5, "900"),
            "a delivered session must have pulses_delivered = 1800",
        ),
        (
            lambda rows: rows[1].__setitem__(0, "x"),
            "line 2: session = 'x' is not a whole number >= 1",
        ),
    ],
)
def test_session_log_errors(edit, message):
    rows = [line.split("\t") for line in _filled_log().splitlines()]
    edit(rows)
    with pytest.raises(InputError, match=message):
        parse_session_log("\n".join("\t".join(r) for r in rows), source="log.tsv")


def test_session_log_needs_its_columns():
    with pytest.raises(InputError, match="column.s. session, pulses_planned missing"):
        parse_session_log("a\tb\n1\t2\n")


def test_write_atomic(tmp_path):
    target = write_atomic(tmp_path / "x.tsv", "a\tb\n")
    assert target.read_text() == "a\tb\n"
    assert [p.name for p in tmp_path.iterdir()] == ["x.tsv"]
    with pytest.raises(InputError, match="does not exist"):
        write_atomic(tmp_path / "missing" / "x.tsv", "a")
