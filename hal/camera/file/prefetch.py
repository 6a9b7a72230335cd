"""Run an iterator a few items ahead on its own thread (decoding ahead in a replay).

A replay decodes and scales the next frames while the unit analyses the
current one: FFmpeg and swscale release the GIL, so on two cores the two
overlap. The queue is bounded (``depth`` items), so memory stays a few
frames whatever the speed difference.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")
_END = object()
_POLL_S = 0.1  # how often a blocked producer looks whether the consumer has gone


def prefetched(items: Iterator[T], depth: int, name: str = "prefetch") -> Iterator[T]:
    """``items`` in order, produced up to ``depth`` ahead on a worker thread.

    An exception raised by ``items`` is raised here, after the items before it.
    Closing (or abandoning) this iterator stops the worker and waits for it,
    so nothing touches ``items``' resources once it has returned.
    """
    if depth < 1:
        raise ValueError(f"depth must be >= 1, got {depth}")
    slots: queue.Queue[tuple[object, BaseException | None]] = queue.Queue(maxsize=depth)
    gone = threading.Event()

    def put(entry: tuple[object, BaseException | None]) -> bool:
        while not gone.is_set():
            try:
                slots.put(entry, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    return
        except BaseException as exc:  # handed to the consumer, raised there
            put((_END, exc))
            return
        put((_END, None))

    worker = threading.Thread(target=produce, name=name, daemon=True)
    worker.start()
    try:
        while True:
            item, error = slots.get()
            if error is not None:
                raise error
            if item is _END:
                return
            yield item  # type: ignore[misc]
    finally:
        gone.set()
        worker.join()
