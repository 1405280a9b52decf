"""Safety rules against their published numbers.

There is one test per table cell, and tests of the inter-train rule, the theta-burst envelope of
SAINT/SNT and the tool-policy intensity ceiling.

Sources (see ``tmstarget.protocol.rules``):
* Single-train table: Wassermann 1998 (Electroencephalogr Clin Neurophysiol 108:1-16) as reproduced
  in Rossi et al. 2009 (Clin Neurophysiol 120:2008-2039), columns 90/100/110/120/130% MT:
  1 Hz >1800/>1800/>1800/>360/>50 s; 5 Hz >10 s; 10 Hz >5/>5/>5/4.2/2.9 s;
  20 Hz 2.05/2.05/1.6/1.0/0.55 s; 25 Hz 1.28/1.28/0.84/0.4/0.24 s.
* Chen et al. 1997 (Electroencephalogr Clin Neurophysiol 105:415): pauses <= 1 s unsafe for 20 Hz
  trains above 100% MT; ten 1.6 s trains at 20 Hz, 110% MT safe with 5 s pauses.
* SAINT/SNT (Cole et al. 2020, 2022): 1800 pulses a session, 10 sessions a day, 50-minute
  intersession interval.
"""

from __future__ import annotations

import dataclasses

import pytest

from tmstarget.exceptions import SafetyError
from tmstarget.protocol import (
    RULES,
    SINGLE_TRAIN_LIMITS_S,
    check_safety,
    compute_dose,
    get_protocol,
)

PUBLISHED_TABLE = [
    (1, 90, 1800.0), (1, 100, 1800.0), (1, 110, 1800.0), (1, 120, 360.0), (1, 130, 50.0),
    (5, 90, 10.0), (5, 100, 10.0), (5, 110, 10.0), (5, 120, 10.0), (5, 130, 10.0),
    (10, 90, 5.0), (10, 100, 5.0), (10, 110, 5.0), (10, 120, 4.2), (10, 130, 2.9),
    (20, 90, 2.05), (20, 100, 2.05), (20, 110, 1.6), (20, 120, 1.0), (20, 130, 0.55),
    (25, 90, 1.28), (25, 100, 1.28), (25, 110, 0.84), (25, 120, 0.4), (25, 130, 0.24),
]  # fmt: skip


def rtms(
    freq: float, train_s: float, *, iti_s: float = 30.0, trains: int = 10, key: str = "test"
) -> object:
    return dataclasses.replace(
        get_protocol("rtms10"), key=key, frequency_hz=freq, train_duration_s=train_s,
        inter_train_interval_s=iti_s, trains_per_session=trains,
    )  # fmt: skip


def test_table_has_exactly_the_published_cells():
    assert {(f, c): v for f, row in SINGLE_TRAIN_LIMITS_S.items() for c, v in row.items()} == {
        (float(f), c): v for f, c, v in PUBLISHED_TABLE
    }


@pytest.mark.parametrize(("freq", "pct", "limit_s"), PUBLISHED_TABLE)
def test_each_published_cell_allows_its_duration_and_refuses_one_pulse_more(freq, pct, limit_s):
    assert SINGLE_TRAIN_LIMITS_S[float(freq)][pct] == limit_s
    report = check_safety(rtms(freq, limit_s), pct)
    train = next(c for c in report.checks if c.rule == "rtms.train_duration")
    assert train.ok and train.limit == limit_s
    assert (
        train.source.endswith(f"row {freq:g} Hz, column {pct}% MT")
        and "Rossi et al. 2009" in train.source
    )
    longer = round(limit_s + 1.0 / freq, 6)  # one more pulse
    with pytest.raises(
        SafetyError, match=rf"train duration {longer:g} s exceeds the limit of {limit_s:g} s"
    ):
        check_safety(rtms(freq, longer), pct)


def test_chen_1997_safe_train_is_accepted_at_110_percent():
    # ten 1.6 s trains at 20 Hz and 110% MT with 5 s pauses were safe (Chen et al. 1997)
    report = check_safety(rtms(20, 1.6, iti_s=5.0, trains=10), 110)
    assert report.ok and not report.warnings


def test_between_rows_and_columns_the_stricter_cell_applies():
    check = next(
        c for c in check_safety(rtms(15, 1.0), 105).checks if c.rule == "rtms.train_duration"
    )
    assert check.limit == 1.6 and "row 20 Hz, column 110% MT" in check.source


