"""Summaries of the defaults study (:mod:`study`): tables, paired comparisons, defaults decision.

Two truths are reported. The *planted* node is where the simulator put the individual target; in the
calibrated simulator each participant's smooth deviation field also follows the target's time
course, so the point that infinite data would pick — the participant's *noise-free optimum*
(:func:`study.individual_optimum`) — lies elsewhere (17–18 mm away on median). A method is judged on
the error to the noise-free optimum (what more data converges to); the error to the planted node
rewards staying at the group site and is shown beside it.

Decision rule (fixed before the 50 were run): a default changes only when the alternative's
participant-level error to the noise-free optimum is lower than today's default's at every length
and for both circuits, each with a paired Wilcoxon signed-rank p < 0.05 over participants (the two
sessions of a participant averaged). ``shrinkage`` becomes the default only if, by the issue's rule,
it is at least as accurate (median) as both the pure individual (``robust``) and the pure group
target at 5, 10 and 20 minutes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from accuracy import summarise
from scipy import stats

KEYS = ["circuit", "minutes", "method"]
#: Significance level of the paired comparisons of the decision rule.
ALPHA = 0.05


#: The 95% ellipsoid in a bootstrap row: centre, semi-axes and unit axes (rows), so later summaries
#: can test any point.
ELLIPSOID_COLUMNS = (
    [f"ell_centre_{a}" for a in "xyz"]
    + [f"ell_semi_{i}" for i in range(3)]
    + [f"ell_axis_{i}{j}" for i in range(3) for j in range(3)]
)


def ellipsoid_columns(region: dict) -> dict:
    """Return ``region`` as :data:`ELLIPSOID_COLUMNS`.

    ``region`` has the layout of :func:`tmstarget.targeting.uncertainty.confidence_region`.
    """
    values = np.concatenate(
        [np.ravel(region["centre_mni"]), np.ravel(region["semi_axes_mm"]), np.ravel(region["axes"])]
    )
    return dict(zip(ELLIPSOID_COLUMNS, (float(v) for v in values)))


def ellipsoid_from_columns(row) -> dict:
    """Return the region of one bootstrap row written with :func:`ellipsoid_columns`.

    The sphere radius is included.
    """
    v = np.array([row[c] for c in ELLIPSOID_COLUMNS], float)
    return {
        "centre_mni": v[:3],
        "semi_axes_mm": v[3:6],
        "axes": v[6:].reshape(3, 3),
        "radius_mm": float(row["radius_95_mm"]),
    }


def _fmt(v, spec=".1f") -> str:
    return "–" if v is None or (isinstance(v, float) and not np.isfinite(v)) else format(v, spec)


def _pct(v) -> str:
    return "–" if v is None or not np.isfinite(v) else f"{v:.0f}%"


def default_rows(rows: pd.DataFrame, plan) -> pd.DataFrame:
    """Return the rows at today's defaults (GSR, FWHM, neighbourhood)."""
    gsr, fwhm, radius = plan.defaults()
    return rows[(rows.gsr == gsr) & (rows.fwhm_mm == fwhm) & (rows.neighbourhood_mm == radius)]


def coverage_table(boot: pd.DataFrame, rows: pd.DataFrame | None = None) -> pd.DataFrame:
    """Tabulate how often the 95% bootstrap region holds each reference point.

    The points are the planted target, the other session's target and (with ``rows`` holding
    ``optimum_error_mm``) the noise-free optimum; the sphere is centred on the target.
    """
    b = boot.copy()
    if rows is not None and "optimum_error_mm" in rows:
        err = rows.drop_duplicates(["seed", "session", *KEYS]).set_index(
            ["seed", "session", *KEYS]
        )["optimum_error_mm"]
        b["optimum_in_sphere"] = (
            b.set_index(["seed", "session", *KEYS]).index.map(err).to_numpy(float)
            <= b["radius_95_mm"].to_numpy(float) + 1e-6
        )
        if (
            set(ELLIPSOID_COLUMNS) <= set(b.columns) and "optimum_x" in rows
        ):  # rows written since the ellipsoid is stored
            b["optimum_in_ellipsoid"] = _optimum_in_ellipsoid(b, rows)
    agg = {"n_regions": ("radius_95_mm", "size"), "median_radius_95_mm": ("radius_95_mm", "median")}
    for col in (
        "planted_in_sphere",
        "planted_in_ellipsoid",
        "other_session_in_sphere",
        "optimum_in_sphere",
        "optimum_in_ellipsoid",
    ):
        if col in b:
            agg[f"{col}_pct"] = (col, lambda s: 100 * s.astype(float).mean())
    return b.groupby(KEYS).agg(**agg).reset_index()


