"""``tmstarget scalp``: a scalp rule (Beam F3, F3, 5-cm) placed on the template head and projected to cortex."""

from __future__ import annotations

import argparse

DESCRIPTION = """\
Place a scalp-based targeting rule on the MNI template head (the fsaverage scalp shipped with MNE, in
MNI152 mm) and project the coil centre to the cortex along the inward scalp normal (the cortical MNI
target and its depth below the scalp).

rules:
  beam-f3  Beam F3 for the given measurements, replayed on the template head scaled to them
  f3       the 10-20 F3 position (MNE's Colin27 10-05 montage on the template scalp)
  5cm      5 cm anterior to the motor hotspot (default C3) along the scalp (--distance-cm 5.5 for the
           5.5-cm variant)

Research use; not a medical device.

examples:
  tmstarget scalp --rule beam-f3 --nasion-inion 36 --tragus-tragus 35 --circumference 57 --json
  tmstarget scalp --rule 5cm --hotspot C3
  tmstarget scalp --rule 5cm --hotspot "-37,-21,58" --distance-cm 5.5"""


def add_rule_args(p: argparse.ArgumentParser) -> None:
    """Rule choice and its parameters (shared with ``compare``)."""
    from ...scalp import RULES
    from .f3 import add_measurement_args

    p.add_argument("--rule", choices=RULES, default="beam-f3", help="scalp rule")
    add_measurement_args(p, required=False)
    g = p.add_argument_group("5-cm rule")
    g.add_argument("--hotspot", default="C3", metavar="NAME|x,y,z", help="motor hotspot: a 10-10 name or MNI mm")
    g.add_argument("--distance-cm", type=float, default=5.0, metavar="CM", help="distance anterior to the hotspot")
    p.add_argument("--adjusted", action="store_true", help="Beam F3 with Y + 0.35 cm (Mir-Moghtadaei et al. 2015)")


def rule_target(args: argparse.Namespace, measurements=None):
    """The :class:`~tmstarget.scalp.ScalpTarget` the arguments ask for (``measurements`` overrides the flags)."""
    from ...exceptions import InputError
    from ...headmodel import load_template_head
    from ...scalp import check_measurements, parse_point, scalp_rule_target

    given = [args.nasion_inion, args.tragus_tragus, args.circumference]
    unused = [name for name, used in (("--nasion-inion/--tragus-tragus/--circumference", any(v is not None for v in given)),
                                      ("--adjusted", args.adjusted)) if used and args.rule != "beam-f3"]
    unused += [name for name, used in (("--hotspot", args.hotspot != "C3"), ("--distance-cm", args.distance_cm != 5.0))
               if used and args.rule != "5cm"]
    if unused:  # an option the rule ignores is a sign the wrong rule was asked for
        rule_of = {"--hotspot": "5cm", "--distance-cm": "5cm"}
        raise InputError(f"{', '.join(unused)} do(es) not apply to --rule {args.rule} — drop it, or use --rule "
                         f"{rule_of.get(unused[0], 'beam-f3')}")
    if args.rule == "beam-f3" and measurements is None:
        if any(v is None for v in given):
            raise InputError("--rule beam-f3 needs --nasion-inion, --tragus-tragus and --circumference (cm)")
        measurements = check_measurements(*given)
    hotspot = args.hotspot
    if any(ch.isdigit() for ch in hotspot) and "," in hotspot:
        hotspot = parse_point(hotspot, "--hotspot")
    return scalp_rule_target(load_template_head(), args.rule, measurements, hotspot, args.distance_cm, args.adjusted)


def add_parser(subparsers, parents) -> None:
    """Register ``scalp``."""
    from ..parser import HelpFormatter
    from .score import NEGATIVE_VALUES

    p = subparsers.add_parser("scalp", parents=parents, help="scalp rule (Beam F3, F3, 5-cm) on the template head, projected to cortex", description=DESCRIPTION, formatter_class=HelpFormatter)
    p._negative_number_matcher = NEGATIVE_VALUES  # noqa: SLF001 - accept --hotspot -37,-21,58
    add_rule_args(p)
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout and nothing else")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Place the rule and print the scalp and cortical targets."""
    from ... import NOTICE
    from ...headmodel import load_template_head
    from .._common import print_json

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
