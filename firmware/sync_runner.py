"""``counterunit sync``: the unit's store-and-forward to HQ, as its own process.

Reads the outbox the daemon fills, sends events (alerts first) in batches and
clips by resumable upload, and marks each acknowledged only once HQ has said
so. Any failure keeps everything and backs off with jitter; the daemon never
waits on it. ``step`` is one pass with time given, so tests drive it exactly.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from firmware.config import SyncConfig, UploadWindow
from sync.backoff import Backoff
from sync.hq_client import HQClient, HQError, HQRejected
from sync.outbox import Outbox
from sync.throttle import TokenBucket

log = logging.getLogger(__name__)


def in_windows(windows: Sequence[UploadWindow], local: dt.time) -> bool:
    """Clips may upload now: inside a window, or no windows configured (pure)."""
    return not windows or any(w.start <= local < w.end for w in windows)


@dataclass
class SyncStats:
    events_accepted: int = 0
    events_duplicate: int = 0
    clips_uploaded: int = 0
    failures: int = 0


class SyncRunner:
    """One unit's link to HQ; see the module docstring."""

    def __init__(self, outbox: Outbox, client: HQClient, cfg: SyncConfig, tz: ZoneInfo, *,
                 rng: random.Random | None = None,
                 wall: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)) -> None:
        self.outbox = outbox
        self.client = client
        self.cfg = cfg
        self.tz = tz
        self.rng = rng or random.Random()
        self.wall = wall
        self.backoff = Backoff(cfg.backoff_base_s, cfg.backoff_cap_s)
        self.bucket = TokenBucket(cfg.upload_bandwidth)
        self.failures = 0  # consecutive
        self.next_try = 0.0
        self.stats = SyncStats()

    def step(self, now: float) -> bool:
        """One pass at monotonic time ``now``; True if something was sent (go again)."""
        if now < self.next_try:
            return False
        try:
            sent = self._send_events() or self._upload_one_clip()
        except HQError as exc:
            self._failed(now, exc)
            return False
        if self.failures:
            log.info("HQ sync working again after %d failed attempt(s)", self.failures)
            self.failures = 0
        return sent

    def _send_events(self) -> bool:
        batch = self.outbox.next_event_batch(self.cfg.batch_events, self.cfg.batch_bytes)
        if not batch:
            return False
        uuids = [e.uuid for e in batch]
        self.outbox.note_attempt(uuids)
        accepted, duplicates = self.client.post_events(batch)
        self.outbox.ack_events(uuids, self.wall())
        self.stats.events_accepted += accepted
        self.stats.events_duplicate += duplicates
        return True

    def _upload_one_clip(self) -> bool:
        if not in_windows(self.cfg.upload_windows, self.wall().astimezone(self.tz).time()):
            return False
        clips = self.outbox.pending_clips()
        if not clips:
            return False
        clip = clips[0]
        self.outbox.note_attempt([clip.clip_id], kind="clip")
        self.client.upload_clip(clip.clip_id, clip.path, clip.size, clip.sha256,
                                bucket=self.bucket, chunk_bytes=self.cfg.chunk_bytes)
        self.outbox.ack_clip(clip.clip_id, self.wall())
        self.stats.clips_uploaded += 1
        return True

    def _failed(self, now: float, exc: HQError) -> None:
        self.failures += 1
        self.stats.failures += 1
        delay = self.backoff.delay(self.failures, self.rng)
        self.next_try = now + delay
        if self.failures == 1:  # the loss once; the recovery once (in step)
            kind = "refused by HQ" if isinstance(exc, HQRejected) else "HQ unreachable"
            log.warning("HQ sync: %s: %s; keeping everything and retrying with backoff",
                        kind, exc)
        else:
            log.debug("HQ sync still failing (%d): %s; next try in %.1f s", self.failures,
                      exc, delay)

    def run(self, stop: threading.Event, clock: Callable[[], float] = time.monotonic) -> None:
        """Loop until ``stop`` is set (SIGTERM)."""
        while not stop.is_set():
            now = clock()
            if not self.step(now):
                wait = self.next_try - now if self.next_try > now else self.cfg.poll_s
                stop.wait(min(wait, self.cfg.poll_s))
