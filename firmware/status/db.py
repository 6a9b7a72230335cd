"""What the unit database says, read without disturbing the daemon that writes it.

The database is opened read-only (WAL readers never block the writer). Each
section is read on its own, so a locked table or an old schema costs that
section only, with a one-line reason instead of a traceback.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from firmware.status.format import size
from firmware.store.schema import MIGRATIONS
from sync.outbox import Backlog, clip_files_in, read_backlog

T = TypeVar("T")

DB_NAME = "counterunit.db"
BUSY_TIMEOUT_S = 2.0  # a technician waits for an answer, not for a long write
# Shown first, in this order, when an event carries them.
_SUMMARY_KEYS = ("name", "staff_id", "rating", "outcome", "alert", "level", "duration_s",
                 "reason", "trigger", "state", "size", "txn_id", "absence_id", "clip_id")
_SUMMARY_MAX = 80


@dataclass(frozen=True)
class EventLine:
    type: str
    utc: dt.datetime | None
    summary: str


@dataclass(frozen=True)
class Today:
    """Counts since local midnight (the unit's time zone)."""

    transactions: int
    transactions_open: int
    rated: int
    rating_avg: float | None
    not_rated: int
    alerts: int
    alerts_open: int


@dataclass(frozen=True)
class ClipsOnDisk:
    """Clip files still on the card; ``unsynced`` ones HQ has not acknowledged yet."""

    count: int
    bytes: int
    unsynced: int
    unsynced_bytes: int
    recording: int


@dataclass(frozen=True)
class DbFacts:
    """Everything read from the database; a section is None when it could not be read,
    with the reason in ``problems``."""

    path: Path
    exists: bool
    schema_version: int | None = None
    schema_current: int = len(MIGRATIONS)
    events: tuple[EventLine, ...] | None = None
    backlog: Backlog | None = None
    today: Today | None = None
    clips: ClipsOnDisk | None = None
    problems: tuple[str, ...] = field(default=())


def _iso(t: dt.datetime) -> str:
    # Same form as the store writes, so text comparison orders correctly.
    return t.astimezone(dt.UTC).isoformat(timespec="milliseconds")


def _parse(text: Any) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(text) if isinstance(text, str) else None
    except ValueError:
        return None


def _value(key: str, v: Any) -> str:
    if key == "size" and isinstance(v, int):
        return size(v)
    if key == "duration_s" and isinstance(v, int | float):
        return f"{v:.1f} s"
    return str(v)


def summarize(data: dict[str, Any]) -> str:
    """A short ``key=value`` line of an event's most telling fields (pure)."""
    parts = [f"{k}={_value(k, data[k])}" for k in _SUMMARY_KEYS
             if data.get(k) not in (None, "", False)]
    text = " ".join(parts)
    return text if len(text) <= _SUMMARY_MAX else text[:_SUMMARY_MAX - 1] + "…"


def open_readonly(path: Path) -> sqlite3.Connection:
    """Connect read-only; never creates the file.

    A reader of a WAL database needs its -shm file: when the daemon is not
    running, and the folder is not writable to us, it cannot be created, and
    then nothing is writing, so the file can be read as immutable.
    """
    uri = path.resolve().as_uri() + "?mode=ro"
    conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError as exc:
        conn.close()
        if "readonly" not in str(exc) and "unable to open" not in str(exc):
            raise
        conn = sqlite3.connect(uri + "&immutable=1", uri=True, timeout=BUSY_TIMEOUT_S)
    return conn


def last_events(conn: sqlite3.Connection, n: int) -> tuple[EventLine, ...]:
    rows = conn.execute("SELECT type, utc, data FROM events ORDER BY rowid DESC LIMIT ?",
                        [n]).fetchall()
    out = []
    for type_, utc, data in rows:
        try:
            doc = json.loads(data or "{}")
            summary = summarize(doc) if isinstance(doc, dict) else "(data not an object)"
        except ValueError:
            summary = "(data unreadable)"
        out.append(EventLine(str(type_), _parse(utc), summary))
    return tuple(out)


def today_counts(conn: sqlite3.Connection, day_start: dt.datetime) -> Today:
    since = _iso(day_start)
    txns, txns_open = conn.execute(
        "SELECT count(*), coalesce(sum(ended_utc IS NULL), 0) FROM transactions "
        "WHERE started_utc >= ?", [since]).fetchone()
    rated, avg, not_rated = conn.execute(
        "SELECT coalesce(sum(outcome = 'rated'), 0), "
        "avg(CASE WHEN outcome = 'rated' THEN rating END), "
        "coalesce(sum(outcome != 'rated'), 0) FROM ratings WHERE utc >= ?", [since]).fetchone()
    alerts, alerts_open = conn.execute(
        "SELECT count(*), coalesce(sum(cleared_utc IS NULL), 0) FROM alerts "
        "WHERE raised_utc >= ?", [since]).fetchone()
    return Today(txns, txns_open, rated, None if avg is None else round(avg, 2), not_rated,
                 alerts, alerts_open)


def clips_on_disk(conn: sqlite3.Connection) -> ClipsOnDisk:
    files = clip_files_in(conn)
    # Only clips queued for upload can be "unsynced"; a cut clip (no sha256) never goes.
    queued = {r[0] for r in conn.execute("SELECT ref FROM outbox WHERE kind = 'clip'")}
    unsynced = [i for i, _ in files if i.clip_id in queued and i.acked_utc is None]
    return ClipsOnDisk(
        count=len(files), bytes=sum(i.size for i, _ in files), unsynced=len(unsynced),
        unsynced_bytes=sum(i.size for i in unsynced),
        recording=sum(i.is_open for i, _ in files))


def read_db(data_dir: Path, day_start: dt.datetime, *, n_events: int = 8) -> DbFacts:
    """The database facts for ``counterunit status``; never raises for a bad database."""
    path = data_dir / DB_NAME
    if not path.is_file():
        return DbFacts(path, exists=False)
    problems: list[str] = []
    try:
        conn = open_readonly(path)
    except sqlite3.Error as exc:
        return DbFacts(path, exists=True, problems=(f"cannot open: {exc}",))
    try:
        def section(what: str, read: Callable[[], T]) -> T | None:
            try:
                return read()
            except sqlite3.Error as exc:
                problems.append(f"{what}: {exc}")
                return None

        version = section("schema", lambda: int(conn.execute("PRAGMA user_version")
                                                    .fetchone()[0]))
        if version == 0:
            problems.append("not migrated yet (schema 0): start the daemon once")
            return DbFacts(path, True, schema_version=0, problems=tuple(problems))
        return DbFacts(
            path, True, schema_version=version,
            events=section("events", lambda: last_events(conn, n_events)),
            backlog=section("backlog", lambda: read_backlog(conn)),
            today=section("today", lambda: today_counts(conn, day_start)),
            clips=section("clips", lambda: clips_on_disk(conn)),
            problems=tuple(problems))
    finally:
        conn.close()
