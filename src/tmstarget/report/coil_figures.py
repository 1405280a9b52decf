"""Coil figures of the participant report: the coil on the head, and its E-field on cortex.

Both are drawn from a coil plan (``tmstarget coil --json``, or the report's default placement) on
the cached template head in MNI152 mm with equal axis scales, as scalable SVG (scalp and field
points embedded as rasters) with alt text; the same plan gives the same bytes. Research use only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .._utils.figures import AltFigure, render_figure
from .brain import TARGET_COLOUR

#: Colours and markers of the placements: the plan's own and, with an optimisation, the default.
PLAN_STYLE = {"colour": "#e65100", "marker": "o"}
DEFAULT_STYLE = {"colour": "#1565c0", "marker": "s"}
#: Grey-matter points within this distance of the target are shown in the E-field figure (mm).
FIELD_RADIUS_MM = 30.0
_FONT = 9.0  # pt, the smallest text (MIN_FONT_PT)
_WIDTH = 4.8  # inches
_HANDLE_MM = 45.0  # drawn length of the handle arrow
_xyz = lambda p: "(" + ", ".join(f"{float(v):.0f}" for v in p) + ")"  # noqa: E731


def handle_words(handle, target_mm) -> str:
    """Describe a handle direction in MNI axes, as an operator sees it on the head.

    Parameters
    ----------
    handle : array_like, shape (3,)
        Handle direction (MNI axes; any length).
    target_mm : array_like, shape (3,)
        The target; its side (x < 1 mm: left, as :func:`tmstarget.coil.geometry.hemisphere_sign`)
        says which way is away from the midline.

    Returns
    -------
    str
        E.g. ``"handle pointing backwards, turned 45° away from the midline (to the left)"``: the
        front-back direction, the angle from it towards or away from the midline, and a tilt up or
        down when it exceeds 20°.
    """
    h, left = np.asarray(handle, float), float(np.asarray(target_mm, float)[0]) < 1.0
    h = h / np.linalg.norm(h)
    outward, inward = ("to the left", "to the right") if left else ("to the right", "to the left")
    lateral = -h[0] if left else h[0]  # positive: away from the midline
    tilt = float(np.degrees(np.arcsin(np.clip(h[2], -1.0, 1.0))))
    if np.hypot(h[1], lateral) < 0.2:
        return f"handle pointing {'up' if h[2] > 0 else 'down'}"
    turn = float(np.degrees(np.arctan2(abs(lateral), abs(h[1]))))
    way = "backwards" if h[1] < 0 else "forwards"
    side = (
        f"away from the midline ({outward})" if lateral > 0 else f"towards the midline ({inward})"
    )
    if turn < 10.0:
        text = f"handle pointing {way}"
    elif turn > 80.0:
        text = f"handle pointing sideways, {side}"
    else:
        text = f"handle pointing {way}, turned {turn:.0f}° {side}"
    if abs(tilt) > 20.0:
        text += f", tilted {abs(tilt):.0f}° {'upwards' if tilt > 0 else 'downwards'}"
    return text


def plan_placements(plan: Mapping[str, Any]) -> list[tuple[str, Any, dict]]:
    """Return ``(label, Placement, style)`` of the placements a coil plan holds, default first.

    With an optimisation, the default placement and the optimised one; else the plan's one.
    """
    from ..coil.geometry import placement_from_json

    placement = placement_from_json(plan.get("placement"), "coil plan placement")
    if plan.get("optimization") and isinstance(plan.get("default_placement"), Mapping):
        default = placement_from_json(plan["default_placement"], "coil plan default placement")
        return [
            ("default placement", default, DEFAULT_STYLE),
            ("optimised placement", placement, PLAN_STYLE),
        ]
    return [("placement", placement, PLAN_STYLE)]


def _views(target_mm) -> list[tuple[str, int, int, np.ndarray, bool]]:
    """``(title, horizontal axis, vertical axis, towards the viewer, invert x)`` of both panels.

    The side view looks at the target's side of the head (from the left for a left target).
    """
    side = -1.0 if float(np.asarray(target_mm, float)[0]) < 1.0 else 1.0
    name = "from the left" if side < 0 else "from the right"
    return [
        (name, 1, 2, np.array([side, 0.0, 0.0]), side < 0),
        ("from above", 0, 1, np.array([0.0, 0.0, 1.0]), False),
    ]


_AXIS = {0: "x (left – right)", 1: "y (back – front)", 2: "z (down – up)"}


def _scalp(ax, head, i: int, j: int, toward: np.ndarray) -> None:
    """Shaded scalp seen along ``-toward``: front-facing triangles, far ones first."""
    from matplotlib.collections import PolyCollection

    v, f = np.asarray(head.scalp_vertices), np.asarray(head.scalp_faces)
    tri = v[f]
    normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    facing = (normal / np.linalg.norm(normal, axis=1, keepdims=True)) @ toward
    keep = np.flatnonzero(facing > 0)
    keep = keep[np.argsort(tri[keep].mean(axis=1) @ toward, kind="stable")]
    grey = np.repeat((0.5 + 0.42 * facing[keep])[:, None], 3, axis=1)
    kw = {"edgecolors": "none", "rasterized": True, "zorder": 0}
    ax.add_collection(PolyCollection(tri[keep][:, :, [i, j]], facecolors=grey, **kw))
    ax.set_xlim(v[:, i].min() - 5, v[:, i].max() + 5)
    ax.set_ylim(max(v[:, j].min(), -70.0 if j == 2 else -np.inf) - 5, v[:, j].max() + 5)


def _panel_axes(ax, title: str, i: int, j: int, invert: bool) -> None:
    ax.set_aspect("equal", adjustable="box")  # 1 mm is the same length on both axes
    if invert:
        ax.invert_xaxis()
    ax.set_title(title, fontsize=_FONT + 1)
    ax.set_xlabel(f"{_AXIS[i]}, MNI mm", fontsize=_FONT)
    ax.set_ylabel(f"{_AXIS[j]}, MNI mm", fontsize=_FONT)
    ax.tick_params(labelsize=_FONT)


_TARGET = {"marker": "*", "color": TARGET_COLOUR, "ms": 12, "mec": "k", "mew": 0.7}
_CENTRE = {"marker": "+", "color": "k", "ms": 8, "mew": 1.3}
_ARROW = {
    "arrowstyle": "-|>,head_width=0.35,head_length=0.7",
    "lw": 2.2,
    "shrinkA": 0,
    "shrinkB": 0,
}


def draw_coil_on_head(fig, head, plan: Mapping[str, Any]) -> list:
    """Draw the scalp, the placements and the target in two panels (side and top); return the axes.

    Every mark has a ``gid`` (``entry-<k>-<panel>``, ``centre-…``, ``handle-…``, ``coil-…``,
    ``target-<panel>``, ``k`` = 0 for the first placement) so that tests can count them in the SVG.
    """
    from matplotlib.lines import Line2D

    poses = plan_placements(plan)
    target = poses[-1][1].target_mm
    geometry = _geometry(plan)
    wing, radius = 0.5 * geometry["wing_distance_mm"], 0.5 * geometry["outer_diameter_mm"]
    circle = np.linspace(0, 2 * np.pi, 49)[:, None]
    axes = fig.subplots(1, 2)
    for p, (ax, (title, i, j, toward, invert)) in enumerate(zip(axes, _views(target))):
        _scalp(ax, head, i, j, toward)
        for k, (_, pl, style) in enumerate(poses):
            c, colour, m = pl.centre_mm, style["colour"], pl.matrix[:3, :3]
            disc = radius * (np.cos(circle) * m[:, 0] + np.sin(circle) * m[:, 1])
            for s in (-1.0, 1.0):  # the two wings' outlines, in the coil plane
                ring = c + s * wing * m[:, 0] + disc
                ax.plot(ring[:, i], ring[:, j], color=colour, lw=0.9, gid=f"coil-{k}-{p}-{s:+.0f}")
            entry = {"marker": style["marker"], "color": colour, "ms": 7, "mec": "k", "mew": 0.7}
            ax.plot(*pl.scalp_mm[[i, j]], ls="", gid=f"entry-{k}-{p}", zorder=4, **entry)
            ax.plot(*c[[i, j]], ls="", gid=f"centre-{k}-{p}", zorder=5, **_CENTRE)
            tip = (c + _HANDLE_MM * pl.handle)[[i, j]]
            arrow = {**_ARROW, "color": colour}
            ann = ax.annotate("", tip, c[[i, j]], zorder=6, arrowprops=arrow)
            ann.arrow_patch.set_gid(f"handle-{k}-{p}")
        ax.plot(*target[[i, j]], ls="", gid=f"target-{p}", zorder=7, **_TARGET)
        _panel_axes(ax, title, i, j, invert)
    proxies = [
        Line2D([], [], ls="", marker=st["marker"], color=st["colour"], mec="k", label=f"{label}")
        for label, _, st in poses
    ]
    proxies += [
        Line2D([], [], color="0.3", marker=">", ms=5, label="handle"),
        Line2D([], [], ls="", label="coil centre", **_CENTRE),
        Line2D([], [], ls="", label="target (cortex)", **_TARGET),
    ]
    fig.legend(handles=proxies, loc="outside lower center", ncol=3, fontsize=_FONT, frameon=False)
    return list(axes)


def _geometry(plan: Mapping[str, Any]) -> Mapping[str, Any]:
    """Return the plan's coil preset (``coil.key``; the default coil when it names none)."""
    from ..coil import DEFAULT_COIL, get_coil

    coil = plan.get("coil") if isinstance(plan.get("coil"), Mapping) else {}
    return get_coil(str(coil.get("key", DEFAULT_COIL))).to_json()


