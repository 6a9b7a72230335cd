"""A small organisation tree for scope tests, written straight into HQ's events.db.

Branch b1 (halls h1, h2) and branch b2 (hall h3); windows w1 (h1), w2 (h2), w3 (h3);
units u1, u2, u3 bound to w1, w2, w3; one rated transaction per unit (t1, t2, t3),
each with a clip of the same id. The org helper's own API is not needed for this.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

from hq.storage.events import SqliteEventStore
from hq.storage.sqlite import connect
from sync.schema import EventEnvelope

T0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)
BRANCHES = {"b1": "Asia/Shanghai", "b2": "Asia/Urumqi"}
HALLS = {"h1": "b1", "h2": "b1", "h3": "b2"}
WINDOWS = {"w1": "h1", "w2": "h2", "w3": "h3"}
UNITS = {"u1": "w1", "u2": "w2", "u3": "w3"}
TXN_OF_UNIT = {"u1": "t1", "u2": "t2", "u3": "t3"}
BRANCH_OF_TXN = {"t1": "b1", "t2": "b1", "t3": "b2"}
HALL_OF_TXN = {"t1": "h1", "t2": "h2", "t3": "h3"}


def seed_tree(events_db: Path) -> None:
    """The tree and the unit bindings (idempotent)."""
    conn = connect(events_db)  # the data folder's database, PostgreSQL too when routed
    try:
        with conn:
            for b, tz in BRANCHES.items():
                conn.execute("INSERT OR IGNORE INTO org_branches VALUES (?, ?, ?)",
                             [b, f"Branch {b}", tz])
            for h, b in HALLS.items():
                conn.execute("INSERT OR IGNORE INTO org_halls VALUES (?, ?, ?)",
                             [h, b, f"Hall {h}"])
            for w, h in WINDOWS.items():
                conn.execute("INSERT OR IGNORE INTO org_windows VALUES (?, ?, ?)",
                             [w, h, f"Window {w}"])
            for u, w in UNITS.items():
                conn.execute("INSERT OR IGNORE INTO org_unit_windows VALUES (?, ?, ?)",
                             [u, w, "2026-01-01T00:00:00.000000Z"])
    finally:
        conn.close()


def _ev(type_: str, unit: str, minute: float, **data: Any) -> EventEnvelope:
    return EventEnvelope(uuid=str(uuid.uuid4()), type=type_, unit_id=unit, counter_id="c",
                         utc=T0 + dt.timedelta(minutes=minute), mono=minute * 60,
                         boot_id="boot", clock_synced=True, data=data)


def seed_transactions(events: SqliteEventStore) -> None:
    """One transaction per unit, filed under the unit's window at ingest."""
    for i, (unit, txn) in enumerate(TXN_OF_UNIT.items()):
        events.ingest(unit, [
            _ev("transaction_started", unit, i * 10, txn_id=txn, staff_id=f"s{i}",
                session_id="x", clip_id=txn),
            _ev("transaction_ended", unit, i * 10 + 2, txn_id=txn, staff_id=f"s{i}",
                duration_s=120.0, reason="customer_left"),
            _ev("rating", unit, i * 10 + 2.1, txn_id=txn, outcome="rated", rating=5,
                suspect=False),
        ])
