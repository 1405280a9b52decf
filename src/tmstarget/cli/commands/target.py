"""``tmstarget target``: connectivity-guided DLPFC targets.

One target for each participant of an fMRIPrep dataset.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from ...targeting import defaults
from ...targeting.methods import METHODS
from .._common import (
    SPACE_CHOICES,
    add_cleaning_arguments,
    add_dask_arguments,
    add_selection_arguments,
    add_surface_mesh_argument,
    cleaning_options,
    list_written,
    nonneg_int,
    positive_float,
    print_json,
)
from .._help import HELP

logger = logging.getLogger("tmstarget")

#: The methods whose resamples cost more (registry cost class ``slow``): fewer default resamples.
_SLOW = " and ".join(name for name, m in METHODS.items() if m.cost == "slow")

DESCRIPTION = f"""\
Pick the left-DLPFC point whose connectivity best matches a depression circuit, from resting-state
runs preprocessed by fMRIPrep (MNI152NLin6Asym or MNI152NLin2009cAsym space). Research use; not a
medical device.

BIDS-App form:   tmstarget target FMRIPREP_DIR OUT_DIR participant
                     [--participant-label L ...] [--session S]
                 tmstarget target FMRIPREP_DIR OUT_DIR group
                     (cohort table of the targets in OUT_DIR)
Explicit files:  tmstarget target OUT_DIR --bold RUN1 [--bold RUN2]
                     --confounds TSV1 [--confounds TSV2] --mask MASK

Cohorts: without --participant-label every participant (and every session) is targeted, in parallel
on a local Dask cluster (--n-workers, default one per core) or on an existing one (--scheduler
ADDRESS). A participant's failure is reported on one line and the others go on (exit code 2 at the
end). Participants whose target JSON already exists with the same parameters are skipped, so a
killed run resumes (--rerun recomputes). The 'group' level writes
OUT/group_desc-<circuit>_targets.tsv.

Surfaces: --space fsaverage5 uses fMRIPrep's *_hemi-L/R_space-fsaverage5_bold.func.gii; --space fsLR
the *_space-fsLR_den-91k_bold.dtseries.nii (CIFTI; cortical vertices need --surface-mesh, see
docs/surface.md).

Circuits (--circuit): 'sgacc' (built in: the individual's anticorrelation with a 10 mm sphere at MNI
(6, 16, -10)); 'convergent' (the group convergent depression circuit, downloaded once and
checksummed; set TMSTARGET_DATA to choose the cache); or a path to any group map in MNI space. Sign
convention: POSITIVE values = the end of the circuit to stimulate (sgACC negative).

