"""The scan plan's math on small hand-made tables (``tmstarget.protocol.scanplan``)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from tmstarget.exceptions import InputError
from tmstarget.protocol.scanplan import (
    calibration_from_rows,
    load_calibration,
    log_interp,
    minutes_needed,
    neighbours,
    plan_scan,
    plan_text,
    read_pilot,
)

MINUTES = [5.0, 10.0, 20.0, 40.0]
FIVE = [
    [20, 10, 6, 4],
    [18, 9, 5, 3],
    [25, 12, 8, 4.5],
    [30, 15, 10, 7],
    [16, 8, 4, 2.5],
]


def test_minutes_between_two_lengths_follow_a_power_law():
    # 80%: the 4th of 5 sorted radii: 8 mm at 20 min, 4.5 mm at 40 min; 5 mm where
    # log r is linear in log m: 20 * 2**(ln(8/5) / ln(8/4.5)) = 35.24 -> 36
    plan = minutes_needed(MINUTES, FIVE, 0.8)
    assert plan.quantile_radius_mm == {5.0: 25.0, 10.0: 12.0, 20.0: 8.0, 40.0: 4.5}
    assert plan.share_reached == {5.0: 0.0, 10.0: 0.0, 20.0: 0.4, 40.0: 0.8}
    assert 20 * 2 ** (math.log(8 / 5) / math.log(8 / 4.5)) == pytest.approx(35.24, abs=0.01)
    assert plan.minutes == 36.0
    # 50%: the median, 6 mm at 20 and 4 mm at 40: 20 * 2**(ln 1.2 / ln 1.5) = 27.3 -> 28
    assert minutes_needed(MINUTES, FIVE, 0.5).minutes == 28.0


def test_not_reached_at_the_longest_length_is_none_not_an_extrapolation():
    plan = minutes_needed(MINUTES, FIVE, 0.9)  # the 5th radius at 40 min is 7 mm
    assert plan.minutes is None
    assert plan.quantile_radius_mm[40.0] == 7.0
    assert plan.to_json()["reached_within_table"] is False


def test_never_below_the_single_run_floor():
    from tmstarget.targeting.uncertainty import MIN_SINGLE_RUN_MINUTES

    small = [[4, 3, 2, 1]] * 5  # within 5 mm already at 5 minutes
    plan = minutes_needed(MINUTES, small, 0.8)
    assert plan.minutes == MIN_SINGLE_RUN_MINUTES == 20.0  # the verdict's floor
    assert plan.model_minutes == 5.0  # what the simulator alone says
    assert minutes_needed(MINUTES, small, 0.8, floor_minutes=10.0).minutes == 10.0
    assert plan.to_json()["model_minutes"] == 5.0


def test_a_quantile_that_dips_and_rises_again_counts_from_where_it_stays_within():
    wobbly = [[4, 6, 4, 3]] * 5
    # within at 5 min, out at 10, within from 20: 10 -> 20 crossing at 10*2**(ln1.2/ln1.5) = 13.7
    plan = minutes_needed(MINUTES, wobbly, 0.8)
    assert plan.model_minutes == 14.0 and plan.minutes == 20.0  # raised to the floor


def test_log_interp_is_a_power_law_between_lengths_and_clamped_outside():
    r = np.array([[20.0, 10.0, 5.0, 2.5]])  # r = 100 / m
    assert log_interp(MINUTES, r, 15.0)[0] == pytest.approx(100 / 15)
    assert log_interp(MINUTES, r, 3.0)[0] == pytest.approx(20.0)
    assert log_interp(MINUTES, r, 41.0)[0] == pytest.approx(2.5)


def test_neighbours_are_closest_in_log_radius():
    at = np.array([10.0, 9.0, 12.0, 15.0, 8.0])
    assert neighbours(at, 8.5, k=2).tolist() == [1, 4]
    assert neighbours(at, 8.5).tolist() == [0, 1, 2, 3, 4]  # at least 5


def _table(tmp_path=None):
    """20 sessions of 10 participants: radius = base * f, f = 0.5 ... 1.45."""
    f = (10 + np.arange(20)) / 20
    single = np.outer(f, [20.0, 10.0, 6.0, 4.0])
    multi = np.outer(f, [12.0, 6.0, 3.5, 2.5])
    ids = [f"{i // 2}-{i % 2 + 1}" for i in range(20)]
    entries = [
        {
            "circuit": "sgacc",
            "method": "robust",
            "arm": arm,
            "sessions": ids,
            "radius_mm": r.tolist(),
        }
        for arm, r in (("single", single), ("multi", multi))
    ]
    return {
        "kind": "tmstarget scan-plan calibration",
        "provenance": {"command": "hand-made", "date": "2026-12-08", "participants": 10},
        "minutes": MINUTES,
        "entries": entries,
    }


def test_plan_from_the_table_alone():
    plan = plan_scan(_table(), "sgacc", "robust", 0.8)
    # 80% of 20: the 16th sorted f = 1.25: single 7.5 mm at 20 min and 5.0 at 40 -> 40 min;
    # multi 7.5 at 10 and 4.375 at 20: 10 * 2**(ln 1.5 / ln(7.5/4.375)) = 16.8 -> 17 min
    assert plan.arms["single"].minutes == plan.arms["single"].model_minutes == 40.0
    assert plan.arms["multi"].model_minutes == 17.0
    assert plan.arms["multi"].minutes == 20.0  # the single-run floor
    assert plan.arms["multi"].quantile_radius_mm[20.0] == pytest.approx(4.375)
    text = plan_text(plan)
    assert "single-echo: about 40 minutes;" in text
    assert (
        "multi-echo: about 20 minutes in one run (the simulator alone: 17; one run shorter than "
        "20 minutes never says 'reliable', tmstarget policy; the floor does not apply to two or "
        "more runs)" in text
    )
    assert "hand-made" in text and "10 participants" in text
    plan90 = plan_scan(_table(), "sgacc", "robust", 0.9)  # f = 1.35: 5.4 mm at 40
    assert plan90.arms["single"].minutes is None
    assert (
        "single-echo: more than 40 minutes (not reached by 90% of simulated participants at "
        "40 min)" in plan_text(plan90)
    )


def test_a_pilot_follows_the_simulated_sessions_closest_to_it():
    pilot = {"circuit": "sgacc", "circuit_name": "sgacc", "method": "robust", "arm": "single",
             "radius_mm": 6.1, "minutes_used": 10.0, "file": "p.json"}  # fmt: skip
    plan = plan_scan(_table(), "sgacc", "robust", 0.8, pilot)
    # closest at 10 min: f = 0.6, 0.65, 0.55, 0.7, 0.5 (sessions 0-1 ... 2-1); their 80% quantile
    # (4th of 5, f = 0.65): single 6.5 mm at 10 and 3.9 at 20 -> 10 * 2**(ln 1.3 / ln(6.5/3.9))
    # = 14.3 -> 15; multi 7.8 mm at 5 and 3.9 at 10 min -> 8; both raised to the 20-minute floor
    assert plan.pilot["neighbour_sessions"] == ["0-1", "0-2", "1-1", "1-2", "2-1"]
    assert plan.pilot["percentile"] == 15.0  # 3 of 20 sessions at most 6.1 mm at 10 min
    assert plan.arms["single"].model_minutes == 15.0
    assert plan.arms["multi"].model_minutes == 8.0  # 7.8 mm at 5, 3.9 at 10: 5 * 7.8 / 5 = 7.8
    assert plan.arms["single"].minutes == plan.arms["multi"].minutes == 20.0
    assert plan.arms["single"].n_sessions == 5
    assert "percentile 15" in plan_text(plan)


def test_a_pilot_outside_the_table_is_compared_at_its_nearest_length_and_says_so():
    pilot = {"circuit": "sgacc", "circuit_name": "sgacc", "method": "robust", "arm": "multi",
             "radius_mm": 3.1, "minutes_used": 41.0, "file": "p.json"}  # fmt: skip
    plan = plan_scan(_table(), "sgacc", "robust", 0.8, pilot)
    assert any("outside the simulated 5-40" in n for n in plan.notes)
    assert plan.pilot["percentile"] == 75.0  # 2.5 f <= 3.1: f <= 1.24, 15 of 20


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"probability": 1.0}, "between 0 and 1"),
        ({"probability": 0.0}, "between 0 and 1"),
        ({"circuit": "convergent"}, "sgacc and map"),
        ({"method": "similarity"}, "calibrated methods: robust"),
    ],
)
def test_bad_plan_arguments(kwargs, message):
    args = {"circuit": "sgacc", "method": "robust", "probability": 0.8, **kwargs}
    with pytest.raises(InputError, match=message):
        plan_scan(_table(), **args)


def test_a_pilot_of_another_circuit_is_refused():
    pilot = {"circuit": "map", "circuit_name": "DepressionCircuit", "method": "robust",
             "arm": "single", "radius_mm": 6.0, "minutes_used": 10.0, "file": "p.json"}  # fmt: skip
    with pytest.raises(InputError, match="circuit 'DepressionCircuit'"):
        plan_scan(_table(), "sgacc", "robust", 0.8, pilot)


def _target(tmp_path, **changes):
    doc = {
        "participant": "01",
        "circuit": "sgacc",
        "method": "robust",
        "target_mni": [-40.0, 42.0, 30.0],
        "reliability_verdict": {"radius_mm": 7.2, "minutes_used": 12.5, "reliable": False},
        "multi_echo": {"method": "tedana", "echo_times_ms": [14.5, 38.5, 62.5]},
    }
    doc.update(changes)
    path = tmp_path / "t.json"
    path.write_text(json.dumps(doc))
    return path


def test_read_pilot(tmp_path):
    p = read_pilot(_target(tmp_path))
    assert (p["circuit"], p["method"], p["arm"], p["radius_mm"], p["minutes_used"]) == (
        "sgacc", "robust", "multi", 7.2, 12.5,
    )  # fmt: skip
    assert read_pilot(_target(tmp_path, multi_echo=None, circuit="Conv"))["arm"] == "single"
    assert read_pilot(_target(tmp_path, circuit="DepressionCircuit"))["circuit"] == "map"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"target_mni": None}, None),
        ({"reliability_verdict": None}, "no finite reliability verdict"),
        ({"reliability_verdict": {"radius_mm": float("nan"), "minutes_used": 10}}, "no finite"),
        ({"reliability_verdict": {"radius_mm": 4.0}}, "no finite"),
        (
            {"reliability_verdict": {"radius_mm": 4.0, "minutes_used": 10, "n_resamples": 50}},
            "50 bootstrap resamples",
        ),
    ],
)
def test_bad_pilots(tmp_path, changes, message):
    path = _target(tmp_path, **changes)
    if changes.get("target_mni", 1) is None:
        doc = json.loads(path.read_text())
        del doc["target_mni"]
        path.write_text(json.dumps(doc))
        message = "not a target JSON"
    with pytest.raises(InputError, match=message):
        read_pilot(path)


def test_not_json(tmp_path):
    bad = tmp_path / "x.json"
    bad.write_text("{")
    with pytest.raises(InputError, match="not readable as JSON"):
        read_pilot(bad)


def test_calibration_from_rows_keeps_complete_trajectories():
    rows = [
        {"seed": s, "session": ses, "arm": "single", "circuit": "sgacc", "method": "robust",
         "minutes": m, "radius_mm": 10.0 / m + s}
        for s in (0, 1) for ses in (1, 2) for m in (5.0, 10.0)
    ]  # fmt: skip
    rows = rows[:-1]  # session 1-2 lacks its 10-minute row
    cal = calibration_from_rows(rows, command="test")
    (entry,) = cal["entries"]
    assert entry["sessions"] == ["0-1", "0-2", "1-1"]
    assert entry["radius_mm"] == [[2.0, 1.0], [2.0, 1.0], [3.0, 2.0]]
    assert cal["provenance"]["participants"] == 2 and cal["minutes"] == [5.0, 10.0]


def test_a_file_that_is_not_a_table_is_refused(tmp_path):
    other = tmp_path / "t.json"
    other.write_text(json.dumps({"kind": "something else"}))
    with pytest.raises(InputError, match="not a scan-plan calibration table"):
        load_calibration(other)
    with pytest.raises(InputError, match="not readable"):
        load_calibration(tmp_path / "absent.json")


def test_the_shipped_table():
    cal = load_calibration()
    prov = cal["provenance"]
    assert prov["participants"] == len(prov["seeds"]) >= 1
    assert "benchmarks/multiecho.py" in prov["command"] and prov["git_commit"]
    assert cal["minutes"] == MINUTES
    entries = {(e["circuit"], e["method"], e["arm"]): e for e in cal["entries"]}
    assert set(entries) == {(c, "robust", a) for c in ("sgacc", "map") for a in ("single", "multi")}
    for e in entries.values():  # two sessions per participant, four lengths each
        assert len(e["sessions"]) == 2 * prov["participants"]
        assert np.asarray(e["radius_mm"]).shape == (len(e["sessions"]), 4)
        assert (np.asarray(e["radius_mm"]) > 0).all()
    plan = plan_scan(cal)  # sgacc, robust, 80%
    assert set(plan.arms) == {"single", "multi"} and plan.provenance == prov
