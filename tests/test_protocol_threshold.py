"""Motor threshold: relative-frequency rule and ML-PEST threshold hunting, on simulated MEPs.

The relative-frequency rule is that of Rossini et al. 2015 (>= 5 of 10 MEPs >= 50 µV), ML-PEST
threshold hunting that of Awiszus 2003; both are checked on simulated MEPs with a known threshold.
"""

from __future__ import annotations

import numpy as np
import pytest

from tmstarget.exceptions import InputError
from tmstarget.protocol.threshold import (
    Trials,
    parse_trials,
    pest_threshold,
    relative_frequency_threshold,
)


def simulated_subject(rng: np.random.Generator):
    """Return a known sigmoid MEP curve with trial-to-trial (log-normal) and EMG (additive) noise.

    The median MEP is ``amax / (1 + exp((x50 - x) / k))``; the true threshold ``t0`` is where it
    equals 50 µV, i.e. where half the MEPs reach 50 µV.
    """
    t0, k, amax = rng.uniform(35, 75), rng.uniform(3, 6), rng.uniform(1000, 3000)
    x50 = t0 + k * np.log(amax / 50 - 1)

    def mep(x: float) -> float:
        median = amax / (1 + np.exp((x50 - x) / k))
        return float(abs(median * np.exp(0.6 * rng.standard_normal()) + 10 * rng.standard_normal()))

    return t0, mep


def hunt(mep) -> tuple[float, int]:
    x: list[float] = []
    a: list[float] = []
    state = pest_threshold()
    while not state.done:
        x.append(state.next_intensity_pct_mso)
        a.append(mep(state.next_intensity_pct_mso))
        state = pest_threshold(Trials(np.array(x), np.array(a)))
    return state.threshold_pct_mso, state.n_pulses


def test_ml_pest_recovers_a_simulated_threshold_within_2_pct_mso():
    rng = np.random.default_rng(17)
    errors, pulses = [], []
    for _ in range(200):
        t0, mep = simulated_subject(rng)
        estimate, n = hunt(mep)
        errors.append(abs(round(estimate) - t0))
        pulses.append(n)
    within = np.mean(np.array(errors) <= 2.0)
    assert within >= 0.90, within
    assert np.mean(pulses) <= 20.0, np.mean(pulses)
    assert max(pulses) <= 30


def test_first_pest_intensity_is_the_middle_of_the_range_and_then_moves():
    start = pest_threshold()
    assert (
        start.next_intensity_pct_mso == 52 and not start.done
    )  # middle of the flat likelihood of the virtual trials
    after_hit = pest_threshold(Trials(np.array([52.0]), np.array([200.0])))
    after_miss = pest_threshold(Trials(np.array([52.0]), np.array([10.0])))
    assert after_hit.next_intensity_pct_mso < 52 < after_miss.next_intensity_pct_mso
    lo, hi = after_hit.ci95_pct_mso
    assert lo < after_hit.threshold_pct_mso < hi


def _trials(levels: dict[float, list[float]]) -> Trials:
    x = [i for i, amps in levels.items() for _ in amps]
    a = [v for amps in levels.values() for v in amps]
    return Trials(np.array(x, float), np.array(a, float))


def test_relative_frequency_five_of_ten():
    t = _trials({
        48: [60, 20, 55, 70, 10, 52, 30, 80, 40, 20],  # 5 of 10 >= 50 µV: at threshold
        47: [60, 20, 30, 70, 10, 52, 30, 10, 40, 20],  # 3 of 10: below
        50: [100] * 10,
    })  # fmt: skip
    result = relative_frequency_threshold(t)
    assert (
        result.threshold_pct_mso == 48
        and result.confirmed
        and result.next_intensity_pct_mso is None
    )
    assert result.to_dict()["uncertainty_pct_mso"] == 1.0


def test_relative_frequency_exactly_50_uv_counts_and_four_does_not():
    t = _trials({45: [50, 50, 50, 50, 49, 0, 0, 0, 0, 0], 46: [50, 50, 50, 50, 50, 0, 0, 0, 0, 0]})
    result = relative_frequency_threshold(t)
    assert result.threshold_pct_mso == 46 and result.confirmed


