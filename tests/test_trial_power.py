"""Power and sample size against Cohen's (1988) tables and a direct noncentral t computation."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from tmstarget.exceptions import InputError
from tmstarget.trial import power_two_arm, sample_size


def _power_by_nct(d: float, n1: int, n2: int, alpha: float = 0.05) -> float:
    df = n1 + n2 - 2
    nc = d * math.sqrt(n1 * n2 / (n1 + n2))
    crit = stats.t.ppf(1 - alpha / 2, df)
    return float(stats.nct.sf(crit, df, nc) + stats.nct.cdf(-crit, df, nc))


@pytest.mark.parametrize(
    ("d", "cohen_n", "exact_n"), [(0.8, 26, 26), (0.5, 64, 64), (0.2, 393, 394)]
)
def test_sample_size_matches_cohen_1988_table_2_4_1(d, cohen_n, exact_n):
    # Cohen, Statistical Power Analysis for the Behavioral Sciences (1988), Table 2.4.1: n per group
    # for
    # power 0.80 at two-sided alpha 0.05. Cohen's table rounds an approximation; the exact
    # noncentral t
    # answer agrees for d = 0.8 and 0.5 and is one more (394) for d = 0.2.
    result = sample_size(d, power=0.8)
    n = result.n_experimental
    assert result.n_control == n
    assert n == exact_n and abs(n - cohen_n) <= 1
    assert result.power == pytest.approx(_power_by_nct(d, n, n), abs=1e-6) and result.power >= 0.8
    assert _power_by_nct(d, n - 1, n - 1) < 0.8  # the smallest such n


def test_seed_trial_power_40_participants_at_d_08():
    result = power_two_arm(0.8, 20)
    # Cohen (1988) Table 2.3.5: power 0.69 for d = 0.8, n = 20 per group, two-sided alpha 0.05.
    assert round(result.power, 2) == 0.69
    assert result.power == pytest.approx(_power_by_nct(0.8, 20, 20), abs=1e-6)
    assert result.n_total == 40


def test_unequal_arms_and_ancova_gain():
    result = power_two_arm(0.6, 30, ratio=0.5)
    assert (result.n_experimental, result.n_control) == (30, 15)
    assert result.power == pytest.approx(_power_by_nct(0.6, 30, 15), abs=1e-6)
    # A baseline correlation of 0.6 lets ANCOVA detect d / sqrt(1 - 0.36) = 1.25 d.
    assert power_two_arm(0.8, 20, baseline_correlation=0.6).power == pytest.approx(
        _power_by_nct(1.0, 20, 20), abs=1e-6
    )
    assert sample_size(0.8, baseline_correlation=0.6).n_experimental < 26


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"effect_size": 0.0}, "effect size"),
        ({"effect_size": 0.8, "alpha": 1.5}, "alpha"),
        ({"effect_size": 0.8, "power": 1.0}, "power"),
        ({"effect_size": 0.8, "baseline_correlation": 1.0}, "correlation"),
    ],
)
def test_bad_parameters_raise(kwargs, message):
    with pytest.raises(InputError, match=message):
        sample_size(**kwargs)
