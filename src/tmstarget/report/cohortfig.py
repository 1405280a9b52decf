"""Figures of the cohort report: trial effect, response and remission, linked session targets.

The trial's primary effect with its sensitivity analyses as a forest plot, response and remission
as grouped bars, and each participant's targets linked across sessions on the template head. Pure
functions from data to an :class:`~tmstarget._utils.figures.AltFigure` (scalable SVG, fonts >= 9
pt, alt text naming the numbers); the same inputs give the same bytes. Research use; not a medical
device.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .._utils.figures import AltFigure, render_figure

__all__ = [
    "ARM_WORDS",
    "binary_rows",
    "effect_forest",
    "effect_rows",
    "linked_targets",
    "linked_targets_figure",
    "response_bars",
]

_FONT = 9.0  # pt, the smallest text (MIN_FONT_PT)
_EXPERIMENTAL, _CONTROL = "#1f5f9f", "#e08214"
#: How the trial's default arm names are spelled out in "favours ..." labels.
ARM_WORDS = {"connectivity": "connectivity-guided", "scalp": "scalp-based"}


def _arm_words(arm: str) -> str:
    return ARM_WORDS.get(arm, arm)


def _finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def effect_rows(analysis: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Return the between-arm differences of a ``trial analyze`` JSON, primary first.

    Parameters
    ----------
    analysis : mapping
        The object written by ``tmstarget trial analyze --report FILE.json``.

    Returns
    -------
    list of dict
        ``label``, ``estimate``, ``ci_low``, ``ci_high``, ``n`` and ``primary`` per estimate that
        the JSON holds with finite values: the ANCOVA (complete cases, primary), per protocol,
        after multiple imputation (MICE) and the mixed model (LMM).
    """
    candidates = [
        ("ANCOVA, complete cases", analysis.get("ancova"), True),
        ("ANCOVA, per protocol", (analysis.get("per_protocol") or {}).get("ancova"), False),
        ("ANCOVA after MICE, ITT", (analysis.get("imputation") or {}).get("estimate"), False),
        ("mixed model (LMM), ITT", analysis.get("mixed_model"), False),
    ]
    rows = []
    for label, est, primary in candidates:
        if not isinstance(est, Mapping):
            continue
        values = [est.get(k) for k in ("estimate", "ci_low", "ci_high")]
        if all(_finite(v) for v in values):
            rows.append(
                {
                    "label": label,
                    "estimate": float(values[0]),
                    "ci_low": float(values[1]),
                    "ci_high": float(values[2]),
                    "n": est.get("n_participants"),
                    "primary": primary,
                }
            )
    return rows


