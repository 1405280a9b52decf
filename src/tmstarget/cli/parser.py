"""Builds the ``tmstarget`` argument parser (no parsing or work happens here).

Each subcommand lives in ``tmstarget.cli.commands.<name>`` and exposes ``add_parser(subparsers,
parents)`` which registers it and sets ``func`` to a ``run(args) -> int`` handler. Command modules
are discovered automatically; they import heavy libraries inside their handlers so that ``tmstarget
--help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from typing import NoReturn

from .. import NOTICE, __version__

#: Subcommands listed first in ``--help``; the others follow alphabetically.
_FIRST = ["demo", "simulate", "target"]


def command_names() -> list[str]:
    """Names of the subcommand modules under ``tmstarget.cli.commands``."""
    from . import commands

    found = sorted(
        m.name for m in pkgutil.iter_modules(commands.__path__) if not m.name.startswith("_")
    )
    return [n for n in _FIRST if n in found] + [n for n in found if n not in _FIRST]


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line on stderr with exit code 2.

    Values that start like a negative number (``--target -40,42,30``, ``--coords -38,44,26``) are
    taken as values, not options, in every command (tmstarget has no option that looks like a
    negative number).
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        from ._common import NEGATIVE_VALUES

        self._negative_number_matcher = NEGATIVE_VALUES

    def error(self, message: str) -> NoReturn:  # noqa: D102 - argparse API
        sys.stderr.write(f"{self.prog}: error: {message} — see '{self.prog} --help'\n")
        raise SystemExit(2)


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Show each default once and keep paragraph breaks in descriptions.

    ``(default: X)`` is added only where it says something: not for required options, flags, absent
    defaults (None, ``[]``: the help says what happens) or help that already states its default.
    Deprecated spellings of an option (:func:`~tmstarget.cli._common.deprecated_alias`) are not
    listed.
    """

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (
            action.required
            or default is None
            or default is False
            or default is argparse.SUPPRESS
            or default == []
            or "(default" in text
            or "default:" in text
            or action.nargs == 0
        ):
            return text
        return text + " (default: %(default)s)"

    def _format_args(self, action: argparse.Action, default_metavar: str) -> str:
        if getattr(
            action, "single_metavar", False
        ):  # a point option: one X,Y,Z (the old X Y Z form is not advertised)
            return self._metavar_formatter(action, default_metavar)(1)[0]
        return super()._format_args(action, default_metavar)

    def _format_action_invocation(self, action: argparse.Action) -> str:
        hidden = getattr(action, "deprecated_names", ())
        if not hidden:
            return super()._format_action_invocation(action)
        shown = argparse.Action(
            [s for s in action.option_strings if s not in hidden],
            action.dest,
            nargs=action.nargs,
            metavar=action.metavar,
        )
        return super()._format_action_invocation(shown)


def common_parent() -> argparse.ArgumentParser:
    """Options every subcommand takes: verbosity and debugging."""
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("output and logging")
    group.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="more log messages on stderr (repeat for debug)",
    )
    group.add_argument(
        "--quiet", action="store_true", help="only warnings and errors on stderr; no progress bars"
    )
    group.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    return parent


def build_parser() -> argparse.ArgumentParser:
    """Return the full ``tmstarget`` parser with every subcommand registered."""
    parser = OneLineParser(
        prog="tmstarget",
        description=(
            f"tmstarget {__version__}: fMRI-guided TMS targeting for depression ({NOTICE}).\n"
            "Connectivity-guided DLPFC targets from fMRIPrep "
            "outputs, scalp rules, coil placement,\n"
            "protocols, outcomes and trial statistics."
        ),
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"tmstarget {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    sub.required = True
    parents = [common_parent()]
    for name in command_names():
        module = importlib.import_module(f"tmstarget.cli.commands.{name}")
        module.add_parser(sub, parents)
    _finite_numbers(parser)
    return parser


def iter_commands(parser: argparse.ArgumentParser, prefix: str = ""):
    """Yield ``(name, parser)`` for ``parser`` and for every subcommand below it.

    ``parser`` itself is named ``prefix``; a subcommand is named by its path, e.g.
    ``"trial analyze"``.
    """
    yield prefix, parser
    for action in parser._actions:  # noqa: SLF001
        if isinstance(action, argparse._SubParsersAction):  # noqa: SLF001
            for name, child in action.choices.items():
                yield from iter_commands(child, f"{prefix} {name}".strip())


def _finite_numbers(parser: argparse.ArgumentParser) -> None:
    """Make every ``type=float`` option of every command refuse NaN and infinity.

    Issue 24: no 'nan' reaches a result.
    """
    from ._common import finite_float

    for _, p in iter_commands(parser):
        for action in p._actions:  # noqa: SLF001
            if action.type is float:
                action.type = finite_float
