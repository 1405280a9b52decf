"""The participant report: one self-contained HTML file per target.

:func:`participant_context` reads the target outputs and draws the figures,
:func:`~tmstarget.report.html.render` turns the context into HTML, and
:func:`write_participant_report` is the only function that writes (atomically, after everything else
succeeded, so a failure leaves no partial report).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..exceptions import InputError
from ..io.derivatives import (
    check_label,
    load_map,
    qc_path,
    read_json_optional,
    read_target,
    sha256,
    sibling,
    target_path,
    write_text_atomic,
)
from ..targeting.uncertainty.summaries import NOT_ASSESSED, RELIABLE_RADIUS_MM, verdict_line
from . import brain, plots
from ._mpl import ReportFigure, safe_alt_figure, safe_figure
from .coil_figures import coil_report_figures
from .data import check_out_dir, find_target
from .figcache import cached_uri, read_motion_cached
from .html import render
from .sections import (
    coil_section,
    dose_warnings,
    human_label,
    madrs_section,
    measurements_from,
    mt_trials,
    protocol_section,
    reliability_advice,
    reliability_section,
    scalp_alternatives,
    session_log_records,
    shrinkage_section,
    software_versions,
)

logger = logging.getLogger(__name__)

#: Keys accepted in ``extras``.
EXTRAS = {
    "head_measurements": "mapping with nasion_inion_cm, tragus_tragus_cm, "
    "circumference_cm: adds Beam F3",
    "coil": "the object printed by 'tmstarget coil --json' (or "
    "a CoilPlan); False leaves the coil out",
    "protocol": "the object printed by 'tmstarget protocol --json' "
    "(dose, safety, schedule, course)",
    "madrs": "path of a MADRS table, or tmstarget.outcomes.madrs_outcomes() output",
    "treatment_days": "mapping with first_session_day and/or last_session_day: the treatment "
    "period on the MADRS table's day clock (default: the table's columns of those names)",
    "session_log": "path of the filled-in session log: the planned-vs-delivered timeline",
    "mt_trials": "path of the MEP trials table of 'tmstarget mt': the MEP curve with its fits",
    "reliability": "reliability results (default: <p>_desc-<circuit>_reliability.json "
    "beside the target)",
    "files": "paths of the files the other extras were read from (e.g. the coil and protocol "
    "JSONs): listed in the provenance with their SHA-256",
}


def _check_extras(extras: Mapping[str, Any] | None) -> dict[str, Any]:
    extras = dict(extras or {})
    unknown = sorted(set(extras) - set(EXTRAS))
    if unknown:
        raise InputError(f"unknown report extras {', '.join(unknown)} — use {', '.join(EXTRAS)}")
    return extras


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.name


def _load(path: Path, reader, what: str) -> tuple[Any, str | None]:
    """``(value, None)``, or ``(None, note)`` when the optional file is missing or unreadable."""
    if not path.is_file():
        return None, f"{what} {path.name} was not found beside the target JSON."
    try:
        return reader(path), None
    except Exception as exc:  # noqa: BLE001 - an optional file becomes a note
        logger.warning("report: cannot read %s (%s)", path, exc)
        return None, f"{what} {path.name} could not be read ({type(exc).__name__}: {exc})."


def _fmt(v: Any, fmt: str = "{:.1f}", unit: str = "") -> str:
    return "n/a" if v is None else f"{fmt.format(v)}{unit}"


def _verdict(t: dict, reliability: dict | None, confidence: float | None) -> dict:
    """Return the one-line reliability verdict and its short form.

    The verdict is read from the target JSON, else from the reliability JSON.
    """
    for doc in (t, reliability or {}):
        if isinstance(doc.get("reliability_verdict"), dict):
            reliable = doc["reliability_verdict"].get("reliable")
            short = (
                "no verdict" if reliable is None else ("reliable" if reliable else "not reliable")
            )
            return {
                "text": verdict_line(doc),
                "short": short,
                "reliable": None if reliable is None else bool(reliable),
            }
    if confidence is not None:  # written before verdicts existed
        return {
            "text": f"95% region radius {confidence:.1f} mm; no reliability "
            "verdict recorded — rerun 'tmstarget target'",
            "short": "no verdict",
            "reliable": None,
        }
    return {"text": NOT_ASSESSED, "short": "not assessed", "reliable": None}


def _confidence_region(t: dict, reliability: dict | None) -> tuple[list, dict | None] | None:
    """Return the bootstrap cloud and 95 % ellipsoid of the target JSON, else the reliability JSON.

    None when neither recorded a cloud.
    """
    block = t.get("confidence_region")
    if isinstance(block, dict) and isinstance(block.get("bootstrap_targets_mni"), list):
        return block["bootstrap_targets_mni"], block.get("ellipsoid")
    boot = (reliability or {}).get("bootstrap")
    if isinstance(boot, dict) and isinstance(boot.get("targets_mni"), list):
        return boot["targets_mni"], (reliability or {}).get("confidence_ellipsoid")
    return None


def _cards(
    t: dict,
    confidence: float | None,
    verdict: dict | None = None,
    sphere: tuple[str, float | None] | None = None,
) -> list[tuple[str, str]]:
    """Return the summary cards; ``sphere``: the target's ``(label, score)`` of the scalp table."""
    from ..compare import SCORE_LABELS

    x, y, z = t["target_mni"]
    qc = t.get("qc") or {}
    used, cens = t.get("n_volumes_used"), t.get("n_volumes_censored")
    cards = [
        ("target (MNI mm)", f"({x:.1f}, {y:.1f}, {z:.1f})"),
        (f"circuit score, {SCORE_LABELS['peak']}", _fmt(t.get("score"), "{:.3f}")),
        ("circuit / method", f"{t['circuit']} / {t.get('method', 'n/a')}"),
        ("template space", str(t.get("space", "n/a"))),
        ("volumes used / censored", f"{_fmt(used, '{}')} / {_fmt(cens, '{}')}"),
        ("mean framewise displacement", _fmt(qc.get("mean_fd_mm"), "{:.3f}", " mm")),
    ]
    if sphere is not None:
        cards.insert(2, (f"circuit score, {sphere[0]}", _fmt(sphere[1], "{:.3f}")))
    if confidence is not None:
        cards.insert(2, ("95 % confidence radius", _fmt(confidence, unit=" mm")))
    if verdict is not None:
        cards.insert(2, ("individually reliable", verdict["short"]))
    return cards


