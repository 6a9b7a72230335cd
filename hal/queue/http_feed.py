"""Queue machine polled over HTTP: GET a JSON snapshot every ``poll_s`` (hal/queue/snapshot.py).

One poller thread; every failure (refused, timeout, non-200, too big, bad JSON, wrong
shape) is counted and kept as ``problem``, logged at debug: the daemon logs the feed's
loss once, when it goes stale. A refused document is logged once per good spell.
"""

from __future__ import annotations

import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hal.queue.base import QueueReading, ReadingQueue
from hal.queue.snapshot import CallCursor, SnapshotError, parse_snapshot

if TYPE_CHECKING:
    from hal.queue.config import HttpQueueConfig

log = logging.getLogger(__name__)


@dataclass(slots=True)
class PollStats:
    polls: int = 0
    good: int = 0
    failed: int = 0
    refused: int = 0  # answered, but the document broke the shape
    renumbered: int = 0


class HttpQueueFeed:
    """hal.queue.base.QueueFeed over an HTTP JSON poll."""

    @classmethod
    def from_config(cls, cfg: HttpQueueConfig, clock: Callable[[], float]) -> HttpQueueFeed:
        """From its ``[queue]`` section; nothing opens until start()."""
        return cls(cfg.url, clock=clock, poll_s=cfg.poll_s, timeout_s=cfg.timeout_s,
                   max_bytes=cfg.max_bytes)

    def __init__(self, url: str, *, clock: Callable[[], float], poll_s: float = 5.0,
                 timeout_s: float = 3.0, max_bytes: int = 256 * 1024,
                 queue_size: int = 1024) -> None:
        self.url = url
        self._clock = clock
        self._poll_s = poll_s
        self._timeout_s = timeout_s
        self._max_bytes = max_bytes
        self._queue = ReadingQueue(queue_size)
        self._cursor = CallCursor()
        self._refusal_logged = False
        self._problem = "not polled yet"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.stats = PollStats()
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="queue-http", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self._timeout_s + 5.0)
            self._thread = None

    def readings(self) -> list[QueueReading]:
        return self._queue.take()

    def wait_for_reading(self, timeout_s: float) -> bool:
        return self._queue.wait(timeout_s)

    @property
    def problem(self) -> str:
        return self._problem

    @property
    def dropped(self) -> int:
        return self._queue.dropped

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:  # a bug must not end the polling; it shows as a stale feed
                log.debug("queue %s: poll failed unexpectedly", self.url, exc_info=True)
                self._problem = "internal error while polling"
            self._stop.wait(self._poll_s)

    def poll_once(self) -> bool:
        """One GET; True if a valid snapshot was taken."""
        self.stats.polls += 1
        try:
            body = self._fetch()
            snap = parse_snapshot(body)
        except SnapshotError as exc:
            self.stats.refused += 1
            self._problem = f"refused document: {exc}"
            if not self._refusal_logged:
                self._refusal_logged = True
                log.warning("queue %s: refused the document (%s); further refusals are only "
                            "counted until a good one", self.url, exc)
            return False
        except (OSError, ValueError) as exc:  # URLError/HTTPError/timeouts are OSErrors
            self.stats.failed += 1
            self._problem = f"poll failed: {exc}"[:300]
            log.debug("queue %s: %s", self.url, self._problem)
            return False
        self.stats.good += 1
        self._refusal_logged = False
        self._problem = ""
        t = self._clock()
        self._cursor, calls, renumbered = self._cursor.new_calls(snap)
        if renumbered:
            self.stats.renumbered += 1
            log.info("queue %s: call numbering restarted; taking the calls shown now", self.url)
        for service, waiting in snap.services:
            self._queue.push(QueueReading("waiting", t, service=service, waiting=waiting))
        for c in calls:
            self._queue.push(QueueReading("called", t, ticket=c.ticket, counter=c.counter))
        self._queue.push(QueueReading("alive", t))
        return True

    def _fetch(self) -> bytes:
        req = urllib.request.Request(self.url, headers={"Accept": "application/json"})
        with self._opener.open(req, timeout=self._timeout_s) as resp:
            if resp.status != 200:
                raise ValueError(f"HTTP {resp.status}")
            body: bytes = resp.read(self._max_bytes + 1)
        if len(body) > self._max_bytes:
            raise ValueError(f"answer over {self._max_bytes} bytes")
        return body
