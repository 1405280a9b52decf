"""Argument helpers shared by subcommands."""

from __future__ import annotations

import argparse
import math
import re
import sys
from pathlib import Path
from typing import Any

from ._help import HELP

#: Spaces of the BOLD that targeting reads: MNI volumes, fsaverage5 GIFTI pairs, fsLR CIFTI (as
#: ``cohort.SURFACE_SPACES``; spelled out here so that ``--help`` does not import numpy).
SPACE_CHOICES = ("MNI152NLin6Asym", "MNI152NLin2009cAsym", "fsaverage5", "fsLR")

#: argparse treats "-38,44,26" as an option; let values that start like a negative number through
#: (and "-inf", or a point such as "-38,nan,26", so that they are refused as not finite rather than
#: taken for an option).
NEGATIVE_VALUES = re.compile(
    r"^-\d[\d.,;\s-]*$|^-\.\d[\d.,;\s-]*$|^-(inf|infinity|nan)$|^-(\d|\.\d|inf|nan)[\w.+-]*(,[\w.+-]*)+$",
    re.IGNORECASE,
)


def _number(text: str, cast, ok, bound: str, noun: str = "number"):
    try:
        value = cast(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a {noun}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
    if not ok(value):
        raise argparse.ArgumentTypeError(f"must be {bound}, got {text}")
    return value


def positive_float(text: str) -> float:
    """Argparse type: a float > 0."""
    return _number(text, float, lambda v: v > 0, "> 0")


def nonneg_float(text: str) -> float:
    """Argparse type: a float >= 0."""
    return _number(text, float, lambda v: v >= 0, ">= 0")


def angle_deg(text: str) -> float:
    """Argparse type: an angle in degrees within -180..180."""
    return _number(text, float, lambda v: -180.0 <= v <= 180.0, "an angle in -180..180 degrees")


def output_file(text: str):
    """Argparse type: a file to write, which must not be a folder.

    Its folder must be creatable and writable.

    Checked while the command line is parsed, so a bad output location is one line before any work.
    """
    from ..exceptions import InputError
    from ..io.paths import check_output_file

    try:
        return check_output_file(text, "file")
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def input_file(text: str):
    """Argparse type: an existing file to read.

    A missing path or a folder is refused in one line at parse time.
    """
    from pathlib import Path

    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder — give the path of a file")
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{text} not found — check the path")
    return path


def output_dir(text: str):
    """Argparse type: a folder to write into, created if missing.

    The folder, or its nearest existing parent, must be writable.
    """
    from ..exceptions import InputError
    from ..io.paths import check_output_dir

    try:
        return check_output_dir(text, "folder")
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def participant_arg(text: str) -> str:
    """Argparse type: a participant id, ``01`` or ``sub-01``, returned as its label (``01``)."""
    from .._utils.ids import participant_label
    from ..exceptions import InputError

    try:
        return participant_label(text, "participant id")
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def finite_float(text: str) -> float:
    """Argparse type: any finite float."""
    return _number(text, float, lambda v: True, "finite")


def optional_threshold(text: str) -> float | None:
    """Argparse type: a positive float, or 'none' to disable."""
    return None if text.lower() in {"none", "off"} else positive_float(text)


def positive_int(text: str) -> int:
    """Argparse type: an integer >= 1."""
    return _number(text, int, lambda v: v >= 1, ">= 1", "whole number")


def nonneg_int(text: str) -> int:
    """Argparse type: an integer >= 0."""
    return _number(text, int, lambda v: v >= 0, ">= 0", "whole number")


def point_value(text: str) -> tuple[float, float, float]:
    """Argparse type: a point ``x,y,z`` in mm.

    Parsed by :func:`tmstarget._utils.points.parse_point`, the one point parser.
    """
    from .._utils.points import parse_point
    from ..exceptions import InputError

    try:
        return parse_point(text)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def list_written(paths, json_mode: bool = False, log: bool = False) -> None:
    """End a command's output with one ``wrote: PATH`` line per file it wrote.

    None entries are skipped. On stdout after the command's text; as log lines on stderr with
    ``--json`` (stdout holds only the JSON) or ``log`` (commands whose whole report is log lines:
    ``target``, ``reliability``, ...; silent under ``--quiet``).
    """
    import logging

    lines = [f"wrote: {p}" for p in dict.fromkeys(str(p) for p in paths if p is not None)]
    if json_mode or log:
        for line in lines:
            logging.getLogger("tmstarget").info("%s", line)
    elif lines:
        sys.stdout.write("\n".join(lines) + "\n")
        sys.stdout.flush()


# ---------------------------------------------------------------- old spellings kept for one
# release
def warn(parser: argparse.ArgumentParser, message: str) -> None:
    """One warning line on stderr in the commands' format: ``tmstarget COMMAND: warning: ...``."""
    sys.stderr.write(f"{parser.prog}: warning: {message}\n")


def deprecated_alias(
    *old: str, base: type[argparse.Action] = argparse._StoreAction
) -> type[argparse.Action]:  # noqa: SLF001
    """Return an argparse action class for an option that also answers to its ``old`` spellings.

    The old spellings are kept for one release. An old spelling works as the new one and prints,
    once per run, ``tmstarget COMMAND: warning: --old is deprecated, use --new``. Help lists only
    the new name. Give the new name first::

        p.add_argument(
            "--bootstrap", "--n-bootstrap", action=deprecated_alias("--n-bootstrap"), type=int
        )
    """

    class Deprecated(base):
        deprecated_names = old

        def __call__(self, parser, namespace, values, option_string=None):  # noqa: D102 - argparse API
            if option_string in old and not getattr(self, "_warned", False):
                self._warned = True
                warn(
                    parser,
                    f"{option_string} is deprecated, use {self.option_strings[0]} "
                    "(the old name goes in the next release)",
                )
            super().__call__(parser, namespace, values, option_string)

    return Deprecated


class PointAction(argparse.Action):
    """``--opt x,y,z`` (mm) stored as a tuple of three floats.

    The old ``--opt X Y Z`` still works, with a warning. Refusals are argparse usage errors naming
    the option (a bad point is not warned about, only refused).
    """

    single_metavar = True

    def __init__(self, option_strings, dest, **kwargs) -> None:
        kwargs["nargs"] = "+"
        kwargs.setdefault("metavar", "X,Y,Z")
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):  # noqa: D102 - argparse API
        from .._utils.points import parse_point
        from ..exceptions import InputError

        try:
            point = parse_point(values[0] if len(values) == 1 else " ".join(values))
        except InputError as exc:
            raise argparse.ArgumentError(self, str(exc)) from None
        if len(values) > 1:
            warn(
                parser,
                f"{option_string} X Y Z (spaces) is deprecated, "
                f"write {option_string} {','.join(values)} "
                "(the old form goes in the next release)",
            )
        setattr(namespace, self.dest, point)


