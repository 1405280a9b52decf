"""``tmstarget trial``: the command-line contract.

Checked: JSON on stdout, reports, and one-line errors with exit code 2.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tmstarget.cli.main import main
from tmstarget.trial import (
    make_allocation,
    reduction_effect_sizes,
    reveal_next,
    simulate_trial,
    validate_trial_table,
)
from tmstarget.trial.io import read_trial_table, write_reveals, write_table


@pytest.fixture
def sim(tmp_path: Path) -> Path:
    path = tmp_path / "sim.tsv"
    write_table(simulate_trial(seed=0), path)
    return path


def _run(capsys, argv: list[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_simulate_is_deterministic_and_json_is_one_object(tmp_path, capsys):
    code, out, _ = _run(
        capsys, ["trial", "simulate", str(tmp_path / "a.tsv"), "--seed", "3", "--json"]
    )
    assert code == 0 and json.loads(out)["participants"] == 40
    _run(capsys, ["trial", "simulate", str(tmp_path / "b.tsv"), "--seed", "3", "--quiet"])
    assert (tmp_path / "a.tsv").read_bytes() == (tmp_path / "b.tsv").read_bytes()


def test_analyze_json_and_report(sim, tmp_path, capsys):
    report = tmp_path / "report.txt"
    code, out, _ = _run(
        capsys, ["trial", "analyze", str(sim), "--json", "--report", str(report), "--quiet"]
    )
    assert code == 0
    result = json.loads(out)  # the whole of stdout is one JSON object
    assert (result["experimental"], result["control"], result["timepoint"]) == (
        "connectivity",
        "scalp",
        "month1",
    )
    expected_d, _ = reduction_effect_sizes(validate_trial_table(read_trial_table(sim)), "month1")
    assert result["cohens_d"]["estimate"] == pytest.approx(expected_d.estimate)
    assert (
        result["flow"]["connectivity"]["randomized"] + result["flow"]["scalp"]["randomized"] == 40
    )
    assert {b["source"] for b in result["blinding"]} == {"guess_participant", "guess_rater"}
    for key in ("ancova", "mixed_model", "hedges_g", "response", "remission"):
        assert set(result[key]) >= {"ci_low", "ci_high"} or set(result[key]) >= {
            "rd_ci_low",
            "rd_ci_high",
        }
    text = report.read_text()
    assert "Participant flow (CONSORT)" in text and "ANCOVA" in text and "James index" in text


def test_analyze_prints_consort_summary(sim, tmp_path, capsys):
    code, out, _ = _run(
        capsys,
        [
            "trial",
            "analyze",
            str(sim),
            "--timepoint",
            "week1",
            "--report",
            str(tmp_path / "r.json"),
        ],
    )
    assert code == 0
    assert "Randomised" in out and "endpoint = week1 (named visit)" in out and "Bang index" in out
    assert json.loads((tmp_path / "r.json").read_text())["timepoint"] == "week1"


def test_randomize_reveal_and_allocation_check(tmp_path, capsys):
    concealed, key = tmp_path / "alloc.tsv", tmp_path / "key.json"
    code, out, _ = _run(
        capsys,
        [
            "trial",
            "randomize",
            str(concealed),
            "--key",
            str(key),
            "--per-stratum",
            "12",
            "--factor",
            "severity=moderate,severe",
            "--seed",
            "7",
            "--json",
        ],
    )
    assert code == 0
    made = json.loads(out)
    assert made["strata"] == ["severity=moderate", "severity=severe"] and made["entries"] >= 24
    code, out, _ = _run(
        capsys,
        [
            "trial",
            "reveal",
            str(concealed),
            "--key",
            str(key),
            "--participant",
            "sub-01",
            "--stratum",
            "severity=severe",
            "--expect-head",
            made["chain_head"],
            "--json",
        ],
    )
    assert code == 0
    first = json.loads(out)
    assert first["arm"] in {"connectivity", "scalp"} and first["position"] == 1
    code, out, _ = _run(
        capsys,
        [
            "trial",
            "reveal",
            str(concealed),
            "--key",
            str(key),
            "--participant",
            "sub-02",
            "--stratum",
            "severity=severe",
        ],
    )
    assert code == 0 and out.startswith("sub-02: ") and "slot 2" in out
    log = pd.read_csv(tmp_path / "alloc_reveals.tsv", sep="\t", dtype=str)
    assert list(log["participant_id"]) == ["sub-01", "sub-02"]


def test_power_command(capsys):
    code, out, _ = _run(
        capsys, ["trial", "power", "--effect-size", "0.8", "--participants", "40", "--json"]
    )
    assert code == 0 and json.loads(out)["power"] == pytest.approx(0.6934, abs=1e-4)
    code, out, _ = _run(capsys, ["trial", "power", "--effect-size", "0.8", "--power", "0.8"])
    assert code == 0 and "26 + 26 = 52" in out


def _allocated_table(tmp_path: Path, drop: str | None = None) -> tuple[Path, Path]:
    """Write a simulated table whose arms follow a real reveal log, and the log.

    With ``drop``, that participant's record is left out of the log.
    """
    table = simulate_trial(seed=0)
    alloc = make_allocation(["all"], 40, seed=1)
    concealed, reveals = alloc.concealed_rows(), []
    for pid in sorted(table["participant_id"].unique()):
        reveals.append(reveal_next(alloc, concealed, reveals, pid, "all"))
    arms = {r.participant_id: r.arm for r in reveals}
    table["arm"] = table["participant_id"].map(arms)
    write_table(table.sort_values(["arm", "participant_id"], kind="stable"), tmp_path / "data.tsv")
    write_reveals([r for r in reveals if r.participant_id != drop], tmp_path / "log.tsv")
    return tmp_path / "data.tsv", tmp_path / "log.tsv"


def test_analyze_accepts_a_matching_allocation_record(tmp_path, capsys):
    data, log = _allocated_table(tmp_path)
    table = read_trial_table(data)
    write_table(table[table["participant_id"] != "sub-03"], data)  # randomized, then no data at all
    code, out, _ = _run(capsys, ["trial", "analyze", str(data), "--allocation", str(log), "--json"])
    assert code == 0
    flow = json.loads(out)["flow"]
    assert flow["randomized_without_data"] == {"n": 1, "participants": ["sub-03"]}
    assert flow["connectivity"]["randomized"] + flow["scalp"]["randomized"] == 39
    code, out, _ = _run(capsys, ["trial", "analyze", str(data), "--allocation", str(log)])
    assert "Randomised but absent from the table: 1 (sub-03)" in out


def test_allocation_record_errors(tmp_path, capsys):
    data, log = _allocated_table(tmp_path)
    record = read_trial_table(data).drop_duplicates("participant_id")[["participant_id", "arm"]]
    flipped = record.assign(arm=record["arm"].where(record["participant_id"] != "sub-04", "other"))
    write_table(flipped, tmp_path / "flipped.tsv")
    _assert_one_line_error(
        capsys,
        ["trial", "analyze", str(data), "--allocation", str(tmp_path / "flipped.tsv")],
        "participant sub-04 is in arm",
    )
    write_table(pd.concat([record, record.iloc[[0]]]), tmp_path / "twice.tsv")
    _assert_one_line_error(
        capsys,
        ["trial", "analyze", str(data), "--allocation", str(tmp_path / "twice.tsv")],
        "listed more than once",
    )


def _edit(sim: Path, how) -> Path:
    table = read_trial_table(sim)
    edited = how(table)
    write_table(edited, sim)
    return sim


BAD_TABLES = {
    "missing arm": (lambda t: t[t["arm"] == "connectivity"], "found 1 arm(s)"),
    "duplicate timepoint": (
        lambda t: pd.concat([t, t.iloc[[1]]]),
        "duplicate timepoints for sub-02/week1",
    ),
    "missing baseline": (
        lambda t: t.drop(
            index=t.index[(t["participant_id"] == "sub-05") & (t["timepoint"] == "baseline")]
        ),
        "missing baseline MADRS for sub-05",
    ),
    "non-numeric score": (
        lambda t: t.assign(madrs_total=t["madrs_total"].where(t.index != 4, "twelve")),
        "not a number",
    ),
    "missing column": (lambda t: t.drop(columns=["timepoint"]), "lacks column(s) timepoint"),
    "bad guess": (
        lambda t: t.assign(guess_rater=t["guess_rater"].where(t.index != 2, "sham")),
        "guess_rater has 'sham'",
    ),
    "score out of range": (
        lambda t: t.assign(madrs_total=t["madrs_total"].where(t.index != 0, "75")),
        "outside 0-60",
    ),
    "two arms for one participant": (
        lambda t: t.assign(arm=t["arm"].where(t.index != 1, "scalp")),
        "more than one arm",
    ),
}


def _assert_one_line_error(capsys, argv: list[str], fragment: str) -> None:
    code, out, err = _run(capsys, [*argv, "--quiet"])
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert (
        lines[0].startswith(f"tmstarget {' '.join(argv[:2])}: error: ")
        and fragment in lines[0]
        and " — " in lines[0]
    )


@pytest.mark.parametrize("case", sorted(BAD_TABLES))
def test_bad_tables_are_one_line_errors_and_write_nothing(case, sim, tmp_path, capsys):
    how, fragment = BAD_TABLES[case]
    report = tmp_path / "report.txt"
    _assert_one_line_error(
        capsys, ["trial", "analyze", str(_edit(sim, how)), "--report", str(report)], fragment
    )
    assert not report.exists()


def test_unknown_participant_is_an_error(tmp_path, capsys):
    data, log = _allocated_table(tmp_path, drop="sub-07")
    _assert_one_line_error(
        capsys,
        ["trial", "analyze", str(data), "--allocation", str(log)],
        "unknown participant(s) sub-07",
    )


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--timepoint", "month3"], "endpoint visit 'month3' is not a follow-up"),
        (["--experimental", "sham"], "experimental arm 'sham'"),
        (["--baseline", "screening"], "no 'screening' timepoint"),
        (["--confidence", "5"], "confidence level"),
    ],
)
def test_bad_analysis_options(argv, fragment, sim, capsys):
    _assert_one_line_error(capsys, ["trial", "analyze", str(sim), *argv], fragment)


def test_missing_file_and_bad_power_request(tmp_path, capsys):
    _assert_one_line_error(capsys, ["trial", "analyze", str(tmp_path / "nope.tsv")], "not found")
    _assert_one_line_error(
        capsys,
        ["trial", "power", "--effect-size", "0.8"],
        "neither or both of --participants and --power",
    )
    _assert_one_line_error(
        capsys, ["trial", "power", "--effect-size", "0.8", "--participants", "3"], "at least 4"
    )


def test_allocation_errors(tmp_path, capsys):
    concealed, key = tmp_path / "alloc.tsv", tmp_path / "key.json"
    base = [
        "trial",
        "randomize",
        str(concealed),
        "--key",
        str(key),
        "--per-stratum",
        "4",
        "--seed",
        "1",
    ]
    _assert_one_line_error(capsys, [*base, "--factor", "severity"], "--factor 'severity'")
    assert _run(capsys, [*base, "--quiet"])[0] == 0
    _assert_one_line_error(capsys, base, "already exist")
    reveal = ["trial", "reveal", str(concealed), "--key", str(key)]
    assert _run(capsys, [*reveal, "--participant", "p1", "--quiet"])[0] == 0
    _assert_one_line_error(capsys, [*reveal, "--participant", "p1"], "already randomized")
    _assert_one_line_error(
        capsys, [*reveal, "--participant", "p2", "--expect-head", "0" * 64], "--expect-head"
    )
    keyed = json.loads(key.read_text())
    keyed["entries"][3]["arm"] = (
        "scalp" if keyed["entries"][3]["arm"] == "connectivity" else "connectivity"
    )
    key.write_text(json.dumps(keyed))
    _assert_one_line_error(capsys, [*reveal, "--participant", "p2"], "key was altered")


def test_one_command_gives_itt_pp_imputed_and_per_visit_results(tmp_path, capsys):
    """A simulated trial with dropouts, early stops and out-of-window visits.

    Its results are checked by independent computations.
    """
    import numpy as np
    import statsmodels.api as sm
    from statsmodels.imputation.mice import MICE, MICEData
    from statsmodels.regression.mixed_linear_model import MixedLM

    data, plot, listing = tmp_path / "dated.tsv", tmp_path / "change.svg", tmp_path / "visits.tsv"
    argv = [
        "trial",
        "simulate",
        str(data),
        "--days",
        "--dropout",
        "0.2",
        "--incomplete",
        "0.15",
        "--seed",
        "1",
        "--quiet",
    ]
    assert _run(capsys, argv)[0] == 0
    code, out, _ = _run(
        capsys,
        [
            "trial",
            "analyze",
            str(data),
            "--json",
            "--imputations",
            "5",
            "--seed",
            "3",
            "--plot",
            str(plot),
            "--visit-table",
            str(listing),
            "--quiet",
        ],
    )
    assert code == 0
    r = json.loads(out)
    assert r["endpoint"] == "month1" and "<svg" in plot.read_text()

    # Windows by hand: month1 = 25..31 days after the last session.
    raw = pd.read_csv(data, sep="\t")
    offset = raw["day"] - raw["last_session_day"]
    window = {"week1": (5, 9), "month1": (25, 31)}
    inside = pd.Series(False, index=raw.index)
    for visit, (lo, hi) in window.items():
        inside |= (raw["timepoint"] == visit) & offset.between(lo, hi) & raw["madrs_total"].notna()
    out_of_window = (raw["timepoint"] != "baseline") & raw["madrs_total"].notna() & ~inside
    assert (
        out_of_window.sum() > 0
        and r["visits"]["status_counts"]["out_of_window"] == out_of_window.sum()
    )
    assert (
        pd.read_csv(listing, sep="\t")["visit_status"] == "out_of_window"
    ).sum() == out_of_window.sum()
    base = raw[raw["timepoint"] == "baseline"].set_index("participant_id")
    m1 = (
        raw[inside & (raw["timepoint"] == "month1")]
        .set_index("participant_id")["madrs_total"]
        .reindex(base.index)
    )
    reduction = base["madrs_total"] - m1
    response = reduction >= 0.5 * base["madrs_total"]
    exp = base["arm"] == "connectivity"

    # ITT: everyone, not assessed in window = non-responder; complete cases: assessed only.
    itt, cc = r["itt"]["response"], r["response"]
    assert (itt["events_experimental"], itt["n_experimental"]) == (
        int(response[exp].sum()),
        int(exp.sum()),
    )
    assert (itt["events_control"], itt["n_control"]) == (
        int(response[~exp].sum()),
        int((~exp).sum()),
    )
    assert (cc["n_experimental"], cc["n_control"]) == (
        int(m1[exp].notna().sum()),
        int(m1[~exp].notna().sum()),
    )

    # Per protocol: >= 40 of 50 sessions and month1 in window; ANCOVA by least squares.
    pp = (base["sessions_received"] >= 40) & m1.notna()
    assert r["analysis_sets"]["counts"]["per_protocol"] == {
        "connectivity": int((pp & exp).sum()),
        "scalp": int((pp & ~exp).sum()),
    }
    x = np.column_stack(
        [
            np.ones(pp.sum()),
            exp[pp],
            base.loc[pp, "madrs_total"],
            base.loc[pp, "stratum"] == "severity=severe",
        ]
    ).astype(float)
    beta, *_ = np.linalg.lstsq(x, reduction[pp].to_numpy(float), rcond=None)
    assert r["per_protocol"]["ancova"]["estimate"] == pytest.approx(beta[1], rel=1e-9)

    # CONSORT counts add up per arm.
    for arm in ("connectivity", "scalp"):
        f = r["flow"][arm]
        assert f["randomized"] == f["analysed_itt"] == f["analyzed"] + f["lost_to_follow_up"]
    assert sum(r["analysis_sets"]["counts"]["itt"].values()) == 40
    assert len(r["analysis_sets"]["excluded_per_protocol"]) == 40 - int(pp.sum())

    # Multiple imputation: statsmodels' own MICE pooling on the same wide table and seed.
    wide = pd.DataFrame({"v0": base["madrs_total"].astype(float)})
    for i, visit in enumerate(("week1", "month1"), start=1):
        wide[f"v{i}"] = (
            raw[inside & (raw["timepoint"] == visit)]
            .set_index("participant_id")["madrs_total"]
            .reindex(base.index)
        )
    wide = (
        wide.assign(arm=exp.astype(float), s0=(base["stratum"] == "severity=severe").astype(float))
        .sort_index()
        .reset_index(drop=True)
    )
    ref = MICE(
        "I(v0 - v2) ~ arm + v0 + s0", sm.OLS, MICEData(wide, k_pmm=5, rng=np.random.default_rng(3))
    ).fit(10, 5)
    k = ref.model.exog_names.index("arm")
    assert r["imputation"]["estimate"]["estimate"] == pytest.approx(ref.params[k], rel=1e-10)
    assert r["imputation"]["estimate"]["se"] == pytest.approx(ref.bse[k], rel=1e-10)

    # Per-visit effects: statsmodels MixedLM on the in-window rows (random intercept + slope on
    # months since baseline).
    rows = raw[inside | (raw["timepoint"] == "baseline")].sort_values(["participant_id", "day"])
    t = (rows["day"] - rows["participant_id"].map(base["day"])) / 28.0
    a = (rows["arm"] == "connectivity").astype(float)
    design = pd.DataFrame({"const": 1.0, "arm": a}, index=rows.index)
    for visit in ("week1", "month1"):
        design[visit] = (rows["timepoint"] == visit).astype(float)
        design["x" + visit] = a * design[visit]
    design["severe"] = (rows["stratum"] == "severity=severe").astype(float)
    traj = r["trajectory"]
    z = (
        np.column_stack([np.ones(len(rows)), t])
        if traj["random_effects"] == "intercept + slope"
        else None
    )
    fit = MixedLM(
        rows["madrs_total"].to_numpy(float), design, groups=rows["participant_id"], exog_re=z
    ).fit(reml=True, method=["lbfgs", "bfgs", "powell"])
    for effect in traj["effects"]:
        name = "x" + effect["visit"]
        assert effect["effect"]["estimate"] == pytest.approx(-fit.fe_params[name], abs=1e-3)
        assert effect["effect"]["se"] == pytest.approx(fit.bse_fe[name], rel=2e-2)
        assert 0 < effect["effect"]["df"] < 80


@pytest.mark.parametrize(
    ("edit", "fragment"),
    [
        (lambda t: t.drop(columns=["last_session_day"]), "no 'last_session_day'"),
        (lambda t: t.assign(day=t["day"].where(t.index != 4, "soon")), "day is not valid at"),
        (
            lambda t: t.assign(last_session_day=t["last_session_day"].where(t.index != 1, "9")),
            "more than one last_session_day",
        ),
    ],
)
def test_bad_dated_tables_are_one_line_errors(edit, fragment, tmp_path, capsys):
    from tmstarget.trial import TrialDesign

    path = tmp_path / "dated.tsv"
    write_table(simulate_trial(TrialDesign(record_days=True), seed=0), path)
    table = read_trial_table(path)
    write_table(edit(table), path)
    plot = tmp_path / "change.svg"
    _assert_one_line_error(capsys, ["trial", "analyze", str(path), "--plot", str(plot)], fragment)
    assert not plot.exists()


def test_analysis_with_imputation_is_identical_for_the_same_seed(tmp_path, capsys):
    data = tmp_path / "dated.tsv"
    assert (
        _run(
            capsys,
            [
                "trial",
                "simulate",
                str(data),
                "--days",
                "--dropout",
                "0.3",
                "--seed",
                "4",
                "--quiet",
            ],
        )[0]
        == 0
    )
    argv = ["trial", "analyze", str(data), "--json", "--imputations", "3", "--quiet"]
    first, second = (_run(capsys, [*argv, "--seed", "9"])[1] for _ in range(2))
    assert first == second
    other = json.loads(_run(capsys, [*argv, "--seed", "10"])[1])
    assert (
        other["imputation"]["estimate"]["estimate"]
        != json.loads(first)["imputation"]["estimate"]["estimate"]
    )
