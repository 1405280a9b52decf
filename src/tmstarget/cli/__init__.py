"""The ``tmstarget`` command line: one console script with subcommands."""

from .main import main

__all__ = ["main"]