def coil_on_head_figure(
    plan: Mapping[str, Any], name: str = "the participant", head=None
) -> AltFigure:
    """Draw the coil on the template head, from the target's side and from above.

    Parameters
    ----------
    plan : mapping
        A coil plan (``tmstarget coil --json``, or ``CoilPlan.to_json()``).
    name : str
        Who the report is for (alt text).
    head : HeadModel, optional
        The head the plan was placed on (default: the template head, cached).
    """
    if head is None:
        from ..headmodel import load_template_head

        head = load_template_head()
    poses = plan_placements(plan)

    def draw(fig) -> None:
        fig.set_layout_engine("constrained")
        draw_coil_on_head(fig, head, plan)

    image = render_figure(draw, size=(_WIDTH, 3.4), layout=False, scalable=True)
    label, pl, _ = poses[-1]
    words = handle_words(pl.handle, pl.target_mm)
    alt = (
        f"The coil on the template head of {name}, seen {_views(pl.target_mm)[0][0]} and from "
        f"above. Scalp entry point {_xyz(pl.scalp_mm)} mm, coil centre {_xyz(pl.centre_mm)} mm, "
        f"{words}; the target on the cortex {_xyz(pl.target_mm)} mm lies "
        f"{pl.scalp_cortex_distance_mm:.0f} mm below the entry point."
    )
    opt = ""
    if len(poses) > 1:
        d = poses[0][1]
        alt += (
            f" Default placement (blue square): entry {_xyz(d.scalp_mm)} mm, "
            f"{handle_words(d.handle, d.target_mm)}. Optimised placement (orange circle): entry "
            f"moved {float(np.linalg.norm(pl.scalp_mm - d.scalp_mm)):.0f} mm."
        )
        opt = "; blue = default placement (nearest scalp point), orange = optimised placement"
    caption = (
        "The coil on the template head (MNI mm, equal scales): rings = the coil's two wings, "
        "circle or square = scalp entry point, + = coil centre, arrow = handle, green star = "
        f"target on the cortex below the scalp{opt}. The {label} has its {words}."
    )
    return AltFigure(image, alt, caption)


