"""The cohort report: every participant's target on one glass brain, a table, reliability figures.

Built from the target JSONs (and reliability JSONs, when present) under a derivatives folder; one
section per circuit. :func:`write_cohort_report` is the only function that writes.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np

from ..io.derivatives import read_json_optional, sha256, sibling, write_text_atomic
from . import brain, cohortfig, plots
from ._mpl import ReportFigure, safe_alt_figure, safe_figure, svg_text_uri
from .data import check_out_dir, cohort_targets
from .html import render
from .sections import RULE_COLOURS, software_versions

logger = logging.getLogger(__name__)

#: File name of the cohort report in the derivatives folder.
COHORT_REPORT = "desc-cohort_report.html"


def _f3_reference() -> tuple[list[float] | None, str | None]:
    """Return the 10-20 F3 of the template head projected to cortex, or a note when unavailable."""
    try:
        from ..headmodel import load_template_head
        from ..scalp import place_f3

        return [round(float(v), 1) for v in place_f3(load_template_head()).cortex_mni], None
    except Exception as exc:  # noqa: BLE001 - a reference point is optional
        logger.warning("report: template F3 unavailable (%s: %s)", type(exc).__name__, exc)
        return (
            None,
            f"The template F3 could not be placed ({type(exc).__name__}: "
            f"{exc}); distances to F3 are n/a.",
        )


def _reliability(path: Path) -> dict:
    try:
        return read_json_optional(sibling(path, "reliability.json")) or {}
    except Exception as exc:  # noqa: BLE001 - optional file
        logger.warning("report: cannot read reliability results beside %s (%s)", path.name, exc)
        return {}


def _number(v: Any) -> float | None:
    return (
        float(v)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v)
        else None
    )


def _input_files(
    items: list[tuple[Path, dict]], out: Path, extra: Sequence[Path | str] = ()
) -> list[tuple[str, str]]:
    """Every file the cohort report was made from, with its SHA-256.

    The target JSONs, the reliability JSONs read beside them, and ``extra`` (e.g. the
    ``--trial-json`` file).
    """
    paths = []
    for path, _ in items:
        paths.append(path)
        rel = sibling(path, "reliability.json")
        if rel.is_file():
            paths.append(rel)
    paths += [Path(p) for p in extra]
    out_files = []
    for p in paths:
        try:
            name = p.resolve().relative_to(out.resolve()).as_posix()
        except ValueError:
            name = str(p)
        out_files.append((name, sha256(p)))
    return out_files


def _rows(items: list[tuple[Path, dict]], out: Path, f3: list[float] | None) -> list[dict]:
    xyz = np.array([t["target_mni"] for _, t in items], float)
    centroid = xyz.mean(axis=0)
    rows = []
    for (path, t), p in zip(items, xyz):
        rel = _reliability(path)
        qc = t.get("qc") or {}
        report = sibling(path, "report.html")
        rows.append(
            {
                "participant": str(t["participant"]),
                "session": t.get("session"),
                "target_mni": p.round(1).tolist(),
                "score": _number(t.get("score")),
                "method": t.get("method"),
                "confidence_radius_mm": _number(
                    t.get("confidence_radius_mm", rel.get("confidence_radius_mm"))
                ),
                "split_half_distance_mm": _number(rel.get("split_half_distance_mm")),
                "n_volumes_used": t.get("n_volumes_used"),
                "percent_censored": _number(qc.get("percent_censored")),
                "mean_fd_mm": _number(qc.get("mean_fd_mm")),
                "tsnr_region": _number(qc.get("median_tsnr_search_region")),
                "distance_to_mean_mm": round(float(np.linalg.norm(p - centroid)), 1),
                "distance_to_f3_mm": None
                if f3 is None
                else round(float(np.linalg.norm(p - np.asarray(f3))), 1),
                "link": "/".join(quote(part) for part in report.relative_to(out).parts)
                if report.is_file()
                else None,
            }
        )
    return rows


def session_distances(rows: list[dict]) -> tuple[list[tuple[str, str, str, float]], list[float]]:
    """Compute within-person (between sessions) and between-person target distances (mm).

    The distances follow Cash et al. 2021.

    Parameters
    ----------
    rows : list of dict
        With ``participant``, ``session`` and ``target_mni``.

    Returns
    -------
    within : list of (participant, session a, session b, distance)
        Every pair of sessions of the same participant.
    between : list of float
        Every pair of targets from different participants.
    """
    within, between = [], []
    for a, b in itertools.combinations(rows, 2):
        d = round(float(np.linalg.norm(np.subtract(a["target_mni"], b["target_mni"]))), 1)
        if a["participant"] == b["participant"]:
            within.append((a["participant"], str(a["session"]), str(b["session"]), d))
        else:
            between.append(d)
    return within, between


def _circuit_section(
    circuit: str, items: list[tuple[Path, dict]], out: Path, f3: list[float] | None
) -> dict:
    rows = _rows(items, out, f3)
    xyz = np.array([r["target_mni"] for r in rows])
    within, between = session_distances(rows)
    n_people = len({r["participant"] for r in rows})
    summary: list[tuple[str, Any]] = [
        ("targets", len(rows)),
        ("participants", n_people),
        ("mean target (MNI mm)", "({:.1f}, {:.1f}, {:.1f})".format(*xyz.mean(axis=0))),
        ("SD of x, y, z (mm)", "{:.1f}, {:.1f}, {:.1f}".format(*xyz.std(axis=0))),
        (
            "median distance to the mean target (mm)",
            round(float(np.median([r["distance_to_mean_mm"] for r in rows])), 1),
        ),
    ]
    if f3 is not None:
        summary.append(
            (
                "median distance to template F3 (mm)",
                round(float(np.median([r["distance_to_f3_mm"] for r in rows])), 1),
            )
        )
    from ..targeting.uncertainty.cohort import RATIO_LABEL, cohort_stability

    ratio = None
    median_within = None
    if within:
        per_person: dict[str, list[float]] = {}
        for person, _, _, d in within:
            per_person.setdefault(person, []).append(d)
        median_within = round(float(np.median([np.mean(v) for v in per_person.values()])), 1)
    if within and between:
        stability = cohort_stability(
            [(r["participant"], r["session"], r["target_mni"]) for r in rows]
        )[1]
        ratio = stability["ratio_between_within"]
        median_within = round(float(stability["median_within_mm"]), 1)
        summary.append((RATIO_LABEL, ratio))
    reference = [(f3, RULE_COLOURS["f3"])] if f3 is not None else []
    figures: dict[str, ReportFigure | None] = {
        "glass": safe_figure(
            f"cohort glass brain {circuit}",
            lambda: brain.cohort_glass(xyz, reference),
            f"Targets of all participants, {circuit}",
            "Every target (green dots)"
            + (" and the template 10-20 F3 projected to cortex (orange square)." if f3 else "."),
        ),
        "linked": None,
        "spread": None,
        "radius": None,
    }
    if within:
        figures["linked"] = safe_alt_figure(
            f"linked session targets {circuit}",
            lambda: cohortfig.linked_targets_figure(
                rows, median_within, ratio, RATIO_LABEL, circuit
            ),
            f"Targets of the same participant linked across sessions, {circuit}",
        )
    if len(rows) > 1:
        groups = {"within person (sessions)": [w[3] for w in within]} if within else {}
        groups |= {
            "between persons": between,
            "to the mean target": [r["distance_to_mean_mm"] for r in rows],
        }
        figures["spread"] = safe_figure(
            f"cohort distances {circuit}",
            lambda: plots.distance_strips(groups),
            f"Target distances, {circuit}",
            "Distances between targets (mm); red bar = median. Within-person distances far below "
            "between-person distances mean that targets are individual and reproducible.",
        )
    radii = [
        (
            f"sub-{r['participant']}" + (f" ses-{r['session']}" if r["session"] else ""),
            r["confidence_radius_mm"],
        )
        for r in rows
        if r["confidence_radius_mm"] is not None
    ]
    if radii:
        figures["radius"] = safe_figure(
            f"confidence radii {circuit}",
            lambda: plots.value_bars(
                [a for a, _ in radii], [b for _, b in radii], "95 % confidence radius (mm)"
            ),
            f"Confidence radii, {circuit}",
            "Radius of each target's 95 % bootstrap confidence region.",
        )
    return {
        "circuit": circuit,
        "rows": rows,
        "summary": summary,
        "within": within,
        "ratio": ratio,
        "figures": figures,
        "has_reliability": bool(
            within or radii or any(r["split_half_distance_mm"] is not None for r in rows)
        ),
    }


def trial_section(analysis: dict[str, Any]) -> dict[str, Any]:
    """Build the trial section from ``trial analyze`` JSON.

    The section has the CONSORT flow diagram, Table 1, the primary effect with the sensitivity
    analyses as a forest plot, response and remission by arm, and mean change by visit.

    Parameters
    ----------
    analysis : dict
        The object written by ``tmstarget trial analyze --report FILE.json`` (or printed by
        ``--json``).

    Raises
    ------
    InputError
        When the object has no ``consort`` counts (not an analysis of this version).
    """
    from ..exceptions import InputError
    from ..outcomes.plot import change_by_visit_svg
    from ..trial.consort import consort_figure

    if not isinstance(analysis.get("consort"), dict) or not isinstance(analysis.get("arms"), list):
        raise InputError(
            "the trial JSON has no CONSORT counts — pass "
            "the file written by 'tmstarget trial analyze "
            "--report FILE.json'"
        )
    arms = [str(a) for a in analysis["arms"]]
    consort = safe_figure(
        "CONSORT",
        lambda: svg_text_uri(consort_figure(analysis["consort"], "svg")),
        "CONSORT flow diagram",
        "Participant flow per arm: enrolment, allocation, "
        "follow-up at the endpoint and analysis sets.",
    )
    rows = []
    for e in (analysis.get("trajectory") or {}).get("effects", []):
        for role in ("experimental", "control"):
            c = e[f"change_{role}"]
            rows.append(
                {
                    "visit": e["visit"],
                    "arm": role,
                    "estimate": c["estimate"],
                    "ci_low": c["ci_low"],
                    "ci_high": c["ci_high"],
                }
            )
    days = {v["name"]: v["target_day"] for v in (analysis.get("visits") or {}).get("schedule", [])}
    change = None
    if rows:
        conf = float(analysis["trajectory"].get("confidence", 0.95))
        change = safe_figure(
            "change by visit",
            lambda: svg_text_uri(change_by_visit_svg(rows, arms, days, confidence=conf)),
            "Mean MADRS change from baseline by visit and arm",
            "Mixed-model mean change from baseline per visit "
            "and arm with confidence intervals (Satterthwaite "
            "df).",
        )
    endpoint = str(analysis.get("endpoint") or analysis.get("timepoint") or "the endpoint")
    confidence = float((analysis.get("definitions") or {}).get("confidence", 0.95))
    experimental = str(analysis.get("experimental") or arms[0])
    control = str(analysis.get("control") or arms[1])
    effects = cohortfig.effect_rows(analysis)
    forest = None
    if effects:
        forest = safe_alt_figure(
            "trial forest plot",
            lambda: cohortfig.effect_forest(
                effects, experimental, control, endpoint=endpoint, confidence=confidence
            ),
            "Forest plot of the difference in MADRS reduction between arms",
        )
    binaries = cohortfig.binary_rows(analysis, (experimental, control))
    bars = None
    if binaries:
        bars = safe_alt_figure(
            "trial response and remission",
            lambda: cohortfig.response_bars(
                binaries, (experimental, control), endpoint=endpoint, confidence=confidence
            ),
            "Response and remission by arm",
        )
    table1 = [
        [r.get("characteristic", ""), *(r.get(a, "") for a in arms)]
        for r in analysis.get("table1") or []
    ]
    return {
        "arms": arms,
        "endpoint": analysis.get("endpoint") or analysis.get("timepoint"),
        "consort": consort,
        "change": change,
        "forest": forest,
        "bars": bars,
        "table1": table1,
    }


def cohort_context(
    out_dir: Path | str,
    trial: dict[str, Any] | None = None,
    input_files: Sequence[Path | str] = (),
) -> tuple[Path, dict[str, Any]]:
    """Read every target under ``out_dir`` and draw the cohort figures.

    Return ``(report path, context)``.

    Parameters
    ----------
    out_dir : path
        Derivatives folder.
    trial : dict, optional
        ``trial analyze`` JSON: adds the CONSORT diagram, Table 1 and the change-by-visit figure.
    input_files : sequence of path
        Files the caller read for this report (e.g. the ``--trial-json`` file): listed in the
        provenance with their SHA-256, after the target and reliability JSONs.

    Raises
    ------
    InputError
        No target JSON under ``out_dir``, or a malformed one.
    """
    out = check_out_dir(out_dir)
    items = cohort_targets(out)
    f3, f3_note = _f3_reference()
    circuits: dict[str, list[tuple[Path, dict]]] = {}
    for path, t in items:
        circuits.setdefault(str(t["circuit"]), []).append((path, t))
    sections = [_circuit_section(c, circuits[c], out, f3) for c in sorted(circuits)]
    people = {str(t["participant"]) for _, t in items}
    cards = [
        ("targets", str(len(items))),
        ("participants", str(len(people))),
        ("circuits", ", ".join(sorted(circuits))),
    ]
    context = {
        "title": f"Cohort report — {len(people)} participant{'s' if len(people) != 1 else ''}",
        "cards": cards,
        "sections": sections,
        "f3": f3,
        "f3_note": f3_note,
        "versions": software_versions(),
        "files": _input_files(items, out, input_files),
        "trial": None if trial is None else trial_section(trial),
    }
    return out / COHORT_REPORT, context


def cohort_report_html(
    out_dir: Path | str,
    trial: dict[str, Any] | None = None,
    input_files: Sequence[Path | str] = (),
) -> str:
    """Return the cohort report as HTML text (nothing is written).

    See :func:`write_cohort_report`.
    """
    return render("cohort.html", cohort_context(out_dir, trial, input_files)[1])


def write_cohort_report(
    out_dir: Path | str,
    trial: dict[str, Any] | None = None,
    input_files: Sequence[Path | str] = (),
) -> Path:
    """Write the cohort report ``OUT/desc-cohort_report.html`` (self-contained, atomic).

    One section per circuit: all targets on one glass brain with the template F3 for reference, a
    table of targets, scores, QC and distances (to the cohort's mean target and to F3) with links to
    participant reports that exist, and reliability figures: within-person (between sessions)
    against between-person target distances when participants have several sessions, and confidence
    radii when computed.

    Parameters
    ----------
    out_dir : path
        Derivatives folder written by ``tmstarget target``.
    trial : dict, optional
        ``trial analyze`` JSON; adds a trial section (CONSORT diagram, Table 1, mean change by
        visit).
    input_files : sequence of path
        Files read for the report besides the targets (the ``--trial-json`` file), listed in the
        provenance with their SHA-256.

    Returns
    -------
    Path
        The report's path.

    Raises
    ------
    InputError
        No targets under ``out_dir``; nothing is written then.
    """
    path, context = cohort_context(out_dir, trial, input_files)
    return write_text_atomic(path, render("cohort.html", context))
