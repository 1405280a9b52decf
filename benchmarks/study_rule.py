"""Defaults study v2 (issue 25, part 5): coil centre, regret, individuality and the decision rule.

The regret is the stimulation regret.

Per circuit × length × method (:func:`v2_table`): the error to the noise-free optimum (median, 90th
percentile), the median between-session distance of the target and of the coil centre, the median
stimulation regret, the coverage of the drift-aware 95% region for the other session's target, and
**individuality** (:func:`individuality`).

Decision rule (benchmarks/README.md, "Defaults study v2 (issue 25)"; written and committed before
any calibrated v2 row existed): a method replaces ``robust`` only if, for both circuits at 10 and 20
minutes (every cell), (a) individuality ≥ 3; (b) its error to the noise-free optimum is no worse
than ``robust``'s: paired median difference ≤ 0, or ≤ 1 mm with a one-sided paired Wilcoxon p ≥ 0.05
(alternative: worse); (c) the between-session distance of its coil centre is lower than
``robust``'s: paired median difference < 0 and one-sided paired Wilcoxon p < 0.05 (alternative:
lower); (d) its median regret ≤ ``robust``'s. Final only with ≥ 50 participants.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial.distance import pdist

KEYS = ["circuit", "minutes", "method"]
REFERENCE = "robust"
RULE_MINUTES = (10.0, 20.0)
MIN_INDIVIDUALITY = 3.0
TOLERANCE_MM = 1.0
ALPHA = 0.05
FINAL_N = 50
TARGET, COIL = ["x", "y", "z"], ["coil_x", "coil_y", "coil_z"]


def between_sessions(rows: pd.DataFrame, cols=TARGET) -> pd.Series:
    """Return the distance between a participant's two session points (``cols``).

    Indexed by (circuit, minutes, method, seed).
    """
    s1 = rows[rows.session == 1].set_index([*KEYS, "seed"])[cols]
    s2 = rows[rows.session == 2].set_index([*KEYS, "seed"])[cols]
    return np.sqrt(((s1 - s2.reindex(s1.index)) ** 2).sum(axis=1, min_count=1)).dropna()


def individuality(rows: pd.DataFrame, cols=TARGET) -> pd.DataFrame:
    """Between-person spread over within-person distance per circuit × length × method.

    ``between_person_mm``: median distance between different participants' points of the same
    session (all pairs, both sessions pooled); ``within_person_mm``: median over participants of
    their between-session distance; ``individuality`` = their ratio (0 when the between-person
    spread is 0, as for the group target).
    """
    within = between_sessions(rows, cols).groupby(level=KEYS).median()
    out = []
    for key, block in rows.groupby(KEYS):
        d = np.concatenate(
            [pdist(b[cols].to_numpy(float)) for _, b in block.groupby("session") if len(b) > 1]
            or [np.zeros(0)]
        )
        between = float(np.median(d)) if d.size else float("nan")
        w = float(within.get(key, np.nan))
        ratio = (
            0.0
            if between == 0
            else (between / w if w > 0 else float("inf") if np.isfinite(between) else float("nan"))
        )
        out.append(
            dict(zip(KEYS, key), between_person_mm=between, within_person_mm=w, individuality=ratio)
        )
    return pd.DataFrame(out)


def v2_table(rows: pd.DataFrame, boot: pd.DataFrame) -> pd.DataFrame:
    """Build the v2 summary per circuit × length × method (see the module docstring)."""
    g = rows.groupby(KEYS)
    table = pd.DataFrame(
        {
            "n_participants": g.seed.nunique(),
            "median_optimum_error_mm": g.optimum_error_mm.median(),
            "p90_optimum_error_mm": g.optimum_error_mm.quantile(0.9),
            "median_between_session_mm": between_sessions(rows).groupby(level=KEYS).median(),
            "median_coil_between_session_mm": between_sessions(rows, COIL)
            .groupby(level=KEYS)
            .median(),
            "median_regret": g.regret.median(),
            "p90_regret": g.regret.quantile(0.9),
        }
    ).reset_index()
    table = table.merge(individuality(rows), on=KEYS, how="left")
    table = table.merge(
        individuality(rows, COIL)[[*KEYS, "individuality"]].rename(
            columns={"individuality": "coil_individuality"}
        ),
        on=KEYS,
        how="left",
    )
    if len(boot):
        b = boot.copy()
        agg = {
            "n_regions": ("radius_95_mm", "size"),
            "median_radius_95_mm": ("radius_95_mm", "median"),
            "other_session_in_sphere_pct": (
                "other_session_in_sphere",
                lambda s: 100 * s.astype(float).mean(),
            ),
            "reliable_pct": ("reliable", lambda s: 100 * s.astype(float).mean()),
        }
        if "other_coil_in_coil_sphere" in b:
            agg["other_coil_in_coil_sphere_pct"] = (
                "other_coil_in_coil_sphere",
                lambda s: 100 * pd.to_numeric(s, errors="coerce").mean(),
            )
            agg["median_coil_radius_95_mm"] = ("coil_radius_95_mm", "median")
        if "share_kept" in b:
            agg["median_share_kept"] = ("share_kept", "median")
        table = table.merge(b.groupby(KEYS).agg(**agg).reset_index(), on=KEYS, how="left")
    return table


def _one_sided(diff: np.ndarray, alternative: str) -> float:
    nonzero = diff[np.abs(diff) > 1e-9]
    return (
        float(stats.wilcoxon(nonzero, alternative=alternative).pvalue)
        if nonzero.size >= 6
        else float("nan")
    )


def rule(rows: pd.DataFrame, table: pd.DataFrame, reference: str = REFERENCE) -> pd.DataFrame:
    """Evaluate criteria (a)–(d) of the decision rule for every method against ``reference``.

    Per circuit and rule length.
    """
    out = []
    coil = between_sessions(rows, COIL)
    for (circuit, minutes), block in rows[rows.minutes.isin(RULE_MINUTES)].groupby(
        ["circuit", "minutes"]
    ):
        err = block.pivot_table(
            index="seed", columns="method", values="optimum_error_mm", aggfunc="mean"
        )
        dist = coil.xs((circuit, minutes), level=["circuit", "minutes"]).unstack("method")
        tab = table[(table.circuit == circuit) & (table.minutes == minutes)].set_index("method")
        if reference not in err:
            continue
        for m in (c for c in err.columns if c != reference):
            e = (err[m] - err[reference]).dropna().to_numpy(float)
            d = (
                (dist[m] - dist[reference]).dropna().to_numpy(float)
                if m in dist and reference in dist
                else np.zeros(0)
            )
            e_med, p_worse = (
                (float(np.median(e)) if e.size else float("nan")),
                _one_sided(e, "greater"),
            )
            d_med, p_lower = (
                (float(np.median(d)) if d.size else float("nan")),
                _one_sided(d, "less"),
            )
            ind = float(tab.individuality.get(m, np.nan))
            reg, reg_ref = (
                float(tab.median_regret.get(m, np.nan)),
                float(tab.median_regret.get(reference, np.nan)),
            )
            a = bool(ind >= MIN_INDIVIDUALITY)
            b = bool(
                e_med <= 0 or (e_med <= TOLERANCE_MM and np.isfinite(p_worse) and p_worse >= ALPHA)
            )
            c = bool(d_med < 0 and np.isfinite(p_lower) and p_lower < ALPHA)
            dd = bool(reg <= reg_ref)
            out.append(
                {
                    "circuit": circuit,
                    "minutes": minutes,
                    "method": m,
                    "n": int(e.size),
                    "individuality": ind,
                    "a": a,
                    "error_diff_mm": e_med,
                    "p_worse": p_worse,
                    "b": b,
                    "coil_diff_mm": d_med,
                    "p_lower": p_lower,
                    "c": c,
                    "median_regret": reg,
                    "reference_regret": reg_ref,
                    "d": dd,
                    "passes": a and b and c and dd,
                }
            )
    return pd.DataFrame(out)


def _f(v, spec=".1f") -> str:
    return "–" if v is None or not np.isfinite(v) else format(v, spec)


def v2_markdown(table: pd.DataFrame, decision: pd.DataFrame, n: int) -> list[str]:
    """Render the decision table, then the v2 summary per circuit, as Markdown lines."""
    cells = [(c, m) for c in ("sgacc", "map") for m in RULE_MINUTES]
    status = (
        "final"
        if n >= FINAL_N
        else f"PROVISIONAL ({n} of {FINAL_N} participants: no default changes)"
    )
    lines = [
        "## Defaults decision v2 (issue 25)",
        "",
        "Rule (benchmarks/README.md, written before the "
        f"runs): (a) individuality ≥ {MIN_INDIVIDUALITY:g}; "
        "(b) error to the noise-free "
        f"optimum − `{REFERENCE}`'s: paired median ≤ 0, "
        f"or ≤ {TOLERANCE_MM:g} mm with one-sided Wilcoxon "
        f"p(worse) ≥ {ALPHA:g}; (c) coil-centre "
        f"between-session distance − `{REFERENCE}`'s: paired "
        "median < 0 with one-sided Wilcoxon p(lower) < "
        f"{ALPHA:g}; (d) median regret ≤ "
        f"`{REFERENCE}`'s; in every cell (both circuits "
        f"× {', '.join(f'{m:g}' for m in RULE_MINUTES)} "
        f"min). Status: **{status}**.",
        "",
        "Cell: individuality · error diff mm (p worse) "
        "· coil diff mm (p lower) · regret vs robust's "
        "— criteria passed (abcd, `-` failed).",
        "",
        "| method | " + " | ".join(f"{c} {m:g} min" for c, m in cells) + " | replaces `robust` |",
        "|---|" + "---|" * len(cells) + "---|",
    ]
    for m, block in decision.groupby("method") if len(decision) else ():  # no rule cell run
        row = []
        for c, mins in cells:
            r = block[(block.circuit == c) & (block.minutes == mins)]
            if not len(r):
                row.append("–")
                continue
            r = r.iloc[0]
            flags = "".join(k if r[k] else "-" for k in "abcd")
            row.append(
                f"{_f(r.individuality)} · {r.error_diff_mm:+.1f} "
                f"({_f(r.p_worse, '.2g')}) · {_f(r.coil_diff_mm, '+.1f')} "
                f"({_f(r.p_lower, '.2g')}) · "
                f"{_f(r.median_regret, '.3f')} vs {_f(r.reference_regret, '.3f')} — {flags}"
            )
        ok = len(block) == len(cells) and bool(block.passes.all())
        lines.append(
            f"| {m} | "
            + " | ".join(row)
            + f" | {'yes' if ok and n >= FINAL_N else ('would (provisional)' if ok else 'no')} |"
        )
    lines.append("")
    for circuit, block in table.groupby("circuit"):
        lines += [
            f"### v2: circuit `{circuit}`",
            "",
            "| min | method | participants | error to optimum "
            "median / p90 (mm) | between sessions: target "
            "/ coil centre (mm) | median regret (p90) | "
            "individuality (between-person mm) | coil individuality "
            "| 95% radius median (mm) | other session in "
            "95% sphere | 'reliable' | efield coil: radius "
            "/ other in it |",
            "|---:|---|---:|---|---|---|---|---:|---:|---:|---:|---|",
        ]
        for _, r in block.sort_values(["minutes", "median_optimum_error_mm"]).iterrows():
            cov = (
                f"{_f(r.get('median_radius_95_mm'))} | "
                f"{_f(r.get('other_session_in_sphere_pct'), '.0f')}% "
                f"| {_f(r.get('reliable_pct'), '.0f')}%"
                if np.isfinite(r.get("median_radius_95_mm", np.nan))
                else "– | – | –"
            )
            coil = (
                f"{_f(r.get('median_coil_radius_95_mm'))} / "
                f"{_f(r.get('other_coil_in_coil_sphere_pct'), '.0f')}%"
                if np.isfinite(r.get("median_coil_radius_95_mm", np.nan))
                else "–"
            )
            lines.append(
                f"| {r.minutes:g} | {r.method} | {r.n_participants} "
                f"| {_f(r.median_optimum_error_mm)} / {_f(r.p90_optimum_error_mm)} "
                "| "
                f"{_f(r.median_between_session_mm)} / "
                f"{_f(r.median_coil_between_session_mm)} | "
                f"{_f(r.median_regret, '.3f')} ({_f(r.p90_regret, '.3f')}) "
                "| "
                f"{_f(r.individuality, '.2f')} ({_f(r.between_person_mm)}) "
                f"| {_f(r.coil_individuality, '.2f')} | {cov} "
                f"| {coil} |"
            )
        lines.append("")
    return lines


def reference_markdown(ref: pd.DataFrame) -> list[str]:
    """Render the infinite-data floor as Markdown, medians over participants.

    The floor is :func:`study_truth.infinite_data_reference`.
    """

    def q(c):
        x = ref[c]
        return f"{x.median():.2f} (p10 {x.quantile(0.1):.2f}, p90 {x.quantile(0.9):.2f})"

    return [
        "### With infinite data (the floor of the tables above)",
        "",
        f"Over {len(ref)} participants, median (10th, 90th "
        "percentile): the default placement over the noise-free "
        "optimum "
        f"(`robust` with infinite data) has regret {q('robust_regret')}; "
        "`efield` with infinite data has regret 0 and its "
        "target "
        "(the search column nearest its placement's hotspot) "
        f"lies {q('efield_target_to_optimum_mm')} mm from "
        "the noise-free optimum; "
        f"the two coil centres lie {q('coil_centres_apart_mm')} "
        "mm apart. So `efield`'s error to the noise-free "
        "optimum "
        "has a floor well above 0: it answers another question than the peak.",
        "",
    ]


def write_v2(
    rows: pd.DataFrame, boot: pd.DataFrame, out, n: int, preset: str | None = None
) -> list[str]:
    """Write v2.csv, rule.csv and (with ``preset``) reference.csv; return the Markdown lines.

    The files are written atomically.
    """
    from tmstarget.io.derivatives import write_text_atomic

    table = v2_table(rows, boot)
    decision = rule(rows, table)
    write_text_atomic(out / "v2.csv", table.to_csv(index=False, float_format="%.4g"))
    write_text_atomic(out / "rule.csv", decision.to_csv(index=False, float_format="%.4g"))
    lines = v2_markdown(table, decision, n)
    if preset is not None:
        from study_truth import infinite_data_reference

        ref = infinite_data_reference(sorted(rows.seed.unique()), preset)
        write_text_atomic(out / "reference.csv", ref.to_csv(index=False, float_format="%.4g"))
        lines += reference_markdown(ref)
    return lines