def field_on_grey_matter(plan: Mapping[str, Any], head) -> tuple[np.ndarray, np.ndarray, Any]:
    """Return ``(points (N, 3), |E| (N,) in V/m, placement)`` of the plan's placement.

    The points are the template grey matter on the 4 mm lattice of :mod:`tmstarget.coil.landscape`
    within :data:`FIELD_RADIUS_MM` of the target, inside the head sphere fitted at the entry point
    (the spherical model of :mod:`tmstarget.coil.summary`).
    """
    from ..coil import get_coil
    from ..coil.efield import DIDT_1_A_PER_US, sphere_efield
    from ..coil.geometry import local_sphere
    from ..coil.landscape import LATTICE_MM, _grey_matter_lattice
    from ..coil.models import coil_dipoles
    from ..coil.summary import sphere_pose
    from .figcache import template_array

    placement = plan_placements(plan)[-1][1]
    sphere = local_sphere(head, placement.scalp_mm)
    pts = template_array("gm-lattice", LATTICE_MM, _grey_matter_lattice)  # 1 s from nilearn
    pts = pts[np.linalg.norm(pts - placement.target_mm, axis=1) <= FIELD_RADIUS_MM]
    inner = np.linalg.norm(placement.scalp_mm - sphere.centre_mm) - 1.0
    pts = pts[np.linalg.norm(pts - sphere.centre_mm, axis=1) < inner]
    world = coil_dipoles(get_coil(_geometry(plan)["key"])).transformed(
        sphere_pose(placement, sphere)
    )
    didt = float((plan.get("efield") or {}).get("didt_a_per_us", 1.0)) * DIDT_1_A_PER_US
    mag = np.linalg.norm(sphere_efield(pts, world, sphere.centre_mm, didt), axis=1)
    return pts, mag, placement


