"""The sync process's view of the unit database: what to send, and what HQ acknowledged.

The daemon owns the database and writes it all day; this process opens the same
file. Reads are single statements (WAL readers never block the writer); writes
are short ``BEGIN IMMEDIATE`` transactions under a busy timeout and never span
network I/O, so recording is never held up by a slow uplink.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from sync.retention import ClipInfo
from sync.schema import EventEnvelope

log = logging.getLogger(__name__)

# Outbox priorities as the daemon writes them (firmware/store/store.py).
PRIORITY_ALERT = 0
PLAYABLE_STATES = ("closed", "salvaged")
_TABLES = {"events", "outbox", "clips"}

Kind = Literal["event", "clip"]


class OutboxError(Exception):
    """The unit database cannot be used by sync (missing, not migrated, bad argument)."""


@dataclass(frozen=True)
class PendingClip:
    """A finished clip waiting for upload; its file was present when listed."""

    clip_id: str
    path: Path
    size: int
    sha256: str
    state: str


@dataclass(frozen=True)
class MissingClip:
    """A clip waiting for upload that cannot be sent as recorded."""

    clip_id: str
    path: Path | None
    reason: str


@dataclass(frozen=True)
class Backlog:
    """What is still to send, for ``counterunit status``. ``events`` includes ``alerts``;
    ``refused`` counts events set aside (HQ refused them: kept here, never re-sent)."""

    events: int
    alerts: int
    clips: int
    clip_bytes: int
    oldest_utc: dt.datetime | None
    refused: int = 0


@dataclass(frozen=True)
class Refusal:
    """Why one event is set aside: HQ's status and error code, the field and the rule.

    ``status`` 0 means the unit itself found the stored row unsendable.
    """

    uuid: str
    status: int
    error: str
    field: str
    reason: str


# Created by the sync process (the only writer of refusals); ``counterunit status`` reads
# it when present. The event row and its outbox entry stay as they are.
REFUSED_SCHEMA = """
CREATE TABLE IF NOT EXISTS refused_events (
    uuid TEXT PRIMARY KEY, refused_utc TEXT NOT NULL, status INTEGER NOT NULL,
    error TEXT NOT NULL, field TEXT NOT NULL, reason TEXT NOT NULL
)"""


def _iso(t: dt.datetime) -> str:
    if t.tzinfo is None:
        raise OutboxError(f"timestamp {t!r} has no time zone; pass an aware UTC datetime")
    return t.astimezone(dt.UTC).isoformat(timespec="milliseconds")


def _parse(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None


def clip_files_in(conn: sqlite3.Connection) -> list[tuple[ClipInfo, Path]]:
    """Every clip of the unit database whose file is still on disk (retention's input)."""
    cur = conn.execute(
        "SELECT c.clip_id, c.state, c.path, c.closed_utc, "
        "(SELECT max(o.acked_utc) FROM outbox o WHERE o.kind = 'clip' AND o.ref = c.clip_id)"
        " AS acked_utc FROM clips c WHERE c.path IS NOT NULL AND c.deleted_utc IS NULL")
    out = []
    for clip_id, state, path_text, closed, acked in cur.fetchall():
        path = Path(path_text)
        try:
            size = path.stat().st_size
        except OSError:
            continue  # never written, or removed by hand: nothing to reclaim
        out.append((ClipInfo(clip_id, size, _parse(closed), _parse(acked),
                             is_open=state == "open"), path))
    return out


class Outbox:
    """Read and acknowledge the daemon's outbox in ``db_path`` (safe to share across threads)."""

    def __init__(self, db_path: Path, *, busy_timeout_s: float = 10.0) -> None:
        if not db_path.is_file():
            raise OutboxError(f"unit database {db_path} does not exist (has the daemon run?)")
        self.path = db_path
        # mode=rw: never create an empty database next to the real one.
        self._conn = sqlite3.connect(db_path.resolve().as_uri() + "?mode=rw", uri=True,
                                     timeout=busy_timeout_s, isolation_level=None,
                                     check_same_thread=False)
        self._lock = threading.Lock()
        self._warned: set[str] = set()
        try:
            self._conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
            self._conn.execute("PRAGMA journal_mode=WAL")
            # An ack lost at a power cut only means a re-send, but FULL keeps
            # this process as durable as the daemon for the price of one fsync.
            self._conn.execute("PRAGMA synchronous=FULL")
            tables = {r[0] for r in self._conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as e:
            self._conn.close()
            raise OutboxError(f"unit database {db_path} cannot be opened: {e}") from e
        if lacking := _TABLES - tables:
            self._conn.close()
            raise OutboxError(f"unit database {db_path} lacks tables {sorted(lacking)} "
                              "(not migrated by the daemon yet?)")
        self._unsendable: list[Refusal] = []
        if "refused_events" not in tables:
            with self._write() as conn:
                conn.execute(REFUSED_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def _locked(self) -> Iterator[sqlite3.Connection]:
        # A busy timeout (the daemon held its lock too long) or a disk error is
        # expected in the field: the caller gets a domain error and retries later.
        with self._lock:
            try:
                yield self._conn
            except sqlite3.OperationalError as e:
                raise OutboxError(f"unit database {self.path}: {e}") from e

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._locked():
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise

    def _read(self, sql: str, args: Iterable[Any] = ()) -> list[sqlite3.Row]:
        with self._locked():
            cur = self._conn.execute(sql, list(args))
            cur.row_factory = sqlite3.Row
            return cur.fetchall()

    def _warn_once(self, key: str, msg: str, *args: object) -> None:
        if key not in self._warned:
            self._warned.add(key)
            log.warning(msg, *args)

    # ---- events ---------------------------------------------------------------------

    def next_event_batch(self, max_events: int, max_bytes: int) -> list[EventEnvelope]:
        """Unacknowledged events, alerts first then oldest entry first.

        The batch holds at most ``max_events`` and at most ``max_bytes`` of JSON,
        except that a lone event larger than ``max_bytes`` is still returned so
        it cannot block the queue. Set-aside events are skipped; a row that no
        longer makes a valid envelope is set aside too (kept, status 0) and handed
        out once by :meth:`take_unsendable`.
        """
        if max_events < 1 or max_bytes < 1:
            raise OutboxError(f"max_events={max_events} max_bytes={max_bytes}: both must be >= 1")
        batch: list[EventEnvelope] = []
        used = 0
        with self._locked():
            # No LIMIT: unsendable rows are skipped, and must not fill a page
            # and starve the good events queued behind them.
            cur = self._conn.execute(
                "SELECT e.* FROM outbox o JOIN events e ON e.uuid = o.ref "
                "LEFT JOIN refused_events r ON r.uuid = o.ref "
                "WHERE o.kind = 'event' AND o.acked_utc IS NULL AND r.uuid IS NULL "
                "ORDER BY o.priority, o.id")
            cur.row_factory = sqlite3.Row
            bad: list[Refusal] = []
            try:
                while len(batch) < max_events and (rows := cur.fetchmany(max_events)):
                    for row in rows:
                        env = self._envelope(row, bad)
                        if env is None:
                            continue
                        size = len(env.model_dump_json().encode())
                        if len(batch) == max_events or (batch and used + size > max_bytes):
                            return batch
                        batch.append(env)
                        used += size
            finally:
                cur.close()
                if bad:
                    self._set_aside_locked(bad, dt.datetime.now(dt.UTC))
                    self._unsendable.extend(bad)
        return batch

    def _envelope(self, row: sqlite3.Row, bad: list[Refusal]) -> EventEnvelope | None:
        try:
            return EventEnvelope(**{**dict(row), "data": json.loads(row["data"] or "{}")})
        except (ValidationError, ValueError, TypeError) as e:
            log.warning("event %s cannot be sent as stored; set aside: %s", row["uuid"],
                        str(e).splitlines()[0][:300])
            bad.append(Refusal(row["uuid"], 0, "unsendable", "event", str(e)[:300]))
            return None

    def take_unsendable(self) -> list[Refusal]:
        """Rows :meth:`next_event_batch` set aside as unsendable since the last call."""
        with self._lock:
            out, self._unsendable = self._unsendable, []
        return out

    def set_aside(self, refusals: Iterable[Refusal], now: dt.datetime) -> int:
        """Keep these events but never send them again; returns how many were new."""
        with self._locked():
            return self._set_aside_locked(list(refusals), now)

    def _set_aside_locked(self, refusals: list[Refusal], now: dt.datetime) -> int:
        if not refusals:
            return 0
        stamp = _iso(now)
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            cur = self._conn.executemany(
                "INSERT OR IGNORE INTO refused_events (uuid, refused_utc, status, error, "
                "field, reason) VALUES (?, ?, ?, ?, ?, ?)",
                [(r.uuid, stamp, r.status, r.error, r.field, r.reason) for r in refusals])
            self._conn.execute("COMMIT")
        except BaseException:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise
        return max(cur.rowcount, 0)

    def refusals(self) -> list[Refusal]:
        """Every event set aside, oldest first."""
        rows = self._read("SELECT * FROM refused_events ORDER BY refused_utc, uuid")
        return [Refusal(r["uuid"], r["status"], r["error"], r["field"], r["reason"])
                for r in rows]

    def ack_events(self, uuids: Iterable[str], now: dt.datetime) -> int:
        """Mark events acknowledged in one transaction; returns how many were newly acked."""
        return self._ack("event", uuids, now)

    def note_attempt(self, refs: Iterable[str], *, kind: Kind = "event") -> None:
        """Count one more send attempt for each unacknowledged entry in ``refs``."""
        params = [(kind, ref) for ref in refs]
        if not params:
            return  # no write lock for nothing
        with self._write() as conn:
            conn.executemany("UPDATE outbox SET attempts = coalesce(attempts, 0) + 1 "
                             "WHERE kind = ? AND ref = ? AND acked_utc IS NULL", params)

    def _ack(self, kind: Kind, refs: Iterable[str], now: dt.datetime) -> int:
        stamp = _iso(now)
        params = [(stamp, kind, ref) for ref in refs]
        if not params:
            return 0
        with self._write() as conn:
            # executemany sums rowcount; unknown or already-acked refs match nothing.
            cur = conn.executemany("UPDATE outbox SET acked_utc = ? "
                                   "WHERE kind = ? AND ref = ? AND acked_utc IS NULL", params)
            return max(cur.rowcount, 0)

    # ---- clips ------------------------------------------------------------------------

    def _scan_clips(self) -> tuple[list[PendingClip], list[MissingClip]]:
        rows = self._read(
            "SELECT o.ref, c.clip_id, c.state, c.path, c.size, c.sha256 FROM outbox o "
            "LEFT JOIN clips c ON c.clip_id = o.ref "
            # A clip the daemon had to delete (disk emergency) is gone for good; its
            # clip_deleted event tells HQ, so it is not 'missing'.
            "WHERE o.kind = 'clip' AND o.acked_utc IS NULL AND c.deleted_utc IS NULL "
            "ORDER BY o.priority, o.id")
        pending: list[PendingClip] = []
        missing: list[MissingClip] = []
        for r in rows:
            path = Path(r["path"]) if r["path"] else None
            reason = None
            if r["clip_id"] is None:
                reason = "no clip row"
            elif r["state"] not in PLAYABLE_STATES:
                continue  # not finished yet; the daemon queues only finished clips anyway
            elif path is None or r["size"] is None or not r["sha256"]:
                reason = "no path, size or sha256 recorded"
            elif not path.is_file():
                reason = "file missing"
            elif (on_disk := path.stat().st_size) != r["size"]:
                reason = f"file is {on_disk} bytes, recorded {r['size']}"
            if reason:
                self._warn_once("clip:" + r["ref"], "clip %s cannot be uploaded: %s",
                                r["ref"], reason)
                missing.append(MissingClip(r["ref"], path, reason))
            else:
                assert path is not None
                pending.append(PendingClip(r["clip_id"], path, r["size"], r["sha256"],
                                           r["state"]))
        return pending, missing

    def pending_clips(self) -> list[PendingClip]:
        """Finished, unacknowledged clips whose file is present with its recorded size."""
        return self._scan_clips()[0]

    def missing_clips(self) -> list[MissingClip]:
        """Unacknowledged clips that cannot be uploaded (file gone or changed), with why."""
        return self._scan_clips()[1]

    def ack_clip(self, clip_id: str, now: dt.datetime) -> bool:
        """Mark a clip acknowledged by HQ; False when unknown or already acked."""
        return self._ack("clip", [clip_id], now) > 0

    def clip_files(self) -> list[tuple[ClipInfo, Path]]:
        """Every clip whose file is still on disk, as input to ``plan_retention``."""
        with self._locked() as conn:
            return clip_files_in(conn)

    # ---- status -----------------------------------------------------------------------

    def backlog(self) -> Backlog:
        """Counts of unacknowledged entries and the creation time of the oldest."""
        with self._locked() as conn:
            return read_backlog(conn)


def read_backlog(conn: sqlite3.Connection) -> Backlog:
    """The backlog in the unit database ``conn`` (any connection, read-only is enough).

    Shared with ``counterunit status``, which opens the database read-only and
    must not need the sync process (or its write access) to say what is queued.
    Events set aside are not backlog: they are counted in ``refused``.
    """
    has_refused = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' "
                               "AND name = 'refused_events'").fetchone() is not None
    if has_refused:
        refused = int(conn.execute("SELECT count(*) FROM refused_events").fetchone()[0])
        not_refused = "AND o.ref NOT IN (SELECT uuid FROM refused_events) "
    else:
        refused, not_refused = 0, ""
    cur = conn.execute(
        "SELECT sum(o.kind = 'event') AS events, "
        "sum(o.kind = 'event' AND o.priority = ?) AS alerts, "
        "sum(o.kind = 'clip') AS clips, "
        "sum(CASE WHEN o.kind = 'clip' THEN coalesce(c.size, 0) END) AS clip_bytes, "
        "min(o.created_utc) AS oldest FROM outbox o "
        "LEFT JOIN clips c ON o.kind = 'clip' AND c.clip_id = o.ref "
        # A clip deleted in a disk emergency will never be sent: not backlog.
        "WHERE o.acked_utc IS NULL AND c.deleted_utc IS NULL " + not_refused,
        [PRIORITY_ALERT])
    events, alerts, clips, clip_bytes, oldest = cur.fetchone()
    return Backlog(events=events or 0, alerts=alerts or 0, clips=clips or 0,
                   clip_bytes=clip_bytes or 0, oldest_utc=_parse(oldest), refused=refused)
