"""Entry point of the ``tmstarget`` console script."""

from __future__ import annotations

import logging
import sys
import warnings

from .. import NOTICE, __version__
from .._utils.progress import set_progress
from ..exceptions import InputError
from .parser import build_parser

logger = logging.getLogger("tmstarget")


def _configure_logging(verbose: int, quiet: bool) -> None:
    level = logging.WARNING if quiet else (logging.DEBUG if verbose > 0 else logging.INFO)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter("%(message)s" if level > logging.DEBUG else "%(name)s: %(message)s")
    )
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False
    set_progress(not quiet)
    if not verbose:
        warnings.filterwarnings("ignore")


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv``, run the subcommand and return its exit code.

    Input problems (:class:`~tmstarget.exceptions.InputError`) and file-system errors
    (:class:`OSError`) become one line on stderr, ``tmstarget COMMAND: error: … — fix`` as
    argparse's usage errors, and exit code 2; ``--debug`` shows the traceback instead.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose, args.quiet)
    from ._paths import check_path_collisions, chosen_command

    # errors read as argparse's: "tmstarget COMMAND: error: ..."
    prog = f"tmstarget {chosen_command(parser, args)[0]}"
    try:
        check_path_collisions(parser, args)
        code = int(args.func(args) or 0)
        logger.info("tmstarget %s — %s", __version__, NOTICE)
        return code
    except InputError as exc:
        if args.debug:
            raise
        sys.stderr.write(f"{prog}: error: {exc}\n")
        return 2
    except (
        OSError
    ) as exc:  # a file-system error that no command turned into an InputError: still one line
        if args.debug:
            raise
        from ..io.paths import os_error_message

        sys.stderr.write(f"{prog}: error: {os_error_message(exc)}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write(f"{prog}: interrupted — no partial outputs were kept\n")
        return 130
    except MemoryError:
        if args.debug:
            raise
        sys.stderr.write(
            f"{prog}: error: out of memory — use a machine with more RAM or fewer/shorter runs\n"
        )
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
