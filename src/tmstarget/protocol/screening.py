"""TMS safety screening as a structured form, with the answers that need a physician's review.

The items follow the screening questionnaire recommended by the IFCN safety consensus (Rossi et al.
2011, Clin Neurophysiol 122:1686, "Screening questionnaire before TMS: an update"; items re-worded
here, not copied) with its older counterpart, the TMS Adult Safety Screen (TASS; Keel et al. 2001,
Clin Neurophysiol 112:720). tmstarget splits the medication question so that a drug that lowers the
seizure threshold is a flag of its own. Rossi et al. 2011 (which dropped the 2009 spinal-surgery
item and asks about spinal as well as brain/skull metal) state that an affirmative answer is not an
absolute contraindication but that the risk/benefit ratio must be balanced by the principal
investigator or the treating physician: every "yes" is therefore flagged for a physician's review,
and a course can only be scheduled when no item is flagged or a physician has cleared it.

The form is a TSV with columns ``item``, ``answer`` (yes/no) and ``details``; the date the form was
filled in may be given in a ``screening_date`` row (YYYY-MM-DD; optional, older forms lack it), and
the review is recorded in three more rows: ``reviewed_by`` (name), ``review_date`` (YYYY-MM-DD) and
``review_decision`` (``cleared`` or ``not cleared``), with the value in the ``answer`` column. Dates
are checked: none may lie after today, and a review cannot predate the form it reviews.

A physician's ``not cleared`` is final for scheduling: ``--screening-override`` (for a form that is
missing, on paper or awaiting review) never overrules it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from typing import Any

from ..exceptions import InputError

__all__ = [
    "SCREENING_ITEMS",
    "ScreeningResult",
    "check_screening",
    "parse_screening",
    "screening_template",
]

#: Screening items: key -> question (re-worded from Rossi et al. 2011 / Keel et al. 2001).
SCREENING_ITEMS: dict[str, str] = {
    "epilepsy_or_seizure": "Epilepsy, or ever a seizure or convulsion?",
    "fainting": "Ever fainted or had syncope? (details: when)",
    "head_injury": "Head injury diagnosed as concussion or with loss of consciousness?",
    "hearing_problems": "Hearing problems or ringing in the ears?",
    "cochlear_implant": "Cochlear implant?",
    "pregnancy": "Pregnant, or any chance of pregnancy?",
    "metal_in_head_or_body": "Metal in the brain, skull, spinal cord or elsewhere "
    "in the body (splinters, fragments, "
    "clips, implants)? (details: what)",
    "implanted_neurostimulator": "Implanted neurostimulator (DBS, epidural or subdural "
    "electrodes, VNS)?",
    "pacemaker_or_cardiac_lines": "Cardiac pacemaker or intracardiac lines?",
    "medication_pump": "Implanted medication infusion device?",
    "medications": "Taking any medication? (details: list them)",
    "medication_lowers_seizure_threshold": "Does any medication lower the seizure threshold "
    "(e.g. bupropion, "
    "clozapine, tricyclics, stimulants) or has one been stopped recently (e.g. benzodiazepines)?",
    "previous_tms_problems": "Had TMS before with any problem?",
    "previous_mri_problems": "Had MRI before with any problem?",
}
_FORM_DATE = "screening_date"
_REVIEW = ("reviewed_by", "review_date", "review_decision")
_DECISIONS = ("cleared", "not cleared")


@dataclass(frozen=True)
class ScreeningResult:
    """A completed screening form and what it allows.

    ``status`` is ``clear`` (no item flagged), ``cleared`` (flags reviewed and cleared by a
    physician), ``needs review`` (flags without a decision) or ``not cleared``.
    """

    answers: dict[str, bool]
    details: dict[str, str]
    reviewed_by: str
    review_date: date | None
    review_decision: str
    screening_date: date | None = None

    @property
    def flags(self) -> tuple[str, ...]:
        """Items answered yes (each needs a physician's review)."""
        return tuple(k for k in SCREENING_ITEMS if self.answers[k])

    @property
    def status(self) -> str:
        """``clear``, ``cleared``, ``needs review`` or ``not cleared``."""
        if self.review_decision == "not cleared":
            return "not cleared"
        if not self.flags:
            return "clear"
        return "cleared" if self.review_decision == "cleared" else "needs review"

    @property
    def allows_scheduling(self) -> bool:
        """True when a course may be scheduled."""
        return self.status in ("clear", "cleared")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "status": self.status,
            "allows_scheduling": self.allows_scheduling,
            "flags": [
                {"item": k, "question": SCREENING_ITEMS[k], "details": self.details.get(k, "")}
                for k in self.flags
            ],
            "screening_date": self.screening_date.isoformat() if self.screening_date else None,
            "reviewed_by": self.reviewed_by or None,
            "review_date": self.review_date.isoformat() if self.review_date else None,
            "review_decision": self.review_decision or None,
            "source": "Rossi et al. 2011, Clin Neurophysiol 122:1686 "
            "(items re-worded); Keel et al. 2001 (TASS)",
        }


