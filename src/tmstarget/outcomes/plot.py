"""MADRS trajectory figure, returned as SVG text.

The figure is drawn with matplotlib (Agg-compatible, no global pyplot state).
"""

from __future__ import annotations

from typing import Any

from .._utils.figures import render_figure
from .madrs import TOTAL_MAX, ParticipantOutcomes

__all__ = ["change_by_visit_svg", "trajectory_svg"]


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


def trajectory_svg(
    results: tuple[ParticipantOutcomes, ...],
    *,
    remission_threshold: int,
    title: str = "MADRS",
    fmt: str = "svg",
) -> str | bytes:
    """Total score over time for every participant, with the remission threshold marked.

    Parameters
    ----------
    results : tuple of ParticipantOutcomes
        Output of :func:`tmstarget.outcomes.madrs_outcomes`.
    remission_threshold : int
        Drawn as a dashed line (remission = total at or below it).
    title : str
        Figure title.
    fmt : {"svg", "png"}
        Output format.

    Returns
    -------
    str or bytes
        A standalone SVG document (or PNG bytes); identical inputs give identical output.
    """
    xs, ticks, labels, xlabel = _x_positions(results)

    def draw(fig: Any) -> None:
        ax = fig.add_subplot()
        for r in results:
            x = [xs[(r.participant, o.timepoint)] for o in r.outcomes]
            y = [o.total for o in r.outcomes]
            ax.plot(x, y, marker="o", linewidth=1.5, label=f"sub-{r.participant}")
        ax.axhline(remission_threshold, color="0.4", linestyle="--", linewidth=1)
        ax.annotate(
            f"remission (total ≤ {remission_threshold})",
            xy=(1.0, remission_threshold),
            xycoords=("axes fraction", "data"),
            xytext=(-4, 4),
            textcoords="offset points",
            ha="right",
            fontsize=8,
            color="0.3",
        )
        ax.set_ylim(0, TOTAL_MAX)
        ax.set_ylabel("MADRS total (0-60)")
        ax.set_xlabel(xlabel)
        if labels:
            ax.set_xticks(ticks, labels)
        ax.set_title(title)
        if len(results) <= 10:
            ax.legend(fontsize=8, frameon=False)

    return render_figure(draw, fmt=fmt)


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
