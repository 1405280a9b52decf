"""Figures of the treatment views: MEP against intensity, and planned against delivered sessions.

Each function returns an :class:`~tmstarget._utils.figures.AltFigure`: the image (SVG text with a
``viewBox`` and no fixed width, or PNG bytes; the same input gives the same bytes), its alt text
(what the figure shows, with its key numbers) and a caption (how to read it). Nothing is written:
the caller writes the image atomically. Text is at least 9 pt at the figure's natural width of
4.8 inches, so a phone (390 px) showing it at full width can still read it.

Research use; not a medical device.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from .._utils.figures import AltFigure, render_figure

if TYPE_CHECKING:
    from .course import Deviation
    from .schedule import Schedule
    from .sessionlog import SessionRecord
    from .threshold import Trials

__all__ = ["mep_curve_figure", "session_timeline_figure"]

_WIDTH = 4.8  # inches
_FONT = 9.0  # pt, the smallest text (MIN_FONT_PT)
_RESPONSE, _NO_RESPONSE = "#c4572a", "0.45"
_PEST, _RF = "#1b6ca8", "#2b8a3e"


def _pulses(n: int) -> str:
    return f"{n} pulse" if n == 1 else f"{n} pulses"


def _clock(hours: float, _pos: object = None) -> str:
    minutes = int(round(hours * 60))
    return f"{minutes // 60 % 24:02d}:{minutes % 60:02d}"


def _session_name(trials: Trials) -> str:
    return f"session {trials.session}" if trials.session else "trials"


def _mep_panel_pair(ax_mep: Any, ax_p: Any, trials: Trials, low: float, high: float) -> str:
    """Draw one session's trials and fits on two axes; return its sentence of the alt text."""
    from .threshold import (
        MEP_CRITERION_UV,
        PEST_RELATIVE_SPREAD,
        RF_HITS,
        RF_TRIALS,
        pest_threshold,
        relative_frequency_threshold,
    )

    x, amp, hit = trials.intensity_pct_mso, trials.amplitude_uv, trials.responses
    pest = pest_threshold(trials, low=low, high=high)
    rf = relative_frequency_threshold(trials)
    t, (lo, hi) = pest.threshold_pct_mso, pest.ci95_pct_mso
    name = _session_name(trials)
    tag = trials.session or "trials"

    # Top: one marker per trial; responses (>= 50 µV) filled in colour, the others open and grey.
    ax_mep.scatter(
        x[~hit],
        amp[~hit],
        marker="o",
        s=26,
        facecolor="none",
        edgecolor=_NO_RESPONSE,
        linewidth=1,
        label=f"no MEP ≥ {MEP_CRITERION_UV:g} µV",
    ).set_gid(f"mep-no-response-{tag}")
    ax_mep.scatter(
        x[hit],
        amp[hit],
        marker="o",
        s=26,
        color=_RESPONSE,
        label=f"MEP ≥ {MEP_CRITERION_UV:g} µV",
    ).set_gid(f"mep-response-{tag}")
    ax_mep.axhline(MEP_CRITERION_UV, color="0.3", linestyle="--", linewidth=1).set_gid(
        f"mep-criterion-{tag}"
    )
    ax_mep.set_ylabel("MEP (µV, peak to peak)", fontsize=_FONT)
    ax_mep.set_title(f"{name}: {_pulses(x.size)}", fontsize=10)
    ax_mep.legend(fontsize=_FONT, loc="upper left", frameon=True, framealpha=0.85)
    ax_mep.set_ylim(bottom=0)

    # Bottom: probability of a response; ML-PEST fit and the relative-frequency proportions.
    span_lo = max(1.0, min(float(x.min()) if x.size else t, lo) - 5.0)
    span_hi = min(100.0, max(float(x.max()) if x.size else t, hi) + 5.0)
    grid = np.linspace(span_lo, span_hi, 200)
    from scipy.special import ndtr

    ax_p.axvspan(lo, hi, color=_PEST, alpha=0.12, linewidth=0).set_gid(f"pest-ci-{tag}")
    (curve,) = ax_p.plot(
        grid,
        ndtr((grid - t) / (PEST_RELATIVE_SPREAD * t)),
        color=_PEST,
        linewidth=1.6,
        label=f"ML-PEST fit: RMT {t:.1f}% MSO",
    )
    curve.set_gid(f"pest-curve-{tag}")
    ax_p.axvline(t, color=_PEST, linewidth=1.2).set_gid(f"pest-threshold-{tag}")
    levels = rf.levels
    ax_p.scatter(
        [lv["intensity_pct_mso"] for lv in levels],
        [lv["responses"] / lv["trials"] for lv in levels],
        marker="s",
        s=30,
        color=_RF,
        zorder=4,
        label=f"share ≥ {MEP_CRITERION_UV:g} µV (first {RF_TRIALS})",
    ).set_gid(f"rf-levels-{tag}")
    if rf.threshold_pct_mso is not None:
        ax_p.axvline(
            rf.threshold_pct_mso,
            color=_RF,
            linestyle="--",
            linewidth=1.2,
            label=f"relative frequency: RMT {rf.threshold_pct_mso:g}% MSO",
        ).set_gid(f"rf-threshold-{tag}")
    ax_p.axhline(RF_HITS / RF_TRIALS, color="0.6", linestyle=":", linewidth=0.8)
    ax_p.patch.set_gid(f"probability-axes-{tag}")
    ax_p.set_ylim(-0.03, 1.03)
    ax_p.set_ylabel("P(MEP ≥ 50 µV)", fontsize=_FONT)
    ax_p.set_xlabel("stimulator intensity (% MSO)", fontsize=_FONT)
    ax_p.legend(fontsize=_FONT, loc="upper left", frameon=True, framealpha=0.85)
    ax_mep.sharex(ax_p)
    ax_p.set_xlim(span_lo, span_hi)
    for ax in (ax_mep, ax_p):
        ax.tick_params(labelsize=_FONT)
    ax_mep.tick_params(labelbottom=False)

    rf_text = (
        f"relative-frequency RMT {rf.threshold_pct_mso:g}% MSO "
        f"({'confirmed' if rf.confirmed else 'not confirmed'})"
        if rf.threshold_pct_mso is not None
        else f"relative frequency: no intensity with {RF_HITS} of {RF_TRIALS} responses yet"
    )
    where = (
        "no intensity"
        if not x.size
        else (f"{x.min():g}% MSO" if x.min() == x.max() else f"{x.min():g}-{x.max():g}% MSO")
    )
    return (
        f"{name}: {_pulses(x.size)} at {where}, {int(hit.sum())} with an MEP of at least "
        f"{MEP_CRITERION_UV:g} µV; ML-PEST fitted response probability with RMT {t:.1f}% MSO "
        f"(95% interval {lo:.1f}-{hi:.1f}); {rf_text}"
    )