def effect_forest(
    rows: Sequence[Mapping[str, Any]],
    experimental: str,
    control: str,
    *,
    endpoint: str = "the endpoint",
    confidence: float = 0.95,
) -> AltFigure:
    """Forest plot: one row per estimate of the difference in MADRS reduction, with its CI.

    Parameters
    ----------
    rows : sequence of mapping
        From :func:`effect_rows` (top to bottom).
    experimental, control : str
        Arm names; positive differences favour ``experimental`` (drawn on the right).
    endpoint : str
        Endpoint visit, for the axis label.
    confidence : float
        Confidence level of the intervals.

    Returns
    -------
    AltFigure
        Scalable SVG; SVG ids ``forest-plot-area``, ``forest-zero``, ``forest-ci-K`` and
        ``forest-estimate-K`` (K = row, from 0 at the top).
    """
    from matplotlib.transforms import offset_copy

    if not rows:
        raise ValueError("no estimates to plot")
    pct = f"{100 * confidence:g}%"
    fav_e, fav_c = _arm_words(experimental), _arm_words(control)
    lo = min(min(r["ci_low"] for r in rows), 0.0)
    hi = max(max(r["ci_high"] for r in rows), 0.0)
    pad = 0.08 * (hi - lo or 1.0)
    xlim = (lo - pad, hi + pad)
    n = len(rows)

    def label(r: Mapping[str, Any]) -> str:
        first, _, rest = r["label"].partition(", ")
        n_text = f" (n = {r['n']})" if r.get("n") is not None else ""
        return f"{first},\n{rest}{n_text}" + ("\nprimary" if r.get("primary") else "")

    def draw(fig) -> None:
        ax = fig.add_subplot()
        ax.patch.set_gid("forest-plot-area")
        ax.axvline(0.0, color="0.25", lw=1.0, gid="forest-zero")
        for k, r in enumerate(rows):
            y = n - 1 - k
            colour = _EXPERIMENTAL if r.get("primary") else "0.3"
            ax.plot([r["ci_low"], r["ci_high"]], [y, y], color=colour, lw=2.0, gid=f"forest-ci-{k}")
            ax.plot(
                [r["estimate"]],
                [y],
                marker="D" if r.get("primary") else "o",
                ms=8 if r.get("primary") else 6,
                color=colour,
                gid=f"forest-estimate-{k}",
            )
            ax.annotate(
                f"{r['estimate']:.1f} [{r['ci_low']:.1f}, {r['ci_high']:.1f}]",
                (r["estimate"], y),
                xytext=(0, 7),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=_FONT,
            )
        ax.set_yticks(range(n), [label(r) for r in rows][::-1], fontsize=_FONT)
        ax.set_ylim(-0.7, n - 0.3)
        ax.set_xlim(*xlim)
        ax.tick_params(labelsize=_FONT)
        ax.set_xlabel(f"points ({pct} CI)", fontsize=_FONT)
        below = offset_copy(ax.transAxes, fig=fig, y=-34, units="points")
        lower = offset_copy(ax.transAxes, fig=fig, y=-47, units="points")
        ax.text(
            0.0, 0.0, f"← favours {fav_c}", transform=below, ha="left", va="top", fontsize=_FONT
        )
        ax.text(
            1.0, 0.0, f"favours {fav_e} →", transform=lower, ha="right", va="top", fontsize=_FONT
        )
        ax.set_title(
            f"Difference in MADRS reduction at {endpoint}\n{experimental} minus {control}",
            fontsize=10,
            loc="right",
        )

    image = render_figure(draw, size=(4.8, 2.2 + 0.75 * n), scalable=True)
    listed = "; ".join(
        f"{r['label']} {r['estimate']:.1f} points ({pct} CI {r['ci_low']:.1f} to "
        f"{r['ci_high']:.1f})"
        for r in rows
    )
    alt = (
        f"Forest plot of the difference in MADRS reduction at {endpoint}, {experimental} minus "
        f"{control}: {listed}. Right of the zero line favours {fav_e}, left favours {fav_c}."
    )
    caption = (
        f"Each row is one estimate of the between-arm difference in MADRS reduction (points) with "
        f"its {pct} confidence interval; the diamond is the primary analysis (ANCOVA, complete "
        f"cases). An interval crossing the zero line is compatible with no difference."
    )
    return AltFigure(image, alt, caption)


def binary_rows(analysis: Mapping[str, Any], arms: Sequence[str]) -> list[dict[str, Any]]:
    """Return response and remission per arm (complete cases at the endpoint) from the JSON.

    Returns
    -------
    list of dict
        Per outcome present: ``outcome``, ``rule`` (the definition in words), ``counts`` (arm →
        (events, N)), and ``difference``, ``ci_low``, ``ci_high`` (proportion difference,
        experimental minus control; None when absent).
    """
    e, c = arms[0], arms[1]
    definitions = analysis.get("definitions") or {}
    out = []
    for key in ("response", "remission"):
        b = analysis.get(key)
        if not isinstance(b, Mapping):
            continue
        counts = {
            e: (int(b["events_experimental"]), int(b["n_experimental"])),
            c: (int(b["events_control"]), int(b["n_control"])),
        }
        rd = [b.get(k) for k in ("risk_difference", "rd_ci_low", "rd_ci_high")]
        out.append(
            {
                "outcome": key,
                "rule": definitions.get(key),
                "counts": counts,
                "difference": float(rd[0]) if _finite(rd[0]) else None,
                "ci_low": float(rd[1]) if _finite(rd[1]) else None,
                "ci_high": float(rd[2]) if _finite(rd[2]) else None,
            }
        )
    return out


def _share(events: int, total: int) -> float:
    return events / total if total else 0.0


