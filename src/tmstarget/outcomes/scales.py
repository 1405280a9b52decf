"""Scales besides MADRS: HAM-D-17, QIDS-SR-16, CGI-S, CGI-I and C-SSRS-style items.

These are the other depression scales recorded in TMS trials.

Every item is validated (whole numbers in the item's range; every required item present — no
prorating), and each scale has its total and, where the literature defines them, response and
remission:

``hamd17``
    17 items scored 0-4 or 0-2; total: the sum, 0-52 (Hamilton 1960); response: >= 50 % reduction;
    remission: total <= 7 (Frank et al. 1991).
``qids_sr16``
    16 items scored 0-3; total: 9 domains, 0-27 — the maximum of items 1-4 (sleep), of 6-9
    (appetite/weight) and of 15-16 (psychomotor), plus items 5, 10, 11, 12, 13 and 14 (Rush et al.
    2003); response: >= 50 % reduction; remission: total <= 5 (Rush et al. 2006, STAR*D).
``cgi_s``
    1 item scored 1-7; total: the rating (Guy 1976); no response or remission (a severity rating).
``cgi_i``
    1 item scored 1-7; total: the rating (Guy 1976); response: 1 or 2 ("very much" / "much
    improved").
``cssrs``
    6 items scored 0/1 (no/yes); ideation severity 0-5 = the highest "yes" of items 1-5; behaviour =
    item 6; no response or remission; flag: ideation with intent (item 4 or 5) or any suicidal
    behaviour (item 6).

HAM-D-17 items scored 0-4: 1 depressed mood, 2 guilt, 3 suicide, 7 work and activities, 8
retardation, 9 agitation, 10 psychic anxiety, 11 somatic anxiety, 15 hypochondriasis; the others
0-2. C-SSRS screener items (Posner et al. 2011): 1 wish to be dead, 2 non-specific active suicidal
thoughts, 3 active ideation with any method (no plan, no intent), 4 active ideation with some
intent, 5 active ideation with plan and intent, 6 suicidal behaviour; items 3-5 are asked only when
item 2 is "yes" and may then be left empty.

References: Hamilton M. J Neurol Neurosurg Psychiatry 1960;23:56-62. Frank E et al. Arch Gen
Psychiatry 1991;48:851-855. Rush AJ et al. Biol Psychiatry 2003;54:573-583. Rush AJ et al. Am J
Psychiatry 2006;163:1905-1917. Guy W. ECDEU Assessment Manual for Psychopharmacology, 1976. Posner K
et al. Am J Psychiatry 2011;168:1266-1277.

Research use; not a medical device. A flag is a prompt for clinical review, not an assessment of
risk.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from typing import Any

from .._utils.ids import participant_column, participant_label
from ..exceptions import InputError
from .madrs import _Cells, _day

__all__ = ["SCALES", "Scale", "ScaleAssessment", "parse_scale_table", "scale_outcomes"]

_YES = {"1": 1, "yes": 1, "y": 1, "0": 0, "no": 0, "n": 0}


@dataclass(frozen=True)
class Scale:
    """A rating scale: item ranges, how the total is formed, and the response / remission rules."""

    key: str
    name: str
    item_max: tuple[int, ...]
    item_min: int = 0
    response_fraction: float | None = None
    remission_max: int | None = None
    response_max: int | None = None
    binary: bool = False
    citation: str = ""

    @property
    def n_items(self) -> int:
        """Number of items."""
        return len(self.item_max)

    def total(self, items: tuple[int | None, ...]) -> int:
        """Total (or severity score) of validated items."""
        if self.key == "qids_sr16":
            q = items
            return max(q[0:4]) + max(q[5:9]) + max(q[14:16]) + q[4] + sum(q[9:14])
        if self.key == "cssrs":
            return max((i + 1 for i in range(5) if items[i] == 1), default=0)
        return sum(i for i in items if i is not None)

    def total_range(self) -> tuple[int, int]:
        """Possible totals."""
        if self.key == "qids_sr16":
            return 0, 27
        if self.key == "cssrs":
            return 0, 5
        return self.item_min * self.n_items, sum(self.item_max)

    def rules(self) -> dict[str, str | None]:
        """Response and remission rules in words."""
        response = (
            f">= {100 * self.response_fraction:g}% reduction of the total from baseline"
            if self.response_fraction
            else f"rating <= {self.response_max}"
            if self.response_max
            else None
        )
        remission = f"total <= {self.remission_max}" if self.remission_max is not None else None
        return {"response": response, "remission": remission}


#: Why a C-SSRS row is flagged for clinical attention (a prompt for review, not a risk assessment).
CSSRS_FLAG_RULE = "C-SSRS ideation with intent (item 4 or 5) or any suicidal behaviour (item 6)"
#: What each C-SSRS screener item asks (Posner et al. 2011), to name the item behind a flag.
CSSRS_ITEMS = {
    1: "wish to be dead",
    2: "non-specific active suicidal thoughts",
    3: "active ideation with any method (no plan, no intent)",
    4: "active ideation with some intent",
    5: "active ideation with plan and intent",
    6: "suicidal behaviour",
}
#: What a scale without response and remission reports instead (CGI-S, C-SSRS).
NO_RESPONSE_NOTE = {
    "cgi_s": "a severity rating: totals and change from baseline",
    "cssrs": "screening items: ideation severity, suicidal behaviour and flags for review",
}


def cssrs_flag_items(items: tuple[int | None, ...]) -> list[str]:
    """Name the C-SSRS items that flag a row, e.g. ``["item 4: active ideation with some intent"]``.

    The flag (:data:`CSSRS_FLAG_RULE`) is raised by a yes to item 4 or 5 (ideation with intent) or
    to item 6 (suicidal behaviour); an empty list means no flag.
    """
    return [f"item {i}: {CSSRS_ITEMS[i]}" for i in (4, 5, 6) if items[i - 1] == 1]


_HAMD_04 = {1, 2, 3, 7, 8, 9, 10, 11, 15}
SCALES: dict[str, Scale] = {
    "hamd17": Scale(
        "hamd17",
        "HAM-D-17",
        tuple(4 if i in _HAMD_04 else 2 for i in range(1, 18)),
        response_fraction=0.5,
        remission_max=7,
        citation="Hamilton 1960; remission <= 7: Frank et al. 1991",
    ),
    "qids_sr16": Scale(
        "qids_sr16",
        "QIDS-SR-16",
        (3,) * 16,
        response_fraction=0.5,
        remission_max=5,
        citation="Rush et al. 2003; remission <= 5: Rush et al. 2006 (STAR*D)",
    ),
    "cgi_s": Scale("cgi_s", "CGI-S", (7,), item_min=1, citation="Guy 1976"),
    "cgi_i": Scale(
        "cgi_i",
        "CGI-I",
        (7,),
        item_min=1,
        response_max=2,
        citation="Guy 1976; response = much or very much improved",
    ),
    "cssrs": Scale(
        "cssrs", "C-SSRS screener (style)", (1,) * 6, binary=True, citation="Posner et al. 2011"
    ),
}


@dataclass(frozen=True)
class ScaleAssessment:
    """One validated row: items (``None`` for a skipped C-SSRS item), total and day."""

    participant: str
    timepoint: str
    items: tuple[int | None, ...]
    total: int
    day: float | None
    line: int


def _item_columns(header: list[str], scale: Scale, source: str) -> dict[int, str]:
    pattern = re.compile(rf"^(?:item|{re.escape(scale.key)})[ _-]?0*(\d+)$")
    items = {int(m.group(1)): col for col in header if (m := pattern.match(col))}
    missing = [str(i) for i in range(1, scale.n_items + 1) if i not in items]
    extra = [items[i] for i in items if not 1 <= i <= scale.n_items]
    if "timepoint" not in header:
        raise InputError(
            f"{source}: no 'timepoint' column — add one naming "
            "each assessment, e.g. baseline, month1"
        )
    if missing or extra:
        problem = (
            f"item column(s) {', '.join(missing)} missing"
            if missing
            else f"unexpected item column(s) {', '.join(extra)}"
        )
        raise InputError(
            f"{source}: {problem} — the {scale.name} has {scale.n_items} "
            f"item(s) (item1..item{scale.n_items}); give all "
            "of them"
        )
    return items


def _binary(cells: _Cells, column: str, raw: str, skippable: bool) -> int | None:
    value = raw.strip().lower()
    if not value and skippable:
        return None
    if value not in _YES:
        what = "is empty" if not value else f"= {raw!r} is not yes/no"
        raise cells.error(
            f"{column} {what}",
            "C-SSRS items are yes/no (1/0); items 3-5 may be empty only when item 2 is no",
        )
    return _YES[value]


def parse_scale_table(
    text: str, scale: str | Scale, *, source: str = "scale table", delimiter: str = "\t"
) -> tuple[ScaleAssessment, ...]:
    """Parse and validate item-level ratings of one scale (one row per participant and timepoint).

    Parameters
    ----------
    text : str
        Table with a header: ``timepoint``, optional ``participant`` and ``day``, and
        ``item1..itemN`` (``<scale>_NN`` also accepted).
    scale : str or Scale
        A key of :data:`SCALES` or a :class:`Scale`.
    source : str
        Name used in error messages.
    delimiter : str
        Field separator.

    Returns
    -------
    tuple of ScaleAssessment

    Raises
    ------
    InputError
        Unknown scale, missing columns, an empty, non-integer or out-of-range item, a C-SSRS item
        3-5 answered "yes" while item 2 is "no", or a timepoint given twice for one participant.
    """
    if isinstance(scale, str):
        if scale not in SCALES:
            raise InputError(f"unknown scale {scale!r} — choose one of: {', '.join(SCALES)}")
        scale = SCALES[scale]
    rows = [
        (n, r)
        for n, r in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), start=1)
        if any(c.strip() for c in r)
    ]
    if len(rows) < 2:
        raise InputError(
            f"{source}: no assessments — add a header row and one row per participant and timepoint"
        )
    header = [h.strip().lower() for h in rows[0][1]]
    items = _item_columns(header, scale, source)
    who = participant_column(header)
    seen: dict[tuple[str, str], int] = {}
    out = []
    for line, raw in rows[1:]:
        row = dict(zip(header, (c.strip() for c in raw), strict=False))
        participant, timepoint = (row.get(who, "") if who else "01"), row.get("timepoint", "")
        cells = _Cells(
            source, line, f" (participant {participant or '?'}, timepoint {timepoint or '?'})"
        )
        if not participant or not timepoint:
            raise cells.error("participant or timepoint is empty", "name both for every assessment")
        key = (
            participant_label(participant, f"{source} line {line}: participant"),
            timepoint,
        )  # 01 and sub-01 are one person
        if key in seen:
            raise InputError(
                f"{source} lines {seen[key]} and {line}: participant {participant} has timepoint "
                f"{timepoint!r} twice — give each timepoint once per participant"
            )
        seen[key] = line
        if scale.binary:
            values = [
                _binary(cells, items[1], row.get(items[1], ""), False),
                _binary(cells, items[2], row.get(items[2], ""), False),
            ]
            values += [
                _binary(cells, items[i], row.get(items[i], ""), values[1] == 0)
                for i in range(3, scale.n_items)
            ]
            values.append(
                _binary(cells, items[scale.n_items], row.get(items[scale.n_items], ""), False)
            )
            if values[1] == 0 and any(values[i] == 1 for i in (2, 3, 4)):
                raise cells.error(
                    "items 3-5 answered yes while item 2 (active suicidal thoughts) is no",
                    "check the ratings: items 3-5 follow a yes to item 2",
                )
        else:
            values = []
            for i in range(1, scale.n_items + 1):
                values.append(
                    cells.score(
                        items[i],
                        row.get(items[i], ""),
                        scale.item_max[i - 1],
                        f"{scale.name} item {i} ratings",
                        scale.item_min,
                    )
                )
        day = _day(cells, row.get("day", "")) if "day" in header else None
        out.append(
            ScaleAssessment(
                participant, timepoint, tuple(values), scale.total(tuple(values)), day, line
            )
        )
    return tuple(out)


def scale_outcomes(
    assessments: tuple[ScaleAssessment, ...],
    scale: str | Scale,
    *,
    baseline: str = "baseline",
    endpoint: str | None = None,
) -> dict[str, Any]:
    """Totals per assessment, change from baseline, response and remission, and C-SSRS flags.

    Parameters
    ----------
    assessments : tuple of ScaleAssessment
        Output of :func:`parse_scale_table`.
    scale : str or Scale
        The scale the rows were parsed with.
    baseline : str
        Baseline label (needed for change-based response; CGI-I and C-SSRS need none).
    endpoint : str, optional
        Endpoint visit label; the summary counts responders and remitters there (not assessed =
        neither).

    Returns
    -------
    dict
        ``scale``, ``rules`` (only those the scale defines), ``reports`` (what CGI-S and C-SSRS
        report instead of response and remission, else None), ``citation``, ``rows`` (one per
        assessment) and ``summary``.
        Participants are matched by their BIDS label (``01`` and ``sub-01`` are one person, shown as
        first written). A row has ``response`` / ``remission`` (and the summary ``n_responders`` /
        ``n_remitters``) only when the scale defines them: neither for CGI-S and C-SSRS, no
        remission for CGI-I; response is ``None`` at baseline. C-SSRS rows carry
        ``suicidal_behaviour``, ``clinical_attention`` and ``attention_items`` (the items behind
        the flag, named: "item 4: active ideation with some intent") whatever the endpoint; the
        summary's ``clinical_attention_items`` maps each flagged ``participant/timepoint`` to them.

    Raises
    ------
    InputError
        A participant without the baseline rating a change-based response needs, or an ``endpoint``
        no row is labelled with on a scale that defines response (CGI-S and C-SSRS report such an
        endpoint as not assessed).
    """
    scale = SCALES[scale] if isinstance(scale, str) else scale
    # One participant per BIDS label: "sub-01" at baseline and "01" at month1 are the same person,
    # shown as first written.
    shown: dict[str, str] = {}
    for a in assessments:
        shown.setdefault(
            participant_label(a.participant, f"participant of {a.timepoint!r}"), a.participant
        )
    label = {a.participant: participant_label(a.participant) for a in assessments}
    base = {label[a.participant]: a.total for a in assessments if a.timepoint == baseline}
    needs_base = scale.response_fraction is not None
    has_response, has_remission = (
        scale.response_fraction is not None or scale.response_max is not None,
        scale.remission_max is not None,
    )
    if (
        endpoint is not None
        and has_response
        and not any(a.timepoint == endpoint for a in assessments)
    ):
        found = ", ".join(sorted({a.timepoint for a in assessments}))
        raise InputError(
            f"no rating is labelled {endpoint!r} (found: {found}) "
            "— pass --endpoint with the endpoint visit's "
            f"label (without one every participant would count as a {scale.name} non-responder)"
        )
    rows = []
    for a in assessments:
        who = label[a.participant]
        b = base.get(who)
        if needs_base and b is None:
            found = ", ".join(x.timepoint for x in assessments if label[x.participant] == who)
            raise InputError(
                f"participant {shown[who]} has no {baseline!r} "
                f"{scale.name} rating (found: {found}) — add "
                "it, "
                "or pass --baseline with the label the table uses"
            )
        change = None if b is None else a.total - b
        row = {
            "participant": shown[who],
            "timepoint": a.timepoint,
            "day": a.day,
            "total": a.total,
            "change": change,
        }
        if has_response:  # only where the scale defines it (not CGI-S, not C-SSRS)
            response = None
            if a.timepoint == baseline:
                pass
            elif scale.response_fraction is not None:
                response = a.total <= (1 - scale.response_fraction) * b if b else None
            else:
                response = a.total <= scale.response_max
            row["response"] = response
        if has_remission:
            row["remission"] = a.total <= scale.remission_max
        if scale.key == "cssrs":
            row["suicidal_behaviour"] = a.items[5] == 1
            row["clinical_attention"] = a.total >= 4 or a.items[5] == 1
            row["attention_items"] = cssrs_flag_items(a.items)
        rows.append(row)
    ends = [r for r in rows if endpoint is not None and r["timepoint"] == endpoint]
    summary: dict[str, Any] = {
        "endpoint": endpoint,
        "n_participants": len(shown),
        "n_assessed": len(ends),
    }
    if has_response:
        summary["n_responders"] = sum(1 for r in ends if r["response"])
    if has_remission:
        summary["n_remitters"] = sum(1 for r in ends if r["remission"])
    summary["clinical_attention"] = [
        f"{r['participant']}/{r['timepoint']}" for r in rows if r.get("clinical_attention")
    ]
    if scale.key == "cssrs":
        summary["clinical_attention_rule"] = CSSRS_FLAG_RULE
        summary["clinical_attention_items"] = {
            f"{r['participant']}/{r['timepoint']}": r["attention_items"]
            for r in rows
            if r["clinical_attention"]
        }
    return {
        "scale": scale.name,
        "key": scale.key,
        "total_range": list(scale.total_range()),
        # only the rules the scale defines: none for CGI-S and C-SSRS (see ``reports``)
        "rules": {k: v for k, v in scale.rules().items() if v is not None},
        "reports": NO_RESPONSE_NOTE.get(scale.key),
        "citation": scale.citation,
        "rows": rows,
        "summary": summary,
    }