def _qc_rows(t: dict) -> list[tuple[str, Any]]:
    qc = t.get("qc") or {}
    names = {
        "mean_fd_mm": "mean framewise displacement (mm)",
        "max_fd_mm": "maximum framewise displacement (mm)",
        "percent_censored": "volumes censored (%)",
        "median_tsnr_brain": "median tSNR, brain",
        "median_tsnr_search_region": "median tSNR, search region",
    }
    rows = [(names.get(k, k), v) for k, v in qc.items()]
    rows += [
        ("volumes used", t.get("n_volumes_used")),
        ("volumes censored", t.get("n_volumes_censored")),
        ("search-region voxels", t.get("n_search_voxels")),
    ]
    return rows


def _parameters(t: dict) -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = [
        ("circuit", t["circuit"]),
        ("method", t.get("method")),
        ("space", t.get("space")),
    ]
    if t.get("multi_echo"):
        rows.append(("multi-echo", multi_echo_line(t["multi_echo"])))
    for k, v in (t.get("parameters") or {}).items():
        rows.append((human_label(k), ", ".join(f"{x}" for x in v) if isinstance(v, list) else v))
    rows.append(("tmstarget version of the target", t.get("tmstarget_version")))
    return rows


#: What each ``multi_echo.method`` of the target JSON targeted.
_ME_METHODS = {
    "tedana": "tedana's ME-ICA denoised series",
    "optcom": "the echoes combined by T2* weights (tedana)",
    "none": "fMRIPrep's optimally combined series (echoes not used)",
}


