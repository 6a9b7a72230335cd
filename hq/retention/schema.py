"""Retention's tables, in HQ's events database beside the rows they govern.

Portable SQL (TEXT keys, ``?`` placeholders, partial unique index): the same statements
run on PostgreSQL through the storage layer's dialect.

- ``retention_periods``: one row per branch override, and ``'*'`` for the organisation
  default; a NULL field is "for ever" (default) or "as the organisation" (override).
- ``legal_holds``: a dispute on a transaction; at most one open hold per transaction,
  released holds stay as the record of who held and released it.
- ``retention_clips_deleted``: clips retention has deleted (claimed in the same database
  transaction that checked the holds), so a hold can never be set on a clip being deleted
  and the transaction page can say the recording was deleted, and when.
"""

from __future__ import annotations

RETENTION_SCHEMA = """
CREATE TABLE IF NOT EXISTS retention_periods (
    branch_id TEXT PRIMARY KEY, clip_days INTEGER, event_days INTEGER,
    updated_utc TEXT NOT NULL, updated_by TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS legal_holds (
    hold_id TEXT PRIMARY KEY, unit_id TEXT NOT NULL, txn_id TEXT NOT NULL,
    clip_id TEXT, reason TEXT NOT NULL, held_by TEXT NOT NULL, held_utc TEXT NOT NULL,
    released_by TEXT, released_utc TEXT, release_note TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS legal_holds_open
    ON legal_holds (unit_id, txn_id) WHERE released_utc IS NULL;
CREATE TABLE IF NOT EXISTS retention_clips_deleted (
    unit_id TEXT NOT NULL, clip_id TEXT NOT NULL, deleted_utc TEXT NOT NULL,
    PRIMARY KEY (unit_id, clip_id)
);
"""
