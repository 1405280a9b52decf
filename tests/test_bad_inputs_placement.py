"""Bad inputs of the coil-scale method (issue 25).

They are the placement-error options and the placement a target carries.

Each case is checked by :func:`bad_input_harness.check_refused`: exit 2, one stderr line, no
traceback, nothing written or changed. The placement-error options must be finite and realistic and
are refused with a method that does not use them; ``coil`` refuses what would re-decide
(``--optimize``, ``--handle-angle``, ``--scalp-offset-mm``) or misread (an edited or incomplete
``coil_placement``) the placement ``target --method efield`` chose.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bad_input_harness import check_refused
from test_bad_inputs import TARGET, _tiny_dataset


def _efield_target() -> dict:
    """Return a target JSON of the coil-scale method.

    It carries the placement that the default placement over its target would have.
    """
    from tmstarget.coil.geometry import place_on_head
    from tmstarget.headmodel import load_template_head

    placement = place_on_head(load_template_head(), TARGET["target_mni"]).to_json()
    return TARGET | {
        "method": "efield",
        "coil_placement": {"placement": placement, "cortical_hotspot_mni": TARGET["target_mni"]},
    }


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("bad_placement") / "in"
    d.mkdir()
    good = _efield_target()
    placement = good["coil_placement"]["placement"]
    docs = {
        "efield.json": good,
        "efield_noplacement.json": good
        | {"coil_placement": {"cortical_hotspot_mni": [-40, 42, 30]}},
        "efield_list.json": good | {"coil_placement": [1, 2, 3]},
        "efield_nan.json": good
        | {"coil_placement": {"placement": placement | {"scalp_normal": [float("nan"), 0, 1]}}},
        "efield_handle_normal.json": good
        | {
            "coil_placement": {
                "placement": placement | {"handle_direction": placement["scalp_normal"]}
            }
        },
        "efield_not_unit.json": good
        | {"coil_placement": {"placement": placement | {"handle_direction": [2.0, 0.0, 0.0]}}},
        "efield_other_target.json": good
        | {"coil_placement": {"placement": placement | {"target_mm": [-30.0, 52.0, 30.0]}}},
        "efield_negative_offset.json": good
        | {"coil_placement": {"placement": placement | {"scalp_offset_mm": -3.0}}},
    }
    for name, doc in docs.items():
        (d / name).write_text(json.dumps(doc, allow_nan=True))
    return d


@pytest.fixture(scope="module")
def sim_root(tmp_path_factory) -> Path:
    return _tiny_dataset(tmp_path_factory.mktemp("bad_placement_sim"))


TARGET_CMD = ["target", "{sim}", "{o}/o", "participant"]
COIL = ["coil", "--target-json"]

CASES: list[tuple[str, list[str], str]] = [
    (
        "efield-error-negative",
        [*TARGET_CMD, "--method", "efield", "--placement-error-mm", "-1"],
        "1-20 mm",
    ),
    (
        "efield-error-huge",
        [*TARGET_CMD, "--method", "efield", "--placement-error-mm", "50"],
        "1-20 mm",
    ),
    (
        "efield-error-in-metres",
        [*TARGET_CMD, "--method", "efield", "--placement-error-mm", "0.005"],
        "not cm or m",
    ),
    (
        "efield-error-in-cm",
        [*TARGET_CMD, "--method", "efield", "--placement-error-mm", "0.5"],
        "not cm or m",
    ),
    (
        "efield-error-nan",
        [*TARGET_CMD, "--method", "efield", "--placement-error-mm", "nan"],
        "finite",
    ),
    (
        "efield-error-text",
        [*TARGET_CMD, "--method", "efield", "--placement-error-mm", "five"],
        "five",
    ),
    (
        "efield-rotation-negative",
        [*TARGET_CMD, "--method", "efield", "--placement-error-deg", "-10"],
        "1-45 degrees",
    ),
    (
        "efield-rotation-huge",
        [*TARGET_CMD, "--method", "efield", "--placement-error-deg", "90"],
        "1-45 degrees",
    ),
    (
        "efield-rotation-in-radians",
        [*TARGET_CMD, "--method", "efield", "--placement-error-deg", "0.17"],
        "not radians",
    ),
    (
        "efield-rotation-inf",
        [*TARGET_CMD, "--method", "efield", "--placement-error-deg", "inf"],
        "finite",
    ),
    (
        "placement-error-robust",
        [*TARGET_CMD, "--placement-error-mm", "3"],
        "only by --method efield",
    ),
    (
        "placement-rotation-cluster",
        [*TARGET_CMD, "--method", "cluster", "--placement-error-deg", "5"],
        "only by --method efield",
    ),
    (
        "reliability-placement-robust",
        ["reliability", "{sim}", "{o}/r", "participant", "--placement-error-mm", "3"],
        "only by --method efield",
    ),
    (
        "coil-efield-optimize",
        [*COIL, "{d}/efield.json", "--optimize"],
        "already chose the coil placement",
    ),
    (
        "coil-efield-handle",
        [*COIL, "{d}/efield.json", "--handle-angle", "30"],
        "--handle-angle would change",
    ),
    (
        "coil-efield-offset",
        [*COIL, "{d}/efield.json", "--scalp-offset-mm", "4"],
        "--scalp-offset-mm would change",
    ),
    (
        "coil-efield-both",
        [*COIL, "{d}/efield.json", "--scalp-offset-mm", "4", "--handle-angle", "30"],
        "drop them",
    ),
    ("coil-efield-no-placement", [*COIL, "{d}/efield_noplacement.json"], "incomplete or malformed"),
    ("coil-efield-list", [*COIL, "{d}/efield_list.json"], "incomplete or malformed"),
    ("coil-efield-nan", [*COIL, "{d}/efield_nan.json"], "unit vectors"),
    ("coil-efield-handle-normal", [*COIL, "{d}/efield_handle_normal.json"], "tangent"),
    ("coil-efield-not-unit", [*COIL, "{d}/efield_not_unit.json"], "unit vectors"),
    ("coil-efield-negative-offset", [*COIL, "{d}/efield_negative_offset.json"], "offset >= 0"),
    ("coil-efield-other-target", [*COIL, "{d}/efield_other_target.json"], "another target"),
]


@pytest.mark.parametrize("argv, fragment", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_placement_input_is_refused(
    argv, fragment, inputs, sim_root, tmp_path, capsys, monkeypatch
):
    out = tmp_path / "out"
    out.mkdir()
    check_refused(
        argv,
        fragment,
        {"d": inputs, "sim": sim_root, "o": out},
        [inputs, sim_root.parent, out],
        tmp_path,
        capsys,
        monkeypatch,
    )


def test_coil_uses_the_placement_the_target_carries(inputs, capsys):
    """The happy path beside the refusals: the placement is used as it is.

    The output says where it came from.
    """
    from tmstarget.cli.main import main

    assert main(["coil", "--target-json", str(inputs / "efield.json"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    carried = _efield_target()["coil_placement"]["placement"]
    assert (
        doc["placement_source"] == "target JSON (--method efield)" and doc["optimization"] is None
    )
    assert (
        doc["placement"]["scalp_entry_mm"] == carried["scalp_entry_mm"]
        and doc["placement"]["handle_direction"] == carried["handle_direction"]
    )
