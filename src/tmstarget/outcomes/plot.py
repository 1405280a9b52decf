"""MADRS trajectory figure (with its alt text) and the trial's change-by-visit figure.

The figure is drawn with matplotlib (Agg-compatible, no global pyplot state).
"""

from __future__ import annotations

from typing import Any

from .._utils.figures import AltFigure, render_figure
from .madrs import SUICIDAL_ITEM_FLAG, TOTAL_MAX, ParticipantOutcomes

__all__ = ["change_by_visit_svg", "trajectory_figure", "trajectory_svg"]


def _x_positions(
    results: tuple[ParticipantOutcomes, ...],
) -> tuple[dict[tuple[str, str], float], list[float], list[str], str]:
    """Return the x position of each (participant, timepoint).

    Days are used when every assessment has one, else ordinal timepoints.
    """
    outcomes = [(r.participant, o) for r in results for o in r.outcomes]
    if all(o.day is not None for _, o in outcomes):
        xs = {(p, o.timepoint): float(o.day) for p, o in outcomes if o.day is not None}
        return xs, [], [], "day"
    order: list[str] = []
    for _, o in outcomes:
        if o.timepoint not in order:
            order.append(o.timepoint)
    xs = {(p, o.timepoint): float(order.index(o.timepoint)) for p, o in outcomes}
    return xs, [float(i) for i in range(len(order))], order, "timepoint"


#: Natural size of the trajectory figure, inches: narrow, so that 9 pt text stays readable when a
#: phone (390 px) shows it at full width.
TRAJECTORY_SIZE = (4.8, 3.6)
_FONT = 9.0  # pt, the smallest text in the figure (MIN_FONT_PT)
_FLAG_COLOUR = "#b2182b"


def _name(participant: str) -> str:
    return participant if participant.startswith("sub-") else f"sub-{participant}"


def _half(total: int) -> str:
    return f"{total / 2:g}"


def _treatment_note(
    first: float | None, last: float | None, by_day: bool
) -> tuple[str, str | None]:
    """Return how the treatment period is drawn: a phrase for the alt text and the kind of mark.

    The kind is ``"span"`` (shaded from the first to the last session), ``"last"`` or ``"first"``
    (one dashed line) or None (nothing drawn).
    """
    if first is None and last is None:
        return "treatment days not given, so the treatment period is not shown", None
    if not by_day:
        return (
            "treatment period not shown: the assessments have no day to place it against",
            None,
        )
    if first is not None and last is not None:
        return f"treatment from day {first:g} to day {last:g} shaded", "span"
    if last is not None:
        return (
            f"last treatment session on day {last:g} marked (first session day not given, period "
            "not shaded)",
            "last",
        )
    return (
        f"first treatment session on day {first:g} marked (last session day not given, period "
        "not shaded)",
        "first",
    )


def _trajectory_alt(
    results: tuple[ParticipantOutcomes, ...], remission_threshold: int, treatment: str
) -> str:
    def visit(o: Any) -> str:
        return f"{o.total} at {o.timepoint}" + ("" if o.day is None else f" (day {o.day:g})")

    parts = []
    for r in results[:5]:
        course = ", ".join(visit(o) for o in r.outcomes)
        response = (
            f"response line at {_half(r.baseline_total)}" if r.baseline_total > 0 else "baseline 0"
        )
        parts.append(f"{_name(r.participant)}: {course} ({response})")
    more = f"; and {len(results) - 5} more participants" if len(results) > 5 else ""
    flags = [
        f"{_name(r.participant)} at {o.timepoint} (item 10 = {o.item10})"
        for r in results
        for o in r.outcomes
        if o.clinical_attention
    ]
    has_items = any(o.item10 is not None for r in results for o in r.outcomes)
    if flags:
        flagged = f"item 10 (suicidal thoughts) >= {SUICIDAL_ITEM_FLAG} flagged: " + ", ".join(
            flags
        )
    elif has_items:
        flagged = f"no item 10 (suicidal thoughts) score >= {SUICIDAL_ITEM_FLAG}"
    else:
        flagged = "item 10 not recorded (totals only), so no suicidal-thoughts flags"
    return (
        "MADRS total by assessment for "
        + "; ".join(parts)
        + more
        + f"; remission line at {remission_threshold}; {treatment}; {flagged}."
    )


