"""Bad inputs of the clinic chain: trial commands and MADRS tables (issue 24).

The chain refuses what it cannot check. The cases cover ``trial analyze``, ``simulate``, ``power``,
``randomize``/``reveal`` and MADRS tables read by ``madrs`` and ``trial``.

Each case is an argv (placeholders: ``{d}`` = a folder of small trial and MADRS files shared by the
module, ``{o}``
= an empty folder of the case's own for outputs) and a fragment of the expected message. Every case
must end with exit code 2, exactly one line on stderr, no traceback, nothing on stdout and no file
created or changed (:func:`bad_input_harness.check_refused`). None of these cases is in
``tests/test_bad_inputs.py``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from bad_input_harness import check_refused

ITEMS10 = "\t".join(f"item{i}" for i in range(1, 11))
MADRS_ITEMS = f"participant\ttimepoint\tday\t{ITEMS10}"
BASE_ITEMS = "01\tbaseline\t0\t4\t4\t4\t4\t3\t3\t3\t3\t3\t3"
MONTH1_ITEMS = "01\tmonth1\t28\t1\t1\t1\t1\t1\t1\t1\t1\t1\t0"


def _totals(*rows: str) -> str:
    return "participant\ttimepoint\ttotal\n" + "".join(f"{r}\n" for r in rows)


def _score(table: pd.DataFrame, row: int, value: str) -> pd.DataFrame:
    return table.assign(
        madrs_total=table["madrs_total"].astype(str).where(table.index != row, value)
    )


def _write_inputs(d: Path) -> None:
    from tmstarget.trial import TrialDesign, make_allocation, simulate_trial
    from tmstarget.trial.io import write_allocation, write_table

    table = simulate_trial(seed=0)
    dated = simulate_trial(
        TrialDesign(record_days=True, dropout=0.2, incomplete=0.2, day_sd=2.5), seed=1
    )
    arms = table.drop_duplicates("participant_id")[["participant_id", "arm"]]
    extra = table.iloc[[1]].assign(timepoint="week2")  # a visit scored in one arm only
    frames = {
        "trial.tsv": table,
        "dated.tsv": dated,
        "trial_frac.tsv": _score(table, 4, "23.5"),
        "trial_neg.tsv": _score(table, 5, "-1"),
        "trial_inf.tsv": _score(table, 2, "inf"),
        "trial_underscore.tsv": _score(table, 2, "2_3"),
        "trial_week2_one_arm.tsv": pd.concat([table, extra]),
        "trial_site_is_arm.tsv": table.assign(
            stratum_site=table["arm"].map({"connectivity": "A", "scalp": "B"})
        ),
        "trial_same_baseline.tsv": table.assign(
            madrs_total=table["madrs_total"].where(table["timepoint"] != "baseline", 30)
        ),
        "dated_no_sessions.tsv": dated.assign(sessions_received=""),
        "alloc_ab.tsv": arms.assign(arm=arms["arm"].map({"connectivity": "A", "scalp": "B"})),
        "alloc_case.tsv": arms.assign(arm=arms["arm"].str.capitalize()),
        "alloc_twice.tsv": pd.concat(
            [
                arms,
                arms.iloc[[0]].assign(
                    participant_id=arms["participant_id"].iloc[0].removeprefix("sub-")
                ),
            ]
        ),
    }
    for name, frame in frames.items():
        write_table(frame, d / name)
    hamd = ["participant\ttimepoint\t" + "\t".join(f"item{i}" for i in range(1, 18))]
    for r in table.itertuples(index=False):
        label = "Baseline" if r.timepoint == "baseline" else r.timepoint
        hamd.append(f"{r.participant_id}\t{label}\t" + "\t".join(["1"] * 17))
    texts = {
        "hamd_baseline_label.tsv": "\n".join(hamd) + "\n",
        "madrs_total_frac.tsv": _totals("01\tbaseline\t30", "01\tmonth1\t23.5"),
        "madrs_total_neg.tsv": _totals("01\tbaseline\t30", "01\tmonth1\t-2"),
        "madrs_total_inf.tsv": _totals("01\tbaseline\tinf", "01\tmonth1\t20"),
        "madrs_total_underscore.tsv": _totals("01\tbaseline\t3_0", "01\tmonth1\t20"),
        "madrs_item_frac.tsv": "\n".join(
            [MADRS_ITEMS, BASE_ITEMS.replace("\t4\t4\t4\t4", "\t2.5\t4\t4\t4", 1), MONTH1_ITEMS]
        )
        + "\n",
        "madrs_item_neg.tsv": "\n".join([MADRS_ITEMS, BASE_ITEMS, MONTH1_ITEMS[:-1] + "-1"]) + "\n",
        "madrs_items_total_differ.tsv": "\n".join(
            [MADRS_ITEMS + "\ttotal", BASE_ITEMS + "\t33", MONTH1_ITEMS + "\t9"]
        )
        + "\n",
    }
    for name, text in texts.items():
        (d / name).write_text(text)
    write_allocation(
        make_allocation(["severity=moderate", "severity=severe"], 6, seed=3),
        d / "alloc.tsv",
        d / "key.json",
    )


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    """Write the small input files once for the module.

    Every case checks that none of them changed.
    """
    d = tmp_path_factory.mktemp("bad_inputs_trial") / "in"
    d.mkdir()
    _write_inputs(d)
    return d


A = ["trial", "analyze", "{d}/trial.tsv", "--imputations", "0"]
DATED = ["trial", "analyze", "{d}/dated.tsv", "--imputations", "0"]
SIM = ["trial", "simulate", "{o}/t.tsv"]
POWER = ["trial", "power", "--effect-size", "0.5"]
RANDOMIZE = ["trial", "randomize", "{o}/a.tsv", "--key", "{o}/k.json", "--per-stratum", "4"]
REVEAL = [
    "trial",
    "reveal",
    "{d}/alloc.tsv",
    "--key",
    "{d}/key.json",
    "--stratum",
    "severity=severe",
]

#: (id, argv, expected fragment of the one error line)
CASES: list[tuple[str, list[str], str]] = [
    # A. visit windows: no overlap, no window reaching a neighbour's target day, no re-labelling
    # across visits
    (
        "visit-month1-reaches-week1-of-the-table",
        [*DATED, "--visit", "month1:28:25"],
        "month1's window (3 to 53 days after the last session) reaches week1's target day 7",
    ),
    (
        "visit-month1-reaches-week1",
        [*DATED, "--visit", "week1:7:2", "--visit", "month1:28:25"],
        "reaches week1's target day 7",
    ),
    (
        "visit-windows-overlap",
        [*DATED, "--visit", "week1:7:2", "--visit", "month1:28:20"],
        "the windows of week1 (5 to 9 days after the last session) and month1",
    ),
    (
        "visit-eot-reaches-week1",
        [
            *DATED,
            "--visit",
            "end_of_treatment:0:0:7",
            "--visit",
            "week1:7:2",
            "--visit",
            "month1:28:3",
        ],
        "end_of_treatment's window",
    ),
    (
        "visit-table-label-not-scheduled",
        [*DATED, "--visit", "month1:28:3"],
        "has no week1 visit — add --visit week1:7:2",
    ),
    ("visit-repeated", [*DATED, "--visit", "month1:28:3", "--visit", "month1:30:3"], "repeat"),
    (
        "visit-without-day-column",
        [*A, "--visit", "month1:28:3"],
        "visit windows (--visit) need a 'day'",
    ),
    ("visit-negative-day-window", [*DATED, "--visit", "week1:7:-2"], "NAME:DAY:WINDOW"),
    # B. numbers that would run but mean something else
    (
        "pp-min-above-planned",
        [*DATED, "--pp-min-sessions", "60", "--planned-sessions", "50"],
        "more than the 50 planned sessions",
    ),
    (
        "pp-min-above-most-received",
        [*DATED, "--pp-min-sessions", "60"],
        "--pp-min-sessions 60 is outside 1-50",
    ),
    ("pp-min-zero", [*DATED, "--pp-min-sessions", "0"], "at least 1 session"),
    (
        "planned-below-received",
        [*DATED, "--planned-sessions", "40"],
        "received 50 sessions, more than the 40 planned",
    ),
    (
        "pp-min-without-sessions-column",
        [*A, "--pp-min-sessions", "40"],
        "need a sessions_received column",
    ),
    (
        "planned-without-sessions-column",
        [*A, "--planned-sessions", "50"],
        "need a sessions_received column",
    ),
    (
        "sessions-column-empty",
        ["trial", "analyze", "{d}/dated_no_sessions.tsv", "--imputations", "0"],
        "sessions_received is empty for every participant",
    ),
    ("response-pct-as-fraction", [*A, "--response-pct", "0.5"], "a percentage is expected"),
    ("response-pct-zero", [*A, "--response-pct", "0"], "--response-pct 0"),
    ("confidence-as-percent", [*A, "--confidence", "95"], "95% is 0.95"),
    ("confidence-half", [*A, "--confidence", "0.5"], "between 0.5 and 1"),
    ("remission-fraction", [*A, "--remission-threshold", "10.5"], "whole number 0-60"),
    ("remission-above-60", [*A, "--remission-threshold", "61"], "whole number 0-60"),
    ("analyze-seed-negative", [*A, "--seed", "-1"], "--seed"),
    ("screened-zero", [*A, "--screened", "0"], "--screened 0"),
    (
        "screened-below-randomized",
        [*A, "--screened", "39"],
        "fewer than the 40 participants randomized",
    ),
    ("simulate-dropout-percent", [*SIM, "--dropout", "20"], "not a percentage"),
    ("simulate-dropout-negative", [*SIM, "--dropout", "-0.1"], "--dropout"),
    ("simulate-effect-in-points", [*SIM, "--effect-size", "7"], "Cohen's d"),
    ("simulate-seed-negative", [*SIM, "--seed", "-1"], "--seed"),
    ("simulate-incomplete-negative", [*SIM, "--days", "--incomplete", "-0.1"], "--incomplete"),
    ("power-not-above-alpha", [*POWER, "--power", "0.03"], "not above alpha 0.05"),
    ("power-as-percent", [*POWER, "--power", "80"], "as a fraction"),
    ("power-alpha-above-half", [*POWER, "--participants", "40", "--alpha", "0.6"], "alpha 0.6"),
    (
        "power-correlation-near-1",
        [*POWER, "--power", "0.8", "--baseline-correlation", "0.99999"],
        "[0, 0.95]",
    ),
    (
        "power-effect-in-points",
        ["trial", "power", "--effect-size", "50", "--participants", "40"],
        "Cohen's d",
    ),
    ("randomize-seed-negative", [*RANDOMIZE, "--seed", "-1"], "--seed: must be >= 0, got -1"),
    ("randomize-ratio-zero", [*RANDOMIZE, "--ratio", "1", "0"], "ratio"),
    ("randomize-block-zero", [*RANDOMIZE, "--block-sizes", "0"], "block"),
    ("reveal-participant-empty", [*REVEAL, "--participant", ""], "participant"),
    # C. MADRS totals and items: whole numbers in range, by one rule in both readers
    (
        "trial-total-fractional",
        ["trial", "analyze", "{d}/trial_frac.tsv"],
        "madrs_total '23.5' at sub-03/week1 is not a whole number",
    ),
    ("trial-total-negative", ["trial", "analyze", "{d}/trial_neg.tsv"], "is outside 0-60"),
    (
        "trial-total-infinite",
        ["trial", "analyze", "{d}/trial_inf.tsv"],
        "'inf' at sub-02/month1 is not a number",
    ),
    (
        "trial-total-underscore",
        ["trial", "analyze", "{d}/trial_underscore.tsv"],
        "'2_3' at sub-02/month1 is not a number",
    ),
    (
        "madrs-total-fractional",
        ["madrs", "{d}/madrs_total_frac.tsv"],
        "total = 23.5 is not a whole number",
    ),
    ("madrs-total-negative", ["madrs", "{d}/madrs_total_neg.tsv"], "total = -2 is outside 0-60"),
    ("madrs-total-infinite", ["madrs", "{d}/madrs_total_inf.tsv"], "total = 'inf' is not a number"),
    (
        "madrs-total-underscore",
        ["madrs", "{d}/madrs_total_underscore.tsv"],
        "total = '3_0' is not a number",
    ),
    (
        "madrs-item-fractional",
        ["madrs", "{d}/madrs_item_frac.tsv"],
        "item1 = 2.5 is not a whole number",
    ),
    ("madrs-item-negative", ["madrs", "{d}/madrs_item_neg.tsv"], "item10 = -1 is outside 0-6"),
    (
        "madrs-items-and-total-differ",
        ["madrs", "{d}/madrs_items_total_differ.tsv"],
        "differs from the sum of the items",
    ),
    # D. the message names the real cause
    (
        "visit-in-one-arm-only",
        ["trial", "analyze", "{d}/trial_week2_one_arm.tsv", "--imputations", "0"],
        "visit 'week2' has 1 assessment(s) in arm connectivity",
    ),
    (
        "stratum-confounded-with-arm",
        ["trial", "analyze", "{d}/trial_site_is_arm.tsv", "--imputations", "0"],
        "stratum column 'stratum_site' is confounded",
    ),
    (
        "baseline-the-same-for-all",
        ["trial", "analyze", "{d}/trial_same_baseline.tsv", "--imputations", "0"],
        "same baseline MADRS",
    ),
    (
        "allocation-arm-names-differ",
        [*A, "--allocation", "{d}/alloc_ab.tsv"],
        "names arm(s) A, B but the table's arms are connectivity, scalp",
    ),
    ("allocation-arm-case-differs", [*A, "--allocation", "{d}/alloc_case.tsv"], "case-sensitive"),
    (
        "allocation-01-and-sub-01",
        [*A, "--allocation", "{d}/alloc_twice.tsv"],
        "01 and sub-01 are one participant",
    ),
    ("experimental-arm-case", [*A, "--experimental", "Connectivity"], "case-sensitive"),
    (
        "secondary-baseline-label",
        [*A, "--secondary", "hamd17={d}/hamd_baseline_label.tsv"],
        "no 'baseline' rating (timepoints: Baseline",
    ),
]


def test_corpus_size():
    ids = [c[0] for c in CASES]
    assert len(ids) == len(set(ids))
    assert len(CASES) >= 35
    print(f"\n{len(CASES)} bad-input cases over the clinic chain")


@pytest.mark.parametrize(("argv", "fragment"), [pytest.param(a, f, id=i) for i, a, f in CASES])
def test_bad_input_is_one_line_exit_2_and_leaves_nothing(
    argv, fragment, inputs, tmp_path, capsys, monkeypatch
):
    check_refused(
        argv, fragment, {"d": inputs, "o": tmp_path}, [inputs], tmp_path, capsys, monkeypatch
    )
