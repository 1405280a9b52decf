"""Protocols given on the command line: kinds inferred, numbers derived, errors named."""

from __future__ import annotations

import pytest

from tmstarget.exceptions import InputError
from tmstarget.protocol import check_safety, custom_protocol, get_protocol


def test_custom_itbs_equals_the_saint_numbers():
    p = custom_protocol(
        frequency_hz=50,
        pulses_per_burst=3,
        burst_frequency_hz=5,
        train_duration_s=2,
        inter_train_interval_s=8,
        trains_per_session=60,
        intensity_pct_rmt=90,
        sessions_per_day=10,
        treatment_days=5,
        min_interval_min=50,
    )
    saint = get_protocol("saint")
    assert p.kind == "itbs" and p.pulses_per_session == saint.pulses_per_session == 1800
    assert p.session_duration_s == saint.session_duration_s and p.min_gap_min == 50
    report = check_safety(p, 90)
    assert report.ok and len(report.checks) == 8 and not report.warnings


def test_one_train_with_bursts_is_continuous_theta_burst():
    p = custom_protocol(
        frequency_hz=50,
        pulses_per_burst=3,
        burst_frequency_hz=5,
        train_duration_s=40,
        trains_per_session=1,
        intensity_pct_rmt=80,
    )
    assert p.kind == "ctbs" and p.pulses_per_session == 600 and p.inter_train_interval_s == 0


def test_start_to_start_interval_gives_the_rest_after_the_session():
    p = custom_protocol(
        frequency_hz=10,
        train_duration_s=4,
        inter_train_interval_s=26,
        trains_per_session=10,
        intensity_pct_rmt=100,
        sessions_per_day=2,
        min_interval_min=60,
        interval_basis="start_to_start",
    )
    assert p.session_duration_s == 274 and p.min_gap_min == pytest.approx(60 - 274 / 60)


def test_burst_pattern_for_rtms_is_refused():
    with pytest.raises(InputError, match="burst pattern was given for conventional rTMS"):
        custom_protocol(
            frequency_hz=10,
            train_duration_s=4,
            trains_per_session=1,
            intensity_pct_rmt=100,
            kind="rtms",
            pulses_per_burst=3,
        )
