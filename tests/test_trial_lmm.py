"""REML mixed models and Satterthwaite degrees of freedom against published and textbook results."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels

from tmstarget.trial import simulate_trial, trajectory, validate_trial_table
from tmstarget.trial.lmm import FitError, fit_lmm
from tmstarget.trial.longitudinal import _design

# The pig growth data (Lauridsen et al. 1999; R package geepack, "dietox"), as shipped inside
# statsmodels.
DIETOX = Path(statsmodels.__file__).parent / "regression" / "tests" / "results" / "dietox.csv"


@pytest.fixture(scope="module")
def dietox() -> pd.DataFrame:
    return pd.read_csv(DIETOX)


def _dietox_fit(data: pd.DataFrame, slope: bool):
    x = np.column_stack([np.ones(len(data)), data["Time"].to_numpy(float)])
    return fit_lmm(
        data["Weight"].to_numpy(float),
        x,
        data["Pig"].to_numpy(),
        x if slope else None,
        ("Intercept", "Time"),
    )


def test_random_intercept_reproduces_the_statsmodels_documentation_example(dietox):
    # statsmodels documentation, "Linear Mixed Effects Models" (mixed_linear.html) and the
    # mixed_lm_example
    # notebook: smf.mixedlm("Weight ~ Time", data, groups=data["Pig"]).fit() prints
    # Intercept 15.724 (SE 0.788), Time 6.943 (SE 0.033), Group Var 40.394, Scale 11.3669,
    # Log-Likelihood -2404.7753.
    fit = _dietox_fit(dietox, slope=False)
    se = np.sqrt(np.diag(fit.cov_params))
    assert fit.params == pytest.approx([15.724, 6.943], abs=5e-4)
    assert se == pytest.approx([0.788, 0.033], abs=5e-4)
    # The REML surface is flat in the variance: optimizer versions agree to about 1e-3 (ours:
    # 40.3947).
    assert fit.cov_re[0, 0] == pytest.approx(40.394, abs=1e-3)
    assert fit.scale == pytest.approx(11.3669, abs=5e-5)
    assert fit.loglike == pytest.approx(-2404.7753, abs=5e-4)


def test_random_slope_reproduces_the_statsmodels_documentation_example(dietox):
    # Same page, re_formula="~Time": Intercept 15.739 (SE 0.550), Time 6.939 (SE 0.080), Group Var
    # 19.503,
    # Group x Time Cov 0.294, Time Var 0.416, Scale 6.0372, Log-Likelihood -2217.0475.
    fit = _dietox_fit(dietox, slope=True)
    assert fit.params == pytest.approx([15.739, 6.939], abs=5e-4)
    assert np.sqrt(np.diag(fit.cov_params)) == pytest.approx([0.550, 0.080], abs=5e-4)
    assert fit.cov_re == pytest.approx(np.array([[19.503, 0.294], [0.294, 0.416]]), abs=5e-4)
    assert fit.scale == pytest.approx(6.0372, abs=5e-5)
    assert fit.loglike == pytest.approx(-2217.0475, abs=5e-4)
    # The mean slope is estimated from 72 pigs' slopes: its Satterthwaite df is close to 72 - 1.
    assert 69 < fit.contrast({"Time": 1.0}).df < 72


def _split_plot(trial, arm_of):
    """Mean squares of the balanced split-plot ANOVA: subjects within arms (S) and residual (E)."""
    wide = trial.wide()
    ss_s = ss_e = 0.0
    n_per_arm, t = [], wide.shape[1]
    for arm in trial.arms:
        x = wide.loc[arm_of.index[arm_of == arm]].to_numpy(float)
        n_per_arm.append(x.shape[0])
        ss_s += t * ((x.mean(1) - x.mean()) ** 2).sum()
        ss_e += ((x - x.mean(1, keepdims=True) - x.mean(0, keepdims=True) + x.mean()) ** 2).sum()
    df_s = sum(n - 1 for n in n_per_arm)
    df_e = df_s * (t - 1)
    return ss_s / df_s, df_s, ss_e / df_e, df_e, n_per_arm, t


def test_satterthwaite_df_matches_the_split_plot_formula():
    # Textbook check (Satterthwaite 1946, Biometrics Bulletin 2:110-114; the split-plot comparison
    # of whole-plot
    # treatments at one sub-plot level, e.g. Milliken & Johnson, Analysis of Messy Data vol. 1): the
    # arm difference
    # in MADRS *level* at one visit has variance (1/n1 + 1/n2)(MS_S + (T-1) MS_E)/T, a combination
    # of two mean
    # squares, and df = (MS_S + (T-1) MS_E)^2 / (MS_S^2/df_S + ((T-1) MS_E)^2/df_E). REML on
    # balanced complete data
    # with interior variance estimates reproduces the ANOVA estimates, so the two must agree.
    trial = validate_trial_table(simulate_trial(seed=3).drop(columns=["stratum"]))
    data = trial.frame.dropna(subset=["madrs_total"]).reset_index(drop=True)
    exog = _design(trial, data)
    fit = fit_lmm(
        data["madrs_total"].to_numpy(float),
        exog.to_numpy(float),
        data["participant_id"].to_numpy(),
        None,
        tuple(exog.columns),
    )
    ms_s, df_s, ms_e, df_e, (n1, n2), t = _split_plot(trial, trial.participants()["arm"])
    assert ms_s > ms_e  # interior solution: the between-participant variance is positive
    level = fit.contrast({"arm": 1.0, "arm:time[month1]": 1.0})
    wide = trial.wide()
    arms = trial.participants()["arm"]
    means = wide.groupby(arms)["month1"].mean()
    assert level.estimate == pytest.approx(means["connectivity"] - means["scalp"], abs=1e-6)
    combo = ms_s + (t - 1) * ms_e
    assert level.se == pytest.approx(math.sqrt((1 / n1 + 1 / n2) * combo / t), rel=1e-4)
    assert level.df == pytest.approx(
        combo**2 / (ms_s**2 / df_s + ((t - 1) * ms_e) ** 2 / df_e), rel=1e-3
    )
    # A within-participant contrast depends on the residual variance alone: df = df_E exactly.
    assert fit.contrast({"arm:time[month1]": 1.0}).df == pytest.approx(df_e, rel=1e-4)


def test_fixed_effect_covariance_matches_statsmodels():
    from statsmodels.regression.mixed_linear_model import MixedLM

    trial = validate_trial_table(simulate_trial(seed=11))
    data = trial.frame.dropna(subset=["madrs_total"]).reset_index(drop=True)
    exog = _design(trial, data)
    ours = fit_lmm(
        data["madrs_total"].to_numpy(float),
        exog.to_numpy(float),
        data["participant_id"].to_numpy(),
        None,
        tuple(exog.columns),
    )
    ref = MixedLM(data["madrs_total"].to_numpy(float), exog, groups=data["participant_id"]).fit(
        reml=True
    )
    assert ours.params == pytest.approx(ref.fe_params.to_numpy(), abs=1e-6)
    assert np.sqrt(np.diag(ours.cov_params)) == pytest.approx(ref.bse_fe.to_numpy(), rel=1e-3)
    assert ours.loglike == pytest.approx(ref.llf, abs=1e-6)


def test_trajectory_reports_every_visit_and_each_arms_change():
    trial = validate_trial_table(simulate_trial(seed=2))
    result = trajectory(trial)
    assert [e.visit for e in result.effects] == ["week1", "month1"]
    wide, arms = trial.wide(), trial.participants()["arm"]
    change = wide["month1"] - wide["baseline"]
    m1 = result.at("month1")
    # Complete data: each arm's model-based change and the effect are exact differences of observed
    # means.
    assert m1.change_experimental.estimate == pytest.approx(
        change[arms == "connectivity"].mean(), abs=0.05
    )
    assert m1.effect.estimate == pytest.approx(
        m1.change_control.estimate - m1.change_experimental.estimate, abs=1e-9
    )
    assert m1.effect.ci_low < m1.effect.estimate < m1.effect.ci_high and m1.effect.df > 0
    assert result.random_effects in {"intercept + slope", "intercept"}


def test_boundary_random_effects_are_refused():
    groups = np.repeat(np.arange(20), 3)
    e = np.random.default_rng(0).normal(size=(20, 3))
    y = (
        e - e.mean(1, keepdims=True)
    ).ravel()  # all group means equal: the between-group variance estimate is 0
    with pytest.raises(FitError, match="could not be fitted|boundary|not curved"):
        fit_lmm(y, np.ones((60, 1)), groups)


def test_random_slope_falls_back_to_random_intercept_with_a_note(monkeypatch):
    from tmstarget.trial import longitudinal as trajectory_module

    real = trajectory_module.fit_lmm

    def no_slope(y, x, groups, z=None, names=None):
        if z is not None:
            raise FitError(
                "the random-effects covariance is singular "
                "(variance on the boundary) — use a simpler "
                "one"
            )
        return real(y, x, groups, z, names)

    monkeypatch.setattr(trajectory_module, "fit_lmm", no_slope)
    result = trajectory(validate_trial_table(simulate_trial(seed=2)))
    assert result.random_effects == "intercept"
    assert result.notes == (
        "random slope dropped (the random-effects covariance "
        "is singular (variance on the boundary)); random "
        "intercept only",
    )


def test_change_by_visit_figure_is_deterministic():
    from tmstarget.outcomes import change_by_visit_svg
    from tmstarget.trial.longitudinal import effects_table

    rows = effects_table(trajectory(validate_trial_table(simulate_trial(seed=2))))
    svg = change_by_visit_svg(rows, ["connectivity", "scalp"], {"week1": 7, "month1": 28})
    assert svg == change_by_visit_svg(rows, ["connectivity", "scalp"], {"week1": 7, "month1": 28})
    assert "connectivity" in svg and "mean, 95% CI" in svg and "month1" in svg