def response_bars(
    rows: Sequence[Mapping[str, Any]],
    arms: Sequence[str],
    *,
    endpoint: str = "the endpoint",
    confidence: float = 0.95,
) -> AltFigure:
    """Draw grouped bars: the share of responders and remitters per arm, with the counts n/N.

    Parameters
    ----------
    rows : sequence of mapping
        From :func:`binary_rows`.
    arms : (str, str)
        Experimental and control arm.
    endpoint : str
        Endpoint visit.
    confidence : float
        Level of the proportion-difference interval.

    Returns
    -------
    AltFigure
        Scalable SVG; bars have SVG ids ``bar-<outcome>-<arm index>``.
    """
    if not rows:
        raise ValueError("no response or remission counts to plot")
    pct = f"{100 * confidence:g}%"
    colours = (_EXPERIMENTAL, _CONTROL)

    def diff_text(r: Mapping[str, Any]) -> str:
        if r["difference"] is None:
            return ""
        ci = (
            f"\n{pct} CI {r['ci_low']:+.2f} to {r['ci_high']:+.2f}"
            if r["ci_low"] is not None and r["ci_high"] is not None
            else ""
        )
        return f"difference {r['difference']:+.2f}{ci}"

    def draw(fig) -> None:
        ax = fig.add_subplot()
        ax.patch.set_gid("bars-plot-area")
        width = 0.36
        for g, r in enumerate(rows):
            for k, arm in enumerate(arms[:2]):
                events, total = r["counts"][arm]
                x = g + (k - 0.5) * width
                share = _share(events, total)
                ax.bar(
                    [x],
                    [share],
                    width=width * 0.95,
                    color=colours[k],
                    label=arm if g == 0 else None,
                    gid=f"bar-{r['outcome']}-{k}",
                )
                ax.text(
                    x, share + 0.02, f"{events}/{total}", ha="center", va="bottom", fontsize=_FONT
                )
            text = diff_text(r)
            if text:
                ax.text(g, 1.04, text, ha="center", va="bottom", fontsize=_FONT)
        ax.set_xticks(range(len(rows)), [r["outcome"] for r in rows], fontsize=10)
        ax.set_xlim(-0.6, len(rows) - 0.4)
        ax.set_ylim(0.0, 1.3)
        ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0], ["0%", "25%", "50%", "75%", "100%"])
        ax.tick_params(labelsize=_FONT)
        ax.set_ylabel(f"participants at {endpoint}", fontsize=_FONT)
        ax.legend(
            fontsize=_FONT, loc="upper center", frameon=False, ncol=2, bbox_to_anchor=(0.5, -0.1)
        )
        ax.set_title("Response and remission (complete cases)", fontsize=10)

    image = render_figure(draw, size=(4.8, 3.9), scalable=True)
    parts = []
    for r in rows:
        counts = ", ".join(
            f"{arm} {r['counts'][arm][0]}/{r['counts'][arm][1]} "
            f"({100 * _share(*r['counts'][arm]):.0f}%)"
            for arm in arms[:2]
        )
        diff = (
            f", difference {r['difference']:+.2f}"
            + (
                f" ({pct} CI {r['ci_low']:+.2f} to {r['ci_high']:+.2f})"
                if r["ci_low"] is not None and r["ci_high"] is not None
                else ""
            )
            if r["difference"] is not None
            else ""
        )
        parts.append(f"{r['outcome']}: {counts}{diff}")
    alt = (
        f"Bar chart of response and remission at {endpoint} by arm, complete cases: "
        + "; ".join(parts)
        + "."
    )
    rules = "; ".join(f"{r['outcome']} = {r['rule']}" for r in rows if r.get("rule"))
    caption = (
        "Share of participants assessed at the endpoint who responded or remitted, per arm; the "
        "numbers above the bars are events/assessed. The difference is the proportion difference "
        f"({arms[0]} minus {arms[1]}) with its {pct} Newcombe interval."
        + (f" Definitions: {rules}." if rules else "")
    )
    return AltFigure(image, alt, caption)


def linked_targets(
    rows: Sequence[Mapping[str, Any]],
) -> dict[str, list[tuple[float, float, float]]]:
    """Return each participant's targets in session order, for participants with >= 2 sessions.

    Parameters
    ----------
    rows : sequence of mapping
        With ``participant``, ``session`` and ``target_mni``.
    """
    people: dict[str, list[tuple[str, tuple[float, float, float]]]] = {}
    for r in rows:
        xyz = tuple(float(v) for v in r["target_mni"])
        people.setdefault(str(r["participant"]), []).append((str(r.get("session") or ""), xyz))
    return {
        p: [xyz for _, xyz in sorted(sessions)]
        for p, sessions in sorted(people.items())
        if len(sessions) >= 2
    }


def _outlines() -> dict[tuple[int, int], np.ndarray]:
    try:
        from ..headmodel import load_template_head, scalp_outline

        head = load_template_head()
        return {dims: scalp_outline(head, dims) for dims in ((0, 1), (1, 2))}
    except Exception:  # noqa: BLE001 - the outline is context, not data
        return {}


