"""MADRS validation and outcome definitions.

Definitions checked: 10 items scored 0-6, total 0-60 (Montgomery & Asberg 1979); response = >= 50%
reduction from baseline; remission = total <= 10 by default, i.e. "< 11" as in SAINT (Cole et al.
2020).
"""

from __future__ import annotations

import pytest

from tmstarget.exceptions import InputError
from tmstarget.outcomes import endpoint_summary, madrs_outcomes, parse_madrs_table, trajectory_svg

ITEMS = "\t".join(f"item{i}" for i in range(1, 11))


def items_row(participant: str, timepoint: str, scores: list[int] | str, day: str = "") -> str:
    cells = scores.split(",") if isinstance(scores, str) else [str(s) for s in scores]
    return "\t".join([participant, timepoint, day, *cells])


def table(*rows: str) -> str:
    return "\n".join([f"participant\ttimepoint\tday\t{ITEMS}", *rows]) + "\n"


def spread(total: int) -> list[int]:
    """Ten item scores (0-6) summing to ``total``."""
    base, extra = divmod(total, 10)
    return [base + (1 if i < extra else 0) for i in range(10)]


def outcomes_for(baseline: int, later: int, **kwargs):
    text = table(
        items_row("01", "baseline", spread(baseline), "0"),
        items_row("01", "day5", spread(later), "5"),
    )
    return madrs_outcomes(parse_madrs_table(text), endpoint="day5", **kwargs)[0]


def test_totals_change_and_percent_change():
    r = outcomes_for(34, 12)
    assert r.baseline_total == 34
    end = r.endpoint
    assert (end.total, end.change) == (12, -22)
    assert end.pct_change == pytest.approx(-64.70588, rel=1e-6)
    assert end.response and not end.remission


@pytest.mark.parametrize(("later", "response"), [(15, True), (16, False)])
def test_response_is_at_least_half(later, response):
    assert outcomes_for(30, later).endpoint.response is response


@pytest.mark.parametrize(
    ("later", "threshold", "remission"),
    [(10, 10, True), (11, 10, False), (12, 12, True), (10, 9, False)],
)
def test_remission_threshold(later, threshold, remission):
    assert outcomes_for(30, later, remission_threshold=threshold).endpoint.remission is remission


def test_zero_baseline_has_no_percent_change():
    end = outcomes_for(0, 3).endpoint
    assert end.pct_change is None and end.response is None and end.change == 3


def test_total_only_table_and_ordering_by_day():
    text = (
        "participant\ttimepoint\tday\ttotal\n01\tweek4\t28\t8\n01\tbaseline\t0\t40\n"
        "01\tday5\t5\t18\n"
    )
    r = madrs_outcomes(parse_madrs_table(text), endpoint="week4")[0]
    assert [o.timepoint for o in r.outcomes] == ["baseline", "day5", "week4"]
    assert r.endpoint.total == 8 and r.endpoint.remission


def test_without_participant_column_everything_is_one_participant():
    text = "timepoint\ttotal\nbaseline\t30\nend\t9\n"
    (r,) = madrs_outcomes(parse_madrs_table(text), endpoint="end")
    assert r.participant == "01" and r.endpoint.change == -21


def test_endpoint_summary_reports_the_rules():
    text = table(
        items_row("01", "baseline", spread(40)),
        items_row("01", "end", spread(10)),
        items_row("02", "baseline", spread(30)),
        items_row("02", "end", spread(20)),
    )
    s = endpoint_summary(
        madrs_outcomes(parse_madrs_table(text), remission_threshold=10, endpoint="end"),
        remission_threshold=10,
    )
    assert (s["n_participants"], s["n_responders"], s["n_remitters"]) == (2, 1, 1)
    assert s["mean_pct_change"] == pytest.approx(-54.2)
    assert s["remission_rule"] == "total <= 10"


@pytest.mark.parametrize(
    ("scores", "message"),
    [
        (
            "7,0,0,0,0,0,0,0,0,0",
            r"line 2 \(participant 01, timepoint baseline\): item1 = 7 is outside 0-6",
        ),
        ("0,0,0,0,0,0,0,0,0,-1", "item10 = -1 is outside 0-6"),
        ("2.5,0,0,0,0,0,0,0,0,0", "item1 = 2.5 is not a whole number"),
        ("a,0,0,0,0,0,0,0,0,0", "item1 = 'a' is not a number"),
        (",0,0,0,0,0,0,0,0,0", "item1 is empty — every item is needed"),
    ],
)
def test_bad_item_values(scores, message):
    with pytest.raises(InputError, match=message):
        parse_madrs_table(table(items_row("01", "baseline", scores)), source="m.tsv")


def test_duplicate_timepoint():
    text = table(
        items_row("01", "baseline", spread(30)),
        items_row("01", "day5", spread(20)),
        items_row("01", "day5", spread(10)),
    )
    with pytest.raises(
        InputError, match="lines 3 and 4: participant 01 has timepoint 'day5' twice"
    ):
        parse_madrs_table(text, source="m.tsv")


