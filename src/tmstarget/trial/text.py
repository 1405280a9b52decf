"""The CONSORT-style plain-text summary of a :class:`tmstarget.trial.summary.TrialResult`."""

from __future__ import annotations

import math

from .. import __version__
from .analysis import Estimate
from .secondary import BinaryComparison
from .summary import TrialResult

__all__ = ["format_summary"]


def _num(x: float | None, digits: int = 2) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{x:.{digits}f}"


def _ci(low: float, high: float, digits: int = 2) -> str:
    return f"[{_num(low, digits)}, {_num(high, digits)}]"


def _nnt(b: BinaryComparison) -> str:
    def label(x: float) -> str:
        return "∞" if not math.isfinite(x) else (f"NNTB {x:.1f}" if x > 0 else f"NNTH {abs(x):.1f}")

    if b.nnt_ci_includes_infinity:
        return f"{label(b.nnt)} (CI {label(b.nnt_ci_low)} to ∞ to {label(b.nnt_ci_high)})"
    return f"{label(b.nnt)} (CI {label(b.nnt_ci_low)} to {label(b.nnt_ci_high)})"


def _estimate(est: Estimate | None, label: str, pct: str) -> str:
    if est is None:
        return f"  {label:<34}not estimable (see notes)"
    df = "" if est.df is None else f", df = {est.df:.1f}"
    return (
        f"  {label:<34}{_num(est.estimate):>7} points, {pct} "
        f"CI {_ci(est.ci_low, est.ci_high)}, p = {_num(est.p_value, 4)}"
        f"  (n = {est.n_participants}{df})"
    )


def _binary(b: BinaryComparison, definition: str, pct: str, e: str, c: str) -> list[str]:
    return [
        f"  {b.outcome.capitalize()} ({definition}): {e} "
        f"{b.events_experimental}/{b.n_experimental}, "
        f"{c} {b.events_control}/{b.n_control}; Fisher p = {_num(b.fisher_p, 4)}",
        f"    risk difference {_num(b.risk_difference, 3)} "
        f"{pct} CI {_ci(b.rd_ci_low, b.rd_ci_high, 3)}; "
        f"{_nnt(b)}",
    ]


def _flow_lines(result: TrialResult) -> list[str]:
    e, c = result.arms
    flow = {a: result.flow[a] for a in result.arms}
    lines = ["Participant flow (CONSORT)", f"  {'':<34}{e:>14}{c:>14}"]

    def row(label: str, key: str) -> None:
        lines.append(f"  {label:<34}" + "".join(f"{flow[a][key]:>14}" for a in result.arms))

    row("Randomised", "randomized")
    for t in result.timepoints:
        lines.append(
            f"  {'Assessed at ' + t:<34}"
            + "".join(f"{flow[a]['assessed'][t]:>14}" for a in result.arms)
        )
    row("Lost to follow-up", "lost_to_follow_up")
    row("Analysed (complete case)", "analyzed")
    row("Analysed, intention to treat", "analysed_itt")
    row("Analysed, per protocol", "analysed_per_protocol")
    extra = result.flow.get("randomized_without_data")
    if extra:
        lines.append(
            f"  Randomised but absent from the table: {extra['n']} "
            f"({', '.join(extra['participants'])})"
        )
    return lines


def _visit_lines(result: TrialResult) -> list[str]:
    if not result.visits:
        return []
    v = result.visits
    lines = ["", "Visits (days after the last treatment session)"]
    lines += [
        f"  {s['name']:<20} target day {s['target_day']:g}, "
        f"window {s['window_low']:g} to {s['window_high']:g}"
        for s in v["schedule"]
    ]
    lines.append(
        "  assessments: " + ", ".join(f"{k} {n}" for k, n in sorted(v["status_counts"].items()))
    )
    for r in v["left_out"]:
        lines.append(
            f"  left out: {r['participant_id']} {r['timepoint']} on day {_num(r['day'], 0)} "
            f"({_num(r['days_after_last_session'], 0)} days "
            f"after the last session): {r['status'].replace('_', ' ')}"
        )
    return lines


def _trajectory_lines(result: TrialResult, pct: str) -> list[str]:
    t = result.trajectory
    if t is None:
        return []
    e, c = result.arms
    lines = [
        "",
        f"Mixed model by visit (random {t.random_effects}; t intervals, {t.df_method})",
        f"  {'visit':<18}{'change ' + e:>22}{'change ' + c:>22}{'difference in reduction':>34}",
    ]
    for v in t.effects:
        ce, cc, d = v.change_experimental, v.change_control, v.effect
        lines.append(
            f"  {v.visit:<18}{_num(ce.estimate, 1) + ' ' + _ci(ce.ci_low, ce.ci_high, 1):>22}"
            f"{_num(cc.estimate, 1) + ' ' + _ci(cc.ci_low, cc.ci_high, 1):>22}"
            f"{_num(d.estimate) + ' ' + _ci(d.ci_low, d.ci_high) + ' df ' + _num(d.df, 1):>34}"
        )
    return lines


def _mean_sd(cell: dict[str, float]) -> str:
    return f"{_num(cell['mean'], 1)} ({_num(cell['sd'], 1)}) [{cell['n']}]"


