"""HQ's databases on PostgreSQL behind the sqlite3 surface HQ's modules already use.

:class:`PgConnection` offers what HQ calls on a ``sqlite3.Connection`` (``execute`` and
``executemany`` with ``?`` arguments, ``executescript``, rows by name and by index,
``lastrowid``, ``in_transaction``, explicit ``BEGIN IMMEDIATE``/``COMMIT``/``ROLLBACK``,
savepoints) and raises sqlite3's exception classes (:mod:`.adapt`), so a store written for
SQLite runs unchanged: each statement goes through :mod:`hq.storage.db.dialect` on its way.

A connection opens the schema standing for its file (:mod:`.routes`).
``BEGIN IMMEDIATE`` takes a transaction-scoped advisory lock per schema, which gives
exactly SQLite's one-writer-per-file semantics (reads never wait), across every worker.

Losing the server raises :class:`~.adapt.DatabaseUnavailable`; the next statement outside
a transaction reconnects. An interrupted transaction is rolled back by the server, so a
retried request neither loses nor doubles anything.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus

from . import adapt, dialect
from .adapt import DatabaseUnavailable, sqlite_errors
from .routes import PgTarget

log = logging.getLogger(__name__)


class PgCursor:
    """The part of sqlite3.Cursor HQ uses."""

    def __init__(self, cur: Any | None, lastrowid: int | None = None) -> None:
        self._cur = cur
        self.lastrowid = lastrowid
        self.rowcount = cur.rowcount if cur is not None else -1
        self.description = cur.description if cur is not None else None

    def fetchone(self) -> Any:
        if self._cur is None or self._cur.description is None:
            return None
        with sqlite_errors():
            return self._cur.fetchone()

    def fetchall(self) -> list[Any]:
        if self._cur is None or self._cur.description is None:
            return []
        with sqlite_errors():
            return list(self._cur.fetchall())

    def fetchmany(self, size: int = 1) -> list[Any]:
        if self._cur is None or self._cur.description is None:
            return []
        with sqlite_errors():
            return list(self._cur.fetchmany(size))

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())

    def close(self) -> None:
        if self._cur is not None:
            self._cur.close()


_MASTER_VIEW = (
    "CREATE OR REPLACE VIEW hq_sqlite_master AS "
    "SELECT 'table'::text AS type, table_name::text AS name, table_name::text AS tbl_name "
    "FROM information_schema.tables WHERE table_schema = current_schema() UNION ALL "
    "SELECT 'index', indexname::text, tablename::text FROM pg_indexes "
    "WHERE schemaname = current_schema()")


class PgConnection:
    """One PostgreSQL session standing in for a ``sqlite3.Connection`` (autocommit, with
    explicit transactions as HQ's stores write them). Not shared between threads without
    the caller's lock, as HQ's stores already hold one."""

    row_factory: Any = None  # assigned by callers used to sqlite3; rows are always Row

    def __init__(self, target: PgTarget) -> None:
        self.target = target
        self._conn: psycopg.Connection[Any] | None = None
        self._keys: dict[str, list[str]] = {}
        self._identity: dict[str, str | None] = {}
        self._columns: dict[str, list[str]] = {}
        self._connect()

    # ---- the session ------------------------------------------------------------------

    def _connect(self) -> None:
        with sqlite_errors():
            conn = psycopg.connect(self.target.dsn, autocommit=True,
                                   connect_timeout=max(1, round(self.target.connect_timeout_s)),
                                   row_factory=adapt.row_factory)
        adapt.register(conn)
        schema = self.target.schema
        with sqlite_errors():
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(hashtext('hq schema create'))")
                conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
                conn.execute(f'SET search_path TO "{schema}"')
                conn.execute(_MASTER_VIEW)
            conn.execute(f'SET search_path TO "{schema}"')
        self._conn = conn

    def _session(self) -> psycopg.Connection[Any]:
        conn = self._conn
        if conn is None or conn.closed or conn.broken:
            if conn is not None:
                with contextlib.suppress(Exception):
                    conn.close()
                log.info("PostgreSQL session for %s reconnecting", self.target.schema)
            self._conn = None
            self._connect()
            conn = self._conn
            assert conn is not None
        return conn

    @property
    def in_transaction(self) -> bool:
        conn = self._conn
        if conn is None or conn.broken or conn.closed:
            return False
        return conn.info.transaction_status != TransactionStatus.IDLE

    # ---- statements -------------------------------------------------------------------

    def _primary_key(self, table: str) -> list[str]:
        if table not in self._keys:
            rows = self._raw(
                "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = "
                "i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indisprimary AND "
                "i.indrelid = to_regclass(%s) ORDER BY array_position(i.indkey, a.attnum)",
                [table]).fetchall()
            self._keys[table] = [r[0] for r in rows]
        return self._keys[table]

    def _columns_of(self, table: str) -> list[str]:
        if table not in self._columns:
            rows = self._raw(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = "
                "current_schema() AND table_name = %s", [table]).fetchall()
            self._columns[table] = [r[0] for r in rows]
        return self._columns[table]

    def _identity_of(self, table: str) -> str | None:
        if table not in self._identity:
            row = self._raw(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = "
                "current_schema() AND table_name = %s AND is_identity = 'YES'",
                [table]).fetchone()
            self._identity[table] = row[0] if row else None
        return self._identity[table]

    def _raw(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        conn = self._session() if not self.in_transaction else self._conn
        assert conn is not None
        with sqlite_errors():
            return conn.execute(sql, params)

    def _begin_locked(self) -> None:
        """BEGIN and the schema's advisory lock in one round trip (a query without
        parameters may hold two statements)."""
        literal = self.target.schema.replace("'", "''")
        self._raw(f"BEGIN; SELECT pg_advisory_xact_lock(hashtext('{literal}'))")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> PgCursor:
        """One statement (SQLite dialect, ``?`` placeholders)."""
        head = sql.strip().rstrip(";").upper()
        if head in ("BEGIN IMMEDIATE", "BEGIN EXCLUSIVE"):
            self._begin_locked()
            return PgCursor(None)
        if head in ("ROLLBACK", "END", "COMMIT") and (self._conn is None or self._conn.broken):
            if head == "ROLLBACK":  # the server already dropped the transaction
                return PgCursor(None)
            raise DatabaseUnavailable("PostgreSQL connection lost before COMMIT")
        if dialect.is_ddl(sql):
            for stmt in dialect.translate_ddl(sql):
                self._raw(stmt)
            self._keys.clear()
            self._identity.clear()
            self._columns.clear()
            return PgCursor(None)
        text = dialect.translate(sql, self._primary_key, self._columns_of)
        if text is None:
            return PgCursor(None)
        table = dialect.is_insert(text)
        ident = self._identity_of(table) if table else None
        if ident and "RETURNING" not in text.upper():
            text = f"{text.rstrip().rstrip(';')} RETURNING {ident}"
        cur = self._raw(dialect.placeholders(text), list(params))
        if ident:
            row = cur.fetchone() if cur.description else None
            return PgCursor(None, int(row[0]) if row else None)
        return PgCursor(cur)

    def executemany(self, sql: str, seq: Iterable[Sequence[Any]]) -> PgCursor:
        """The same statement for each argument list, pipelined (psycopg sends them all,
        then reads the answers: one round trip, not one per list). A schema statement or
        transaction control runs list by list as :meth:`execute`."""
        rows = [list(params) for params in seq]
        if not rows:
            return PgCursor(None)
        head = sql.strip().upper()
        if dialect.is_ddl(sql) or head.startswith(("BEGIN", "COMMIT", "END", "ROLLBACK")):
            cur = PgCursor(None)
            for params in rows:
                cur = self.execute(sql, params)
            return cur
        text = dialect.translate(sql, self._primary_key, self._columns_of)
        if text is None:
            return PgCursor(None)
        self._many(dialect.placeholders(text), rows)
        return PgCursor(None)

    def _many(self, sql: str, rows: list[list[Any]]) -> None:
        conn = self._session() if not self.in_transaction else self._conn
        assert conn is not None
        with sqlite_errors(), conn.cursor() as cur:
            cur.executemany(sql, rows)

    def executescript(self, script: str) -> PgCursor:
        """Every statement of ``script`` in one transaction (a schema: all or nothing)."""
        own = not self.in_transaction
        if own:
            self._begin_locked()
        try:
            for stmt in dialect.split_script(script):
                self.execute(stmt)
        except BaseException:
            if own:
                self.execute("ROLLBACK")
            raise
        if own:
            self._raw("COMMIT")
        return PgCursor(None)

    def commit(self) -> None:
        """COMMIT if a transaction is open (sqlite3 in autocommit mode does the same)."""
        if self.in_transaction:
            self._raw("COMMIT")

    def rollback(self) -> None:
        if self.in_transaction:
            self._raw("ROLLBACK")

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None

    def __enter__(self) -> PgConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            self.commit()
        else:
            self.rollback()
