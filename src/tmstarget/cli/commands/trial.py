"""``tmstarget trial``: randomize, reveal, simulate, analyze, power."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from ...exceptions import InputError
from .._common import (
    deprecated_alias,
    finite_float,
    list_written,
    nonneg_int,
    output_file,
    positive_int,
)
from ..parser import HelpFormatter

logger = logging.getLogger("tmstarget.cli.trial")

TABLE_HELP = """\
Input table (tab-separated, long format: one row per participant and timepoint):
  participant_id   participant label
  arm              allocated arm; exactly two arms, constant within a participant
  timepoint        assessment label, e.g. baseline, week1, month1
  madrs_total      MADRS total 0-60; empty or NA for a missed visit
  stratum*         optional stratification columns (constant within a participant;
                   adjusted for in the ANCOVA and the mixed model)
  guess*           optional blinding guesses (e.g. guess_participant, guess_rater):
                   an arm name or dont_know; each participant's last guess counts
  day              optional: assessment day on the trial clock (e.g. days since
                   randomization); with it, follow-ups are assigned to --visit windows
  last_session_day day of the participant's last treatment session (needed with day)
  sessions_received optional: sessions received (per-protocol rule)

With days, a follow-up belongs to the visit whose window contains (day -
last_session_day); a row labelled with a visit's name (e.g. week1) counts only at
that visit. Outside its window it is listed as out of window and left out; two in
one window: the one closest to the target day counts. Windows may not overlap or
reach a neighbouring visit's target day. The endpoint
is a named visit (--endpoint, default month1 = day 28 +/- 3 after the last session).
ITT = everyone randomized with a baseline, as allocated (binary outcomes: not
assessed at the endpoint = failure); per protocol = enough sessions and the
endpoint assessed within its window.

Every participant needs a baseline score; a participant may appear only once per
timepoint. Differences are experimental minus control in MADRS reduction (baseline
minus follow-up), so positive values favour the experimental arm. The experimental
arm is the arm of the first row unless --experimental is given.

Example:
  participant_id  arm           timepoint  madrs_total  stratum            guess_participant
  sub-01          connectivity  baseline   33           severity=moderate
  sub-01          connectivity  week1      26           severity=moderate
  sub-01          connectivity  month1     15           severity=moderate  connectivity
