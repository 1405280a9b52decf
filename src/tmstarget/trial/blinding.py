"""Blinding indices from arm guesses: Bang et al. (2004) per arm and James et al. (1996) overall.

The guess table has three rows (guessed arm 1, guessed arm 2, don't know) and two columns (actual
arm 1, actual arm 2), as in Bang et al. (2004), Table 1.

References
----------
James KE, Bloch DA, Lee KK, Kraemer HC, Fuller RK. An index for assessing blindness in a
multi-centre clinical trial. Stat Med 1996;15:1421-1434.
Bang H, Ni L, Davis CE. Assessment of blinding in clinical trials. Control Clin Trials
2004;25:143-156.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from ..exceptions import InputError
from .data import TrialTable

#: James' default disagreement weights: correct 0, incorrect 0.5, don't know 1 (rows as the guess
#: table).
JAMES_WEIGHTS = np.array([[0.0, 0.5], [0.5, 0.0], [1.0, 1.0]])


@dataclass(frozen=True)
class BlindingIndex:
    """A blinding index with a Wald interval.

    Attributes
    ----------
    name : str
        ``"bang"`` or ``"james"``.
    arm : str or None
        Arm for Bang's index; ``None`` for James' overall index.
    estimate, se, ci_low, ci_high : float
        Index, standard error and two-sided limits (NaN when undefined).
    n : int
        Respondents the index is based on.
    confidence : float
        Confidence level.
    """

    name: str
    arm: str | None
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    n: int
    confidence: float = 0.95


@dataclass(frozen=True)
class BlindingAssessment:
    """Blinding indices for one set of guesses (e.g. participants' or raters')."""

    source: str
    arms: tuple[str, str]
    counts: tuple[tuple[int, int], tuple[int, int], tuple[int, int]]
    james: BlindingIndex
    bang: tuple[BlindingIndex, BlindingIndex]


def _table(counts: np.ndarray) -> np.ndarray:
    table = np.asarray(counts, dtype=float)
    if table.shape == (2, 2):
        table = np.vstack([table, np.zeros((1, 2))])
    if table.shape != (3, 2) or np.any(table < 0) or not np.all(np.isfinite(table)):
        raise InputError(
            f"guess table of shape {table.shape} — give non-negative "
            "counts with rows (guess arm 1, guess arm 2, "
            "don't know) "
            "and columns (actual arm 1, actual arm 2)"
        )
    return table


def _interval(
    name: str, arm: str | None, est: float, se: float, n: int, confidence: float
) -> BlindingIndex:
    z = float(stats.norm.ppf(0.5 + confidence / 2.0))
    est, se = float(est), float(se)
    return BlindingIndex(name, arm, est, se, est - z * se, est + z * se, n, confidence)


def bang_index(
    counts: np.ndarray, arms: tuple[str, str] = ("arm 1", "arm 2"), confidence: float = 0.95
) -> tuple[BlindingIndex, BlindingIndex]:
    """Bang's blinding index for each arm.

    Parameters
    ----------
    counts : array-like, shape (3, 2) or (2, 2)
        Guess table (rows: guessed arm 1, guessed arm 2, don't know; columns: actual arm).
    arms : (str, str)
        Arm names, in column order.
    confidence : float
        Two-sided confidence level.

    Returns
    -------
    (BlindingIndex, BlindingIndex)
        ``BI = p_correct - p_incorrect`` among that arm's respondents (don't-knows in the
        denominator); 1 = all correct, 0 = random guessing, -1 = all wrong. ``Var = (p_c + p_i -
        (p_c - p_i)^2) / n``.
    """
    table = _table(counts)
    out = []
    for j in range(2):
        n = table[:, j].sum()
        if n == 0:
            out.append(
                BlindingIndex(
                    "bang", arms[j], math.nan, math.nan, math.nan, math.nan, 0, confidence
                )
            )
            continue
        correct, wrong = table[j, j] / n, table[1 - j, j] / n
        se = math.sqrt((correct + wrong - (correct - wrong) ** 2) / n)
        out.append(_interval("bang", arms[j], correct - wrong, se, int(n), confidence))
    return out[0], out[1]


def james_index(
    counts: np.ndarray, weights: np.ndarray | None = None, confidence: float = 0.95
) -> BlindingIndex:
    """James' blinding index over both arms.

    Parameters
    ----------
    counts : array-like, shape (3, 2) or (2, 2)
        Guess table as in :func:`bang_index`.
    weights : array-like, shape (3, 2), optional
        Disagreement weights; :data:`JAMES_WEIGHTS` by default.
    confidence : float
        Two-sided confidence level.

    Returns
    -------
    BlindingIndex
        ``BI = (1 + P_dk + (1 - P_dk) kappa_d) / 2`` with the weighted disagreement kappa among
        respondents who guessed; 1 = complete blinding, 0.5 = random guessing, 0 = complete
        unblinding. The variance is James et al.'s (1996) large-sample formula. All don't-know gives
        1 with SE 0.
    """
    table = _table(counts)
    w = JAMES_WEIGHTS if weights is None else np.asarray(weights, dtype=float)
    n = int(table.sum())
    if n == 0:
        return BlindingIndex("james", None, math.nan, math.nan, math.nan, math.nan, 0, confidence)
    if table[:2].sum() == 0:
        return _interval("james", None, 1.0, 0.0, n, confidence)
    p = table / n
    p_dk = p[2].sum()
    known = 1.0 - p_dk
    guess_margin = p[:2].sum(axis=1)  # share guessing each arm
    arm_margin = p[:2].sum(axis=0)  # share of each arm that guessed
    wk = w[:2]
    expected = wk * np.outer(guess_margin, arm_margin)
    p_obs = (wk * p[:2]).sum() / known
    p_exp = expected.sum() / known**2
    if p_exp == 0:
        return BlindingIndex("james", None, math.nan, math.nan, math.nan, math.nan, n, confidence)
    kappa = (p_obs - p_exp) / p_exp
    cross = (wk * guess_margin[:, None]).sum(axis=0)[None, :] + (wk * arm_margin[None, :]).sum(
        axis=1
    )[:, None]
    term1 = (p[:2] * known**2 * (known * wk - (1.0 + kappa) * cross) ** 2).sum() / (
        4.0 * expected.sum() ** 2
    )
    term2 = p_dk * known - known * (1.0 + kappa) * (p_dk + known * (1.0 + kappa) / 4.0)
    estimate = (1.0 + p_dk + known * kappa) / 2.0
    return _interval(
        "james", None, float(estimate), math.sqrt(max(term1 + term2, 0.0) / n), n, confidence
    )


def guess_counts(trial: TrialTable, column: str) -> np.ndarray:
    """Cross-tabulate each participant's last non-empty guess in ``column`` against their arm.

    Parameters
    ----------
    trial : TrialTable
        Validated trial table (guesses are arm names or ``dont_know``).
    column : str
        A ``guess*`` column.

    Returns
    -------
    numpy.ndarray, shape (3, 2)
        Rows: guessed experimental, guessed control, don't know; columns: actual experimental,
        control.
    """
    if column not in trial.guesses:
        raise InputError(
            f"no guess column {column!r} — guess columns in "
            f"the table: {', '.join(trial.guesses) or 'none'}"
        )
    given = trial.frame.loc[trial.frame[column] != "", ["participant_id", "arm", column]]
    last = given.groupby("participant_id", sort=False).last()
    rows = {trial.arms[0]: 0, trial.arms[1]: 1, "dont_know": 2}
    table = np.zeros((3, 2), dtype=int)
    for arm, guess in zip(last["arm"], last[column], strict=True):
        table[rows[guess], trial.arms.index(arm)] += 1
    return table


def assess_blinding(trial: TrialTable, column: str, confidence: float = 0.95) -> BlindingAssessment:
    """James' and Bang's indices for the guesses in ``column`` (see :func:`guess_counts`)."""
    table = guess_counts(trial, column)
    counts = tuple(tuple(int(v) for v in row) for row in table)
    return BlindingAssessment(
        column,
        trial.arms,
        counts,  # type: ignore[arg-type]
        james_index(table, confidence=confidence),
        bang_index(table, trial.arms, confidence),
    )
