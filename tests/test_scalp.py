"""Beam F3 formula, scalp-rule placement on the template head, and the f3/scalp commands."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from tmstarget.cli.main import main
from tmstarget.exceptions import InputError
from tmstarget.headmodel import (
    load_template_head,
    nearest_scalp_point,
    polyline_length,
    scalp_curve,
    standard_positions,
)
from tmstarget.scalp import (
    beam_f3,
    check_measurements,
    place_beam_f3,
    place_f3,
    place_five_cm,
    template_frame,
)


def _calculator_slope_form(ni: float, tt: float, hc: float) -> tuple[float, float]:
    """Slow reference: the calculator's slope–intercept form of F3.

    F3 lies where y = A·x − R1/2 meets y = B·(x − R2/2), with negative y anterior, as described for
    the calculator's "webpage version" (Z. Li, Maastricht 2023).
    """
    r1, r2 = 0.4 * ni, 0.4 * tt
    a = (r2 * math.sin(math.radians(324)) + r1 / 2) / r2
    b = r1 * math.sin(math.radians(298)) / (r1 * math.cos(math.radians(298)) - r2 / 2)
    x = 0.5 * (r1 - r2 * b) / (a - b)
    y = a * x - r1 / 2
    theta = math.degrees(math.atan(y / x))
    return hc / 4 * (90 + theta) / 90, 0.91 * math.hypot(x, y)


def test_beam_f3_published_app_example():
    # TMS Measurement app (cocodedk/tms-measurement-app, BeamF3CalculatorTest.kt): TT 36, NI 38, HC
    # 60
    # -> X 6.92 cm, Y 9.76 cm, adjusted Y 10.11 cm (its linear fit of the web calculator).
    b = beam_f3(nasion_inion_cm=38.0, tragus_tragus_cm=36.0, circumference_cm=60.0)
    assert b.x_cm == pytest.approx(6.92, abs=0.1)
    assert b.y_cm == pytest.approx(9.76, abs=0.1)
    assert b.y_adjusted_cm == pytest.approx(10.11, abs=0.1)
    assert b.y_adjusted_cm - b.y_cm == pytest.approx(0.35)  # Mir-Moghtadaei et al. 2015


@pytest.mark.parametrize(
    "ni,tt,hc",
    [(34, 34, 55), (35, 35, 57), (36.5, 35.5, 57), (38, 37, 60), (33, 36, 56), (40, 38, 62)],
)
def test_beam_f3_matches_slope_form_and_linear_fit(ni, tt, hc):
    b = beam_f3(ni, tt, hc)
    x_ref, y_ref = _calculator_slope_form(ni, tt, hc)
    assert b.x_cm == pytest.approx(x_ref, abs=1e-9)
    assert b.y_cm == pytest.approx(y_ref, abs=1e-9)
    # linear fit X = 0.1154·HC, Y = 0.2637·(TT + NI)/2 (TMS Measurement app) — within 0.1 cm for
    # usual heads
    assert b.x_cm == pytest.approx(0.1154 * hc, abs=0.1 if abs(tt - ni) <= 1 else 0.3)
    assert b.y_cm == pytest.approx(0.2637 * (tt + ni) / 2, abs=0.1)


@pytest.mark.parametrize(
    "argv,fragment",
    [
        (["--nasion-inion", "-36", "--tragus-tragus", "35", "--circumference", "57"], "positive"),
        (["--nasion-inion", "0", "--tragus-tragus", "35", "--circumference", "57"], "positive"),
        (
            ["--nasion-inion", "360", "--tragus-tragus", "350", "--circumference", "570"],
            "millimetres",
        ),
        (["--nasion-inion", "14", "--tragus-tragus", "14", "--circumference", "22"], "inches"),
        (
            ["--nasion-inion", "36", "--tragus-tragus", "35", "--circumference", "45"],
            "inconsistent",
        ),
        (["--nasion-inion", "42", "--tragus-tragus", "29", "--circumference", "57"], "differ"),
    ],
)
def test_f3_bad_measurements_exit_2_one_line(capsys, argv, fragment):
    assert main(["f3", *argv]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tmstarget f3: error: ") and " — " in lines[0]
    assert fragment in lines[0]
    assert captured.out == ""


def test_f3_json_is_one_object(capsys):
    assert (
        main(
            [
                "f3",
                "--nasion-inion",
                "38",
                "--tragus-tragus",
                "36",
                "--circumference",
                "60",
                "--json",
            ]
        )
        == 0
    )
    obj = json.loads(capsys.readouterr().out)
    assert obj["x_cm"] == pytest.approx(6.95, abs=0.01) and obj["y_cm"] == pytest.approx(
        9.79, abs=0.01
    )
    assert "midline" in obj["x_description"] and "vertex" in obj["y_description"]


def test_check_measurements_accepts_template_head():
    frame = template_frame(load_template_head())
    m = check_measurements(
        frame.nasion_inion_mm / 10, frame.tragus_tragus_mm / 10, frame.circumference_mm / 10
    )
    assert (
        33 < m.nasion_inion_cm < 42
        and 33 < m.tragus_tragus_cm < 42
        and 54 < m.circumference_cm < 63
    )


def test_beam_f3_on_template_head_is_near_f3():
    head = load_template_head()
    frame = template_frame(head)
    b = beam_f3(
        frame.nasion_inion_mm / 10, frame.tragus_tragus_mm / 10, frame.circumference_mm / 10
    )
    target = place_beam_f3(head, b)
    # Y is walked along the scalp from the vertex
    assert polyline_length(target.path)[-1] == pytest.approx(10 * b.y_cm, abs=0.5)
    # Beam et al. 2009 and Mir-Moghtadaei et al. 2015 (95% within 1.36 cm of MRI sites): Beam F3
    # lands near F3
    assert np.linalg.norm(target.scalp_mni - place_f3(head).scalp_mni) < 10.0
    assert target.scalp_mni[0] < -30 and 10 < target.depth_mm < 25


@pytest.mark.parametrize("distance_cm", [5.0, 5.5])
def test_five_cm_rule_path_length(distance_cm):
    head = load_template_head()
    target = place_five_cm(head, "C3", distance_cm)
    path = target.path
    # every path point lies on the scalp
    assert (
        max(
            np.linalg.norm(nearest_scalp_point(head, p)[0] - p)
            for p in path[:: max(1, len(path) // 20)]
        )
        < 0.5
    )
    # independent re-measurement: a 10x denser scalp curve between the two ends, same plane
    start, end = path[0], path[-1]
    centre = (
        head.centre
        - np.dot(
            head.centre - start,
            n := np.cross(path[1] - start, end - start)
            / np.linalg.norm(np.cross(path[1] - start, end - start)),
        )
        * n
    )
    dense = scalp_curve(head, centre, start, end, n=5001)
    dense[0] = start
    assert polyline_length(dense)[-1] == pytest.approx(10 * distance_cm, abs=2.0)  # 5.0 ± 0.2 cm
    assert np.linalg.norm(end - start) < 10 * distance_cm  # chord shorter than the path
    c3 = standard_positions(head)["C3"]
    assert end[1] - c3[1] > 0.8 * 10 * distance_cm  # anterior


def test_scalp_cli_json_and_errors(capsys):
    assert main(["scalp", "--rule", "5cm", "--hotspot=-37,-21,58", "--json"]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["rule"] == "5cm" and obj["path_length_mm"] == pytest.approx(50.0, abs=0.2)
    assert len(obj["cortex_mni"]) == 3 and obj["depth_mm"] > 5
    assert main(["scalp", "--rule", "beam-f3", "--nasion-inion", "36"]) == 2
    assert "needs" in capsys.readouterr().err
    assert main(["scalp", "--rule", "5cm", "--hotspot", "Q9"]) == 2
    assert main(["scalp", "--rule", "5cm", "--distance-cm", "-5"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith("tmstarget scalp: error: ") for line in err)


def test_beam_f3_rejects_non_numbers():
    with pytest.raises(InputError, match="not a number"):
        beam_f3("abc", 35, 57)


@pytest.mark.parametrize(
    "hotspot, message",
    [
        (
            "500,0,0",
            "414 mm outside the template scalp",
        ),  # half a metre away: would snap to the right hemisphere
        ("0,0,0", "79 mm inside the template scalp"),  # the centre of the brain
        ("-37,-21,-40", "inside the template scalp"),  # below the cortex
    ],
)
def test_five_cm_rule_refuses_a_hotspot_far_from_the_scalp(capsys, hotspot, message):
    assert main(["scalp", "--rule", "5cm", f"--hotspot={hotspot}"]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and message in err[0] and captured.out == ""


def test_five_cm_rule_accepts_hand_knob_and_scalp_hotspots():
    head = load_template_head()
    knob = place_five_cm(
        head, np.array([-37.0, -21.0, 58.0])
    )  # cortical hand knob, ~20 mm below the scalp
    c3 = place_five_cm(head, "C3")
    on_scalp = place_five_cm(
        head,
        standard_positions(head)["C3"]
        + 10.0 * nearest_scalp_point(head, standard_positions(head)["C3"])[1],
    )
    assert knob.scalp_mni[0] < -20 and np.linalg.norm(on_scalp.scalp_mni - c3.scalp_mni) < 1.0
