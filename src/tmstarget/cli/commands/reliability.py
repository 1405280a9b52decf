"""``tmstarget reliability``: how sure is a participant's target, and how individual are a cohort's targets."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from ...io.paths import check_output_dir
from .._common import (
    nonneg_float,
    optional_threshold,
    positive_float,
    positive_int,
    print_json,
)

logger = logging.getLogger("tmstarget")

DESCRIPTION = """\
Participant level:  tmstarget reliability FMRIPREP_DIR OUT_DIR participant [--participant-label L ...] [--session S]
Group level:        tmstarget reliability OUT_DIR group [--circuit-label LABEL]

participant: re-targets re-weightings of the participant's own cleaned data — the first and second half of
the usable volumes, each run alone, circular block-bootstrap resamples over time (blocks as long as the
autocorrelation of the data requires, or --block-length-s) and the first k minutes — and writes
OUT/sub-L/[ses-S/]sub-L[_ses-S]_desc-<circuit>_reliability.json with split_half_distance_mm, the halves'
score-map agreement (spatial correlation, ICC), run and session distances, confidence_radius_mm with a 95%
ellipsoid and the bootstrap point cloud, scan_length_curve and minutes_for_3mm. Resamples re-weight the
cleaned data (the filter and confound fit are not refitted per resample); see docs/reliability.md.
Use the same circuit, method and cleaning options as for 'tmstarget target'.

