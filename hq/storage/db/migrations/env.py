"""alembic's entry point for HQ's schema revisions (run by hq.storage.db.migrate only).

The caller hands over an open SQLAlchemy connection and the data folder in
``config.attributes``; nothing here reads alembic.ini or the environment.
"""

from alembic import context

config = context.config
connection = config.attributes["connection"]
context.configure(connection=connection, target_metadata=None,
                  version_table_schema=config.attributes.get("version_schema"),
                  transaction_per_migration=True)
with context.begin_transaction():
    context.run_migrations()