def multi_echo_line(block: Mapping[str, Any]) -> str:
    """One line saying how a multi-echo target used its echoes (the ``multi_echo`` block)."""
    times = block.get("echo_times_ms")
    line = (
        f"{len(times)} echoes ({', '.join(f'{x:g}' for x in times)} ms)"
        if times
        else "echo times differ between runs (see the target JSON)"
    )
    line += f": {_ME_METHODS.get(block.get('method'), block.get('method'))}"
    if block.get("tedana_version"):
        line += f", tedana {block['tedana_version']}"
    if block.get("components_rejected") is not None:
        line += f", {block['components_rejected']} ICA component(s) rejected"
    return line


@dataclass
class _Outputs:
    """The optional files beside a target JSON, each loaded or replaced by a note."""

    score: tuple[np.ndarray, np.ndarray] | None
    tsnr: tuple[np.ndarray, np.ndarray] | None
    motion: list | None
    reliability: Mapping | None
    notes: dict[str, str | None]
    files: list[Path]


def _read_outputs(json_path: Path, t: dict, reliability: Mapping | None) -> _Outputs:
    paths = {
        "score": sibling(json_path, "score.nii.gz"),
        "tsnr": qc_path(json_path, t, "tsnr"),
        "motion": qc_path(json_path, t, "motion"),
        "reliability": sibling(json_path, "reliability.json"),
    }
    values, notes = {}, {}
    values["score"], notes["score"] = _load(paths["score"], load_map, "Score map")
    values["tsnr"], notes["tsnr"] = _load(paths["tsnr"], load_map, "tSNR map")
    values["motion"], notes["motion"] = _load(paths["motion"], read_motion_cached, "Motion table")
    values["reliability"], notes["reliability"] = reliability, None
    if reliability is None and paths["reliability"].is_file():
        values["reliability"], notes["reliability"] = _load(
            paths["reliability"], read_json_optional, "Reliability results"
        )
    elif reliability is not None and not isinstance(reliability, Mapping):
        raise InputError(
            "reliability results must be a JSON object (as "
            "written by 'tmstarget reliability') — pass a "
            "dict"
        )
    files = [json_path] + [paths[k] for k in paths if values[k] is not None and paths[k].is_file()]
    return _Outputs(
        values["score"], values["tsnr"], values["motion"], values["reliability"], notes, files
    )


def _recorded_files(protocol: dict | None) -> list[tuple[str, str]]:
    """Return the files the protocol JSON says its dose was read from, with their SHA-256."""
    out = []
    sources = ((protocol or {}).get("dose") or {}).get("sources") or {}
    for what, src in sorted(sources.items()):
        for block in (src, (src or {}).get("coil_plan")) if isinstance(src, Mapping) else ():
            if isinstance(block, Mapping) and block.get("file") and block.get("sha256"):
                out.append((f"{block['file']} ({what} of the dose)", str(block["sha256"])))
    return out


def _missing(note: str | None, alt: str, caption: str) -> ReportFigure:
    return ReportFigure(None, alt, caption, note or "No data.")