def linked_targets_figure(
    rows: Sequence[Mapping[str, Any]],
    median_within_mm: float | None,
    ratio: float | None = None,
    ratio_label: str = "between/within-person distance ratio (medians)",
    circuit: str = "",
) -> AltFigure:
    """Every target on the template head seen from above and from the left, sessions linked.

    One line joins the targets of each participant with two or more sessions (in session order);
    targets of participants with one session are grey dots. Equal axes (1 mm across = 1 mm up).

    Parameters
    ----------
    rows : sequence of mapping
        With ``participant``, ``session`` and ``target_mni``.
    median_within_mm : float or None
        Median within-person distance (for the alt text; see
        :func:`tmstarget.targeting.uncertainty.cohort.cohort_stability`).
    ratio : float, optional
        The cohort's between/within ratio, named ``ratio_label``.
    circuit : str
        Circuit name, for the alt text.

    Returns
    -------
    AltFigure
        Scalable SVG; per view V (``top``, ``side``) and linked participant P, the line has the SVG
        id ``link-V-P``.
    """
    links = linked_targets(rows)
    if not links:
        raise ValueError("no participant has targets from two or more sessions")
    linked = set(links)
    single = np.array(
        [[float(v) for v in r["target_mni"]] for r in rows if str(r["participant"]) not in linked]
    ).reshape(-1, 3)
    everything = np.array([[float(v) for v in r["target_mni"]] for r in rows])
    outlines = _outlines()
    cmap_colours = [
        "#1f77b4",
        "#d62728",
        "#2ca02c",
        "#9467bd",
        "#8c564b",
        "#e377c2",
        "#17becf",
        "#bcbd22",
    ]

    def draw(fig) -> None:
        axes = fig.subplots(2, 1)
        views = (
            (axes[0], (0, 1), "top", "seen from above"),
            (axes[1], (1, 2), "side", "seen from the left"),
        )
        for ax, (i, j), view, title in views:
            ax.patch.set_gid(f"linked-area-{view}")
            if (i, j) in outlines:
                head = outlines[(i, j)]
                ax.plot(head[:, 0], head[:, 1], color="0.6", lw=1.0, gid=f"head-{view}")
            if len(single):
                ax.plot(single[:, i], single[:, j], "o", color="0.65", ms=4, gid=f"single-{view}")
            for k, (person, pts) in enumerate(links.items()):
                p = np.asarray(pts)
                ax.plot(
                    p[:, i],
                    p[:, j],
                    "-o",
                    color=cmap_colours[k % len(cmap_colours)],
                    ms=4,
                    lw=1.4,
                    label=f"sub-{person}" if view == "top" and k < 8 else None,
                    gid=f"link-{view}-{person}",
                )
            # zoomed on the targets (the scalp outline, where it falls in view, for orientation),
            # the same span on both axes so that a few mm between sessions stay visible
            centre = (everything[:, [i, j]].min(axis=0) + everything[:, [i, j]].max(axis=0)) / 2
            half = max(float(np.ptp(everything[:, [i, j]], axis=0).max()) / 2 + 12.0, 20.0)
            ax.set_xlim(centre[0] - half, centre[0] + half)
            ax.set_ylim(centre[1] - half, centre[1] + half)
            ax.set_aspect("equal", adjustable="box")
            ax.set_xlabel(f"{'xyz'[i]} (MNI mm)", fontsize=_FONT)
            ax.set_ylabel(f"{'xyz'[j]} (MNI mm)", fontsize=_FONT)
            ax.tick_params(labelsize=_FONT)
            ax.set_title(title, fontsize=10)
        if len(links) <= 8:
            axes[0].legend(fontsize=_FONT, loc="best", frameon=True, framealpha=0.85)
        fig.tight_layout()
        for ax, *_ in views:
            ax.apply_aspect()

    image = render_figure(draw, size=(4.0, 7.6), layout=False, scalable=True)
    within = (
        f"median within-person distance {median_within_mm:.1f} mm"
        if median_within_mm is not None
        else "median within-person distance n/a"
    )
    ratio_text = f"; {ratio_label} {ratio:.2f}" if ratio is not None else ""
    alt = (
        f"Targets{f' ({circuit})' if circuit else ''} seen from above and from the left, zoomed "
        f"on the targets with the template scalp outline: {len(links)} "
        f"participant{'s' if len(links) != 1 else ''} with "
        f"two or more sessions, each with one line joining their session targets; {within}"
        f"{ratio_text}."
    )
    caption = (
        "One line per participant joins the targets of their sessions (in session order); grey "
        "dots are participants with one session; the grey outline is the template scalp. Short "
        "lines mean the target is reproducible within a person; equal axes (1 mm across = 1 mm "
        "up), so distances look as they are."
    )
    return AltFigure(image, alt, caption)
