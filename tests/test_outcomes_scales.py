"""Rating scales: HAM-D-17, QIDS-SR-16, CGI-S/CGI-I and C-SSRS-style items.

Checked: item ranges, totals, response/remission, and flags.

Numbers come from the scales' definitions: HAM-D-17 items 1, 2, 3, 7, 8, 9, 10, 11, 15 scored 0-4,
the rest 0-2, total 0-52 (Hamilton 1960); remission <= 7 (Frank et al. 1991). QIDS-SR-16 total 0-27
from nine domains (Rush et al. 2003); remission <= 5 (Rush et al. 2006). CGI ratings 1-7, CGI-I
response 1-2 (Guy 1976). C-SSRS screener items 1-6 (Posner et al. 2011).
"""

from __future__ import annotations

import json

import pytest

from tmstarget.cli.main import main
from tmstarget.exceptions import InputError
from tmstarget.outcomes import (
    SCALES,
    madrs_outcomes,
    parse_madrs_table,
    parse_scale_table,
    scale_outcomes,
)


def _table(n: int, *rows: tuple[str, str, list]) -> str:
    header = "participant\ttimepoint\t" + "\t".join(f"item{i}" for i in range(1, n + 1))
    return (
        "\n".join([header, *("\t".join([p, t, *map(str, items)]) for p, t, items in rows)]) + "\n"
    )


def test_hamd17_item_ranges_and_total_range():
    hamd = SCALES["hamd17"]
    assert [i + 1 for i, m in enumerate(hamd.item_max) if m == 4] == [1, 2, 3, 7, 8, 9, 10, 11, 15]
    assert hamd.total_range() == (0, 52)
    top = parse_scale_table(_table(17, ("a", "baseline", list(hamd.item_max))), "hamd17")
    assert top[0].total == 52
    bad = [0] * 17
    bad[3] = 3  # item 4, early insomnia, is scored 0-2
    with pytest.raises(
        InputError, match=r"line 2 \(participant a, timepoint baseline\): item4 = 3 is outside 0-2"
    ):
        parse_scale_table(_table(17, ("a", "baseline", bad)), "hamd17")


@pytest.mark.parametrize(
    ("later", "response", "remission"),
    [(12, True, False), (13, False, False), (7, True, True), (8, True, False)],
)
def test_hamd17_response_and_remission(later, response, remission):
    def items(total):
        out = [0] * 17
        for i in range(total):  # fill 0-4 items first
            out[[0, 1, 2, 6, 7, 8, 9, 10, 14][i % 9]] += 1
        return out

    rows = parse_scale_table(
        _table(17, ("a", "baseline", items(24)), ("a", "month1", items(later))), "hamd17"
    )
    result = scale_outcomes(rows, "hamd17", endpoint="month1")
    end = result["rows"][1]
    assert (end["total"], end["change"], end["response"], end["remission"]) == (
        later,
        later - 24,
        response,
        remission,
    )
    assert result["rules"] == {
        "response": ">= 50% reduction of the total from baseline",
        "remission": "total <= 7",
    }


def test_qids_total_is_the_sum_of_nine_domains():
    items = [1, 3, 0, 2, 2, 0, 1, 2, 0, 1, 1, 0, 2, 1, 1, 3]
    # sleep max(1,3,0,2)=3; mood 2; appetite/weight max(0,1,2,0)=2; concentration 1; self-view 1;
    # suicide 0;
    # interest 2; energy 1; psychomotor max(1,3)=3 -> 15
    (row,) = parse_scale_table(_table(16, ("a", "baseline", items)), "qids_sr16")
    assert row.total == 15
    assert parse_scale_table(_table(16, ("a", "baseline", [3] * 16)), "qids_sr16")[0].total == 27
    low = [0] * 16
    low[4] = 2
    low[0] = 3
    rows = parse_scale_table(
        _table(16, ("a", "baseline", items), ("a", "month1", low)), "qids_sr16"
    )
    end = scale_outcomes(rows, "qids_sr16", endpoint="month1")["rows"][1]
    assert end["total"] == 5 and end["remission"] and end["response"]


def test_cgi_ranges_and_cgi_i_response():
    with pytest.raises(InputError, match="item1 = 0 is outside 1-7"):
        parse_scale_table(_table(1, ("a", "baseline", [0])), "cgi_s")
    with pytest.raises(InputError, match="item1 = 8 is outside 1-7"):
        parse_scale_table(_table(1, ("a", "baseline", [8])), "cgi_s")
    rows = parse_scale_table(_table(1, ("a", "month1", [2]), ("b", "month1", [3])), "cgi_i")
    out = scale_outcomes(rows, "cgi_i", endpoint="month1")
    assert [r["response"] for r in out["rows"]] == [True, False] and out["summary"][
        "n_responders"
    ] == 1