def test_missing_baseline():
    text = table(items_row("01", "baseline", spread(30)), items_row("02", "day5", spread(20)))
    with pytest.raises(
        InputError,
        match=r"participant 02 has no 'baseline' timepoint \(found: day5\) — .*--baseline",
    ):
        madrs_outcomes(parse_madrs_table(text))


def test_other_baseline_label():
    text = table(items_row("01", "screening", spread(30)), items_row("01", "day5", spread(12)))
    assert (
        madrs_outcomes(parse_madrs_table(text), baseline="screening", endpoint="day5")[
            0
        ].endpoint.change
        == -18
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("participant\ttotal\n01\t20\n", "no 'timepoint' column"),
        (
            "timepoint\titem1\titem2\nbaseline\t1\t2\n",
            "item column.s. 3, 4, 5, 6, 7, 8, 9, 10 missing",
        ),
        ("timepoint\tscore\nbaseline\t1\n", "no item or total columns"),
        ("timepoint\ttotal\nbaseline\t61\n", "total = 61 is outside 0-60"),
        ("timepoint\tday\ttotal\nbaseline\tmonday\t20\n", "day = 'monday' is not a number"),
        ("", "the table is empty"),
    ],
)
def test_table_errors(text, message):
    with pytest.raises(InputError, match=message):
        parse_madrs_table(text)


def test_total_must_match_items():
    text = f"timepoint\t{ITEMS}\ttotal\nbaseline\t" + "\t".join(["3"] * 10) + "\t31\n"
    with pytest.raises(InputError, match=r"total 31 differs from the sum of the items \(30\)"):
        parse_madrs_table(text)


@pytest.mark.parametrize("threshold", [-1, 61, 10.5])
def test_bad_remission_threshold(threshold):
    text = table(items_row("01", "baseline", spread(30)))
    with pytest.raises(InputError, match="remission threshold"):
        madrs_outcomes(parse_madrs_table(text), remission_threshold=threshold)


def test_trajectory_svg_is_deterministic_and_marks_the_threshold():
    text = table(
        items_row("01", "baseline", spread(34)),
        items_row("01", "day5", spread(12)),
        items_row("02", "baseline", spread(30)),
        items_row("02", "day5", spread(25)),
    )
    results = madrs_outcomes(parse_madrs_table(text), remission_threshold=12)
    svg = trajectory_svg(results, remission_threshold=12)
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert "remission (total ≤ 12)" in svg and "sub-02" in svg and "day5" in svg
    assert trajectory_svg(results, remission_threshold=12) == svg


def test_endpoint_is_the_named_visit_not_the_last_row():
    # Regression (issue 18): the last assessment used to be the endpoint, so a 3-month follow-up, or
    # a dropout's
    # last score carried forward, stood in for the 1-month endpoint.
    text = "participant\ttimepoint\tday\ttotal\n" + "".join(
        f"{p}\t{t}\t{d}\t{v}\n"
        for p, t, d, v in [
            ("a", "baseline", 0, 30),
            ("a", "month1", 32, 12),
            ("a", "month3", 88, 25),  # relapsed by month 3
            ("b", "baseline", 0, 30),
            ("b", "week1", 11, 14),  # dropped out after week 1
        ]
    )
    a, b = madrs_outcomes(parse_madrs_table(text), endpoint="month1")
    assert a.endpoint.total == 12 and a.endpoint.response
    assert b.endpoint is None  # not carried forward
    s = endpoint_summary((a, b), remission_threshold=10, endpoint="month1")
    assert (s["n_participants"], s["n_assessed"], s["n_not_assessed"], s["n_responders"]) == (
        2,
        1,
        1,
        1,
    )


def test_endpoint_by_window_after_the_last_session():
    # Last session on day 4: month1 = 28 +/- 3 days after it = study days 29-35 (target day 32).
    # Days 30 and 34 are
    # both inside and equally far from the target, so the earlier one counts; day 36 (32 days after)
    # is outside.
    text = "participant\ttimepoint\tday\ttotal\n" + "".join(
        f"{p}\t{t}\t{d}\t{v}\n"
        for p, t, d, v in [
            ("a", "baseline", -2, 30),
            ("a", "v1", 30, 15),
            ("a", "v2", 34, 11),
            ("b", "baseline", -2, 30),
            ("b", "v1", 36, 10),
        ]
    )
    a, b = madrs_outcomes(parse_madrs_table(text), endpoint="month1", last_session_day=4)
    assert a.endpoint_timepoint == "v1" and a.endpoint.total == 15
    assert b.endpoint is None
    with pytest.raises(InputError, match="not a scheduled visit"):
        madrs_outcomes(parse_madrs_table(text), endpoint="week4", last_session_day=4)
