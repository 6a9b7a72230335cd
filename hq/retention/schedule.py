"""The retention run on a period inside ``counterunit hq serve`` (like upload expiry).

``tick(now)`` is one run with the time given, so tests drive it exactly; the thread only
calls it every ``every_s`` seconds. A failing run is logged once, and its recovery once.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from hq.periodic import PeriodicJob

from .run import RetentionRun, RunReport

log = logging.getLogger(__name__)

DEFAULT_EVERY_S = 3600.0  # periods are in days; an hourly run keeps deletions punctual


class RetentionSchedule(PeriodicJob[RunReport | None]):
    """Calls ``run(now)`` every ``every_s`` seconds on a daemon thread; a failed run
    gives None."""

    def __init__(self, run: RetentionRun, every_s: float = DEFAULT_EVERY_S, *,
                 clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)) -> None:
        self.run = run
        super().__init__("retention run", "hq-retention", every_s, clock, run, None, log)
