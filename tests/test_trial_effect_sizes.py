"""Cohen's d and Hedges' g against scipy, the noncentral t definition and simulated coverage."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from tmstarget.exceptions import InputError
from tmstarget.trial import cohens_d, hedges_correction, hedges_g, noncentrality_ci


def test_d_equals_scaled_pooled_t_statistic(rng):
    a, b = rng.normal(1.0, 2.0, 17), rng.normal(0.0, 2.0, 23)
    t = stats.ttest_ind(a, b, equal_var=True).statistic
    d = cohens_d(a, b)
    assert d.estimate == pytest.approx(t * math.sqrt(1 / 17 + 1 / 23), rel=1e-12)
    assert (d.n1, d.n2) == (17, 23)
    assert cohens_d(b, a).estimate == pytest.approx(-d.estimate)


def test_interval_inverts_the_noncentral_t(rng):
    a, b = rng.normal(0.8, 1.0, 20), rng.normal(0.0, 1.0, 20)
    d = cohens_d(a, b, confidence=0.9)
    scale = math.sqrt(20 * 20 / 40)
    t = d.estimate * scale
    assert stats.nct.cdf(t, 38, d.ci_low * scale) == pytest.approx(0.95, abs=1e-9)
    assert stats.nct.cdf(t, 38, d.ci_high * scale) == pytest.approx(0.05, abs=1e-9)
    low, high = noncentrality_ci(0.0, 10)
    assert low == pytest.approx(-high, abs=1e-9)  # symmetric at t = 0


def test_interval_agrees_with_large_sample_normal_interval(rng):
    a, b = rng.normal(0.5, 1.0, 400), rng.normal(0.0, 1.0, 400)
    d = cohens_d(a, b)
    # Hedges & Olkin (1985) large-sample variance (n1+n2)/(n1 n2) + d^2 / (2 (n1+n2)).
    se = math.sqrt(800 / 400**2 + d.estimate**2 / 1600)
    assert d.se == pytest.approx(se)
    assert d.ci_low == pytest.approx(d.estimate - 1.959964 * se, abs=0.005)
    assert d.ci_high == pytest.approx(d.estimate + 1.959964 * se, abs=0.005)


def test_exact_interval_has_nominal_coverage():
    rng = np.random.default_rng(11)
    hits = 0
    reps = 400
    for _ in range(reps):
        d = cohens_d(rng.normal(0.8, 1.0, 20), rng.normal(0.0, 1.0, 20))
        hits += d.ci_low <= 0.8 <= d.ci_high
    # Binomial SE of the coverage is 0.011; a wrong interval (e.g. 90% or Wald without d^2 term)
    # falls outside.
    assert 0.925 <= hits / reps <= 0.975


def test_hedges_correction_exact_values():
    assert hedges_correction(2) == pytest.approx(
        1 / math.sqrt(math.pi), rel=1e-12
    )  # Γ(1) / (1 · Γ(1/2))
    assert hedges_correction(4) == pytest.approx(
        math.gamma(2) / (math.sqrt(2) * math.gamma(1.5)), rel=1e-12
    )
    for df in (10, 38, 100):  # Hedges (1981) approximation 1 - 3 / (4 df - 1)
        assert hedges_correction(df) == pytest.approx(1 - 3 / (4 * df - 1), abs=0.05 / df**2)


def test_g_is_d_shrunk_by_j(rng):
    a, b = rng.normal(1.0, 1.0, 8), rng.normal(0.0, 1.0, 12)
    d, g = cohens_d(a, b), hedges_g(a, b)
    j = hedges_correction(18)
    assert g.name == "hedges_g"
    assert [g.estimate, g.se, g.ci_low, g.ci_high] == pytest.approx(
        [j * d.estimate, j * d.se, j * d.ci_low, j * d.ci_high]
    )


@pytest.mark.parametrize(
    ("a", "b", "message"),
    [
        ([1.0], [1.0, 2.0], "at least 2"),
        ([1.0, 1.0], [2.0, 2.0], "zero variance"),
        ([1.0, np.nan], [1.0, 2.0], "NaN"),
    ],
)
def test_bad_inputs_raise(a, b, message):
    with pytest.raises(InputError, match=message):
        cohens_d(np.array(a), np.array(b))
