"""``tmstarget trial analyze``: a trial table at a named endpoint visit."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..._common import deprecated_alias, list_written, nonneg_int, output_file, positive_int
from ..._help import HELP
from ._shared import TABLE_HELP, add_action


def run_analyze(args: argparse.Namespace) -> int:
    """Analyse a trial table and print the summary or JSON.

    See :func:`tmstarget.trial.workflow.analyze_trial_files`.
    """
    from ...._utils.progress import spinner
    from ....trial.workflow import analyze_trial_files

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


def add_analyze(
    actions: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]
) -> None:
    """Register ``tmstarget trial analyze``."""
    from ....outcomes.defaults import DEFAULT_REMISSION_THRESHOLD

    p = add_action(
        actions,
        parents,
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
        help=HELP["endpoint"] + ": a visit name (never simply the last row)",
    )
    p.add_argument(
        "--visit",
        action="append",
        default=None,
        metavar="NAME:DAY:WINDOW",
        help=HELP["visit"]
        + "; or NAME:DAY:BEFORE:AFTER, e.g. end_of_treatment:0:0:3; the default schedule is "
        "end_of_treatment:0:0:3, week1:7:2, month1:28:3, month3:84:7 (used with a 'day' column)",
    )
    p.add_argument("--baseline", default="baseline", help=HELP["baseline"])
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
        help=HELP["remission-threshold"],
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
        help=HELP["seed"] + "; for the multiple imputation",
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
        help=HELP["plot"] + ": the mean change per visit by arm",
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
