"""Outbox, second stage: send due deliveries with retries and backoff, record each attempt.

One worker per HQ process, on its own connection to events.db. Every pass (``tick``)
expands new dispatch rows, escalates, checks for silent units, and hands due deliveries
to a small thread pool; a delivery in flight is not handed out twice. An attempt is
written *before* it is sent, so after kill -9 it shows as interrupted and the delivery,
still pending, is sent again: at least once, and exactly once wherever the receiver
honours ``X-Counterunit-Delivery`` (the idempotency key).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from hq.alerts import checks, policy_store, schema
from hq.alerts.delivery import expand
from hq.alerts.delivery.channels import SendResult, send
from hq.alerts.policy import backoff
from hq.alerts.recipients import RecipientDirectory
from hq.clock import utc_now
from hq.storage.models import parse_utc, utc_text
from hq.storage.sqlite import connect, immediate

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]
Sender = Callable[..., SendResult]


@dataclass
class TickResult:
    """What one pass did (tests assert on it)."""

    expanded: int = 0
    escalated: list[int] = field(default_factory=list)
    sent: int = 0
    failed: int = 0


class Outbox:
    """The delivery worker over HQ's events.db."""

    def __init__(self, db_path: Path, directory: RecipientDirectory, key: bytes, *,
                 clock: Clock = utc_now, sender: Sender = send, threads: int = 4,
                 maintenance_s: float = 5.0) -> None:
        self.conn = connect(db_path)
        schema.ensure(self.conn)
        schema.allow_skipped(self.conn)  # an older events.db: skipped deliveries
        self.directory = directory
        self.key = key
        self.clock = clock
        self.sender = sender
        self.maintenance = dt.timedelta(seconds=maintenance_s)
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="alert-send")
        self._inflight: dict[int, Future[None]] = {}
        self._last_maintenance: dt.datetime | None = None
        self._failing: set[str] = set()  # channels now failing (logged once each way)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        with self._tx() as conn:
            # Attempts a killed HQ left open: their outcome is unknown, so they count as
            # failed and the delivery (still pending) goes again.
            n = conn.execute("UPDATE alert_attempts SET ok = 0, detail = "
                             "'interrupted: HQ stopped during the attempt' "
                             "WHERE ok IS NULL").rowcount
        if n:
            log.warning("%d alert delivery attempt(s) were interrupted by a stop; retrying", n)

    def _tx(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return immediate(self.conn, self._lock)

    # ---- one pass ------------------------------------------------------------------

    def tick(self, now: dt.datetime | None = None, *, wait_sends: bool = False) -> TickResult:
        """One pass at ``now``; with ``wait_sends`` it returns after the sends finish."""
        now = now or self.clock()
        result = TickResult()
        with self._lock:  # a plain read: no write lock taken from ingest every pass
            todo = self.conn.execute("SELECT thread_id, level FROM alert_dispatch WHERE "
                                     "expanded_utc IS NULL ORDER BY created_utc").fetchall()
        for row in todo:
            with self._tx() as conn:
                result.expanded += expand.expand_one(conn, row["thread_id"], row["level"],
                                                     self.directory, self.key, now)
        if self._last_maintenance is None or now - self._last_maintenance >= self.maintenance:
            self._last_maintenance = now
            with self._tx() as conn:
                result.escalated = expand.escalate_due(conn, now)
                checks.silent_units(conn, now)
            if result.escalated:
                self._wake.set()  # their dispatch rows want expanding at once
        futures = self._hand_out(now)
        if wait_sends and futures:
            wait(futures)
            for f in futures:
                f.result()
        return result

    def _hand_out(self, now: dt.datetime) -> list[Future[None]]:
        with self._lock:
            for did in [d for d, f in self._inflight.items() if f.done()]:
                del self._inflight[did]
            due = [utc_text(now)]
            if self.conn.execute("SELECT 1 FROM alert_deliveries WHERE status = 'deferred' "
                                 "AND next_utc <= ? LIMIT 1", due).fetchone():
                self.conn.execute("UPDATE alert_deliveries SET status = 'pending' WHERE "
                                  "status = 'deferred' AND next_utc <= ?", due)
            rows = self.conn.execute(
                "SELECT delivery_id, idem_key, channel, url, title, body "
                "FROM alert_deliveries WHERE status = 'pending' AND next_utc <= ? "
                "ORDER BY next_utc LIMIT 500", [utc_text(now)]).fetchall()
            futures = []
            for r in rows:
                if r["delivery_id"] in self._inflight:
                    continue
                f = self._pool.submit(self._deliver, dict(r), now)
                self._inflight[r["delivery_id"]] = f
                futures.append(f)
        return futures

    def _deliver(self, r: dict[str, object], due: dt.datetime) -> None:
        did = int(r["delivery_id"])  # type: ignore[call-overload]
        started = max(self.clock(), due)
        with self._tx() as conn:
            # Numbered after every earlier attempt, interrupted ones included.
            n = int(conn.execute("SELECT COALESCE(MAX(n), 0) + 1 FROM alert_attempts "
                                 "WHERE delivery_id = ?", [did]).fetchone()[0])
            conn.execute("INSERT INTO alert_attempts (delivery_id, n, started_utc, "
                         "ms, ok, detail) VALUES (?, ?, ?, 0, NULL, 'sending')",
                         [did, n, utc_text(started)])
        res = self.sender(str(r["url"]), str(r["title"]), str(r["body"]),
                          key=str(r["idem_key"]))
        self._record(did, n, str(r["channel"]), started, res)

    def _record(self, did: int, n: int, channel: str, started: dt.datetime,
                res: SendResult) -> None:
        now = max(self.clock(), started)
        with self._tx() as conn:
            conn.execute("UPDATE alert_attempts SET ms = ?, ok = ?, detail = ? "
                         "WHERE delivery_id = ? AND n = ?",
                         [round(res.ms, 1), int(res.ok), res.detail, did, n])
            if res.ok:
                conn.execute("UPDATE alert_deliveries SET status = 'delivered', attempts = ?, "
                             "done_utc = ?, last_error = '' WHERE delivery_id = ?",
                             [n, utc_text(now), did])
            else:
                retry = policy_store.current(conn).doc.retry
                first = conn.execute("SELECT MIN(started_utc) FROM alert_attempts WHERE "
                                     "delivery_id = ?", [did]).fetchone()[0]
                gave_up = now - parse_utc(first) >= dt.timedelta(minutes=retry.give_up_min)
                conn.execute(
                    "UPDATE alert_deliveries SET status = ?, attempts = ?, next_utc = ?, "
                    "done_utc = ?, last_error = ? WHERE delivery_id = ?",
                    ["failed" if gave_up else "pending", n,
                     utc_text(started + backoff(n, retry)),
                     utc_text(now) if gave_up else None, res.detail, did])
        self._health(channel, res)

    def _health(self, channel: str, res: SendResult) -> None:
        with self._lock:
            if not res.ok and channel not in self._failing:
                self._failing.add(channel)
                log.error("alert channel %s failing: %s", channel, res.detail)
            elif res.ok and channel in self._failing:
                self._failing.discard(channel)
                log.info("alert channel %s delivers again", channel)

    # ---- the background thread -----------------------------------------------------

    def start(self, interval_s: float = 0.2) -> None:
        """Run ``tick`` every ``interval_s`` in a daemon thread until :meth:`close`."""
        def loop() -> None:
            while not self._stop.is_set():
                try:
                    self.tick()
                except Exception:  # the outbox must outlive one bad pass
                    log.exception("alert outbox pass failed; next pass in %.1f s", interval_s)
                self._wake.wait(interval_s)
                self._wake.clear()

        self._thread = threading.Thread(target=loop, name="alert-outbox", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop the thread, let sends in flight finish, close the connection."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(10)
        self._pool.shutdown(wait=True)
        with self._lock:
            self.conn.close()
