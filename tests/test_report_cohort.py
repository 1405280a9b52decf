"""Figures of the cohort report: forest plot, response/remission bars, linked session targets."""

from __future__ import annotations

import re

import pytest

from tmstarget._utils.figures import AltFigure
from tmstarget.report.cohortfig import (
    binary_rows,
    effect_forest,
    effect_rows,
    linked_targets,
    linked_targets_figure,
    response_bars,
)


def _estimate(method, est, lo, hi, n):
    return {
        "method": method,
        "timepoint": "month1",
        "estimate": est,
        "se": 1.0,
        "ci_low": lo,
        "ci_high": hi,
        "p_value": 0.05,
        "n_participants": n,
        "n_observations": n,
        "confidence": 0.95,
        "df": 20.0,
    }


def _binary(outcome, ee, ne, ec, nc, rd, lo, hi):
    return {
        "outcome": outcome,
        "events_experimental": ee,
        "n_experimental": ne,
        "events_control": ec,
        "n_control": nc,
        "risk_difference": rd,
        "rd_ci_low": lo,
        "rd_ci_high": hi,
    }


ANALYSIS = {
    "arms": ["connectivity", "scalp"],
    "experimental": "connectivity",
    "control": "scalp",
    "endpoint": "month1",
    "ancova": _estimate("ancova", 3.7, -0.1, 7.6, 31),
    "mixed_model": _estimate("mixed_model", 3.3, -0.2, 6.8, 40),
    "per_protocol": {"n": 30, "ancova": _estimate("ancova_per_protocol", 4.1, 0.2, 8.0, 30)},
    "imputation": {"estimate": _estimate("mice_ancova", 3.2, -0.6, 7.1, 40)},
    "response": _binary("response", 4, 15, 0, 16, 0.267, 0.017, 0.520),
    "remission": _binary("remission", 1, 15, 0, 16, 0.067, -0.135, 0.298),
    "definitions": {"response": "MADRS reduction >= 50% of baseline", "remission": "MADRS <= 10"},
}


def _group(svg: str, gid: str) -> str:
    m = re.search(rf'<g id="{re.escape(gid)}">(.*?)</g>', svg, re.S)
    assert m, f"no SVG group {gid!r}"
    return m.group(1)


def _path_xs(svg: str, gid: str) -> list[float]:
    return [float(x) for x in re.findall(r"[ML] (-?[\d.]+) -?[\d.]+", _group(svg, gid))]


def _marker_x(svg: str, gid: str) -> float:
    (x,) = re.findall(r'<use [^>]*x="(-?[\d.]+)"', _group(svg, gid))
    return float(x)


def _font_sizes(svg: str) -> list[float]:
    return [float(s) for s in re.findall(r"font-size: ([\d.]+)px", svg)]


def test_forest_has_one_row_per_estimate_at_the_right_x():
    rows = effect_rows(ANALYSIS)
    assert [r["label"] for r in rows] == [
        "ANCOVA, complete cases",
        "ANCOVA, per protocol",
        "ANCOVA after MICE, ITT",
        "mixed model (LMM), ITT",
    ]
    assert [r["estimate"] for r in rows] == [3.7, 4.1, 3.2, 3.3] and rows[0]["primary"]
    fig = effect_forest(rows, "connectivity", "scalp", endpoint="month1")
    assert isinstance(fig, AltFigure)
    svg = fig.image
    assert len(re.findall(r'<g id="forest-estimate-\d+">', svg)) == 4
    assert len(re.findall(r'<g id="forest-ci-\d+">', svg)) == 4
    # pixel x = a * value + b, fixed by the zero line and the first interval's upper limit; every
    # other point must then sit at its value
    (zero,) = set(_path_xs(svg, "forest-zero"))
    scale = (_path_xs(svg, "forest-ci-0")[1] - zero) / rows[0]["ci_high"]

    def value(px: float) -> float:
        return (px - zero) / scale

    for k, r in enumerate(rows):
        lo, hi = _path_xs(svg, f"forest-ci-{k}")
        assert value(lo) == pytest.approx(r["ci_low"], abs=0.01)
        assert value(hi) == pytest.approx(r["ci_high"], abs=0.01)
        assert value(_marker_x(svg, f"forest-estimate-{k}")) == pytest.approx(
            r["estimate"], abs=0.01
        )
    assert "favours connectivity-guided" in svg and "favours scalp-based" in svg
    assert "ANCOVA, complete cases 3.7 points (95% CI -0.1 to 7.6)" in fig.alt
    assert "favours connectivity-guided" in fig.alt and "favours scalp-based" in fig.alt
    assert min(_font_sizes(svg)) >= 9.0 and 'width="100%"' in re.search(r"<svg\b[^>]*>", svg)[0]
    assert effect_forest(rows, "connectivity", "scalp", endpoint="month1") == fig  # same bytes


