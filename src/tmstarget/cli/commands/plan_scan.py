"""``tmstarget plan-scan``: minutes of single- vs multi-echo data to book, before a scan."""

from __future__ import annotations

import argparse

DESCRIPTION = """\
How many minutes of resting-state data give an individually reliable target (95% region radius
<= 5 mm, the verdict of 'tmstarget target') with a given probability, for single-echo and for
multi-echo acquisitions, for one circuit and method. Answered before the scan from a table made on
the calibrated simulator (benchmarks/multiecho.py: simulated participants, two sessions each, cut to
5, 10, 20 and 40 minutes; multi-echo combined by T2*, as --me-denoise optcom); its provenance is
printed. Never extrapolated: when the probability is not reached at the longest simulated length
the plan says "more than" that length.

With --pilot-json (the target JSON of 'tmstarget target --bootstrap 200' on a pilot scan of the same
circuit and method), the pilot's radius places the participant among the simulated sessions at the
pilot's length, and the plan follows the simulated sessions closest to it (docs/multiecho.md, "The
scan plan"). A simulation, not a guarantee for a real scanner. Research use; not a medical device.

examples:
  tmstarget plan-scan
  tmstarget plan-scan --circuit map --probability 0.9 --json
  tmstarget plan-scan --pilot-json pilot/sub-01/sub-01_desc-sgacc_target.json"""


def add_parser(subparsers, parents) -> None:
    """Register ``plan-scan``."""
    from ...targeting.methods import DEFAULT_METHOD, METHODS
    from .._common import input_file
    from .._help import HELP
    from ..parser import HelpFormatter

    p = subparsers.add_parser(
        "plan-scan",
        parents=parents,
        help="minutes of single- vs multi-echo data for a reliable target, before a scan",
        description=DESCRIPTION,
        formatter_class=HelpFormatter,
    )
    p.add_argument(
        "--circuit",
        choices=["sgacc", "map"],
        default=None,
        help="sgacc (the sgACC seed) or map (a group circuit map given as a path to 'target'); "
        "default: the pilot's, else sgacc",
    )
    p.add_argument(
        "--method",
        choices=list(METHODS),
        default=None,
        help=f"{HELP['method']}; default: the pilot's, else {DEFAULT_METHOD}",
    )
    p.add_argument(
        "--probability",
        type=float,
        default=0.8,
        help="share of participants that must reach the reliable radius",
    )
    p.add_argument(
        "--pilot-json",
        metavar="TARGET_JSON",
        type=input_file,
        default=None,
        help="target JSON of a pilot scan ('tmstarget target --bootstrap 200'): update the plan "
        "from its radius and minutes",
    )
    p.add_argument(
        "--json", action="store_true", help="print the plan as one JSON object on stdout"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the scan plan."""
    from ...exceptions import InputError
    from ...protocol.scanplan import load_calibration, plan_scan, plan_text, read_pilot
    from .._common import print_json

    if not 0.0 < args.probability < 1.0:
        raise InputError(f"--probability {args.probability:g}: must be between 0 and 1, e.g. 0.8")
    pilot = read_pilot(args.pilot_json) if args.pilot_json else None
    circuit = args.circuit or (pilot["circuit"] if pilot else "sgacc")
    method = args.method or (pilot["method"] if pilot else None)
    plan = plan_scan(load_calibration(), circuit, method, args.probability, pilot)
    if args.json:
        print_json(plan.to_json())
    else:
        print(plan_text(plan))
    return 0
