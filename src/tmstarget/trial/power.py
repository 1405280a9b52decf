"""Power and sample size for a two-arm comparison of means.

The test is the two-sample t-test, optionally with the gain from ANCOVA.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

from ..exceptions import InputError


@dataclass(frozen=True)
class PowerResult:
    """Power of a two-arm trial.

    Attributes
    ----------
    effect_size : float
        Standardized difference (Cohen's d) the trial is designed to detect.
    n_experimental, n_control : int
        Participants per arm.
    alpha : float
        Two-sided type I error rate.
    power : float
        Probability of rejecting no difference when the effect is ``effect_size``.
    baseline_correlation : float
        Baseline-outcome correlation credited to ANCOVA (0 = plain t-test).
    """

    effect_size: float
    n_experimental: int
    n_control: int
    alpha: float
    power: float
    baseline_correlation: float = 0.0

    @property
    def n_total(self) -> int:
        """Participants in both arms."""
        return self.n_experimental + self.n_control


def _check(effect_size: float, alpha: float, ratio: float, rho: float) -> float:
    if not math.isfinite(effect_size) or effect_size == 0:
        raise InputError(
            f"effect size {effect_size} — give a non-zero standardised difference, e.g. 0.8"
        )
    if not 0 < alpha <= 0.5:
        raise InputError(
            f"alpha {alpha} — give a two-sided type I error "
            "rate in (0, 0.5] as a fraction, e.g. 0.05"
        )
    if not ratio > 0:
        raise InputError(f"allocation ratio {ratio} — give control/experimental > 0, e.g. 1")
    if not 0 <= rho <= 0.95:
        raise InputError(
            f"baseline correlation {rho} — give a value in "
            "[0, 0.95] (baseline-outcome correlations of "
            "MADRS "
            "are usually 0.3-0.7)"
        )
    if abs(effect_size) > 5:
        raise InputError(
            f"effect size {effect_size} — give Cohen's d (a "
            "standardised difference, usually 0.2-1.5), "
            "not points or a percentage"
        )
    # ANCOVA on baseline shrinks the residual variance by (1 - rho^2) (Borm et al. 2007).
    return abs(effect_size) / math.sqrt(1.0 - rho * rho)


def power_two_arm(
    effect_size: float,
    n_experimental: int,
    ratio: float = 1.0,
    alpha: float = 0.05,
    baseline_correlation: float = 0.0,
) -> PowerResult:
    """Power of a two-sided, two-sample t-test (statsmodels ``TTestIndPower``).

    Parameters
    ----------
    effect_size : float
        Cohen's d to detect.
    n_experimental : int
        Participants in the experimental arm.
    ratio : float
        Control / experimental allocation ratio.
    alpha : float
        Two-sided type I error rate.
    baseline_correlation : float
        Baseline-outcome correlation; the ANCOVA approximation uses ``d / sqrt(1 - rho^2)``.

    Returns
    -------
    PowerResult
    """
    from statsmodels.stats.power import TTestIndPower

    d = _check(effect_size, alpha, ratio, baseline_correlation)
    n_control = round(n_experimental * ratio)
    if n_experimental < 2 or n_control < 2:
        raise InputError(
            f"{n_experimental} and {n_control} participants per arm — need at least 2 in each arm"
        )
    power = TTestIndPower().power(
        d, n_experimental, alpha, ratio=n_control / n_experimental, alternative="two-sided"
    )
    return PowerResult(
        float(effect_size),
        int(n_experimental),
        int(n_control),
        alpha,
        float(power),
        baseline_correlation,
    )


def sample_size(
    effect_size: float,
    power: float = 0.8,
    ratio: float = 1.0,
    alpha: float = 0.05,
    baseline_correlation: float = 0.0,
) -> PowerResult:
    """Return the smallest trial reaching ``power``.

    The experimental arm is rounded up, and the control arm is ratio × experimental, rounded up.

    Parameters
    ----------
    effect_size : float
        Cohen's d to detect.
    power : float
        Target power, e.g. 0.8.
    ratio : float
        Control / experimental allocation ratio.
    alpha : float
        Two-sided type I error rate.
    baseline_correlation : float
        Baseline-outcome correlation credited to ANCOVA.

    Returns
    -------
    PowerResult
        With the achieved power of the rounded-up sizes.
    """
    import statsmodels.tools.sm_exceptions  # noqa: F401  (its import-time "always" filter must come before ours)
    from statsmodels.stats.power import TTestIndPower

    d = _check(effect_size, alpha, ratio, baseline_correlation)
    if not 0 < power < 1:
        raise InputError(f"power {power} — give a target in (0, 1) as a fraction, e.g. 0.8")
    if power <= alpha:
        raise InputError(
            f"power {power} is not above alpha {alpha} — any "
            "trial size has at least that power; give a target "
            "above alpha, e.g. 0.8"
        )
    with warnings.catch_warnings():
        warnings.simplefilter(
            "ignore"
        )  # a failed root search returns NaN (handled below) with a ConvergenceWarning
        n_exp = float(
            TTestIndPower().solve_power(
                d, nobs1=None, alpha=alpha, power=power, ratio=ratio, alternative="two-sided"
            )
        )
        at_least = TTestIndPower().power(
            d, 2, alpha, ratio=max(2, math.ceil(2 * ratio - 1e-9)) / 2, alternative="two-sided"
        )
    if not math.isfinite(n_exp):
        if at_least < power:
            raise InputError(
                f"no trial size reaching power {power} was "
                f"found for d = {effect_size:g} — check --effect-size "
                "and --power"
            )
        n_exp = 2.0  # the smallest trial already has the power asked for
    n_exp = max(2, math.ceil(n_exp - 1e-9))
    n_control = max(2, math.ceil(n_exp * ratio - 1e-9))
    achieved = TTestIndPower().power(
        d, n_exp, alpha, ratio=n_control / n_exp, alternative="two-sided"
    )
    return PowerResult(
        float(effect_size), n_exp, n_control, alpha, float(achieved), baseline_correlation
    )
