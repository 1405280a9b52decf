"""Primary and secondary analyses against independent computations and published worked examples."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tmstarget.exceptions import InputError
from tmstarget.trial import (
    FitError,
    TrialDesign,
    analyze_trial,
    ancova,
    compare_proportions,
    format_summary,
    mixed_model,
    reduction_effect_sizes,
    response_and_remission,
    simulate_trial,
    validate_trial_table,
)
from tmstarget.trial import lmm as lmm_module


def _trial(seed: int = 5, **design):
    table = simulate_trial(TrialDesign(**design), seed=seed)
    return validate_trial_table(table)


def test_ancova_matches_least_squares_by_hand():
    trial = _trial(5)
    data = trial.reduction("month1")
    arm = (data["arm"] == "connectivity").to_numpy(float)
    strat = (data["stratum"] == "severity=severe").to_numpy(float)
    x = np.column_stack([np.ones(len(data)), arm, data["baseline"].to_numpy(float), strat])
    y = data["reduction"].to_numpy(float)
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ beta
    dof = len(y) - x.shape[1]
    se = math.sqrt(resid @ resid / dof * np.linalg.inv(x.T @ x)[1, 1])
    t = stats.t.ppf(0.975, dof)
    fit = ancova(trial, "month1")
    assert fit.estimate == pytest.approx(beta[1], rel=1e-10)
    assert fit.se == pytest.approx(se, rel=1e-10)
    assert (fit.ci_low, fit.ci_high) == pytest.approx(
        (beta[1] - t * se, beta[1] + t * se), rel=1e-10
    )
    assert fit.p_value == pytest.approx(2 * stats.t.sf(abs(beta[1] / se), dof), rel=1e-8)
    assert fit.n_participants == 40


def test_ancova_arm_effect_is_the_same_for_change_and_follow_up_score():
    trial = _trial(8)
    data = trial.reduction("month1")
    x = np.column_stack(
        [
            np.ones(len(data)),
            (data["arm"] == "connectivity").to_numpy(float),
            data["baseline"],
            (data["stratum"] == "severity=severe").to_numpy(float),
        ]
    )
    beta_score, *_ = np.linalg.lstsq(x, data["score"].to_numpy(float), rcond=None)
    # Follow-up adjusted for baseline: its arm coefficient is minus the reduction's.
    assert ancova(trial, "month1").estimate == pytest.approx(-beta_score[1], rel=1e-10)


def test_mixed_model_on_complete_balanced_data_reduces_to_cell_means():
    table = simulate_trial(seed=3).drop(columns=["stratum"])
    trial = validate_trial_table(table)
    fit = mixed_model(trial, "month1")
    data = trial.reduction("month1")
    means = data.groupby("arm")["reduction"].mean()
    # Saturated means model + compound symmetry + complete data: GLS = difference of mean
    # reductions.
    assert fit.estimate == pytest.approx(means["connectivity"] - means["scalp"], abs=1e-6)
    # ... and Var = 2 sigma_e^2 (1/n1 + 1/n2), sigma_e^2 = subject-by-time residual mean square
    # within arms.
    wide = trial.wide()
    arms = trial.participants()["arm"]
    ss, dof, ns = 0.0, 0, []
    for arm in trial.arms:
        x = wide.loc[arms.index[arms == arm]].to_numpy(float)
        r = x - x.mean(1, keepdims=True) - x.mean(0, keepdims=True) + x.mean()
        ss, dof = ss + (r**2).sum(), dof + (x.shape[0] - 1) * (x.shape[1] - 1)
        ns.append(x.shape[0])
    assert fit.se == pytest.approx(math.sqrt(2 * ss / dof * (1 / ns[0] + 1 / ns[1])), rel=1e-3)
    assert fit.n_observations == 120
    # The contrast is within-participant: its variance is a multiple of sigma_e^2 alone, so
    # Satterthwaite's df is
    # the residual df of the balanced split-plot ANOVA, 2 (n - 1)(T - 1) with n = 20 per arm and T =
    # 3.
    assert fit.df == pytest.approx(2 * 19 * 2, rel=1e-4)
    assert fit.p_value == pytest.approx(
        2 * stats.t.sf(abs(fit.estimate / fit.se), fit.df), rel=1e-6
    )


def test_mixed_model_uses_participants_with_missed_visits():
    trial = _trial(2, dropout=0.25)
    observed = int(trial.frame["madrs_total"].notna().sum())
    fit = mixed_model(trial, "month1")
    assert fit.n_observations == observed < 120
    assert fit.n_participants == 40
    assert ancova(trial, "month1").n_participants == trial.reduction("month1").shape[0] < 40


def test_effect_sizes_are_on_the_reduction_favouring_experimental():
    trial = _trial(4)
    d, g = reduction_effect_sizes(trial, "month1")
    data = trial.reduction("month1")
    a = data.loc[data["arm"] == "connectivity", "reduction"]
    b = data.loc[data["arm"] == "scalp", "reduction"]
    pooled = math.sqrt(((len(a) - 1) * a.var() + (len(b) - 1) * b.var()) / (len(a) + len(b) - 2))
    assert d.estimate == pytest.approx((a.mean() - b.mean()) / pooled)
    assert 0 < g.estimate < d.estimate


# Newcombe RG. Interval estimation for the difference between independent proportions: comparison of
# eleven
# methods. Stat Med 1998;17:873-890, Table II, method 10 (hybrid score).
@pytest.mark.parametrize(
    ("counts", "published"),
    [((56, 70, 48, 80), (0.0524, 0.3339)), ((9, 10, 3, 10), (0.1705, 0.8090))],
)
def test_risk_difference_interval_matches_newcombe_1998(counts, published):
    result = compare_proportions("response", *counts)
    assert result.risk_difference == pytest.approx(counts[0] / counts[1] - counts[2] / counts[3])
    assert (result.rd_ci_low, result.rd_ci_high) == pytest.approx(published, abs=5e-5)


def _wilson(x: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    p = x / n
    centre, half = p + z * z / (2 * n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - half) / (1 + z * z / n), (centre + half) / (1 + z * z / n)


@pytest.mark.parametrize("counts", [(6, 7, 2, 7), (5, 56, 0, 29), (13, 21, 5, 19), (3, 20, 9, 20)])
def test_risk_difference_interval_is_newcombes_wilson_combination(counts):
    x1, n1, x2, n2 = counts
    (l1, u1), (l2, u2), p1, p2 = _wilson(x1, n1), _wilson(x2, n2), x1 / n1, x2 / n2
    result = compare_proportions("remission", *counts)
    assert result.rd_ci_low == pytest.approx(
        p1 - p2 - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), abs=1e-10
    )
    assert result.rd_ci_high == pytest.approx(
        p1 - p2 + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2), abs=1e-10
    )


def test_fisher_exact_matches_the_tea_tasting_example():
    # Fisher (1935) lady tasting tea, 3 of 4 cups right: two-sided P = 0.486 (Agresti, Categorical
    # Data Analysis, §3.5).
    result = compare_proportions("tea", 3, 4, 1, 4)
    assert result.fisher_p == pytest.approx(34 / 70, abs=1e-12)  # (1 + 16 + 16 + 1) / C(8, 4)
    assert result.odds_ratio == pytest.approx(9.0)


def test_nnt_and_its_interval_follow_altman_1998():
    benefit = compare_proportions("response", 13, 21, 5, 19)
    assert benefit.nnt == pytest.approx(1 / benefit.risk_difference)
    assert (benefit.nnt_ci_low, benefit.nnt_ci_high) == pytest.approx(
        (1 / benefit.rd_ci_high, 1 / benefit.rd_ci_low)
    )
    assert (
        not benefit.nnt_ci_includes_infinity
        and benefit.nnt_ci_low < benefit.nnt < benefit.nnt_ci_high
    )
    unclear = compare_proportions("response", 6, 20, 5, 20)
    assert unclear.nnt == pytest.approx(20.0)
    assert (
        unclear.nnt_ci_includes_infinity and unclear.nnt_ci_high < 0 < unclear.nnt_ci_low
    )  # NNTB .. ∞ .. NNTH
    assert math.isinf(compare_proportions("response", 5, 20, 5, 20).nnt)


def test_response_and_remission_counts_by_hand():
    rows = [  # (id, arm, baseline, month1): response = reduction >= 50 %, remission = month1 <= 10
        ("a", "tms", 30, 15),
        ("b", "tms", 30, 16),
        ("c", "tms", 24, 10),
        ("d", "sham", 40, 20),
        ("e", "sham", 22, 12),
        ("f", "sham", 30, 29),
    ]
    table = pd.DataFrame(
        [(p, arm, t, s) for p, arm, b, f in rows for t, s in (("baseline", b), ("month1", f))],
        columns=["participant_id", "arm", "timepoint", "madrs_total"],
    )
    response, remission = response_and_remission(validate_trial_table(table), "month1")
    assert (
        response.events_experimental,
        response.n_experimental,
        response.events_control,
        response.n_control,
    ) == (2, 3, 1, 3)
    assert (remission.events_experimental, remission.events_control) == (1, 0)
    response_40, _ = response_and_remission(
        validate_trial_table(table), "month1", response_fraction=0.4, remission_max=12
    )
    assert response_40.events_control == 2
    with pytest.raises(InputError, match="response fraction"):
        response_and_remission(validate_trial_table(table), "month1", response_fraction=50)


def test_analysis_refuses_unknown_or_baseline_timepoint():
    trial = _trial(1)
    with pytest.raises(InputError, match="not a follow-up"):
        ancova(trial, "month3")
    with pytest.raises(InputError, match="not a follow-up"):
        mixed_model(trial, "baseline")


class _Model:
    """Stands in for a statsmodels model whose fit raises for some optimizers."""

    def __init__(self, failing: set[str]):
        self.failing, self.tried = failing, []

    def fit(self, reml: bool, method: list[str]):
        self.tried.append(method[0])
        if method[0] in self.failing:
            raise np.linalg.LinAlgError("Singular matrix")
        return SimpleNamespace(converged=True, bse=np.array([1.0]))


def test_mixed_model_falls_back_to_other_optimizers():
    model = _Model({"lbfgs"})
    lmm_module._fit_statsmodels(model)
    assert model.tried == ["lbfgs", "bfgs"]
    with pytest.raises(FitError, match="could not be fitted"):
        lmm_module._fit_statsmodels(_Model({"lbfgs", "bfgs", "powell", "nm"}))


def test_small_trial_with_dropout_still_gets_a_mixed_model():
    # Regression: with 12 participants and 30% dropout (seed 1), L-BFGS alone hits a singular
    # matrix.
    from statsmodels.regression.mixed_linear_model import MixedLM

    trial = _trial(1, n_participants=12, dropout=0.3)
    fit = mixed_model(trial, "month1")
    data = trial.frame.dropna(subset=["madrs_total"])
    arm = (data["arm"] == "connectivity").astype(float)
    exog = pd.DataFrame({"const": 1.0, "arm": arm}, index=data.index)
    for t in ("week1", "month1"):
        exog[t] = (data["timepoint"] == t).astype(float)
        exog["x" + t] = arm * exog[t]
    exog["severe"] = (data["stratum"] == "severity=severe").astype(float)
    powell = MixedLM(data["madrs_total"].to_numpy(float), exog, groups=data["participant_id"]).fit(
        reml=True, method=["powell"]
    )
    assert fit.estimate == pytest.approx(-powell.params["xmonth1"], abs=1e-3)


def test_analysis_reports_an_unfittable_mixed_model_instead_of_failing(monkeypatch):
    monkeypatch.setattr(lmm_module, "OPTIMIZERS", ())
    result = analyze_trial(_trial(6))
    assert result.mixed_model is None and "could not be fitted" in result.notes[0]
    assert result.to_dict()["mixed_model"] is None
    assert "not estimable (see notes)" in format_summary(result)
