"""Nothing forgotten: ``hq migrate`` on an empty PostgreSQL makes exactly the tables,
columns and indexes that HQ's own modules make on an empty SQLite data folder.

The SQLite side is built the way HQ builds it at run time: each store opened, each
made-on-first-use table's ``ensure`` called, without any migration. The PostgreSQL side
comes from the alembic revisions alone. A table a module starts to create without a
revision to match fails here, as does a ``CREATE TABLE`` anywhere in hq/ that no revision
makes.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
from pathlib import Path

import pytest

from hq.cli import main
from hq.copy.schema import FILES, pg_indexes, pg_schema_of, pg_tables, sqlite_indexes, sqlite_tables
from hq.storage.db.routes import unroute

REPO = Path(__file__).resolve().parents[2]
# Files that stay files on every back-end (docs/hq-database.md): the CA, enrollment codes.
STAY_FILES = ("hq/pki/",)


def _sqlite_at_run_time(root: Path) -> None:
    """Every table HQ's modules create on first use, on SQLite, without a revision."""
    from hq.accounts.users import UserStore
    from hq.alerts import schema as alerts_schema
    from hq.live.store import ensure_schema as live_schema
    from hq.org.authoring.store import OrgStore
    from hq.reports.ingest import queue_events
    from hq.reports.tables import wstates as wstate_table
    from hq.reports.tables.schema import ensure_schema as reports_schema
    from hq.retention.store import RetentionStore
    from hq.server.lease import LeaseStore
    from hq.storage.audit import SqliteAuditLog
    from hq.storage.clips.store import LocalClipStore
    from hq.storage.events import SqliteEventStore
    from hq.storage.s3.book import UploadBook

    events = SqliteEventStore(root / "events.db")
    org = OrgStore.sharing(events)
    RetentionStore(events)
    with org.writing() as conn:
        alerts_schema.ensure(conn)
        reports_schema(conn)
        wstate_table.ensure(conn)
        queue_events.ensure(conn)
    live_schema(events._conn)
    LeaseStore(events._conn)  # hq/server/lease.py: the housekeeping lease
    events.close()
    for store in (UserStore(root / "users.db"), SqliteAuditLog(root / "audit.db"),
                  LocalClipStore(root / "clips")):
        store.close()
    UploadBook(root / "s3clips.db").close()  # the S3 store's, when hq.toml names a bucket


def _created_in_source() -> set[str]:
    names = set()
    for path in (REPO / "hq").rglob("*.py"):
        rel = path.relative_to(REPO).as_posix()
        if rel.startswith(STAY_FILES) or "/migrations/" in rel:
            continue
        names |= set(re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", path.read_text()))
    return names - {"alembic_version"}


@pytest.mark.postgres
def test_migrated_postgresql_equals_what_sqlite_makes(tmp_path: Path, pg_dsn: str) -> None:
    import psycopg

    lite = tmp_path / "lite"
    lite.mkdir()
    _sqlite_at_run_time(lite)
    data = tmp_path / "pg"
    data.mkdir()
    (data / "hq.toml").write_text(f'[database]\ntype = "postgresql"\ndsn = "{pg_dsn}"\n')
    try:
        assert main(["migrate", "--data", str(data)]) == 0
    finally:
        unroute([data])
    made: set[str] = set()
    with psycopg.connect(pg_dsn, autocommit=True) as pg:
        for file in FILES:
            with contextlib.closing(sqlite3.connect(lite / file)) as conn:
                want, want_idx = sqlite_tables(conn), sqlite_indexes(conn)
            schema = pg_schema_of(file)
            got, got_idx = pg_tables(pg, schema), pg_indexes(pg, schema)
            assert sorted(got) == sorted(want), file
            for table, columns in want.items():
                assert sorted(got[table]) == sorted(columns), f"{file}: {table}"
            assert got_idx == want_idx, file
            made |= set(got)
    assert _created_in_source() - made == set()


def test_an_older_sqlite_folder_gains_the_new_tables_in_place(tmp_path: Path) -> None:
    """A folder at revision 0001 (the made-on-first-use tables absent, org_staff without
    contact columns, deliveries refusing 'skipped') is upgraded when HQ opens it."""
    from hq.api.deps import HQDeps
    from hq.storage.db.migrate import known_revisions

    with contextlib.closing(sqlite3.connect(tmp_path / "events.db")) as conn:
        conn.executescript(
            "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY);"
            "INSERT INTO alembic_version VALUES ('0001');"
            "CREATE TABLE org_staff (staff_no TEXT PRIMARY KEY, name TEXT NOT NULL,"
            " home_branch_id TEXT, badge_uid TEXT, photo_id TEXT, active INTEGER NOT NULL"
            " DEFAULT 1);"
            "CREATE TABLE alert_deliveries (delivery_id INTEGER PRIMARY KEY AUTOINCREMENT,"
            " idem_key TEXT NOT NULL UNIQUE, thread_id INTEGER NOT NULL, level INTEGER NOT"
            " NULL, channel TEXT NOT NULL, recipient TEXT NOT NULL, url TEXT NOT NULL,"
            " title TEXT NOT NULL, body TEXT NOT NULL, status TEXT NOT NULL CHECK (status IN"
            " ('pending', 'deferred', 'delivered', 'failed', 'cancelled')),"
            " attempts INTEGER NOT NULL DEFAULT 0, next_utc TEXT NOT NULL,"
            " created_utc TEXT NOT NULL, done_utc TEXT, last_error TEXT NOT NULL DEFAULT '');")
    deps = HQDeps.open(tmp_path)
    for store in (deps.events, deps.clips, deps.audit):
        store.close()
    with contextlib.closing(sqlite3.connect(tmp_path / "events.db")) as conn:
        tables = sqlite_tables(conn)
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == \
            known_revisions()[0]
        conn.execute("INSERT INTO alert_deliveries (idem_key, thread_id, level, channel,"
                     " recipient, url, title, body, status, next_utc, created_utc) VALUES"
                     " ('k', 1, 1, 'mail', 'r', '', '', '', 'skipped', 'x', 'x')")
    for table in ("legal_holds", "retention_periods", "retention_clips_deleted",
                  "rpt_wstates", "rpt_queue", "rpt_tickets"):
        assert table in tables
    assert {"phone", "email", "im_id"} <= set(tables["org_staff"])
