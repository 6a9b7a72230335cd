"""Connections of the page routers to HQ's database (events.db), one per worker thread.

Pages only read (apart from acknowledging an alert), and they must see what other HQ
worker processes have written, so they use connections of their own rather than the
event store's: SQLite in WAL mode lets them read while ingest writes.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from hq.api.deps import HQDeps
from hq.storage.sqlite import connect

_local = threading.local()


def events_db(deps: HQDeps) -> Path:
    """The path of HQ's events.db (beside the config folder in the data folder)."""
    return deps.config_dir.parent / "events.db"


def conn_for(deps: HQDeps) -> sqlite3.Connection:
    """This thread's connection to HQ's database, opened on first use and kept."""
    path = events_db(deps)
    pool: dict[Path, sqlite3.Connection] = getattr(_local, "conns", None) or {}
    _local.conns = pool
    conn = pool.get(path)
    if conn is None:
        conn = pool[path] = connect(path)
    return conn


def own_conn(deps: HQDeps) -> sqlite3.Connection:
    """A new connection for one long-lived reader (a live feed); the caller closes it."""
    return connect(events_db(deps))
