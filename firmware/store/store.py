"""The unit's local store: SQLite in WAL mode, one writer (the daemon).

Every event is written with its outbox entry and its projection (transactions,
ratings, absences, ...) in ONE SQLite transaction, so a power cut leaves either
all of them or none. ``synchronous=FULL``: in WAL mode NORMAL may lose
acknowledged commits at a power cut; events are rare, so the fsync is cheap.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from firmware.recorder.durable import makedirs_durable
from firmware.system.clock import UnitClock
from sync.schema import EventEnvelope

from .projection import project
from .schema import MIGRATIONS
from .sql import insert, update

log = logging.getLogger(__name__)

# Alerts jump the sync queue.
PRIORITY_ALERT, PRIORITY_EVENT, PRIORITY_CLIP = 0, 1, 2


@dataclass(frozen=True)
class EventContext:
    """What every event carries besides its own fields."""

    unit_id: str
    counter_id: str
    boot_id: str
    clock: UnitClock


def _iso(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).isoformat(timespec="milliseconds")


class Store:
    """Open (and migrate) the database at ``path``; use from one thread only."""

    def __init__(self, path: Path, ctx: EventContext) -> None:
        # SQLite fsyncs the folder when it creates the journal or WAL, which makes the
        # new database file's name durable too, but not folders made on the way.
        makedirs_durable(path.parent)
        self.path = path
        self.ctx = ctx
        # Autocommit mode: transactions are explicit (BEGIN IMMEDIATE in _tx).
        # One thread at a time, but not necessarily the one that opened it: the
        # unit is wired in one thread and may run in another.
        self.conn = sqlite3.connect(path, timeout=10, isolation_level=None,
                                    check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.execute("PRAGMA foreign_keys=ON")
        self.db = sqlite_utils.Database(self.conn)
        self._migrate()

    def _migrate(self) -> None:
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        for n, migration in enumerate(MIGRATIONS[version:], start=version + 1):
            with self._tx():
                migration(self.db)
                self.conn.execute(f"PRAGMA user_version={n}")
            log.info("database %s migrated to schema %d", self.path, n)

    @contextmanager
    def _tx(self) -> Iterator[None]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def close(self) -> None:
        self.conn.close()

    # ---- events -------------------------------------------------------------------

    def record(self, type_: str, t: float, data: dict[str, Any]) -> EventEnvelope:
        """Store an event, its outbox entry and its projection atomically."""
        env = self._envelope(type_, t, data)
        with self._tx():
            self._insert_event(env)
        return env

    def _envelope(self, type_: str, t: float, data: dict[str, Any]) -> EventEnvelope:
        return EventEnvelope(
            uuid=str(uuid.uuid4()), type=type_, unit_id=self.ctx.unit_id,
            counter_id=self.ctx.counter_id, utc=self.ctx.clock.utc_at(t), mono=t,
            boot_id=self.ctx.boot_id, clock_synced=self.ctx.clock.synced(), data=data,
        )

    def _insert_event(self, env: EventEnvelope) -> None:
        insert(self.conn, "events", {
            "uuid": env.uuid, "type": env.type, "unit_id": env.unit_id,
            "counter_id": env.counter_id, "utc": _iso(env.utc), "mono": env.mono,
            "boot_id": env.boot_id, "clock_synced": int(env.clock_synced),
            "data": json.dumps(env.data, sort_keys=True),
        })
        priority = PRIORITY_ALERT if env.type.startswith("alert_") else PRIORITY_EVENT
        self._outbox("event", env.uuid, priority)
        project(self.conn, env.type, env.uuid, _iso(env.utc), env.mono, env.data)

    def _outbox(self, kind: str, ref: str, priority: int) -> None:
        insert(self.conn, "outbox", {"kind": kind, "ref": ref, "priority": priority,
                                  "created_utc": _iso(dt.datetime.now(dt.UTC))})

    # ---- clips ----------------------------------------------------------------------

    def clip_opened(self, clip_id: str, kind: str, path: Path, from_t: float) -> None:
        """Note an open clip so a crash can never lose track of its file."""
        with self._tx():
            insert(self.conn, "clips", {
                "clip_id": clip_id, "kind": kind, "state": "open", "path": str(path),
                "from_t": from_t, "opened_utc": _iso(self.ctx.clock.utc_at(from_t)),
            }, replace=True)

    def clip_finished(self, clip_id: str, *, state: str, path: Path | None, t: float,
                      duration_s: float | None, size: int | None, sha256: str | None,
                      note: str = "") -> EventEnvelope:
        """Mark a clip closed/salvaged/cut, with its event and (if playable) its upload entry."""
        data = {"clip_id": clip_id, "state": state, "path": str(path) if path else None,
                "duration_s": duration_s, "size": size, "sha256": sha256, "note": note}
        env = self._envelope("clip_" + state, t, data)
        with self._tx():
            changed = update(self.conn, "clips", "clip_id", clip_id, {
                "state": state, "path": data["path"], "until_t": t,
                "duration_s": duration_s, "size": size, "sha256": sha256,
                "closed_utc": _iso(env.utc), "note": note,
            })
            if not changed:
                raise KeyError(f"clip {clip_id} was never opened")
            self._insert_event(env)
            if sha256:
                self._outbox("clip", clip_id, PRIORITY_CLIP)
        return env

    def clip_deleted(self, clip_id: str, *, reason: str, size: int, acked: bool,
                     t: float) -> EventEnvelope:
        """Record that retention removed a clip's file (its row and event history stay)."""
        env = self._envelope("clip_deleted", t, {
            "clip_id": clip_id, "reason": reason, "size": size, "synced": acked})
        with self._tx():
            changed = update(self.conn, "clips", "clip_id", clip_id, {
                "deleted_utc": _iso(env.utc), "delete_reason": reason})
            if not changed:
                raise KeyError(f"clip {clip_id} is unknown")
            self._insert_event(env)
        return env

    def open_clips(self) -> list[dict[str, Any]]:
        return list(self.db.table("clips").rows_where("state = ?", ["open"]))

    # ---- recovery ---------------------------------------------------------------------

    def close_interrupted(self, t: float) -> list[EventEnvelope]:
        """End transactions and absences a crash left open (an earlier boot's clock)."""
        out = []
        for row in list(self.db.table("transactions").rows_where("ended_utc IS NULL")):
            out.append(self.record("transaction_ended", t, {
                "txn_id": row["txn_id"], "staff_id": row["staff_id"],
                "session_id": row["session_id"], "duration_s": None, "reason": "interrupted",
                "short": False}))
        for row in list(self.db.table("absences").rows_where("ended_utc IS NULL")):
            out.append(self.record("absence_ended", t, {
                "absence_id": row["absence_id"], "staff_id": row["staff_id"],
                "duration_s": None, "max_level": row["max_level"], "reason": "interrupted"}))
        return out

    # ---- queries -------------------------------------------------------------------------

    def rows(self, table: str, order_by: str | None = None) -> list[dict[str, Any]]:
        return list(self.db[table].rows_where(order_by=order_by))

    def outbox_pending(self) -> int:
        return int(self.conn.execute(
            "SELECT count(*) FROM outbox WHERE acked_utc IS NULL").fetchone()[0])