def test_cssrs_skip_logic_and_flags():
    ok = parse_scale_table(
        _table(
            6,
            ("a", "baseline", ["no", "no", "", "", "", "no"]),
            ("a", "week1", ["yes", "yes", "yes", "yes", "no", "no"]),
            ("a", "month1", ["1", "0", "", "", "", "1"]),
        ),
        "cssrs",
    )
    rows = scale_outcomes(ok, "cssrs")["rows"]
    assert [r["total"] for r in rows] == [0, 4, 1]
    assert [r["clinical_attention"] for r in rows] == [
        False,
        True,
        True,
    ]  # intent at week1; behaviour at month1
    with pytest.raises(InputError, match="items 3-5 answered yes while item 2"):
        parse_scale_table(
            _table(6, ("a", "baseline", ["no", "no", "no", "yes", "", "no"])), "cssrs"
        )
    with pytest.raises(InputError, match="item3 is empty"):
        parse_scale_table(
            _table(6, ("a", "baseline", ["yes", "yes", "", "no", "no", "no"])), "cssrs"
        )


def test_missing_item_column_and_unknown_scale():
    with pytest.raises(
        InputError, match="item column\\(s\\) 17 missing — the HAM-D-17 has 17 item"
    ):
        parse_scale_table(_table(16, ("a", "baseline", [0] * 16)), "hamd17")
    with pytest.raises(InputError, match="unknown scale 'bdi'"):
        parse_scale_table(_table(1, ("a", "baseline", [1])), "bdi")


def test_madrs_item10_at_4_or_more_is_flagged():
    items = [3, 3, 3, 3, 3, 3, 3, 3, 3, 4]
    text = _table(10, ("a", "baseline", items), ("a", "month1", [1] * 9 + [3]))
    (r,) = madrs_outcomes(parse_madrs_table(text), endpoint="month1")
    assert [o.clinical_attention for o in r.outcomes] == [True, False]
    assert r.outcomes[0].to_dict()["item10_suicidal_thoughts"] == 4


