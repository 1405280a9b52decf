"""Figures of the treatment views: the MEP curve of ``tmstarget mt`` and the session timeline.

Positions are read back from the SVG: each drawn element carries an id.
"""

from __future__ import annotations

import re

import pytest

from tmstarget.protocol import (
    check_course_log,
    get_protocol,
    mep_curve_figure,
    parse_session_log,
    parse_trials,
    pest_threshold,
    session_timeline_figure,
)

TRIALS = (
    "session\tintensity_pct_mso\tamplitude_uv\n"
    + "".join(
        f"day1\t{x}\t{a}\n"
        for x, amps in {48: [60, 20, 55, 70, 10, 52, 30, 80, 40, 20], 47: [10] * 10}.items()
        for a in amps
    )
    + "day2\t50\t80\n"
)

LOG_HEADER = (
    "session\tday\tplanned_start\tdelivered_start\tpulses_planned\tpulses_delivered\t"
    "setting_pct_mso\tstatus\tadverse_event\tae_severity\tae_relatedness\tae_serious"
)
LOG = "\n".join(
    [
        LOG_HEADER,
        "1\t1\t2026-12-07T08:00\t2026-12-07T08:05\t1800\t1800\t57\tdelivered\theadache\tmild\t"
        "possible\tno",
        "2\t1\t2026-12-07T09:00\t2026-12-07T09:50\t1800\t1800\t57\tdelivered\t\t\t\t",
        "3\t1\t2026-12-07T10:00\t\t1800\t0\t\tmissed\t\t\t\t",
        "4\t2\t2026-12-08T08:00\t2026-12-08T08:00\t1800\t900\t57\tpartial\tseizure\tsevere\t"
        "probable\tyes",
        "5\t2\t2026-12-08T09:00\t\t1800\t\t\t\t\t\t\t",
    ]
)


def _group(svg: str, gid: str) -> str:
    """Return the content of the SVG group ``gid``, nested groups included."""
    start = svg.find(f'<g id="{gid}">')
    assert start >= 0, f"no element {gid} in the SVG"
    depth, pos = 0, start
    for tag in re.finditer(r"<g\b|</g>", svg[start:]):
        depth += 1 if tag.group(0) == "<g" else -1
        if depth == 0:
            pos = start + tag.start()
            break
    return svg[start:pos]


def _xs(svg: str, gid: str) -> list[float]:
    return [float(x) for x in re.findall(r"[ML] ([\d.]+) [\d.]+", _group(svg, gid))]


def _markers(svg: str, gid: str) -> int:
    return _group(svg, gid).count("<use ")


def _font_sizes(svg: str) -> list[float]:
    return [float(s) for s in re.findall(r"font-size: ([\d.]+)px", svg)]


def test_mep_curve_has_one_marker_per_trial_coloured_by_the_50_uv_criterion():
    sessions = parse_trials(TRIALS)
    fig = mep_curve_figure(sessions)
    # day 1: 5 of 20 pulses reach 50 µV (60, 55, 70, 52, 80); day 2: its one pulse does
    assert _markers(fig.image, "mep-response-day1") == 5
    assert _markers(fig.image, "mep-no-response-day1") == 15
    assert _markers(fig.image, "mep-response-day2") == 1
    assert "no MEP ≥ 50 µV" in fig.image and "MEP (µV, peak to peak)" in fig.image
    assert "stimulator intensity (% MSO)" in fig.image