def print_json(obj: Any, *, ensure_ascii: bool = True) -> None:
    """Print one JSON document to stdout: the one JSON printer.

    The document is the only thing a ``--json`` command prints there.
    """
    from .._utils.jsonio import dumps

    sys.stdout.write(dumps(obj, ensure_ascii=ensure_ascii) + "\n")
    sys.stdout.flush()


def emit(result: dict[str, Any], *, as_json: bool, render: Any) -> int:
    """Print ``result`` (plus notice and version) as one JSON object, or as ``render``'s text.

    The JSON goes through :func:`print_json`. The printer of the clinical commands (``protocol``,
    ``mt``, ``screen``, ``madrs``, ``scale``); returns 0.
    """
    from .. import NOTICE, __version__

    result = {**result, "notice": NOTICE, "tmstarget_version": __version__}
    if as_json:
        print_json(result, ensure_ascii=False)
    else:
        sys.stdout.write(render(result) + "\n")
    return 0


# ---------------------------------------------------------------- argument groups shared by several
# commands
def add_measurement_args(p: argparse.ArgumentParser, required: bool) -> None:
    """Add the three Beam F3 tape measurements (cm): ``f3``, ``scalp``, ``compare``."""
    g = p.add_argument_group("head measurements (cm)")
    g.add_argument(
        "--nasion-inion",
        type=float,
        required=required,
        metavar="CM",
        help=HELP["nasion-inion"],
    )
    g.add_argument(
        "--tragus-tragus",
        type=float,
        required=required,
        metavar="CM",
        help=HELP["tragus-tragus"],
    )
    g.add_argument(
        "--circumference", type=float, required=required, metavar="CM", help=HELP["circumference"]
    )


def add_rule_args(p: argparse.ArgumentParser) -> None:
    """Scalp rule choice and its parameters: ``scalp``, ``compare``."""
    from ..defaults import SCALP_RULES as RULES

    p.add_argument("--rule", choices=RULES, default="beam-f3", help=HELP["rule"])
    add_measurement_args(p, required=False)
    g = p.add_argument_group("5-cm rule")
    g.add_argument(
        "--hotspot",
        default="C3",
        metavar="NAME|x,y,z",
        help=HELP["hotspot"],
    )
    g.add_argument(
        "--distance-cm",
        type=float,
        default=5.0,
        metavar="CM",
        help=HELP["distance-cm"],
    )
    p.add_argument(
        "--adjusted",
        action="store_true",
        help=HELP["adjusted"],
    )