def screening_template() -> str:
    """Return an empty screening form.

    It has every item with blank answer and details, the form's date, then the three review rows.
    """
    rows = ["item\tanswer\tdetails\tquestion"]
    rows += [f"{k}\t\t\t{q}" for k, q in SCREENING_ITEMS.items()]
    rows += [f"{_FORM_DATE}\t\t\tdate the form was filled in, YYYY-MM-DD"]
    rows += [f"{k}\t\t\t" for k in _REVIEW]
    return "\n".join(rows) + "\n"


def _date(source: str, key: str, value: tuple[str, str, int], today: date) -> date | None:
    """Return a date row's value (None when empty).

    The value is refused when it is not a date or lies after ``today``.
    """
    raw, _, line = value
    if not raw:
        return None
    try:
        when = date.fromisoformat(raw)
    except ValueError:
        raise InputError(
            f"{source} line {line}: {key} {raw!r} is not a date — use YYYY-MM-DD"
        ) from None
    if when > today:
        raise InputError(
            f"{source} line {line}: {key} {when.isoformat()} "
            f"is after today ({today.isoformat()}) — "
            "give the date the "
            f"{'form was filled in' if key == _FORM_DATE else 'physician reviewed the form'}"
        )
    return when


def parse_screening(
    text: str, *, source: str = "screening form", today: date | None = None
) -> ScreeningResult:
    """Parse and validate a completed form.

    Parameters
    ----------
    text : str
        The TSV content (columns ``item``, ``answer``, optional ``details``).
    source : str
        Name used in error messages (e.g. the file name).
    today : datetime.date, optional
        The date dates are checked against (default: today's date).

    Returns
    -------
    ScreeningResult
        Answers, details of flagged items and the physician's review.

    Raises
    ------
    InputError
        Missing columns, unknown or repeated items, unanswered items, answers other than yes/no, a
        review decision without reviewer and date, a bad date, a date after today, or a review dated
        before the form's ``screening_date``; the message names the line.
    """
    reader = csv.DictReader(io.StringIO(text), delimiter="\t")
    header = [h.strip() for h in (reader.fieldnames or [])]
    if "item" not in header or "answer" not in header:
        raise InputError(
            f"{source}: columns item and answer are needed "
            f"(found: {', '.join(header) or 'nothing'}) — "
            "start from 'tmstarget screen --template FILE'"
        )
    reader.fieldnames = header
    values: dict[str, tuple[str, str, int]] = {}
    for line, row in enumerate(reader, start=2):
        key = (row.get("item") or "").strip()
        if not key:
            continue
        if key not in SCREENING_ITEMS and key not in _REVIEW and key != _FORM_DATE:
            raise InputError(
                f"{source} line {line}: item {key!r} is unknown — keep the items of the template"
            )
        if key in values:
            raise InputError(
                f"{source} lines {values[key][2]} and {line}: "
                f"item {key!r} appears twice — keep one row"
            )
        values[key] = ((row.get("answer") or "").strip(), (row.get("details") or "").strip(), line)
    answers: dict[str, bool] = {}
    for key in SCREENING_ITEMS:
        answer, _, line = values.get(key, ("", "", 0))
        where = f"line {line}" if line else "missing row"
        if answer.lower() not in ("yes", "no"):
            got = f"answer {answer!r}" if answer else "no answer"
            raise InputError(
                f"{source} {where}: {key} has {got} — answer yes or no ({SCREENING_ITEMS[key]})"
            )
        answers[key] = answer.lower() == "yes"
    reviewer, when, decision = (values.get(k, ("", "", 0)) for k in _REVIEW)
    if decision[0] and decision[0].lower() not in _DECISIONS:
        raise InputError(
            f"{source} line {decision[2]}: review_decision "
            f"{decision[0]!r} — use cleared or not cleared"
        )
    today = date.today() if today is None else today
    form_date = _date(source, _FORM_DATE, values.get(_FORM_DATE, ("", "", 0)), today)
    review_date = _date(source, "review_date", when, today)
    if form_date and review_date and review_date < form_date:
        raise InputError(
            f"{source} line {when[2]}: review_date {review_date.isoformat()} "
            "is before the form's screening_date "
            f"{form_date.isoformat()} (line {values[_FORM_DATE][2]}) "
            "— a form cannot be reviewed before it was "
            "filled in; correct either date"
        )
    if decision[0] and not (reviewer[0] and review_date):
        raise InputError(
            f"{source}: a review decision needs reviewed_by "
            "and review_date — add who reviewed and when"
        )
    return ScreeningResult(
        answers,
        {k: v[1] for k, v in values.items() if k in SCREENING_ITEMS and v[1]},
        reviewer[0],
        review_date,
        decision[0].lower(),
        form_date,
    )


