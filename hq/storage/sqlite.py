"""Opening HQ's SQLite databases the same way everywhere."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import cast

from .db.engine import PgConnection
from .db.routes import routed

PRIVATE_FILE, PRIVATE_DIR = 0o600, 0o700


def private_file(path: Path) -> Path:
    """Make sure ``path`` exists with mode 0600 (created empty if missing), as do its
    SQLite ``-wal``/``-shm`` companions if present; its folder is made 0700 if missing.

    HQ's databases hold recordings' metadata, users' password hashes and tokens: nobody
    but HQ's own user reads them. SQLite creates ``-wal`` and ``-shm`` with the mode of
    the database file, so creating that 0600 first covers them; an existing install's
    wider files are narrowed here.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    if not path.exists():
        # Only when missing: closing any descriptor of a database file drops every POSIX
        # lock this process holds on it (SQLite's connections included), and another HQ
        # worker process would then take this one's live WAL for its own and remove it.
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, PRIVATE_FILE))
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(FileNotFoundError):
            if p.stat().st_mode & 0o777 != PRIVATE_FILE:
                os.chmod(p, PRIVATE_FILE)
    return path


def private_dir(path: Path) -> Path:
    """Make sure the folder ``path`` exists with mode 0700."""
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    if path.stat().st_mode & 0o777 != PRIVATE_DIR:
        os.chmod(path, PRIVATE_DIR)
    return path


def connect(path: Path) -> sqlite3.Connection:
    """A WAL-mode connection with FULL sync and explicit transactions.

    FULL because in WAL mode NORMAL may lose an acknowledged commit on power loss, and
    HQ acknowledging an event it then loses would break exactly-once.
    ``check_same_thread`` is off: callers serialise access with their own lock.

    A file that HQ's config placed in PostgreSQL (:func:`hq.storage.db.routes.route`) opens
    its PostgreSQL schema instead, behind the same surface.
    """
    target = routed(path)
    if target is not None:
        return cast(sqlite3.Connection, PgConnection(target))
    private_file(path)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30.0)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


@contextlib.contextmanager
def immediate(conn: sqlite3.Connection, lock: threading.Lock) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` under ``lock``, rolled back on any exception.

    IMMEDIATE takes the write lock at the start, so a transaction that reads before it
    writes never meets another writer half-way (no SQLITE_BUSY upgrade deadlock).
    """
    with lock:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")


class SqliteFile:
    """One SQLite file opened by ``connect`` with ``schema`` applied; ``_lock`` serialises use."""

    def __init__(self, path: Path, schema: str) -> None:
        self._conn = connect(Path(path))
        self._conn.executescript(schema)
        self._lock = threading.Lock()

    def writing(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """One write transaction on this file (see :func:`immediate`)."""
        return immediate(self._conn, self._lock)

    def close(self) -> None:
        """Release the connection."""
        with self._lock:
            self._conn.close()
