"""A simulated two-arm TMS trial with the seed study's design, to exercise the analysis.

Default design: 40 adults with treatment-resistant depression (baseline MADRS >= 20), stratified by
severity (``severe`` = baseline >= 35) and allocated by the blocked, stratified list of
:func:`tmstarget.trial.make_allocation` to connectivity-guided or scalp-based (Beam F3) targeting;
MADRS at baseline, 1 week and 1 month. The reduction at 1 month is normal with SD ``change_sd`` and
arm means ``control_reduction`` and ``control_reduction + effect_size * change_sd``, so the true
Cohen's d of the reduction is ``effect_size``; 1 week shows ``week1_fraction`` of it plus noise.
Participants and raters guess the arm at the last visit.

With ``record_days`` the table also has the trial clock: ``day`` of each assessment (day 0 = first
treatment session; baseline on day -3), ``last_session_day`` and ``sessions_received``. Ten sessions
a day over five days (``sessions_planned`` = 50, as in Cole et al. 2020); a participant who stops
early (probability ``incomplete``) receives 10-49 sessions and ends treatment sooner. Follow-ups
happen ``visit_days`` after the last session plus a scheduling error (normal, SD ``day_sd``, rounded
to whole days), so some fall outside their visit window.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..exceptions import InputError
from .randomization import make_allocation


@dataclass(frozen=True)
class TrialDesign:
    """Parameters of the simulated trial (defaults follow the seed study).

    Attributes
    ----------
    n_participants : int
        Participants randomized.
    effect_size : float
        True Cohen's d of the 1-month MADRS reduction, experimental minus control.
    arms : (str, str)
        Experimental and control arm names.
    timepoints : (str, str, str)
        Baseline, early and primary assessment labels.
    baseline_mean, baseline_sd : float
        Baseline MADRS distribution (clipped to ``inclusion_min``-60 and rounded).
    inclusion_min : float
        Lowest baseline MADRS admitted.
    severe_min : float
        Baseline MADRS from which a participant is stratified ``severe``.
    control_reduction : float
        Mean 1-month reduction in the control arm (points).
    change_sd : float
        SD of the 1-month reduction in each arm (points).
    week1_fraction : float
        Share of the 1-month reduction already present at 1 week.
    week1_noise_sd : float
        Extra SD of the 1-week reduction.
    dropout : float
        Probability a participant misses the 1-month visit (and the 1-week visit with half that
        chance).
    guess_correct, guess_dont_know : float
        Probabilities that a participant guesses right (among those who guess) or answers don't
        know.
    block_sizes : tuple of int
        Randomization block sizes.
    record_days : bool
        Add ``day``, ``last_session_day`` and ``sessions_received`` columns.
    visit_days : (float, float)
        Target days of the early and primary follow-ups after the last treatment session.
    day_sd : float
        SD of the scheduling error of follow-ups (days).
    sessions_planned, sessions_per_day : int
        Treatment course (the last planned session is on day ``sessions_planned / sessions_per_day -
        1``).
    incomplete : float
        Probability that a participant stops treatment early (10 to ``sessions_planned - 1``
        sessions).
    """

    n_participants: int = 40
    effect_size: float = 0.8
    arms: tuple[str, str] = ("connectivity", "scalp")
    timepoints: tuple[str, str, str] = ("baseline", "week1", "month1")
    baseline_mean: float = 32.0
    baseline_sd: float = 5.0
    inclusion_min: float = 20.0
    severe_min: float = 35.0
    control_reduction: float = 7.0
    change_sd: float = 7.0
    week1_fraction: float = 0.5
    week1_noise_sd: float = 3.0
    dropout: float = 0.0
    guess_correct: float = 0.6
    guess_dont_know: float = 0.3
    block_sizes: tuple[int, ...] = (2, 4, 6)
    record_days: bool = False
    visit_days: tuple[float, float] = (7.0, 28.0)
    day_sd: float = 2.0
    sessions_planned: int = 50
    sessions_per_day: int = 10
    incomplete: float = 0.0


def _guesses(
    arm: np.ndarray,
    arms: tuple[str, str],
    correct: float,
    dont_know: float,
    rng: np.random.Generator,
) -> np.ndarray:
    u_dk, u_right = rng.random(len(arm)), rng.random(len(arm))
    other = np.where(arm == arms[0], arms[1], arms[0])
    return np.where(u_dk < dont_know, "dont_know", np.where(u_right < correct, arm, other))


def _add_days(table: pd.DataFrame, d: TrialDesign, rng: np.random.Generator) -> pd.DataFrame:
    """Add the trial clock: sessions received, last session day and each assessment's day.

    The assessment days are drawn after the scores.
    """
    n = table["participant_id"].nunique()
    stops = rng.random(n) < d.incomplete
    sessions = np.where(stops, rng.integers(10, d.sessions_planned, n), d.sessions_planned)
    last_day = (sessions - 1) // d.sessions_per_day
    jitter = np.rint(rng.normal(0.0, d.day_sd, (n, 2)))
    days = np.column_stack(
        [
            np.full(n, -3.0),
            last_day + d.visit_days[0] + jitter[:, 0],
            last_day + d.visit_days[1] + jitter[:, 1],
        ]
    )
    index = {p: i for i, p in enumerate(dict.fromkeys(table["participant_id"]))}
    who = table["participant_id"].map(index).to_numpy()
    col = table["timepoint"].map({t: j for j, t in enumerate(d.timepoints)}).to_numpy()
    day = days[who, col]
    day[table["madrs_total"].isna().to_numpy() & (col > 0)] = np.nan  # a missed visit has no day
    return table.assign(
        day=pd.array(day, dtype="Int64"),
        last_session_day=last_day[who],
        sessions_received=sessions[who],
    )


def simulate_trial(design: TrialDesign | None = None, seed: int = 0) -> pd.DataFrame:
    """Simulate a long-format trial table.

    Parameters
    ----------
    design : TrialDesign, optional
        Trial parameters; the seed study's design by default.
    seed : int
        Seed for :func:`numpy.random.default_rng`; the same seed gives the same table.

    Returns
    -------
    pandas.DataFrame
        Columns ``participant_id, arm, timepoint, madrs_total, stratum, guess_participant,
        guess_rater``; one row per participant and timepoint (missed visits have an empty score),
        experimental arm first.
    """
    d = design or TrialDesign()
    if d.n_participants < 4:
        raise InputError(f"{d.n_participants} participants — simulate at least 4 (2 per arm)")
    if not 0 <= d.dropout < 1 or d.change_sd <= 0 or d.baseline_sd < 0:
        raise InputError("dropout must be in [0, 1) and SDs positive — fix the design")
    rng = np.random.default_rng(seed)
    n = d.n_participants
    baseline = np.clip(np.rint(rng.normal(d.baseline_mean, d.baseline_sd, n)), d.inclusion_min, 60)
    stratum = np.where(baseline >= d.severe_min, "severity=severe", "severity=moderate")
    allocation = make_allocation(
        ["severity=moderate", "severity=severe"],
        n,
        d.arms,
        block_sizes=d.block_sizes,
        seed=int(rng.integers(2**63 - 1)),
    )
    queues = {s: [e.arm for e in allocation.entries if e.stratum == s] for s in allocation.strata}
    arm = np.array([queues[s].pop(0) for s in stratum])
    mean = np.where(
        arm == d.arms[0], d.control_reduction + d.effect_size * d.change_sd, d.control_reduction
    )
    reduction_m1 = rng.normal(mean, d.change_sd)
    reduction_w1 = d.week1_fraction * reduction_m1 + rng.normal(0.0, d.week1_noise_sd, n)
    scores = np.column_stack([baseline, baseline - reduction_w1, baseline - reduction_m1])
    scores = np.clip(np.rint(scores), 0, 60)
    missed_m1 = rng.random(n) < d.dropout
    missed_w1 = missed_m1 & (rng.random(n) < 0.5)
    scores[missed_w1, 1] = np.nan
    scores[missed_m1, 2] = np.nan
    guess_p = _guesses(arm, d.arms, d.guess_correct, d.guess_dont_know, rng)
    guess_r = _guesses(arm, d.arms, 0.5, d.guess_dont_know, rng)
    ids = [f"sub-{i:02d}" for i in range(1, n + 1)]
    rows = []
    for i in range(n):
        for t, label in enumerate(d.timepoints):
            last = t == len(d.timepoints) - 1 and not missed_m1[i]
            rows.append(
                {
                    "participant_id": ids[i],
                    "arm": arm[i],
                    "timepoint": label,
                    "madrs_total": scores[i, t],
                    "stratum": stratum[i],
                    "guess_participant": guess_p[i] if last else "",
                    "guess_rater": guess_r[i] if last else "",
                }
            )
    table = pd.DataFrame(rows)
    if d.record_days:
        table = _add_days(table, d, rng)
    table["madrs_total"] = table["madrs_total"].astype("Int64")
    # Experimental arm first: the analysis takes the first row's arm as experimental by default.
    order = (table["arm"] != d.arms[0]).astype(int)
    return (
        table.assign(_o=order)
        .sort_values(["_o", "participant_id"], kind="stable")
        .drop(columns="_o")
        .reset_index(drop=True)
    )
