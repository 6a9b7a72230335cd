"""Failed-login throttling per username and per address, and lockout, in users.db.

The rule is a plain function (:func:`decide`) of counts the store keeps:

- more than ``per_user`` failures for one username within ``window`` and further
  attempts for that name are refused without checking the password until the oldest
  of them ages out (a guesser gets ``per_user`` tries per window, not 60 in 3 s);
- more than ``per_address`` failures from one address within ``window``, whatever the
  usernames, and that address is refused likewise (spraying many names does not help);
- ``lock_after`` consecutive failures of an existing account lock it until an admin
  unlocks it (``counterunit hq user-unlock`` or /users); a success resets the count.

Refused attempts are not counted as failures (they tested no password) but are audited
by the caller like every failure. The state is rows, so every HQ worker sees the same.
Passwords never reach this module.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import threading
from dataclasses import dataclass

from hq.storage.models import parse_utc, utc_text

log = logging.getLogger(__name__)

GUARD_SCHEMA = """
CREATE TABLE IF NOT EXISTS login_failures (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, utc TEXT NOT NULL, username TEXT NOT NULL,
    client TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS login_failures_user ON login_failures (username, utc);
CREATE INDEX IF NOT EXISTS login_failures_client ON login_failures (client, utc);
CREATE TABLE IF NOT EXISTS login_locks (
    username TEXT PRIMARY KEY, consecutive INTEGER NOT NULL DEFAULT 0, locked_utc TEXT
);
"""

OK = "ok"
THROTTLED_USER = "throttled_user"
THROTTLED_ADDRESS = "throttled_address"
LOCKED = "locked"


@dataclass(frozen=True)
class GuardPolicy:
    """Bounds of the login throttle (see the module docstring)."""

    window: dt.timedelta = dt.timedelta(minutes=15)
    per_user: int = 5
    per_address: int = 20
    lock_after: int = 10


@dataclass(frozen=True)
class Recent:
    """Failures within the window: counts and the oldest time of each, and the lock."""

    user_failures: int
    user_oldest: dt.datetime | None
    address_failures: int
    address_oldest: dt.datetime | None
    locked: bool


@dataclass(frozen=True)
class Verdict:
    """Whether to check the password now; if not, why and for how long (seconds)."""

    reason: str
    retry_after_s: int = 0

    @property
    def allowed(self) -> bool:
        return self.reason == OK


def decide(policy: GuardPolicy, recent: Recent, now: dt.datetime) -> Verdict:
    """The rule: lock first, then the address, then the username."""
    if recent.locked:
        return Verdict(LOCKED)

    def wait(oldest: dt.datetime | None) -> int:
        left = (oldest + policy.window - now) if oldest else dt.timedelta(0)
        return max(1, int(left.total_seconds() + 0.999))

    if recent.address_failures >= policy.per_address:
        return Verdict(THROTTLED_ADDRESS, wait(recent.address_oldest))
    if recent.user_failures >= policy.per_user:
        return Verdict(THROTTLED_USER, wait(recent.user_oldest))
    return Verdict(OK)


def _parse(text: str | None) -> dt.datetime | None:
    return parse_utc(text) if text else None


class LoginGuard:
    """Failure rows and lock state on the connection shared with the user store."""

    def __init__(self, conn: sqlite3.Connection, lock: threading.Lock,
                 policy: GuardPolicy | None = None) -> None:
        self._conn, self._lock = conn, lock
        self.policy = policy or GuardPolicy()

    def recent(self, username: str, client: str, now: dt.datetime) -> Recent:
        """What :func:`decide` needs about this username and address at ``now``."""
        since = utc_text(now - self.policy.window)
        with self._lock:
            u = self._conn.execute("SELECT COUNT(*), MIN(utc) FROM login_failures "
                                   "WHERE username = ? AND utc > ?", [username, since]
                                   ).fetchone()
            a = self._conn.execute("SELECT COUNT(*), MIN(utc) FROM login_failures "
                                   "WHERE client = ? AND utc > ?", [client, since]).fetchone()
            lock = self._conn.execute("SELECT locked_utc FROM login_locks WHERE username = ?",
                                      [username]).fetchone()
        return Recent(u[0], _parse(u[1]), a[0], _parse(a[1]),
                      lock is not None and lock[0] is not None)

    def check(self, username: str, client: str, now: dt.datetime) -> Verdict:
        """Whether a login attempt may test its password now."""
        return decide(self.policy, self.recent(username, client, now), now)

    def failed(self, username: str, client: str, now: dt.datetime, *, known: bool) -> bool:
        """Record a wrong password; whether this failure locked the (known) account."""
        with self._lock:
            self._conn.execute("INSERT INTO login_failures (utc, username, client) "
                               "VALUES (?, ?, ?)", [utc_text(now), username[:64], client[:64]])
            # Rows past the window matter no more; dropping them keeps the table small.
            self._conn.execute("DELETE FROM login_failures WHERE utc <= ?",
                               [utc_text(now - self.policy.window)])
            if not known:
                return False
            self._conn.execute(
                "INSERT INTO login_locks (username, consecutive) VALUES (?, 1) "
                "ON CONFLICT (username) DO UPDATE SET consecutive = consecutive + 1",
                [username])
            row = self._conn.execute("SELECT consecutive, locked_utc FROM login_locks "
                                     "WHERE username = ?", [username]).fetchone()
            lock_now = row[0] >= self.policy.lock_after and row[1] is None
            if lock_now:
                self._conn.execute("UPDATE login_locks SET locked_utc = ? WHERE username = ?",
                                   [utc_text(now), username])
        if lock_now:
            log.warning("user %s locked after %d consecutive failed logins", username, row[0])
        return lock_now

    def succeeded(self, username: str) -> None:
        """A right password: the consecutive count starts again."""
        with self._lock:
            self._conn.execute("UPDATE login_locks SET consecutive = 0 WHERE username = ?",
                               [username])

    def locked(self, username: str) -> bool:
        """Whether the account is locked."""
        with self._lock:
            row = self._conn.execute("SELECT locked_utc FROM login_locks WHERE username = ?",
                                     [username]).fetchone()
        return row is not None and row[0] is not None

    def unlock(self, username: str) -> bool:
        """Lift a lock and forget the user's failures; whether it was locked."""
        with self._lock:
            was = self._conn.execute("SELECT locked_utc FROM login_locks WHERE username = ?",
                                     [username]).fetchone()
            self._conn.execute("DELETE FROM login_locks WHERE username = ?", [username])
            self._conn.execute("DELETE FROM login_failures WHERE username = ?", [username])
        if was is not None and was[0] is not None:
            log.info("user %s unlocked", username)
            return True
        return False
