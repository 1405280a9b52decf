"""``tmstarget target``: connectivity-guided DLPFC target for participants of an fMRIPrep dataset."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from .._common import nonneg_float, optional_threshold, positive_float, positive_int, print_json

logger = logging.getLogger("tmstarget")

DESCRIPTION = """\
Pick the left-DLPFC point whose connectivity best matches a depression circuit, from resting-state runs
preprocessed by fMRIPrep (MNI152NLin6Asym or MNI152NLin2009cAsym space). Research use; not a medical device.

BIDS-App form:   tmstarget target FMRIPREP_DIR OUT_DIR participant [--participant-label L] [--session S]
Explicit files:  tmstarget target OUT_DIR --bold RUN1 [--bold RUN2] --confounds TSV1 [--confounds TSV2] --mask MASK

Circuits (--circuit): 'sgacc' (built in: the individual's anticorrelation with a 10 mm sphere at MNI
(6, 16, -10)); 'convergent' (the group convergent depression circuit, downloaded once and checksummed;
set TMSTARGET_DATA to choose the cache); or a path to any group map in MNI space. Sign convention:
POSITIVE values = the end of the circuit to stimulate (sgACC negative).

Methods (--method): 'robust' (default) averages the circuit similarity over a coil-sized neighbourhood and
takes the maximum; 'similarity' takes the single best voxel of the similarity map (the trial's method);
'seedmap' takes the voxel most anticorrelated with the sgACC seed (Fox 2012) or, for a map circuit, most
correlated with the circuit-weighted seed (Fox 2013).

Outputs (BIDS derivatives): OUT/dataset_description.json, OUT/sub-L/[ses-S/]sub-L[_ses-S]_desc-<circuit>_target.json
and ..._desc-<circuit>_score.nii.gz. --json prints the target JSON to stdout."""


def add_parser(subparsers, parents) -> None:
    """Register ``target``."""
    from ..parser import HelpFormatter

    p = subparsers.add_parser("target", parents=parents, help="connectivity-guided DLPFC target from fMRIPrep outputs", description=DESCRIPTION, formatter_class=HelpFormatter)
    p.add_argument("paths", nargs="*", metavar="FMRIPREP_DIR OUT_DIR participant", help="fMRIPrep folder, output folder and analysis level 'participant' (or just OUT_DIR with --bold)")
    g = p.add_argument_group("inputs")
    g.add_argument("--participant-label", nargs="+", metavar="L", help="participant label(s) without 'sub-' (default: all participants)")
    g.add_argument("--session", metavar="S", help="session label (default: every session, each its own target)")
    g.add_argument("--task", default="rest", help="BIDS task label of the resting-state runs")
    g.add_argument("--space", choices=["MNI152NLin6Asym", "MNI152NLin2009cAsym"], help="template space of the BOLD (default: the first found in this order)")
    g.add_argument("--bold", action="append", type=Path, metavar="PATH", help="explicit BOLD run in MNI space (repeat for several runs)")
    g.add_argument("--confounds", action="append", type=Path, metavar="TSV", help="fMRIPrep-style confounds TSV of each --bold run, same order")
    g.add_argument("--mask", type=Path, metavar="PATH", help="brain mask on the BOLD grid (with --bold)")
    g.add_argument("--t-r", type=positive_float, metavar="S", help="repetition time in seconds (default: from the JSON sidecar or NIfTI header)")
    c = p.add_argument_group("circuit and selection")
    c.add_argument("--circuit", default="sgacc", metavar="sgacc|convergent|PATH", help="circuit to match (positive = stimulate)")
    c.add_argument("--circuit-label", metavar="LABEL", help="label for output names (default: from the circuit name)")
    c.add_argument("--method", default="robust", choices=["robust", "similarity", "seedmap", "cluster", "hierarchical"], help="how the target is chosen")
    c.add_argument("--search-mask", type=Path, metavar="PATH", help="search region mask on the BOLD grid (default: left DLPFC, BA9+BA46 20 mm spheres, grey matter)")
    c.add_argument("--neighbourhood-mm", type=positive_float, default=10.0, metavar="MM", help="coil-sized neighbourhood radius for --method robust")
    k = p.add_argument_group("cleaning")
    k.add_argument("--confounds-strategy", default="24p+wmcsf", choices=["24p+wmcsf", "36p", "6p+wmcsf", "24p", "none"], help="confound regressors (24p = 6 motion + derivatives + squares)")
    k.add_argument("--gsr", action="store_true", help="also regress the global signal")
    k.add_argument("--fd-threshold", type=optional_threshold, default=0.5, metavar="MM|none", help="censor volumes with framewise displacement above this")
    k.add_argument("--dvars-threshold", type=optional_threshold, default=None, metavar="Z|none", help="also censor volumes with standardised DVARS above this")
    k.add_argument("--high-pass", type=positive_float, default=0.01, metavar="HZ", help="band-pass lower edge")
    k.add_argument("--low-pass", type=positive_float, default=0.1, metavar="HZ", help="band-pass upper edge")
    k.add_argument("--fwhm", type=nonneg_float, default=6.0, metavar="MM", help="spatial smoothing (0 = none)")
    k.add_argument("--min-volumes", type=positive_int, default=100, metavar="N", help="minimum volumes left after censoring")
    p.add_argument("--json", action="store_true", help="print the target JSON to stdout")
    p.set_defaults(func=run)


def _layout(args) -> tuple[Path | None, Path]:
    from ...exceptions import InputError

    if args.bold:
        if len(args.paths) not in (1, 2) or (len(args.paths) == 2 and args.paths[1] != "participant"):
            raise InputError(f"with --bold give only OUT_DIR as positional argument, got {args.paths or 'none'} — e.g. tmstarget target OUT --bold RUN.nii.gz --confounds RUN.tsv --mask MASK.nii.gz")
        if not args.confounds or not args.mask:
            raise InputError("--bold needs --confounds (one per run) and --mask — add them")
        return None, Path(args.paths[0])
    if len(args.paths) != 3:
        raise InputError(f"expected FMRIPREP_DIR OUT_DIR participant, got {len(args.paths)} positional argument(s) — see 'tmstarget target --help'")
    src, out, level = Path(args.paths[0]), Path(args.paths[1]), args.paths[2]
    if level != "participant":
        raise InputError(f"analysis level '{level}' is not supported — use 'participant'")
    if not src.is_dir():
        raise InputError(f"fMRIPrep folder not found: {src} — pass the folder that holds the sub-* folders")
    if out.resolve() == src.resolve():
        raise InputError(f"output folder is the fMRIPrep folder — write elsewhere, e.g. {src.parent / 'tmstarget'}")
    return src, out


def run(args: argparse.Namespace) -> int:
    """Run targeting for every requested participant/session; return the exit code."""
    from ...exceptions import InputError
    from ...io.bids import explicit_runs, find_runs, participant_sessions
    from ...io.outputs import write_target_outputs
    from ...workflow import TargetingOptions, compute_target

    src, out = _layout(args)
    options = TargetingOptions(
        circuit=args.circuit, circuit_label=args.circuit_label, method=args.method,
        confounds_strategy=args.confounds_strategy, global_signal=args.gsr,
        fd_threshold_mm=args.fd_threshold, dvars_threshold=args.dvars_threshold,
        high_pass_hz=args.high_pass, low_pass_hz=args.low_pass, fwhm_mm=args.fwhm,
        min_volumes=args.min_volumes, neighbourhood_mm=args.neighbourhood_mm, t_r=args.t_r,
        search_mask=args.search_mask,
    )
    if args.high_pass >= args.low_pass:
        raise InputError(f"--high-pass {args.high_pass} Hz must be below --low-pass {args.low_pass} Hz — swap or fix them")
    jobs = []
    if src is None:
        label = (args.participant_label or ["01"])[0].removeprefix("sub-")
        jobs.append((label, args.session, lambda: explicit_runs(args.bold, args.confounds, args.mask, args.space or "MNI152NLin6Asym")))
    else:
        labels = args.participant_label or sorted(p.name.removeprefix("sub-") for p in src.glob("sub-*") if p.is_dir())
        if not labels:
            raise InputError(f"no sub-* folders in {src} — is this an fMRIPrep output folder?")
        for label in labels:
            label = label.removeprefix("sub-")
            sessions = [args.session] if args.session else participant_sessions(src, label)
            for ses in sessions:
                jobs.append((label, ses, lambda label=label, ses=ses: find_runs(src, label, ses, args.task, args.space)))
    results, failed = [], []
    for label, ses, get_runs in jobs:
        try:
            result = compute_target(get_runs(), options, root=src)
            paths = write_target_outputs(result, out, label, ses, src)
        except InputError as exc:
            if len(jobs) == 1:
                raise
            failed.append(label)
            logger.error("tmstarget: error: sub-%s%s: %s", label, f" ses-{ses}" if ses else "", exc)
            continue
        results.append(result.to_json(label, ses))
        logger.info("wrote %s (%.1f s)", paths["json"], result.timings_s["total"])
    if args.json:
        print_json(results[0] if len(results) == 1 else results)
    if failed:
        logger.error("%d of %d participant(s)/session(s) failed: %s", len(failed), len(jobs), ", ".join(failed))
        return 2
    return 0