def test_scale_command_json_and_one_line_error(tmp_path, capsys):
    path = tmp_path / "cgi.tsv"
    path.write_text(_table(1, ("a", "month1", [1]), ("b", "month1", [4])))
    assert main(["scale", str(path), "--scale", "cgi_i", "--json", "--quiet"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["summary"]["n_responders"] == 1 and "not a medical device" in result["notice"]
    assert main(["scale", str(path), "--scale", "cgi_i", "--endpoint", "week4", "--quiet"]) == 2
    assert "no rating is labelled 'week4' (found: month1)" in capsys.readouterr().err
    path.write_text(_table(1, ("a", "month1", [9])))
    assert main(["scale", str(path), "--scale", "cgi_i", "--quiet"]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert captured.out == "" and len(lines) == 1 and "item1 = 9 is outside 1-7" in lines[0]


def test_sub_prefixed_and_bare_ids_are_one_participant(tmp_path, capsys):
    """Issue 24: 'sub-01' at baseline and '01' at month1 are one participant.

    They are matched, not reported as 'no baseline' for a second person.
    """
    rows = parse_scale_table(
        _table(
            17,
            ("sub-01", "baseline", [2] * 17),
            ("01", "month1", [1] * 16 + [0]),
            ("02", "baseline", [1] * 17),
            ("sub-02", "month1", [1] * 17),
        ),
        "hamd17",
    )
    out = scale_outcomes(rows, "hamd17", endpoint="month1")
    assert [(r["participant"], r["change"], r["response"]) for r in out["rows"]] == [
        ("sub-01", 0, None),
        ("sub-01", -18, True),
        ("02", 0, None),
        ("02", 0, False),
    ]
    assert out["summary"]["n_participants"] == 2 and out["summary"]["n_responders"] == 1
    with pytest.raises(
        InputError,
        match=r"participant sub-01 has no 'Baseline' HAM-D-17 rating \(found: baseline, month1\)",
    ):
        scale_outcomes(rows, "hamd17", baseline="Baseline", endpoint="month1")


def test_cssrs_flag_is_shown_when_the_endpoint_visit_is_missing(tmp_path, capsys):
    path = tmp_path / "cssrs.tsv"
    path.write_text(
        _table(
            6,
            ("sub-01", "baseline", ["no", "no", "", "", "", "yes"]),
            ("02", "baseline", ["no"] * 2 + [""] * 3 + ["no"]),
        )
    )
    assert (
        main(["scale", str(path), "--scale", "cssrs", "--quiet"]) == 0
    )  # default endpoint month1: not rated yet
    out = capsys.readouterr().out
    assert (
        "CLINICAL ATTENTION: sub-01/baseline: item 6: suicidal behaviour (flag rule: C-SSRS "
        "ideation with intent (item 4 or 5) or any suicidal behaviour (item 6))" in out
    )
    assert (
        "endpoint month1: 0/2 assessed" in out
        and "responder" not in out
        and "remission" not in out.split("\n")[1]
    )
    assert main(["scale", str(path), "--scale", "cssrs", "--endpoint", "week4", "--json"]) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert (
        result["summary"]["clinical_attention"] == ["sub-01/baseline"]
        and result["rows"][0]["suicidal_behaviour"]
    )
    assert "no rating is labelled 'week4'" in captured.err  # a warning, not a refusal


@pytest.mark.parametrize(
    ("scale", "shown", "hidden"),
    [
        ("cgi_s", [], ["response", "remission"]),
        ("cssrs", [], ["response", "remission"]),
        ("cgi_i", ["response"], ["remission"]),
        ("hamd17", ["response", "remission"], []),
    ],
)
def test_response_and_remission_only_where_the_scale_defines_them(scale, shown, hidden):
    n = SCALES[scale].n_items
    items = {
        "cgi_s": [4],
        "cgi_i": [2],
        "cssrs": ["no", "no", "", "", "", "no"],
        "hamd17": [1] * 17,
    }[scale]
    rows = parse_scale_table(_table(n, ("a", "baseline", items), ("a", "month1", items)), scale)
    out = scale_outcomes(rows, scale, endpoint="month1")
    counts = {"response": "n_responders", "remission": "n_remitters"}
    for key in shown:
        assert key in out["rows"][1] and counts[key] in out["summary"]
    for key in hidden:
        assert key not in out["rows"][1] and counts[key] not in out["summary"]
    assert (
        out["rows"][0].get("response") is None
    )  # never a response at baseline (CGI-I rates change itself)


@pytest.mark.parametrize(
    ("scale", "items"),
    [("cgi_s", ([5], [3])), ("cssrs", (["yes", "yes", "no", "yes", "no", "no"], ["no"] * 6))],
)
def test_cgi_s_and_cssrs_outputs_never_mention_response_or_remission(
    scale, items, tmp_path, capsys
):
    path = tmp_path / f"{scale}.tsv"
    n = SCALES[scale].n_items
    path.write_text(_table(n, ("01", "baseline", items[0]), ("01", "month1", items[1])))
    for extra in ([], ["--json"]):
        assert main(["scale", str(path), "--scale", scale, "--quiet", *extra]) == 0
        out = capsys.readouterr().out.lower()
        assert "response" not in out and "remission" not in out and "responder" not in out
        assert "remitter" not in out
    result = scale_outcomes(parse_scale_table(path.read_text(), scale), scale, endpoint="month1")
    assert result["rules"] == {} and result["reports"]


def test_cssrs_flag_names_the_item(tmp_path, capsys):
    path = tmp_path / "cssrs.tsv"
    path.write_text(
        _table(
            6,
            ("01", "baseline", ["yes", "yes", "no", "yes", "no", "no"]),  # intent: item 4
            ("02", "baseline", ["yes", "yes", "yes", "yes", "yes", "yes"]),  # 4, 5 and 6
            ("03", "baseline", ["yes", "yes", "yes", "no", "no", "no"]),  # no flag
        )
    )
    rows = parse_scale_table(path.read_text(), "cssrs")
    result = scale_outcomes(rows, "cssrs")
    assert result["rows"][0]["attention_items"] == ["item 4: active ideation with some intent"]
    assert result["rows"][1]["attention_items"] == [
        "item 4: active ideation with some intent",
        "item 5: active ideation with plan and intent",
        "item 6: suicidal behaviour",
    ]
    assert (
        result["rows"][2]["attention_items"] == [] and not result["rows"][2]["clinical_attention"]
    )
    assert result["summary"]["clinical_attention_items"] == {
        "01/baseline": ["item 4: active ideation with some intent"],
        "02/baseline": result["rows"][1]["attention_items"],
    }
    assert main(["scale", str(path), "--scale", "cssrs", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "CLINICAL ATTENTION: 01/baseline: item 4: active ideation with some intent (" in out
    assert "03/baseline" not in out.split("CLINICAL ATTENTION", 1)[1]
