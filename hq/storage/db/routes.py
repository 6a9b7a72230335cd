"""Which data-folder files live in PostgreSQL: routes from a file (or a whole folder) to a
DSN and the schema standing for the file.

Each SQLite file of the data folder (events.db, audit.db, users.db, ...) becomes one
PostgreSQL *schema* of one database (``hq_events``, ``hq_audit``, ...): table names that
repeat across files stay apart, and code that opened a file opens its schema.
:func:`routed` tells :func:`hq.storage.sqlite.connect` that a file lives in PostgreSQL, so
the modules that open their own connection by path follow the config.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PgTarget:
    """Where one former SQLite file lives: a DSN and the schema standing for the file."""

    dsn: str
    schema: str
    connect_timeout_s: float = 5.0


_ROUTES: dict[Path, PgTarget] = {}
_FOLDERS: dict[Path, PgTarget] = {}  # data folder -> dsn (its schema is per file)
_ROUTES_LOCK = threading.Lock()


def schema_of(path: Path) -> str:
    """The PostgreSQL schema standing for a data-folder file: ``events.db`` -> hq_events."""
    stem = Path(path).name.split(".")[0].replace("-", "_")
    return f"hq_{stem}"


def route_folder(root: Path, dsn: str, connect_timeout_s: float = 5.0) -> None:
    """Every database file opened through ``connect`` under ``root`` lives in PostgreSQL
    (``dsn``), each in its own schema (:func:`schema_of`)."""
    with _ROUTES_LOCK:
        _FOLDERS[Path(root).resolve()] = PgTarget(dsn, "", connect_timeout_s)


def route(path: Path, target: PgTarget) -> None:
    """From now on in this process, ``connect(path)`` opens ``target`` instead."""
    with _ROUTES_LOCK:
        _ROUTES[Path(path).resolve()] = target


def unroute(paths: Iterable[Path]) -> None:
    """Forget routes (a data folder closed)."""
    with _ROUTES_LOCK:
        for p in paths:
            _ROUTES.pop(Path(p).resolve(), None)
            _FOLDERS.pop(Path(p).resolve(), None)


def routed(path: Path) -> PgTarget | None:
    """The PostgreSQL target standing for ``path``, if it or its folder was routed."""
    with _ROUTES_LOCK:
        if not _ROUTES and not _FOLDERS:
            return None
        resolved = Path(path).resolve()
        if resolved in _ROUTES:
            return _ROUTES[resolved]
        for folder, target in _FOLDERS.items():
            if resolved.is_relative_to(folder):
                return PgTarget(target.dsn, schema_of(resolved), target.connect_timeout_s)
        return None
