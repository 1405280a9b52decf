"""The participant report's coil figures (issue 29): the coil on the head, the E-field on cortex."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from test_report import make_report_outputs
from tmstarget.cli.main import main
from tmstarget.report import write_participant_report
from tmstarget.report.coil_figures import (
    coil_on_head_figure,
    draw_coil_on_head,
    efield_figure,
    handle_words,
)

pytest.importorskip("tmstarget.headmodel")

LEFT = [-40.0, 42.0, 30.0]


@pytest.fixture(scope="module")
def head():
    from tmstarget.headmodel import load_template_head

    return load_template_head()


@pytest.fixture(scope="module")
def default_plan(head) -> dict:
    from tmstarget.coil import DEFAULT_COIL, get_coil, plan_coil

    return plan_coil(head, LEFT, get_coil(DEFAULT_COIL)).to_json()


@pytest.fixture(scope="module")
def optimised_plan(head) -> dict:
    """Return a plan optimised on a circuit blob 10 mm from the target (as ``coil --optimize``)."""
    from tmstarget.coil import DEFAULT_COIL, get_coil, plan_coil

    points = np.mgrid[-70:-10:4, 10:80:4, 0:60:4].reshape(3, -1).T.astype(float)
    values = np.exp(-((points - [-48.0, 34.0, 24.0]) ** 2).sum(1) / (2 * 8.0**2))
    plan = plan_coil(
        head, LEFT, get_coil(DEFAULT_COIL), circuit_points_mm=points, circuit_values=values
    )
    assert plan.optimization is not None and plan.optimization.shift_mm > 3.0
    return plan.to_json()


@pytest.mark.parametrize(
    ("handle", "target", "words"),
    [
        ([1, -1, 0], LEFT, "pointing backwards, turned 45° towards the midline (to the right)"),
        ([-1, -1, 0], LEFT, "pointing backwards, turned 45° away from the midline (to the left)"),
        ([0, 1, 0], LEFT, "pointing forwards"),
        ([-1, 0, 0], LEFT, "pointing sideways, away from the midline (to the left)"),
        ([1, 0, 0], [40.0, 42.0, 30.0], "pointing sideways, away from the midline (to the right)"),
        ([0, -1, -1], LEFT, "pointing backwards, tilted 45° downwards"),
        ([0, 0.1, 1], LEFT, "pointing up"),
    ],
)
def test_handle_in_words(handle, target, words):
    assert handle_words(np.array(handle, float) * 3.0, target) == "handle " + words


def test_equal_axis_scales_in_mni_mm(head, optimised_plan):
    from tmstarget.report._mpl import new_figure

    fig = new_figure(4.8, 3.4)
    axes = draw_coil_on_head(fig, head, optimised_plan)
    fig.canvas.draw()
    assert len(axes) == 2
    for ax in axes:
        assert ax.get_aspect() == 1.0
        (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
        box = ax.get_window_extent()
        # 1 mm is as long across as up: a 3 mm difference looks like 3 mm in both directions
        assert abs(box.width / abs(x1 - x0)) == pytest.approx(box.height / abs(y1 - y0), rel=0.01)
        assert "MNI mm" in ax.get_xlabel() and "MNI mm" in ax.get_ylabel()
    assert axes[0].get_title() == "from the left" and axes[1].get_title() == "from above"


def _entries(svg: str) -> set[str]:
    """Return the placements (``k`` of ``entry-<k>-<panel>``) whose scalp entry is drawn."""
    ids = re.findall(r'id="entry-(\d)-(\d)"', svg)
    assert {p for _, p in ids} == {"0", "1"}  # both panels
    return {k for k, _ in ids}


def test_coil_on_head_shows_default_and_optimised_placement(head, default_plan, optimised_plan):
    one = coil_on_head_figure(default_plan, "sub-01", head)
    two = coil_on_head_figure(optimised_plan, "sub-01", head)
    assert len(_entries(one.image)) == 1 and len(_entries(two.image)) == 2
    for fig in (one, two):
        for mark in ("centre", "handle", "target"):
            assert f'id="{mark}-' in fig.image, mark
        assert 'width="100%"' in fig.image  # scalable SVG
    assert "default placement" in two.image and "optimised placement" in two.image
    assert "default placement" not in one.image
    assert one.alt.startswith("The coil on the template head of sub-01, seen from the left")
    assert "handle pointing backwards, turned" in one.alt and "away from the midline" in one.alt
    assert "Default placement (blue square)" in two.alt and "entry moved" in two.alt
    assert "Default placement" not in one.alt


def test_efield_figure_marks_target_peak_and_half_maximum(head, default_plan):
    fig = efield_figure(default_plan, "sub-01", head)
    for mark in ("target-0", "target-1", "peak-0", "half-0", "half-1"):
        assert f'id="{mark}"' in fig.image, mark
    assert "<image" in fig.image  # the field points, embedded as a raster
    assert "V/m at dI/dt = 1 A/µs" in fig.image
    ef = default_plan["efield"]
    sentence = (
        f"At the target's depth the strongest field is {ef['max_to_target_mm']:.1f} mm from the "
        f"target; the target receives {ef['target_pct_of_max']:.0f} % of that peak field"
    )
    assert sentence in fig.alt and sentence in fig.caption
    assert re.search(
        r"within 30 mm of the target, seen from the left and from above: \d+ points", fig.alt
    )


def test_coil_figures_are_deterministic(head, optimised_plan):
    assert coil_on_head_figure(optimised_plan, "x", head) == coil_on_head_figure(
        optimised_plan, "x", head
    )
    assert efield_figure(optimised_plan, "x", head) == efield_figure(optimised_plan, "x", head)


def test_participant_report_shows_both_coil_figures(sim_dataset, tmp_path, capsys):
    out = make_report_outputs(sim_dataset[0], tmp_path / "out")
    t = json.loads((out / "sub-01" / "sub-01_desc-sgacc_target.json").read_text())
    assert (
        main(["coil", "--target=" + ",".join(map(str, t["target_mni"])), "--json", "--quiet"]) == 0
    )
    plan = json.loads(capsys.readouterr().out)
    html = write_participant_report(out, "01", extras={"coil": plan}).read_text()
    coil = html.split('<section id="coil">')[1].split("</section>")[0]
    alts = re.findall(r'<img src="data:image/svg\+xml;base64,[^"]+" alt="([^"]+)"', coil)
    assert len(alts) == 2, alts
    assert alts[0].startswith("The coil on the template head of sub-01, seen from the left")
    assert alts[1].startswith("Induced electric field of the coil placement of sub-01")
    assert "At the target&#39;s depth the strongest field is" in coil
    assert "of that peak field" in coil and "could not be drawn" not in coil
    assert "field peak" not in html
    # without a coil JSON the report draws the default placement it computes; --no-coil: no figures
    default = write_participant_report(out, "01").read_text()
    assert default.count("The coil on the template head of sub-01") == 1
    none = write_participant_report(out, "01", extras={"coil": False}).read_text()
    assert "The coil on the template head" not in none and 'id="coil"' not in none
