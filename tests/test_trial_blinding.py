"""Blinding indices against published worked examples and independent derivations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from tmstarget.exceptions import InputError
from tmstarget.trial import bang_index, guess_counts, james_index, validate_trial_table

# Rows: guessed treatment, guessed placebo, don't know; columns: actual treatment, actual placebo.
# CRISP trial, Bang, Ni & Davis, Controlled Clinical Trials 2004;25:143-156, Table 7 (counts as
# reproduced in
# the examples of the R package BI, which cite that table).
CRISP = np.array([[82, 27], [25, 29], [170, 83]])
# Houweling et al., Clinical Trials 2014;11:547-552, Table 2, investigators' guesses.
HOUWELING_INVESTIGATORS = np.array([[48, 22], [4, 30], [330, 319]])


def test_bang_crisp_matches_bang_2004_definition():
    # Bang 2004: BI = (2 * correct/(correct+incorrect) - 1) * (correct+incorrect)/n, i.e. (correct -
    # incorrect)/n.
    treat, placebo = bang_index(CRISP, ("treatment", "placebo"))
    assert treat.estimate == pytest.approx((82 - 25) / 277)  # 0.206
    assert placebo.estimate == pytest.approx((29 - 27) / 139)  # 0.014
    # Bang 2004 variance: [p_c (1 - p_c) + p_i (1 - p_i) + 2 p_c p_i] / n, written out cell by cell.
    for est, correct, wrong, n in ((treat, 82, 25, 277), (placebo, 29, 27, 139)):
        pc, pi = correct / n, wrong / n
        assert est.se == pytest.approx(np.sqrt((pc * (1 - pc) + pi * (1 - pi) + 2 * pc * pi) / n))
        assert est.n == n
    # Treatment-arm guessers did better than chance, placebo-arm ones did not.
    assert treat.ci_low > 0 > placebo.ci_low


def test_houweling_2014_investigators_match_an_independent_implementation():
    # Reference values (3 decimals, two-sided 95% intervals) from the test suite of
    # JuliaHealth/BlindingIndex.jl,
    # a separate implementation (port of the R package BI) run on the same Houweling 2014 counts:
    # James 0.896 (SE 0.011, 95% CI 0.875-0.918); Bang 0.115 (0.018, 0.080-0.150) and 0.022 (0.019,
    # -0.016-0.060).
    james = james_index(HOUWELING_INVESTIGATORS)
    assert_allclose(
        [james.estimate, james.se, james.ci_low, james.ci_high],
        [0.896, 0.011, 0.875, 0.918],
        atol=6e-4,
    )
    treat, placebo = bang_index(HOUWELING_INVESTIGATORS)
    assert_allclose(
        [treat.estimate, treat.se, treat.ci_low, treat.ci_high],
        [0.115, 0.018, 0.080, 0.150],
        atol=6e-4,
    )
    assert_allclose(
        [placebo.estimate, placebo.se, placebo.ci_low, placebo.ci_high],
        [0.022, 0.019, -0.016, 0.060],
        atol=6e-4,
    )


def _james_by_definition(table: np.ndarray) -> float:
    """James et al. 1996: the equations for the weighted disagreement kappa.

    They are written as explicit sums over cells.
    """
    weights = {(0, 0): 0.0, (0, 1): 0.5, (1, 0): 0.5, (1, 1): 0.0}
    n = table.sum()
    p_dk = table[2].sum() / n
    guessed = table[:2].sum()
    observed = sum(w * table[i, j] for (i, j), w in weights.items()) / guessed
    expected = (
        sum(w * table[i, :].sum() * table[:2, j].sum() for (i, j), w in weights.items())
        / guessed**2
    )
    kappa = (observed - expected) / expected
    return (1 + p_dk + (1 - p_dk) * kappa) / 2


def _delta_method_se(table: np.ndarray) -> float:
    """SE of James' index by the multinomial delta method with a numerical gradient.

    This is independent of James' formula.
    """
    n = table.sum()
    p = (table / n).ravel()
    grad = np.zeros(6)
    for k in range(6):
        step = np.zeros(6)
        step[k] = 1e-6
        grad[k] = (
            _james_by_definition((p + step).reshape(3, 2))
            - _james_by_definition((p - step).reshape(3, 2))
        ) / 2e-6
    cov = np.diag(p) - np.outer(p, p)
    return float(np.sqrt(grad @ cov @ grad / n))


@pytest.mark.parametrize(
    "table",
    [
        CRISP,
        HOUWELING_INVESTIGATORS,
        np.array([[143, 104], [14, 57], [188, 175]]),
        np.array([[12, 3], [2, 9], [6, 8]]),
    ],
)
def test_james_matches_definition_and_delta_method(table):
    james = james_index(table)
    assert james.estimate == pytest.approx(_james_by_definition(table.astype(float)), rel=1e-12)
    assert james.se == pytest.approx(_delta_method_se(table.astype(float)), rel=1e-5)


def test_reference_points_of_the_scales():
    # All correct: complete unblinding (Bang 1, James 0); chance guessing: Bang 0, James 0.5; all
    # don't know: James 1.
    correct = np.array([[10, 0], [0, 12], [0, 0]])
    assert [b.estimate for b in bang_index(correct)] == [1.0, 1.0]
    assert james_index(correct).estimate == pytest.approx(0.0)
    chance = np.array([[10, 10], [10, 10], [0, 0]])
    assert [b.estimate for b in bang_index(chance)] == [0.0, 0.0]
    assert james_index(chance).estimate == pytest.approx(0.5)
    all_dk = james_index(np.array([[0, 0], [0, 0], [7, 9]]))
    assert (all_dk.estimate, all_dk.se) == (1.0, 0.0)
    opposite = bang_index(np.array([[0, 5], [5, 0], [0, 0]]))
    assert [b.estimate for b in opposite] == [-1.0, -1.0]


def test_2x2_table_means_no_dont_know_and_bad_tables_raise():
    two = james_index(np.array([[30, 10], [10, 30]]))
    three = james_index(np.array([[30, 10], [10, 30], [0, 0]]))
    assert two == three
    with pytest.raises(InputError, match="guess table"):
        bang_index(np.array([[1, 2, 3]]))
    with pytest.raises(InputError, match="non-negative"):
        james_index(np.array([[1, -2], [0, 1], [0, 0]]))


def test_guess_counts_uses_each_participants_last_guess():
    rows = []
    guesses = {
        "p1": ("", "scalp"),
        "p2": ("connectivity", ""),
        "p3": ("", "dk"),
        "p4": ("scalp", "scalp"),
    }
    arms = {"p1": "connectivity", "p2": "connectivity", "p3": "scalp", "p4": "scalp"}
    for pid, (g1, g2) in guesses.items():
        rows += [
            (pid, arms[pid], "baseline", "30", ""),
            (pid, arms[pid], "week1", "25", g1),
            (pid, arms[pid], "month1", "20", g2),
        ]
    trial = validate_trial_table(
        pd.DataFrame(
            rows, columns=["participant_id", "arm", "timepoint", "madrs_total", "guess_rater"]
        )
    )
    # p1: last guess scalp (wrong); p2: connectivity (right); p3: don't know; p4: scalp (right).
    expected = np.array([[1, 0], [1, 1], [0, 1]])
    assert_allclose(guess_counts(trial, "guess_rater"), expected)
    with pytest.raises(InputError, match="no guess column"):
        guess_counts(trial, "guess_participant")