def _optimum_in_ellipsoid(boot: pd.DataFrame, rows: pd.DataFrame) -> np.ndarray:
    """Test whether each bootstrap row's 95% ellipsoid holds its participant's noise-free optimum.

    The ellipsoid is the stored one; NaN for a row without an optimum.
    """
    from tmstarget.targeting.uncertainty import region_contains

    opt = rows.drop_duplicates("seed").set_index("seed")[["optimum_x", "optimum_y", "optimum_z"]]
    out = np.full(len(boot), np.nan)
    for i, (_, r) in enumerate(boot.iterrows()):
        if r.seed in opt.index and np.isfinite([r[c] for c in ELLIPSOID_COLUMNS]).all():
            out[i] = region_contains(ellipsoid_from_columns(r), opt.loc[r.seed].to_numpy(float))[1]
    return out


def main_table(rows: pd.DataFrame, boot: pd.DataFrame, plan) -> pd.DataFrame:
    """Tabulate error, between-session distance and bootstrap coverage at today's defaults.

    Per circuit, length and method; the error is to the planted target and to the noise-free
    optimum.
    """
    sel = default_rows(rows, plan)
    sel = sel[sel.minutes.isin(plan.minutes)]
    table = summarise(sel, tuple(KEYS))
    if "optimum_error_mm" in sel:
        opt = sel.groupby(KEYS)["optimum_error_mm"].agg(
            median_optimum_error_mm="median",
            p90_optimum_error_mm=lambda e: float(np.percentile(e, 90)),
        )
        table = table.merge(opt.reset_index(), on=KEYS, how="left")
    if len(boot):
        table = table.merge(coverage_table(boot, sel), on=KEYS, how="left")
    return table


def sweep_table(rows: pd.DataFrame, plan) -> pd.DataFrame:
    """Tabulate error (both truths) and between-session distance at the sweep lengths.

    One entry for every (GSR, FWHM, radius).
    """
    keys = ["circuit", "minutes", "method", "gsr", "fwhm_mm", "neighbourhood_mm"]
    sel = rows[rows.minutes.isin(plan.sweep_minutes)]
    table = summarise(sel, tuple(keys))
    if "optimum_error_mm" in sel:
        table = table.merge(
            sel.groupby(keys)["optimum_error_mm"]
            .median()
            .rename("median_optimum_error_mm")
            .reset_index(),
            on=keys,
            how="left",
        )
    return table


def paired(errors: pd.DataFrame, a: str, b: str) -> dict:
    """Compare columns ``a`` and ``b`` of a (seed, session) × condition error table, paired.

    The comparison is per participant.

    Returns the median participant difference ``a − b`` (mm; negative = ``a`` better), the share of
    participants where ``a`` is better and the two-sided Wilcoxon signed-rank p (NaN when fewer than
    6 non-zero differences).
    """
    per = errors[[a, b]].groupby(level="seed").mean().dropna()
    diff = (per[a] - per[b]).to_numpy(float)
    nonzero = diff[np.abs(diff) > 1e-9]
    p = float(stats.wilcoxon(nonzero).pvalue) if nonzero.size >= 6 else float("nan")
    return {
        "median_diff_mm": float(np.median(diff)) if diff.size else float("nan"),
        "better_pct": 100 * float(np.mean(diff < -1e-9)) if diff.size else float("nan"),
        "p": p,
        "n": int(diff.size),
    }


def _errors(block: pd.DataFrame, by: str, value: str) -> pd.DataFrame:
    return block.pivot_table(index=["seed", "session"], columns=by, values=value)