def mep_curve_figure(
    sessions: Sequence[Trials], *, low: float = 20.0, high: float = 100.0, fmt: str = "svg"
) -> AltFigure:
    """MEP amplitude against stimulator intensity, with the threshold fits, for each session.

    Two panels per session, stacked (sessions in order): above, one marker per trial, intensity in
    % MSO against MEP peak-to-peak amplitude in µV, responses (at least 50 µV,
    :data:`~tmstarget.protocol.threshold.MEP_CRITERION_UV`) filled in colour, the 50 µV criterion
    dashed; below, the probability of a response against intensity: the ML-PEST fitted cumulative
    Gaussian (:func:`~tmstarget.protocol.pest_threshold`) with its threshold (solid line) and 95%
    interval (band), and the share of responses among the first 10 trials at each intensity with
    the relative-frequency threshold (dashed line,
    :func:`~tmstarget.protocol.relative_frequency_threshold`).

    Parameters
    ----------
    sessions : sequence of Trials
        One per session, e.g. :func:`~tmstarget.protocol.parse_trials` output.
    low, high : float
        ML-PEST search range, % MSO (as given to ``tmstarget mt``).
    fmt : {"svg", "png"}
        Output format.

    Returns
    -------
    AltFigure
        Image, alt text and caption.

    Raises
    ------
    InputError
        A search range or a trial outside it, as :func:`~tmstarget.protocol.pest_threshold`.
    ValueError
        No session.
    """
    sessions = tuple(sessions)
    if not sessions:
        raise ValueError("no session of MEP trials to draw")
    sentences: list[str] = []

    def draw(fig: Any) -> None:
        axes = fig.subplots(
            2 * len(sessions), 1, gridspec_kw={"height_ratios": [1.0, 1.0] * len(sessions)}
        )
        for k, trials in enumerate(sessions):
            sentences.append(_mep_panel_pair(axes[2 * k], axes[2 * k + 1], trials, low, high))

    image = render_figure(draw, size=(_WIDTH, 4.6 * len(sessions)), fmt=fmt, scalable=True)
    alt = "MEP amplitude against stimulator intensity. " + ". ".join(sentences) + "."
    caption = (
        "Above: each pulse, stimulator intensity (% MSO) against MEP peak-to-peak amplitude (µV); "
        "filled = MEP of at least 50 µV (a response), open = none; dashed line = 50 µV. Below: "
        "probability of a response; blue curve = ML-PEST fitted cumulative Gaussian, blue line "
        "and band = its threshold and 95% interval; green squares = share of responses in the "
        "first 10 pulses at each intensity, dashed green line = relative-frequency threshold "
        "(lowest intensity with at least 5 of 10)."
    )
    return AltFigure(image, alt, caption)


