"""Copying one SQLite table's rows into its PostgreSQL counterpart, re-runnable.

Rows go in batches, each its own PostgreSQL transaction, as an upsert by primary key
that changes only a row that differs (``ON CONFLICT (key) DO UPDATE ... WHERE ... IS
DISTINCT FROM``): a batch is there whole or not at all, a row copied by an earlier
(interrupted) run is left alone and counted as already there, and a row the migration
seeded (the live board's counter) takes the source's value. The table's AFTER triggers
are off for the batch (``ALTER TABLE ... DISABLE TRIGGER`` inside the transaction, so a
crash leaves them on): they derive data (the reports' queue) that the source already
holds, and the copy is of rows as they are; BEFORE triggers, which guard (the audit log
refuses UPDATE), stay on. An identity column's sequence is moved past the copied ids,
so HQ's next insert does not collide.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

BATCH = 500


class CopyError(RuntimeError):
    """The copy cannot go on; the message names the table, row or clip and the rule."""


@dataclass
class TableResult:
    """What one table's copy did."""

    file: str
    table: str
    source_rows: int
    inserted: int = 0
    skipped: int = 0
    target_rows: int = 0

    @property
    def ok(self) -> bool:
        return self.target_rows == self.source_rows


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _after_triggers(pg: Any, qualified: str) -> list[str]:
    rows = pg.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = to_regclass(%s) AND NOT "
                      "tgisinternal AND tgtype & 2 = 0 ORDER BY tgname", [qualified]).fetchall()
    return [str(r[0]) for r in rows]


def _integer_columns(pg: Any, schema: str, table: str, columns: tuple[str, ...]) -> list[int]:
    rows = pg.execute("SELECT column_name FROM information_schema.columns WHERE table_schema "
                      "= %s AND table_name = %s AND data_type IN ('bigint', 'integer', "
                      "'smallint')", [schema, table]).fetchall()
    names = {r[0] for r in rows}
    return [i for i, c in enumerate(columns) if c in names]


def _check_integers(rows: list[Any], at: list[int], *, file: str, table: str,
                    columns: tuple[str, ...], key: list[str]) -> None:
    """SQLite keeps 15.5 in an INTEGER column as a real; PostgreSQL would round it into
    BIGINT. Refuse that row, named, rather than copy a different value."""
    for row in rows:
        for i in at:
            value = row[i]
            if isinstance(value, float) and not value.is_integer():
                where = dict(zip(key, _key_of(row, columns, key), strict=True))
                raise CopyError(f"{file}: table {table}, row {where}: column {columns[i]} "
                                f"holds {value!r}, which is not a whole number; the target's "
                                "column is an integer")


def _identity(pg: Any, schema: str, table: str) -> str | None:
    row = pg.execute("SELECT column_name FROM information_schema.columns WHERE table_schema "
                     "= %s AND table_name = %s AND is_identity = 'YES'",
                     [schema, table]).fetchone()
    return str(row[0]) if row else None


def copy_table(src: sqlite3.Connection, pg: Any, *, file: str, schema: str, table: str,
               columns: tuple[str, ...], key: list[str], budget: list[int] | None = None,
               progress: Callable[[int], None] = lambda n: None) -> TableResult:
    """Copy every row of ``table`` from ``src`` into ``schema.table`` over ``pg`` (a
    psycopg connection in autocommit mode). ``budget`` ([rows left]) stops the copy early
    once that many rows are inserted (the rest is left for the next run)."""
    if not key:
        raise CopyError(f"{file}: table {table} has no primary key; its rows could not be "
                        "told apart on a second run, so it is not copied")
    qualified = f"{_quote(schema)}.{_quote(table)}"
    cols = ", ".join(_quote(c) for c in columns)
    total = int(src.execute(f"SELECT count(*) FROM {_quote(table)}").fetchone()[0])
    result = TableResult(file, table, total)
    triggers = _after_triggers(pg, qualified)
    integers = _integer_columns(pg, schema, table, columns)
    insert = _upsert(qualified, columns, key)
    cursor = src.execute(f"SELECT {cols} FROM {_quote(table)} "
                         f"ORDER BY {', '.join(_quote(k) for k in key)}")
    while budget is None or budget[0] > 0:
        rows = cursor.fetchmany(BATCH if budget is None else min(BATCH, budget[0]))
        if not rows:
            break
        _check_integers(rows, integers, file=file, table=table, columns=columns, key=key)
        with pg.transaction():
            for trigger in triggers:
                pg.execute(f"ALTER TABLE {qualified} DISABLE TRIGGER {_quote(trigger)}")
            with pg.cursor() as cur:
                try:
                    cur.executemany(insert, [tuple(r) for r in rows], returning=False)
                except Exception as exc:
                    first = dict(zip(key, _key_of(rows[0], columns, key), strict=True))
                    raise CopyError(f"{file}: table {table}: a row of the batch starting at "
                                    f"{first} was refused: {str(exc).strip()}") from exc
                added = max(cur.rowcount, 0)
            for trigger in triggers:
                pg.execute(f"ALTER TABLE {qualified} ENABLE TRIGGER {_quote(trigger)}")
        result.inserted += added
        result.skipped += len(rows) - added
        if budget is not None:
            budget[0] -= added
        progress(len(rows))
    ident = _identity(pg, schema, table)
    if ident is not None:
        pg.execute(f"SELECT setval(pg_get_serial_sequence(%s, %s), GREATEST((SELECT max("
                   f"{_quote(ident)}) FROM {qualified}), 1))", [qualified, ident])
    result.target_rows = int(pg.execute(f"SELECT count(*) FROM {qualified}").fetchone()[0])
    return result


def _key_of(row: Any, columns: tuple[str, ...], key: list[str]) -> list[Any]:
    return [row[columns.index(k)] for k in key]


def _upsert(qualified: str, columns: tuple[str, ...], key: list[str]) -> str:
    """INSERT one row; on its key, update it only where it differs (else nothing)."""
    cols = ", ".join(_quote(c) for c in columns)
    values = ", ".join(["%s"] * len(columns))
    rest = [c for c in columns if c not in key]
    conflict = f"ON CONFLICT ({', '.join(_quote(k) for k in key)})"
    if not rest:
        return f"INSERT INTO {qualified} ({cols}) VALUES ({values}) {conflict} DO NOTHING"
    sets = ", ".join(f"{_quote(c)} = EXCLUDED.{_quote(c)}" for c in rest)
    mine = ", ".join(f"{qualified}.{_quote(c)}" for c in rest)
    theirs = ", ".join(f"EXCLUDED.{_quote(c)}" for c in rest)
    return (f"INSERT INTO {qualified} ({cols}) VALUES ({values}) {conflict} DO UPDATE SET "
            f"{sets} WHERE ROW({mine}) IS DISTINCT FROM ROW({theirs})")