def main_markdown(table: pd.DataFrame) -> list[str]:
    lines = []
    for circuit, block in table.groupby("circuit"):
        lines += [
            f"### circuit `{circuit}`",
            "",
            "| minutes | method | median error to noise-free "
            "optimum (mm) | p90 (mm) | median error to planted "
            "(mm) | p90 (mm) | median between-session (mm) "
            "| participants | 95% radius median (mm) | optimum "
            "in 95% sphere | optimum in 95% ellipsoid | planted "
            "in 95% sphere | planted in 95% ellipsoid | other "
            "session in 95% sphere |",
            "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        order = (
            "median_optimum_error_mm" if "median_optimum_error_mm" in block else "median_error_mm"
        )
        for _, r in block.sort_values(["minutes", order]).iterrows():
            cov = [_fmt(r.get("median_radius_95_mm"))] + [
                _pct(r.get(c, np.nan))
                for c in (
                    "optimum_in_sphere_pct",
                    "optimum_in_ellipsoid_pct",
                    "planted_in_sphere_pct",
                    "planted_in_ellipsoid_pct",
                    "other_session_in_sphere_pct",
                )
            ]
            lines.append(
                f"| {r.minutes:g} | {r.method} | "
                f"{_fmt(r.get('median_optimum_error_mm'))} "
                f"| {_fmt(r.get('p90_optimum_error_mm'))} | "
                f"{r.median_error_mm:.1f} | {r.p90_error_mm:.1f} "
                f"| {r.median_between_session_mm:.1f} | {r.n_participants} "
                "| " + " | ".join(cov) + " |"
            )
        lines.append("")
    return lines


def sweep_markdown(sweep: pd.DataFrame, plan) -> list[str]:
    """Render the sweep as Markdown, one table per circuit and length.

    Rows are method × radius, columns GSR × FWHM; cells 'error to optimum / to planted / between
    sessions'.
    """
    lines = []
    for (circuit, minutes), block in sweep.groupby(["circuit", "minutes"]):
        cols = plan.configs(minutes)
        head = " | ".join(f"GSR {'on' if g else 'off'}, FWHM {f:g} mm" for g, f in cols)
        lines += [
            f"### sweep: circuit `{circuit}`, {minutes:g} "
            "min (median error to noise-free optimum / to "
            "planted / between sessions, mm)",
            "",
            f"| method | radius (mm) | {head} |",
            "|---|---:|" + "---:|" * len(cols),
        ]
        for (method, radius), m in block.groupby(["method", "neighbourhood_mm"]):
            cells = []
            for g, f in cols:
                c = m[(m.gsr == g) & (m.fwhm_mm == f)]
                opt = c.median_optimum_error_mm.iloc[0] if "median_optimum_error_mm" in c else None
                cells.append(
                    f"{_fmt(opt)} "
                    f"/ {c.median_error_mm.iloc[0]:.1f} / "
                    f"{c.median_between_session_mm.iloc[0]:.1f}"
                    if len(c)
                    else "–"
                )
            lines.append(f"| {method} | {radius:g} | " + " | ".join(cells) + " |")
        lines.append("")
    return lines


def shrinkage_markdown(rows: pd.DataFrame, plan, individual: str = "robust") -> list[str]:
    """Check whether ``shrinkage`` is at least as accurate as the pure individual and group targets.

    At every length; paired, on the same participants.
    """
    if "shrinkage" not in plan.methods:
        return []
    sel = default_rows(rows, plan)
    lines = [
        f"### shrinkage against the pure individual (`{individual}`) and the pure group target",
        "",
        "| circuit | minutes | median error to noise-free "
        "optimum shrinkage / individual / group (mm) | "
        "median error to planted shrinkage / individual "
        "/ group (mm) | shrinkage ≤ individual (targets, "
        "optimum) | shrinkage ≤ group (targets, optimum) "
        "| median weight | at least as accurate as both: "
        "optimum / planted (median) |",
        "|---|---:|---|---|---:|---:|---:|---|",
    ]
    for (circuit, minutes), block in sel[sel.minutes.isin(plan.minutes)].groupby(
        ["circuit", "minutes"]
    ):
        cols = ["shrinkage", individual, "group"]
        e, o = _errors(block, "method", "error_mm"), _errors(block, "method", "optimum_error_mm")
        if not set(cols) <= set(e.columns):
            continue
        me, mo = e[cols].median(), o[cols].median()

        def ok(m, individual=individual):
            return (
                "yes" if m["shrinkage"] <= m[individual] and m["shrinkage"] <= m["group"] else "no"
            )

        shr = block[block.method == "shrinkage"]
        weight = _fmt(shr["weight"].median(), ".2f") if "weight" in shr else "–"
        lines.append(
            f"| {circuit} | {minutes:g} | {mo['shrinkage']:.1f} "
            f"/ {mo[individual]:.1f} / {mo['group']:.1f} | "
            f"{me['shrinkage']:.1f} / {me[individual]:.1f} "
            f"/ {me['group']:.1f} | "
            f"{100 * (o.shrinkage <= o[individual] + 1e-9).mean():.0f}% "
            f"| {100 * (o.shrinkage <= o.group + 1e-9).mean():.0f}% "
            f"| {weight} | {ok(mo)} / {ok(me)} |"
        )
    return lines + [""]


