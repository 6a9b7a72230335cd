"""The tables HQ's modules made on first use, and the in-place upgrades, as a revision.

Retention (periods, legal holds, deleted clips), the window-state segments and the queue
tables were created by their modules the first time they were needed, so a database
migrated to 0001 lacked them until then; and two columns' rules were changed in place
on SQLite only: ``org_staff``'s contact columns and ``alert_deliveries`` accepting
status 'skipped'. This revision makes all of it on both back-ends. The statements are
written out here as they stood at this revision (not imported from the modules), so the
revision means the same thing whatever the modules become later; every statement is
``IF NOT EXISTS`` and safe on a database whose modules already made the tables.

Revision ID: 0002
Revises: 0001
"""

import contextlib
import sqlite3

from alembic import context

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

EVENTS_DB = (
    # hq/retention/schema.py
    "CREATE TABLE IF NOT EXISTS retention_periods (branch_id TEXT PRIMARY KEY,"
    " clip_days INTEGER, event_days INTEGER, updated_utc TEXT NOT NULL,"
    " updated_by TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS legal_holds (hold_id TEXT PRIMARY KEY, unit_id TEXT NOT NULL,"
    " txn_id TEXT NOT NULL, clip_id TEXT, reason TEXT NOT NULL, held_by TEXT NOT NULL,"
    " held_utc TEXT NOT NULL, released_by TEXT, released_utc TEXT, release_note TEXT)",
    "CREATE UNIQUE INDEX IF NOT EXISTS legal_holds_open ON legal_holds (unit_id, txn_id)"
    " WHERE released_utc IS NULL",
    "CREATE TABLE IF NOT EXISTS retention_clips_deleted (unit_id TEXT NOT NULL,"
    " clip_id TEXT NOT NULL, deleted_utc TEXT NOT NULL, PRIMARY KEY (unit_id, clip_id))",
    # hq/reports/tables/wstates.py
    "CREATE TABLE IF NOT EXISTS rpt_wstates (unit_id TEXT NOT NULL, utc TEXT NOT NULL,"
    " uuid TEXT NOT NULL, state TEXT NOT NULL, staff_no TEXT, window_id TEXT,"
    " PRIMARY KEY (unit_id, utc, uuid))",
    "CREATE INDEX IF NOT EXISTS rpt_wstates_staff ON rpt_wstates (staff_no, utc)",
    # hq/reports/ingest/queue_events.py
    "CREATE TABLE IF NOT EXISTS rpt_queue (unit_id TEXT NOT NULL, alert_id TEXT NOT NULL,"
    " window_id TEXT, service TEXT, raised_utc TEXT, cleared_utc TEXT, for_s REAL,"
    " duration_s REAL, peak INTEGER, PRIMARY KEY (unit_id, alert_id))",
    "CREATE INDEX IF NOT EXISTS rpt_queue_window ON rpt_queue (window_id, raised_utc)",
    "CREATE TABLE IF NOT EXISTS rpt_tickets (unit_id TEXT NOT NULL, txn_id TEXT NOT NULL,"
    " ticket TEXT NOT NULL, window_id TEXT, PRIMARY KEY (unit_id, txn_id))",
)

# PostgreSQL names an inline CHECK <table>_<column>_check; replacing it with the wider
# list keeps every stored row valid (it only admits one more value).
_PG_SKIPPED = (
    "ALTER TABLE alert_deliveries DROP CONSTRAINT IF EXISTS alert_deliveries_status_check",
    "ALTER TABLE alert_deliveries ADD CONSTRAINT alert_deliveries_status_check CHECK (status"
    " IN ('pending', 'deferred', 'delivered', 'failed', 'cancelled', 'skipped'))",
)


def upgrade() -> None:
    from hq.alerts.schema import allow_skipped
    from hq.storage.org_schema import add_staff_contact
    from hq.storage.sqlite import connect

    conn = connect(context.config.attributes["hq_root"] / "events.db")
    with contextlib.closing(conn):
        conn.execute("BEGIN IMMEDIATE")
        for statement in EVENTS_DB:
            conn.execute(statement)
        add_staff_contact(conn)  # ALTER TABLE ADD COLUMN for each one an older file lacks
        if not isinstance(conn, sqlite3.Connection):
            for statement in _PG_SKIPPED:
                conn.execute(statement)
        conn.execute("COMMIT")
        allow_skipped(conn)  # SQLite: the CHECK edited in place (outside a transaction)


def downgrade() -> None:
    raise NotImplementedError("revisions are not taken back; restore a backup instead")
