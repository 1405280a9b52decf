"""Circuit scores of arbitrary points and the connectivity-versus-scalp-rule comparison.

The comparison is the trial's central contrast: for each participant, the connectivity target (from
``tmstarget target``) and a scalp-rule target (Beam F3, F3 or the 5-cm rule on the template head)
are compared by their Euclidean distance (mm), their individual score (the participant's own score
map, when available) and their group-circuit score (a group map sampled around each point). Higher
scores are better (positive = the end of the circuit to stimulate).

Functions here compute; :func:`write_comparison` is the only one that writes files (atomically).
Research use; not a medical device.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

#: Point-sampling weightings: a uniform sphere, or a Gaussian coil footprint (FWHM = radius).
from .defaults import WEIGHTINGS  # noqa: E402,F401 - defined in the import-free leaf
from .exceptions import InputError

logger = logging.getLogger(__name__)

#: Scores closer than this are called a tie.
TIE_TOLERANCE = 1e-6

#: Radius (mm) of the sphere over which a point's score is averaged by default: the report's
#: summary card and scalp-rule table, ``tmstarget compare`` and ``tmstarget score``.
SAMPLE_RADIUS_MM = 10.0

#: The names every output gives its circuit scores (one quantity, one name):
#: ``peak`` is the score the targeting method maximised, at its target (the target JSON's
#: ``score``); ``sphere`` the mean of the score map over a 10 mm sphere around a point
#: (:func:`point_score`); ``efield`` the E-field-weighted circuit score of a coil placement
#: (``tmstarget coil --optimize``).
SCORE_LABELS = {
    "peak": "peak voxel",
    "sphere": "10 mm sphere mean",
    "efield": "E-field weighted",
}


def score_label(radius_mm: float = SAMPLE_RADIUS_MM, weighting: str = "sphere") -> str:
    """Name of the score that :func:`sample_map` gives with ``radius_mm`` and ``weighting``.

    Parameters
    ----------
    radius_mm : float
        Sampling radius (0 = the interpolated value at the point).
    weighting : {"sphere", "gaussian"}
        See :func:`sample_map`.

    Returns
    -------
    str
        ``"10 mm sphere mean"`` (the default, :data:`SCORE_LABELS` ``["sphere"]``),
        ``"<r> mm sphere mean"``, ``"<r> mm FWHM Gaussian-weighted mean"`` or
        ``"value at the point"``.
    """
    if radius_mm == 0:
        return "value at the point"
    if weighting == "gaussian":
        return f"{radius_mm:g} mm FWHM Gaussian-weighted mean"
    return f"{radius_mm:g} mm sphere mean"


#: In a map without NaN, exact zeros are taken as its background ("no data") when at least this
#: fraction of voxels is exactly zero (the brain fills about a quarter of the MNI bounding box).
ZERO_BACKGROUND_FRACTION = 0.2


def data_mask(data: np.ndarray) -> np.ndarray:
    """Voxels of a map that hold data.

    Group maps are stored either with NaN outside the brain or, like most NIfTI maps written by FSL,
    SPM or nilearn, with exact zeros there; counting those zeros as scores would give "score 0.0" to
    a point outside the brain. So: the finite voxels, less the exact zeros when the map has no NaN
    and at least :data:`ZERO_BACKGROUND_FRACTION` of it is exactly zero (a background, not values
    that happen to be 0).
    """
    finite = np.isfinite(data)
    if finite.all():
        zero = data == 0
        if zero.mean() >= ZERO_BACKGROUND_FRACTION:
            return ~zero
    return finite


def sample_map(
    data: np.ndarray,
    affine: np.ndarray,
    point_mm,
    radius_mm: float = 10.0,
    weighting: str = "sphere",
) -> tuple[float, int]:
    """Value of a map around a point, through the image affine (any orientation, flips and shifts).

    Parameters
    ----------
    data : ndarray, shape (X, Y, Z)
        Map values; voxels outside :func:`data_mask` (NaN, or zeros in a map without NaN) are
        ignored.
    affine : ndarray, shape (4, 4)
        Voxel-to-world (MNI mm) affine of ``data``.
    point_mm : array-like, shape (3,)
        Centre (MNI mm).
    radius_mm : float
        Radius of the sphere; 0 = trilinear interpolation at the point.
    weighting : {"sphere", "gaussian"}
        ``sphere``: mean over voxel centres within the radius; ``gaussian``: weights exp(−d²/2σ²)
        with FWHM = ``radius_mm`` (a figure-8 coil's focal footprint), over voxels within 1.5 ×
        radius.

    Returns
    -------
    value : float
        NaN when no finite voxel is in reach.
    n_voxels : int
        Voxels that contributed.
    """
    if weighting not in WEIGHTINGS:
        raise InputError(f"weighting {weighting!r} is not one of {', '.join(WEIGHTINGS)}")
    if not math.isfinite(radius_mm) or radius_mm < 0:
        raise InputError(f"--radius-mm {radius_mm:g} must be ≥ 0 — pass e.g. 10")
    p = np.asarray(point_mm, float)
    inv = np.linalg.inv(affine)
    centre = inv[:3, :3] @ p + inv[:3, 3]
    if radius_mm == 0:
        from scipy.ndimage import map_coordinates

        finite = data_mask(data)
        vals = map_coordinates(
            np.where(finite, data, 0.0), centre[:, None], order=1, mode="constant", cval=np.nan
        )
        support = map_coordinates(
            finite.astype(float), centre[:, None], order=1, mode="constant", cval=0.0
        )
        ok = support[0] > 0.999
        return (float(vals[0]) if ok else float("nan")), int(ok)
    reach = radius_mm * (1.5 if weighting == "gaussian" else 1.0)
    zooms = np.sqrt((affine[:3, :3] ** 2).sum(axis=0))
    lo = np.maximum(np.floor(centre - reach / zooms) - 1, 0).astype(int)
    hi = np.minimum(np.ceil(centre + reach / zooms) + 2, data.shape).astype(int)
    if np.any(hi <= lo):
        return float("nan"), 0
    ijk = np.stack(
        np.meshgrid(*[np.arange(a, b) for a, b in zip(lo, hi)], indexing="ij"), axis=-1
    ).reshape(-1, 3)
    xyz = ijk @ affine[:3, :3].T + affine[:3, 3]
    d = np.linalg.norm(xyz - p, axis=1)
    vals = data[tuple(ijk.T)].astype(float)
    keep = (d <= reach) & data_mask(data)[tuple(ijk.T)]
    if not keep.any():
        return float("nan"), 0
    if weighting == "sphere":
        return float(vals[keep].mean()), int(keep.sum())
    sigma = radius_mm / (2.0 * math.sqrt(2.0 * math.log(2.0)))
    w = np.exp(-0.5 * (d[keep] / sigma) ** 2)
    return float(np.sum(w * vals[keep]) / np.sum(w)), int(keep.sum())


def point_score(
    score_map: tuple[np.ndarray, np.ndarray] | None,
    point_mm,
    radius_mm: float = SAMPLE_RADIUS_MM,
    weighting: str = "sphere",
) -> float | None:
    """Return the circuit score of a point as every output shows it (rounded to 4 decimals).

    The one function behind the report's summary card and scalp-rule table and ``tmstarget
    compare``: the same point and map give the same value, named by :func:`score_label`.

    Parameters
    ----------
    score_map : (data, affine) or None
        A score or circuit map and its voxel-to-MNI affine.
    point_mm : array-like, shape (3,)
        Point (MNI mm).
    radius_mm, weighting
        See :func:`sample_map`.

    Returns
    -------
    float or None
        None without a map or when no voxel with data is in reach.
    """
    if score_map is None:
        return None
    value = sample_map(score_map[0], score_map[1], point_mm, radius_mm, weighting)[0]
    return round(float(value), 4) if math.isfinite(value) else None


def check_in_head(head, point_mm, what: str | None = None) -> np.ndarray:
    """Refuse a coordinate outside the template head (a sign of a wrong space or a typo)."""
    from .headmodel import is_inside_head

    p = np.asarray(point_mm, float)
    what = what or f"point {np.round(p, 1).tolist()}"
    if not is_inside_head(head, p):
        raise InputError(
            f"{what} lies outside the head — pass MNI mm (RAS) inside the brain, e.g. -38,44,26"
        )
    return p


@dataclass(frozen=True)
class Comparison:
    """One participant's connectivity target against a scalp-rule target.

    Coordinates are MNI mm; scores may be NaN.
    """

    participant: str
    session: str | None
    rule: str
    connectivity_mni: tuple[float, float, float]
    scalp_rule_mni: tuple[float, float, float]
    scalp_rule_scalp_mni: tuple[float, float, float]
    distance_mm: float
    individual_score_connectivity: float
    individual_score_scalp_rule: float
    group_score_connectivity: float
    group_score_scalp_rule: float
    better_individual: str
    better_group: str
    individual_score_label: str | None = None
    group_score_label: str | None = None

    def to_json(self) -> dict:
        """JSON-ready dict (NaN → None; coordinates 0.1 mm, scores 4 decimals)."""
        out = {}
        for k, v in asdict(self).items():
            if isinstance(v, tuple):
                v = [round(float(x), 1) for x in v]
            elif isinstance(v, float):
                v = None if not math.isfinite(v) else round(v, 1 if k == "distance_mm" else 4)
            out[k] = v
        return out


def _better(connectivity: float, scalp: float) -> str:
    if not (math.isfinite(connectivity) and math.isfinite(scalp)):
        return "unknown"
    if abs(connectivity - scalp) <= TIE_TOLERANCE:
        return "tie"
    return "connectivity" if connectivity > scalp else "scalp-rule"


def compare_targets(
    participant: str,
    session: str | None,
    rule: str,
    connectivity_mni,
    scalp_cortex_mni,
    scalp_mni,
    individual: tuple[np.ndarray, np.ndarray] | None = None,
    group: tuple[np.ndarray, np.ndarray] | None = None,
    individual_connectivity_score: float | None = None,
    radius_mm: float = 10.0,
    weighting: str = "sphere",
) -> Comparison:
    """Compare a connectivity target with a scalp-rule target.

    Parameters
    ----------
    connectivity_mni, scalp_cortex_mni, scalp_mni : array-like, shape (3,)
        Connectivity target, scalp-rule cortical target and its scalp point (MNI mm).
    individual : (data, affine), optional
        The participant's score map; sampled at both cortical targets.
    group : (data, affine), optional
        A group circuit map; sampled at both cortical targets.
    individual_connectivity_score : float, optional
        The score reported in the target JSON; used for the connectivity target when the score map
        is absent.
    radius_mm, weighting
        See :func:`sample_map`.
    """
    a, b = np.asarray(connectivity_mni, float), np.asarray(scalp_cortex_mni, float)
    nan = float("nan")
    label = score_label(radius_mm, weighting)

    def score(m, p) -> float:
        v = point_score(m, p, radius_mm, weighting)
        return nan if v is None else v

    ind_a, ind_b = score(individual, a), score(individual, b)
    grp_a, grp_b = score(group, a), score(group, b)
    ind_label = label if individual is not None else None
    grp_label = label if group is not None else None
    if not math.isfinite(ind_a) and individual_connectivity_score is not None:
        # no score map beside the target: its JSON's score, which is another quantity
        ind_a = float(individual_connectivity_score)
        ind_label = SCORE_LABELS["peak"] if individual is None else f"{label} (target: peak voxel)"
    return Comparison(
        participant=participant,
        session=session,
        rule=rule,
        connectivity_mni=tuple(float(v) for v in a),
        scalp_rule_mni=tuple(float(v) for v in b),
        scalp_rule_scalp_mni=tuple(float(v) for v in np.asarray(scalp_mni, float)),
        distance_mm=float(np.linalg.norm(a - b)),
        individual_score_connectivity=ind_a,
        individual_score_scalp_rule=ind_b,
        group_score_connectivity=grp_a,
        group_score_scalp_rule=grp_b,
        better_individual=_better(ind_a, ind_b),
        better_group=_better(grp_a, grp_b),
        individual_score_label=ind_label,
        group_score_label=grp_label,
    )


_COLUMNS = [
    ("participant", "participant"),
    ("session", "session"),
    ("rule", "rule"),
    ("connectivity_x_mm", None),
    ("connectivity_y_mm", None),
    ("connectivity_z_mm", None),
    ("scalp_rule_x_mm", None),
    ("scalp_rule_y_mm", None),
    ("scalp_rule_z_mm", None),
    ("distance_mm", "distance_mm"),
    ("individual_score_connectivity", "individual_score_connectivity"),
    ("individual_score_scalp_rule", "individual_score_scalp_rule"),
    ("group_score_connectivity", "group_score_connectivity"),
    ("group_score_scalp_rule", "group_score_scalp_rule"),
    ("better_individual", "better_individual"),
    ("better_group", "better_group"),
    ("individual_score_label", "individual_score_label"),
    ("group_score_label", "group_score_label"),
]


def _score_pair(r: Comparison, kind: str) -> str:
    label = getattr(r, f"{kind}_score_label")
    a, b = getattr(r, f"{kind}_score_connectivity"), getattr(r, f"{kind}_score_scalp_rule")
    if label is None:
        return f"{kind} score: no map"

    def fmt(v: float) -> str:
        return f"{v:.4f}" if math.isfinite(v) else "n/a"

    better = getattr(r, f"better_{kind}")
    verdict = {
        "connectivity": "higher at the connectivity target",
        "scalp-rule": f"higher at {r.rule}",
        "tie": "equal",
    }.get(better, "not comparable")
    return (
        f"{kind} score ({label}) {fmt(a)} at the connectivity target, "
        f"{fmt(b)} at {r.rule}: {verdict}"
    )


def comparison_line(r: Comparison) -> str:
    """One line of ``tmstarget compare``'s text output; every score named by its label."""
    return (
        f"sub-{r.participant}: {r.rule} is {r.to_json()['distance_mm']} mm from the connectivity "
        f"target; {_score_pair(r, 'individual')}; {_score_pair(r, 'group')}"
    )


def comparison_rows(rows: list[Comparison]) -> list[list[str]]:
    """Table cells (strings, deterministic formatting; ``n/a`` for missing), header first."""
    out = [[name for name, _ in _COLUMNS]]
    for r in rows:
        j = r.to_json()
        cells = []
        for name, key in _COLUMNS:
            if key is None:
                which, axis = name.rsplit("_", 2)[0], "xyz".index(name.split("_")[-2])
                v = j["connectivity_mni" if which == "connectivity" else "scalp_rule_mni"][axis]
            else:
                v = j[key]
            cells.append(
                "n/a"
                if v is None
                else f"{v:.1f}"
                if isinstance(v, float) and "mm" in name
                else f"{v:.4f}"
                if isinstance(v, float)
                else str(v)
            )
        out.append(cells)
    return out


def summary(rows: list[Comparison]) -> dict:
    """Cohort summary: distances, mean paired score differences and win counts.

    Score differences are connectivity − scalp rule; ``scores`` says what the scores are.
    """
    dist = np.array([r.distance_mm for r in rows])
    out: dict = {
        "n": len(rows),
        "scores": _labels_text(rows),
        "distance_mm_mean": round(float(dist.mean()), 1),
        "distance_mm_median": round(float(np.median(dist)), 1),
    }
    for kind in ("individual", "group"):
        a = np.array([getattr(r, f"{kind}_score_connectivity") for r in rows])
        b = np.array([getattr(r, f"{kind}_score_scalp_rule") for r in rows])
        ok = np.isfinite(a) & np.isfinite(b)
        out[f"{kind}_n"] = int(ok.sum())
        out[f"{kind}_difference_mean"] = (
            round(float(np.mean(a[ok] - b[ok])), 4) if ok.any() else None
        )
        out[f"{kind}_connectivity_better"] = int(
            sum(getattr(r, f"better_{kind}") == "connectivity" for r in rows)
        )
        out[f"{kind}_scalp_rule_better"] = int(
            sum(getattr(r, f"better_{kind}") == "scalp-rule" for r in rows)
        )
    return out


def to_tsv(rows: list[Comparison]) -> str:
    """Return the comparison as TSV text."""
    return "".join("\t".join(r) + "\n" for r in comparison_rows(rows))


def _labels_text(rows: list[Comparison]) -> str:
    """Say what the scores of ``rows`` are, e.g. ``individual and group: 10 mm sphere mean``."""
    kinds: dict[str, list[str]] = {}
    for kind in ("individual", "group"):
        labels = sorted({getattr(r, f"{kind}_score_label") or "" for r in rows} - {""})
        if labels:
            kinds.setdefault(", ".join(labels), []).append(kind)
    if not kinds:
        return "none available"
    return "; ".join(f"{' and '.join(k)}: {label}" for label, k in kinds.items())


def to_markdown(rows: list[Comparison], title: str = "Connectivity target vs scalp rule") -> str:
    """Return the comparison as a Markdown table with a one-line summary."""
    table = comparison_rows(rows)
    keep = [0, 1, 2, 9, 10, 11, 12, 13, 14, 15, 16, 17]
    lines = [f"# {title}", ""]
    s = summary(rows)
    lines.append(
        f"{s['n']} comparison(s); distance mean {s['distance_mm_mean']} "
        f"mm (median {s['distance_mm_median']} mm); "
        f"group score better for connectivity in {s['group_connectivity_better']}, "
        "for the scalp rule in "
        f"{s['group_scalp_rule_better']}. Scores: {_labels_text(rows)}. "
        "Research use; not a medical device."
    )
    lines.append("")
    lines.append("| " + " | ".join(table[0][k] for k in keep) + " |")
    lines.append("|" + "---|" * len(keep))
    for row in table[1:]:
        lines.append("| " + " | ".join(row[k] for k in keep) + " |")
    return "\n".join(lines) + "\n"


def _head_outlines() -> dict[tuple[int, int], np.ndarray]:
    """Template scalp outlines seen from above and from the left (empty when unavailable)."""
    try:
        from .headmodel import load_template_head, scalp_outline

        head = load_template_head()
        return {dims: scalp_outline(head, dims) for dims in ((0, 1), (1, 2))}
    except Exception as exc:  # noqa: BLE001 - the outline is context, not data
        logger.warning(
            "compare: template head outline unavailable (%s: %s)", type(exc).__name__, exc
        )
        return {}


def comparison_figure(rows: list[Comparison]):
    """Two panels: target positions (top view and side view) and paired scores.

    The position panels show the template scalp's outline and have equal axes (the same mm scale
    horizontally and vertically), so a 3 mm difference looks like 3 mm.

    Returns a matplotlib Figure.
    """
    import textwrap

    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 4.6))
    axes = fig.subplots(1, 3, width_ratios=[1.0, 1.15, 1.1])
    a = np.array([r.connectivity_mni for r in rows])
    b = np.array([r.scalp_rule_mni for r in rows])
    outlines = _head_outlines()
    views = ((axes[0], (0, 1), "top view"), (axes[1], (1, 2), "left side view"))
    for ax, (i, j), label in views:
        extent = [np.vstack([a[:, [i, j]], b[:, [i, j]]])]
        if (i, j) in outlines:
            head = outlines[(i, j)]
            ax.plot(head[:, 0], head[:, 1], color="0.55", lw=1.0, label="template scalp")
            extent.append(head)
        for p, q in zip(a, b):
            ax.plot([p[i], q[i]], [p[j], q[j]], color="0.7", lw=0.8)
        ax.scatter(a[:, i], a[:, j], s=18, color="tab:blue", label="connectivity", zorder=3)
        ax.scatter(
            b[:, i], b[:, j], s=18, color="tab:orange", marker="s", label=rows[0].rule, zorder=3
        )
        pts = np.vstack(extent)
        lo, hi = pts.min(axis=0) - 8.0, pts.max(axis=0) + 8.0
        ax.set_xlim(lo[0], hi[0])
        ax.set_ylim(lo[1], hi[1])
        ax.set_aspect("equal", adjustable="box")  # 1 mm across = 1 mm up
        ax.set_xlabel(f"{'xyz'[i]} (mm)", fontsize=9)
        ax.set_ylabel(f"{'xyz'[j]} (mm)", fontsize=9)
        ax.tick_params(labelsize=9)
        ax.set_title(label, fontsize=10)
    axes[0].legend(fontsize=9, loc="lower center", frameon=False)
    ax = axes[2]
    plotted = False
    for k, (kind, colour) in enumerate((("group", "tab:green"), ("individual", "tab:purple"))):
        for r in rows:
            u, v = getattr(r, f"{kind}_score_connectivity"), getattr(r, f"{kind}_score_scalp_rule")
            if math.isfinite(u) and math.isfinite(v):
                ax.plot(
                    [2 * k, 2 * k + 1], [u, v], color=colour, marker="o", ms=3, lw=0.8, alpha=0.8
                )
                plotted = True
    ax.set_xticks(
        [0, 1, 2, 3],
        ["group:\nconn.", "group:\nrule", "indiv.:\nconn.", "indiv.:\nrule"],
        fontsize=9,
    )
    ax.tick_params(labelsize=9)
    ax.set_ylabel("score (higher = better)", fontsize=9)
    ax.set_xlabel(textwrap.fill(_labels_text(rows), 60), fontsize=9)
    ax.set_title("paired scores" if plotted else "paired scores (none available)", fontsize=10)
    fig.suptitle(
        f"Connectivity target vs {rows[0].rule} (n = {len(rows)}; "
        "research use, not a medical device)",
        fontsize=10,
    )
    fig.tight_layout()
    for ax, _, _ in views:
        ax.apply_aspect()  # fix the boxes now, so every drawing has 1 mm across = 1 mm up
    return fig


