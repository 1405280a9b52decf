"""Report figures from functions that carry their own alt text (issue 29).

Every figure says what it shows.
"""

from __future__ import annotations

import base64

from tmstarget.outcomes import madrs_outcomes, parse_madrs_table, trajectory_figure
from tmstarget.protocol import mep_curve_figure, parse_trials
from tmstarget.report._mpl import image_uri, safe_alt_figure

TABLE = "participant\ttimepoint\tday\ttotal\n01\tbaseline\t0\t34\n01\tmonth1\t32\t12\n"


def test_the_report_figure_takes_the_alt_text_of_the_drawing():
    results = madrs_outcomes(parse_madrs_table(TABLE))
    fig = safe_alt_figure(
        "MADRS",
        lambda: trajectory_figure(results, remission_threshold=10, last_session_day=4),
        "MADRS trajectory",
    )
    assert fig.error is None and fig.uri.startswith("data:image/svg+xml;base64,")
    assert "<svg" in base64.b64decode(fig.uri.split(",", 1)[1]).decode()
    assert fig.alt.startswith(
        "MADRS total by assessment for sub-01: 34 at baseline (day 0), 12 at month1 (day 32) "
        "(response line at 17); remission line at 10; last treatment session on day 4 marked"
    )
    assert "Dotted line: 50% response line" in fig.caption


def test_png_images_get_a_png_uri_and_failures_keep_the_fallback_words():
    sessions = parse_trials("intensity_pct_mso\tamplitude_uv\n50\t80\n45\t10\n")
    assert image_uri(mep_curve_figure(sessions, fmt="png").image).startswith("data:image/png;")

    def broken():
        raise RuntimeError("no data")

    fig = safe_alt_figure("MEP", broken, "MEP curve", "how to read it")
    assert fig.uri is None and fig.alt == "MEP curve" and fig.caption == "how to read it"
    assert "RuntimeError: no data" in fig.error