def test_mep_curve_marks_the_ml_pest_and_relative_frequency_thresholds():
    sessions = parse_trials(TRIALS)
    fig = mep_curve_figure(sessions)
    pest = pest_threshold(sessions[0])
    assert "ML-PEST fit: RMT 49.9% MSO" in fig.image
    assert "relative frequency: RMT 48% MSO" in fig.image
    # x axis of day 1: from 47 (lowest pulse) - 5 to 52.3 (top of the 95% interval) + 5
    area = _xs(fig.image, "probability-axes-day1")
    x0, x1 = min(area), max(area)

    def intensity(px: float) -> float:
        return 42.0 + (px - x0) / (x1 - x0) * (57.3 - 42.0)

    (t,) = set(_xs(fig.image, "pest-threshold-day1"))
    assert intensity(t) == pytest.approx(pest.threshold_pct_mso, abs=0.01)
    (rf,) = set(_xs(fig.image, "rf-threshold-day1"))
    assert intensity(rf) == pytest.approx(48.0, abs=0.01)
    assert 'id="rf-threshold-day2"' not in fig.image  # no intensity passed on day 2
    assert _markers(fig.image, "rf-levels-day1") == 2  # 47 and 48% MSO


def test_mep_curve_alt_text_and_determinism():
    sessions = parse_trials(TRIALS)
    fig = mep_curve_figure(sessions)
    assert fig.alt == (
        "MEP amplitude against stimulator intensity. session day1: 20 pulses at 47-48% MSO, 5 "
        "with an MEP of at least 50 µV; ML-PEST fitted response probability with RMT 49.9% MSO "
        "(95% interval 47.9-52.3); relative-frequency RMT 48% MSO (confirmed). session day2: 1 "
        "pulse at 50% MSO, 1 with an MEP of at least 50 µV; ML-PEST fitted response probability "
        "with RMT 34.7% MSO (95% interval 18.7-53.9); relative frequency: no intensity with 5 of "
        "10 responses yet."
    )
    assert mep_curve_figure(sessions).image == fig.image
    root = re.search(r"<svg\b[^>]*>", fig.image).group(0)
    assert 'viewBox="' in root and 'width="100%"' in root and "height=" not in root
    assert min(_font_sizes(fig.image)) >= 9.0
    png = mep_curve_figure(sessions, fmt="png").image
    assert png.startswith(b"\x89PNG") and png == mep_curve_figure(sessions, fmt="png").image


def test_timeline_draws_planned_open_and_delivered_filled_by_status():
    records = parse_session_log(LOG + "\n")
    fig = session_timeline_figure(records)
    assert _markers(fig.image, "sessions-planned") == 5
    assert _markers(fig.image, "sessions-delivered") == 1  # session 1, 5 min late: on time
    assert _markers(fig.image, "sessions-late") == 1  # session 2, 50 min late
    assert _markers(fig.image, "sessions-missed") == 1
    assert _markers(fig.image, "sessions-partial") == 1
    assert _markers(fig.image, "sessions-adverse-events") == 1  # headache
    assert _markers(fig.image, "sessions-adverse-review") == 1  # seizure: physician review
    assert "time of day (hh:mm)" in fig.image and "08:00" in fig.image
    assert fig.alt == (
        "Session timeline by day and time of day: 5 planned sessions over days 1-2; 1 delivered "
        "as planned; 1 delivered late; 1 partial (fewer pulses); 1 missed; 1 not yet given; "
        "adverse events at session 1 (headache), session 4 (seizure, physician review)."
    )
    assert session_timeline_figure(records).image == fig.image
    assert min(_font_sizes(fig.image)) >= 9.0


def test_timeline_colours_a_logged_deviation_and_places_sessions_without_times():
    text = "session\tday\tpulses_planned\tpulses_delivered\tsetting_pct_mso\n"
    text += "1\t1\t600\t600\t60\n2\t1\t600\t600\t57\n3\t2\t600\t\t\n"
    records = parse_session_log(text)
    protocol = get_protocol("rtms10")
    deviations = check_course_log(records, protocol, setting_pct_mso=57)
    fig = session_timeline_figure(records, deviations=deviations)
    assert _markers(fig.image, "sessions-deviating") == 1  # session 1 at 60% MSO, planned 57
    assert _markers(fig.image, "sessions-delivered") == 1
    assert "session of the day" in fig.image and "no times logged" in fig.caption
    assert "no adverse event" in fig.alt


def test_timeline_refuses_nothing_to_draw():
    with pytest.raises(ValueError, match="no sessions"):
        session_timeline_figure(())