def rule_target(args: argparse.Namespace, measurements=None):
    """Return the :class:`~tmstarget.scalp.ScalpTarget` the rule arguments ask for.

    ``measurements`` overrides the flags.
    """
    from ..exceptions import InputError
    from ..headmodel import load_template_head
    from ..scalp import check_measurements, parse_point, scalp_rule_target

    given = [args.nasion_inion, args.tragus_tragus, args.circumference]
    unused = [
        name
        for name, used in (
            ("--nasion-inion/--tragus-tragus/--circumference", any(v is not None for v in given)),
            ("--adjusted", args.adjusted),
        )
        if used and args.rule != "beam-f3"
    ]
    unused += [
        name
        for name, used in (
            ("--hotspot", args.hotspot != "C3"),
            ("--distance-cm", args.distance_cm != 5.0),
        )
        if used and args.rule != "5cm"
    ]
    if unused:  # an option the rule ignores is a sign the wrong rule was asked for
        rule_of = {"--hotspot": "5cm", "--distance-cm": "5cm"}
        raise InputError(
            f"{', '.join(unused)} do(es) not apply to --rule {args.rule} — drop it, or use --rule "
            f"{rule_of.get(unused[0], 'beam-f3')}"
        )
    if args.rule == "beam-f3" and measurements is None:
        if any(v is None for v in given):
            raise InputError(
                "--rule beam-f3 needs --nasion-inion, --tragus-tragus and --circumference (cm)"
            )
        measurements = check_measurements(*given)
    hotspot = args.hotspot
    if any(ch.isdigit() for ch in hotspot) and "," in hotspot:
        hotspot = parse_point(hotspot, "--hotspot")
    return scalp_rule_target(
        load_template_head(), args.rule, measurements, hotspot, args.distance_cm, args.adjusted
    )


def method_choices() -> list[str]:
    """Return the ``--method`` choices: the targeting methods' registry."""
    from ..targeting.methods import METHODS

    return list(METHODS)


def confounds_choices() -> list[str]:
    """``--confounds-strategy`` choices: the confound strategies' registry."""
    from ..io.defaults import STRATEGIES

    return list(STRATEGIES)


def add_cleaning_arguments(group) -> None:
    """Add the cleaning options of every command that cleans BOLD data.

    These commands are ``target``, ``reliability`` and ``circuit build``. Defaults are the library's
    (:mod:`tmstarget.targeting.defaults`); :func:`cleaning_options` turns them into
    :class:`~tmstarget.targeting.TargetingOptions` keyword arguments.
    """
    from ..io.defaults import DEFAULT_STRATEGY
    from ..targeting import defaults as d

    group.add_argument(
        "--confounds-strategy",
        default=DEFAULT_STRATEGY,
        choices=confounds_choices(),
        help=HELP["confounds-strategy"],
    )
    group.add_argument("--gsr", action="store_true", help=HELP["gsr"])
    group.add_argument(
        "--fd-threshold",
        type=optional_threshold,
        default=d.FD_THRESHOLD_MM,
        metavar="MM|none",
        help=HELP["fd-threshold"],
    )
    group.add_argument(
        "--dvars-threshold",
        type=optional_threshold,
        default=None,
        metavar="Z|none",
        help=HELP["dvars-threshold"],
    )
    group.add_argument(
        "--high-pass",
        type=positive_float,
        default=d.HIGH_PASS_HZ,
        metavar="HZ",
        help=HELP["high-pass"],
    )
    group.add_argument(
        "--low-pass",
        type=positive_float,
        default=d.LOW_PASS_HZ,
        metavar="HZ",
        help=HELP["low-pass"],
    )
    group.add_argument(
        "--fwhm",
        type=nonneg_float,
        default=d.FWHM_MM,
        metavar="MM",
        help=HELP["fwhm"],
    )
    group.add_argument(
        "--min-volumes",
        type=positive_int,
        default=d.MIN_VOLUMES,
        metavar="N",
        help=HELP["min-volumes"],
    )
    group.add_argument(
        "--me-denoise",
        choices=d.ME_DENOISE_CHOICES,
        default=d.ME_DENOISE,
        help="multi-echo runs (fMRIPrep --me-output-echos): tedana = tedana's ME-ICA denoised "
        "series, optcom = the echoes combined by T2* weights (tedana), none = fMRIPrep's "
        "optimally combined series; single-echo runs and surfaces are read as given",
    )


def cleaning_options(args: argparse.Namespace) -> dict:
    """``TargetingOptions`` keyword arguments of the cleaning options."""
    from ..exceptions import InputError

    if args.high_pass >= args.low_pass:
        raise InputError(
            f"--high-pass {args.high_pass} Hz must be below "
            f"--low-pass {args.low_pass} Hz — swap or fix "
            "them"
        )
    return dict(
        confounds_strategy=args.confounds_strategy,
        global_signal=args.gsr,
        fd_threshold_mm=args.fd_threshold,
        dvars_threshold=args.dvars_threshold,
        high_pass_hz=args.high_pass,
        low_pass_hz=args.low_pass,
        fwhm_mm=args.fwhm,
        min_volumes=args.min_volumes,
        me_denoise=args.me_denoise,
    )


