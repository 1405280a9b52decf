"""One number, one name (issue 29): the same score of the same point is the same everywhere.

The participant report's summary card, its scalp-rule table and ``tmstarget compare`` all show the
circuit score of a point; each says what it is (:data:`tmstarget.compare.SCORE_LABELS`), and a
label shown in two places carries the same value in both.
"""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from tmstarget.cli.main import main
from tmstarget.compare import SCORE_LABELS, point_score, score_label
from tmstarget.report.html import render
from tmstarget.report.participant import participant_context

TARGET = [-40.0, 40.0, 30.0]


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory) -> Path:
    """Write a target JSON and a smooth score map (2 mm MNI grid) for sub-01."""
    out = tmp_path_factory.mktemp("agree") / "out"
    sub = out / "sub-01"
    sub.mkdir(parents=True)
    affine = np.array([[2, 0, 0, -90], [0, 2, 0, -126], [0, 0, 2, -72], [0, 0, 0, 1]], float)
    ijk = np.indices((91, 109, 91)).reshape(3, -1).T
    xyz = ijk @ affine[:3, :3].T + affine[:3, 3]
    score = np.exp(-np.sum((xyz - TARGET) ** 2, axis=1) / (2 * 15.0**2)) + 0.002 * xyz[:, 1]
    inside = (xyz[:, 0] < -10) & (xyz[:, 1] > 0) & (xyz[:, 2] > 0)
    data = np.where(inside, score, np.nan).reshape(91, 109, 91).astype(np.float32)
    nib.save(nib.Nifti1Image(data, affine), str(sub / "sub-01_desc-sgacc_score.nii.gz"))
    target = {
        "participant": "01",
        "session": None,
        "space": "MNI152NLin6Asym",
        "circuit": "sgacc",
        "method": "robust",
        "target_mni": TARGET,
        "score": 1.0123,
        "score_voxel": 1.05,
    }
    (sub / "sub-01_desc-sgacc_target.json").write_text(json.dumps(target))
    return out


def test_card_table_and_compare_agree_on_the_score_of_a_point(out_dir, tmp_path, capsys):
    path, ctx = participant_context(out_dir, "01", extras={"coil": False})
    sphere = score_label()
    assert sphere == SCORE_LABELS["sphere"] == "10 mm sphere mean"
    cards = dict(ctx["cards"])
    # the summary card names both quantities: the method's peak and the 10 mm sphere mean
    assert cards[f"circuit score, {SCORE_LABELS['peak']}"] == "1.012"
    card_sphere = cards[f"circuit score, {sphere}"]

    rows = {r["rule"]: r for r in ctx["alternatives"]["rows"]}
    assert ctx["alternatives"]["score_label"] == sphere
    assert card_sphere == f"{rows['connectivity']['score']:.3f}"
    score_map = nib.load(str(out_dir / "sub-01" / "sub-01_desc-sgacc_score.nii.gz"))
    expected = point_score((np.asanyarray(score_map.dataobj), score_map.affine), TARGET)
    assert rows["connectivity"]["score"] == expected

    html = render("participant.html", ctx)
    assert f"circuit score, {sphere}</th>" in html
    assert f"circuit score, {SCORE_LABELS['peak']}" in html

    target_json = out_dir / "sub-01" / "sub-01_desc-sgacc_target.json"
    assert main(["compare", "--target-json", str(target_json), "--rule", "f3", "--json"]) == 0
    c = json.loads(capsys.readouterr().out)["comparisons"][0]
    assert c["individual_score_label"] == sphere
    # same label, same point -> same value: the connectivity target and F3 (same cortical point)
    assert c["individual_score_connectivity"] == rows["connectivity"]["score"]
    assert c["scalp_rule_mni"] == rows["f3"]["cortex_mni"]
    assert c["individual_score_scalp_rule"] == rows["f3"]["score"]

    # the text output says what each score is
    assert main(["compare", "--target-json", str(target_json), "--rule", "f3"]) == 0
    text = capsys.readouterr().out
    assert f"individual score ({sphere}) {expected:.4f} at the connectivity target" in text
    assert "group score: no map" in text


