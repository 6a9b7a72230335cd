"""Baseline: the tables HQ had before schema revisions (2026-12), on either back-end.

Every store creates its own tables with ``CREATE ... IF NOT EXISTS`` when opened, so
this revision opens each of them once under the data folder (on PostgreSQL through the
routed engine, each former file in its schema). On a data folder from before revisions
existed it changes nothing and only records the revision.

Revision ID: 0001
Revises:
"""

from alembic import context

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    from hq.storage.db.tables import create_all

    create_all(context.config.attributes["hq_root"])


def downgrade() -> None:
    raise NotImplementedError("the baseline is not taken back; restore a backup instead")
