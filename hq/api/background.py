"""HQ's housekeeping beside the requests: abandoned uploads expire on a schedule.

One daemon thread per running HQ (``counterunit hq serve`` and the embedded HQ start it
with the server). ``tick(now)`` is one round with the time given, so tests drive it
exactly; the thread only calls it on its period.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable

from hq.storage import LocalClipStore

log = logging.getLogger(__name__)


class UploadExpiry:
    """Expires uploads idle for ``abandon_after`` every ``every_s`` seconds."""

    def __init__(self, clips: LocalClipStore, every_s: float, *,
                 clock: Callable[[], dt.datetime] | None = None) -> None:
        self.clips = clips
        self.every_s = every_s
        self.clock = clock or clips.clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing = False

    def tick(self, now: dt.datetime) -> int:
        """One round at ``now``: how many uploads expired (a storage error is logged once)."""
        try:
            gone = self.clips.expire(self.clips.abandon_after, now)
        except Exception as exc:  # housekeeping must never take HQ down
            if not self._failing:
                log.error("upload expiry failing: %s", exc)
            self._failing = True
            return 0
        if self._failing:
            log.info("upload expiry working again")
            self._failing = False
        return gone

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="hq-upload-expiry", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            self.tick(self.clock())