def decision(
    rows: pd.DataFrame, plan, reference: str = "robust"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Paired comparisons behind the defaults decision (error to the noise-free optimum).

    Returns ``(methods, sweep)``: every method and the group target against ``reference`` at today's
    defaults, per circuit and length; and every swept setting against today's defaults at the sweep
    lengths, per method.
    """
    sel = default_rows(rows, plan)
    out = []
    for (circuit, minutes), block in sel[sel.minutes.isin(plan.minutes)].groupby(
        ["circuit", "minutes"]
    ):
        o = _errors(block, "method", "optimum_error_mm")
        for m in (c for c in o.columns if c != reference):
            out.append(
                {"circuit": circuit, "minutes": minutes, "method": m, **paired(o, m, reference)}
            )
    methods = pd.DataFrame(out)
    gsr0, fwhm0, radius0 = plan.defaults()
    out = []
    sw = rows[rows.minutes.isin(plan.sweep_minutes)].assign(
        setting=lambda d: [
            f"gsr={g} fwhm={f:g} radius={r:g}"
            for g, f, r in zip(d.gsr, d.fwhm_mm, d.neighbourhood_mm)
        ]
    )
    default = f"gsr={gsr0} fwhm={fwhm0:g} radius={radius0:g}"
    for (circuit, minutes, method), block in sw[sw.method != "group"].groupby(
        ["circuit", "minutes", "method"]
    ):  # the group target uses no data
        o = _errors(block, "setting", "optimum_error_mm")
        if default not in o:
            continue
        for s in (c for c in o.columns if c != default):
            out.append(
                {
                    "circuit": circuit,
                    "minutes": minutes,
                    "method": method,
                    "setting": s,
                    **paired(o, s, default),
                }
            )
    return methods, pd.DataFrame(out)


def _wins(block: pd.DataFrame) -> bool:
    return bool(len(block) and (block.median_diff_mm < 0).all() and (block.p < ALPHA).all())


def decision_markdown(rows: pd.DataFrame, plan, reference: str = "robust") -> list[str]:
    """Render the paired comparisons and what they decide (the rule is in the module docstring)."""
    if "optimum_error_mm" not in rows:
        return []
    methods, sweep = decision(rows, plan, reference)
    n_cells = len(plan.minutes) * len(plan.circuits)
    lines = [
        "## Defaults decision",
        "",
        "Paired by participant (sessions averaged), error "
        "to the noise-free optimum; difference = alternative "
        f"− `{reference}` "
        "(negative = better); p = Wilcoxon signed-rank. "
        "A default changes only if the alternative is better "
        "with "
        f"p < {ALPHA:g} in every cell ({n_cells}: {len(plan.minutes)} "
        f"lengths × {len(plan.circuits)} circuits).",
        "",
        "| method | "
        + " | ".join(f"{c} {m:g} min" for c in plan.circuits for m in plan.minutes)
        + " | replaces the default |",
        "|---|" + "---:|" * n_cells + "---|",
    ]
    for m, block in methods.groupby("method"):
        cells = []
        for c in plan.circuits:
            for mins in plan.minutes:
                r = block[(block.circuit == c) & (block.minutes == mins)]
                cells.append(
                    f"{r.median_diff_mm.iloc[0]:+.1f} (p {r.p.iloc[0]:.2g})" if len(r) else "–"
                )
        lines.append(
            f"| {m} | "
            + " | ".join(cells)
            + f" | {'yes' if _wins(block) and len(block) == n_cells else 'no'} |"
        )
    lines.append("")
    if len(sweep):
        lines += [
            "Swept settings against today's defaults at "
            f"{', '.join(f'{m:g}' for m in plan.sweep_minutes)} "
            "min (same rule over both circuits):",
            "",
            "| method | setting | "
            + " | ".join(f"{c}" for c in plan.circuits)
            + " | changes the default |",
            "|---|---|" + "---:|" * len(plan.circuits) + "---|",
        ]
        for (method, setting), block in sweep.groupby(["method", "setting"]):
            cells = []
            for c in plan.circuits:
                r = block[block.circuit == c]
                cells.append(
                    f"{r.median_diff_mm.iloc[0]:+.1f} (p {r.p.iloc[0]:.2g})" if len(r) else "–"
                )
            lines.append(
                f"| {method} | {setting} | "
                + " | ".join(cells)
                + f" | {'yes' if _wins(block) and len(block) == len(plan.circuits) else 'no'} |"
            )
        lines.append("")
    return lines


def write_summaries(
    rows: pd.DataFrame, boot: pd.DataFrame, plan, out: Path, header: list[str]
) -> str:
    """Write study.csv, coverage.csv, verdict.csv, sweep.csv, decision.csv, study.md; return the md.

    The files are written atomically.

    Rows with coil centres and regret (v2, issue 25) get the v2 tables and decision
    (:mod:`study_rule`: v2.csv, rule.csv) instead of the v1 decision; the sweep is written only when
    one was run.
    """
    from tmstarget.io.derivatives import write_text_atomic

    spaces = sorted(rows["space"].unique()) if "space" in rows else ["volume"]
    if len(spaces) > 1:  # one set of tables per space, in OUT/SPACE
        return "\n\n".join(
            write_summaries(
                rows[rows.space == space],
                boot[boot.space == space] if "space" in boot else boot,
                plan,
                out / space,
                header + [f"Space: {space}.", ""],
            )
            for space in spaces
        )
    table = main_table(rows, boot, plan)
    write_text_atomic(out / "study.csv", table.to_csv(index=False, float_format="%.3f"))
    sweep_md = []
    if plan.sweep_minutes:
        sweep = sweep_table(rows, plan)
        write_text_atomic(out / "sweep.csv", sweep.to_csv(index=False, float_format="%.3f"))
        sweep_md = ["## Defaults sweep", ""] + sweep_markdown(sweep, plan)
    verdict_md = []
    if len(boot):
        write_text_atomic(
            out / "coverage.csv",
            coverage_table(boot, default_rows(rows, plan)).to_csv(index=False, float_format="%.3f"),
        )
        from study_verdict import verdict_markdown, verdict_table

        check = verdict_table(boot, default_rows(rows, plan))
        write_text_atomic(out / "verdict.csv", check.to_csv(index=False, float_format="%.3f"))
        verdict_md = verdict_markdown(check)
    if "regret" in rows:
        from study_rule import write_v2

        sel = default_rows(rows, plan)
        decision_md = write_v2(
            sel[sel.minutes.isin(plan.minutes)],
            boot,
            out,
            int(rows.seed.nunique()),
            plan.preset if spaces == ["volume"] else None,  # the infinite-data reference: volumes
        )
    else:
        decision_md = decision_markdown(rows, plan)
    if "optimum_error_mm" in rows:
        methods, swept = decision(rows, plan)
        write_text_atomic(
            out / "decision.csv",
            pd.concat([methods.assign(setting="defaults"), swept]).to_csv(
                index=False, float_format="%.4g"
            ),
        )
    md = "\n".join(
        header
        + decision_md
        + verdict_md
        + ["## Methods at today's defaults", ""]
        + main_markdown(table)
        + shrinkage_markdown(rows, plan)
        + sweep_md
    )
    write_text_atomic(out / "study.md", md + "\n")
    return md
