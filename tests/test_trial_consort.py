"""CONSORT counts and diagram, Table 1, and the trial section of the cohort report."""

from __future__ import annotations

import json

import pytest

from tmstarget.trial import TrialDesign, analysis_sets, simulate_trial, validate_trial_table
from tmstarget.trial.consort import baseline_table, consort_counts, consort_figure


@pytest.fixture(scope="module")
def dated():
    table = simulate_trial(
        TrialDesign(record_days=True, dropout=0.2, incomplete=0.15, day_sd=2.5), seed=1
    )
    return table, validate_trial_table(table)


def test_consort_counts_add_up_and_match_the_table(dated):
    table, trial = dated
    counts = consort_counts(
        trial, analysis_sets(trial, "month1"), "month1", not_assessed=["sub-99"], screened=55
    )
    assert (counts["assessed_for_eligibility"], counts["randomized"], counts["excluded"]) == (
        55,
        41,
        14,
    )
    base = table[table["timepoint"] == "baseline"].set_index("participant_id")
    m1 = table[table["timepoint"] == "month1"].set_index("participant_id")
    in_window = (m1["day"] - m1["last_session_day"]).between(25, 31) & m1["madrs_total"].notna()
    late = m1["madrs_total"].notna() & ~in_window
    for arm, c in counts["arms"].items():
        ids = base.index[base["arm"] == arm]
        assert c["allocated"] == len(ids) == c["analysed_itt"]
        assert c["assessed_at_endpoint"] == int(in_window[ids].sum())
        assert (
            c["lost_to_follow_up"]
            == c["missed"] + c["out_of_window"]
            == len(ids) - c["assessed_at_endpoint"]
        )
        assert c["out_of_window"] == int(late[ids].sum())
        assert c["discontinued_intervention"] == int(
            (base.loc[ids, "sessions_received"] < 50).sum()
        )
        assert c["analysed_per_protocol"] + c["excluded_per_protocol"] == c["allocated"]
    assert (
        sum(c["allocated"] for c in counts["arms"].values()) + counts["randomized_without_data"]
        == counts["randomized"]
    )


def test_consort_figure_is_deterministic_and_shows_the_counts(dated):
    _, trial = dated
    counts = consort_counts(trial, analysis_sets(trial, "month1"), "month1")
    svg = consort_figure(counts, "svg")
    assert svg == consort_figure(counts, "svg")
    arm = counts["arms"]["connectivity"]
    assert (
        f"Allocated to connectivity (n = {arm['allocated']})" in svg
        and "Assessed for eligibility (n = ?)" in svg
    )
    assert consort_figure(counts, "png")[:8] == b"\x89PNG\r\n\x1a\n"


def test_table1_by_hand(dated):
    table, trial = dated
    rows = {r["characteristic"]: r for r in baseline_table(trial)}
    base = table[table["timepoint"] == "baseline"].set_index("participant_id")
    scalp = base[base["arm"] == "scalp"]
    assert rows["participants"]["scalp"] == str(len(scalp))
    m = scalp["madrs_total"].astype(float)
    assert rows["baseline MADRS, mean (SD)"]["scalp"] == f"{m.mean():.1f} ({m.std(ddof=1):.1f})"
    severe = int((scalp["stratum"] == "severity=severe").sum())
    assert (
        rows["stratum: severity=severe, n (%)"]["scalp"]
        == f"{severe} ({100 * severe / len(scalp):.0f}%)"
    )


def test_cohort_report_shows_the_trial_section(dated, tmp_path, capsys):
    from tmstarget.cli.main import main
    from tmstarget.trial.io import write_table

    out = tmp_path / "derivatives"
    for i, xyz in enumerate(([-40.0, 42.0, 30.0], [-38.0, 44.0, 32.0]), start=1):
        folder = out / f"sub-0{i}"
        folder.mkdir(parents=True)
        target = {
            "participant": f"0{i}",
            "session": None,
            "circuit": "sgacc",
            "method": "similarity",
            "target_mni": xyz,
            "score": 0.4,
        }
        (folder / f"sub-0{i}_desc-sgacc_target.json").write_text(json.dumps(target))
    data, analysis = tmp_path / "trial.tsv", tmp_path / "analysis.json"
    write_table(dated[0], data)
    assert (
        main(
            [
                "trial",
                "analyze",
                str(data),
                "--imputations",
                "0",
                "--report",
                str(analysis),
                "--quiet",
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["report", str(out), "group", "--trial-json", str(analysis), "--quiet"]) == 0
    html = (out / "desc-cohort_report.html").read_text()
    section = html.split('id="trial"')[1].split("</section>")[0]
    assert "Table 1: baseline characteristics" in section and section.count("<img") == 4
    assert "could not be drawn" not in section
    assert (
        main(["report", str(out), "group", "--trial-json", str(tmp_path / "trial.tsv"), "--quiet"])
        == 2
    )
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