def _figures(
    name: str,
    t: dict,
    o: _Outputs,
    confidence: float | None,
    others: list,
    curve,
    madrs: dict | None,
) -> dict:
    """Draw every figure of the participant report.

    A failed or impossible figure carries a note instead.
    """
    target, score, tsnr, motion = t["target_mni"], o.score, o.tsnr, o.motion
    cap = {
        "slices": "Orthogonal slices through the target: score map "
        "(red = higher) over the search region (outline).",
        "glass": "Glass brain: score map, the target (green dot) "
        "and the scalp-rule targets projected to cortex "
        "(squares, colours as in the scalp-rule table).",
        "tsnr": "Temporal SNR (mean over SD of each voxel's time "
        "series) on axial slices; white outline = search "
        "region.",
    }
    fd_thr = (t.get("parameters") or {}).get("fd_threshold_mm")
    cap["fd"] = "Framewise displacement per volume, runs end to end; red = censored volumes" + (
        f"; dashed line = FD threshold {fd_thr:g} mm." if fd_thr else "."
    )
    alt = {
        "slices": f"Score map slices of {name}",
        "glass": f"Glass brain of {name}",
        "fd": f"Framewise displacement of {name}",
        "tsnr": f"tSNR map of {name}",
    }
    figures: dict[str, ReportFigure | None] = {"curve": None, "madrs": None, "region": None}
    region = _confidence_region(t, o.reliability)
    if region is not None:
        cloud, ellipsoid = region
        r_txt = f"{confidence:.1f} mm" if confidence is not None else "not recorded"
        figures["region"] = safe_figure(
            "confidence region",
            cached_uri(
                "brain.region_glass",
                (target, cloud, confidence, (ellipsoid or {}).get("centre_mni")),
                lambda: brain.region_glass(
                    target, cloud, confidence, (ellipsoid or {}).get("centre_mni")
                ),
            ),
            f"Glass brain of {name} from the left, top, right and front: the target (green dot), "
            f"{len(cloud)} bootstrap targets (grey dots) and the 95 % region (green circle, "
            f"radius {r_txt})",
            "Where the target could lie: each grey dot is the target found in one bootstrap "
            "resample of the scan; the circle is the 95 % region whose radius the verdict gives.",
        )
    if score is not None:
        figures["slices"] = safe_figure(
            "score slices",
            cached_uri(
                "brain.score_map_slices",
                (score[0], score[1], target, confidence),
                lambda: brain.score_map_slices(score[0], score[1], target, confidence),
            ),
            alt["slices"],
            cap["slices"],
        )
        figures["glass"] = safe_figure(
            "score glass brain",
            cached_uri(
                "brain.score_map_glass",
                (score[0], score[1], target, others),
                lambda: brain.score_map_glass(score[0], score[1], target, others),
            ),
            alt["glass"],
            cap["glass"],
        )
    else:
        figures["slices"], figures["glass"] = (
            _missing(o.notes["score"], alt[k], cap[k]) for k in ("slices", "glass")
        )
    runs = [(f"run {i + 1}", r.fd_mm, r.censored) for i, r in enumerate(motion or [])]
    figures["fd"] = (
        safe_figure(
            "FD trace",
            cached_uri("plots.fd_trace", (runs, fd_thr), lambda: plots.fd_trace(runs, fd_thr)),
            alt["fd"],
            cap["fd"],
        )
        if motion
        else _missing(o.notes["motion"], alt["fd"], cap["fd"])
    )
    if tsnr is not None:
        region = (
            np.isfinite(score[0]) if score is not None and score[0].shape == tsnr[0].shape else None
        )
        figures["tsnr"] = safe_figure(
            "tSNR",
            cached_uri(
                "brain.tsnr_slices",
                (tsnr[0], tsnr[1], region),
                lambda: brain.tsnr_slices(tsnr[0], tsnr[1], region),
            ),
            alt["tsnr"],
            cap["tsnr"],
        )
    else:
        figures["tsnr"] = _missing(o.notes["tsnr"], alt["tsnr"], cap["tsnr"])
    if curve:
        figures["curve"] = safe_figure(
            "scan-length curve",
            cached_uri("plots.scan_length_curve", curve, lambda: plots.scan_length_curve(*curve)),
            "Scan-length curve: distance between the targets of the first and the last k minutes "
            "of the scan, against k",
            "How far a second scan of the same length would land: the target of the first k "
            "minutes against the target of the last k minutes (no shared volume); dashed line "
            "= 5 mm.",
        )
    if madrs:
        from ..outcomes import trajectory_figure

        figures["madrs"] = safe_alt_figure(
            "MADRS",
            lambda: trajectory_figure(
                (madrs["outcomes"],),
                remission_threshold=madrs["threshold"],
                first_session_day=madrs["first_session_day"],
                last_session_day=madrs["last_session_day"],
                title=f"MADRS, {name}",
            ),
            f"MADRS total by assessment for {name}",
            "MADRS total at each assessment; dotted line = 50% response line (half the baseline "
            f"total), dashed line = remission threshold (total ≤ {madrs['threshold']}).",
        )
    return figures


