"""Report sections from other domains: scalp rules, coil, dose and schedule, MADRS, reliability.

Each builder returns plain dicts/lists for the templates. A domain that cannot be computed here (a
missing optional module, a head model that fails to load) becomes a note, never an error; a
malformed input the user passed explicitly raises :class:`~tmstarget.exceptions.InputError`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._utils.ids import check_same_participant, participant_column, same_participant
from ..exceptions import InputError

logger = logging.getLogger(__name__)

#: Marker colours of the scalp-rule targets (table swatches and glass-brain squares).
RULE_COLOURS = {"f3": "#ff8f00", "5cm": "#8e24aa", "beam-f3": "#1e88e5"}
#: Radius of the sphere over which the score map is averaged at each point (as ``tmstarget
#: compare``; :data:`tmstarget.compare.SAMPLE_RADIUS_MM`).
SAMPLE_RADIUS_MM = 10.0


def _r1(v: Sequence[float]) -> list[float]:
    return [round(float(x), 1) for x in v]


def _finite_or_none(v: float, digits: int) -> float | None:
    return round(float(v), digits) if v is not None and math.isfinite(v) else None


def _note(what: str, exc: BaseException) -> str:
    logger.warning("report: %s unavailable (%s: %s)", what, type(exc).__name__, exc)
    logger.debug("traceback for report section %s", what, exc_info=True)
    return f"{what} could not be computed ({type(exc).__name__}: {exc})."


def _sample(score: tuple[np.ndarray, np.ndarray] | None, xyz: Sequence[float]) -> float | None:
    from ..compare import point_score

    return point_score(score, xyz, SAMPLE_RADIUS_MM)


def measurements_from(extra: Any):
    """Build ``HeadMeasurements`` from a mapping of the three tape measurements.

    The keys are ``nasion_inion_cm``, ``tragus_tragus_cm`` and ``circumference_cm``.
    """
    from ..scalp import HeadMeasurements, check_measurements

    if extra is None or isinstance(extra, HeadMeasurements):
        return extra
    keys = ("nasion_inion_cm", "tragus_tragus_cm", "circumference_cm")
    if not isinstance(extra, Mapping) or not all(k in extra for k in keys):
        raise InputError(
            f"head measurements must give {', '.join(keys)} "
            "— e.g. {'nasion_inion_cm': 36, 'tragus_tragus_cm': "
            "35, 'circumference_cm': 57}"
        )
    return check_measurements(*(float(extra[k]) for k in keys))


def _template_rules(measurements=None) -> list:
    """``[rule, label, scalp_mni, cortex_mni, depth_mm]`` of the scalp rules on the template head.

    The same for every participant (Beam F3: for the same measurements), so kept on disk
    (:func:`tmstarget.report.figcache.template_json`): placing F3 loads the 1 mm grey-matter
    template (about 2 s); floats come back exactly.
    """
    from .figcache import template_json

    def compute() -> list:
        from ..headmodel import load_template_head
        from ..scalp import place_f3, place_five_cm, scalp_rule_target

        head = load_template_head()
        placed = [
            ("f3", "10-20 F3", place_f3(head)),
            ("5cm", "5 cm anterior to C3", place_five_cm(head)),
        ]
        if measurements is not None:
            m = measurements
            label = (
                f"Beam F3 (NI {m.nasion_inion_cm:g}, TT {m.tragus_tragus_cm:g}, "
                f"HC {m.circumference_cm:g} cm)"
            )
            placed.append(("beam-f3", label, scalp_rule_target(head, "beam-f3", m)))
        return [
            [key, label, [float(v) for v in t.scalp_mni], [float(v) for v in t.cortex_mni]]
            + [float(t.depth_mm)]
            for key, label, t in placed
        ]

    m = measurements
    inputs = (
        None
        if m is None
        else [float(m.nasion_inion_cm), float(m.tragus_tragus_cm), float(m.circumference_cm)]
    )
    return template_json("scalp-rules", inputs, compute)


def scalp_alternatives(
    target_mni: Sequence[float], score: tuple[np.ndarray, np.ndarray] | None, measurements=None
) -> dict:
    """Scalp-rule targets on the template head, their distance to the target and their score.

    Parameters
    ----------
    target_mni : sequence of 3 floats
        The connectivity target (MNI mm).
    score : (data, affine), optional
        The participant's score map, sampled as a 10 mm sphere mean at every point.
    measurements : HeadMeasurements, optional
        Adds Beam F3 for this head.

    Returns
    -------
    dict
        ``rows`` (the connectivity target first), ``score_label`` (what ``score`` is:
        :func:`tmstarget.compare.score_label`) and ``note`` (set when the head model failed).
    """
    from ..compare import score_label

    label_ = score_label(SAMPLE_RADIUS_MM)
    target = np.asarray(target_mni, float)
    rows = [
        {
            "rule": "connectivity",
            "label": "connectivity target",
            "colour": "#00c853",
            "scalp_mni": None,
            "cortex_mni": _r1(target),
            "depth_mm": None,
            "distance_mm": 0.0,
            "score": _sample(score, target),
        }
    ]
    try:
        placed = _template_rules(measurements)
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - optional section
        return {"rows": rows, "score_label": label_, "note": _note("Scalp-rule targets", exc)}
    for key, label, scalp_mni, cortex_mni, depth_mm in placed:
        cortex = np.asarray(cortex_mni, float)
        rows.append(
            {
                "rule": key,
                "label": label,
                "colour": RULE_COLOURS[key],
                "scalp_mni": _r1(scalp_mni),
                "cortex_mni": _r1(cortex),
                "depth_mm": round(float(depth_mm), 1),
                "distance_mm": round(float(np.linalg.norm(cortex - target)), 1),
                "score": _sample(score, cortex),
            }
        )
    return {"rows": rows, "score_label": label_, "note": None}


def _mappings(obj: Mapping, keys: Sequence[str]) -> dict:
    """Return a copy of ``obj`` in which each of ``keys`` is a mapping or None.

    Other shapes are dropped and logged.

    The coil and protocol objects come from other commands whose output may grow; the templates read
    them with ``.get`` and need mappings where they expect them.
    """
    out = dict(obj)
    for key in keys:
        if out.get(key) is not None and not isinstance(out[key], Mapping):
            logger.warning(
                "report: ignoring %r (expected an object, got %s)", key, type(out[key]).__name__
            )
            out[key] = None
        out.setdefault(key, None)  # an absent section reads as None, like an empty one
    return out


def coil_section(target: dict, extra: Any) -> dict | None:
    """Coil placement: the ``tmstarget coil --json`` object when given, else the default placement.

    Parameters
    ----------
    target : dict
        The target JSON.
    extra : dict, object with ``to_json()``, False or None
        A coil plan; ``False`` leaves the section out; ``None`` computes the default placement of
        the default coil on the template head through :mod:`tmstarget.coil` (a note if that is
        unavailable).

    Returns
    -------
    dict or None
        ``plan`` (JSON-ready dict or None), ``source`` and ``note``.
    """
    if extra is False:
        return None
    if extra is not None:
        plan = extra.to_json() if hasattr(extra, "to_json") else extra
        if not isinstance(plan, Mapping):
            raise InputError(
                "coil plan must be the JSON object printed "
                "by 'tmstarget coil --json' — save it to a "
                "file and pass that"
            )
        from ..coil.plan import check_plan_for_target

        check_plan_for_target(plan, target)
        plan = _mappings(plan, ("coil", "placement", "efield", "optimization", "exports"))
        if plan.get("exports"):
            plan["exports"] = {k: v for k, v in plan["exports"].items() if isinstance(v, Mapping)}
        return {
            "plan": plan,
            "source": "Coil plan from 'tmstarget coil', supplied with the report",
            "note": None,
        }
    try:
        from ..coil import DEFAULT_COIL, get_coil, plan_coil
        from ..headmodel import load_template_head

        plan = plan_coil(
            load_template_head(), target["target_mni"], get_coil(DEFAULT_COIL)
        ).to_json()
    except Exception as exc:  # noqa: BLE001 - the coil package is optional here
        return {"plan": None, "source": None, "note": _note("Coil placement", exc)}
    return {
        "plan": plan,
        "source": "Default placement of the default coil on the template head, not optimised "
        "(run 'tmstarget coil --optimize' and pass its JSON for an optimised plan and exports)",
        "note": None,
    }


def protocol_section(extra: Any, participant: str | None = None) -> dict | None:
    """Dose, safety checks, schedule and course summary from ``tmstarget protocol --json`` output.

    A protocol made for another participant than ``participant`` (its ``participant`` field) is
    refused.
    """
    if extra is None:
        return None
    if not isinstance(extra, Mapping) or not isinstance(extra.get("protocol"), Mapping):
        raise InputError(
            "protocol data must be the JSON object printed "
            "by 'tmstarget protocol --json' (with a 'protocol' "
            "key) — save it to a file and pass that"
        )
    if participant is not None:
        check_same_participant(
            extra.get("participant"), participant, "the protocol data (--protocol-json)"
        )
    extra = _mappings(extra, ("dose", "safety", "schedule", "course"))
    schedule = extra["schedule"] or None
    days: list[dict] = []
    for s in (schedule or {}).get("sessions") or []:
        start = str(s.get("start", "")) if isinstance(s, Mapping) else ""
        if not start:
            continue
        if not days or days[-1]["day"] != s.get("day"):
            days.append({"day": s.get("day"), "date": start[:10], "times": []})
        days[-1]["times"].append(start[11:16])
    safety = extra["safety"]
    if safety is not None:
        safety = {
            **safety,
            "checks": [c for c in safety.get("checks") or [] if isinstance(c, Mapping)],
        }
    warnings = extra.get("warnings")
    return {
        "protocol": _mappings(extra["protocol"], ("derived",)),
        "warnings": [str(w) for w in warnings] if isinstance(warnings, list) else [],
        "dose": None if extra["dose"] is None else _mappings(extra["dose"], ("sources",)),
        "safety": safety,
        "schedule": schedule,
        "days": days,
        "course": extra["course"],
    }


def dose_warnings(coil: dict | None, protocol: dict | None) -> list[str]:
    """Say where the dose and the coil plan shown in one report disagree.

    Parameters
    ----------
    coil, protocol : dict or None
        :func:`coil_section` and :func:`protocol_section` output.

    Returns
    -------
    list of str
        The protocol JSON's own ``warnings``, and one sentence when the dose's target depth differs
        from the coil plan's scalp-to-cortex distance by more than
        :data:`tmstarget.protocol.sources.DEPTH_TOLERANCE_MM` (or the dose is depth-corrected
        without the plan's depth being known to it).
    """
    from ..protocol.sources import DEPTH_TOLERANCE_MM

    if protocol is None:
        return []
    out = [str(w) for w in protocol.get("warnings") or []]
    dose = protocol.get("dose") or {}
    plan = (coil or {}).get("plan") or {}
    planned = (plan.get("placement") or {}).get("scalp_cortex_distance_mm")
    typed = dose.get("target_depth_mm")
    if (
        isinstance(planned, (int, float))
        and isinstance(typed, (int, float))
        and abs(float(typed) - float(planned)) > DEPTH_TOLERANCE_MM
    ):
        text = (
            f"The dose was computed for a target depth of {float(typed):g} mm, but the coil plan "
            f"in this report gives a scalp-to-cortex distance of {float(planned):.1f} mm "
            f"({abs(float(typed) - float(planned)):.1f} mm apart) — rerun 'tmstarget protocol' "
            "with --coil-json to dose at the plan's depth"
        )
        if not any("differs by" in w for w in out):
            out.append(text)
    return out


#: Columns of a MADRS table that give a participant's treatment days on the table's ``day`` clock.
TREATMENT_DAY_COLUMNS = ("first_session_day", "last_session_day")


def _table_treatment_days(text: str, participant: str, source: str) -> dict[str, float | None]:
    """Return this participant's ``first_session_day`` / ``last_session_day`` columns of a table.

    A column that is absent or empty for the participant gives None; the value must be the same on
    every row of the participant (as ``last_session_day`` of a trial table).
    """
    import csv
    import io

    rows = list(csv.reader(io.StringIO(text), delimiter="\t"))
    header = [h.strip().lower() for h in (rows[0] if rows else [])]
    who = participant_column(header)
    out: dict[str, float | None] = dict.fromkeys(TREATMENT_DAY_COLUMNS)
    for column in TREATMENT_DAY_COLUMNS:
        if column not in header:
            continue
        values: list[str] = []
        for raw in rows[1:]:
            row = dict(zip(header, (c.strip() for c in raw), strict=False))
            if not any(row.values()) or not same_participant(row.get(who, "01"), participant):
                continue
            if row.get(column, "").lower() not in ("", "na", "n/a"):
                values.append(row[column])
        days = set()
        for v in values:
            try:
                days.add(float(v))
            except ValueError:
                days.add(math.nan)
        if len(days) > 1 or not all(map(math.isfinite, days)):
            raise InputError(
                f"{source}: {column} of participant {participant} is "
                f"{', '.join(sorted(set(values)))} — give one day number, the same on every row"
            )
        out[column] = days.pop() if days else None
    return out


def madrs_section(
    extra: Any,
    participant: str,
    first_session_day: float | None = None,
    last_session_day: float | None = None,
) -> dict | None:
    """Build the participant's MADRS trajectory (figure data and table).

    The outcomes come from a TSV path or are given parsed.

    Parameters
    ----------
    extra : str, Path or sequence of ParticipantOutcomes
        A MADRS table (see ``tmstarget madrs --help``) or :func:`tmstarget.outcomes.madrs_outcomes`
        output.
    participant : str
        Label whose rows are shown (with or without ``sub-`` in the table).
    first_session_day, last_session_day : float, optional
        Days of the first and last treatment session on the table's ``day`` clock (as ``tmstarget
        madrs --first-session-day / --last-session-day``). A day not given is read from the table's
        ``first_session_day`` / ``last_session_day`` column when it has one (as a trial table's
        ``last_session_day``); without either, the figure says that the treatment period is not
        shown.

    Raises
    ------
    InputError
        Unreadable table, no rows for this participant, a first treatment day after the last, or
        treatment-day columns that differ between the participant's rows.
    """
    if extra is None:
        return None
    from ..outcomes import DEFAULT_REMISSION_THRESHOLD, madrs_outcomes, parse_madrs_table

    source = "MADRS outcomes"
    days: dict[str, float | None] = {"first_session_day": None, "last_session_day": None}
    if isinstance(extra, (str, Path)):
        from ..io.tables import read_tsv_text

        path = Path(extra)
        text = read_tsv_text(
            path, "MADRS table", "pass a tab-separated file (see 'tmstarget madrs --help')"
        )
        source = path.name
        extra = madrs_outcomes(parse_madrs_table(text, source=source), source=source)
        days = _table_treatment_days(text, participant, source)
    mine = [r for r in extra if same_participant(r.participant, participant)]
    if not mine:
        raise InputError(
            f"{source} has no rows for participant {participant!r} — check its participant column"
        )
    from_table = {k for k, v in days.items() if v is not None}
    for key, value in (
        ("first_session_day", first_session_day),
        ("last_session_day", last_session_day),
    ):
        if value is not None:  # a given day wins over the table's column
            days[key] = value
            from_table.discard(key)
    first, last = days["first_session_day"], days["last_session_day"]
    if first is not None and last is not None and first > last:
        raise InputError(
            f"first treatment session day {first:g} is after the last ({last:g}) — give the first "
            "and last treatment days in order (--first-session-day, --last-session-day)"
        )
    return {
        "outcomes": mine[0],
        "threshold": DEFAULT_REMISSION_THRESHOLD,
        "rows": [o.to_dict() for o in mine[0].outcomes],
        "first_session_day": first,
        "last_session_day": last,
        "treatment_from": (
            None
            if first is None and last is None
            else (
                f"the {' and '.join(sorted(from_table))} "
                f"column{'s' if len(from_table) > 1 else ''} of {source}"
                if from_table
                else "given"
            )
        ),
    }


def session_log_records(path: str | Path, participant: str) -> tuple:
    """Read a participant's filled-in session log (``tmstarget protocol --log-template``).

    Raises
    ------
    InputError
        Unreadable or invalid log, or a log that names another participant.
    """
    from ..io.tables import read_tsv_text
    from ..protocol.sessionlog import log_participants, parse_session_log

    path = Path(path)
    text = read_tsv_text(path, "session log", "pass the filled-in log of 'tmstarget protocol'")
    named = log_participants(text)
    if len(named) > 1 or (named and not any(same_participant(n, participant) for n in named)):
        raise InputError(
            f"session log {path.name} is for participant(s) {', '.join(sorted(named))}, not "
            f"{participant} — pass this participant's own log"
        )
    return parse_session_log(text, source=path.name)


def mt_trials(path: str | Path, participant: str | None = None) -> tuple:
    """Read an MEP-trials table (``tmstarget mt``'s input), one :class:`Trials` per session.

    ``tmstarget mt`` needs no participant column; when the table has one (``participant``,
    ``participant_id`` or ``subject``), every row must name ``participant``.

    Raises
    ------
    InputError
        Unreadable table, or a participant column naming someone else.
    """
    import csv
    import io

    from ..io.tables import read_tsv_text
    from ..protocol.threshold import parse_trials

    path = Path(path)
    text = read_tsv_text(path, "MEP trials", "pass the trials table of 'tmstarget mt'")
    if participant is not None:
        reader = csv.DictReader(io.StringIO(text), delimiter="\t")
        header = {h.strip().lower(): h for h in (reader.fieldnames or []) if isinstance(h, str)}
        column = participant_column(header)
        who = header[column] if column else None
        named = {
            (row.get(who) or "").strip()
            for row in reader
            if who and any((v or "").strip() for v in row.values() if isinstance(v, str))
        } - {""}
        others = sorted(n for n in named if not same_participant(n, participant))
        if others:
            raise InputError(
                f"{path.name} holds MEP trials of {', '.join(others)}, not of participant "
                f"{participant} — pass this participant's trials table (--mt-trials)"
            )
    return parse_trials(text, source=path.name)


def mt_trials_of_protocol(protocol: Mapping | None, protocol_path: str | Path) -> Path | None:
    """Return the MEP-trials table behind a protocol JSON's motor threshold, when still on disk.

    ``tmstarget protocol --rmt-json mt.json`` records ``dose.sources.rmt.file`` with its SHA-256;
    ``mt.json`` records the ``trials`` table it was computed from. Each path is looked up as
    recorded and beside the file that records it; the ``mt`` JSON counts only when its SHA-256 is
    the recorded one. None when any link is missing.
    """
    from ..io.derivatives import read_json_optional, sha256

    src = protocol
    for key in ("dose", "sources", "rmt"):  # any level may be missing or not an object
        src = src.get(key) if isinstance(src, Mapping) else None
    if not isinstance(src, Mapping) or not src.get("file") or not src.get("sha256"):
        return None

    def find(name: Any, beside: Path) -> Path | None:
        if not isinstance(name, str) or not name:
            return None
        for candidate in (Path(name), beside / name, beside / Path(name).name):
            if candidate.is_file():
                return candidate
        return None

    mt_json = find(src["file"], Path(protocol_path).parent)
    if mt_json is None or sha256(mt_json) != src["sha256"]:
        return None
    try:
        doc = read_json_optional(mt_json)
    except Exception:  # noqa: BLE001 - an unreadable file means no figure, not a failed report
        return None
    return find((doc or {}).get("trials"), mt_json.parent) if isinstance(doc, Mapping) else None


_SKIP = {
    "participant",
    "session",
    "circuit",
    "space",
    "method",
    "inputs",
    "parameters",
    "tmstarget_version",
    "notice",
}


def _flatten(obj: Mapping, prefix: str = "") -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = []
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            rows += _flatten(value, f"{name}.")
        elif value is None or isinstance(value, (str, int, float, bool)):
            rows.append((name, round(value, 4) if isinstance(value, float) else value))
        elif (
            isinstance(value, list)
            and len(value) <= 4
            and all(isinstance(v, (int, float)) for v in value)
        ):
            rows.append((name, ", ".join(f"{v:g}" for v in value)))
    return rows


def human_label(key: str) -> str:
    """``split_half_distance_mm`` → ``split half distance (mm)``."""
    for suffix, unit in (("_mm", " (mm)"), ("_pct", " (%)"), ("_s", " (s)"), ("_min", " (min)")):
        if key.endswith(suffix):
            key = key[: -len(suffix)] + unit
            break
    return key.replace("_", " ").replace(".", ": ")


def _held_out_curve(raw: Any) -> tuple[list[float], list[float]] | None:
    """Return (minutes, held-out distance) of a scan-length curve: its rows up to half the scan.

    A curve recorded before the held-out distance existed has none: no figure then (its distances
    to the whole scan reach 0 at the scan's end and say nothing about a second scan).
    """
    if not (isinstance(raw, list) and raw and all(isinstance(p, Mapping) for p in raw)):
        return None
    pts = [
        (float(p["minutes"]), float(p["held_out_distance_mm"]))
        for p in raw
        if p.get("minutes") is not None and p.get("held_out_distance_mm") is not None
    ]
    return ([m for m, _ in pts], [d for _, d in pts]) if len(pts) >= 2 else None


def reliability_advice(verdict: Mapping | None, method: str | None = None) -> list[str]:
    """Say in plain words what the 95 % region means for this patient and what to do.

    Parameters
    ----------
    verdict : mapping or None
        The target JSON's ``reliability_verdict`` (``reliable``, ``radius_mm``, ``threshold_mm``,
        ``minutes_used``, ``minutes_needed``, ``spans_search_region``, ``single_run_too_short``,
        ``stimulation``).
    method : str, optional
        The targeting method, named in the advice to accept the group target.

    Returns
    -------
    list of str
        Sentences, most important first; empty without a verdict.
    """
    if not isinstance(verdict, Mapping) or verdict.get("radius_mm") is None:
        return []
    r, goal = float(verdict["radius_mm"]), float(verdict.get("threshold_mm") or 5.0)
    used, need = verdict.get("minutes_used"), verdict.get("minutes_needed")
    longer = (
        f"scan longer (about {need:g} minutes in total, estimated from this scan)"
        if isinstance(need, (int, float))
        else "scan longer (by this scan's estimate, more than an hour; a second peak may remain)"
    )
    todo = (
        f"What to do: {longer}; acquire multi-echo data, which reach the same reliability in "
        "about a third of the time (Lynch et al. 2020); or accept the group target, which needs "
        "no individual data."
    )
    out = []
    if verdict.get("reliable") is True:
        out.append(
            f"With 95 % confidence this patient's target lies within {r:.1f} mm of the marked "
            f"point — finer than a figure-8 coil resolves (≤ {goal:g} mm). The individual "
            "target can be used as it is."
        )
    elif verdict.get("spans_search_region"):
        out.append(
            "This scan cannot place an individual target: the points the data allow (the 95 % "
            "region) cover the whole left-DLPFC search region."
        )
        out.append(todo)
    elif verdict.get("single_run_too_short"):
        out.append(
            f"The 95 % region is small ({r:.1f} mm), but it comes from one run of {used:g} "
            "minutes: one short run can look stable while a second scan lands elsewhere."
        )
        out.append(todo)
    elif verdict.get("reliable") is None:
        out.append(
            f"The 95 % region has a radius of {r:.1f} mm, but no verdict is given: "
            + (
                "too few bootstrap resamples."
                if verdict.get("n_resamples") is not None
                else f"the region of --method {method or 'this method'} has not been checked "
                "against held-out sessions yet."
            )
        )
    else:
        out.append(
            f"With 95 % confidence this patient's target lies within {r:.1f} mm of the marked "
            f"point (tmstarget calls a target reliable at ≤ {goal:g} mm); after {used:g} minutes "
            "of data the exact spot is still uncertain."
        )
        out.append(todo)
    stim = verdict.get("stimulation")
    if isinstance(stim, Mapping) and stim.get("text"):
        out.append(f"In stimulation terms: {stim['text']}.")
    return out


def reliability_section(
    reliability: Mapping | None, confidence_radius_mm: float | None, n_bootstrap: int | None = None
) -> dict:
    """Return what is known of the target's reliability: summary rows and any scan-length curve.

    The reliability JSON's layout is read loosely (numbers and nested numbers become rows; a
    ``scan_length_curve`` with minutes and distances becomes a figure), so later additions still
    show.
    """
    rows = (
        [("confidence_radius_mm", confidence_radius_mm)] if confidence_radius_mm is not None else []
    )
    if confidence_radius_mm is not None and n_bootstrap:
        rows.append(("bootstrap resamples", n_bootstrap))
    curve = None
    if reliability:
        body = {k: v for k, v in reliability.items() if k not in _SKIP}
        curve_key = next((k for k in body if "scan_length" in k), None)
        if curve_key is not None:
            raw = body.pop(curve_key)
            curve = _held_out_curve(raw)
            if isinstance(raw, Mapping):
                body[curve_key] = {k: v for k, v in raw.items() if not isinstance(v, list)}
        rows += [
            r
            for r in _flatten(body)
            if r[0] != "confidence_radius_mm" or confidence_radius_mm is None
        ]
    return {
        "rows": [(human_label(k), v) for k, v in rows],
        "curve": curve,
        "available": bool(rows or curve),
    }


def shrinkage_section(target: Mapping) -> dict | None:
    """Return the ``shrinkage`` block of a ``--method shrinkage`` target: its sentence and rows.

    Return None for other methods.

    The rows say how far the individual (``robust``) target is from the group target, against which
    uncertainty, and how strongly the scan's evidence was weighted (``weight`` = τ²/(τ²+σ²): 1 = the
    individual map alone).
    """
    block = target.get("shrinkage")
    if not isinstance(block, Mapping):
        return None
    keys = [
        ("individual_target_mni", "individual target (robust, MNI mm)"),
        ("group_target_mni", "group target (MNI mm)"),
        ("prior", "group prior from"),
        ("distance_individual_to_group_mm", "individual to group distance (mm)"),
        ("uncertainty_radius_mm", "95% uncertainty radius of the individual target (mm)"),
        ("uncertainty_source", "uncertainty from"),
        ("difference_exceeds_uncertainty", "difference larger than the uncertainty"),
        ("weight", "shrinkage weight (1 = individual only)"),
        ("split_half_distance_mm", "split-half distance (mm)"),
        ("prior_sigma_mm", "prior width (mm)"),
    ]

    def xyz(v):
        return "({:.1f}, {:.1f}, {:.1f})".format(*v) if isinstance(v, list) and len(v) == 3 else v

    rows = [
        (label, xyz(block.get(key))) for key, label in keys
    ]  # kv_table shows None as n/a, booleans as yes/no
    return {
        "sentence": block.get("sentence"),
        "rows": rows,
        "exceeds": block.get("difference_exceeds_uncertainty"),
    }


def software_versions() -> list[tuple[str, str]]:
    """Versions of the Python packages that made the report."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    out = [("python", platform.python_version())]
    for name in (
        "tmstarget",
        "numpy",
        "scipy",
        "nibabel",
        "nilearn",
        "matplotlib",
        "jinja2",
        "pandas",
    ):
        try:
            out.append((name, version(name)))
        except PackageNotFoundError:
            out.append((name, "not installed"))
    return out
