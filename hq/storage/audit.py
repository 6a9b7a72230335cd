"""SqliteAuditLog: who searched, played or downloaded which recording, from where.

Append-only: there is no update or delete method, and triggers make the database itself
refuse UPDATE and DELETE on the table, so a bug elsewhere cannot rewrite history.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import InvalidInput
from .models import MAX_PAGE, AuditRecord, parse_utc, utc_text
from .sqlite import SqliteFile

CLIP_DOWNLOAD = "clip_download"
CLIP_PLAY = "clip_play"
SEARCH = "search"
TRANSACTION_VIEW = "transaction_view"

# The unit part of an object id "unit/txn" or "unit/clip" (fixed SQL, no user text).
_UNIT_OF_OBJECT = "substr(object_id, 1, instr(object_id, '/') - 1)"
_ACTION = re.compile(r"[a-z][a-z0-9_]{0,63}")
_MAX_FIELD = 512

_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, utc TEXT NOT NULL, actor TEXT NOT NULL,
    role TEXT NOT NULL, action TEXT NOT NULL, object_type TEXT NOT NULL,
    object_id TEXT NOT NULL, client TEXT NOT NULL, detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_object ON audit (object_type, object_id, seq);
CREATE INDEX IF NOT EXISTS audit_actor ON audit (actor, seq);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
"""


def _field(name: str, value: str, *, empty_ok: bool = False) -> str:
    if not isinstance(value, str) or len(value) > _MAX_FIELD or "\x00" in value:
        raise InvalidInput(f"audit {name} must be text of at most {_MAX_FIELD} characters")
    if not value and not empty_ok:
        raise InvalidInput(f"audit {name} must not be empty")
    return value


class SqliteAuditLog(SqliteFile):
    """Append-only audit records in one SQLite file (WAL, FULL sync)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, _SCHEMA)

    def append(self, *, actor: str, role: str, action: str, object_type: str,
               object_id: str, client: str, detail: str = "",
               utc: dt.datetime | None = None) -> AuditRecord:
        """Write one record durably and return it (``utc`` defaults to now)."""
        if not isinstance(action, str) or not _ACTION.fullmatch(action):
            raise InvalidInput(f"audit action {action!r} must match {_ACTION.pattern}")
        values = [_field("actor", actor), _field("role", role), action,
                  _field("object_type", object_type), _field("object_id", object_id),
                  _field("client", client), _field("detail", detail, empty_ok=True)]
        when = utc_text(utc or dt.datetime.now(dt.UTC))
        with self._lock:
            cur = self._conn.execute(
                "INSERT INTO audit (utc, actor, role, action, object_type, object_id, client, "
                "detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [when, *values])
            seq = cur.lastrowid
        assert seq is not None
        return AuditRecord(seq, parse_utc(when), *values)

    def query(self, *, actor: str | None = None, object_type: str | None = None,
              object_id: str | None = None, action: str | None = None,
              utc_from: dt.datetime | None = None, utc_to: dt.datetime | None = None,
              limit: int = 100, offset: int = 0, actions: Sequence[str] | None = None,
              object_units: Sequence[str] | None = None,
              newest_first: bool = False) -> list[AuditRecord]:
        """Records matching every given filter, oldest first (``utc_to`` exclusive).

        ``actions``: any of these actions. ``object_units``: only records about a
        transaction or clip (object id ``unit/...``) of these units, which is how a
        reader with a narrower scope sees the recordings of their scope only.
        """
        if not 1 <= limit <= MAX_PAGE or offset < 0:
            raise InvalidInput(f"limit must be within 1..{MAX_PAGE} and offset >= 0")
        parts: list[str] = []
        args: list[Any] = []
        for column, values in (("action", actions), (_UNIT_OF_OBJECT, object_units)):
            if values is not None:
                parts.append(f"{column} IN ({', '.join('?' * len(values)) or 'NULL'})")
                args.extend(values)
        if object_units is not None:
            parts.append("object_type IN ('transaction', 'clip')")
        for column, value in (("actor", actor), ("object_type", object_type),
                              ("object_id", object_id), ("action", action)):
            if value is not None:
                parts.append(f"{column} = ?")
                args.append(value)
        if utc_from is not None:
            parts.append("utc >= ?")
            args.append(utc_text(utc_from))
        if utc_to is not None:
            parts.append("utc < ?")
            args.append(utc_text(utc_to))
        where = " WHERE " + " AND ".join(parts) if parts else ""
        with self._lock:
            order = "DESC" if newest_first else ""
            rows = self._conn.execute(
                f"SELECT * FROM audit{where} ORDER BY seq {order} LIMIT ? OFFSET ?",
                [*args, limit, offset]).fetchall()
        return [_record(r) for r in rows]


def _record(r: sqlite3.Row) -> AuditRecord:
    return AuditRecord(r["seq"], parse_utc(r["utc"]), r["actor"], r["role"], r["action"],
                       r["object_type"], r["object_id"], r["client"], r["detail"])
