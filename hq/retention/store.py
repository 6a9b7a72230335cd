"""Retention's handle on HQ's events database: its connection and lock, shared.

Like :meth:`hq.org.authoring.store.OrgStore.sharing`, retention queues on the events store's own
lock, so a hold, an ingest and a deletion never interleave inside one file.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator

from hq.storage.sqlite import SqliteFile, immediate

from .schema import RETENTION_SCHEMA


class RetentionStore:
    """Reads and write transactions on the events database for retention's modules."""

    def __init__(self, db: SqliteFile) -> None:
        self._conn, self._lock = db._conn, db._lock
        with self._lock:
            self._conn.executescript(RETENTION_SCHEMA)

    @contextlib.contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """The connection for reads, under the shared lock."""
        with self._lock:
            yield self._conn

    def writing(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT under the shared lock, rolled back on any error."""
        return immediate(self._conn, self._lock)
