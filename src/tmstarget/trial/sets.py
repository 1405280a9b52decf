"""Analysis sets: intention to treat (ITT) and per protocol (PP), each with its rule written out.

ITT
    Every randomized participant with a baseline MADRS, analysed in the arm allocated, whatever
    treatment they received and whether or not they were assessed later (ICH E9, section 5.2.1: the
    full analysis set as close as possible to all randomized participants). Binary outcomes count a
    participant not assessed at the endpoint within its window as a failure; the continuous endpoint
    uses every observed visit (mixed model, valid under missing at random) and multiple imputation
    as a sensitivity analysis.
PP
    ITT participants who received at least the minimum number of treatment sessions
    (``sessions_received``; not checked when the table has no such column) **and** were assessed at
    the endpoint within its window (ICH E9, section 5.2.2: participants sufficiently compliant with
    the protocol, with the primary measurement available). Analysed as complete cases.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..exceptions import InputError
from .data import TrialTable

__all__ = ["AnalysisSets", "analysis_sets"]

#: Default adherence for the per-protocol set: at least 80 % of the planned sessions.
DEFAULT_PP_FRACTION = 0.8


@dataclass(frozen=True)
class AnalysisSets:
    """Who is analysed in each set, and why others are not in the per-protocol set.

    Attributes
    ----------
    itt, per_protocol : tuple of str
        Participant ids, sorted.
    excluded : dict
        Participant id -> reason for leaving the per-protocol set.
    rules : dict
        ``itt`` and ``per_protocol`` rules in words (with the numbers used).
    min_sessions : int or None
        Sessions required for the per-protocol set (``None`` when not checked).
    planned_sessions : int or None
        Sessions planned per participant (``None`` without a ``sessions_received`` column).
    """

    itt: tuple[str, ...]
    per_protocol: tuple[str, ...]
    excluded: dict[str, str]
    rules: dict[str, str]
    min_sessions: int | None
    planned_sessions: int | None = None

    def counts(self, trial: TrialTable) -> dict[str, dict[str, int]]:
        """Participants per arm in each set."""
        arms = trial.participants()["arm"]
        return {
            name: {a: int(sum(arms[p] == a for p in ids)) for a in trial.arms}
            for name, ids in (("itt", self.itt), ("per_protocol", self.per_protocol))
        }


def analysis_sets(
    trial: TrialTable,
    endpoint: str,
    min_sessions: int | None = None,
    planned_sessions: int | None = None,
    pp_fraction: float = DEFAULT_PP_FRACTION,
) -> AnalysisSets:
    """Build the ITT and per-protocol sets for ``endpoint``.

    Parameters
    ----------
    trial : TrialTable
        Validated table.
    endpoint : str
        Endpoint visit.
    min_sessions : int, optional
        Sessions needed for the per-protocol set; by default ``ceil(pp_fraction *
        planned_sessions)``.
    planned_sessions : int, optional
        Sessions planned per participant; by default the most any participant received.
    pp_fraction : float
        Share of the planned sessions needed when ``min_sessions`` is not given.

    Returns
    -------
    AnalysisSets
    """
    if not 0 < pp_fraction <= 1:
        raise InputError(
            f"per-protocol adherence {pp_fraction} — give a fraction in (0, 1], e.g. 0.8"
        )
    wide = trial.wide()
    if endpoint not in wide.columns or endpoint == trial.baseline:
        raise InputError(
            f"endpoint {endpoint!r} is not a follow-up visit "
            f"in the table — choose one of: {', '.join(trial.timepoints[1:])}"
        )
    itt = tuple(sorted(wide.index))
    sessions = trial.sessions_received()
    excluded: dict[str, str] = {}
    where = "within its window" if trial.dated else "(nominal visit)"
    planned = None
    if sessions is None:
        if min_sessions is not None or planned_sessions is not None:
            raise InputError(
                "--pp-min-sessions / --planned-sessions need "
                "a sessions_received column in the table — "
                "add "
                "each participant's sessions received, or drop the option(s)"
            )
        adherence = "adherence not checked (no sessions_received column)"
    else:
        _check_sessions(sessions, min_sessions, planned_sessions)
        planned = planned_sessions or int(sessions.max())
        if min_sessions is None:
            min_sessions = math.ceil(pp_fraction * planned - 1e-9)
        adherence = f"received >= {min_sessions} treatment sessions"
        for p, n in sessions.items():
            if not n >= min_sessions:
                excluded[p] = (
                    f"received {n:g} session(s) < {min_sessions}"
                    if n == n
                    else "sessions_received missing"
                )
    for p in itt:
        if p not in excluded and not wide.loc[p, endpoint] == wide.loc[p, endpoint]:
            excluded[p] = f"no {endpoint} assessment {where}"
    rules = {
        "itt": "all randomised participants with a baseline MADRS, "
        "analysed as allocated; not assessed at "
        f"{endpoint} {where} = non-responder and non-remitter",
        "per_protocol": f"{adherence} and assessed at {endpoint} {where}; "
        "analysed as allocated, complete cases",
    }
    pp = tuple(p for p in itt if p not in excluded)
    return AnalysisSets(itt, pp, dict(sorted(excluded.items())), rules, min_sessions, planned)


def _check_sessions(sessions, min_sessions: int | None, planned_sessions: int | None) -> None:
    """Check that the per-protocol numbers are possible.

    Possible means 1 <= min_sessions <= planned >= every count received.
    """
    if sessions.isna().all():
        raise InputError(
            "sessions_received is empty for every participant — fill it in, or drop the column "
            "(adherence is then not checked)"
        )
    most = int(sessions.max())
    if planned_sessions is not None and not 1 <= planned_sessions:
        raise InputError(
            f"--planned-sessions {planned_sessions} — give "
            "the sessions planned per participant (at least "
            "1)"
        )
    if planned_sessions is not None and most > planned_sessions:
        who = sessions.idxmax()
        raise InputError(
            f"participant {who} received {most} sessions, more than the {planned_sessions} planned "
            "(--planned-sessions) — give the planned number "
            f"(at least {most}), or correct sessions_received"
        )
    planned = planned_sessions or most
    if min_sessions is not None and not 1 <= min_sessions <= planned:
        source = (
            "--planned-sessions"
            if planned_sessions is not None
            else "the most anyone received; set --planned-sessions"
        )
        raise InputError(
            f"--pp-min-sessions {min_sessions} is outside "
            f"1-{planned} (planned sessions: {planned}, {source}) "
            "— "
            "nobody could meet it; give at most the planned number"
        )