def add_selection_arguments(
    group,
    label_help: str = "",
    group_target: bool = False,
) -> None:
    """Add the circuit and selection options of ``target`` and ``reliability``.

    Defaults are the library's. With them come the placement error of ``--method efield`` and, for
    ``target``, ``--group-target``. ``label_help`` is appended to the shared ``--circuit-label``
    help (:data:`tmstarget.cli._help.HELP`).
    """
    from ..targeting import defaults
    from ..targeting.methods import DEFAULT_METHOD

    group.add_argument(
        "--circuit",
        default=defaults.CIRCUIT,
        metavar="sgacc|convergent|PATH",
        help="circuit to match (positive = stimulate)",
    )
    group.add_argument("--circuit-label", metavar="LABEL", help=HELP["circuit-label"] + label_help)
    group.add_argument(
        "--method",
        default=DEFAULT_METHOD,
        choices=method_choices(),
        help=HELP["method"],
    )
    group.add_argument(
        "--search-mask",
        type=Path,
        metavar="PATH",
        help=HELP["search-mask"],
    )
    if group_target:
        group.add_argument(
            "--group-target",
            action=PointAction,
            help="group prior point x,y,z (MNI mm) for --method shrinkage, e.g. -38,44,26 "
            "(default: the circuit map; sgacc: Fox 2012 (-38, 44, 26))",
        )
    group.add_argument(
        "--neighbourhood-mm",
        default=defaults.NEIGHBOURHOOD_MM,
        type=positive_float,
        metavar="MM",
        help=HELP["neighbourhood-mm"],
    )
    add_placement_error_arguments(group)


def placement_error_mm(text: str) -> float:
    """Argparse type: a coil placement error in mm, 0 (no averaging) or 1–20.

    A fraction of a millimetre is refused as a value in centimetres or metres.
    """
    return _number(
        text,
        float,
        lambda v: v == 0.0 or 1.0 <= v <= 20.0,
        "a placement error of 0 or 1-20 mm (not cm or m)",
    )


def placement_error_deg(text: str) -> float:
    """Argparse type: a coil rotation error in degrees, 0 (no averaging) or 1–45.

    A fraction of a degree is refused as a value in radians.
    """
    return _number(
        text,
        float,
        lambda v: v == 0.0 or 1.0 <= v <= 45.0,
        "a rotation error of 0 or 1-45 degrees (not radians)",
    )


def add_placement_error_arguments(group) -> None:
    """Add ``--placement-error-mm`` / ``--placement-error-deg`` of ``--method efield``.

    Defaults are the library's.
    """
    from ..coil.defaults import PLACEMENT_ERROR_DEG, PLACEMENT_ERROR_MM

    group.add_argument(
        "--placement-error-mm",
        type=placement_error_mm,
        default=PLACEMENT_ERROR_MM,
        metavar="MM",
        help=HELP["placement-error-mm"],
    )
    group.add_argument(
        "--placement-error-deg",
        type=placement_error_deg,
        default=PLACEMENT_ERROR_DEG,
        metavar="DEG",
        help=HELP["placement-error-deg"],
    )


def placement_error_options(args: argparse.Namespace) -> dict:
    """Return the ``TargetingOptions`` keywords of the placement-error options.

    A value other than the default with a method that does not use them is refused (see
    :func:`tmstarget.targeting.options.placement_error_keywords`).
    """
    from ..targeting.options import placement_error_keywords

    return placement_error_keywords(
        getattr(args, "method", "robust"),
        getattr(args, "placement_error_mm", None),
        getattr(args, "placement_error_deg", None),
    )


def add_surface_mesh_argument(group) -> None:
    """Add ``--surface-mesh LEFT RIGHT``: the midthickness meshes of a CIFTI's cortical vertices.

    For ``target`` and ``reliability``.
    """
    group.add_argument(
        "--surface-mesh",
        nargs=2,
        type=Path,
        metavar=("LEFT", "RIGHT"),
        help=HELP["surface-mesh"],
    )


def add_dask_arguments(group) -> None:
    """``--n-workers`` and ``--scheduler`` (``target``, ``circuit build``)."""
    group.add_argument(
        "--n-workers",
        type=positive_int,
        metavar="N",
        help=HELP["n-workers"],
    )
    group.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help=HELP["scheduler"],
    )


def check_map_options(circuit: str | None, search_mask: Path | None) -> None:
    """Check a ``--circuit PATH`` and a ``--search-mask`` file before any BOLD data is read.

    A bad file thus fails in a second (see :func:`tmstarget.targeting.options.check_map_inputs`).
    """
    from ..targeting.options import check_map_inputs

    check_map_inputs(circuit, search_mask)
