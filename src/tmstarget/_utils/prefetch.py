"""Run an iterator in a background thread so that I/O overlaps computation."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Generic, TypeVar

T = TypeVar("T")

_DONE = object()


class Prefetcher(Generic[T]):
    """Produce the items of an iterator ahead, in a daemon thread (at most ``depth`` buffered).

    The thread starts at construction, so reading can begin while the caller is still preparing.
    Decompression (zlib) and array copies release the GIL, so reading the next chunk of a gzipped
    image proceeds while the caller multiplies the current one. Exceptions raised by the iterator
    are re-raised in the consumer. Use as a context manager: leaving it stops the producer.
    """

    def __init__(self, iterator: Iterator[T], depth: int = 4) -> None:
        self._q: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._produce, args=(iterator,), name="tmstarget-prefetch", daemon=True
        )
        self._thread.start()

    def _put(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self._q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self, iterator: Iterator[T]) -> None:
        try:
            for item in iterator:
                if not self._put((item, None)):
                    return
            self._put((_DONE, None))
        except BaseException as exc:  # noqa: BLE001 - re-raised in the consumer
            self._put((_DONE, exc))

    def __iter__(self) -> Iterator[T]:
        while True:
            item, exc = self._q.get()
            if item is _DONE:
                if exc is not None:
                    raise exc
                return
            yield item

    def close(self) -> None:
        """Stop the producer and wait for its thread."""
        self._stop.set()
        while self._thread.is_alive():
            try:
                self._q.get_nowait()
            except queue.Empty:
                self._thread.join(timeout=0.05)

    def __enter__(self) -> Prefetcher[T]:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
