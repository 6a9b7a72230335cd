"""SqliteAuditLog: append, query by object and user, and no way to rewrite history."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hq.storage import (
    CLIP_DOWNLOAD,
    CLIP_PLAY,
    SEARCH,
    AuditRecord,
    InvalidInput,
    SqliteAuditLog,
)
from tests.servers.postgres_fixtures import Backend

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def audit(tmp_path: Path, backend: Backend) -> Iterator[SqliteAuditLog]:
    log = SqliteAuditLog(backend.use(tmp_path) / "audit.sqlite")
    yield log
    log.close()


def _fill(audit: SqliteAuditLog) -> None:
    rows = [("alice", "auditor", CLIP_PLAY, "clip", "unit-a/p-t1"),
            ("bob", "supervisor", CLIP_DOWNLOAD, "clip", "unit-a/p-t1"),
            ("alice", "auditor", SEARCH, "transactions", "staff_id=s1"),
            ("alice", "auditor", CLIP_DOWNLOAD, "clip", "unit-b/p-t9")]
    for i, (actor, role, action, otype, oid) in enumerate(rows):
        audit.append(actor=actor, role=role, action=action, object_type=otype,
                     object_id=oid, client=f"10.0.0.{i}", utc=T0 + dt.timedelta(minutes=i))


def test_append_returns_the_stored_record(audit: SqliteAuditLog) -> None:
    rec = audit.append(actor="alice", role="auditor", action=CLIP_PLAY, object_type="clip",
                       object_id="unit-a/p-t1", client="10.0.0.7", detail="range 0-99",
                       utc=T0)
    assert (rec.seq, rec.utc, rec.client, rec.detail) == (1, T0, "10.0.0.7", "range 0-99")
    assert audit.query() == [rec]


Query = Callable[[SqliteAuditLog], list[AuditRecord]]


@pytest.mark.parametrize(("query", "expected"), [
    (lambda a: a.query(), [1, 2, 3, 4]),
    (lambda a: a.query(object_type="clip", object_id="unit-a/p-t1"), [1, 2]),
    (lambda a: a.query(actor="alice"), [1, 3, 4]),
    (lambda a: a.query(actor="alice", action=CLIP_DOWNLOAD), [4]),
    (lambda a: a.query(action=SEARCH), [3]),
    (lambda a: a.query(utc_from=T0 + dt.timedelta(minutes=1),
                       utc_to=T0 + dt.timedelta(minutes=3)), [2, 3]),
    (lambda a: a.query(limit=2, offset=1), [2, 3]),
    (lambda a: a.query(actor="mallory' OR '1'='1"), []),
])
def test_query(audit: SqliteAuditLog, query: Query, expected: list[int]) -> None:
    _fill(audit)
    assert [r.seq for r in query(audit)] == expected


def test_records_survive_reopen_and_cannot_be_changed(tmp_path: Path) -> None:
    path = tmp_path / "audit.sqlite"
    log = SqliteAuditLog(path)
    _fill(log)
    log.close()
    assert not hasattr(log, "delete") and not hasattr(log, "update")
    raw = sqlite3.connect(path)
    for sql in ("UPDATE audit SET actor = 'nobody'", "DELETE FROM audit"):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            raw.execute(sql)
    raw.close()
    again = SqliteAuditLog(path)
    assert [r.actor for r in again.query()] == ["alice", "bob", "alice", "alice"]
    again.close()


@pytest.mark.parametrize(("field", "value"), [
    ("action", "Clip Download"), ("action", ""), ("actor", ""), ("client", "x" * 513),
    ("object_id", "a\x00b"),
])
def test_bad_records_are_refused(audit: SqliteAuditLog, field: str, value: str) -> None:
    args = {"actor": "alice", "role": "auditor", "action": CLIP_PLAY, "object_type": "clip",
            "object_id": "unit-a/p-t1", "client": "10.0.0.1"}
    args[field] = value
    with pytest.raises(InvalidInput):
        audit.append(actor=args["actor"], role=args["role"], action=args["action"],
                     object_type=args["object_type"], object_id=args["object_id"],
                     client=args["client"])
    assert audit.query() == []


def test_bad_paging_is_refused(audit: SqliteAuditLog) -> None:
    with pytest.raises(InvalidInput):
        audit.query(limit=0)
