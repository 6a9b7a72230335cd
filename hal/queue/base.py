"""Queue-machine feed interface: what the hall's ticket system reports, whatever the wire."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

ReadingKind = Literal["waiting", "called", "alive"]


@dataclass(frozen=True, slots=True)
class QueueReading:
    """One thing the queue machine said, stamped with the unit's clock.

    ``waiting``: ``service`` has ``waiting`` customers. ``called``: ``ticket`` was called to
    ``counter``. ``alive``: a valid heartbeat or poll with nothing new (keeps the feed fresh).
    """

    kind: ReadingKind
    t: float
    service: str = ""
    waiting: int = 0
    ticket: str = ""
    counter: str = ""


class QueueFeed(Protocol):
    """A queue-machine back-end (serial lines or an HTTP JSON poll); nothing opens before
    start(), and neither bad input nor a dead link raises out of it."""

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def readings(self) -> list[QueueReading]:
        """Readings since the last call (non-blocking)."""
        ...

    @property
    def problem(self) -> str:
        """The latest reason the feed is not delivering ('' when it is)."""
        ...


class ReadingQueue:
    """A bounded hand-over from a reader thread: the oldest reading goes when full."""

    def __init__(self, size: int) -> None:
        import threading
        from collections import deque

        self._items: deque[QueueReading] = deque()
        self._size = size
        self._cond = threading.Condition()
        self.dropped = 0

    def push(self, reading: QueueReading) -> None:
        with self._cond:
            if len(self._items) >= self._size:
                self._items.popleft()
                self.dropped += 1
            self._items.append(reading)
            self._cond.notify_all()

    def take(self) -> list[QueueReading]:
        with self._cond:
            out = list(self._items)
            self._items.clear()
        return out

    def wait(self, timeout_s: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: bool(self._items), timeout=timeout_s)
