"""Badge taps waiting for the unit, shared by every badge reader back-end."""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterable

from hal.badge.base import BadgeRead
from hal.badge.lines import BadgeLineError

log = logging.getLogger(__name__)


class BadgeReadQueue:
    """A held card counts as one tap; a flood drops the oldest taps (counted).

    The same UID again within ``repeat_suppress_s`` is a card left on the reader,
    not a second tap, which would log the staff member straight out again.
    """

    def __init__(self, clock: Callable[[], float], monotonic: Callable[[], float],
                 repeat_suppress_s: float, queue_size: int, source: str = "badge reader") -> None:
        self.source = source
        self._noise_logged = False
        self._clock = clock
        self._mono = monotonic
        self._repeat_s = repeat_suppress_s
        self._size = queue_size
        self._reads: deque[BadgeRead] = deque()
        self._cond = threading.Condition()
        self._last_uid = ""
        self._last_uid_t = 0.0
        self.suppressed = 0
        self.dropped = 0

    def accept(self, items: Iterable[str | BadgeLineError]) -> None:
        """What a reader decoded: UIDs are offered, rejected lines logged once, then counted."""
        for item in items:
            if isinstance(item, BadgeLineError):
                self._reject(item)
            else:
                self.offer(item)

    def _reject(self, err: BadgeLineError) -> None:
        if not self._noise_logged:
            self._noise_logged = True
            log.warning("badge reader %s: rejected a line (%s: %s); further rejections are "
                        "only counted", self.source, err.kind, err.detail)
        else:
            log.debug("badge reader %s: rejected %s: %s", self.source, err.kind, err.detail)

    def offer(self, uid: str) -> None:
        """A UID the reader decoded; called from the reader's thread."""
        now = self._mono()
        if uid == self._last_uid and now - self._last_uid_t < self._repeat_s:
            self.suppressed += 1
            self._last_uid_t = now  # a card held for long keeps being one tap
            return
        self._last_uid, self._last_uid_t = uid, now
        with self._cond:
            if len(self._reads) >= self._size:
                self._reads.popleft()
                self.dropped += 1
            self._reads.append(BadgeRead(uid=uid, t=self._clock()))
            self._cond.notify_all()

    def drain(self) -> list[BadgeRead]:
        """Reads since the last call (non-blocking)."""
        with self._cond:
            out = list(self._reads)
            self._reads.clear()
        return out

    def wait(self, timeout_s: float) -> bool:
        """Block until a read is queued or ``timeout_s`` passes; True if one is queued."""
        with self._cond:
            return self._cond.wait_for(lambda: bool(self._reads), timeout=timeout_s)


class QueuedReads:
    """The read side every badge back-end offers, served from its ``_queue``."""

    _queue: BadgeReadQueue

    def reads(self) -> list[BadgeRead]:
        """Reads since the last call (non-blocking)."""
        return self._queue.drain()

    def wait_for_read(self, timeout_s: float) -> bool:
        """Block until a read is queued or ``timeout_s`` passes; True if one is queued."""
        return self._queue.wait(timeout_s)
