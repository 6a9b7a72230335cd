"""The ingest hook of window states and queue events (one call from
``hq.storage.projection.project``, inside the event's ingest transaction)."""

from __future__ import annotations

import sqlite3

from hq.reports.ingest import queue_events, window_states
from sync.schema import EventEnvelope


def apply(conn: sqlite3.Connection, env: EventEnvelope, window_id: str | None) -> None:
    """Window-state segments (:mod:`hq.reports.ingest.window_states`) and queue
    figures/tickets (:mod:`hq.reports.ingest.queue_events`)."""
    window_states.apply(conn, env, window_id)
    queue_events.apply(conn, env, window_id)
