"""``tmstarget plan-scan``: text and JSON answers, pilots, one-line errors with exit 2."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tmstarget.cli.main import main
from tmstarget.protocol import scanplan


@pytest.fixture
def table(monkeypatch):
    """Hand-made table: 20 sessions, radius = base * f, f = 0.5 ... 1.45 (as the math tests)."""
    f = (10 + np.arange(20)) / 20
    ids = [f"{i // 2}-{i % 2 + 1}" for i in range(20)]
    bases = {"single": [20.0, 10.0, 6.0, 4.0], "multi": [12.0, 6.0, 3.5, 2.5]}
    cal = {
        "kind": scanplan.CALIBRATION_KIND,
        "provenance": {
            "command": "hand-made table",
            "date": "2026-12-08",
            "participants": 10,
            "tmstarget_version": "0.test",
        },  # fmt: skip
        "minutes": [5.0, 10.0, 20.0, 40.0],
        "entries": [
            {
                "circuit": c,
                "method": "robust",
                "arm": a,
                "sessions": ids,
                "radius_mm": np.outer(f, b).tolist(),
            }
            for c in ("sgacc", "map")
            for a, b in bases.items()
        ],  # fmt: skip
    }
    monkeypatch.setattr(scanplan, "load_calibration", lambda path=None: cal)
    return cal


def test_text_answer(table, capsys):
    assert main(["plan-scan"]) == 0
    out = capsys.readouterr().out
    assert "circuit sgacc, method robust" in out
    assert "single-echo: about 40 minutes;" in out
    assert "multi-echo: about 20 minutes in one run (the simulator alone: 17;" in out
    assert "hand-made table" in out and "0.test" in out


def test_json_answer_and_not_reached(table, capsys):
    assert main(["plan-scan", "--circuit", "map", "--probability", "0.9", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["circuit"] == "map" and doc["probability"] == 0.9
    assert doc["arms"]["single"]["minutes"] is None
    assert doc["arms"]["single"]["reached_within_table"] is False
    assert doc["arms"]["single"]["quantile_radius_mm"]["40"] == 5.4
    # f = 1.35: 8.1 at 10, 4.725 at 20 min -> 19, raised to the 20-minute single-run floor
    assert doc["arms"]["multi"]["model_minutes"] == 19.0 and doc["arms"]["multi"]["minutes"] == 20
    assert doc["calibration"]["command"] == "hand-made table"


def _pilot(tmp_path, **changes):
    doc = {
        "participant": "01", "circuit": "sgacc", "method": "robust",
        "target_mni": [-40.0, 42.0, 30.0],
        "reliability_verdict": {"radius_mm": 6.1, "minutes_used": 10.0, "reliable": False},
    }  # fmt: skip
    doc.update(changes)
    path = tmp_path / "pilot.json"
    path.write_text(json.dumps(doc))
    return str(path)


def test_pilot_updates_the_plan(table, tmp_path, capsys):
    assert main(["plan-scan", "--pilot-json", _pilot(tmp_path), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["pilot"]["arm"] == "single" and doc["pilot"]["percentile"] == 15.0
    assert doc["arms"]["single"]["model_minutes"] == 15.0
    assert doc["arms"]["multi"]["model_minutes"] == 8.0
    assert doc["arms"]["single"]["minutes"] == doc["arms"]["multi"]["minutes"] == 20.0


def test_pilot_circuit_is_the_default(table, tmp_path, capsys):
    path = _pilot(tmp_path, circuit="DepressionCircuit")
    assert main(["plan-scan", "--pilot-json", path, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["circuit"] == "map"


def _error(capsys, argv) -> str:
    try:
        code = main(argv)  # tmstarget's errors return 2
    except SystemExit as exc:  # argparse's exit
        code = exc.code
    assert code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    return lines[0]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--probability", "1"], "must be between 0 and 1"),
        (["--probability", "-0.2"], "must be between 0 and 1"),
        (["--probability", "nan"], "--probability"),
        (["--circuit", "convergent"], "invalid choice"),
        (["--method", "nonsense"], "invalid choice"),
        (["--method", "similarity"], "calibrated methods: robust"),
    ],
)
def test_bad_arguments(table, capsys, argv, message):
    assert message in _error(capsys, ["plan-scan", *argv])


@pytest.mark.parametrize(
    ("changes", "extra", "message"),
    [
        ({"reliability_verdict": None}, [], "no finite reliability verdict"),
        ({"reliability_verdict": {"radius_mm": None, "minutes_used": 10}}, [], "no finite"),
        ({"circuit": "DepressionCircuit"}, ["--circuit", "sgacc"], "the plan asks for 'sgacc'"),
        ({"method": "similarity"}, ["--method", "robust"], "method 'similarity'"),
        ({"target_mni": None, "circuit": None}, [], "not a target JSON"),
    ],
)
def test_bad_pilots(table, tmp_path, capsys, changes, extra, message):
    path = _pilot(tmp_path, **changes)
    if changes.get("circuit", "x") is None:
        path_obj = tmp_path / "pilot.json"
        path_obj.write_text(json.dumps({"participants": []}))
    assert message in _error(capsys, ["plan-scan", "--pilot-json", path, *extra])


def test_missing_pilot_file(table, tmp_path, capsys):
    assert "absent.json not found — check the path" in _error(
        capsys, ["plan-scan", "--pilot-json", str(tmp_path / "absent.json")]
    )
    assert "is a folder" in _error(capsys, ["plan-scan", "--pilot-json", str(tmp_path)])
    (tmp_path / "broken.json").write_text("{")
    assert "not readable as JSON" in _error(
        capsys, ["plan-scan", "--pilot-json", str(tmp_path / "broken.json")]
    )