def trajectory_figure(
    results: tuple[ParticipantOutcomes, ...],
    *,
    remission_threshold: int,
    first_session_day: float | None = None,
    last_session_day: float | None = None,
    title: str = "MADRS",
    fmt: str = "svg",
) -> AltFigure:
    """MADRS total over time with the response and remission lines, treatment and item-10 flags.

    Drawn per participant: the total at each assessment; the 50% response line at half the
    baseline total (dotted, the participant's colour; response = total at or below it, as in
    :func:`~tmstarget.outcomes.madrs_outcomes`); the remission threshold (dashed grey); the
    treatment period (shaded from the first to the last session when both days are known, one
    dashed line when only one is; nothing, and the alt text says so, when neither is known or the
    assessments have no day); and a red triangle at every assessment with MADRS item 10 (suicidal
    thoughts) at or above :data:`~tmstarget.outcomes.SUICIDAL_ITEM_FLAG` (the ``madrs`` clinical
    attention flag).

    Parameters
    ----------
    results : tuple of ParticipantOutcomes
        Output of :func:`tmstarget.outcomes.madrs_outcomes`.
    remission_threshold : int
        Drawn as a dashed line (remission = total at or below it).
    first_session_day, last_session_day : float, optional
        Days of the first and the last treatment session, on the assessments' ``day`` clock.
    title : str
        Figure title.
    fmt : {"svg", "png"}
        Output format; SVG has a ``viewBox`` and no fixed width.

    Returns
    -------
    AltFigure
        The image (identical inputs give identical output), its alt text and caption.

    Raises
    ------
    ValueError
        A first session day after the last one.
    """
    if first_session_day is not None and last_session_day is not None:
        if first_session_day > last_session_day:
            raise ValueError(
                f"first treatment session day {first_session_day:g} is after the last "
                f"({last_session_day:g})"
            )
    xs, ticks, labels, xlabel = _x_positions(results)
    by_day = xlabel == "day"
    treatment, mark = _treatment_note(first_session_day, last_session_day, by_day)
    has_items = any(o.item10 is not None for r in results for o in r.outcomes)

    def draw(fig: Any) -> None:
        ax = fig.add_subplot()
        ax.set_gid("madrs-axes")
        ax.patch.set_gid("madrs-plot-area")
        if mark == "span":
            ax.axvspan(
                first_session_day,
                last_session_day,
                color="#9ecae1",
                alpha=0.35,
                linewidth=0,
                label=f"treatment (days {first_session_day:g}-{last_session_day:g})",
            ).set_gid("madrs-treatment")
        elif mark is not None:
            day = last_session_day if mark == "last" else first_session_day
            ax.axvline(
                day,
                color="#3182bd",
                linestyle="-.",
                linewidth=1,
                label=f"{mark} treatment session (day {day:g})",
            ).set_gid("madrs-treatment")
        colours = [f"C{i % 10}" for i in range(len(results))]
        flag_labelled, flag_label = False, f"item 10 ≥ {SUICIDAL_ITEM_FLAG} (suicidal thoughts)"
        for r, colour in zip(results, colours, strict=True):
            x = [xs[(r.participant, o.timepoint)] for o in r.outcomes]
            y = [o.total for o in r.outcomes]
            (line,) = ax.plot(
                x, y, marker="o", linewidth=1.5, color=colour, label=_name(r.participant)
            )
            line.set_gid(f"madrs-total-{_name(r.participant)}")
            if r.baseline_total > 0:
                half = r.baseline_total / 2
                line = ax.axhline(half, color=colour, linestyle=":", linewidth=1.2)
                line.set_gid(f"madrs-response-{_name(r.participant)}")
                if len(results) == 1:
                    ax.annotate(
                        f"50% response (total ≤ {_half(r.baseline_total)})",
                        xy=(0.0, half),
                        xycoords=("axes fraction", "data"),
                        xytext=(4, 3),
                        textcoords="offset points",
                        fontsize=_FONT,
                        color=colour,
                    )
            flagged = [(xi, o) for xi, o in zip(x, r.outcomes, strict=True) if o.clinical_attention]
            if flagged:
                ax.scatter(
                    [xi for xi, _ in flagged],
                    [o.total for _, o in flagged],
                    marker="^",
                    s=90,
                    facecolor=_FLAG_COLOUR,
                    edgecolor="black",
                    linewidth=0.6,
                    zorder=5,
                    label=None if flag_labelled else flag_label,
                ).set_gid(f"madrs-item10-{_name(r.participant)}")
                flag_labelled = True
        if len(results) > 1:
            ax.plot([], [], color="0.3", linestyle=":", label="50% response (half each baseline)")
        ax.axhline(remission_threshold, color="0.4", linestyle="--", linewidth=1).set_gid(
            "madrs-remission"
        )
        ax.annotate(
            f"remission (total ≤ {remission_threshold})",
            xy=(1.0, remission_threshold),
            xycoords=("axes fraction", "data"),
            xytext=(-4, -11),
            textcoords="offset points",
            ha="right",
            fontsize=_FONT,
            color="0.3",
        )
        ax.set_ylim(0, TOTAL_MAX)
        ax.set_ylabel("MADRS total (points, 0-60)", fontsize=10)
        ax.set_xlabel(
            "day (days since baseline)" if by_day else "assessment (in table order)", fontsize=10
        )
        if labels:
            ax.set_xticks(ticks, labels, rotation=0 if len(labels) < 5 else 30)
        ax.tick_params(labelsize=_FONT)
        ax.set_title(title, fontsize=11)
        if len(results) <= 10:
            ax.legend(fontsize=_FONT, frameon=True, framealpha=0.85, loc="upper right")

    image = render_figure(draw, size=TRAJECTORY_SIZE, fmt=fmt, scalable=True)
    caption = (
        "MADRS total at each assessment (points, 0-60). Dotted line: 50% response line at half "
        "the baseline total (response = total at or below it); dashed grey line: remission "
        f"threshold (total <= {remission_threshold}); "
        + (
            "blue band: treatment period; "
            if mark == "span"
            else ("dash-dotted line: treatment session; " if mark else f"{treatment}; ")
        )
        + f"red triangles: MADRS item 10 (suicidal thoughts) >= {SUICIDAL_ITEM_FLAG}, for "
        "clinical attention"
        + ("" if has_items else " (not available: the table gives totals only)")
        + "."
    )
    return AltFigure(image, _trajectory_alt(results, remission_threshold, treatment), caption)


