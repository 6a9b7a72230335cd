"""The ingest hook of window states and queue events (one call from
``hq.storage.projection.project``, inside the event's ingest transaction)."""

from __future__ import annotations

import sqlite3

from sync.schema import EventEnvelope

from hq.reports.ingest import queue_events
from hq.reports.ingest import window_states


def apply(conn: sqlite3.Connection, env: EventEnvelope, window_id: str | None) -> None:
    """Window-state segments (window_states.py) and queue figures/tickets (queue_events.py)."""
    window_states.apply(conn, env, window_id)
    queue_events.apply(conn, env, window_id)