def test_relative_frequency_asks_for_the_next_intensity():
    unconfirmed = relative_frequency_threshold(_trials({50: [100] * 5}))
    assert unconfirmed.threshold_pct_mso == 50 and not unconfirmed.confirmed
    assert unconfirmed.next_intensity_pct_mso == 49
    undecided = relative_frequency_threshold(_trials({50: [100] * 5, 49: [100, 0, 0]}))
    assert undecided.next_intensity_pct_mso == 49
    nothing = relative_frequency_threshold(_trials({40: [0] * 10}))
    assert nothing.threshold_pct_mso is None and nothing.next_intensity_pct_mso == 45


def test_parse_trials_by_session():
    text = "session\tintensity_pct_mso\tamplitude_uv\nday1\t50\t60\nday1\t49\t20\nday2\t52\t70\n"
    day1, day2 = parse_trials(text)
    assert (day1.session, day2.session) == ("day1", "day2")
    assert day1.intensity_pct_mso.tolist() == [50, 49] and day1.responses.tolist() == [True, False]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("intensity\tamp\n50\t3\n", "column.s. intensity_pct_mso, amplitude_uv missing"),
        (
            "intensity_pct_mso\tamplitude_uv\n50\tbig\n",
            "line 2: intensity_pct_mso '50' and amplitude_uv 'big' must be",
        ),
        ("intensity_pct_mso\tamplitude_uv\n150\t3\n", "line 2: intensity_pct_mso = 150 is outside"),
        ("intensity_pct_mso\tamplitude_uv\n50\t-3\n", "amplitude_uv = -3 is negative"),
        ("intensity_pct_mso\tamplitude_uv\n", "no trials found"),
    ],
)
def test_parse_trials_errors(text, message):
    with pytest.raises(InputError, match=message):
        parse_trials(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "intensity_pct_mso\tamplitude_uv\n0.48\t60\n0.47\t20\n",
            r"every intensity_pct_mso is <= 1 .* fractions .*multiply by 100: 0.48 -> 48",
        ),
        (
            "session\tintensity_pct_mso\tamplitude_uv\nd1\t48\t60\nd2\t0.5\t60\n",
            r"session d2.* fractions",
        ),
        (
            "intensity_pct_mso\tamplitude_uv\n48\t60\n0.47\t20\n",
            r"line 3: intensity_pct_mso = 0.47 is <= 1% MSO",
        ),
        (
            "intensity_pct_mso\tamplitude_uv\n48\t0.06\n47\t0\n",
            r"every amplitude_uv is below 1 .* mV; .*multiply by 1000: 0.06 mV -> 60 µV",
        ),
        ("intensity_pct_mso\tamplitude_uv\n48\tinf\n", r"amplitude_uv = inf is not a number"),
    ],
)
def test_parse_trials_refuses_fractions_and_mv(text, message):
    with pytest.raises(InputError, match=message):
        parse_trials(text)


def test_units_check_keeps_uv_files_with_small_and_zero_amplitudes():
    (t,) = parse_trials("intensity_pct_mso\tamplitude_uv\n40\t0\n40\t0.4\n45\t12\n")
    assert t.amplitude_uv.tolist() == [0, 0.4, 12]
    (none,) = parse_trials(
        "intensity_pct_mso\tamplitude_uv\n40\t0\n"
    )  # all zero: no MEP, in any unit
    assert none.amplitude_uv.tolist() == [0]


@pytest.mark.parametrize(
    ("low", "high", "message"),
    [
        (0.2, 1.0, "looks like fractions .* --low 20 --high 100"),
        (60, 40, "bottom at or above its top"),
        (0.5, 50, r"not inside 1-100% MSO"),
        (20, 120, r"not inside 1-100% MSO"),
    ],
)
def test_pest_search_range_is_checked_in_the_library(low, high, message):
    with pytest.raises(InputError, match=message):
        pest_threshold(low=low, high=high)


def test_pest_refuses_trials_outside_the_range_and_proposes_inside_it():
    with pytest.raises(
        InputError,
        match="trial intensities 15-15% MSO are not all inside the ML-PEST search range 20-100",
    ):
        pest_threshold(Trials(np.array([15.0]), np.array([80.0])))
    state = pest_threshold(
        Trials(np.array([20.0] * 4), np.array([300.0] * 4))
    )  # responses at the bottom pull below it
    assert state.threshold_pct_mso < 20 and state.next_intensity_pct_mso == 20