def check_screening(
    result: ScreeningResult | None, override: str | None, *, required: bool = True
) -> dict[str, Any]:
    """Decide whether a course may be scheduled: by a form that allows it, or by an override.

    An override must be explicit and give its reason.

    Parameters
    ----------
    result : ScreeningResult or None
        The parsed form (None when no form was given).
    override : str or None
        The reason given to schedule without a clearing form (recorded in every output). It may
        stand in for a missing form or one awaiting review, never for a physician's ``not cleared``.
    required : bool
        True when a course is being scheduled (calendar, log template): refuse unless the form or an
        override allows it. False only reports the status.

    Returns
    -------
    dict
        ``status``, ``flags`` etc. from the form (``status`` ``missing`` without one) and
        ``override``.

    Raises
    ------
    InputError
        When scheduling is required but not allowed and no override reason was given; when the
        override is blank; when an override is given against a physician's ``not cleared``.
    """
    out = (
        result.to_dict()
        if result is not None
        else {"status": "missing", "allows_scheduling": False, "flags": []}
    )
    if override is not None and not override.strip():
        raise InputError(
            "--screening-override needs a reason — e.g. --screening-override "
            "'form on paper, signed by Dr X'"
        )
    if override is not None and result is not None and result.status == "not cleared":
        raise InputError(
            "--screening-override cannot overrule a physician: "
            "the form's review_decision is 'not cleared' "
            "by "
            f"{result.reviewed_by} on "
            f"{result.review_date.isoformat() if result.review_date else 'an unknown date'} "
            "— "
            "do not schedule this participant; only a new "
            "review recorded on the form (review_decision "
            "cleared) "
            "can change it"
        )
    out["override"] = override.strip() if override else None
    if required and not out["allows_scheduling"] and not override:
        flags = ", ".join(f["item"] for f in out["flags"])
        why = {
            "missing": "no screening form was given",
            "needs review": f"flagged items need a physician's review ({flags})",
            "not cleared": f"the physician ({out.get('reviewed_by')}) did "
            "not clear this participant",
        }[out["status"]]
        raise InputError(
            f"cannot schedule the course: {why} — pass a completed form with --screening FILE "
            "(see 'tmstarget screen --template'), or --screening-override "
            "REASON (recorded in every output; "
            "never against a physician's 'not cleared')"
        )
    return out