"""


def _emit_json(obj: dict[str, object]) -> None:
    from ...trial.io import jsonable
    from .._common import print_json

    print_json(jsonable(obj))


def run_randomize(args: argparse.Namespace) -> int:
    """Write a concealed allocation list and its key.

    See :func:`tmstarget.trial.workflow.randomize_to_files`.
    """
    from ...trial.workflow import randomize_to_files

    concealed, key = Path(args.concealed), Path(args.key)
    allocation = randomize_to_files(
        concealed,
        key,
        per_stratum=args.per_stratum,
        factors=args.factor,
        arms=args.arms,
        ratio=args.ratio,
        block_sizes=args.block_sizes,
        seed=args.seed,
        force=args.force,
    )
    summary = {
        "concealed": str(concealed),
        "key": str(key),
        "strata": list(allocation.strata),
        "entries": len(allocation.entries),
        "arms": list(allocation.arms),
        "chain_head": allocation.chain_head,
    }
    if args.json:
        _emit_json(summary)
    else:
        logger.info("%d slots in %d strata", len(allocation.entries), len(allocation.strata))
        logger.info(
            "chain head %s — record it publicly; keep the key and its seed secret",
            allocation.chain_head,
        )
    list_written([concealed, key], log=True)
    return 0


def run_reveal(args: argparse.Namespace) -> int:
    """Reveal the next allocation of a stratum for one participant and append it to the log."""
    from dataclasses import asdict

    from ...trial import reveal_next
    from ...trial.io import read_allocation, read_concealed, read_reveals, write_reveals

    allocation = read_allocation(args.key)
    log = (
        Path(args.log)
        if args.log
        else Path(args.concealed).with_name(Path(args.concealed).stem + "_reveals.tsv")
    )
    stratum = args.stratum
    if stratum is None:
        if len(allocation.strata) != 1:
            raise InputError(
                f"the list has {len(allocation.strata)} strata "
                f"— pass --stratum, one of: {', '.join(allocation.strata)}"
            )
        stratum = allocation.strata[0]
    if args.expect_head and args.expect_head != allocation.chain_head:
        raise InputError(
            "chain head differs from --expect-head — the "
            "list or key is not the one registered; stop "
            "and audit"
        )
    reveals = read_reveals(log)
    record = reveal_next(
        allocation, read_concealed(args.concealed), reveals, args.participant, stratum
    )
    write_reveals([*reveals, record], log)
    if args.json:
        _emit_json({**asdict(record), "log": str(log)})
    else:
        sys.stdout.write(
            f"{record.participant_id}: {record.arm} (stratum "
            f"{record.stratum}, slot {record.position}, sequence "
            f"{record.sequence})\n"
        )
    list_written([log], args.json)
    return 0


def run_simulate(args: argparse.Namespace) -> int:
    """Simulate a trial table with the seed study's design.

    See :func:`tmstarget.trial.workflow.simulate_table_file`.
    """
    from ...trial.workflow import simulate_table_file

    design, table = simulate_table_file(
        args.out,
        participants=args.participants,
        effect_size=args.effect_size,
        dropout=args.dropout,
        days=args.days,
        incomplete=args.incomplete,
        seed=args.seed,
    )
    if args.json:
        _emit_json(
            {
                "path": str(args.out),
                "participants": design.n_participants,
                "rows": len(table),
                "seed": args.seed,
                "effect_size": design.effect_size,
                "arms": list(design.arms),
                "timepoints": list(design.timepoints),
            }
        )
    else:
        logger.info(
            "%d participants, %d rows (seed %d)", design.n_participants, len(table), args.seed
        )
    list_written([args.out], log=True)
    return 0


def run_analyze(args: argparse.Namespace) -> int:
    """Analyse a trial table and print the summary or JSON.

    See :func:`tmstarget.trial.workflow.analyze_trial_files`.
    """
    from ..._utils.progress import spinner
    from ...trial.workflow import analyze_trial_files

    with spinner("analysing the trial"):
        run = analyze_trial_files(
            args.data,
            endpoint=args.endpoint,
            visits=args.visit,
            baseline=args.baseline,
            timepoints=args.timepoints,
            experimental=args.experimental,
            response_pct=args.response_pct,
            remission_threshold=args.remission_threshold,
            confidence=args.confidence,
            allocation=args.allocation,
            pp_min_sessions=args.pp_min_sessions,
            planned_sessions=args.planned_sessions,
            imputations=args.imputations,
            seed=args.seed,
            secondary=args.secondary,
            random_slope=not args.no_random_slope,
            screened=args.screened,
            report=args.report,
            plot=args.plot,
            consort=args.consort,
            visit_table=args.visit_table,
        )
    sys.stdout.write(run.payload if args.json else run.text)
    list_written(run.written, args.json)
    return 0


def run_power(args: argparse.Namespace) -> int:
    """Power for a given size, or the size for a given power."""
    from dataclasses import asdict

    from ...trial import power_two_arm, sample_size

    if (args.participants is None) == (args.power is None):
        raise InputError(
            "neither or both of --participants and --power "
            "were given — give exactly one: --participants "
            "(to get power) or --power (to get the sample "
            "size)"
        )
    if args.participants is not None:
        if args.participants < 4:
            raise InputError(f"--participants {args.participants} — give at least 4 (2 per arm)")
        n_exp = (args.participants + 1) // 2
        result = power_two_arm(
            args.effect_size,
            n_exp,
            (args.participants - n_exp) / n_exp,
            args.alpha,
            args.baseline_correlation,
        )
    else:
        result = sample_size(
            args.effect_size, args.power, 1.0, args.alpha, args.baseline_correlation
        )
    if args.json:
        _emit_json({**asdict(result), "n_total": result.n_total})
    else:
        sys.stdout.write(
            f"d = {result.effect_size:g}, alpha = {result.alpha:g} "
            f"(two-sided), baseline correlation = {result.baseline_correlation:g}: "
            f"{result.n_experimental} + {result.n_control} "
            f"= {result.n_total} participants give power {result.power:.3f}\n"
        )
    return 0


def _json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object on stdout and nothing else"
    )


def add_parser(
    subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]
) -> None:
    """Register ``tmstarget trial`` and its actions."""
    from ...outcomes.defaults import DEFAULT_REMISSION_THRESHOLD

    trial = subparsers.add_parser(
        "trial",
        parents=parents,
        formatter_class=HelpFormatter,
        help="Trial design and analysis: randomize, reveal, simulate, analyze, power",
        description="Randomised-trial tools for connectivity-guided "
        "vs scalp-based TMS (research use; not a medical "
        "device).",
    )
    actions = trial.add_subparsers(dest="trial_action", metavar="ACTION", parser_class=type(trial))
    actions.required = True

    def action(
        name: str, help_text: str, func, epilog: str | None = None
    ) -> argparse.ArgumentParser:
        p = actions.add_parser(
            name,
            parents=parents,
            help=help_text,
            description=help_text,
            epilog=epilog,
            formatter_class=HelpFormatter,
        )
        p.set_defaults(func=func)
        _json_flag(p)
        return p

    p = action(
        "randomize",
        "Write a blocked, stratified, concealed allocation list and its key",
        run_randomize,
        "The concealed list (for sites) shows salted SHA-256 "
        "commitments and a hash chain, never arms.\n"
        "The key (arms, salts, seed) goes to whoever reveals allocations; keep it secret.\n"
        "Example: tmstarget trial randomize alloc.tsv --key alloc_key.json --per-stratum 40 \\\n"
        "           --factor severity=moderate,severe --seed 7",
    )
    p.add_argument(
        "concealed",
        type=output_file,
        metavar="CONCEALED.tsv",
        help="concealed allocation list to write",
    )
    p.add_argument(
        "--key",
        type=output_file,
        required=True,
        metavar="KEY.json",
        help="allocation key to write (secret)",
    )
    p.add_argument(
        "--per-stratum",
        type=int,
        required=True,
        metavar="N",
        help="slots per stratum (the most any stratum may enrol)",
    )
    p.add_argument(
        "--factor",
        action="append",
        metavar="NAME=L1,L2",
        help="stratification factor (repeat to cross factors)",
    )
    p.add_argument("--arms", nargs="+", default=["connectivity", "scalp"], help="arm names")
    p.add_argument(
        "--ratio",
        nargs="+",
        type=int,
        default=None,
        help="allocation ratio per arm (default equal)",
    )
    p.add_argument(
        "--block-sizes", nargs="+", type=int, default=[2, 4, 6], help="block sizes drawn at random"
    )
    p.add_argument(
        "--seed",
        type=int,
        default=None,
        help="random seed, a whole number >= 0 (default: fresh, recorded in the key)",
    )
    p.add_argument("--force", action="store_true", help="replace existing outputs")

    p = action(
        "reveal",
        "Reveal the next allocation for one participant (verifies list, key and log first)",
        run_reveal,
    )
    p.add_argument(
        "concealed", type=Path, metavar="CONCEALED.tsv", help="concealed allocation list"
    )
    p.add_argument("--key", type=Path, required=True, metavar="KEY.json", help="allocation key")
    p.add_argument("--participant", required=True, metavar="ID", help="participant to randomize")
    p.add_argument(
        "--stratum",
        default=None,
        metavar="LABEL",
        help="their stratum, e.g. severity=severe (needed with several strata)",
    )
    p.add_argument(
        "--log",
        type=Path,
        default=None,
        metavar="LOG.tsv",
        help="reveal log (default: CONCEALED_reveals.tsv)",
    )
    p.add_argument(
        "--expect-head",
        default=None,
        metavar="HEX",
        help="chain head recorded at randomization, checked before revealing",
    )

    p = action(
        "simulate",
        "Simulate a trial table with the seed study's design",
        run_simulate,
        "40 adults with TRD, connectivity-guided vs scalp-based, "
        "MADRS at baseline, week1, month1,\n"
        "true Cohen's d of the 1-month reduction = --effect-size; stratified blocked allocation.",
    )
    p.add_argument("out", type=output_file, metavar="OUT.tsv", help="table to write")
    p.add_argument("--participants", type=int, default=40, help="participants randomised")
    p.add_argument(
        "--effect-size",
        type=finite_float,
        default=0.8,
        help="true Cohen's d (experimental minus control reduction)",
    )
    p.add_argument(
        "--dropout", type=float, default=0.0, help="probability of missing the final visit"
    )
    p.add_argument(
        "--days",
        action="store_true",
        help="add day, last_session_day and sessions_received "
        "columns (follow-ups scattered around their target "
        "day)",
    )
    p.add_argument(
        "--incomplete",
        type=float,
        default=0.0,
        help="with --days: probability of stopping treatment early",
    )
    p.add_argument("--seed", type=nonneg_int, default=0, help="random seed (a whole number >= 0)")

    p = action(
        "analyze",
        "Analyse a trial table at a named endpoint visit: "
        "ITT and per-protocol sets, mixed model by visit "
        "(Satterthwaite df), ANCOVA, MICE sensitivity, "
        "effect sizes, response, remission, blinding, CONSORT, "
        "Table 1",
        run_analyze,
        TABLE_HELP,
    )
    p.add_argument(
        "data", type=Path, metavar="DATA.tsv", help="long-format trial table (see below)"
    )
    p.add_argument(
        "--endpoint",
        "--timepoint",
        dest="endpoint",
        default="month1",
        metavar="VISIT",
        help="endpoint visit, by name (never the last row)",
    )
    p.add_argument(
        "--visit",
        action="append",
        default=None,
        metavar="NAME:DAY:WINDOW",
        help="follow-up visit with target day and window after "
        "the last treatment session, e.g. month1:28:3 "
        "or end_of_treatment:0:0:3 (NAME:DAY:BEFORE:AFTER); repeat; replaces the default schedule "
        "end_of_treatment:0:0:3, week1:7:2, month1:28:3, month3:84:7 (used with a 'day' column)",
    )
    p.add_argument("--baseline", default="baseline", help="label of the baseline timepoint")
    p.add_argument(
        "--timepoints",
        nargs="+",
        default=None,
        metavar="LABEL",
        help="timepoint order, baseline first (default: as they appear)",
    )
    p.add_argument(
        "--experimental",
        default=None,
        metavar="ARM",
        help="experimental arm (default: the first row's arm)",
    )
    p.add_argument(
        "--response-pct",
        type=float,
        default=50.0,
        help="response = MADRS reduction of at least this %% of baseline",
    )
    p.add_argument(
        "--remission-threshold",
        "--remission-max",
        action=deprecated_alias("--remission-max"),
        type=float,
        default=float(DEFAULT_REMISSION_THRESHOLD),
        metavar="N",
        help="remission = MADRS at or below this score (as 'tmstarget madrs')",
    )
    p.add_argument(
        "--confidence", type=float, default=0.95, help="confidence level of every interval"
    )
    p.add_argument(
        "--allocation",
        type=Path,
        default=None,
        metavar="LOG.tsv",
        help="allocation record (e.g. the reveal log): every "
        "participant must be in it, in the same arm",
    )
    p.add_argument(
        "--report",
        type=output_file,
        default=None,
        metavar="FILE",
        help="also write the summary here (JSON if FILE ends in .json)",
    )
    p.add_argument(
        "--pp-min-sessions",
        type=int,
        default=None,
        metavar="N",
        help="per protocol: at least N sessions received (default: 80%% of --planned-sessions)",
    )
    p.add_argument(
        "--planned-sessions",
        type=positive_int,
        default=None,
        metavar="N",
        help="sessions planned per participant (default: the most anyone received)",
    )
    p.add_argument(
        "--imputations",
        type=int,
        default=20,
        metavar="M",
        help="MICE sensitivity analysis with M imputations (0 = skip)",
    )
    p.add_argument(
        "--seed",
        type=nonneg_int,
        default=0,
        help="seed of the multiple imputation (a whole number >= 0)",
    )
    p.add_argument(
        "--secondary",
        action="append",
        default=None,
        metavar="SCALE=RATINGS.tsv",
        help="another scale as a secondary endpoint (hamd17, "
        "qids_sr16, cgi_s or cgi_i; item table as for 'tmstarget "
        "scale'): "
        "ANCOVA (not CGI-I) and response/remission (ITT "
        "and complete cases) at the endpoint, same visit "
        "windows (repeatable)",
    )
    p.add_argument(
        "--no-random-slope", action="store_true", help="mixed model with a random intercept only"
    )
    p.add_argument(
        "--plot",
        type=output_file,
        default=None,
        metavar="FILE",
        help="write the mean change per visit by arm (.svg or .png)",
    )
    p.add_argument(
        "--consort",
        type=output_file,
        default=None,
        metavar="FILE.svg|png",
        help="write the CONSORT flow diagram",
    )
    p.add_argument(
        "--screened",
        type=int,
        default=None,
        metavar="N",
        help="participants assessed for eligibility (CONSORT)",
    )
    p.add_argument(
        "--visit-table",
        type=output_file,
        default=None,
        metavar="FILE.tsv",
        help="write every assessment with its assigned visit and window status",
    )

    p = action(
        "power",
        "Power for a trial size, or the size for a target power (two-sided t-test)",
        run_power,
    )
    p.add_argument("--effect-size", type=float, required=True, help="Cohen's d to detect")
    p.add_argument(
        "--participants",
        type=int,
        default=None,
        help="total participants, split equally (gives power)",
    )
    p.add_argument("--power", type=float, default=None, help="target power (gives the sample size)")
    p.add_argument("--alpha", type=float, default=0.05, help="two-sided type I error rate")
    p.add_argument(
        "--baseline-correlation",
        type=float,
        default=0.0,
        help="baseline-outcome correlation credited to ANCOVA",
    )
