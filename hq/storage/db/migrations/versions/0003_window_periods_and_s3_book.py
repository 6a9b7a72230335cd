"""Tables added beside 0002 by the session's other work: HQ-authored planned periods of a
window (``org_window_periods``, events.db) and the S3 clip store's bookkeeping
(``s3clips.db``: uploads, parts, spooled chunks, clips).

The periods table is made on both back-ends. The S3 book is made in PostgreSQL (schema
``hq_s3clips``), where every worker needs it before the first upload; on SQLite the S3
store makes its own file when hq.toml names an S3 bucket, and a folder on local clips has
none. Statements as they stood at this revision, all ``IF NOT EXISTS``.

Revision ID: 0003
Revises: 0002
"""

import contextlib
import sqlite3

from alembic import context

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

EVENTS_DB = (
    # hq/org/schedules/periods.py
    "CREATE TABLE IF NOT EXISTS org_window_periods (period_id TEXT PRIMARY KEY,"
    " window_id TEXT NOT NULL REFERENCES org_windows (window_id),"
    " state TEXT NOT NULL CHECK (state IN ('closed', 'away')),"
    " days TEXT NOT NULL DEFAULT '', on_date TEXT,"
    " start_local TEXT NOT NULL, end_local TEXT NOT NULL, note TEXT NOT NULL DEFAULT '',"
    " CHECK ((days = '') != (on_date IS NULL)), CHECK (end_local > start_local))",
    "CREATE INDEX IF NOT EXISTS org_window_periods_window ON org_window_periods (window_id)",
)

S3_BOOK = (
    # hq/storage/s3/book.py
    "CREATE TABLE IF NOT EXISTS s3_uploads (upload_id TEXT PRIMARY KEY,"
    " unit_id TEXT NOT NULL, clip_id TEXT NOT NULL, length INTEGER NOT NULL,"
    " sha256 TEXT NOT NULL, state TEXT NOT NULL, object_key TEXT NOT NULL,"
    " multipart_id TEXT, flushed INTEGER NOT NULL DEFAULT 0, created_utc TEXT NOT NULL,"
    " moved_utc TEXT NOT NULL, finished_utc TEXT)",
    "CREATE UNIQUE INDEX IF NOT EXISTS s3_one_partial_per_clip ON s3_uploads"
    " (unit_id, clip_id) WHERE state = 'partial'",
    "CREATE INDEX IF NOT EXISTS s3_uploads_by_clip ON s3_uploads (unit_id, clip_id, state)",
    "CREATE TABLE IF NOT EXISTS s3_parts (upload_id TEXT NOT NULL,"
    " part_number INTEGER NOT NULL, etag TEXT NOT NULL, size INTEGER NOT NULL,"
    " PRIMARY KEY (upload_id, part_number))",
    "CREATE TABLE IF NOT EXISTS s3_pending (upload_id TEXT NOT NULL,"
    ' "offset" INTEGER NOT NULL, data BLOB NOT NULL, size INTEGER NOT NULL,'
    ' PRIMARY KEY (upload_id, "offset"))',
    "CREATE TABLE IF NOT EXISTS s3_clips (unit_id TEXT NOT NULL, clip_id TEXT NOT NULL,"
    " upload_id TEXT NOT NULL, object_key TEXT NOT NULL, size INTEGER NOT NULL,"
    " sha256 TEXT NOT NULL, completed_utc TEXT NOT NULL, PRIMARY KEY (unit_id, clip_id))",
    "CREATE INDEX IF NOT EXISTS s3_clips_by_id ON s3_clips (clip_id)",
)


def _run(conn: sqlite3.Connection, statements: tuple[str, ...]) -> None:
    with contextlib.closing(conn):
        conn.execute("BEGIN IMMEDIATE")
        for statement in statements:
            conn.execute(statement)
        conn.execute("COMMIT")


def upgrade() -> None:
    from hq.storage.sqlite import connect

    root = context.config.attributes["hq_root"]
    events = connect(root / "events.db")
    on_postgresql = not isinstance(events, sqlite3.Connection)
    _run(events, EVENTS_DB)
    if on_postgresql:
        _run(connect(root / "s3clips.db"), S3_BOOK)


def downgrade() -> None:
    raise NotImplementedError("revisions are not taken back; restore a backup instead")