def write_comparison(
    out_dir: Path | str, rows: list[Comparison], figure_format: str = "svg", stem: str = "compare"
) -> list[Path]:
    """Write ``<stem>.tsv``, ``<stem>.md``, ``<stem>.json`` and ``<stem>.<svg|png>`` atomically.

    Returns the paths.
    """
    import matplotlib

    from ._utils.jsonio import dumps
    from .io.derivatives import atomic_path, write_text_atomic

    if not rows:
        raise InputError("nothing to compare — no participant had both a target and measurements")
    if figure_format not in ("svg", "png"):
        raise InputError(f"figure format {figure_format!r} — use svg or png")
    out = Path(out_dir)
    paths = [
        write_text_atomic(out / f"{stem}.tsv", to_tsv(rows)),
        write_text_atomic(out / f"{stem}.md", to_markdown(rows)),
        write_text_atomic(
            out / f"{stem}.json",
            dumps({"summary": summary(rows), "comparisons": [r.to_json() for r in rows]}) + "\n",
        ),
    ]
    fig = comparison_figure(rows)
    target = out / f"{stem}.{figure_format}"
    with (
        matplotlib.rc_context({"svg.hashsalt": "tmstarget", "svg.fonttype": "none"}),
        atomic_path(target) as tmp,
    ):
        meta = {"Date": None} if figure_format == "svg" else {"Software": None}
        fig.savefig(tmp, format=figure_format, metadata=meta, dpi=120)
    paths.append(target)
    return paths