Methods (--method): 'robust' (default) averages the seed score (anticorrelation with the sgACC seed,
or correlation with the circuit-weighted seed for a map) over a 6 mm neighbourhood and refines the
best point to the score-weighted centre; 'similarity' takes the single best voxel of the circuit
similarity map (each voxel's whole-brain connectivity map correlated with the circuit map; the
trial's method); 'seedmap' the single best voxel of the seed score (Fox 2012/2013); 'cluster' the
centre of gravity of the largest connected patch of the top 10% seed scores (contarg; on volumes and
surfaces, vertices weighted by area); 'hierarchical' SNT/SAINT-style clustering of DLPFC time
courses; 'shrinkage' the robust score pulled towards the group target (the circuit map's optimum, or
for sgacc Fox 2012's (-38, 44, 26) or --group-target) by an empirical-Bayes weight from its
split-half noise.

Confidence (default on): {defaults.N_BOOTSTRAP} block-bootstrap resamples
({defaults.N_BOOTSTRAP_SLOW} for {_SLOW}) give the radius of the target's 95% confidence region
(about +10-20% on a run with robust, seedmap or cluster; see docs/reliability.md for {_SLOW}) and a
one-line verdict, e.g. "95% region radius 3.1 mm: reliable (<= 5 mm)" or "... not reliable at 7.6
min; about 60 minutes would be needed for 5 mm (extrapolated ...)"; 5 mm is tmstarget's policy
(docs/reliability.md). --bootstrap 0 turns it off.

Outputs (BIDS derivatives): OUT/dataset_description.json,
OUT/sub-L/[ses-S/]sub-L[_ses-S]_desc-<circuit>_target.json (with confidence_radius_mm and
reliability_verdict) and ..._desc-<circuit>_score.nii.gz. --json prints the target JSON to
stdout."""


def add_parser(subparsers, parents) -> None:
    """Register ``target``."""
    from ..parser import HelpFormatter

    p = subparsers.add_parser(
        "target",
        parents=parents,
        help="connectivity-guided DLPFC target from fMRIPrep outputs",
        description=DESCRIPTION,
        formatter_class=HelpFormatter,
    )
    p.add_argument(
        "paths",
        nargs="*",
        metavar="FMRIPREP_DIR OUT_DIR participant|group",
        help="fMRIPrep folder, output folder and analysis level 'participant' or 'group' "
        "(or just OUT_DIR with --bold)",
    )
    g = p.add_argument_group("inputs")
    g.add_argument(
        "--participant-label",
        nargs="+",
        metavar="L",
        help=HELP["participant-label"] + "; one or more (default: all participants)",
    )
    g.add_argument("--session", metavar="S", help=HELP["session"] + "; each its own target")
    g.add_argument("--task", default="rest", help=HELP["task"])
    g.add_argument(
        "--space",
        choices=SPACE_CHOICES,
        help=HELP["space"],
    )
    g.add_argument(
        "--bold",
        action="append",
        type=Path,
        metavar="PATH",
        help="explicit BOLD run in MNI space (repeat for several runs)",
    )
    g.add_argument(
        "--confounds",
        action="append",
        type=Path,
        metavar="TSV",
        help="fMRIPrep-style confounds TSV of each --bold run, same order",
    )
    g.add_argument(
        "--mask", type=Path, metavar="PATH", help="brain mask on the BOLD grid (with --bold)"
    )
    add_surface_mesh_argument(g)
    g.add_argument(
        "--t-r",
        type=positive_float,
        metavar="S",
        help=HELP["t-r"],
    )
    c = p.add_argument_group("circuit and selection")
    add_selection_arguments(c, group_target=True)
    add_cleaning_arguments(p.add_argument_group("cleaning"))
    r = p.add_argument_group("cohorts, confidence and reports")
    add_dask_arguments(r)
    r.add_argument(
        "--rerun",
        action="store_true",
        help="recompute participants whose target already exists with the same parameters",
    )
    r.add_argument(
        "--bootstrap",
        type=nonneg_int,
        metavar="N",
        help=HELP["bootstrap"] + " for the 95%% confidence radius and the reliability "
        f"verdict; 0 = off (default: {defaults.N_BOOTSTRAP}; {defaults.N_BOOTSTRAP_SLOW} for "
        f"--method {_SLOW}, whose resamples cost more)",
    )
    if _report_available():
        r.add_argument(
            "--report",
            action="store_true",
            help="write each participant's HTML report (and the cohort report at the group level)",
        )
    p.add_argument(
        "--json",
        action="store_true",
        help="print the target JSON (a list for several participants; the table summary for "
        "'group') to stdout",
    )
    p.set_defaults(func=run)


def _report_available() -> bool:
    """Return whether the HTML report package is installed (not imported: fast ``--help``)."""
    import importlib.util

    return importlib.util.find_spec("tmstarget.report") is not None


def _options(args):
    """Build the command line's checked ``TargetingOptions`` (the band-pass edges first)."""
    from ...targeting.options import targeting_options

    return targeting_options(
        args.circuit,
        circuit_label=args.circuit_label,
        method=args.method,
        neighbourhood_mm=args.neighbourhood_mm,
        t_r=args.t_r,
        search_mask=args.search_mask,
        bootstrap=args.bootstrap,
        group_target=args.group_target,
        placement_error_mm=args.placement_error_mm,
        placement_error_deg=args.placement_error_deg,
        **cleaning_options(args),
    )


def _group(args, out: Path, options) -> int:
    from ...cohort import circuit_label, write_group_table

    path, summary = write_group_table(out, circuit_label(options), args.participant_label)
    mean = summary["group_mean_mni"]
    logger.info("%d targets, group mean MNI (%.1f, %.1f, %.1f)", summary["n_targets"], *mean)
    written = [path, path.with_suffix(".json")]
    if getattr(args, "report", False):
        from ...report import write_cohort_report

        written.append(write_cohort_report(out))
    if args.json:
        print_json(summary)
    list_written(written, log=True)
    return 0


def run(args: argparse.Namespace) -> int:
    """Run targeting for every requested participant/session, or tabulate them.

    Returns the exit code.
    """
    from ...cohort import check_search_mask_grid, find_jobs, resolve_layout, run_jobs
    from ...io.paths import check_output_dir

    src, out, level = resolve_layout(args.paths, args.bold, args.confounds, args.mask)
    check_output_dir(out, "OUT_DIR")
    options = _options(args)
    if level == "group":
        return _group(args, out, options)
    files = dict(bold=args.bold, confounds=args.confounds, mask=args.mask)
    jobs = find_jobs(
        src, args.participant_label, args.session, args.task, args.space, args.surface_mesh, **files
    )
    check_search_mask_grid(jobs, options.search_mask)
    dask = dict(scheduler=args.scheduler, n_workers=args.n_workers, show_progress=not args.quiet)
    report = getattr(args, "report", False)  # no --report without the report package
    outcomes = run_jobs(jobs, options, out, report=report, resume=not args.rerun, **dask)
    results = [o.target for o in outcomes if o.target is not None]
    if args.json and results:
        print_json(results[0] if len(jobs) == 1 else results)
    written = [p for o in outcomes for p in o.written]
    list_written([out / "dataset_description.json", *written] if written else [], log=True)
    failed = [o.job.name for o in outcomes if o.status == "failed"]
    if failed:
        msg = "%d of %d participant(s)/session(s) failed: %s"
        logger.error(msg, len(failed), len(jobs), ", ".join(failed))
        return 2
    return 0
