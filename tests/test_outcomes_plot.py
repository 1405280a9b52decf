"""The MADRS trajectory figure: response and remission lines where they belong, treatment, flags.

The figure's numbers are read back from the SVG: each drawn element carries an id.
"""

from __future__ import annotations

import re

import pytest

from tmstarget._utils.figures import AltFigure
from tmstarget.outcomes import (
    SUICIDAL_ITEM_FLAG,
    madrs_outcomes,
    parse_madrs_table,
    trajectory_figure,
    trajectory_svg,
)

HEADER = "participant\ttimepoint\tday\t" + "\t".join(f"item{i}" for i in range(1, 11))
ROWS = [
    "01\tbaseline\t0\t4\t4\t4\t4\t3\t3\t3\t3\t3\t3",  # 34
    "01\tweek1\t10\t2\t2\t2\t2\t2\t2\t2\t2\t2\t4",  # 22, item 10 = 4: flagged
    "01\tmonth1\t35\t1\t1\t1\t1\t1\t1\t1\t1\t1\t3",  # 12, item 10 = 3: not flagged
]


def _results(rows=ROWS, header=HEADER):
    return madrs_outcomes(parse_madrs_table("\n".join([header, *rows]) + "\n"))


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


def _ys(svg: str, gid: str) -> list[float]:
    return [float(y) for y in re.findall(r"[ML] [\d.]+ ([\d.]+)", _group(svg, gid))]


def _data_y(svg: str, gid: str) -> float:
    """Return the MADRS total at which the horizontal line ``gid`` is drawn (axis 0-60)."""
    area = _ys(svg, "madrs-plot-area")
    bottom, top = max(area), min(area)
    (y,) = set(_ys(svg, gid))
    return 60.0 * (bottom - y) / (bottom - top)


def test_response_line_is_at_half_the_baseline_and_remission_at_the_threshold():
    fig = trajectory_figure(
        _results(), remission_threshold=10, first_session_day=3, last_session_day=7
    )
    assert isinstance(fig, AltFigure)
    assert _data_y(fig.image, "madrs-response-sub-01") == pytest.approx(17.0, abs=0.01)
    assert _data_y(fig.image, "madrs-remission") == pytest.approx(10.0, abs=0.01)
    assert "50% response (total ≤ 17)" in fig.image and "remission (total ≤ 10)" in fig.image


def test_treatment_period_is_shaded_between_the_session_days():
    fig = trajectory_figure(
        _results(), remission_threshold=10, first_session_day=3, last_session_day=7
    )
    area = [
        float(x) for x in re.findall(r"[ML] ([\d.]+) [\d.]+", _group(fig.image, "madrs-plot-area"))
    ]
    span = [
        float(x) for x in re.findall(r"[ML] ([\d.]+) [\d.]+", _group(fig.image, "madrs-treatment"))
    ]
    # x axis: day 0 .. 35 with matplotlib's 5% margins; the band's edges are at days 3 and 7
    x0, x1 = min(area), max(area)

    def day(px: float) -> float:  # axis limits -1.75..36.75
        return -1.75 + (px - x0) / (x1 - x0) * 38.5

    assert day(min(span)) == pytest.approx(3.0, abs=0.01) and day(max(span)) == pytest.approx(
        7.0, abs=0.01
    )
    assert "treatment from day 3 to day 7 shaded" in fig.alt
    assert "treatment (days 3-7)" in fig.image


def test_unknown_treatment_days_draw_nothing_and_say_so():
    fig = trajectory_figure(_results(), remission_threshold=10)
    assert 'id="madrs-treatment"' not in fig.image
    assert "treatment days not given, so the treatment period is not shown" in fig.alt
    assert "treatment period is not shown" in fig.caption
    last_only = trajectory_figure(_results(), remission_threshold=10, last_session_day=7)
    assert (
        'id="madrs-treatment"' in last_only.image
        and "last treatment session on day 7" in last_only.alt
    )


def test_item10_flag_marks_exactly_the_visits_at_or_above_the_madrs_flag():
    assert SUICIDAL_ITEM_FLAG == 4
    fig = trajectory_figure(_results(), remission_threshold=10)
    flags = _group(fig.image, "madrs-item10-sub-01")
    assert flags.count("<use ") == 1  # week1 only (item 10 = 4); month1 has 3
    assert "item 10 ≥ 4 (suicidal thoughts)" in fig.image
    assert "flagged: sub-01 at week1 (item 10 = 4)" in fig.alt


def test_alt_text_says_what_the_figure_shows():
    fig = trajectory_figure(_results(), remission_threshold=10)
    assert fig.alt.startswith(
        "MADRS total by assessment for sub-01: 34 at baseline (day 0), 22 at week1 (day 10), "
        "12 at month1 (day 35) (response line at 17); remission line at 10;"
    )


def test_totals_only_say_that_item10_is_not_recorded():
    header = "participant\ttimepoint\tday\ttotal"
    fig = trajectory_figure(
        _results(["01\tbaseline\t0\t35", "01\tmonth1\t30\t9"], header), remission_threshold=10
    )
    assert "item 10 not recorded (totals only)" in fig.alt
    assert "madrs-item10" not in fig.image
    assert _data_y(fig.image, "madrs-response-sub-01") == pytest.approx(17.5, abs=0.01)


def test_deterministic_scalable_and_readable_at_phone_width():
    results = _results()
    a = trajectory_svg(results, remission_threshold=10, first_session_day=3, last_session_day=7)
    b = trajectory_svg(results, remission_threshold=10, first_session_day=3, last_session_day=7)
    assert a == b
    root = re.search(r"<svg\b[^>]*>", a).group(0)
    assert (
        'viewBox="' in root and 'width="100%"' in root and "pt" not in root.replace("viewBox", "")
    )
    sizes = [float(s) for s in re.findall(r"font-size: ([\d.]+)px", a)]
    assert len(sizes) > 10 and min(sizes) >= 9.0  # the viewBox is in pt: 1 SVG unit = 1 pt
    png = trajectory_figure(results, remission_threshold=10, fmt="png").image
    assert (
        png.startswith(b"\x89PNG")
        and png == trajectory_figure(results, remission_threshold=10, fmt="png").image
    )


def test_first_session_after_last_is_refused():
    with pytest.raises(ValueError, match="after the last"):
        trajectory_figure(
            _results(), remission_threshold=10, first_session_day=9, last_session_day=7
        )
