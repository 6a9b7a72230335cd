"""Opening HQ's SQLite databases the same way everywhere."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path


def connect(path: Path) -> sqlite3.Connection:
    """A WAL-mode connection with FULL sync and explicit transactions.

    FULL because in WAL mode NORMAL may lose an acknowledged commit on power loss, and
    HQ acknowledging an event it then loses would break exactly-once.
    ``check_same_thread`` is off: callers serialise access with their own lock.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30.0)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


class SqliteFile:
    """One SQLite file opened by ``connect`` with ``schema`` applied; ``_lock`` serialises use."""

    def __init__(self, path: Path, schema: str) -> None:
        self._conn = connect(Path(path))
        self._conn.executescript(schema)
        self._lock = threading.Lock()

    def close(self) -> None:
        """Release the connection."""
        with self._lock:
            self._conn.close()
