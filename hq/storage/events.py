"""SqliteEventStore: exactly-once event ingest at HQ and the transaction queries."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hq.org.units import state as unit_state
from sync.schema import EventEnvelope

from .errors import AmbiguousId, ForeignUnit, UuidTaken
from .models import (
    IngestResult,
    Rejection,
    Transaction,
    TransactionQuery,
    check_unit_id,
    parse_utc,
    utc_text,
)
from .org_schema import ORG_SCHEMA, window_of_unit
from .projection import SCHEMA, project
from .scope import Scope
from .sqlite import SqliteFile

# The branch a transaction shows: its window's (the org tree), else the unit's older
# per-unit registration (units.branch_id).
_BRANCH = "COALESCE(oh.branch_id, u.branch_id)"
_SELECT = (
    f"SELECT t.*, {_BRANCH} AS branch_id, c.state AS clip_state, c.sha256 AS clip_sha256, "
    "c.size AS clip_size FROM transactions t "
    "LEFT JOIN units u ON u.unit_id = t.unit_id "
    "LEFT JOIN org_windows ow ON ow.window_id = t.window_id "
    "LEFT JOIN org_halls oh ON oh.hall_id = ow.hall_id "
    "LEFT JOIN clips c ON c.unit_id = t.unit_id AND c.clip_id = t.clip_id"
)


# What binding an unvalidated value raises: an int past int64 (OverflowError), NaN into a
# NOT NULL REAL (IntegrityError), a datetime out of range (ValueError/OverflowError).
# Disk full and I/O errors (OperationalError) are not among them: they fail the batch.
_UNSTORABLE = (OverflowError, ValueError, TypeError, sqlite3.IntegrityError, sqlite3.DataError,
               sqlite3.InterfaceError)


_COLUMNS = ("(uuid, unit_id, type, counter_id, utc, mono, boot_id, clock_synced, data, "
            "received_utc, window_id)")
_MARKS = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
# Rows per multi-row INSERT: 11 values each, under SQLite's oldest parameter limit (999).
_ROWS_CHUNK = 80


def _values(env: EventEnvelope, unit_id: str, received: str, window_id: str | None
            ) -> list[Any]:
    return [env.uuid, unit_id, env.type, env.counter_id, utc_text(env.utc), env.mono,
            env.boot_id, int(env.clock_synced),
            json.dumps(env.data, sort_keys=True, allow_nan=False), received, window_id]


def _insert(conn: sqlite3.Connection, env: EventEnvelope, unit_id: str, received: str,
            window_id: str | None) -> None:
    conn.execute(f"INSERT INTO events {_COLUMNS} VALUES {_MARKS}",
                 _values(env, unit_id, received, window_id))
    project(conn, env, window_id)


def _runs(events: list[EventEnvelope]) -> list[list[EventEnvelope]]:
    """``events`` cut into runs stored by one INSERT each, then projected in order.

    A projection then sees the later events of its own run in ``events`` already. The one
    projection that reads ``events`` (hq.alerts.ingest: an off-seat alert's clip, from
    its ``absence_started``) looks only for ``absence_started``, so a run never holds an
    ``absence_started`` after its first event: every projection sees the same
    ``absence_started`` rows as if each event were stored and projected in turn.
    """
    runs: list[list[EventEnvelope]] = []
    for env in events:
        if not runs or len(runs[-1]) >= _ROWS_CHUNK or env.type == "absence_started":
            runs.append([])
        runs[-1].append(env)
    return runs


def _insert_all(conn: sqlite3.Connection, events: list[EventEnvelope], unit_id: str,
                received: str, window_id: str | None) -> None:
    """Store and project ``events`` with one INSERT per run (:func:`_runs`), not per event."""
    for run in _runs(events):
        conn.execute(f"INSERT INTO events {_COLUMNS} VALUES {', '.join([_MARKS] * len(run))}",
                     [v for env in run for v in _values(env, unit_id, received, window_id)])
        for env in run:
            project(conn, env, window_id)


# Uuids per dedupe query: well under SQLite's bound-parameter limit.
_LOOKUP_CHUNK = 500


def _stored(conn: sqlite3.Connection, uuids: list[str]) -> dict[str, str]:
    """The unit of each of ``uuids`` already stored (one query per 500, not per event)."""
    found: dict[str, str] = {}
    unique = list(dict.fromkeys(uuids))
    for i in range(0, len(unique), _LOOKUP_CHUNK):
        chunk = unique[i:i + _LOOKUP_CHUNK]
        marks = ", ".join("?" * len(chunk))
        for row in conn.execute(f"SELECT uuid, unit_id FROM events WHERE uuid IN ({marks})",
                                chunk).fetchall():
            found[row[0]] = row[1]
    return found


def _store(conn: sqlite3.Connection, events: Sequence[EventEnvelope], stored: set[str],
           unit_id: str, received: str, window_id: str | None) -> IngestResult:
    """Insert and project the events not in ``stored`` (nor earlier in the batch), all at
    once; the first unstorable event raises (the caller then uses :func:`_store_careful`)."""
    fresh: list[EventEnvelope] = []
    for env in events:
        if env.uuid not in stored:
            stored.add(env.uuid)
            fresh.append(env)
    _insert_all(conn, fresh, unit_id, received, window_id)
    unit_state.seen(conn, unit_id, [utc_text(env.utc) for env in fresh])
    return IngestResult(len(fresh), len(events) - len(fresh), ())


def _store_careful(conn: sqlite3.Connection, events: Sequence[EventEnvelope],
                   stored: set[str], unit_id: str, received: str, window_id: str | None
                   ) -> IngestResult:
    """As :func:`_store`, each event under its own savepoint: an unstorable one is rolled
    back alone and answered as rejected."""
    accepted = duplicates = 0
    rejected: list[Rejection] = []
    utcs: list[str] = []
    for env in events:
        if env.uuid in stored:
            duplicates += 1
            continue
        conn.execute("SAVEPOINT one_event")
        try:
            _insert(conn, env, unit_id, received, window_id)
        except _UNSTORABLE as exc:
            conn.execute("ROLLBACK TO one_event")
            conn.execute("RELEASE one_event")
            rejected.append(Rejection(env.uuid, "event", f"not storable: {exc}"))
            continue
        conn.execute("RELEASE one_event")
        stored.add(env.uuid)
        utcs.append(utc_text(env.utc))
        accepted += 1
    unit_state.seen(conn, unit_id, utcs)
    return IngestResult(accepted, duplicates, tuple(rejected))


class SqliteEventStore(SqliteFile):
    """Events keyed by uuid in one SQLite file (WAL), with projections for HQ queries.

    At-least-once delivery from units becomes exactly-once here: a uuid already stored
    for the same unit is counted as a duplicate and changes nothing.
    """

    def __init__(self, path: Path) -> None:
        super().__init__(path, SCHEMA + ORG_SCHEMA)

    def ingest(self, unit_id: str, events: Sequence[EventEnvelope]) -> IngestResult:
        """Store a batch in one transaction for the authenticated ``unit_id``.

        Raises ForeignUnit if any event names another unit and UuidTaken if a uuid is
        already stored for another unit; the whole batch is refused then. An event whose
        values SQLite cannot hold (an envelope built without validation) is rolled back
        alone and comes back in ``rejected``; the rest of the batch is stored.
        """
        check_unit_id(unit_id)
        for env in events:
            if env.unit_id != unit_id:
                raise ForeignUnit(
                    f"unit {unit_id} may not send event {env.uuid} of unit {env.unit_id}")
        received = utc_text(dt.datetime.now(dt.UTC))
        with self.writing() as conn:
            window_id = window_of_unit(conn, unit_id)
            stored = _stored(conn, [env.uuid for env in events])
            for env in events:
                if stored.get(env.uuid, unit_id) != unit_id:
                    raise UuidTaken(f"event {env.uuid} is already stored for another unit")
            if all(env.uuid in stored for env in events):
                return IngestResult(0, len(events), ())
            # Optimistic first: the whole batch in one INSERT under one savepoint. Only
            # when an event is not storable is that undone and the batch stored again
            # event by event, each under its own savepoint, which answers as if that had
            # been done from the start. (A dedupe query and two savepoints per event were
            # half of PostgreSQL's round trips.)
            conn.execute("SAVEPOINT ingest_batch")
            try:
                result = _store(conn, events, set(stored), unit_id, received, window_id)
            except _UNSTORABLE:
                conn.execute("ROLLBACK TO ingest_batch")
                result = _store_careful(conn, events, set(stored), unit_id, received,
                                        window_id)
            conn.execute("RELEASE ingest_batch")
        return result

    def register_unit(self, unit_id: str, branch_id: str) -> None:
        """Record (or move) a unit's branch, used by branch searches."""
        check_unit_id(unit_id)
        check_unit_id(branch_id)
        with self.writing() as conn:
            conn.execute("INSERT INTO units (unit_id, branch_id) VALUES (?, ?) "
                         "ON CONFLICT (unit_id) DO UPDATE SET branch_id = excluded.branch_id",
                         [unit_id, branch_id])

    def event(self, uuid: str) -> EventEnvelope | None:
        """One stored event, as the unit sent it."""
        with self._lock:
            row = self._conn.execute("SELECT * FROM events WHERE uuid = ?", [uuid]).fetchone()
        if row is None:
            return None
        return EventEnvelope(
            uuid=row["uuid"], type=row["type"], unit_id=row["unit_id"],
            counter_id=row["counter_id"], utc=parse_utc(row["utc"]), mono=row["mono"],
            boot_id=row["boot_id"], clock_synced=bool(row["clock_synced"]),
            data=json.loads(row["data"]))

    def count_events(self, unit_id: str | None = None) -> int:
        """Number of stored events (of one unit, if given)."""
        sql, args = "SELECT COUNT(*) FROM events", []
        if unit_id is not None:
            sql, args = sql + " WHERE unit_id = ?", [unit_id]
        with self._lock:
            return int(self._conn.execute(sql, args).fetchone()[0])

    def search_transactions(self, query: TransactionQuery, scope: Scope) -> list[Transaction]:
        """Transactions matching every given filter within ``scope``, newest start first."""
        where, args = _where(query, scope)
        sql = (f"{_SELECT}{where} ORDER BY t.started_utc DESC, t.unit_id, t.txn_id "
               "LIMIT ? OFFSET ?")
        with self._lock:
            rows = self._conn.execute(sql, [*args, query.limit, query.offset]).fetchall()
        return [_transaction(r) for r in rows]

    def transaction(self, txn_id: str, unit_id: str | None, scope: Scope) -> Transaction | None:
        """One transaction within ``scope`` (outside it: None, as if it did not exist);
        AmbiguousId if ``txn_id`` exists for several units."""
        fragment, scope_args = scope.window_filter("t.window_id")
        sql, args = f"{_SELECT} WHERE t.txn_id = ? AND {fragment}", [txn_id, *scope_args]
        if unit_id is not None:
            sql, args = sql + " AND t.unit_id = ?", [*args, unit_id]
        with self._lock:
            rows = self._conn.execute(sql + " LIMIT 2", args).fetchall()
        if len(rows) > 1:
            raise AmbiguousId(f"transaction {txn_id} exists for several units; give the unit")
        return _transaction(rows[0]) if rows else None

    def clip_in_scope(self, unit_id: str, clip_id: str, scope: Scope) -> bool:
        """Whether a clip may be shown within ``scope``: a transaction in scope names it.

        Scope ``all`` sees every clip, also one no transaction names (yet).
        """
        if scope.level == "all":
            return True
        fragment, args = scope.window_filter("t.window_id")
        with self._lock:
            row = self._conn.execute(
                f"SELECT 1 FROM transactions t WHERE t.unit_id = ? AND t.clip_id = ? "
                f"AND {fragment} LIMIT 1", [unit_id, clip_id, *args]).fetchone()
        return row is not None

    def units_in_scope(self, scope: Scope) -> list[str]:
        """Units bound to a window in ``scope`` now, or with transactions filed there."""
        bound, a1 = scope.window_filter("b.window_id")
        filed, a2 = scope.window_filter("t.window_id")
        with self._lock:
            rows = self._conn.execute(
                f"SELECT b.unit_id FROM org_unit_windows b WHERE {bound} UNION "
                f"SELECT DISTINCT t.unit_id FROM transactions t WHERE {filed} ORDER BY 1",
                [*a1, *a2]).fetchall()
        return [r[0] for r in rows]