def _course_figures(name: str, records: tuple | None, trials: tuple | None) -> dict:
    """Draw the session timeline and the MEP curve when their tables were given (else None)."""
    figures: dict[str, ReportFigure | None] = {"timeline": None, "mep": None}
    if records is not None:
        from ..protocol.plots import session_timeline_figure

        figures["timeline"] = safe_alt_figure(
            "session timeline",
            lambda: session_timeline_figure(
                records, title=f"{name}: sessions planned and delivered"
            ),
            f"Session timeline of {name}: planned against delivered sessions",
            "Planned sessions (open circles) and delivered ones (filled) by course day and time.",
        )
    if trials is not None:
        from ..protocol.plots import mep_curve_figure

        figures["mep"] = safe_alt_figure(
            "MEP curve",
            lambda: mep_curve_figure(trials),
            f"MEP amplitude against stimulator intensity for {name}",
            "MEP amplitude of each pulse against stimulator intensity, with the threshold fits.",
        )
    return figures


def participant_context(
    out_dir: Path | str,
    participant: str,
    session: str | None = None,
    circuit: str | None = None,
    extras: Mapping[str, Any] | None = None,
) -> tuple[Path, dict[str, Any]]:
    """Read one participant's outputs and draw the figures.

    Return ``(report path, template context)``.

    Parameters are those of :func:`write_participant_report`. Nothing is written.

    Raises
    ------
    InputError
        Unknown participant, missing or ambiguous target JSON, or malformed ``extras``.
    """
    out = check_out_dir(out_dir)
    label = check_label(participant, "participant")
    session = check_label(session, "session") if session else None
    extras = _check_extras(extras)
    json_path = find_target(out, label, session, circuit)
    t = read_target(json_path, need_circuit=True)
    measurements = measurements_from(extras.get("head_measurements"))
    protocol = protocol_section(extras.get("protocol"), label)
    days = extras.get("treatment_days") or {}
    if not isinstance(days, Mapping) or set(days) - {"first_session_day", "last_session_day"}:
        raise InputError(
            "report extras 'treatment_days' must be a mapping with first_session_day and/or "
            "last_session_day (days on the MADRS table's clock)"
        )
    madrs = madrs_section(
        extras.get("madrs"), label, days.get("first_session_day"), days.get("last_session_day")
    )
    records = (
        session_log_records(extras["session_log"], label) if extras.get("session_log") else None
    )
    trials = mt_trials(extras["mt_trials"], label) if extras.get("mt_trials") else None
    coil = coil_section(t, extras.get("coil"))
    o = _read_outputs(json_path, t, extras.get("reliability"))
    for key in ("madrs", "session_log", "mt_trials"):
        if isinstance(extras.get(key), (str, Path)):
            o.files.append(Path(extras[key]))
    given = extras.get("files") or []
    if isinstance(given, (str, Path)) or not all(isinstance(f, (str, Path)) for f in given):
        raise InputError("report extras 'files' must be a list of paths — e.g. [coil_json_path]")
    for f in given:
        if not Path(f).is_file():
            raise InputError(f"report input {f} not found — check the path")
        o.files.append(Path(f))
    recorded = _recorded_files(protocol)

    confidence = t.get("confidence_radius_mm", (o.reliability or {}).get("confidence_radius_mm"))
    confidence = float(confidence) if isinstance(confidence, (int, float)) else None
    alternatives = scalp_alternatives(t["target_mni"], o.score, measurements)
    verdict = _verdict(t, o.reliability, confidence)
    rel = reliability_section(o.reliability, confidence, t.get("n_bootstrap"))
    rel["advice"] = reliability_advice(t.get("reliability_verdict"), t.get("method"))
    if o.notes["reliability"]:
        rel["rows"].append(("note", o.notes["reliability"]))
        rel["available"] = True
    name = f"sub-{label}" + (f" ses-{session}" if session else "")
    others = [(r["cortex_mni"], r["colour"]) for r in alternatives["rows"][1:]]
    figures = _figures(name, t, o, confidence, others, rel["curve"], madrs)
    figures.update(coil_report_figures(coil, name))  # coil on the head, E-field on cortex
    figures.update(_course_figures(name, records, trials))

    not_included = []
    if protocol is None:
        not_included.append(
            "Dose and schedule — pass the output of 'tmstarget protocol --json' (--protocol-json)."
        )
    if madrs is None:
        not_included.append("MADRS trajectory — pass a MADRS table (--madrs).")
    if records is None:
        not_included.append("Session timeline — pass the filled-in session log (--session-log).")
    if trials is None:
        not_included.append(
            "MEP curve — pass the MEP trials table of 'tmstarget mt' (--mt-trials)."
        )
    if measurements is None:
        not_included.append(
            "Beam F3 — pass the head measurements (--nasion-inion, "
            "--tragus-tragus, --circumference)."
        )
    context = {
        "title": name + f" — {t['circuit']}",
        "target": t,
        "cards": _cards(
            t,
            confidence,
            verdict,
            (alternatives["score_label"], alternatives["rows"][0]["score"]),
        ),
        "figures": figures,
        "verdict": verdict,
        "reliable_radius_mm": RELIABLE_RADIUS_MM,
        "confidence_radius": confidence,
        "alternatives": alternatives,
        "reliability": rel,
        "qc_rows": _qc_rows(t),
        "runs": t.get("run_details") or [],
        "coil": coil,
        "protocol": protocol,
        "shrinkage": shrinkage_section(t),
        "madrs": None if madrs is None else {k: v for k, v in madrs.items() if k != "outcomes"},
        "course_figures": records is not None or trials is not None,
        "versions": software_versions(),
        "parameters": _parameters(t),
        "inputs": sorted((t.get("inputs") or {}).items()),
        "files": [(_relative(p, out), sha256(p)) for p in o.files] + recorded,
        "dose_warnings": dose_warnings(coil, protocol),
        "not_included": not_included,
    }
    return target_path(out, label, session, t["circuit"], "report", ".html"), context


