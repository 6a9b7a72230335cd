"""Database schema and its migrations (``PRAGMA user_version`` counts them)."""

from __future__ import annotations

from collections.abc import Callable

import sqlite_utils


def _v1(db: sqlite_utils.Database) -> None:
    db.table("events").create(
        {"uuid": str, "type": str, "unit_id": str, "counter_id": str, "utc": str, "mono": float,
         "boot_id": str, "clock_synced": int, "data": str},
        pk="uuid",
    )
    db.table("events").create_index(["type"])
    db.table("outbox").create(
        {"id": int, "kind": str, "ref": str, "priority": int, "created_utc": str,
         "attempts": int, "acked_utc": str},
        pk="id", not_null={"kind", "ref", "priority"}, defaults={"attempts": 0},
    )
    db.table("outbox").create_index(["acked_utc", "priority", "id"])
    db.table("staff_sessions").create(
        {"session_id": str, "staff_id": str, "name": str, "staff_number": str,
         "login_utc": str, "login_t": float, "logout_utc": str, "logout_t": float,
         "logout_reason": str},
        pk="session_id",
    )
    db.table("transactions").create(
        {"txn_id": str, "staff_id": str, "session_id": str, "started_utc": str,
         "started_t": float, "ended_utc": str, "ended_t": float, "duration_s": float,
         "end_reason": str, "clip_id": str, "rating": int, "rating_outcome": str,
         "rating_suspect": int},
        pk="txn_id",
    )
    db.table("ratings").create(
        {"uuid": str, "txn_id": str, "staff_id": str, "outcome": str, "rating": int,
         "key": int, "suspect": int, "trigger": str, "utc": str, "t": float},
        pk="uuid",
    )
    db.table("absences").create(
        {"absence_id": str, "staff_id": str, "started_utc": str, "started_t": float,
         "ended_utc": str, "ended_t": float, "duration_s": float, "max_level": int,
         "clip_id": str, "end_reason": str},
        pk="absence_id",
    )
    db.table("alerts").create(
        {"uuid": str, "alert": str, "level": int, "absence_id": str, "txn_id": str,
         "staff_id": str, "raised_utc": str, "raised_t": float, "cleared_utc": str,
         "cleared_t": float},
        pk="uuid",
    )
    db.table("clips").create(
        {"clip_id": str, "kind": str, "state": str, "path": str, "from_t": float,
         "until_t": float, "duration_s": float, "size": int, "sha256": str,
         "opened_utc": str, "closed_utc": str, "note": str},
        pk="clip_id",
    )
    db.table("clips").create_index(["state"])
    db.table("config_versions").create(
        {"id": int, "etag": str, "applied_utc": str, "body": str}, pk="id"
    )


def _v2(db: sqlite_utils.Database) -> None:
    # Retention: a deleted clip keeps its row (HQ may hold the only copy) but not its file.
    db.table("clips").add_column("deleted_utc", str)
    db.table("clips").add_column("delete_reason", str)


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [_v1, _v2]