def _where(q: TransactionQuery, scope: Scope) -> tuple[str, list[Any]]:
    """WHERE clause from fixed fragments; values only ever travel as parameters."""
    fragment, scope_args = scope.window_filter("t.window_id")
    parts: list[str] = [fragment]
    args: list[Any] = list(scope_args)
    if q.branch_id is not None:
        # The organisation tree's branch (windows at ingest) or a unit's registered one.
        in_branch, branch_args = Scope("branch", q.branch_id).window_filter("t.window_id")
        parts.append(f"(u.branch_id = ? OR {in_branch})")
        args.extend([q.branch_id, *branch_args])
    equal = (("t.counter_id", q.counter_id),
             ("t.unit_id", q.unit_id), ("t.staff_id", q.staff_id), ("t.rating", q.rating))
    for column, value in equal:
        if value is not None:
            parts.append(f"{column} = ?")
            args.append(value)
    bounds = (("t.started_utc >= ?", q.utc_from and utc_text(q.utc_from)),
              ("t.started_utc < ?", q.utc_to and utc_text(q.utc_to)),
              ("t.rating >= ?", q.rating_min), ("t.rating <= ?", q.rating_max))
    for fragment, bound in bounds:
        if bound is not None:
            parts.append(fragment)
            args.append(bound)
    if q.suspect is not None:
        parts.append("COALESCE(t.rating_suspect, 0) = ?")
        args.append(int(q.suspect))
    return (" WHERE " + " AND ".join(parts) if parts else ""), args


def _opt_utc(text: str | None) -> dt.datetime | None:
    return parse_utc(text) if text is not None else None


def _opt_bool(v: int | None) -> bool | None:
    return bool(v) if v is not None else None


def _transaction(r: sqlite3.Row) -> Transaction:
    return Transaction(
        unit_id=r["unit_id"], txn_id=r["txn_id"], branch_id=r["branch_id"],
        counter_id=r["counter_id"], staff_id=r["staff_id"], session_id=r["session_id"],
        started_utc=_opt_utc(r["started_utc"]), ended_utc=_opt_utc(r["ended_utc"]),
        duration_s=r["duration_s"], end_reason=r["end_reason"],
        clock_synced=_opt_bool(r["clock_synced"]), rating=r["rating"],
        rating_outcome=r["rating_outcome"], rating_suspect=_opt_bool(r["rating_suspect"]),
        clip_id=r["clip_id"], clip_state=r["clip_state"], clip_sha256=r["clip_sha256"],
        clip_size=r["clip_size"])