def field_sentence(efield: Mapping[str, Any]) -> str:
    """Plain words for the plan's "field peak X mm from the target (Y %)"."""
    return (
        f"At the target's depth the strongest field is {float(efield['max_to_target_mm']):.1f} mm "
        f"from the target; the target receives {float(efield['target_pct_of_max']):.0f} % of that "
        "peak field"
    )


def _outline(ax, points: np.ndarray, gid: str) -> None:
    """Dashed convex outline of projected points (nothing with fewer than 3)."""
    from scipy.spatial import ConvexHull, QhullError

    try:
        ring = points[ConvexHull(points).vertices]
    except (QhullError, ValueError):
        return
    ring = np.vstack([ring, ring[:1]])
    ax.plot(ring[:, 0], ring[:, 1], "--", color="#00b0ff", lw=1.6, gid=gid, zorder=3)


def efield_figure(plan: Mapping[str, Any], name: str = "the participant", head=None) -> AltFigure:
    """Draw ``|E|`` of the plan's placement on the grey matter near the target (side, top).

    Parameters are those of :func:`coil_on_head_figure`. The points at or above half the strongest
    field at the target's depth (the threshold of ``S½``) are outlined.
    """
    from matplotlib.lines import Line2D

    if head is None:
        from ..headmodel import load_template_head

        head = load_template_head()
    pts, mag, pl = field_on_grey_matter(plan, head)
    ef = plan.get("efield") if isinstance(plan.get("efield"), Mapping) else {}
    didt = float(ef.get("didt_a_per_us", 1.0))
    peak = float(ef.get("e_max_cortex_v_per_m") or mag.max())
    half = mag >= 0.5 * peak
    order = np.argsort(mag, kind="stable")  # strongest drawn last: each view shows the maximum
    vmax, peak_at = float(mag.max()), ef.get("max_location_mm")
    marks = {"target": _TARGET, "peak": {"marker": "^", "color": "w", "ms": 8, "mec": "k"}}

    def draw(fig) -> None:
        fig.set_layout_engine("constrained")
        axes, sc = fig.subplots(1, 2), None
        for p, (ax, (title, i, j, _, invert)) in enumerate(zip(axes, _views(pl.target_mm))):
            q = pts[order]
            sc = ax.scatter(
                q[:, i],
                q[:, j],
                c=mag[order],
                s=20,
                cmap="magma",
                vmin=0.0,
                vmax=vmax,
                linewidths=0,
                rasterized=True,
                gid=f"field-{p}",
            )
            _outline(ax, pts[half][:, [i, j]], f"half-{p}")
            ax.plot(*pl.target_mm[[i, j]], ls="", gid=f"target-{p}", zorder=6, **marks["target"])
            if peak_at is not None:
                mx = np.asarray(peak_at, float)
                ax.plot(*mx[[i, j]], ls="", gid=f"peak-{p}", zorder=5, **marks["peak"])
            r = FIELD_RADIUS_MM + 3
            ax.set_xlim(pl.target_mm[i] - r, pl.target_mm[i] + r)
            ax.set_ylim(pl.target_mm[j] - r, pl.target_mm[j] + r)
            _panel_axes(ax, title, i, j, invert)
        bar = fig.colorbar(sc, ax=list(axes), orientation="horizontal", fraction=0.07, aspect=30)
        bar.set_label(f"|E|, V/m at dI/dt = {didt:g} A/µs", fontsize=_FONT)
        bar.ax.tick_params(labelsize=_FONT)
        proxies = [
            Line2D([], [], ls="", label="target", **marks["target"]),
            Line2D([], [], ls="--", color="#00b0ff", lw=1.6, label="≥ half the peak"),
        ]
        if peak_at is not None:
            proxies.insert(1, Line2D([], [], ls="", label="peak at target depth", **marks["peak"]))
        fig.legend(
            handles=proxies, loc="outside upper center", ncol=2, fontsize=_FONT, frameon=False
        )

    image = render_figure(draw, size=(_WIDTH, 3.9), layout=False, scalable=True)
    side = _views(pl.target_mm)[0][0]
    words = field_sentence(ef) if ef.get("max_to_target_mm") is not None else ""
    e_t = ef.get("e_target_v_per_m")
    alt = (
        f"Induced electric field of the coil placement of {name} on the grey matter within "
        f"{FIELD_RADIUS_MM:.0f} mm of the target, seen {side} and from above: {len(pts)} points, "
        f"the strongest {vmax:.2f} V/m at {didt:g} A/µs; {int(half.sum())} points reach half the "
        f"peak at the target's depth ({0.5 * peak:.2f} V/m)."
        + (f" {words} ({float(e_t):.2f} of {peak:.2f} V/m)." if words and e_t is not None else "")
    )
    caption = (
        "Strength of the induced electric field |E| on the template grey matter (points 4 mm "
        "apart, spherical head model), in V/m for a coil current changing at "
        f"{didt:g} A/µs; the field grows in proportion to the stimulator output. Where points "
        "overlap, the strongest is shown. Dashed outline: the points that receive at least half "
        "the strongest field at the target's depth (the half-maximum region); green star = "
        "target; white triangle = where the field is strongest at the target's depth."
        + (f" {words}." if words else "")
    )
    return AltFigure(image, alt, caption)


def coil_report_figures(coil: Mapping[str, Any] | None, name: str) -> dict:
    """Return the participant report's coil figures (``coil_head``, ``coil_efield``).

    Each is a :class:`~tmstarget.report._mpl.ReportFigure`, or None without a coil plan; a figure
    that cannot be drawn carries the reason (it never fails the report).
    """
    from ._mpl import safe_alt_figure
    from .figcache import cached_alt

    plan = (coil or {}).get("plan")
    if not isinstance(plan, Mapping):
        return {"coil_head": None, "coil_efield": None}
    return {  # drawn on a cache miss only: the plan and the name determine each figure
        "coil_head": safe_alt_figure(
            "coil on the head",
            cached_alt(
                "coil_on_head_figure", (plan, name), lambda: coil_on_head_figure(plan, name)
            ),
            f"The coil on the template head of {name}",
            "Scalp entry point, coil centre, handle and target on the template head.",
        ),
        "coil_efield": safe_alt_figure(
            "E-field on cortex",
            cached_alt("efield", (plan, name), lambda: efield_figure(plan, name)),
            f"Induced electric field of the coil placement of {name} on the cortex",
            "Strength of the induced electric field on the grey matter near the target.",
        ),
    }
