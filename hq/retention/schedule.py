"""The retention run on a period inside ``counterunit hq serve`` (like upload expiry).

``tick(now)`` is one run with the time given, so tests drive it exactly; the thread only
calls it every ``every_s`` seconds. A failing run is logged once, and its recovery once.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable

from .run import RetentionRun, RunReport

log = logging.getLogger(__name__)

DEFAULT_EVERY_S = 3600.0  # periods are in days; an hourly run keeps deletions punctual


class RetentionSchedule:
    """Calls ``run(now)`` every ``every_s`` seconds on a daemon thread."""

    def __init__(self, run: RetentionRun, every_s: float = DEFAULT_EVERY_S, *,
                 clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)) -> None:
        self.run, self.every_s, self.clock = run, every_s, clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing = False

    def tick(self, now: dt.datetime) -> RunReport | None:
        """One run at ``now``; None if it failed (logged once until it works again)."""
        try:
            report = self.run(now)
        except Exception as exc:  # housekeeping must never take HQ down
            if not self._failing:
                log.error("retention run failing: %s", exc)
            self._failing = True
            return None
        if self._failing:
            log.info("retention run working again")
            self._failing = False
        return report

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="hq-retention", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            self.tick(self.clock())