def trajectory_svg(
    results: tuple[ParticipantOutcomes, ...],
    *,
    remission_threshold: int,
    first_session_day: float | None = None,
    last_session_day: float | None = None,
    title: str = "MADRS",
    fmt: str = "svg",
) -> str | bytes:
    """Return only the image of :func:`trajectory_figure` (its alt text: ``trajectory_figure``).

    Parameters
    ----------
    results : tuple of ParticipantOutcomes
        Output of :func:`tmstarget.outcomes.madrs_outcomes`.
    remission_threshold : int
        Drawn as a dashed line (remission = total at or below it).
    first_session_day, last_session_day : float, optional
        Treatment days on the assessments' clock (see :func:`trajectory_figure`).
    title : str
        Figure title.
    fmt : {"svg", "png"}
        Output format.

    Returns
    -------
    str or bytes
        A standalone SVG document (or PNG bytes); identical inputs give identical output.
    """
    return trajectory_figure(
        results,
        remission_threshold=remission_threshold,
        first_session_day=first_session_day,
        last_session_day=last_session_day,
        title=title,
        fmt=fmt,
    ).image


def change_by_visit_svg(
    rows: list[dict],
    arms: list[str],
    visit_days: dict[str, float] | None = None,
    *,
    confidence: float = 0.95,
    title: str = "MADRS change from baseline by visit",
    fmt: str = "svg",
) -> str | bytes:
    """Draw the mean change from baseline per visit by arm, with confidence intervals.

    This is the trial's headline figure.

    Parameters
    ----------
    rows : list of dict
        One per visit and arm: ``visit``, ``arm`` (``"experimental"`` or ``"control"``),
        ``estimate``, ``ci_low``, ``ci_high`` (MADRS points; negative = improvement), e.g. from
        :func:`tmstarget.trial.longitudinal.effects_table`.
    arms : list of str
        Display names of the experimental and the control arm.
    visit_days : dict, optional
        Target day of each visit after the last session; visits are placed at their day when every
        visit has one, else at their position.
    confidence : float
        Level of the intervals (for the legend).
    title : str
        Figure title.

    Returns
    -------
    str
        A standalone SVG document; identical inputs give identical text.
    """
    visits = list(dict.fromkeys(r["visit"] for r in rows))
    days = visit_days or {}
    by_day = bool(visits) and all(v in days for v in visits)
    x0 = {v: (float(days[v]) if by_day else float(i + 1)) for i, v in enumerate(visits)}
    span = (max(x0.values()) if x0 else 1.0) or 1.0
    base_x = (
        -0.12 * span if by_day else 0.0
    )  # baseline is before treatment, left of the first visit

    def draw(fig: Any) -> None:
        ax = fig.add_subplot()
        ax.axhline(0.0, color="0.6", linewidth=0.8)
        for k, (role, name, colour) in enumerate(
            (("experimental", arms[0], "#1b6ca8"), ("control", arms[1], "#c4572a"))
        ):
            pts = [r for r in rows if r["arm"] == role]
            shift = (k - 0.5) * 0.015 * span
            x = [base_x] + [x0[r["visit"]] + shift for r in pts]
            y = [0.0] + [r["estimate"] for r in pts]
            ax.plot(x, y, marker="o", color=colour, linewidth=1.5, label=name)
            ax.errorbar(
                [x0[r["visit"]] + shift for r in pts],
                [r["estimate"] for r in pts],
                yerr=[
                    [r["estimate"] - r["ci_low"] for r in pts],
                    [r["ci_high"] - r["estimate"] for r in pts],
                ],
                fmt="none",
                ecolor=colour,
                capsize=3,
                linewidth=1,
            )
        ticks = [base_x, *x0.values()]
        ax.set_xticks(
            ticks, ["baseline", *visits], rotation=0 if len(visits) < 5 else 30, fontsize=8
        )
        ax.set_xlabel(
            "visit (at its target day after the last treatment session)" if by_day else "visit"
        )
        ax.set_ylabel("MADRS change from baseline (points)")
        ax.set_title(title)
        ax.legend(
            fontsize=8, frameon=False, title=f"mean, {100 * confidence:g}% CI", title_fontsize=8
        )

    return render_figure(draw, fmt=fmt)
