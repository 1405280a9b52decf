"""Progress reporting on stderr, silent when stderr is not a terminal or when disabled."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

_ENABLED = True


def set_progress(enabled: bool) -> None:
    """Switch progress bars on or off globally (the CLI's ``--quiet`` turns them off)."""
    global _ENABLED
    _ENABLED = enabled


def progress(iterable: Iterable[T], total: int, desc: str) -> Iterator[T]:
    """Yield from ``iterable`` while drawing a one-line progress bar on stderr.

    Parameters
    ----------
    iterable : iterable
        Items to yield.
    total : int
        Number of items expected (for the percentage).
    desc : str
        Short label shown before the bar.
    """
    show = _ENABLED and sys.stderr.isatty() and total > 1
    start = time.perf_counter()
    for i, item in enumerate(iterable, 1):
        yield item
        if show:
            frac = i / total
            bar = "#" * int(24 * frac)
            elapsed = time.perf_counter() - start
            sys.stderr.write(f"\r{desc}: [{bar:<24}] {100 * frac:5.1f}% {elapsed:5.1f}s")
            sys.stderr.flush()
    if show:
        sys.stderr.write("\n")
