"""``counterunit sync``: the unit's store-and-forward to HQ, as its own process.

Reads the outbox the daemon fills, sends events (alerts first) in batches and
clips by resumable upload, and marks each acknowledged only once HQ has said
so. Any failure keeps everything and backs off with jitter; the daemon never
waits on it. ``step`` is one pass with time given, so tests drive it exactly.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from firmware.config.from_hq import ConfigInbox
from firmware.config.unit import SyncConfig, UploadWindow
from firmware.status.publish import write_json_atomic
from firmware.syncd.refusals import RefusalAlarm
from sync.backoff import Backoff
from sync.hq_client import BatchAnswer, HQClient, HQError, HQRejected
from sync.identity import UnitIdentity
from sync.outbox import Outbox, PendingClip, Refusal
from sync.renew import maybe_renew
from sync.schema import EventEnvelope
from sync.throttle import TokenBucket
from sync.unit_status import report_status

log = logging.getLogger(__name__)
RENEW_CHECK_S = 24 * 3600.0
# Refusals of a whole event batch that are about its events, not about the unit: the batch
# is then sent one event at a time to find the ones HQ will never take.
_EVENT_REFUSAL_STATUSES = frozenset({400, 409, 413, 422})


def refuses_events(exc: HQRejected) -> bool:
    """Whether a refused batch is about its events (True) or the unit itself (False:
    no certificate, revoked), which setting events aside would not mend."""
    return exc.status in _EVENT_REFUSAL_STATUSES or (
        exc.status == 403 and exc.error in ("foreign_unit", "uuid_taken"))


class _NoAlarm:
    def refused(self, refusals: Sequence[Refusal]) -> None:
        pass

    def caught_up(self) -> None:
        pass


def in_windows(windows: Sequence[UploadWindow], local: dt.time) -> bool:
    """Clips may upload now: inside a window, or no windows configured (pure)."""
    return not windows or any(w.start <= local < w.end for w in windows)


@dataclass
class SyncStats:
    events_accepted: int = 0
    events_duplicate: int = 0
    events_refused: int = 0
    clips_uploaded: int = 0
    failures: int = 0


class SyncRunner:
    """One unit's link to HQ; see the module docstring."""

    def __init__(self, outbox: Outbox, client: HQClient, cfg: SyncConfig, tz: ZoneInfo, *,
                 inbox: ConfigInbox | None = None, status_file: Path | None = None,
                 identity: UnitIdentity | None = None, unit_id: str = "",
                 renew_margin_days: float = 30.0, alarm: RefusalAlarm | None = None,
                 rng: random.Random | None = None,
                 wall: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)) -> None:
        self.outbox = outbox
        self.inbox = inbox
        self.status_file = status_file
        self.next_config_pull = 0.0
        self.identity = identity
        self.unit_id = unit_id
        self.renew_margin_days = renew_margin_days
        self.next_renewal = 0.0
        self.last_ok: dt.datetime | None = None
        self.last_error: str | None = None
        self.uploading: PendingClip | None = None
        self._no_config_logged = False
        self._status_at = float("-inf")
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
        self.alarm: RefusalAlarm = alarm or _NoAlarm()

    def step(self, now: float) -> bool:
        """One pass at monotonic time ``now``; True if something was sent (go again)."""
        self._renew_if_due(now)
        report_status(self, now)  # heartbeat for HQ's /units page; never raises
        if now < self.next_try:
            self._publish_status(now)
            return False
        try:
            sent = self._send_events() or self._pull_config(now) or self._upload_one_clip(now)
        except HQError as exc:
            self._failed(now, exc)
            self._publish_status(now, force=True)
            return False
        finally:
            self.uploading = None
        if self.failures:
            log.info("HQ sync working again after %d failed attempt(s)", self.failures)
            self.failures = 0
        self.last_ok, self.last_error = self.wall(), None
        self._publish_status(now, force=sent)
        return sent

    def _renew_if_due(self, now: float) -> None:
        """Renew the unit certificate when it nears expiry: once a day at most, and outside
        the event backoff, so a failed renewal never holds events up."""
        identity = self.identity
        if identity is None or now < self.next_renewal:
            return
        self.next_renewal = now + RENEW_CHECK_S
        # A failure was logged once by maybe_renew; the current certificate stays in
        # use and the next daily check tries again with a fresh key.
        with contextlib.suppress(HQError):
            maybe_renew(lambda: self.client, identity, self.unit_id, self.wall(),
                        self.renew_margin_days)

    def _pull_config(self, now: float) -> bool:
        """Fetch HQ's config when due and hand it to the daemon; never counts as 'sent'."""
        if self.inbox is None or now < self.next_config_pull:
            return False
        self.next_config_pull = now + self.cfg.config_poll_s
        try:
            got = self.client.fetch_config(self.inbox.last_etag())
        except HQRejected as exc:
            if exc.status != 404:
                raise
            if not self._no_config_logged:
                log.info("HQ has no config for this unit yet; the local one stays in force")
            self._no_config_logged = True
            return False
        if got is not None:
            etag, body = got
            self.inbox.deliver(etag, body)
            log.info("HQ config %s fetched (%d bytes); the daemon applies it", etag, len(body))
        return False

    def _publish_status(self, now: float, *, force: bool = False) -> None:
        if self.status_file is None or (not force and now - self._status_at < 2.0):
            return
        self._status_at = now
        up = self.uploading
        doc = {
            "written_utc": self.wall().isoformat(timespec="seconds"), "pid": os.getpid(),
            "hq_url": self.client.base_url,
            "last_ok_utc": self.last_ok.isoformat(timespec="seconds") if self.last_ok else None,
            "last_error": self.last_error, "consecutive_failures": self.failures,
            "next_try_utc": (self.wall() + dt.timedelta(seconds=max(0.0, self.next_try - now))
                             ).isoformat(timespec="seconds"),
            "in_upload_window": in_windows(self.cfg.upload_windows,
                                           self.wall().astimezone(self.tz).time()),
            "uploading": None if up is None else {"clip_id": up.clip_id, "size": up.size},
            "clip_bytes_sent": self.client.clip_bytes_sent,
            "stats": asdict(self.stats),
            "config_etag": self.inbox.last_etag() if self.inbox else None,
        }
        try:
            write_json_atomic(self.status_file, doc)
        except OSError as exc:
            log.debug("sync status not written: %s", exc)

    def _send_events(self) -> bool:
        batch = self.outbox.next_event_batch(self.cfg.batch_events, self.cfg.batch_bytes)
        self._refused(self.outbox.take_unsendable())  # already set aside by the outbox
        if not batch:
            self.alarm.caught_up()
            return False
        uuids = [e.uuid for e in batch]
        self.outbox.note_attempt(uuids)
        try:
            answer = self.client.send_events(batch)
        except HQRejected as exc:
            if not refuses_events(exc):
                raise
            answer = self._one_by_one(batch, exc)
        refusals = [Refusal(u, 200, "rejected", *answer.rejected[u]) for u in uuids
                    if u in answer.rejected]
        # Set aside before the acks: a crash in between re-sends, never loses, an event.
        self.outbox.set_aside(refusals, self.wall())
        self.outbox.ack_events([u for u in uuids if u not in answer.rejected], self.wall())
        self._refused(refusals)
        self.stats.events_accepted += answer.accepted
        self.stats.events_duplicate += answer.duplicates
        return True

    def _one_by_one(self, batch: Sequence[EventEnvelope], exc: HQRejected) -> BatchAnswer:
        """HQ refused the batch as a whole: send each event alone, so only the events it
        refuses alone are set aside (a batch of one is that event's own answer)."""
        accepted = duplicates = 0
        rejected: dict[str, tuple[str, str]] = {}
        for env in batch:
            try:
                if len(batch) == 1:
                    raise exc
                one = self.client.send_events([env])
            except HQRejected as alone:
                if not refuses_events(alone):
                    raise
                rejected[env.uuid] = ("event", str(alone)[:300])
                continue
            accepted, duplicates = accepted + one.accepted, duplicates + one.duplicates
            rejected.update(one.rejected)
        return BatchAnswer(accepted, duplicates, rejected)

    def _refused(self, refusals: Sequence[Refusal]) -> None:
        if refusals:
            self.stats.events_refused += len(refusals)
            self.alarm.refused(refusals)

    def _upload_one_clip(self, now: float) -> bool:
        if not in_windows(self.cfg.upload_windows, self.wall().astimezone(self.tz).time()):
            return False
        clips = self.outbox.pending_clips()
        if not clips:
            return False
        clip = self.uploading = clips[0]
        self._publish_status(now, force=True)  # a clip may take minutes on a capped link
        self.outbox.note_attempt([clip.clip_id], kind="clip")
        self.client.upload_clip(clip.clip_id, clip.path, clip.size, clip.sha256,
                                bucket=self.bucket, chunk_bytes=self.cfg.chunk_bytes)
        self.outbox.ack_clip(clip.clip_id, self.wall())
        self.stats.clips_uploaded += 1
        return True

    def _failed(self, now: float, exc: HQError) -> None:
        self.failures += 1
        self.stats.failures += 1
        self.last_error = str(exc)
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
