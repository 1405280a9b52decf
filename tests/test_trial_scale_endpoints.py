"""Other scales as secondary endpoints of ``tmstarget trial analyze --secondary``.

They use the same windows and the same ITT rule.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from tmstarget.cli.main import main
from tmstarget.exceptions import InputError
from tmstarget.outcomes.scales import SCALES, parse_scale_table
from tmstarget.trial import analysis_sets, simulate_trial, validate_trial_table
from tmstarget.trial.io import write_table
from tmstarget.trial.scale_endpoints import scale_endpoint
from tmstarget.trial.simulate import TrialDesign

HAMD_MAX = SCALES["hamd17"].item_max


def _items(total: int, item_max: tuple[int, ...]) -> list[int]:
    """Item scores adding up to ``total`` (filled one point at a time, item by item)."""
    items, i = [0] * len(item_max), 0
    while sum(items) < total:
        if items[i % len(items)] < item_max[i % len(items)]:
            items[i % len(items)] += 1
        i += 1
    return items


def _hamd(table: pd.DataFrame, seed: int = 5) -> pd.DataFrame:
    """HAM-D-17 totals for every scored MADRS row: about 0.7 x MADRS plus noise, on the same day."""
    rng = np.random.default_rng(seed)
    scored = table.loc[pd.to_numeric(table["madrs_total"], errors="coerce").notna()].reset_index(
        drop=True
    )
    total = np.clip(
        np.round(0.7 * scored["madrs_total"].astype(float) + rng.normal(0, 2, len(scored))), 0, 52
    ).astype(int)
    out = (
        scored[["participant_id", "timepoint"]]
        .rename(columns={"participant_id": "participant"})
        .assign(total=total)
    )
    if "day" in scored.columns:
        out["day"] = scored["day"].astype(float)
    return out


def _write_ratings(hamd: pd.DataFrame, path: Path, with_day: bool) -> Path:
    items = pd.DataFrame(
        [_items(t, HAMD_MAX) for t in hamd["total"]], columns=[f"item{i}" for i in range(1, 18)]
    )
    cols = ["participant", "timepoint", *(["day"] if with_day else [])]
    hamd[cols].reset_index(drop=True).join(items).to_csv(path, sep="\t", index=False)
    return path


@pytest.fixture
def dated(tmp_path: Path) -> tuple[Path, pd.DataFrame]:
    table = simulate_trial(
        TrialDesign(record_days=True, dropout=0.2, incomplete=0.15, day_sd=2.5), seed=1
    )
    path = tmp_path / "trial.tsv"
    write_table(table, path)
    return path, table


def _analyze(capsys, argv: list[str]) -> tuple[int, str, str]:
    code = main(["trial", "analyze", *argv, "--imputations", "0", "--no-random-slope", "--quiet"])
    out, err = capsys.readouterr()
    return code, out, err


def test_secondary_hamd_uses_the_primary_windows_and_itt_rule(dated, tmp_path, capsys):
    path, table = dated
    hamd = _hamd(table)
    # One participant's month-1 HAM-D was rated 6 days after their MADRS: its own day puts it out of
    # window.
    last = table.groupby("participant_id")["last_session_day"].first().astype(float)
    offset = hamd["day"] - hamd["participant"].map(last)
    moved = hamd.index[(hamd["timepoint"] == "month1") & offset.between(26, 28)][0]
    hamd.loc[moved, "day"] += 6
    # One participant has no HAM-D at all: still randomized, so a failure in the ITT rates.
    gone = hamd["participant"].iloc[-1]
    hamd = hamd.loc[hamd["participant"] != gone]
    ratings = _write_ratings(hamd, tmp_path / "hamd.tsv", with_day=True)
    code, out, err = _analyze(capsys, [str(path), "--json", "--secondary", f"hamd17={ratings}"])
    assert code == 0, err
    s = json.loads(out)["secondary"]["hamd17"]

    # Independent computation: month1 = 25..31 days after the last session, on each rating's own
    # day.
    arm = table.groupby("participant_id")["arm"].first()
    stratum = table.groupby("participant_id")["stratum"].first()
    base = hamd.loc[hamd["timepoint"] == "baseline"].set_index("participant")["total"]
    inside = (hamd["timepoint"] == "month1") & (
        hamd["day"] - hamd["participant"].map(last)
    ).between(25, 31)
    end = hamd.loc[inside].set_index("participant")["total"]
    assert hamd.loc[moved, "participant"] not in end.index
    data = pd.DataFrame(
        {
            "reduction": base.loc[end.index] - end,
            "baseline": base.loc[end.index],
            "exp": (arm.loc[end.index] == "connectivity").astype(float),
            "stratum": stratum.loc[end.index],
        }
    )
    fit = smf.ols("reduction ~ exp + baseline + C(stratum)", data).fit()
    assert s["ancova"]["estimate"] == pytest.approx(fit.params["exp"], rel=1e-9)
    assert s["ancova"]["se"] == pytest.approx(fit.bse["exp"], rel=1e-9) and s["ancova"][
        "n_participants"
    ] == len(end)

    respond = (base.loc[end.index] - end) >= 0.5 * base.loc[
        end.index
    ]  # HAM-D response: >= 50 % reduction
    remit = end <= 7  # HAM-D remission: total <= 7 (Frank et al. 1991)
    for key, flag in (("itt_response", respond), ("itt_remission", remit)):
        for a, side in (("connectivity", "experimental"), ("scalp", "control")):
            assert s[key][f"events_{side}"] == int(flag[arm.loc[end.index] == a].sum())
            assert s[key][f"n_{side}"] == int(
                (arm == a).sum()
            )  # every randomized participant, rated or not
    assert s["response"]["n_experimental"] + s["response"]["n_control"] == len(end)
    assert s["rules"]["remission"] == "total <= 7" and s["left_out"] >= 1
    assert s["descriptives"]["connectivity"]["baseline"]["n"] == int(
        (arm.loc[base.index] == "connectivity").sum()
    )
    at_end = end[arm.loc[end.index] == "scalp"]  # the month-1 ratings in window, as placed above
    assert s["descriptives"]["scalp"]["month1"]["mean"] == pytest.approx(at_end.mean(), rel=1e-12)
    assert s["descriptives"]["scalp"]["month1"]["sd"] == pytest.approx(at_end.std(), rel=1e-12)


def test_ratings_without_day_take_the_madrs_day_and_the_cgi_rules(dated, tmp_path, capsys):
    path, table = dated
    ratings = _write_ratings(_hamd(table), tmp_path / "hamd.tsv", with_day=False)
    cgi_s, cgi_i = tmp_path / "cgi_s.tsv", tmp_path / "cgi_i.tsv"
    hamd = _hamd(table).drop(columns="day")
    hamd.assign(item1=np.clip(hamd["total"] // 5 + 1, 1, 7)).drop(columns="total").to_csv(
        cgi_s, sep="\t", index=False
    )
    # CGI-I at follow-ups only (it rates change since baseline): 1-2 = much / very much improved.
    follow = hamd.loc[hamd["timepoint"] != "baseline"].assign(
        item1=lambda h: np.clip(h["total"] // 4 - 1, 1, 7)
    )
    follow.drop(columns="total").to_csv(cgi_i, sep="\t", index=False)
    report = tmp_path / "analysis.json"
    code, out, _ = _analyze(
        capsys,
        [
            str(path),
            "--secondary",
            f"hamd17={ratings}",
            "--secondary",
            f"cgi_s={cgi_s}",
            "--secondary",
            f"cgi_i={cgi_i}",
            "--report",
            str(report),
        ],
    )
    assert code == 0 and "ITT, not rated = failure" in out
    assert all(f"Secondary endpoint: {name}" in out for name in ("HAM-D-17", "CGI-S", "CGI-I"))
    # Same days as the MADRS: exactly the MADRS's in-window month-1 participants are analysed.
    trial = validate_trial_table(table)
    at_month1 = trial.wide()["month1"].dropna().index
    s = json.loads(report.read_text())["secondary"]
    assert (
        s["hamd17"]["ancova"]["n_participants"]
        == len(at_month1)
        == s["cgi_s"]["ancova"]["n_participants"]
    )
    assert (
        s["cgi_s"]["response"] is None
        and s["cgi_s"]["itt_response"] is None
        and s["cgi_s"]["rules"]["response"] is None
    )
    # CGI-I: response = rating <= 2 (Guy 1976) among the in-window month-1 ratings; ITT over
    # everyone randomized.
    arm = trial.participants()["arm"]
    rating = (
        follow.loc[follow["timepoint"] == "month1"].set_index("participant")["item1"].loc[at_month1]
    )
    i = s["cgi_i"]
    assert (
        i["ancova"] is None and i["remission"] is None and i["rules"]["response"] == "rating <= 2"
    )
    for a, side in (("connectivity", "experimental"), ("scalp", "control")):
        assert (
            i["response"][f"events_{side}"]
            == i["itt_response"][f"events_{side}"]
            == int((rating[arm.loc[at_month1] == a] <= 2).sum())
        )
        assert i["response"][f"n_{side}"] == int((arm.loc[at_month1] == a).sum()) and i[
            "itt_response"
        ][f"n_{side}"] == int((arm == a).sum())
    assert i["descriptives"]["connectivity"]["month1"]["n"] == int(
        (arm.loc[at_month1] == "connectivity").sum()
    )


def test_library_call_on_an_undated_trial_matches_by_label():
    table = simulate_trial(seed=2)
    trial = validate_trial_table(table)
    hamd = _hamd(table)
    text = "participant\ttimepoint\t" + "\t".join(f"item{i}" for i in range(1, 18)) + "\n"
    text += "".join(
        f"{p}\t{t}\t" + "\t".join(map(str, _items(v, HAMD_MAX))) + "\n"
        for p, t, v in hamd[["participant", "timepoint", "total"]].itertuples(index=False)
    )
    ratings = parse_scale_table(text, "hamd17")
    endpoint = trial.timepoints[-1]
    result = scale_endpoint(
        trial, ratings, SCALES["hamd17"], endpoint, analysis_sets(trial, endpoint).itt
    )
    base = hamd.loc[hamd["timepoint"] == "baseline"].set_index("participant")["total"]
    end = hamd.loc[hamd["timepoint"] == endpoint].set_index("participant")["total"]
    assert result.ancova.n_participants == len(end) and result.left_out == 0
    assert result.response.events_experimental + result.response.events_control == int(
        ((base.loc[end.index] - end) >= 0.5 * base.loc[end.index]).sum()
    )


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("cssrs={r}", "SCALE one of hamd17, qids_sr16, cgi_s, cgi_i"),
        ("hamd17", "give SCALE=PATH"),
        ("hamd17={r} --secondary hamd17={r}", "given twice"),
        ("hamd17={x}", "is not in the trial table"),
        ("qids_sr16={r}", "QIDS-SR-16 has 16 item(s)"),
    ],
)
def test_bad_secondary_options_are_one_line(dated, tmp_path, capsys, spec, fragment):
    path, table = dated
    hamd = _hamd(table)
    good = _write_ratings(hamd, tmp_path / "hamd.tsv", with_day=True)
    stranger = _write_ratings(
        hamd.assign(participant=hamd["participant"].where(hamd.index != 0, "sub-99")),
        tmp_path / "x.tsv",
        with_day=True,
    )
    argv = [str(path), "--secondary", *spec.format(r=good, x=stranger).split()]
    code, out, err = _analyze(capsys, argv)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert err.startswith("tmstarget trial analyze: error:") and fragment in err


def test_a_rated_id_spelled_without_its_leading_zero_names_the_trial_tables_spelling():
    table = simulate_trial(seed=2)
    trial = validate_trial_table(table)
    first = str(table["participant_id"].iloc[0])  # e.g. sub-01
    short = first.removeprefix("sub-").lstrip("0")
    text = (
        "participant\ttimepoint\t"
        + "\t".join(f"item{i}" for i in range(1, 18))
        + "\n"
        + f"{short}\tbaseline\t"
        + "\t".join(["1"] * 17)
        + "\n"
    )
    with pytest.raises(
        InputError,
        match=rf"participant {short} is not in the trial table "
        rf"\(the trial table has {first}: spell the id",
    ):
        scale_endpoint(
            trial,
            parse_scale_table(text, "hamd17"),
            SCALES["hamd17"],
            trial.timepoints[-1],
            analysis_sets(trial, trial.timepoints[-1]).itt,
        )
