"""CONSORT flow counts and diagram, and Table 1 (baseline characteristics by arm).

Flow (CONSORT 2010, Schulz et al., BMJ 2010;340:c332, flow diagram): assessed for eligibility →
excluded → randomized → allocated per arm → received / did not receive the allocated intervention →
discontinued intervention → lost to follow-up at the endpoint (missed, or assessed outside the visit
window) → analysed (ITT, per protocol). In every arm ``allocated = analysed_itt`` (ITT keeps
everyone) and ``allocated = assessed_at_endpoint + lost_to_follow_up``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from .._utils.figures import render_figure
from ..exceptions import InputError
from .data import TrialTable
from .sets import AnalysisSets

__all__ = ["baseline_table", "consort_counts", "consort_figure"]

#: Participant-level columns summarised in Table 1 besides baseline MADRS, strata and sessions.
TABLE1_COLUMNS = ("age", "sex")


def consort_counts(
    trial: TrialTable,
    sets: AnalysisSets,
    endpoint: str,
    not_assessed: Sequence[str] = (),
    screened: int | None = None,
) -> dict[str, Any]:
    """Count the participants in each CONSORT box, per arm.

    Parameters
    ----------
    trial : TrialTable
        Validated table.
    sets : AnalysisSets
        ITT and per-protocol sets for ``endpoint``.
    endpoint : str
        Endpoint visit.
    not_assessed : sequence of str
        Randomized participants absent from the table.
    screened : int, optional
        Participants assessed for eligibility (the table starts at randomization, so this comes from
        the screening log).

    Returns
    -------
    dict
        ``assessed_for_eligibility``, ``excluded``, ``randomized``, ``randomized_without_data`` and
        ``arms`` (per arm: ``allocated``, ``received_allocated``, ``did_not_receive``,
        ``discontinued_intervention``, ``assessed_at_endpoint``, ``lost_to_follow_up``, ``missed``,
        ``out_of_window``, ``analysed_itt``, ``analysed_per_protocol``, ``excluded_per_protocol``).
        Unknown counts are ``None``.
    """
    arms = trial.participants()["arm"]
    randomized = len(arms) + len(not_assessed)
    if screened is not None and screened < randomized:
        raise InputError(
            f"--screened {screened} is fewer than the {randomized} "
            "participants randomized — give the number assessed "
            "for eligibility"
        )
    sessions = trial.sessions_received()
    planned = sets.planned_sessions
    endpoint_scores = trial.wide()[endpoint]
    late = set()
    if trial.assessments is not None:
        a = trial.assessments
        late = set(
            a.loc[
                (a["nominal_timepoint"] == endpoint)
                & a["visit_status"].isin(["out_of_window", "extra"])
                & a["madrs_total"].notna(),
                "participant_id",
            ]
        )
    out: dict[str, Any] = {
        "assessed_for_eligibility": screened,
        "excluded": None if screened is None else screened - randomized,
        "randomized": randomized,
        "randomized_without_data": len(not_assessed),
        "endpoint": endpoint,
        "arms": {},
    }
    itt, pp = set(sets.itt), set(sets.per_protocol)
    for arm in trial.arms:
        ids = list(arms.index[arms == arm])
        assessed = int(endpoint_scores[ids].notna().sum())
        lost = [p for p in ids if not endpoint_scores[p] == endpoint_scores[p]]
        received = None if sessions is None else int((sessions[ids] > 0).sum())
        counts = {
            "allocated": len(ids),
            "received_allocated": received,
            "did_not_receive": None if received is None else len(ids) - received,
            "discontinued_intervention": None
            if sessions is None
            else int(((sessions[ids] > 0) & (sessions[ids] < planned)).sum()),
            "assessed_at_endpoint": assessed,
            "lost_to_follow_up": len(lost),
            "out_of_window": sum(p in late for p in lost),
            "missed": sum(p not in late for p in lost),
            "analysed_itt": sum(p in itt for p in ids),
            "analysed_per_protocol": sum(p in pp for p in ids),
        }
        counts["excluded_per_protocol"] = counts["analysed_itt"] - counts["analysed_per_protocol"]
        out["arms"][arm] = counts
    return out


def _box(ax, x: float, y: float, text: str, width: float = 0.42) -> None:
    ax.text(
        x,
        y,
        text,
        ha="center",
        va="center",
        fontsize=7.5,
        wrap=True,
        bbox={
            "boxstyle": "square,pad=0.5",
            "facecolor": "white",
            "edgecolor": "0.2",
            "linewidth": 0.8,
        },
    )


def _arrow(ax: Any, start: tuple[float, float], end: tuple[float, float]) -> None:
    ax.annotate("", xy=end, xytext=start, arrowprops={"arrowstyle": "->", "lw": 0.8})


def _n(x: int | None) -> str:
    return "n = ?" if x is None else f"n = {x}"


def consort_figure(counts: dict[str, Any], fmt: str = "svg") -> str | bytes:
    """Draw the CONSORT flow diagram.

    Parameters
    ----------
    counts : dict
        Output of :func:`consort_counts` (or the ``consort`` key of the analysis JSON).
    fmt : {"svg", "png"}
        Output format.

    Returns
    -------
    str or bytes
        SVG text, or PNG bytes; the same counts give the same output.
    """
    if fmt not in ("svg", "png"):
        raise InputError(f"CONSORT diagram format {fmt!r} — use a .svg or .png file name")
    arms = list(counts["arms"])

    def draw(fig: Any) -> None:
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_xlim(0, 1)
        ax.set_ylim(0.12, 1)
        ax.axis("off")
        _box(ax, 0.5, 0.95, f"Assessed for eligibility ({_n(counts['assessed_for_eligibility'])})")
        _box(ax, 0.82, 0.87, f"Excluded ({_n(counts['excluded'])})")
        extra = (
            f"\n(no outcome data: {counts['randomized_without_data']})"
            if counts.get("randomized_without_data")
            else ""
        )
        _box(ax, 0.5, 0.80, f"Randomised ({_n(counts['randomized'])}){extra}")
        _arrow(ax, (0.5, 0.925), (0.5, 0.83))
        _arrow(ax, (0.5, 0.87), (0.72, 0.87))
        for k, arm in enumerate(arms):
            c, x = counts["arms"][arm], 0.26 + 0.48 * k
            _arrow(ax, (0.5, 0.775), (x, 0.69))
            rows = [
                (
                    0.64,
                    f"Allocated to {arm} ({_n(c['allocated'])})\nReceived "
                    f"allocated intervention ({_n(c['received_allocated'])})\n"
                    f"Did not receive it ({_n(c['did_not_receive'])})",
                ),
                (
                    0.44,
                    f"Follow-up at {counts['endpoint']}\nDiscontinued "
                    f"intervention ({_n(c['discontinued_intervention'])})\n"
                    f"Lost to follow-up ({_n(c['lost_to_follow_up'])}):\nmissed "
                    f"{c['missed']}, outside the window {c['out_of_window']}",
                ),
                (
                    0.22,
                    "Analysed, intention to treat "
                    f"({_n(c['analysed_itt'])})\nAnalysed, per "
                    f"protocol ({_n(c['analysed_per_protocol'])})\n"
                    f"Excluded from per protocol ({_n(c['excluded_per_protocol'])})",
                ),
            ]
            for (y, text), (y_next, _) in zip(rows, [*rows[1:], (None, None)]):
                _box(ax, x, y, text)
                if y_next is not None:
                    _arrow(ax, (x, y - 0.07), (x, y_next + 0.07))
        for y, label in (
            (0.95, "Enrolment"),
            (0.64, "Allocation"),
            (0.44, "Follow-up"),
            (0.22, "Analysis"),
        ):
            ax.text(0.01, y, label, fontsize=8, fontweight="bold", va="center", rotation=90)

    return render_figure(draw, (7.5, 7.0), fmt, layout=False)


def _numeric(values: pd.Series) -> str:
    v = pd.to_numeric(values, errors="coerce").dropna()
    return (
        "n/a"
        if v.empty
        else f"{v.mean():.1f} ({v.std(ddof=1):.1f})"
        if len(v) > 1
        else f"{v.mean():.1f}"
    )


def baseline_table(trial: TrialTable) -> list[dict[str, Any]]:
    """Table 1: baseline characteristics by arm (no p-values, as CONSORT 2010 item 15 advises).

    Rows: participants; baseline MADRS mean (SD); each stratum level n (%); sessions received median
    [IQR] when recorded; ``age`` mean (SD) and ``sex`` n (%) when the table has them.

    Returns
    -------
    list of dict
        ``{"characteristic": str, <arm>: str, ...}``, one per row.
    """
    info = trial.participants()
    base = trial.wide()[trial.baseline]
    frame = trial.frame.groupby("participant_id", sort=True).first()
    rows: list[dict[str, Any]] = [
        {
            "characteristic": "participants",
            **{a: str(int((info["arm"] == a).sum())) for a in trial.arms},
        }
    ]
    by_arm = {a: info.index[info["arm"] == a] for a in trial.arms}
    rows.append(
        {
            "characteristic": "baseline MADRS, mean (SD)",
            **{a: _numeric(base[ids]) for a, ids in by_arm.items()},
        }
    )
    for column in [c for c in TABLE1_COLUMNS if c in frame.columns] + list(trial.strata):
        values = frame[column]
        numeric = pd.to_numeric(values.replace("", math.nan), errors="coerce")
        if column == "age" or (numeric.notna().all() and values.nunique() > 5):
            rows.append(
                {
                    "characteristic": f"{column}, mean (SD)",
                    **{a: _numeric(values[ids]) for a, ids in by_arm.items()},
                }
            )
            continue
        for level in sorted(values.astype(str).unique()):
            rows.append(
                {
                    "characteristic": f"{column}: {level}, n (%)",
                    **{
                        a: f"{int((values[ids].astype(str) == level).sum())} "
                        f"({100 * (values[ids].astype(str) == level).mean():.0f}%)"
                        for a, ids in by_arm.items()
                    },
                }
            )
    sessions = trial.sessions_received()
    if sessions is not None:

        def iqr(ids: pd.Index) -> str:
            s = sessions[ids].dropna()
            return f"{s.median():g} [{s.quantile(0.25):g}, {s.quantile(0.75):g}]"

        rows.append(
            {
                "characteristic": "sessions received, median [IQR]",
                **{a: iqr(ids) for a, ids in by_arm.items()},
            }
        )
    return rows
