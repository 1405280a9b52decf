"""Progress reporting on stderr, silent when stderr is not a terminal or when disabled."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
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


@contextmanager
def spinner(desc: str, interval_s: float = 0.25) -> Iterator[None]:
    """Show ``desc`` and the elapsed time on stderr while the block runs.

    Meant for one long step without a loop. Silent when progress is off (``--quiet``) or stderr is
    not a terminal; the line is cleared at the end.

    Parameters
    ----------
    desc : str
        What is being done, e.g. ``"writing the report"``.
    interval_s : float
        Seconds between redraws.
    """
    if not (_ENABLED and sys.stderr.isatty()):
        yield
        return
    import threading

    stop = threading.Event()
    start = time.perf_counter()
    marks = "|/-\\"

    def draw() -> None:
        i = 0
        while not stop.wait(interval_s):
            sys.stderr.write(f"\r{desc} {marks[i % 4]} {time.perf_counter() - start:5.1f}s")
            sys.stderr.flush()
            i += 1

    thread = threading.Thread(target=draw, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        sys.stderr.write("\r" + " " * (len(desc) + 10) + "\r")
        sys.stderr.flush()
