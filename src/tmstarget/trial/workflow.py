"""Trial workflows as library calls.

They do what ``tmstarget trial randomize``, ``reveal``, ``simulate``, ``analyze`` and ``power`` do.
Each function takes the command's options as keywords, makes the same checks with the same messages,
writes its files together (all or none) and returns what the command prints. The command only parses
and prints.

Examples
--------
>>> from tmstarget.trial.workflow import analyze_trial_files
>>> run = analyze_trial_files(
...     "trial.tsv", report="summary.json", plot="change.svg"
... )  # doctest: +SKIP
>>> run.result.ancova.difference, run.written  # doctest: +SKIP
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..exceptions import InputError
from ..outcomes.madrs import DEFAULT_REMISSION_THRESHOLD

__all__ = [
    "AnalysisRun",
    "analyze_trial_files",
    "check_analysis_options",
    "parse_factors",
    "power_or_size",
    "randomize_to_files",
    "reveal_to_log",
    "secondary_ratings",
    "simulate_table_file",
]

PathLike = str | os.PathLike[str]


def parse_factors(specs: list[str] | None) -> dict[str, list[str]]:
    """``NAME=LEVEL1,LEVEL2`` specifications → {factor: levels} (each factor once)."""
    factors: dict[str, list[str]] = {}
    for spec in specs or []:
        name, sep, levels = spec.partition("=")
        if not sep or not name.strip() or not levels.strip() or name.strip() in factors:
            raise InputError(
                f"--factor {spec!r} — use NAME=LEVEL1,LEVEL2 "
                "once per factor, e.g. --factor severity=moderate,severe"
            )
        factors[name.strip()] = [lvl.strip() for lvl in levels.split(",")]
    return factors


def randomize_to_files(
    concealed: PathLike,
    key: PathLike,
    *,
    per_stratum: int,
    factors: list[str] | None = None,
    arms: list[str] | tuple[str, ...] = ("connectivity", "scalp"),
    ratio: list[int] | None = None,
    block_sizes: list[int] | tuple[int, ...] = (2, 4, 6),
    seed: int | None = None,
    force: bool = False,
) -> Any:
    """Make a blocked, stratified, concealed allocation list and write the list and its key.

    Both files are written, or neither.

    Parameters
    ----------
    concealed, key : path-like
        The concealed list (TSV, for sites) and the key (JSON, secret); existing files are refused
        unless ``force``.
    per_stratum : int
        Slots per stratum.
    factors : list of str, optional
        Stratification factors as ``NAME=LEVEL1,LEVEL2``.
    arms, ratio, block_sizes, seed
        As :func:`~tmstarget.trial.make_allocation` (``seed`` None = fresh, recorded in the key).
    force : bool
        Replace existing outputs.

    Returns
    -------
    Allocation
    """
    from .io import write_allocation
    from .randomization import make_allocation, stratum_labels

    concealed, key = Path(concealed), Path(key)
    if seed is not None and seed < 0:
        raise InputError(
            f"--seed {seed} — give a whole number >= 0, or "
            "leave it out for a fresh seed (recorded in the "
            "key)"
        )
    existing = [str(p) for p in (concealed, key) if p.exists()]
    if existing and not force:
        raise InputError(
            f"{', '.join(existing)} already exist(s) — a new "
            "list would break allocation concealment; pass "
            "--force to replace"
        )
    allocation = make_allocation(
        stratum_labels(parse_factors(factors)),
        per_stratum,
        list(arms),
        ratio,
        list(block_sizes),
        seed,
    )
    write_allocation(allocation, concealed, key)
    return allocation


def reveal_to_log(
    concealed: PathLike,
    key: PathLike,
    participant: str,
    *,
    stratum: str | None = None,
    log: PathLike | None = None,
    expect_head: str | None = None,
) -> tuple[Any, Path]:
    """Reveal the next allocation of a stratum for one participant and append it to the log.

    The list, the key and the log are verified first (:func:`~tmstarget.trial.reveal_next`).

    Parameters
    ----------
    concealed, key : path-like
        The concealed allocation list (TSV) and its key (JSON).
    participant : str
        Participant being randomized.
    stratum : str, optional
        Their stratum label; needed when the list has several strata.
    log : path-like, optional
        Reveal log to read and append to; default ``CONCEALED_reveals.tsv`` next to the list.
    expect_head : str, optional
        Chain head recorded at randomization; a different one is refused.

    Returns
    -------
    tuple of (Reveal, Path)
        The new record and the log it was appended to.

    Raises
    ------
    InputError
        No stratum given for a list with several, a chain head other than ``expect_head``, or
        anything :func:`~tmstarget.trial.reveal_next` refuses (nothing is written then).
    """
    from .io import read_allocation, read_concealed, read_reveals, write_reveals
    from .randomization import reveal_next

    allocation = read_allocation(key)
    log = Path(log) if log else Path(concealed).with_name(Path(concealed).stem + "_reveals.tsv")
    if stratum is None:
        if len(allocation.strata) != 1:
            raise InputError(
                f"the list has {len(allocation.strata)} strata "
                f"— pass --stratum, one of: {', '.join(allocation.strata)}"
            )
        stratum = allocation.strata[0]
    if expect_head and expect_head != allocation.chain_head:
        raise InputError(
            "chain head differs from --expect-head — the "
            "list or key is not the one registered; stop "
            "and audit"
        )
    reveals = read_reveals(log)
    record = reveal_next(allocation, read_concealed(concealed), reveals, participant, stratum)
    write_reveals([*reveals, record], log)
    return record, log


def simulate_table_file(
    out: PathLike,
    *,
    participants: int = 40,
    effect_size: float = 0.8,
    dropout: float = 0.0,
    days: bool = False,
    incomplete: float = 0.0,
    seed: int = 0,
) -> tuple[Any, Any]:
    """Simulate a trial table with the seed study's design and write it as TSV.

    Return (design, table).
    """
    from .io import write_table
    from .simulate import TrialDesign, simulate_trial

    if incomplete and not days:
        raise InputError(
            "--incomplete needs --days (sessions are recorded with the trial clock) — add --days"
        )
    if not 0 <= incomplete < 1:
        raise InputError(
            f"--incomplete {incomplete} — give a probability in [0, 1), e.g. 0.1 for 10%"
        )
    if not 0 <= dropout < 1:
        raise InputError(
            f"--dropout {dropout} — give a probability in "
            "[0, 1), e.g. 0.2 for 20% (not a percentage)"
        )
    if abs(effect_size) > 5:
        raise InputError(
            f"--effect-size {effect_size} — give Cohen's d "
            "(a standardised difference, usually 0.2-1.5), "
            "not points or a percentage"
        )
    design = TrialDesign(
        n_participants=participants,
        effect_size=effect_size,
        dropout=dropout,
        record_days=days,
        incomplete=incomplete,
        day_sd=2.5,
    )
    table = simulate_trial(design, seed=seed)
    write_table(table, out)
    return design, table


def secondary_ratings(specs: list[str]) -> list[tuple[Any, tuple, str]]:
    """``SCALE=PATH`` specifications → (scale, validated ratings, file name), one per scale."""
    from ..io.tables import read_tsv_text
    from ..outcomes.scales import SCALES, parse_scale_table
    from .scale_endpoints import ENDPOINT_SCALES

    out: list[tuple[Any, tuple, str]] = []
    for spec in specs:
        key, sep, path = spec.partition("=")
        key = key.strip().lower()
        if not sep or not path.strip() or key not in ENDPOINT_SCALES:
            raise InputError(
                f"--secondary {spec!r} — give SCALE=PATH with "
                f"SCALE one of {', '.join(ENDPOINT_SCALES)} "
                "(report C-SSRS items with 'tmstarget scale'), e.g. hamd17=hamd.tsv"
            )
        if key in {s.key for s, _, _ in out}:
            raise InputError(
                f"--secondary {key} given twice — give each scale once (one table per scale)"
            )
        name = Path(path.strip()).name
        out.append(
            (
                SCALES[key],
                parse_scale_table(read_tsv_text(path.strip(), "rating table"), key, source=name),
                name,
            )
        )
    return out


def _check_secondary_labels(
    secondary: list[tuple[Any, tuple, str]], baseline: str
) -> list[tuple[Any, tuple, str]]:
    """Refuse a secondary scale whose ratings have no trial-baseline label.

    Otherwise it would read as "ratings from 0 arms".
    """
    for scale, ratings, name in secondary:
        labels = list(dict.fromkeys(r.timepoint for r in ratings))
        if scale.key != "cgi_i" and baseline not in labels:
            raise InputError(
                f"{name}: no {baseline!r} rating (timepoints: "
                f"{', '.join(labels[:6])}) — label the {scale.name} "
                f"baseline ratings {baseline!r} as in the trial table (labels are case-sensitive)"
            )
    return secondary


def check_analysis_options(
    *,
    response_pct: float,
    remission_threshold: float,
    confidence: float,
    imputations: int,
    pp_min_sessions: int | None,
    planned_sessions: int | None,
    screened: int | None,
) -> None:
    """Refuse option values that would run but mean something other than intended.

    The check comes before any file is read.
    """
    if not 1 < response_pct <= 100:
        hint = (
            " — a percentage is expected: 50 means a 50% reduction" if 0 < response_pct <= 1 else ""
        )
        raise InputError(
            "--response-pct "
            f"{response_pct:g}{hint or ' — give the reduction from baseline in percent'} "
            "(in (1, 100], e.g. 50)"
        )
    if not (float(remission_threshold).is_integer() and 0 <= remission_threshold <= 60):
        raise InputError(
            f"--remission-threshold {remission_threshold:g} "
            "— give a MADRS total, a whole number 0-60, e.g. "
            "10 "
            "(remission = MADRS <= 10)"
        )
    if not 0.5 < confidence < 1:
        hint = " as a fraction (95% is 0.95)" if 50 < confidence < 100 else ""
        raise InputError(
            f"--confidence {confidence:g} — give a confidence "
            f"level between 0.5 and 1{hint}, e.g. 0.95"
        )
    if imputations < 0 or imputations == 1:
        raise InputError(
            f"--imputations {imputations} — give 0 (skip) or at least 2 (20 or more is usual)"
        )
    if pp_min_sessions is not None and pp_min_sessions < 1:
        raise InputError(
            f"--pp-min-sessions {pp_min_sessions} — give at "
            "least 1 session (default: 80% of the planned "
            "sessions)"
        )
    if (
        pp_min_sessions is not None
        and planned_sessions is not None
        and pp_min_sessions > planned_sessions
    ):
        raise InputError(
            f"--pp-min-sessions {pp_min_sessions} is more "
            f"than the {planned_sessions} planned sessions "
            "(--planned-sessions) — nobody could be per protocol; give at most the planned number"
        )
    if screened is not None and screened < 1:
        raise InputError(
            f"--screened {screened} — give the number of people "
            "assessed for eligibility (at least the number "
            "randomised)"
        )


@dataclass(frozen=True)
class AnalysisRun:
    """What :func:`analyze_trial_files` computed and wrote.

    It holds the result, its text and JSON, and the files written.
    """

    result: Any
    text: str
    payload: str
    written: tuple[Path, ...]


def analyze_trial_files(
    data: PathLike,
    *,
    endpoint: str = "month1",
    visits: list[str] | None = None,
    baseline: str = "baseline",
    timepoints: list[str] | None = None,
    experimental: str | None = None,
    response_pct: float = 50.0,
    remission_threshold: float = float(DEFAULT_REMISSION_THRESHOLD),
    confidence: float = 0.95,
    allocation: PathLike | None = None,
    pp_min_sessions: int | None = None,
    planned_sessions: int | None = None,
    imputations: int = 20,
    seed: int = 0,
    secondary: list[str] | None = None,
    random_slope: bool = True,
    screened: int | None = None,
    report: PathLike | None = None,
    plot: PathLike | None = None,
    consort: PathLike | None = None,
    visit_table: PathLike | None = None,
) -> AnalysisRun:
    """Analyse a trial table at a named endpoint visit and write the requested files (all or none).

    Parameters
    ----------
    data : path-like
        Long-format trial table (``tmstarget trial analyze --help`` lists the columns).
    endpoint : str
        Endpoint visit, by name.
    visits : list of str, optional
        Visit windows ``NAME:DAY:WINDOW`` or ``NAME:DAY:BEFORE:AFTER``; None = the default schedule.
    baseline, timepoints, experimental
        Baseline label, timepoint order and experimental arm (None = as in the table).
    response_pct, remission_threshold, confidence
        Response = reduction >= ``response_pct`` % of baseline; remission = MADRS <=
        ``remission_threshold``.
    allocation : path-like, optional
        Allocation record (e.g. the reveal log) every participant must be in, in the same arm.
    pp_min_sessions, planned_sessions, imputations, seed, random_slope, screened
        Per-protocol rule, MICE imputations (0 = skip) and their seed, mixed-model slope, CONSORT's
        screened count.
    secondary : list of str, optional
        Secondary endpoints as ``SCALE=RATINGS.tsv``.
    report, plot, consort, visit_table : path-like, optional
        Files to write: the summary (JSON if it ends in .json), the change-by-visit figure, the
        CONSORT diagram (.svg or .png), the assessments with their visits.

    Returns
    -------
    AnalysisRun

    Raises
    ------
    InputError
        A bad option, table or rating file; a file asked for that cannot be made (nothing is written
        then).
    """
    from .._utils.figures import figure_format
    from ..io.derivatives import write_files_atomic
    from ..visits import VisitSchedule, parse_visit
    from .data import check_allocation, validate_trial_table
    from .io import read_allocation_record, read_trial_table, table_to_tsv, to_json
    from .summary import analyze_trial
    from .text import format_summary

    check_analysis_options(
        response_pct=response_pct,
        remission_threshold=remission_threshold,
        confidence=confidence,
        imputations=imputations,
        pp_min_sessions=pp_min_sessions,
        planned_sessions=planned_sessions,
        screened=screened,
    )
    schedule = VisitSchedule(tuple(parse_visit(v) for v in visits)) if visits else None
    plot_format = figure_format(plot, "--plot") if plot else None
    consort_format = figure_format(consort, "--consort") if consort else None
    trial = validate_trial_table(
        read_trial_table(data), baseline, timepoints, experimental, schedule
    )
    not_assessed = check_allocation(trial, read_allocation_record(allocation)) if allocation else []
    result = analyze_trial(
        trial,
        endpoint,
        response_pct / 100.0,
        remission_threshold,
        confidence,
        not_assessed,
        min_sessions=pp_min_sessions,
        planned_sessions=planned_sessions,
        imputations=imputations,
        seed=seed,
        random_slope=random_slope,
        screened=screened,
        secondary=_check_secondary_labels(secondary_ratings(secondary or []), trial.baseline),
    )
    text, payload = format_summary(result), to_json(result.to_dict())
    outputs: list[tuple[Path, str | bytes]] = []
    if report:
        outputs.append((Path(report), payload if str(report).endswith(".json") else text))
    if plot:
        from ..outcomes.plot import change_by_visit_svg
        from .longitudinal import effects_table

        if result.trajectory is None:
            raise InputError(
                "--plot needs the mixed model, which could "
                "not be fitted (see the notes) — drop --plot"
            )
        days = {v["name"]: v["target_day"] for v in (result.visits or {}).get("schedule", [])}
        outputs.append(
            (
                Path(plot),
                change_by_visit_svg(
                    effects_table(result.trajectory),
                    list(result.arms),
                    days,
                    confidence=result.trajectory.confidence,
                    fmt=plot_format,
                ),
            )
        )
    if consort:
        from .consort import consort_figure

        outputs.append((Path(consort), consort_figure(result.consort, consort_format)))
    if visit_table:
        if trial.assessments is None:
            raise InputError(
                "--visit-table needs a table with 'day' and "
                "'last_session_day' columns — add them or "
                "drop --visit-table"
            )
        outputs.append((Path(visit_table), table_to_tsv(trial.assessments)))
    written = write_files_atomic(
        outputs
    )  # all or none, and a file replaced is never lost when a later one fails
    return AnalysisRun(result=result, text=text, payload=payload, written=tuple(written))


def power_or_size(
    effect_size: float,
    *,
    participants: int | None = None,
    power: float | None = None,
    alpha: float = 0.05,
    baseline_correlation: float = 0.0,
) -> Any:
    """Power for a trial size, or the size for a target power (two-sided t-test).

    Exactly one of ``participants`` and ``power`` is given.

    Parameters
    ----------
    effect_size : float
        Cohen's d to detect.
    participants : int, optional
        Total participants, split equally (the experimental arm takes the odd one): gives the power.
    power : float, optional
        Target power: gives the smallest equal-arm trial reaching it.
    alpha : float
        Two-sided type I error rate.
    baseline_correlation : float
        Baseline-outcome correlation credited to ANCOVA.

    Returns
    -------
    PowerResult
        As :func:`~tmstarget.trial.power_two_arm` or :func:`~tmstarget.trial.sample_size`.

    Raises
    ------
    InputError
        Neither or both of ``participants`` and ``power``, or fewer than 4 participants.
    """
    from .power import power_two_arm, sample_size

    if (participants is None) == (power is None):
        raise InputError(
            "neither or both of --participants and --power "
            "were given — give exactly one: --participants "
            "(to get power) or --power (to get the sample "
            "size)"
        )
    if participants is not None:
        if participants < 4:
            raise InputError(f"--participants {participants} — give at least 4 (2 per arm)")
        n_exp = (participants + 1) // 2
        return power_two_arm(
            effect_size, n_exp, (participants - n_exp) / n_exp, alpha, baseline_correlation
        )
    return sample_size(effect_size, power, 1.0, alpha, baseline_correlation)