def test_compare_labels_a_fallback_to_the_target_json_score(tmp_path, capsys):
    """Without a score map the connectivity score is the target JSON's: labelled peak voxel."""
    t = {"participant": "05", "session": None, "target_mni": TARGET, "score": 0.4}
    path = tmp_path / "sub-05_desc-sgacc_target.json"
    path.write_text(json.dumps(t))
    assert main(["compare", "--target-json", str(path), "--rule", "f3", "--json"]) == 0
    c = json.loads(capsys.readouterr().out)["comparisons"][0]
    assert c["individual_score_connectivity"] == 0.4
    assert c["individual_score_label"] == SCORE_LABELS["peak"]
    assert c["better_individual"] == "unknown"


def test_score_labels_of_other_samplings():
    assert score_label(6, "gaussian") == "6 mm FWHM Gaussian-weighted mean"
    assert score_label(0) == "value at the point"
    assert point_score(None, TARGET) is None


def _run_json(capsys, argv: list[str]) -> dict:
    capsys.readouterr()
    assert main([*argv, "--json", "--quiet"]) == 0
    return json.loads(capsys.readouterr().out)


def test_report_provenance_lists_every_input_and_warns_on_depth(out_dir, tmp_path, capsys):
    """The coil and protocol JSONs are listed with their SHA-256; a dose depth 5+ mm off warns."""
    from tmstarget.io.derivatives import sha256

    coil = tmp_path / "coil.json"
    coil.write_text(json.dumps(_run_json(capsys, ["coil", "--target=-40,40,30"])))
    depth = json.loads(coil.read_text())["placement"]["scalp_cortex_distance_mm"]
    typed = round(depth - 7, 1)
    protocol = tmp_path / "protocol.json"
    argv = ["protocol", "--protocol", "saint", "--rmt", "50", "--target-depth-mm", str(typed)]
    protocol.write_text(json.dumps(_run_json(capsys, [*argv, "--motor-depth-mm", str(typed)])))
    assert (
        main(
            [
                *("report", str(out_dir), "participant", "--participant-label", "01"),
                *("--coil-json", str(coil), "--protocol-json", str(protocol), "--quiet"),
            ]
        )
        == 0
    )
    html = (out_dir / "sub-01" / "sub-01_desc-sgacc_report.html").read_text()
    for f in (coil, protocol):
        assert sha256(f) in html and f.name in html
    assert "dose-warning" in html and f"target depth of {typed:g} mm" in html
    assert f"scalp-to-cortex distance of {depth:.1f} mm" in html

    # a protocol made with --coil-json: its depth source is shown, the plan's file is listed
    planned = tmp_path / "planned.json"
    argv = ["protocol", "--protocol", "saint", "--rmt", "50", "--coil-json", str(coil)]
    planned.write_text(json.dumps(_run_json(capsys, [*argv, "--motor-depth-mm", str(depth)])))
    assert (
        main(
            [
                *("report", str(out_dir), "participant", "--participant-label", "01"),
                *("--coil-json", str(coil), "--protocol-json", str(planned), "--quiet"),
            ]
        )
        == 0
    )
    html = (out_dir / "sub-01" / "sub-01_desc-sgacc_report.html").read_text()
    assert "dose-warning" not in html and "from the coil plan" in html
    assert f"{coil} (target_depth of the dose)" in html


def test_cohort_report_and_reliability_group_give_the_same_ratio(tmp_path, capsys):
    """One ratio, one name, one direction: between/within, as ``reliability group`` writes it."""
    from tmstarget.report.cohort import cohort_context
    from tmstarget.targeting.uncertainty.cohort import RATIO_LABEL

    out = tmp_path / "out"
    points = {"01": ([-40, 40, 30], [-41, 41, 31]), "02": ([-30, 50, 20], [-33, 49, 22])}
    for label, xyzs in points.items():
        for ses, xyz in zip(("1", "2"), xyzs):
            d = out / f"sub-{label}" / f"ses-{ses}"
            d.mkdir(parents=True)
            t = {"participant": label, "session": ses, "circuit": "sgacc", "target_mni": xyz}
            (d / f"sub-{label}_ses-{ses}_desc-sgacc_target.json").write_text(json.dumps(t))
    ratio = _run_json(capsys, ["reliability", str(out), "group"])["ratio_between_within"]
    assert ratio > 1  # between / within: the same person's sessions are closer
    summary = dict(cohort_context(out)[1]["sections"][0]["summary"])
    assert summary[RATIO_LABEL] == ratio
    html = render("cohort.html", cohort_context(out, input_files=[])[1])
    assert RATIO_LABEL in html and "within/between" not in html
