"""Safety screening form (items after Rossi et al. 2011 / TASS).

Checked: parsing, review flags, and the scheduling gate.
"""

from __future__ import annotations

import json
from datetime import date

import pytest

from tmstarget.cli.main import main
from tmstarget.exceptions import InputError
from tmstarget.protocol.screening import (
    SCREENING_ITEMS,
    check_screening,
    parse_screening,
    screening_template,
)


def form(
    yes: dict[str, str] | None = None, review: tuple[str, str, str] | None = None, **cells: str
) -> str:
    yes = yes or {}
    rows = ["item\tanswer\tdetails"]
    rows += [
        f"{k}\t{cells.get(k, 'yes' if k in yes else 'no')}\t{yes.get(k, '')}"
        for k in SCREENING_ITEMS
    ]
    if review:
        rows += [
            f"{k}\t{v}\t"
            for k, v in zip(("reviewed_by", "review_date", "review_decision"), review, strict=True)
        ]
    return "\n".join(rows) + "\n"


def test_all_no_is_clear():
    result = parse_screening(form())
    assert result.status == "clear" and result.allows_scheduling and result.flags == ()


def test_every_yes_is_flagged_until_a_physician_clears_it():
    result = parse_screening(
        form({"epilepsy_or_seizure": "febrile seizure age 2", "pacemaker_or_cardiac_lines": ""})
    )
    assert result.flags == ("epilepsy_or_seizure", "pacemaker_or_cardiac_lines")
    assert result.status == "needs review" and not result.allows_scheduling
    cleared = parse_screening(form({"epilepsy_or_seizure": "x"}, ("Dr C", "2026-12-01", "cleared")))
    assert cleared.status == "cleared" and cleared.allows_scheduling
    refused = parse_screening(
        form({"epilepsy_or_seizure": "x"}, ("Dr C", "2026-12-01", "not cleared"))
    )
    assert refused.status == "not cleared" and not refused.allows_scheduling


def test_template_lists_every_item_and_parses_once_answered():
    template = screening_template()
    assert all(f"\n{k}\t" in template for k in SCREENING_ITEMS)
    with pytest.raises(InputError, match="epilepsy_or_seizure has no answer — answer yes or no"):
        parse_screening(template)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (form(pregnancy="maybe"), "line 7: pregnancy has answer 'maybe' — answer yes or no"),
        (form().replace("pregnancy\tno\t\n", ""), "missing row: pregnancy has no answer"),
        (form() + "tattoo\tno\t\n", "item 'tattoo' is unknown"),
        (form() + "pregnancy\tno\t\n", "lines 7 and 16: item 'pregnancy' appears twice"),
        (form(review=("", "", "cleared")), "a review decision needs reviewed_by and review_date"),
        (form(review=("Dr C", "1 Dec", "cleared")), "review_date '1 Dec' is not a date"),
        (
            form(review=("Dr C", "2026-12-01", "ok")),
            "review_decision 'ok' — use cleared or not cleared",
        ),
        ("question\tanswer\n", "columns item and answer are needed"),
    ],
)
def test_bad_forms_name_the_line(text, message):
    with pytest.raises(InputError, match=message):
        parse_screening(text, source="form.tsv")


def test_override_needs_a_reason_and_is_recorded():
    with pytest.raises(InputError, match="cannot schedule the course: no screening form was given"):
        check_screening(None, None)
    with pytest.raises(InputError, match="needs a reason"):
        check_screening(None, "  ")
    assert check_screening(None, "paper form")["override"] == "paper form"


def test_screen_command_template_and_check(tmp_path, capsys):
    template = tmp_path / "t.tsv"
    assert main(["screen", "--template", str(template), "--quiet"]) == 0
    assert template.read_text() == screening_template()
    capsys.readouterr()
    completed = tmp_path / "f.tsv"
    completed.write_text(form({"metal_in_head_or_body": "shrapnel, left arm"}))
    assert main(["screen", str(completed), "--json", "--quiet"]) == 0
    result = json.loads(capsys.readouterr().out)["screening"]
    assert result["status"] == "needs review" and not result["allows_scheduling"]
    assert result["flags"] == [
        {
            "item": "metal_in_head_or_body",
            "question": SCREENING_ITEMS["metal_in_head_or_body"],
            "details": "shrapnel, left arm",
        }
    ]


def test_screen_command_errors_are_one_line(tmp_path, capsys):
    bad = tmp_path / "f.tsv"
    bad.write_text(form(pregnancy="maybe"))
    for argv in (["screen"], ["screen", str(bad)]):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("tmstarget screen: error: ") and " — " in err[0]


def test_a_physicians_not_cleared_cannot_be_overridden():
    refused = parse_screening(form({"pregnancy": "unsure"}, ("Dr N", "2026-12-01", "not cleared")))
    for required in (True, False):
        with pytest.raises(
            InputError, match=r"cannot overrule a physician: .*'not cleared' by Dr N on 2026-12-01"
        ):
            check_screening(refused, "paper form", required=required)
    assert check_screening(refused, None, required=False)["status"] == "not cleared"
    with pytest.raises(InputError, match=r"the physician \(Dr N\) did not clear this participant"):
        check_screening(refused, None)
    waiting = parse_screening(form({"pregnancy": "unsure"}))
    assert check_screening(waiting, "signed paper form")["override"] == "signed paper form"


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            "screening_date\t2026-12-09\t\n",
            r"line 16: screening_date 2026-12-09 is after today \(2026-12-08\)",
        ),
        (
            "reviewed_by\tDr C\t\nreview_date\t2026-12-09\t\nreview_decision\tcleared\t\n",
            "review_date 2026-12-09 is after today",
        ),
        (
            "screening_date\t2026-12-05\t\nreviewed_by\tDr "
            "C\t\nreview_date\t2026-12-04\t\nreview_decision\tcleared\t\n",
            r"line 18: review_date 2026-12-04 is before the "
            r"form's screening_date 2026-12-05 \(line 16\)",
        ),
        ("screening_date\tyesterday\t\n", "screening_date 'yesterday' is not a date"),
    ],
)
def test_dates_on_the_form_are_real(rows, message):
    with pytest.raises(InputError, match=message):
        parse_screening(form({"pregnancy": "x"}) + rows, source="form.tsv", today=date(2026, 12, 8))
    same_day = (
        "screening_date\t2026-12-08\t\nreviewed_by\tDr "
        "C\t\nreview_date\t2026-12-08\t\nreview_decision\tcleared\t\n"
    )
    assert (
        parse_screening(form({"pregnancy": "x"}) + same_day, today=date(2026, 12, 8)).status
        == "cleared"
    )


def test_template_carries_the_form_date_row():
    assert "\nscreening_date\t\t\t" in screening_template()
