"""HQ's housekeeping beside the requests: abandoned uploads expire on a schedule.

One daemon thread per running HQ (``counterunit hq serve`` and the embedded HQ start it
with the server). ``tick(now)`` is one round with the time given, so tests drive it
exactly; the thread only calls it on its period.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from hq.periodic import PeriodicJob
from hq.storage.base import ClipStore

log = logging.getLogger(__name__)


class UploadExpiry(PeriodicJob[int]):
    """Expires uploads idle for ``abandon_after`` every ``every_s`` seconds."""

    def __init__(self, clips: ClipStore, every_s: float, *,
                 clock: Callable[[], dt.datetime] | None = None) -> None:
        self.clips = clips
        super().__init__("upload expiry", "hq-upload-expiry", every_s, clock or clips.clock,
                         lambda now: clips.expire(clips.abandon_after, now), 0, log)
