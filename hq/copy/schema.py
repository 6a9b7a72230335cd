"""What tables and columns an HQ data folder holds, on SQLite files or in PostgreSQL.

HQ's SQLite files stand for PostgreSQL schemas one to one (``events.db`` -> ``hq_events``,
see :func:`hq.storage.db.routes.schema_of`); this module lists each side's tables and
columns in the same shape so that the copy (and the test that migrations forget nothing)
can compare them.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# The data-folder files whose tables move to PostgreSQL, as paths under the folder.
# enrollment.db and ca/ stay files (docs/hq-database.md).
FILES = ("events.db", "users.db", "audit.db", "clips/clips.sqlite", "s3clips.db")

# Bookkeeping that is not HQ's data: alembic's revision row, SQLite's AUTOINCREMENT state.
SKIP = frozenset({"alembic_version", "sqlite_sequence", "sqlite_stat1"})

Schema = dict[str, dict[str, tuple[str, ...]]]  # file -> table -> its columns, in order


def pg_schema_of(file: str) -> str:
    """The PostgreSQL schema a data-folder file lives in (``clips/clips.sqlite`` -> hq_clips)."""
    from hq.storage.db.routes import schema_of

    return schema_of(Path(file))


def sqlite_tables(conn: sqlite3.Connection) -> dict[str, tuple[str, ...]]:
    """Every table of one SQLite database with its columns."""
    names = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    return {n: tuple(r[1] for r in conn.execute(f'PRAGMA table_info("{n}")'))
            for n in names if n not in SKIP}


def sqlite_indexes(conn: sqlite3.Connection) -> set[str]:
    """The named (not automatic) indexes of one SQLite database."""
    return {r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")}


def sqlite_folder(root: Path) -> Schema:
    """Tables and columns of each SQLite file present under ``root``."""
    out: Schema = {}
    for file in FILES:
        path = root / file
        if path.exists():
            with contextlib.closing(sqlite3.connect(path)) as conn:
                out[file] = sqlite_tables(conn)
    return out


@contextlib.contextmanager
def _pg(dsn: str) -> Iterator[Any]:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        yield conn


def pg_tables(conn: Any, schema: str) -> dict[str, tuple[str, ...]]:
    """Every base table of one PostgreSQL schema with its columns (psycopg connection)."""
    rows = conn.execute(
        "SELECT c.table_name, c.column_name FROM information_schema.columns c JOIN "
        "information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = "
        "c.table_name WHERE c.table_schema = %s AND t.table_type = 'BASE TABLE' "
        "ORDER BY c.table_name, c.ordinal_position", [schema]).fetchall()
    out: dict[str, list[str]] = {}
    for table, column in rows:
        if table not in SKIP:
            out.setdefault(table, []).append(column)
    return {t: tuple(c) for t, c in out.items()}


def pg_indexes(conn: Any, schema: str) -> set[str]:
    """Named indexes of one PostgreSQL schema, without those standing for a primary key
    or UNIQUE constraint (SQLite makes those automatically, unnamed)."""
    rows = conn.execute(
        "SELECT i.indexname FROM pg_indexes i WHERE i.schemaname = %s AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace "
        "WHERE n.nspname = i.schemaname AND k.conname = i.indexname)", [schema]).fetchall()
    return {r[0] for r in rows}


def pg_database(dsn: str) -> Schema:
    """Tables and columns of each HQ schema present in the PostgreSQL database ``dsn``."""
    out: Schema = {}
    with _pg(dsn) as conn:
        for file in FILES:
            tables = pg_tables(conn, pg_schema_of(file))
            if tables:
                out[file] = tables
    return out


def primary_key(conn: sqlite3.Connection, table: str) -> list[str]:
    """The primary-key columns of a SQLite table, in key order ([] for none)."""
    info = conn.execute(f'PRAGMA table_info("{table}")').fetchall()
    return [r[1] for r in sorted(info, key=lambda r: r[5]) if r[5]]


def dependency_order(conn: sqlite3.Connection, tables: list[str]) -> list[str]:
    """``tables`` with every table after those its foreign keys name (then by name), so
    rows can be inserted into a database that checks the keys."""
    parents = {t: {r[2] for r in conn.execute(f'PRAGMA foreign_key_list("{t}")')} & set(tables)
               - {t} for t in tables}
    order: list[str] = []
    while len(order) < len(tables):
        ready = sorted(t for t in tables if t not in order and parents[t] <= set(order))
        if not ready:  # a cycle: SQLite never made one for HQ; keep the rest by name
            ready = sorted(t for t in tables if t not in order)
        order.extend(ready[:1])
    return order