def _secondary_scale_lines(result: TrialResult, pct: str) -> list[str]:
    e, c = result.arms
    lines: list[str] = []
    for s in (result.secondary or {}).values():
        lines += [
            "",
            f"Secondary endpoint: {s.name} ({s.citation}) at {s.endpoint}, same visit windows"
            + (f"; {s.left_out} rating(s) outside every window left out" if s.left_out else ""),
        ]
        lines.append(f"  {s.name} by arm, mean (SD) [n]")
        lines += [
            f"  {t:<28}" + "".join(f"{_mean_sd(s.descriptives[a][t]):>22}" for a in result.arms)
            for t in s.descriptives[e]
        ]
        if s.scale != "cgi_i":  # CGI-I rates change itself: no baseline to adjust for
            lines.append(_estimate(s.ancova, "ANCOVA, complete cases", pct))
        for label, binaries in (
            ("ITT, not rated = failure", (s.itt_response, s.itt_remission)),
            ("complete cases", (s.response, s.remission)),
        ):
            shown = [(b, s.rules[b.outcome] or "") for b in binaries if b is not None]
            if shown:
                lines.append(f" {label}:")
                lines += [line for b, rule in shown for line in _binary(b, rule, pct, e, c)]
        lines += [f"  note: {n}" for n in s.notes]
    return lines


def format_summary(result: TrialResult) -> str:
    """CONSORT-style plain-text summary of a :class:`TrialResult`."""
    e, c = result.arms
    pct = f"{100 * result.ancova.confidence:g}%"
    lines = [
        f"Trial analysis (tmstarget {__version__}; research use; not a medical device)",
        f"Arms: experimental = {e}, control = {c}; endpoint = {result.timepoint} (named visit)",
        "",
    ]
    lines += _flow_lines(result) + _visit_lines(result)
    if result.analysis_sets:
        lines += ["", "Analysis sets"] + [
            f"  {k.replace('_', '-').upper() if k == 'itt' else 'Per protocol'}: {rule}"
            for k, rule in result.analysis_sets["rules"].items()
        ]
    if result.table1:
        lines += [
            "",
            "Table 1: baseline characteristics",
            f"  {'':<34}" + "".join(f"{a:>18}" for a in result.arms),
        ]
        lines += [
            f"  {row['characteristic']:<34}" + "".join(f"{row[a]:>18}" for a in result.arms)
            for row in result.table1
        ]
    lines += ["", "MADRS by arm, mean (SD) [n]"]
    for t in result.timepoints:
        cells = [result.descriptives[a][t] for a in result.arms]
        lines.append(f"  {t:<28}" + "".join(f"{_mean_sd(s):>22}" for s in cells))
    lines += [
        "",
        f"Primary outcome: MADRS reduction at {result.timepoint}, "
        f"{e} minus {c} (positive favours {e})",
        _estimate(result.mixed_model, "Mixed model, ITT (all visits)", pct),
        _estimate(result.ancova, "ANCOVA, complete cases", pct),
    ]
    if result.imputation:
        lines.append(
            _estimate(result.imputation["estimate"], "ANCOVA after MICE, ITT", pct)
            + f" [m = {result.imputation['imputations']}, seed {result.imputation['seed']}]"
        )
    if result.per_protocol and "ancova" in result.per_protocol:
        lines.append(_estimate(result.per_protocol["ancova"], "ANCOVA, per protocol", pct))
    for es, label in ((result.cohens_d, "Cohen's d"), (result.hedges_g, "Hedges' g")):
        lines.append(f"  {label:<34}{_num(es.estimate):>7}, {pct} CI {_ci(es.ci_low, es.ci_high)}")
    lines += _trajectory_lines(result, pct)
    lines += ["", "Secondary outcomes"]
    groups = [("complete cases", result.response, result.remission)]
    if result.itt:
        groups.insert(
            0, ("ITT, not assessed = failure", result.itt["response"], result.itt["remission"])
        )
    if result.per_protocol and "response" in result.per_protocol:
        groups.append(
            ("per protocol", result.per_protocol["response"], result.per_protocol["remission"])
        )
    for label, resp, rem in groups:
        lines.append(f" {label}:")
        lines += _binary(resp, result.definitions["response"], pct, e, c) + _binary(
            rem, result.definitions["remission"], pct, e, c
        )
    lines += _secondary_scale_lines(result, pct)
    for blind in result.blinding:
        lines += [
            "",
            f"Blinding ({blind.source}): guesses [{e}, {c}, don't know] by actual arm: "
            + "; ".join(
                f"{arm}: {[row[j] for row in blind.counts]}" for j, arm in enumerate(result.arms)
            ),
        ]
        j = blind.james
        lines.append(
            f"  James index {_num(j.estimate)} {pct} CI {_ci(j.ci_low, j.ci_high)} "
            "(0.5 = random guessing; upper limit < 0.5 suggests "
            "unblinding)"
        )
        for b in blind.bang:
            lines.append(
                f"  Bang index, {b.arm}: {_num(b.estimate)} "
                f"{pct} CI {_ci(b.ci_low, b.ci_high)} (0 = "
                "random guessing, 1 = all correct)"
            )
    if result.notes:
        lines += ["", "Notes"] + [f"  - {note}" for note in result.notes]
    return "\n".join(lines) + "\n"
