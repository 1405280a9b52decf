"""Issue 24: the clinic chain refuses what it cannot check, and analyses what it made itself.

Visit windows never re-label assessments across visits, the tool's own simulated trials analyse,
MADRS scores follow one rule in both readers, allocation records match by participant label, and the
numbers behind a result are checked by hand where possible.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tmstarget.cli.main import main
from tmstarget.exceptions import InputError
from tmstarget.outcomes.madrs import parse_madrs_table, score_problem
from tmstarget.trial import (
    DEFAULT_SCHEDULE,
    TrialDesign,
    Visit,
    VisitSchedule,
    assign_visits,
    parse_visit,
    sample_size,
    simulate_trial,
    trajectory,
    validate_trial_table,
)
from tmstarget.trial.io import read_trial_table, write_table


def _run(capsys, argv: list[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    "options",
    [
        [],
        ["--days"],
        ["--days", "--dropout", "0.3"],
        ["--days", "--dropout", "0.3", "--incomplete", "0.3"],
        ["--dropout", "0.4"],
    ],
    ids=lambda o: " ".join(o) or "plain",
)
@pytest.mark.parametrize("seed", [0, 1])
def test_the_tools_own_simulated_trials_analyse(options, seed, tmp_path, capsys):
    table = tmp_path / "t.tsv"
    assert (
        _run(capsys, ["trial", "simulate", str(table), "--seed", str(seed), *options, "--quiet"])[0]
        == 0
    )
    code, out, err = _run(
        capsys, ["trial", "analyze", str(table), "--imputations", "3", "--json", "--quiet"]
    )
    assert code == 0, err
    assert err == ""  # no statsmodels warnings leak
    result = json.loads(out)
    assert result["mixed_model"] is not None and result["endpoint"] == "month1"


def test_simulated_trial_with_days_matches_an_ancova_by_hand(tmp_path, capsys):
    path = tmp_path / "t.tsv"
    assert _run(capsys, ["trial", "simulate", str(path), "--days", "--quiet"])[0] == 0
    code, out, err = _run(
        capsys, ["trial", "analyze", str(path), "--imputations", "0", "--json", "--quiet"]
    )
    assert code == 0, err
    result = json.loads(out)
    raw = pd.read_csv(path, sep="\t")
    offset = raw["day"] - raw["last_session_day"]
    month1 = raw[
        (raw["timepoint"] == "month1") & offset.between(25, 31) & raw["madrs_total"].notna()
    ].set_index("participant_id")
    base = (
        raw[raw["timepoint"] == "baseline"]
        .set_index("participant_id")["madrs_total"]
        .reindex(month1.index)
    )
    x = np.column_stack(
        [
            np.ones(len(month1)),
            (month1["arm"] == "connectivity").astype(float),
            base - base.mean(),
            (month1["stratum"] == "severity=severe").astype(float),
        ]
    )
    beta = np.linalg.lstsq(x, (base - month1["madrs_total"]).to_numpy(float), rcond=None)[0]
    assert result["ancova"]["n_participants"] == len(month1) == 34
    assert result["ancova"]["estimate"] == pytest.approx(beta[1], rel=1e-10)
    assert result["ancova"]["estimate"] == pytest.approx(5.423, abs=1e-3)


def test_a_wide_month1_window_never_takes_week1_assessments(tmp_path, capsys):
    dated = simulate_trial(TrialDesign(record_days=True, day_sd=2.5), seed=0)
    path = tmp_path / "t.tsv"
    write_table(dated, path)
    # The command: month1 28 +/- 25 would have turned week-1 scores into month-1 endpoints.
    code, _, err = _run(
        capsys, ["trial", "analyze", str(path), "--imputations", "0", "--visit", "month1:28:25"]
    )
    assert (
        code == 2
        and "month1's window (3 to 53 days after the last session) reaches week1's target day 7"
        in err
    )
    code, _, err = _run(
        capsys,
        [
            "trial",
            "analyze",
            str(path),
            "--imputations",
            "0",
            "--visit",
            "week1:7:2",
            "--visit",
            "month1:28:25",
        ],
    )
    assert (
        code == 2
        and "week1" in err
        and "month1" in err
        and "the defaults are --visit week1:7:2 --visit month1:28:3" in err
    )
    # The widest month1 window that stays clear of week1 counts month1-labelled assessments only.
    code, out, err = _run(
        capsys,
        [
            "trial",
            "analyze",
            str(path),
            "--imputations",
            "0",
            "--json",
            "--quiet",
            "--visit",
            "week1:7:2",
            "--visit",
            "month1:28:18",
        ],
    )
    assert code == 0, err
    offset = dated["day"].astype(float) - dated["last_session_day"]
    labelled = (
        (dated["timepoint"] == "month1") & offset.between(10, 46) & dated["madrs_total"].notna()
    )
    assert json.loads(out)["ancova"]["n_participants"] == int(labelled.sum())


def test_assessments_keep_their_visit_label():
    rows = pd.DataFrame(
        [
            ("a", "baseline", -3, 4),
            ("a", "week1", 30, 4),
            ("b", "baseline", -3, 4),
            ("b", "followup", 30, 4),
            ("c", "baseline", -3, 4),
            ("c", "month1", 12, 4),
        ],
        columns=["participant_id", "timepoint", "day", "last_session_day"],
    ).astype({"day": float, "last_session_day": float})
    out = assign_visits(rows, DEFAULT_SCHEDULE, "baseline").set_index(
        ["participant_id", "timepoint"]
    )
    assert (
        out.loc[("a", "week1"), "visit_status"] == "out_of_window"
    )  # day 26 after the last session, but labelled week1
    assert out.loc[("b", "followup"), ["visit", "visit_status"]].tolist() == [
        "month1",
        "in_window",
    ]  # no visit label: by window
    assert (
        out.loc[("c", "month1"), "visit_status"] == "out_of_window"
    )  # in week1's window, but labelled month1
    with pytest.raises(InputError, match="has no week1 visit — add --visit week1:7:2"):
        assign_visits(rows, VisitSchedule((parse_visit("month1:28:3"),)), "baseline")


def test_the_default_schedule_passes_its_own_check():
    visits = DEFAULT_SCHEDULE.visits
    assert VisitSchedule(tuple(reversed(visits))).visits == visits
    for a, b in zip(visits, visits[1:]):
        assert a.high < b.low and a.high < b.target_day and b.low > a.target_day
    assert [v.spec() for v in visits] == [
        "end_of_treatment:0:0:3",
        "week1:7:2",
        "month1:28:3",
        "month3:84:7",
    ]
    with pytest.raises(
        InputError, match="end_of_treatment's window .* reaches week1's target day 7"
    ):
        VisitSchedule((Visit("end_of_treatment", 0, 0, 7), Visit("week1", 7, 2, 2)))
    with pytest.raises(InputError, match="non-negative"):
        VisitSchedule((Visit("week1", 7, -1, 2),))


def test_madrs_scores_follow_one_rule_in_both_readers():
    assert [score_problem(v) for v in ("23", "23.0", "23.5", "-1", "61", "inf", "1_0", "x")] == [
        None,
        None,
        "is not a whole number",
        "is outside 0-60",
        "is outside 0-60",
        "is not a number",
        "is not a number",
        "is not a number",
    ]
    assert score_problem("7", 6) == "is outside 0-6"
    with pytest.raises(InputError, match="total = 23.5 is not a whole number"):
        parse_madrs_table("participant\ttimepoint\ttotal\n01\tbaseline\t30\n01\tmonth1\t23.5\n")
    table = simulate_trial(seed=0)
    table = table.assign(
        madrs_total=table["madrs_total"].astype(str).where(table.index != 2, "23.5")
    )
    with pytest.raises(
        InputError, match=r"madrs_total '23.5' at sub-02/month1 is not a whole number"
    ):
        validate_trial_table(table)
    wide = validate_trial_table(
        table.assign(madrs_total=table["madrs_total"].replace("23.5", "23.0"))
    ).wide()
    assert wide.loc["sub-02", "month1"] == 23.0


def test_allocation_record_matches_participants_by_label(tmp_path, capsys):
    table = simulate_trial(seed=0)
    plain = table.assign(participant_id=table["participant_id"].str.removeprefix("sub-"))
    write_table(plain, tmp_path / "t.tsv")
    record = table.drop_duplicates("participant_id")[["participant_id", "arm"]]
    record = pd.concat([record, pd.DataFrame({"participant_id": ["sub-99"], "arm": ["scalp"]})])
    write_table(record, tmp_path / "alloc.tsv")
    code, out, err = _run(
        capsys,
        [
            "trial",
            "analyze",
            str(tmp_path / "t.tsv"),
            "--allocation",
            str(tmp_path / "alloc.tsv"),
            "--imputations",
            "0",
            "--json",
            "--quiet",
        ],
    )
    assert code == 0, err
    flow = json.loads(out)["flow"]
    assert flow["randomized_without_data"] == {"n": 1, "participants": ["sub-99"]}


def test_a_visit_scored_in_one_arm_is_named():
    table = simulate_trial(seed=0)
    trial = validate_trial_table(pd.concat([table, table.iloc[[1]].assign(timepoint="week2")]))
    with pytest.raises(
        InputError,
        match="visit 'week2' has 1 assessment.s. in arm connectivity "
        ".labelled so. and none in arm scalp",
    ):
        trajectory(trial)


def test_imputation_failure_is_a_note_not_a_traceback(tmp_path, capsys):
    path = tmp_path / "t.tsv"
    assert (
        _run(
            capsys,
            [
                "trial",
                "simulate",
                str(path),
                "--participants",
                "8",
                "--days",
                "--dropout",
                "0.3",
                "--incomplete",
                "0.3",
                "--seed",
                "2",
                "--quiet",
            ],
        )[0]
        == 0
    )
    code, out, err = _run(
        capsys, ["trial", "analyze", str(path), "--imputations", "2", "--json", "--quiet"]
    )
    assert code == 0, err
    result = json.loads(out)
    assert result["imputation"] is None and any(
        n.startswith("multiple imputation not run") for n in result["notes"]
    )


def test_sample_size_edges():
    assert (sample_size(0.5).n_experimental, sample_size(0.5).n_control) == (
        64,
        64,
    )  # the textbook 64 per arm
    tiny = sample_size(5.0, 0.99, baseline_correlation=0.95)
    assert tiny.n_total == 4 and tiny.power > 0.99
    with pytest.raises(InputError, match="not above alpha"):
        sample_size(0.5, 0.03)


def test_per_protocol_numbers_are_checked_against_the_table(tmp_path):
    table = simulate_trial(TrialDesign(record_days=True, incomplete=0.2), seed=1)
    write_table(table, tmp_path / "t.tsv")
    trial = validate_trial_table(read_trial_table(tmp_path / "t.tsv"))
    from tmstarget.trial import analysis_sets

    sets = analysis_sets(trial, "month1", min_sessions=50, planned_sessions=50)
    received = table.groupby("participant_id")["sessions_received"].first()
    assert set(received.index[received < 50]) <= set(sets.excluded)
    with pytest.raises(InputError, match="outside 1-50"):
        analysis_sets(trial, "month1", min_sessions=51)
    with pytest.raises(InputError, match="more than the 45 planned"):
        analysis_sets(trial, "month1", planned_sessions=45)