def participant_report_html(
    out_dir: Path | str,
    participant: str,
    session: str | None = None,
    circuit: str | None = None,
    extras: Mapping[str, Any] | None = None,
) -> str:
    """Return the participant report as HTML text (nothing is written).

    See :func:`write_participant_report`.
    """
    return render(
        "participant.html", participant_context(out_dir, participant, session, circuit, extras)[1]
    )


def write_participant_report(
    out_dir: Path | str,
    participant: str,
    session: str | None = None,
    circuit: str | None = None,
    extras: Mapping[str, Any] | None = None,
) -> Path:
    """Write one participant's self-contained HTML report beside the target.

    The report shows the target and its score map (orthogonal slices and glass brain on the MNI
    template), the scalp-rule alternatives with their distances, the confidence region when
    computed, head motion and tSNR, the coil placement, dose and schedule, the MEP curve, the
    session timeline and the MADRS trajectory (response line, treatment period, item-10 flags) when
    given, software versions and the inputs' checksums. Images are embedded; the file makes no
    network requests. A figure that fails is replaced by a note (and logged); it never fails the
    report.

    Parameters
    ----------
    out_dir : path
        Derivatives folder written by ``tmstarget target``.
    participant : str
        Participant label (with or without ``sub-``).
    session : str, optional
        Session label; required when the participant's targets are in ``ses-*`` folders.
    circuit : str, optional
        Circuit label of the target; required when the participant has targets for several circuits.
    extras : mapping, optional
        Further data to show, keyed as in :data:`EXTRAS` (``head_measurements``, ``coil``,
        ``protocol``, ``madrs``, ``treatment_days``, ``session_log``, ``mt_trials``,
        ``reliability``, ``files``).

    Returns
    -------
    Path
        ``OUT/sub-<l>/[ses-<s>/]sub-<l>[_ses-<s>]_desc-<circuit>_report.html``.

    Raises
    ------
    InputError
        Unknown participant, missing or ambiguous target, malformed extras; nothing is written then.
    """
    path, context = participant_context(out_dir, participant, session, circuit, extras)
    return write_text_atomic(path, render("participant.html", context))
