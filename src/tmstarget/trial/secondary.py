"""Secondary outcomes: response and remission by arm.

They are compared by Fisher's exact test, the risk difference and the NNT.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from ..exceptions import InputError
from .data import TrialTable

#: Response: MADRS reduced by at least this fraction of baseline.
RESPONSE_FRACTION = 0.5
#: Remission: MADRS at or below this score.
REMISSION_MAX = 10.0


@dataclass(frozen=True)
class BinaryComparison:
    """A binary outcome compared between arms (experimental minus control).

    Attributes
    ----------
    outcome : str
        ``"response"`` or ``"remission"`` (or any label).
    events_experimental, n_experimental, events_control, n_control : int
        Counts.
    risk_difference : float
        Proportion with the event, experimental minus control.
    rd_ci_low, rd_ci_high : float
        Newcombe hybrid-score interval (Newcombe 1998, method 10).
    odds_ratio : float
        Sample odds ratio (infinite or zero with empty cells).
    fisher_p : float
        Two-sided Fisher's exact p-value.
    nnt : float
        ``1 / risk_difference``: positive = number needed to treat to benefit (NNTB), negative = to
        harm (NNTH); infinite when the risks are equal.
    nnt_ci_low, nnt_ci_high : float
        ``1 / rd_ci_high`` and ``1 / rd_ci_low``. When the risk-difference interval includes 0 the
        NNT interval runs through infinity (Altman 1998): NNTB ``nnt_ci_low`` to ∞ to NNTH
        ``|nnt_ci_high|``.
    confidence : float
        Confidence level.
    """

    outcome: str
    events_experimental: int
    n_experimental: int
    events_control: int
    n_control: int
    risk_difference: float
    rd_ci_low: float
    rd_ci_high: float
    odds_ratio: float
    fisher_p: float
    nnt: float
    nnt_ci_low: float
    nnt_ci_high: float
    confidence: float = 0.95

    @property
    def nnt_ci_includes_infinity(self) -> bool:
        """True when the risk-difference interval includes zero."""
        return self.rd_ci_low <= 0.0 <= self.rd_ci_high


def _inverse(x: float) -> float:
    return math.inf if x == 0 else 1.0 / x


def compare_proportions(
    outcome: str,
    events_experimental: int,
    n_experimental: int,
    events_control: int,
    n_control: int,
    confidence: float = 0.95,
) -> BinaryComparison:
    """Compare two proportions: Fisher's exact test, risk difference (Newcombe) and NNT.

    Parameters
    ----------
    outcome : str
        Label of the outcome.
    events_experimental, n_experimental : int
        Events and participants in the experimental arm.
    events_control, n_control : int
        Events and participants in the control arm.
    confidence : float
        Confidence level of the risk-difference interval.

    Returns
    -------
    BinaryComparison

    Raises
    ------
    InputError
        If an arm has no participants or a count is impossible.
    """
    from scipy import stats
    from statsmodels.stats.proportion import confint_proportions_2indep

    for events, n in ((events_experimental, n_experimental), (events_control, n_control)):
        if n < 1 or not 0 <= events <= n:
            raise InputError(
                f"{outcome}: {events} events out of {n} — each "
                "arm needs participants and 0 <= events <= "
                "n"
            )
    table = [
        [events_experimental, n_experimental - events_experimental],
        [events_control, n_control - events_control],
    ]
    odds_ratio, p_value = stats.fisher_exact(table, alternative="two-sided")
    rd = events_experimental / n_experimental - events_control / n_control
    low, high = confint_proportions_2indep(
        events_experimental,
        n_experimental,
        events_control,
        n_control,
        method="newcomb",
        compare="diff",
        alpha=1.0 - confidence,
    )
    return BinaryComparison(
        outcome,
        int(events_experimental),
        int(n_experimental),
        int(events_control),
        int(n_control),
        float(rd),
        float(low),
        float(high),
        float(odds_ratio),
        float(p_value),
        _inverse(rd),
        _inverse(float(high)),
        _inverse(float(low)),
        confidence,
    )


def response_and_remission(
    trial: TrialTable,
    timepoint: str,
    response_fraction: float = RESPONSE_FRACTION,
    remission_max: float = REMISSION_MAX,
    confidence: float = 0.95,
    participants: Sequence[str] | None = None,
    missing_as_failure: bool = False,
) -> tuple[BinaryComparison, BinaryComparison]:
    """Response and remission at ``timepoint`` by arm.

    By default only participants assessed at ``timepoint`` count (complete cases). With
    ``missing_as_failure`` every participant of the set counts and anyone not assessed there (a
    dropout, or an assessment outside the visit window) is a non-responder and a non-remitter — the
    usual intention-to-treat rule for binary outcomes.

    Parameters
    ----------
    trial : TrialTable
        Validated trial table.
    timepoint : str
        Follow-up label.
    response_fraction : float
        Response = reduction of at least this fraction of the baseline score (0.5 = 50 %).
    remission_max : float
        Remission = MADRS at or below this score.
    confidence : float
        Confidence level.
    participants : sequence of str, optional
        Restrict to these participants (an analysis set); all by default.
    missing_as_failure : bool
        Count participants without an assessment at ``timepoint`` as failures instead of leaving
        them out.

    Returns
    -------
    (BinaryComparison, BinaryComparison)
        Response, then remission.
    """
    if not 0 < response_fraction <= 1:
        raise InputError(
            f"response fraction {response_fraction} — give "
            "a value in (0, 1], e.g. 0.5 for a 50% reduction"
        )
    if not 0 <= remission_max <= 60:
        raise InputError(f"remission cut-off {remission_max} — give a MADRS score in 0-60, e.g. 10")
    data = trial.reduction(timepoint)
    everyone = trial.participants()
    if participants is not None:
        chosen = set(participants)
        data, everyone = (
            data.loc[data.index.isin(chosen)],
            everyone.loc[everyone.index.isin(chosen)],
        )
    base = everyone if missing_as_failure else data
    flags = {
        "response": data["reduction"] >= response_fraction * data["baseline"],
        "remission": data["score"] <= remission_max,
    }
    results = []
    for name, flag in flags.items():
        counts = [
            (int(flag[data["arm"] == a].sum()), int((base["arm"] == a).sum())) for a in trial.arms
        ]
        results.append(compare_proportions(name, *counts[0], *counts[1], confidence=confidence))
    return results[0], results[1]
