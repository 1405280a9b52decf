"""``tmstarget scalp``: a scalp rule placed on the template head and projected to cortex.

The rule is Beam F3, F3 or 5-cm.
"""

from __future__ import annotations

import argparse

DESCRIPTION = """\
Place a scalp-based targeting rule on the MNI template head (the fsaverage scalp shipped with MNE,
in MNI152 mm) and project the coil centre to the cortex along the inward scalp normal (the cortical
MNI target and its depth below the scalp).

rules:
  beam-f3  Beam F3 for the given measurements, replayed on the template head scaled to them
  f3       the 10-20 F3 position (MNE's Colin27 10-05 montage on the template scalp)
  5cm      5 cm anterior to the motor hotspot (default C3) along the scalp
           (--distance-cm 5.5 for the 5.5-cm variant)

Research use; not a medical device.

examples:
  tmstarget scalp --rule beam-f3 --nasion-inion 36 --tragus-tragus 35 --circumference 57 --json
  tmstarget scalp --rule 5cm --hotspot C3
  tmstarget scalp --rule 5cm --hotspot "-37,-21,58" --distance-cm 5.5"""


def add_parser(subparsers, parents) -> None:
    """Register ``scalp``."""
    from .._common import add_rule_args
    from ..parser import HelpFormatter

    p = subparsers.add_parser(
        "scalp",
        parents=parents,
        help="scalp rule (Beam F3, F3, 5-cm) on the template head, projected to cortex",
        description=DESCRIPTION,
        formatter_class=HelpFormatter,
    )
    add_rule_args(p)
    p.add_argument(
        "--json", action="store_true", help="print one JSON object on stdout and nothing else"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Place the rule and print the scalp and cortical targets."""
    from ... import NOTICE
    from ...headmodel import load_template_head
    from .._common import print_json, rule_target

    target = rule_target(args)
    result = {**target.to_json(load_template_head().space), "notice": NOTICE}
    if args.json:
        print_json(result)
        return 0
    print(f"rule {result['rule']} on the template head ({result['space']})")
    print(f"  scalp (coil centre) MNI mm: {result['scalp_mni']}")
    print(f"  cortex MNI mm:              {result['cortex_mni']}  (depth {result['depth_mm']} mm)")
    if "x_cm" in result:
        print(f"  Beam F3: X = {result['x_cm']:.1f} cm, Y = {result['y_cm']:.1f} cm")
    return 0
