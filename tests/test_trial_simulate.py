"""The simulated trial: its design, determinism, and recovery of the planted effect size.

The design is that of the seed study.
"""

from __future__ import annotations

import pytest

from tmstarget.trial import (
    TrialDesign,
    analyze_trial,
    reduction_effect_sizes,
    simulate_trial,
    validate_trial_table,
)
from tmstarget.trial.io import table_to_tsv


def test_seed_design_shape_and_columns():
    table = simulate_trial(seed=0)
    assert list(table.columns) == [
        "participant_id",
        "arm",
        "timepoint",
        "madrs_total",
        "stratum",
        "guess_participant",
        "guess_rater",
    ]
    assert table["participant_id"].nunique() == 40 and len(table) == 120
    assert set(table["timepoint"]) == {"baseline", "week1", "month1"}
    assert set(table["arm"]) == {"connectivity", "scalp"} and table["arm"].iloc[0] == "connectivity"
    base = table.loc[table["timepoint"] == "baseline", "madrs_total"]
    assert base.min() >= 20 and table["madrs_total"].max() <= 60  # TRD inclusion, MADRS range
    # Stratified blocked allocation keeps the arms close to 20/20 (blocks of at most 6 in 2 strata).
    counts = table.drop_duplicates("participant_id")["arm"].value_counts()
    assert abs(counts["connectivity"] - counts["scalp"]) <= 6


def test_same_seed_gives_identical_file_text():
    assert table_to_tsv(simulate_trial(seed=12)) == table_to_tsv(simulate_trial(seed=12))
    assert table_to_tsv(simulate_trial(seed=12)) != table_to_tsv(simulate_trial(seed=13))


def test_seed_trial_recovers_d_within_its_confidence_interval():
    trial = validate_trial_table(simulate_trial(seed=0))
    d, _ = reduction_effect_sizes(trial, "month1")
    assert d.ci_low <= 0.8 <= d.ci_high
    assert (
        d.ci_low > 0
    )  # at n = 40 and d = 0.8 this seed's trial is positive, as the seed study was


def test_generator_is_calibrated_at_large_n():
    # With 4000 participants the d estimate has SE ~0.03: the generator must plant d = 0.8 (and 0
    # when asked).
    big = validate_trial_table(simulate_trial(TrialDesign(n_participants=4000), seed=1))
    d, _ = reduction_effect_sizes(big, "month1")
    assert d.estimate == pytest.approx(0.8, abs=0.1) and d.ci_low <= 0.8 <= d.ci_high
    null = validate_trial_table(
        simulate_trial(TrialDesign(n_participants=4000, effect_size=0.0), seed=2)
    )
    d0, _ = reduction_effect_sizes(null, "month1")
    assert d0.ci_low <= 0.0 <= d0.ci_high


def test_dropout_shows_up_in_the_consort_flow():
    trial = validate_trial_table(simulate_trial(TrialDesign(dropout=0.3), seed=4))
    result = analyze_trial(trial)
    lost = sum(result.flow[a]["lost_to_follow_up"] for a in trial.arms)
    missing = int(trial.frame.loc[trial.frame["timepoint"] == "month1", "madrs_total"].isna().sum())
    assert lost == missing > 0
    assert result.ancova.n_participants == 40 - missing
    assert result.mixed_model.n_participants == 40
