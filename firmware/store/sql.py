"""Row writes as plain SQL, so that several of them share one transaction.

sqlite-utils' insert/update commit on their own (they wrap themselves in
``with conn:``), which would split an event from its outbox entry; the schema
and the reads still use sqlite-utils.
"""

from __future__ import annotations

import sqlite3
from typing import Any


def insert(conn: sqlite3.Connection, table: str, row: dict[str, Any], *,
           replace: bool = False) -> None:
    cols = ", ".join(f'"{c}"' for c in row)
    marks = ", ".join("?" for _ in row)
    verb = "INSERT OR REPLACE" if replace else "INSERT"
    conn.execute(f'{verb} INTO "{table}" ({cols}) VALUES ({marks})', list(row.values()))


def update(conn: sqlite3.Connection, table: str, key: str, value: Any,
           row: dict[str, Any]) -> int:
    sets = ", ".join(f'"{c}" = ?' for c in row)
    cur = conn.execute(f'UPDATE "{table}" SET {sets} WHERE "{key}" = ?',
                       [*row.values(), value])
    return cur.rowcount
