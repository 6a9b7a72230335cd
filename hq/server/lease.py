"""A named lease in HQ's database: which one of several HQ workers does a job now.

Every worker of one HQ (``counterunit hq serve --workers N``, or workers on several
machines sharing one PostgreSQL) runs the same code; jobs that must run once per HQ
(upload expiry, the retention run, the alert outbox) run only in the worker holding the
``housekeeping`` lease. The holder renews it well before it lapses; when the holder dies
the lease lapses after ``ttl`` and the next worker to ask takes it.

The rule is a plain function (:func:`decide`); the store applies it with one conditional
``UPDATE`` (atomic on SQLite and PostgreSQL alike, no explicit transaction), so two
workers asking at the same instant cannot both win. The row lives in ``events.db``
(schema ``hq_events`` on PostgreSQL), the table created on first use as every store does.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass

from hq.storage.models import parse_utc, utc_text

LEASE_SCHEMA = """
CREATE TABLE IF NOT EXISTS hq_leases (
    name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_utc TEXT NOT NULL,
    taken_utc TEXT NOT NULL
);
"""

HOUSEKEEPING = "housekeeping"


@dataclass(frozen=True)
class LeaseRow:
    """The lease as stored: who holds it and until when (``holder`` '' = nobody yet)."""

    holder: str
    expires: dt.datetime | None


def decide(row: LeaseRow, me: str, now: dt.datetime) -> bool:
    """Whether ``me`` may hold the lease from ``now``: free, lapsed, or already mine."""
    return row.holder in ("", me) or row.expires is None or row.expires <= now


def holder_gone(holder: str, host: str, alive: Callable[[int], bool]) -> bool:
    """Whether ``holder`` (``host:pid``) is a process of this ``host`` that no longer runs
    (killed, or the machine restarted HQ): its lease need not be waited out."""
    name, _, pid = holder.rpartition(":")
    return name == host and pid.isdigit() and not alive(int(pid))


class LeaseStore:
    """Leases on one connection of HQ's database (the caller's lock serialises use)."""

    def __init__(self, conn: sqlite3.Connection, lock: threading.Lock | None = None) -> None:
        self._conn = conn
        self._lock = lock or threading.Lock()
        with self._lock:
            if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
                            "name = 'hq_leases'").fetchone() is None:
                conn.executescript(LEASE_SCHEMA)

    def close(self) -> None:
        """Release the connection."""
        with self._lock:
            self._conn.close()

    def get(self, name: str) -> LeaseRow:
        """The stored lease (nobody's if it was never taken)."""
        with self._lock:
            row = self._conn.execute("SELECT holder, expires_utc FROM hq_leases WHERE name = ?",
                                     [name]).fetchone()
        if row is None:
            return LeaseRow("", None)
        return LeaseRow(row[0], parse_utc(row[1]) if row[1] else None)

    def acquire(self, name: str, me: str, ttl: dt.timedelta, now: dt.datetime) -> bool:
        """Take or renew the lease until ``now + ttl``; whether ``me`` holds it now.

        The condition of :func:`decide` is the ``WHERE`` of the update itself, so the
        database, not this process, arbitrates between workers.
        """
        t, until = utc_text(now), utc_text(now + ttl)
        with self._lock:
            self._conn.execute("INSERT OR IGNORE INTO hq_leases (name, holder, expires_utc, "
                               "taken_utc) VALUES (?, '', '', ?)", [name, t])
            won = self._conn.execute(
                "UPDATE hq_leases SET holder = ?, expires_utc = ?, taken_utc = CASE WHEN "
                "holder = ? THEN taken_utc ELSE ? END WHERE name = ? AND (holder = '' OR "
                "holder = ? OR expires_utc = '' OR expires_utc <= ?)",
                [me, until, me, t, name, me, t]).rowcount
        return won == 1

    def take_over(self, name: str, me: str, gone: str, ttl: dt.timedelta,
                  now: dt.datetime) -> bool:
        """Take the lease from ``gone`` (a holder known dead) before it lapses; whether
        ``me`` holds it now (False if someone else was quicker)."""
        t = utc_text(now)
        with self._lock:
            return self._conn.execute(
                "UPDATE hq_leases SET holder = ?, expires_utc = ?, taken_utc = ? WHERE "
                "name = ? AND holder = ?", [me, utc_text(now + ttl), t, name, gone]
            ).rowcount == 1

    def release(self, name: str, me: str) -> bool:
        """Give the lease up at once (a clean stop), so another worker need not wait."""
        with self._lock:
            return self._conn.execute(
                "UPDATE hq_leases SET holder = '', expires_utc = '' WHERE name = ? AND "
                "holder = ?", [name, me]).rowcount == 1
