"""HQ's housekeeping on a period: one daemon thread per job, a failure logged once.

``tick(now)`` is one round with the time given, so tests drive it exactly; the thread
only calls it every ``every_s`` seconds. Housekeeping must never take HQ down: a round
that raises is logged once (``<what> failing``), its recovery once (``working again``).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

R = TypeVar("R")


class PeriodicJob(Generic[R]):
    """Calls ``work(now)`` every ``every_s`` seconds; ``failed`` is a failed round's result."""

    def __init__(self, what: str, thread_name: str, every_s: float,
                 clock: Callable[[], dt.datetime], work: Callable[[dt.datetime], R],
                 failed: R, log: logging.Logger) -> None:
        self.every_s, self.clock = every_s, clock
        self._what, self._thread_name = what, thread_name
        self._work, self._failed, self._log = work, failed, log
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing = False

    def tick(self, now: dt.datetime) -> R:
        """One round at ``now`` (``failed`` if it raised)."""
        try:
            result = self._work(now)
        except Exception as exc:  # housekeeping must never take HQ down
            if not self._failing:
                self._log.error("%s failing: %s", self._what, exc)
            self._failing = True
            return self._failed
        if self._failing:
            self._log.info("%s working again", self._what)
            self._failing = False
        return result

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self._thread_name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            self.tick(self.clock())
