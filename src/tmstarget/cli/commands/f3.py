"""``tmstarget f3``: the Beam F3 tape distances from three head measurements."""

from __future__ import annotations

import argparse

DESCRIPTION = """\
Beam F3 (Beam, Borckardt, Reeves, George, Brain Stimulation 2009): from three tape measurements, the
two distances a technician marks to find F3 (left DLPFC) without an EEG cap. Follows the authors'
web calculator (clinicalresearcher.org/F3), which clinics use; see docs/scalp.md for the formula.

  X: along the head circumference from the front midline (Fpz), to the LEFT
  Y: from the vertex (Cz) along the scalp towards the X mark; F3 is at distance Y

Measure nasion-inion and tragus-tragus over the vertex, and the head circumference, in centimetres.
Impossible or inconsistent measurements are refused (exit 2). Research use; not a medical device.

example:
  tmstarget f3 --nasion-inion 36 --tragus-tragus 35 --circumference 57 --json"""


def add_parser(subparsers, parents) -> None:
    """Register ``f3``."""
    from .._common import add_measurement_args
    from ..parser import HelpFormatter

    p = subparsers.add_parser(
        "f3",
        parents=parents,
        help="Beam F3 tape distances (X, Y) from head measurements",
        description=DESCRIPTION,
        formatter_class=HelpFormatter,
    )
    add_measurement_args(p, required=True)
    p.add_argument(
        "--json", action="store_true", help="print one JSON object on stdout and nothing else"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Compute and print the Beam F3 distances."""
    from ...scalp import beam_f3
    from .._common import print_json

    result = beam_f3(args.nasion_inion, args.tragus_tragus, args.circumference).to_json()
    if args.json:
        print_json(result)
        return 0
    print(f"X = {result['x_cm']:.1f} cm  {result['x_description']}")
    print(f"Y = {result['y_cm']:.1f} cm  {result['y_description']}")
    print(
        f"    (adjusted Y = {result['y_adjusted_cm']:.1f} cm: {result['y_adjusted_description']})"
    )
    return 0
