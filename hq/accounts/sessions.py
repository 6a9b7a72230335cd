"""Page sessions of HQ users, as rows in users.db (not in worker memory).

Several HQ workers share the database, so any of them can check, touch or end a session.
The cookie carries 256 random bits; only their sha256 is stored. A session ends when it
has been idle for ``IDLE`` or has lived for ``ABSOLUTE``, when the user logs out, or when
an admin revokes the user's access. Each session has its own CSRF token.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import sqlite3
import threading
from dataclasses import dataclass

from hq.storage.models import utc_text

IDLE = dt.timedelta(minutes=30)
ABSOLUTE = dt.timedelta(hours=12)  # a long shift; then log in again
# Touching a session is a write; once a minute is precise enough for a 30 min idle limit.
TOUCH_EVERY = dt.timedelta(seconds=60)

SESSION_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    session_sha256 TEXT PRIMARY KEY, username TEXT NOT NULL, csrf TEXT NOT NULL,
    created_utc TEXT NOT NULL, seen_utc TEXT NOT NULL, client TEXT NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions (username);
"""


def _key(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


@dataclass(frozen=True)
class SessionInfo:
    """A live session as the admin page lists it (never the cookie value)."""

    username: str
    created_utc: str
    seen_utc: str
    client: str


class SessionStore:
    """Session rows on a connection (and lock) shared with :class:`hq.accounts.users.UserStore`."""

    def __init__(self, conn: sqlite3.Connection, lock: threading.Lock, *,
                 idle: dt.timedelta = IDLE, absolute: dt.timedelta = ABSOLUTE) -> None:
        self._conn, self._lock = conn, lock
        self.idle, self.absolute = idle, absolute

    def create(self, username: str, client: str, now: dt.datetime) -> tuple[str, str]:
        """A new session: (cookie value, CSRF token)."""
        session_id, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        t = utc_text(now)
        with self._lock:
            self._conn.execute(
                "INSERT INTO sessions (session_sha256, username, csrf, created_utc, seen_utc, "
                "client) VALUES (?, ?, ?, ?, ?, ?)",
                [_key(session_id), username, csrf, t, t, client[:64]])
        return session_id, csrf

    def lookup(self, session_id: str, now: dt.datetime) -> tuple[str, str] | None:
        """(username, CSRF token) of a live session, touched as seen now; else None."""
        if not isinstance(session_id, str) or not 0 < len(session_id) <= 128:
            return None
        key = _key(session_id)
        with self._lock:
            row = self._conn.execute(
                "SELECT username, csrf, seen_utc FROM sessions WHERE session_sha256 = ? "
                "AND revoked = 0 AND created_utc > ? AND seen_utc > ?",
                [key, utc_text(now - self.absolute), utc_text(now - self.idle)]).fetchone()
            if row is None:
                return None
            if row["seen_utc"] <= utc_text(now - TOUCH_EVERY):
                self._conn.execute("UPDATE sessions SET seen_utc = ? WHERE session_sha256 = ?",
                                   [utc_text(now), key])
        return row["username"], row["csrf"]

    def revoke(self, session_id: str) -> bool:
        """End one session (logout); whether it was live."""
        with self._lock:
            return self._conn.execute(
                "UPDATE sessions SET revoked = 1 WHERE session_sha256 = ? AND revoked = 0",
                [_key(session_id)]).rowcount > 0

    def revoke_user(self, username: str) -> int:
        """End every session of a user; how many were not yet ended."""
        with self._lock:
            return self._conn.execute(
                "UPDATE sessions SET revoked = 1 WHERE username = ? AND revoked = 0",
                [username]).rowcount

    def live(self, now: dt.datetime, username: str | None = None) -> list[SessionInfo]:
        """Sessions still valid at ``now`` (of one user, if given), most recent first."""
        sql = ("SELECT username, created_utc, seen_utc, client FROM sessions WHERE revoked = 0 "
               "AND created_utc > ? AND seen_utc > ?")
        args: list[str] = [utc_text(now - self.absolute), utc_text(now - self.idle)]
        if username is not None:
            sql, args = sql + " AND username = ?", [*args, username]
        with self._lock:
            rows = self._conn.execute(sql + " ORDER BY seen_utc DESC", args).fetchall()
        return [SessionInfo(*r) for r in rows]

    def purge(self, now: dt.datetime) -> int:
        """Delete rows of sessions that can never be valid again; how many."""
        with self._lock:
            return self._conn.execute(
                "DELETE FROM sessions WHERE revoked = 1 OR created_utc <= ? OR seen_utc <= ?",
                [utc_text(now - self.absolute), utc_text(now - self.idle)]).rowcount
