"""MADRS trajectory figure, returned as SVG text (matplotlib, Agg-compatible, no global pyplot state)."""

from __future__ import annotations

import io

from .madrs import TOTAL_MAX, ParticipantOutcomes

__all__ = ["trajectory_svg"]


def _x_positions(
    results: tuple[ParticipantOutcomes, ...],
) -> tuple[dict[tuple[str, str], float], list[float], list[str], str]:
    """X position for each (participant, timepoint): days when every assessment has one, else ordinal timepoints."""
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


def trajectory_svg(results: tuple[ParticipantOutcomes, ...], *, remission_threshold: int, title: str = "MADRS") -> str:
    """Total score over time for every participant, with the remission threshold marked.

    Parameters
    ----------
    results : tuple of ParticipantOutcomes
        Output of :func:`tmstarget.outcomes.madrs_outcomes`.
    remission_threshold : int
        Drawn as a dashed line (remission = total at or below it).
    title : str
        Figure title.

    Returns
    -------
    str
        A standalone SVG document; identical inputs give identical text.
    """
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    xs, ticks, labels, xlabel = _x_positions(results)
    with matplotlib.rc_context({"svg.hashsalt": "tmstarget", "svg.fonttype": "none"}):
        fig = Figure(figsize=(6.4, 4.0))
        FigureCanvasAgg(fig)  # Agg canvas on this figure only: no pyplot, no global backend switch
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
        fig.tight_layout()
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None})
    return buf.getvalue()