@pytest.mark.parametrize(
    ("iti_s", "pct", "refused"), [(1.0, 110, True), (0.5, 101, True), (1.0, 100, False)]
)
def test_pause_of_one_second_or_less_is_refused_above_100_percent(iti_s, pct, refused):
    p = rtms(20, 1.0, iti_s=iti_s)
    if refused:
        with pytest.raises(
            SafetyError,
            match=r"inter-train interval .* at or below the limit of 1 s .*Chen et al. 1997",
        ):
            check_safety(p, pct)
    else:
        assert check_safety(p, pct).ok


def test_pause_between_one_and_five_seconds_warns(caplog):
    report = check_safety(rtms(20, 1.0, iti_s=2.0), 110)
    assert report.ok and [c.rule for c in report.warnings] == ["rtms.inter_train_interval_tested"]
    assert "safety note" in caplog.text


def test_iti_rule_does_not_apply_at_10_hz():
    assert all(
        c.rule != "rtms.inter_train_interval"
        for c in check_safety(rtms(10, 4.0, iti_s=0.5), 120).checks
    )


def test_saint_is_inside_the_tbs_envelope():
    report = check_safety(get_protocol("saint"), 90)
    values = {c.rule: (c.value, c.limit) for c in report.checks}
    assert values["tbs.pulses_per_session"] == (1800, 1800)
    assert values["tbs.pulses_per_day"] == (18000, 18000)
    assert values["tbs.sessions_per_day"] == (10, 10)
    assert values["tbs.session_gap"] == (50, 50)
    assert report.ok and not report.warnings


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ({"sessions_per_day": 11}, "tbs.sessions_per_day"),
        ({"trains_per_session": 61}, "tbs.pulses_per_session"),
        ({"min_interval_min": 30.0}, "tbs.session_gap"),
        ({"pulses_per_burst": 4, "frequency_hz": 50.0, "train_duration_s": 2.0}, "tbs.pattern"),
        ({"burst_frequency_hz": 10.0, "trains_per_session": 30}, "tbs.pattern"),
    ],
)
def test_outside_the_saint_envelope_names_the_rule(change, rule):
    p = dataclasses.replace(get_protocol("saint"), key="x", **change)
    with pytest.raises(SafetyError, match=rf"\[rule {rule}, "):
        check_safety(p, 90)


def test_tbs_intensity_ceiling_is_a_policy_the_protocol_sets():
    rule = RULES["tbs.intensity"]
    assert (
        rule.basis == "tmstarget policy"
        and "Blumberger" in rule.source
        and "Oberman" in rule.source
    )
    # depth correction: 90% of (50 + 2.7 x 6.5) % MSO = 60.8% -> 60% MSO = 120% of RMT 50: allowed
    # at the ceiling
    assert check_safety(
        get_protocol("saint"),
        compute_dose(50, 90, target_depth_mm=21.5, motor_depth_mm=15).pct_of_measured_rmt,
    ).ok
    deep = compute_dose(50, 90, target_depth_mm=25, motor_depth_mm=15).pct_of_measured_rmt  # 138%
    with pytest.raises(SafetyError, match=r"\[rule tbs.intensity, tmstarget policy: "):
        check_safety(get_protocol("saint"), deep)
    stricter = dataclasses.replace(get_protocol("saint"), max_pct_rmt=100.0)
    with pytest.raises(
        SafetyError, match=r"intensity 120 % of measured RMT exceeds the limit of 100 "
    ):
        check_safety(stricter, 120)
    # raising the ceiling above the policy is a refusal of its own, whatever the intensity under it
    looser = dataclasses.replace(get_protocol("saint"), max_pct_rmt=140.0)
    with pytest.raises(
        SafetyError,
        match=r"theta-burst intensity ceiling 140 % .* exceeds the limit of 120 .*tmstarget policy",
    ):
        check_safety(looser, 90)
    report = check_safety(looser, deep, force=True)
    check = report.checks[0]
    assert (
        check.ok and check.limit == 140 and check.source.startswith("set to 140% by the protocol")
    )
    assert report.forced and report.to_dict()["refusals"] == ["tbs.intensity"]


def test_force_is_recorded_and_reports_every_refusal():
    report = check_safety(
        dataclasses.replace(get_protocol("saint"), sessions_per_day=12), 130, force=True
    )
    d = report.to_dict()
    assert d["force"] and d["forced"] and not d["ok"]
    assert d["refusals"] == ["tbs.intensity", "tbs.pulses_per_day", "tbs.sessions_per_day"]
    assert all({"rule", "basis", "source", "limit", "action"} <= set(c) for c in d["checks"])


def test_every_rule_has_a_basis_and_a_source():
    for rule in RULES.values():
        assert rule.basis in ("consensus", "published protocol", "tmstarget policy")
        assert rule.action in ("refuse", "warn") and rule.source