# ---------------------------------------------------------------- planned vs delivered sessions
_STATUS_COLOUR = {
    "delivered": "#1b6ca8",
    "late": "#e08214",
    "partial": "#e08214",
    "missed": "#b2182b",
}


def _hour(when: datetime | None) -> float | None:
    if when is None:
        return None
    return when.hour + when.minute / 60.0 + when.second / 3600.0


def session_timeline_figure(
    records: Sequence[SessionRecord],
    plan: Schedule | None = None,
    *,
    deviations: Sequence[Deviation] = (),
    late_after_min: float = 30.0,
    title: str = "Sessions: planned and delivered",
    fmt: str = "svg",
) -> AltFigure:
    """Planned against delivered sessions of a course, by day and time of day.

    x is the course day (day 1 = first planned session), y the time of day (hours); without times
    (no ``planned_start`` in the log nor a plan) y is the session's number within its day. Planned
    sessions are open circles at their planned time; delivered ones filled at the time they began:
    blue when given as planned, orange when partial, late (began more than ``late_after_min``
    after the plan, as :func:`~tmstarget.protocol.check_course_log`) or carrying another deviation
    of ``deviations``; a missed session is a red cross on its planned time. An adverse event is a
    black star above the session, red and marked "review" when it needs a physician's review
    (serious or a seizure).

    Parameters
    ----------
    records : sequence of SessionRecord
        The parsed session log (:func:`~tmstarget.protocol.parse_session_log`).
    plan : Schedule, optional
        The planned schedule; its times replace the log's ``planned_start``, and its sessions
        missing from the log are drawn as planned.
    deviations : sequence of Deviation
        :func:`~tmstarget.protocol.check_course_log` output; a delivered session named there is
        drawn as deviating.
    late_after_min : float
        Minutes after the planned start from which a session counts as late.
    title : str
        Figure title.
    fmt : {"svg", "png"}
        Output format.

    Returns
    -------
    AltFigure
        Image, alt text and caption.

    Raises
    ------
    ValueError
        No sessions.
    """
    planned_at = {s.index: (s.day, s.start) for s in plan.sessions} if plan is not None else {}
    by_session = {r.session: r for r in records}
    indices = sorted(set(by_session) | set(planned_at))
    if not indices:
        raise ValueError("no sessions to draw")
    deviating = {d.session for d in deviations if d.session is not None}

    def planned(i: int) -> tuple[int | None, datetime | None]:
        if i in planned_at:
            return planned_at[i]
        r = by_session[i]
        return r.day, r.planned_start

    starts = [planned(i)[1] for i in indices]
    timed = all(s is not None for s in starts)
    first_date = min(s.date() for s in starts if s is not None) if any(starts) else None

    def day_of(i: int) -> int:
        day, start = planned(i)
        if start is not None and first_date is not None:
            return (start.date() - first_date).days + 1
        return day if day is not None else i

    number_in_day: dict[int, int] = {}
    for i in indices:
        number_in_day[i] = sum(1 for j in indices if j <= i and day_of(j) == day_of(i))

    rows = []  # (session, day, planned y, status, delivered x, delivered y, record or None)
    for i in indices:
        r = by_session.get(i)
        start = planned(i)[1]
        py = _hour(start) if timed else float(number_in_day[i])
        status = r.status if r is not None else "planned"
        dx, dy = float(day_of(i)), py
        if r is not None and r.delivered_start is not None and timed and start is not None:
            dx += (r.delivered_start.date() - start.date()).days
            dy = _hour(r.delivered_start)
        if status == "delivered" and r is not None:
            late = (
                r.planned_start is not None
                and r.delivered_start is not None
                and (r.delivered_start - (start or r.planned_start)).total_seconds() / 60.0
                > late_after_min
            )
            if late:
                status = "late"
            elif i in deviating:
                status = "deviating"
        rows.append((i, float(day_of(i)), py, status, dx, dy, r))

    counts = {k: sum(1 for row in rows if row[3] == k) for k in _LEGEND}
    events = [(row, row[6].event) for row in rows if row[6] is not None and row[6].event]

    def draw(fig: Any) -> None:
        ax = fig.add_subplot()
        ax.patch.set_gid("sessions-axes")
        ax.scatter(
            [row[1] for row in rows],
            [row[2] for row in rows],
            s=70,
            facecolor="none",
            edgecolor="0.35",
            linewidth=1.1,
            label=f"planned ({len(rows)})",
            zorder=2,
        ).set_gid("sessions-planned")
        for key, (label, colour, marker) in _LEGEND.items():
            pts = [row for row in rows if row[3] == key]
            if not pts:
                continue
            missed = key == "missed"
            ax.scatter(
                [row[1] if missed else row[4] for row in pts],
                [row[2] if missed else row[5] for row in pts],
                s=70 if missed else 38,
                marker=marker,
                color=colour,
                linewidth=2 if missed else 0,
                label=f"{label} ({len(pts)})",
                zorder=3,
            ).set_gid(f"sessions-{key}")
        if events:
            review = [(row, e) for row, e in events if e.physician_review]
            other = [(row, e) for row, e in events if not e.physician_review]
            offset = 0.6 if timed else 0.3
            for group, colour, gid, label in (
                (other, "black", "sessions-adverse-events", "adverse event"),
                (
                    review,
                    _STATUS_COLOUR["missed"],
                    "sessions-adverse-review",
                    "AE: physician review",
                ),
            ):
                if not group:
                    continue
                ax.scatter(
                    [row[4] for row, _ in group],
                    [row[5] - offset for row, _ in group],
                    marker="*",
                    s=110,
                    color=colour,
                    label=f"{label} ({len(group)})",
                    zorder=4,
                ).set_gid(gid)
        ax.invert_yaxis()  # morning at the top, as in a calendar
        days = sorted({int(row[1]) for row in rows})
        ax.set_xticks(days if len(days) <= 12 else days[:: max(1, len(days) // 10)])
        ax.set_xlabel("course day (day 1 = first planned session)", fontsize=10)
        ax.set_ylabel("time of day (hh:mm)" if timed else "session of the day", fontsize=10)
        if timed:
            from matplotlib.ticker import FuncFormatter

            ax.yaxis.set_major_formatter(FuncFormatter(_clock))
        else:
            ax.yaxis.get_major_locator().set_params(integer=True)
        ax.tick_params(labelsize=_FONT)
        ax.set_title(title, fontsize=11)
        ax.margins(x=0.08, y=0.12)
        ax.legend(
            fontsize=_FONT,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.18),
            ncol=2,
            frameon=False,
        )

    image = render_figure(draw, size=(_WIDTH, 4.0), fmt=fmt, scalable=True)
    first, last = min(row[1] for row in rows), max(row[1] for row in rows)
    parts = [f"{len(rows)} planned sessions over days {first:g}-{last:g}"]
    parts += [f"{counts[k]} {_LEGEND[k][0]}" for k in _LEGEND if counts[k]]
    not_yet = sum(1 for row in rows if row[3] == "planned")
    if not_yet:
        parts.append(f"{not_yet} not yet given")
    if events:
        parts.append(
            "adverse events at "
            + ", ".join(
                f"session {row[0]} ({e.term}{', physician review' if e.physician_review else ''})"
                for row, e in events
            )
        )
    else:
        parts.append("no adverse event")
    alt = "Session timeline by day and time of day: " + "; ".join(parts) + "."
    caption = (
        "Each planned session is an open circle at its planned day and time"
        + ("" if timed else " (no times logged: y is the session's number in its day)")
        + "; filled dots are delivered sessions at the time they began (blue as planned, orange "
        f"late by more than {late_after_min:g} min, partial or otherwise deviating), red crosses "
        "missed sessions; stars mark adverse events (red: serious or a seizure, for a "
        "physician's review)."
    )
    return AltFigure(image, alt, caption)


#: Delivered-session kinds: legend label, colour, marker.
_LEGEND = {
    "delivered": ("delivered as planned", _STATUS_COLOUR["delivered"], "o"),
    "late": ("delivered late", _STATUS_COLOUR["late"], "o"),
    "deviating": ("delivered with a deviation", _STATUS_COLOUR["late"], "D"),
    "partial": ("partial (fewer pulses)", _STATUS_COLOUR["partial"], "s"),
    "missed": ("missed", _STATUS_COLOUR["missed"], "x"),
}
