"""Schema revisions of an HQ data folder (alembic), and the check run before HQ opens it.

The revision is recorded in ``alembic_version``: in ``events.db`` on SQLite, in schema
``hq_events`` on PostgreSQL. HQ refuses to open a schema whose revision it does not
know (a newer HQ migrated it; running this one could corrupt it), naming the revision
and the fix. On SQLite an older or missing revision is upgraded in place when HQ opens
the folder (one process owns it, and a data folder from before revisions is the
baseline's schema already); on PostgreSQL several workers share the database, so an
operator runs ``counterunit hq migrate`` once and HQ refuses until then.
"""

from __future__ import annotations

import contextlib
import functools
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hq.config import Database, PostgresDatabase

from .routes import route_folder

MIGRATIONS = Path(__file__).with_name("migrations")
BASELINE = "0001"
PG_VERSION_SCHEMA = "hq_events"
_VERSION_DDL = ("CREATE TABLE IF NOT EXISTS alembic_version (version_num VARCHAR(32) NOT NULL, "
                "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))")


class SchemaError(RuntimeError):
    """HQ may not open this database as it is; the message names the revision and the fix."""


def _script() -> Any:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg, ScriptDirectory.from_config(cfg)


@functools.cache
def known_revisions() -> tuple[str, frozenset[str]]:
    """(head, every revision this HQ knows)."""
    _, script = _script()
    return script.get_current_head(), frozenset(r.revision for r in script.walk_revisions())


def current_revision(root: Path, db: Database) -> str | None:
    """The recorded revision, or None when there is none (a new or pre-revision folder)."""
    if isinstance(db, PostgresDatabase):
        import psycopg

        from .adapt import sqlite_errors

        with sqlite_errors(), psycopg.connect(db.dsn, connect_timeout=max(
                1, round(db.connect_timeout_s))) as conn:
            exists = conn.execute("SELECT to_regclass(%s)",
                                  [f"{PG_VERSION_SCHEMA}.alembic_version"]).fetchone()
            if exists is None or exists[0] is None:
                return None
            row = conn.execute(
                f"SELECT version_num FROM {PG_VERSION_SCHEMA}.alembic_version").fetchone()
            return row[0] if row else None
    path = root / "events.db"
    if not path.exists():
        return None
    with contextlib.closing(sqlite3.connect(path, timeout=30)) as conn:
        try:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.OperationalError:  # no such table: from before revisions
            return None
    return row[0] if row else None


@contextlib.contextmanager
def _sa_connection(root: Path, db: Database) -> Iterator[Any]:
    import sqlalchemy

    if isinstance(db, PostgresDatabase):
        import psycopg

        timeout = max(1, round(db.connect_timeout_s))
        engine = sqlalchemy.create_engine(
            "postgresql+psycopg://", poolclass=sqlalchemy.pool.NullPool,
            creator=lambda: psycopg.connect(db.dsn, connect_timeout=timeout))
    else:
        engine = sqlalchemy.create_engine(f"sqlite:///{root / 'events.db'}",
                                          poolclass=sqlalchemy.pool.NullPool)
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def _stamp_baseline_sqlite(root: Path) -> None:
    """A folder from before revisions holds the baseline's tables (its stores made them
    on open): record that, as ``alembic stamp 0001`` would."""
    from .tables import create_all

    create_all(root)
    with contextlib.closing(sqlite3.connect(root / "events.db", timeout=30,
                                            isolation_level=None)) as conn:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(_VERSION_DDL)
        if conn.execute("SELECT 1 FROM alembic_version").fetchone() is None:
            conn.execute("INSERT INTO alembic_version VALUES (?)", [BASELINE])
        conn.execute("COMMIT")


def upgrade(root: Path, db: Database) -> tuple[str | None, str]:
    """Bring the database to the newest revision; returns (before, after).

    Safe to run again and from several machines at once (PostgreSQL: an advisory lock).
    """
    from alembic import command

    head, known = known_revisions()
    before = current_revision(root, db)
    if before is not None and before not in known:
        raise _unknown(before, head)
    if isinstance(db, PostgresDatabase):
        route_folder(root, db.dsn, db.connect_timeout_s)
    elif before is None:
        _stamp_baseline_sqlite(root)
        if head == BASELINE:
            return None, head
    cfg, _ = _script()
    with _sa_connection(root, db) as conn:
        if isinstance(db, PostgresDatabase):
            conn.exec_driver_sql("SELECT pg_advisory_lock(hashtext('hq migrate'))")
            conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{PG_VERSION_SCHEMA}"')
            conn.commit()
            cfg.attributes["version_schema"] = PG_VERSION_SCHEMA
        cfg.attributes["connection"] = conn
        cfg.attributes["hq_root"] = root
        command.upgrade(cfg, "head")
        if isinstance(db, PostgresDatabase):
            conn.exec_driver_sql("SELECT pg_advisory_unlock(hashtext('hq migrate'))")
            conn.commit()
    return before, head


def _unknown(revision: str, head: str) -> SchemaError:
    return SchemaError(
        f"the database is at schema revision {revision}, which this HQ does not know "
        f"(it knows up to {head}): a newer HQ migrated it. Run that HQ version, or restore "
        "the backup taken before its `counterunit hq migrate`.")


def check(root: Path, db: Database) -> str:
    """Refuse (SchemaError) a schema HQ does not know; returns the revision it runs on.

    SQLite: a missing or older revision is upgraded in place. PostgreSQL: a missing or
    older revision is refused until ``counterunit hq migrate`` has run.
    """
    head, known = known_revisions()
    current = current_revision(root, db)
    if current == head:
        return head
    if current is not None and current not in known:
        raise _unknown(current, head)
    if isinstance(db, PostgresDatabase):
        state = "has no HQ schema yet" if current is None else f"is at revision {current}"
        raise SchemaError(
            f"the PostgreSQL database {state}; this HQ needs revision {head}. Run "
            f"`counterunit hq migrate --data {root}` once (any one machine), then start HQ.")
    return upgrade(root, db)[1]
