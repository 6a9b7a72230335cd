"""psycopg adapted to the sqlite3 surface: rows by name and index, parameters and numbers
typed as SQLite treats them, and psycopg's errors as the sqlite3 classes HQ catches.

Losing the server (a restart, a failover) raises :class:`DatabaseUnavailable`, a
``sqlite3.OperationalError``, which HQ's API already answers with 503 + Retry-After.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from typing import Any, ClassVar

import psycopg
import psycopg.errors
from psycopg.adapt import Dumper
from psycopg.types.numeric import NumericLoader


class DatabaseUnavailable(sqlite3.OperationalError):
    """The PostgreSQL server cannot be reached now (restart, failover, network)."""


class Row(tuple[Any, ...]):
    """A result row by index and by (case-insensitive) column name, like sqlite3.Row."""

    _names: ClassVar[dict[str, int]] = {}

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self._names[key.lower()])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._names)


_ROW_CLASSES: dict[tuple[str, ...], type[Row]] = {}


def row_factory(cursor: Any) -> Any:
    """psycopg's row factory making :class:`Row` classes, one per column list."""
    names = tuple(c.name.lower() for c in (cursor.description or ()))
    cls = _ROW_CLASSES.get(names)
    if cls is None:
        cls = type("Row", (Row,), {"_names": {n: i for i, n in enumerate(names)}})
        _ROW_CLASSES[names] = cls
    return lambda values: cls(values)


class _Unknown(Dumper):
    """Numbers sent untyped (like SQLite, which compares by value), so the server infers
    each parameter's type from where it stands: ``text_col = ?`` and ``LIMIT ?`` alike.

    A whole float is sent as an integer (``15.0`` -> ``15``): SQLite stores it in an
    INTEGER column as the integer, where PostgreSQL would refuse the text ``15.0`` for a
    BIGINT; a REAL column takes ``15`` as 15.0 either way."""

    oid = 0

    def dump(self, obj: Any) -> bytes:
        if isinstance(obj, bool):
            return b"1" if obj else b"0"
        if isinstance(obj, float):
            return str(int(obj)).encode() if obj.is_integer() else repr(obj).encode()
        return str(obj).encode()


class _Number(NumericLoader):
    """``numeric`` results (SUM of integers, AVG) as int or float, as sqlite3 returns."""

    def load(self, data: Any) -> Any:
        text = bytes(data).decode()
        return int(text) if text.lstrip("-").isdigit() else float(text)


@contextlib.contextmanager
def sqlite_errors() -> Iterator[None]:
    """psycopg's errors as the sqlite3 classes HQ's modules catch."""
    try:
        yield
    except psycopg.errors.RaiseException as exc:  # a trigger's RAISE (append-only tables)
        raise sqlite3.IntegrityError(str(exc).strip()) from exc
    except psycopg.IntegrityError as exc:
        raise sqlite3.IntegrityError(str(exc).strip()) from exc
    except psycopg.DataError as exc:
        raise sqlite3.DataError(str(exc).strip()) from exc
    except (psycopg.OperationalError, psycopg.errors.AdminShutdown,
            psycopg.errors.CannotConnectNow) as exc:
        raise DatabaseUnavailable(f"PostgreSQL unavailable: {str(exc).strip()}") from exc
    except (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedColumn) as exc:
        # sqlite3 says "no such table: x" / "no such column: x" (OperationalError), and
        # HQ's readers test for exactly that (a table made on first use, not made yet).
        what = "table" if isinstance(exc, psycopg.errors.UndefinedTable) else "column"
        raise sqlite3.OperationalError(f"no such {what}: {str(exc).strip()}") from exc
    except psycopg.errors.InFailedSqlTransaction as exc:
        raise sqlite3.OperationalError(str(exc).strip()) from exc
    except psycopg.Error as exc:
        raise sqlite3.ProgrammingError(f"{str(exc).strip()}") from exc


def register(conn: psycopg.Connection[Any]) -> None:
    """Send ``conn``'s numbers untyped and read ``numeric`` back as int or float."""
    conn.adapters.register_dumper(int, _Unknown)
    conn.adapters.register_dumper(bool, _Unknown)
    conn.adapters.register_dumper(float, _Unknown)
    conn.adapters.register_loader("numeric", _Number)
