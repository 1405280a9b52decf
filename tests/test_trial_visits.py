"""Visit windows from the last treatment session, analysis sets, and multiple imputation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tmstarget.exceptions import InputError
from tmstarget.trial import (
    DEFAULT_SCHEDULE,
    TrialDesign,
    Visit,
    VisitSchedule,
    analysis_sets,
    assign_visits,
    mice_ancova,
    parse_visit,
    rubin_pool,
    simulate_trial,
    validate_trial_table,
)
from tmstarget.trial.impute import imputation_frame


def _assessments(rows):
    return pd.DataFrame(
        rows, columns=["participant_id", "timepoint", "day", "last_session_day"]
    ).astype({"day": float, "last_session_day": float})


def test_month1_window_is_day_28_plus_minus_3_after_the_last_session():
    month1 = DEFAULT_SCHEDULE.get("month1")
    assert (month1.target_day, month1.low, month1.high) == (28, 25, 31)
    rows = [("a", "baseline", -3, 4)] + [(f"p{d}", "x", 4 + d, 4) for d in (24, 25, 31, 32)]
    out = assign_visits(_assessments(rows), DEFAULT_SCHEDULE, "baseline")
    status = dict(
        zip(out["participant_id"] + ":" + out["day"].astype(int).astype(str), out["visit_status"])
    )
    assert status == {
        "a:-3": "baseline",
        "p24:28": "out_of_window",
        "p25:29": "in_window",
        "p31:35": "in_window",
        "p32:36": "out_of_window",
    }
    assert list(out.loc[out["visit_status"] == "in_window", "visit"]) == ["month1", "month1"]


def test_two_assessments_in_one_window_keep_the_closest_to_target():
    rows = [
        ("a", "baseline", 0, 4),
        ("a", "v1", 30, 4),
        ("a", "v2", 33, 4),  # offsets 26 and 29: 29 is closer to 28
        ("b", "baseline", 0, 2),
        ("b", "v1", 29, 2),
        ("b", "v2", 31, 2),
    ]  # offsets 27 and 29: tie -> earlier
    out = assign_visits(_assessments(rows), DEFAULT_SCHEDULE, "baseline").set_index(
        ["participant_id", "timepoint"]
    )
    assert (
        out.loc[("a", "v2"), "visit_status"] == "in_window"
        and out.loc[("a", "v1"), "visit_status"] == "extra"
    )
    assert (
        out.loc[("b", "v1"), "visit_status"] == "in_window"
        and out.loc[("b", "v2"), "visit_status"] == "extra"
    )
    # An unscored row never displaces a scored one in the same window.
    scored = [True, True, False, True, True, True]
    out = assign_visits(
        _assessments(rows), DEFAULT_SCHEDULE, "baseline", has_score=scored
    ).set_index(["participant_id", "timepoint"])
    assert out.loc[("a", "v1"), "visit_status"] == "in_window"


def test_visit_specs_and_overlaps():
    assert parse_visit("month1:28:3") == Visit("month1", 28.0, 3.0, 3.0)
    assert parse_visit("end_of_treatment:0:0:3") == Visit("end_of_treatment", 0.0, 0.0, 3.0)
    with pytest.raises(InputError, match="NAME:DAY:WINDOW"):
        parse_visit("month1=28")
    with pytest.raises(InputError, match="overlap"):
        VisitSchedule((Visit("a", 7, 2, 2), Visit("b", 10, 2, 2)))


def _dated(seed=1, **kw):
    design = TrialDesign(record_days=True, dropout=0.2, incomplete=0.15, day_sd=2.5, **kw)
    return simulate_trial(design, seed=seed)


def test_dated_table_analyses_only_in_window_assessments():
    table = _dated()
    trial = validate_trial_table(table)
    offset = table["day"].astype(float) - table["last_session_day"]
    inside = (
        (table["timepoint"] == "month1") & offset.between(25, 31) & table["madrs_total"].notna()
    )
    by_hand = (
        table.loc[inside].set_index("participant_id")["madrs_total"].astype(float).sort_index()
    )
    assert trial.wide()["month1"].dropna().sort_index().equals(by_hand)
    listing = trial.assessments
    assert (listing["visit_status"] == "out_of_window").sum() > 0
    assert trial.dated and trial.timepoints == ("baseline", "week1", "month1")
    # Blinding guesses made at an out-of-window visit still count.
    guessed = table.loc[table["guess_participant"] != "", "participant_id"].nunique()
    assert (trial.frame["guess_participant"] != "").sum() == guessed


@pytest.mark.parametrize(
    ("edit", "fragment"),
    [
        (lambda t: t.drop(columns=["last_session_day"]), "no 'last_session_day'"),
        (
            lambda t: t.assign(day=t["day"].astype(object).where(t.index != 1, "soon")),
            "day is not valid",
        ),
        (
            lambda t: t.assign(day=t["day"].where(t.index != 2)),
            "no assessment day for the scored follow-up",
        ),
        (
            lambda t: t.assign(
                sessions_received=t["sessions_received"].astype(float).where(t.index != 0, 4.5)
            ),
            "sessions_received is not valid",
        ),
    ],
)
def test_dated_table_errors(edit, fragment):
    with pytest.raises(InputError, match=fragment):
        validate_trial_table(edit(_dated()))


def test_analysis_sets_follow_their_rules():
    table = _dated()
    trial = validate_trial_table(table)
    sets = analysis_sets(trial, "month1")
    sessions = table.groupby("participant_id")["sessions_received"].first()
    assert sets.min_sessions == 40  # 80 % of the 50 planned sessions
    endpoint = trial.wide()["month1"]
    pp = sorted(p for p in sessions.index if sessions[p] >= 40 and endpoint.notna()[p])
    assert list(sets.per_protocol) == pp and len(sets.itt) == 40
    assert set(sets.excluded) == set(sets.itt) - set(pp)
    assert "received >= 40 treatment sessions" in sets.rules["per_protocol"]


def test_rubin_pooling_limits():
    # No between-imputation variance: Barnard-Rubin df reduce to nu_com (nu_com + 1) / (nu_com + 3).
    p = rubin_pool([2.0, 2.0, 2.0], [1.0, 1.0, 1.0], 30)
    assert (p.estimate, p.se, p.fmi) == (2.0, 1.0, 0.0) and p.df == pytest.approx(30 * 31 / 33)
    # Huge complete-data df: Barnard-Rubin df tend to Rubin's (1987) (m - 1) / lambda^2.
    q = rubin_pool([1.0, 2.0, 3.0], [1.0, 1.0, 1.0], 1e12)
    total = 1.0 + (1 + 1 / 3) * 1.0
    lam = (1 + 1 / 3) / total
    assert q.se == pytest.approx(np.sqrt(total)) and q.fmi == pytest.approx(lam)
    assert q.df == pytest.approx(2 / lam**2, rel=1e-6)


def test_mice_pooling_matches_statsmodels_mice_fit_and_is_seeded():
    import statsmodels.api as sm
    from statsmodels.imputation.mice import MICE, MICEData

    trial = validate_trial_table(_dated())
    est, pooled = mice_ancova(trial, "month1", n_imputations=5, seed=7)
    # statsmodels pools with its own code (MICE.combine); same data, seed and sequence of
    # chained-equation cycles.
    data, _ = imputation_frame(trial)
    ref = MICE(
        "I(v0 - v2) ~ arm + v0 + s0", sm.OLS, MICEData(data, k_pmm=5, rng=np.random.default_rng(7))
    ).fit(10, 5)
    arm = ref.model.exog_names.index("arm")
    assert est.estimate == pytest.approx(ref.params[arm], rel=1e-12)
    assert est.se == pytest.approx(ref.bse[arm], rel=1e-12)
    assert pooled.fmi == pytest.approx(ref.frac_miss_info[arm], rel=1e-9)
    assert est.ci_low < est.estimate < est.ci_high and 2 < est.df < 40
    again, _ = mice_ancova(trial, "month1", n_imputations=5, seed=7)
    other, _ = mice_ancova(trial, "month1", n_imputations=5, seed=8)
    assert again == est and other.estimate != est.estimate