group: reads every OUT/sub-*/[ses-*/]*_desc-<circuit>_target.json and compares within-person distances
(between sessions) with between-person distances, as in Cash et al. 2021 (Hum Brain Mapp): writes
OUT/group_desc-<circuit>_reliability.tsv (one row per participant) and ..._reliability.json (summary and
the between/within ratio). Research use; not a medical device."""


def add_parser(subparsers, parents) -> None:
    """Register ``reliability``."""
    from ..parser import HelpFormatter

    class Formatter(HelpFormatter):
        """Defaults shown, except absent ones (their help says what happens)."""

        def _get_help_string(self, action):  # noqa: D102 - argparse API
            return action.help if action.default is None else super()._get_help_string(action)

    p = subparsers.add_parser("reliability", parents=parents, help="split-half, bootstrap confidence region, scan length; cohort stability", description=DESCRIPTION, formatter_class=Formatter)
    p.add_argument("paths", nargs="+", metavar="PATH", help="FMRIPREP_DIR OUT_DIR participant, or OUT_DIR group")
    g = p.add_argument_group("inputs")
    g.add_argument("--participant-label", nargs="+", default=None, metavar="L", help="participant label(s) without 'sub-'; all when absent")
    g.add_argument("--session", default=None, metavar="S", help="session label; when absent every session, with session-vs-session distances")
    g.add_argument("--task", default="rest", help="BIDS task label of the resting-state runs")
    g.add_argument("--space", default=None, choices=["MNI152NLin6Asym", "MNI152NLin2009cAsym"], help="template space of the BOLD; the first found when absent")
    c = p.add_argument_group("targeting (defaults: those of 'tmstarget target')")
    same = argparse.SUPPRESS  # absent unless given: TargetingOptions supplies the default
    c.add_argument("--circuit", default=same, metavar="sgacc|convergent|PATH", help="circuit to match (positive = stimulate)")
    c.add_argument("--circuit-label", default=same, metavar="LABEL", help="label in output names (group level: which targets to read)")
    c.add_argument("--method", default=same, choices=["robust", "similarity", "seedmap", "cluster", "hierarchical"], help="how the target is chosen")
    c.add_argument("--search-mask", default=same, type=Path, metavar="PATH", help="search region mask on the BOLD grid")
    c.add_argument("--neighbourhood-mm", default=same, type=positive_float, metavar="MM", help="neighbourhood radius for --method robust")
    c.add_argument("--confounds-strategy", default=same, choices=["24p+wmcsf", "36p", "6p+wmcsf", "24p", "none"], help="confound regressors")
    c.add_argument("--gsr", default=same, action="store_true", help="also regress the global signal")
    c.add_argument("--fd-threshold", default=same, type=optional_threshold, metavar="MM|none", help="censor volumes with framewise displacement above this")
    c.add_argument("--fwhm", default=same, type=nonneg_float, metavar="MM", help="spatial smoothing (0 = none)")
    r = p.add_argument_group("reliability")
    r.add_argument("--n-bootstrap", type=positive_int, default=200, metavar="N", help="block-bootstrap resamples")
    r.add_argument("--seed", type=int, default=0, help="random seed (same data and seed: identical output)")
    r.add_argument("--block-length-s", type=positive_float, metavar="S", help="bootstrap block length; from the data's autocorrelation when absent")
    r.add_argument("--norm-voxels", type=positive_int, default=20_000, metavar="N", help="circuit voxels re-normalised exactly per resample (similarity method)")
    p.add_argument("--json", action="store_true", help="print the reliability JSON (group: the summary) to stdout")
    p.set_defaults(func=run)


#: Targeting options of this command -> TargetingOptions fields.
_TARGETING = {"circuit": "circuit", "circuit_label": "circuit_label", "method": "method", "search_mask": "search_mask",
              "neighbourhood_mm": "neighbourhood_mm", "confounds_strategy": "confounds_strategy", "gsr": "global_signal",
              "fd_threshold": "fd_threshold_mm", "fwhm": "fwhm_mm"}


def _participant_jobs(args, src: Path) -> list[tuple[str, list[str | None]]]:
    from ...exceptions import InputError
    from ...io.bids import participant_sessions

    labels = args.participant_label or sorted(p.name.removeprefix("sub-") for p in src.glob("sub-*") if p.is_dir())
    if not labels:
        raise InputError(f"no sub-* folders in {src} — is this an fMRIPrep output folder?")
    return [(label, [args.session] if args.session else participant_sessions(src, label)) for label in dict.fromkeys(x.removeprefix("sub-") for x in labels)]


def _one_session(args, src: Path, label: str, ses: str | None, options) -> dict:
    from ... import __version__
    from ...circuits import resolve_circuit
    from ...io.bids import find_runs
    from ...reliability import components_from, participant_reliability
    from ...workflow import prepare

    runs = find_runs(src, label, ses, args.task, args.space)
    circuit = resolve_circuit(options.circuit, options.circuit_label)
    prep = prepare(runs, options, circuit)
    comp = components_from(prep)
    prep.blocks.clear()  # the components hold a copy; free the blocks
    res = participant_reliability(
        comp, prep.operators, [i.t_r for i in prep.infos], [i.n_volumes for i in prep.infos], prep.region, prep.circuit_map,
        method=options.method, neighbourhood_mm=options.neighbourhood_mm, exclude_local_mm=options.exclude_local_mm,
        n_bootstrap=args.n_bootstrap, seed=args.seed, block_length_s=args.block_length_s, norm_voxels=args.norm_voxels,
    )
    names = [r.name for r in runs]
    for row in res.get("run_distances_mm", []):
        row["runs"] = [names[i] for i in row["runs"]]
    head = {"participant": label, "session": ses, "space": runs[0].space, "circuit": circuit.label, "runs": names,
            "n_volumes_censored": sum(i.n_censored for i in prep.infos)}
    params = {"seed": args.seed, "fwhm_mm": options.fwhm_mm, "fd_threshold_mm": options.fd_threshold_mm,
              "confounds_strategy": options.confounds_strategy + ("+gsr" if options.global_signal else ""), "neighbourhood_mm": options.neighbourhood_mm,
              "search_mask": "default-left-dlpfc" if options.search_mask is None else Path(options.search_mask).name}
    return {**head, **res, "parameters": params, "tmstarget_version": __version__}


def _participants(args, src: Path, out: Path) -> int:
    import numpy as np

    from ...io.derivatives import write_reliability_outputs
    from ...workflow import TargetingOptions

    given = vars(args)
    options = TargetingOptions(**{field: given[arg] for arg, field in _TARGETING.items() if arg in given})
    from .target import check_map_options

    check_map_options(options.circuit, options.search_mask)
    results = []
    for label, sessions in _participant_jobs(args, src):
        mine = [_one_session(args, src, label, ses, options) for ses in sessions]
        for a in mine:
            if len(mine) > 1:
                a["session_distances_mm"] = {str(b["session"]): round(float(np.linalg.norm(np.subtract(a["target_mni"], b["target_mni"]))), 1)
                                             for b in mine if b is not a}
        results += mine
    for path, res in zip(write_reliability_outputs(results, out, src), results):
        logger.info("wrote %s (split halves %.1f mm apart, 95%% radius %s mm)", path, res["split_half_distance_mm"], res.get("confidence_radius_mm"))
    if args.json:
        print_json(results[0] if len(results) == 1 else results)
    return 0


def _read_targets(out: Path, circuit: str | None) -> tuple[str, list]:
    from ...exceptions import InputError
    from ...io.derivatives import read_target, target_circuits, target_files

    labels = target_circuits(out)
    if not labels:
        raise InputError(f"no target JSONs (sub-*_desc-<circuit>_target.json) under {out} — run 'tmstarget target' first")
    if circuit is None:
        if len(labels) != 1:
            raise InputError(f"target JSONs of {len(labels)} circuits under {out} (found: {', '.join(labels)}) — choose one with --circuit-label")
        circuit = labels[0]
    targets = [read_target(f) for f in target_files(out, circuit)]
    if not targets:
        raise InputError(f"no *_desc-{circuit}_target.json under {out} — run 'tmstarget target' first or check --circuit-label")
    return circuit, [(str(t["participant"]), t.get("session"), [float(v) for v in t["target_mni"]]) for t in targets]


def _group(args, out: Path) -> int:
    from ...exceptions import InputError
    from ...io.derivatives import write_table_outputs
    from ...reliability import cohort_stability

    if not out.is_dir():
        raise InputError(f"output folder not found: {out} — pass the folder 'tmstarget target' wrote to")
    circuit, targets = _read_targets(out, getattr(args, "circuit_label", None))
    rows, summary = cohort_stability(targets)
    fmt = lambda v: "n/a" if v is None else f"{v:.2f}"  # noqa: E731
    lines = ["participant_id\tn_sessions\twithin_person_mm\tbetween_person_mm"]
    lines += [f"{r['participant']}\t{r['n_sessions']}\t{fmt(r['within_mm'])}\t{fmt(r['between_mm'])}" for r in rows]
    summary = {"circuit": circuit, **summary, "reference": "Cash et al. 2021, Human Brain Mapping"}
    tsv = write_table_outputs(out / f"group_desc-{circuit}_reliability.tsv", "\n".join(lines) + "\n", out / f"group_desc-{circuit}_reliability.json", summary)
    logger.info("wrote %s (median within %.1f mm, between %.1f mm)", tsv, summary["median_within_mm"], summary["median_between_mm"])
    if args.json:
        print_json(summary)
    return 0


def run(args: argparse.Namespace) -> int:
    """Participant- or group-level reliability; return the exit code."""
    from ...exceptions import InputError

    paths = args.paths
    if len(paths) == 2 and paths[1] == "group":
        return _group(args, Path(paths[0]))
    if len(paths) != 3 or paths[2] != "participant":
        raise InputError(f"expected 'FMRIPREP_DIR OUT_DIR participant' or 'OUT_DIR group', got {' '.join(paths)} — see 'tmstarget reliability --help'")
    src, out = Path(paths[0]), Path(paths[1])
    check_output_dir(out, "OUT_DIR")
    if not src.is_dir():
        raise InputError(f"fMRIPrep folder not found: {src} — pass the folder that holds the sub-* folders")
    if out.resolve() == src.resolve():
        raise InputError(f"output folder is the fMRIPrep folder — write elsewhere, e.g. {src.parent / 'tmstarget'}")
    return _participants(args, src, out)
