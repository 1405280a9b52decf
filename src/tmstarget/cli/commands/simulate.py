"""``tmstarget simulate``: write a synthetic fMRIPrep dataset with planted targets."""

from __future__ import annotations

import argparse
import os

from .._common import (
    list_written,
    nonneg_float,
    nonneg_int,
    output_dir,
    positive_float,
    positive_int,
    print_json,
)
from .._help import HELP


def add_parser(subparsers, parents) -> None:
    """Register ``simulate``."""
    from ..parser import HelpFormatter

    p = subparsers.add_parser(
        "simulate",
        parents=parents,
        formatter_class=HelpFormatter,
        help="synthetic fMRIPrep dataset with planted individual targets",
        description=(
            "Write an fMRIPrep-like derivatives folder (MNI152NLin6Asym "
            "2 mm BOLD, confounds TSV, brain mask) "
            "whose participants have a planted left-DLPFC "
            "target anticorrelated with the sgACC network, "
            "a "
            "simulated group circuit map, and the truth "
            "(sub-L/sub-L_desc-truth_target.json, truth.tsv). "
            "The model is documented in tmstarget.simulate.model."
        ),
    )
    p.add_argument("out", type=output_dir, metavar="OUT", help="folder to create")
    p.add_argument("--participants", type=positive_int, default=1, help="number of participants")
    p.add_argument(
        "--sessions",
        type=positive_int,
        default=1,
        help="sessions per participant (same target, new noise)",
    )
    p.add_argument("--runs", type=positive_int, default=2, help="rest runs per session")
    p.add_argument("--volumes", type=positive_int, default=300, help="volumes per run")
    p.add_argument("--tr", type=positive_float, default=2.0, help="repetition time (s)")
    p.add_argument(
        "--preset",
        choices=["default", "calibrated"],
        default="default",
        help="model parameters: 'default' (a strong planted "
        "node) or 'calibrated' (noise, smoothness and individual "
        "deviations fitted to a real resting-state run; tmstarget.simulate.model.CALIBRATED)",
    )
    p.add_argument(
        "--tsnr",
        type=positive_float,
        default=None,
        help="temporal SNR of the noise (default: the preset's, 60 for 'default')",
    )
    p.add_argument(
        "--shift-mm",
        type=float,
        default=None,
        help="distance of individual targets from the group spot, 0-30 (default: random 4-15 mm)",
    )
    p.add_argument(
        "--motion", type=nonneg_float, default=1.0, help="head-motion scale (1 = typical)"
    )
    p.add_argument(
        "--fov",
        choices=["brain", "full"],
        default="brain",
        help="'full' 91x109x91 grid or cropped to the brain",
    )
    p.add_argument(
        "--dtype",
        choices=["float32", "int16"],
        default="float32",
        help="storage type of the BOLD files",
    )
    p.add_argument(
        "--echoes",
        type=int,
        default=None,
        metavar="N",
        help="write multi-echo data with N >= 2 echoes (S = "
        "S0*exp(-TE*R2*), BOLD in R2*, motion/physiology "
        "in S0, "
        "thermal noise per echo): per-echo echo-<n> series "
        "with EchoTime in the sidecar plus their T2*-weighted "
        "optimal combination as desc-preproc_bold; same "
        "participants, neural signals and motion as without "
        "--echoes for the same seed (tmstarget.simulate.multiecho; docs/multiecho.md)",
    )
    p.add_argument(
        "--echo-times-ms",
        type=float,
        nargs="+",
        default=None,
        metavar="TE",
        help="echo times in ms, first to last, one per echo "
        "(default for 3 echoes: 14.5 38.5 62.5; other counts: "
        "evenly spaced over 14.5-62.5)",
    )
    p.add_argument(
        "--echo-space",
        choices=("template", "boldref"),
        default="template",
        help="where the echo-wise series are written: 'template' (default; on the combined "
        "series' MNI grid, named with space-) or 'boldref' (fMRIPrep's layout: a 2.5 mm BOLD "
        "reference grid without space-, with the from-boldref_to-T1w and from-T1w_to-<template> "
        "ITK transforms; docs/multiecho.md)",
    )
    p.add_argument("--seed", type=nonneg_int, default=0, help=HELP["seed"])
    p.add_argument("--json", action="store_true", help="print the planted truth as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Simulate and write the dataset."""
    import logging

    from ...exceptions import InputError
    from ...simulate import SimulationParams, simulate_dataset
    from ...simulate.dataset import MAX_SHIFT_MM

    if args.volumes < 20:
        raise InputError(
            f"--volumes {args.volumes} is too short to simulate resting-state data — use >= 20"
        )
    if args.tr > 10:
        raise InputError(f"--tr {args.tr} s is not a plausible fMRI repetition time — use 0.5-3 s")
    if args.shift_mm is not None and not 0.0 <= args.shift_mm <= MAX_SHIFT_MM:
        raise InputError(
            f"--shift-mm {args.shift_mm:g} is outside 0-{MAX_SHIFT_MM:g} "
            "mm: the planted target must stay in the "
            "left-DLPFC search region — use e.g. 10"
        )
    multi_echo = _multi_echo(args)
    if args.echo_space != "template" and multi_echo is None:
        raise InputError(
            f"--echo-space {args.echo_space} is for multi-echo data — add --echoes 3 (or "
            "--echo-times-ms), or drop --echo-space"
        )
    if args.out.exists() and (not args.out.is_dir() or any(args.out.iterdir())):
        raise InputError(
            f"{args.out} already exists and is not an empty "
            "folder — choose a new OUT folder (simulate never "
            "mixes its files with others)"
        )
    from dataclasses import replace

    from ...simulate.model import CALIBRATED

    base = CALIBRATED if args.preset == "calibrated" else SimulationParams()
    params = replace(
        base,
        n_volumes=args.volumes,
        t_r=args.tr,
        tsnr=base.tsnr if args.tsnr is None else args.tsnr,
        shift_mm=args.shift_mm,
        motion_scale=args.motion,
        fov=args.fov,
    )
    truth = simulate_dataset(
        args.out,
        args.participants,
        args.sessions,
        args.runs,
        params,
        args.seed,
        args.dtype,
        multi_echo,
        args.echo_space,
    )
    if args.json:
        print_json(truth)
    else:
        logging.getLogger("tmstarget").info("simulated %d participant(s)", args.participants)
    files = [p for p in args.out.rglob("*") if p.is_file()]
    list_written(
        [f"{args.out}{os.sep} ({len(files)} files)"], log=True
    )  # a dataset: its folder, not every file
    return 0


#: Most echoes a multi-echo EPI protocol acquires in practice (tmstarget's bound on ``--echoes``).
MAX_ECHOES = 8


def _multi_echo(args: argparse.Namespace):
    """Return the multi-echo parameters asked for (None for single-echo).

    Raises InputError for an impossible request.
    """
    from dataclasses import replace

    from ...exceptions import InputError
    from ...multiecho import check_echo_times
    from ...simulate.multiecho import CALIBRATED_MULTIECHO, MultiEchoParams, default_echo_times

    if args.echoes is None and args.echo_times_ms is None:
        return None
    if args.echoes is not None and args.echoes < 2:
        raise InputError(
            f"--echoes {args.echoes} is not multi-echo data "
            "— use --echoes 2 or more, or drop --echoes for "
            "single-echo data"
        )
    if args.echoes is not None and args.echoes > MAX_ECHOES:
        raise InputError(
            f"--echoes {args.echoes} is more echoes than multi-echo "
            f"EPI acquires — use 2-{MAX_ECHOES} (3-5 are typical)"
        )
    tes = check_echo_times(
        args.echo_times_ms if args.echo_times_ms is not None else default_echo_times(args.echoes),
        args.echoes,
        "--echo-times-ms",
    )
    base = CALIBRATED_MULTIECHO if args.preset == "calibrated" else MultiEchoParams()
    return replace(base, echo_times_ms=tes)
