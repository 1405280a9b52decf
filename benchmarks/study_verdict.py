"""The "reliable" verdict against the other session, on the defaults study's rows (issue 25).

The check was declared before the held-out participants ran (benchmarks/README.md, "The 'reliable'
verdict against the other session"): a session is *would-be reliable* when its drift-aware 95%
radius is at most :data:`RELIABLE_MM` (the verdict's threshold; the study's 50 resamples are below
the verdict's minimum of 100, so that condition is ignored here), and its "reliable" is *wrong*
when the other session's target lies more than :data:`WRONG_MM` away. The check passes for a
calibrated method (``robust``, ``shrinkage``) when at most :data:`MAX_WRONG_SHARE` of the held-out
would-be-reliable sessions at 40 minutes are wrong, per circuit.

    python benchmarks/study.py --preset calibrated --summarise-only   # writes verdict.csv too
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tmstarget.targeting.uncertainty import RELIABLE_RADIUS_MM

#: The verdict's radius threshold.
RELIABLE_MM = RELIABLE_RADIUS_MM
#: A "reliable" session whose other session is farther than this is wrong (2 x the threshold).
WRONG_MM = 10.0
#: The pre-declared pass mark: at most this share of would-be-reliable sessions wrong.
MAX_WRONG_SHARE = 0.10
#: The participants done when the check was declared (2026-12-08 04:49 UTC): the look set.
LOOK_SEEDS = frozenset([*range(0, 20), *range(30, 41)])
#: Methods whose region is calibrated (``Method.region_calibrated``): the check decides for them.
CALIBRATED = ("robust", "shrinkage")
KEYS = ["seed", "circuit", "minutes", "method"]


def between_sessions(rows: pd.DataFrame) -> pd.Series:
    """Distance (mm) between a participant's two session targets, indexed by :data:`KEYS`."""
    r = rows.drop_duplicates(["seed", "session", "circuit", "minutes", "method"])
    a = r[r.session == 1].set_index(KEYS)[["x", "y", "z"]]
    b = r[r.session == 2].set_index(KEYS)[["x", "y", "z"]]
    return np.sqrt(((a - b) ** 2).sum(axis=1)).rename("other_mm")


def clopper_pearson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper–Pearson) interval of a share ``k / n``; ``(nan, nan)`` when ``n`` is 0."""
    from statsmodels.stats.proportion import proportion_confint

    if n == 0:
        return float("nan"), float("nan")
    lo, hi = proportion_confint(k, n, alpha=1 - level, method="beta")
    return float(lo), float(hi)


def verdict_table(boot: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """Count would-be-reliable and wrong sessions per set, method, circuit and length."""
    b = boot.join(between_sessions(rows), on=KEYS)
    b["set"] = np.where(b.seed.isin(LOOK_SEEDS), "look", "held-out")
    b["would_be_reliable"] = b.radius_95_mm <= RELIABLE_MM + 1e-9
    b["wrong"] = b.would_be_reliable & (b.other_mm > WRONG_MM)
    out = []
    for (s, method, circuit, minutes), g in b.groupby(["set", "method", "circuit", "minutes"]):
        n, k = int(g.would_be_reliable.sum()), int(g.wrong.sum())
        lo, hi = clopper_pearson(k, n)
        rel = g[g.would_be_reliable]
        rest = g[~g.would_be_reliable]
        close = int((rest.other_mm <= RELIABLE_MM).sum())  # "not reliable", other within 5 mm
        out.append(
            {
                "set": s,
                "method": method,
                "circuit": circuit,
                "minutes": minutes,
                "participants": int(g.seed.nunique()),
                "sessions": len(g),
                "would_be_reliable": n,
                "wrong": k,
                "wrong_share": k / n if n else float("nan"),
                "ci_low": lo,
                "ci_high": hi,
                "median_other_mm": float(rel.other_mm.median()) if n else float("nan"),
                "max_other_mm": float(rel.other_mm.max()) if n else float("nan"),
                "not_reliable": len(rest),
                "not_reliable_other_within_5mm": close,
                # no would-be-reliable session: nothing to check (shown as "–")
                "passes": bool(k / n <= MAX_WRONG_SHARE) if minutes == 40 and n else None,
            }
        )
    return pd.DataFrame(out)


def verdict_markdown(table: pd.DataFrame) -> list[str]:
    """Return the check as Markdown lines, the held-out set first."""
    lines = [
        '## The "reliable" verdict against the other session (pre-declared check)',
        "",
        f"Would-be reliable = 95% radius ≤ {RELIABLE_MM:g} mm; wrong = the other session's target "
        f"more than {WRONG_MM:g} mm away; pass = at most {MAX_WRONG_SHARE:.0%} wrong at 40 minutes "
        f"(decides for {', '.join(CALIBRATED)}); 95% Clopper–Pearson interval of the wrong share. "
        "Look set: the 31 participants done when the check was declared; held-out: the rest. "
        "The last column is the other direction: sessions not called reliable whose other session "
        "landed within 5 mm anyway (the price of caution; not part of the pass mark).",
        "",
        "| set | method | circuit | min | participants | would-be reliable | wrong "
        "| wrong share (95% CI) | other session: median / max (mm) | pass "
        "| not reliable, other within 5 mm |",
        "|---|---|---|---:|---:|---:|---:|---|---|---|---:|",
    ]
    order = {"held-out": 0, "look": 1}
    t = table.assign(_o=table["set"].map(order)).sort_values(["_o", "method", "circuit", "minutes"])
    for _, r in t.iterrows():
        share = (
            "–"
            if not r.would_be_reliable
            else f"{r.wrong_share:.0%} ({r.ci_low:.0%}–{r.ci_high:.0%})"
        )
        other = (
            "–" if not r.would_be_reliable else f"{r.median_other_mm:.1f} / {r.max_other_mm:.1f}"
        )
        verdict = {True: "yes", False: "no", None: "–"}[r.passes]
        if r.method not in CALIBRATED and verdict != "–":
            verdict += " (reported)"
        lines.append(
            f"| {r['set']} | {r.method} | {r.circuit} | {r.minutes:g} | {r.participants} | "
            f"{r.would_be_reliable} of {r.sessions} | {r.wrong} | {share} | {other} | {verdict} "
            f"| {r.not_reliable_other_within_5mm} of {r.not_reliable} |"
        )
    return lines + [""]
