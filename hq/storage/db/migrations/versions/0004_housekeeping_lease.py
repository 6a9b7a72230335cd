"""The housekeeping lease (``hq_leases``, events.db): which HQ worker runs upload expiry,
the retention run and alert delivery (hq/server/lease.py). Made on both back-ends; the
statement as it stood at this revision, ``IF NOT EXISTS``.

Revision ID: 0004
Revises: 0003
"""

import contextlib

from alembic import context

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

EVENTS_DB = (
    # hq/server/lease.py
    "CREATE TABLE IF NOT EXISTS hq_leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL,"
    " expires_utc TEXT NOT NULL, taken_utc TEXT NOT NULL)",
)


def upgrade() -> None:
    from hq.storage.sqlite import connect

    events = connect(context.config.attributes["hq_root"] / "events.db")
    with contextlib.closing(events):
        events.execute("BEGIN IMMEDIATE")
        for statement in EVENTS_DB:
            events.execute(statement)
        events.execute("COMMIT")


def downgrade() -> None:
    raise NotImplementedError("revisions are not taken back; restore a backup instead")