def test_forest_leaves_out_estimates_the_json_does_not_hold():
    partial = {k: v for k, v in ANALYSIS.items() if k not in ("imputation", "mixed_model")}
    partial["per_protocol"] = {"n": 0}
    assert [r["label"] for r in effect_rows(partial)] == ["ANCOVA, complete cases"]
    assert effect_rows({"ancova": _estimate("ancova", float("nan"), 0, 1, 3)}) == []


def test_response_and_remission_bars_show_the_counts():
    rows = binary_rows(ANALYSIS, ("connectivity", "scalp"))
    assert [r["outcome"] for r in rows] == ["response", "remission"]
    assert rows[0]["counts"] == {"connectivity": (4, 15), "scalp": (0, 16)}
    fig = response_bars(rows, ("connectivity", "scalp"), endpoint="month1")
    svg = fig.image
    for text in ("4/15", "0/16", "1/15"):
        assert text in svg
    assert len(re.findall(r'<g id="bar-(response|remission)-[01]">', svg)) == 4
    assert "95% CI +0.02 to +0.52" in svg
    assert "response: connectivity 4/15 (27%), scalp 0/16 (0%), difference +0.27" in fig.alt
    assert "remission = MADRS <= 10" in fig.caption
    assert min(_font_sizes(svg)) >= 9.0
    assert response_bars(rows, ("connectivity", "scalp"), endpoint="month1") == fig


def _targets():
    return [
        {"participant": "01", "session": "2", "target_mni": [-38.0, 44.0, 30.0]},
        {"participant": "01", "session": "1", "target_mni": [-36.0, 46.0, 31.0]},
        {"participant": "02", "session": "1", "target_mni": [-42.0, 40.0, 28.0]},
        {"participant": "02", "session": "2", "target_mni": [-41.0, 43.0, 28.0]},
        {"participant": "02", "session": "3", "target_mni": [-40.0, 41.0, 29.0]},
        {"participant": "03", "session": None, "target_mni": [-30.0, 50.0, 35.0]},
    ]


def test_linked_targets_one_line_per_participant_with_two_sessions():
    links = linked_targets(_targets())
    assert list(links) == ["01", "02"]  # sub-03 has one session
    assert links["01"][0] == (-36.0, 46.0, 31.0)  # session order
    fig = linked_targets_figure(_targets(), 2.5, 4.2)
    svg = fig.image
    for view in ("top", "side"):
        assert re.findall(rf'<g id="link-{view}-([^"]+)">', svg) == ["01", "02"]
        # one polyline through all of a participant's sessions
        line = re.search(r'<path d="([^"]+)"', _group(svg, f"link-{view}-02")).group(1)
        assert len(re.findall(r"[ML] ", line)) == 3
    assert "median within-person distance 2.5 mm" in fig.alt
    assert "between/within-person distance ratio (medians) 4.20" in fig.alt
    assert "2 participants with two or more sessions" in fig.alt
    assert min(_font_sizes(svg)) >= 9.0
    assert linked_targets_figure(_targets(), 2.5, 4.2) == fig
    with pytest.raises(ValueError, match="two or more sessions"):
        linked_targets_figure(_targets()[-1:], None)


def test_linked_targets_axes_are_equal():
    svg = linked_targets_figure(_targets(), 2.5).image
    # each view spans the same mm across and up (and 1 mm across = 1 mm up): a square plot area
    for view in ("top", "side"):
        area = _group(svg, f"linked-area-{view}")
        xs = [float(x) for x in re.findall(r"[ML] (-?[\d.]+) -?[\d.]+", area)]
        ys = [float(y) for y in re.findall(r"[ML] -?[\d.]+ (-?[\d.]+)", area)]
        assert max(xs) - min(xs) == pytest.approx(max(ys) - min(ys), rel=1e-3)
