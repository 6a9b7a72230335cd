"""pytest fixtures: one PostgreSQL server per test session, a fresh database per test,
and ``backend``, which runs a test once on SQLite and once on PostgreSQL.

Imported by tests/conftest.py. The server starts only when a test asks for it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.servers.postgres import PostgresServer, postgres_server

_names = itertools.count(1)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """The session's PostgreSQL 15 server (loopback, temporary folder)."""
    with postgres_server() as server:
        yield server


@pytest.fixture
def pg_dsn(postgres: PostgresServer) -> str:
    """DSN of a new, empty database on the session's server."""
    return postgres.create_database(f"t{next(_names)}")


@dataclass
class Backend:
    """Which database a parametrised test runs on; ``use`` points a data folder at it."""

    name: str  # sqlite | postgresql
    dsn: str | None = None
    server: PostgresServer | None = None
    _folders: list[Path] = field(default_factory=list)

    @property
    def postgres(self) -> bool:
        return self.name == "postgresql"

    def use(self, folder: Path) -> Path:
        """Stores opened under ``folder`` in this process use this back-end."""
        if self.dsn is not None:
            from hq.storage.db.routes import route_folder

            route_folder(folder, self.dsn)
            self._folders.append(folder)
        return folder

    def migrated(self, folder: Path) -> Path:
        """Like :meth:`use`, with the revisions applied first on PostgreSQL (as
        ``counterunit hq migrate`` does before HQ opens a database): every table exists
        before a store opens, as in production. SQLite: the stores make their own."""
        if self.dsn is not None:
            assert self.server is not None
            self.dsn = _from_template(self.server, self.dsn)
        return self.use(folder)

    def configure(self, data: Path) -> Path:
        """Write ``data/hq.toml`` naming this back-end and migrate it, as an operator
        would before ``counterunit hq serve --data data``."""
        data.mkdir(parents=True, exist_ok=True)
        if self.dsn is not None:
            from hq.cli import main

            (data / "hq.toml").write_text(
                f'[database]\ntype = "postgresql"\ndsn = "{self.dsn}"\n', encoding="utf-8")
            assert main(["migrate", "--data", str(data)]) == 0
            self._folders.append(data)
        return data

    def close(self) -> None:
        from hq.storage.db.routes import unroute

        unroute(self._folders)


_TEMPLATES: dict[int, str] = {}  # id(server) -> name of its migrated template database


def _from_template(server: PostgresServer, dsn: str) -> str:
    """Make the (empty) database of ``dsn`` a copy of one migrated once per session:
    CREATE DATABASE ... TEMPLATE takes a fraction of a second, a migration seconds."""
    import tempfile

    import psycopg

    from hq.config import PostgresDatabase
    from hq.storage.db.migrate import upgrade
    from hq.storage.db.routes import route_folder, unroute

    template = _TEMPLATES.get(id(server))
    if template is None:
        template = f"hq_migrated_{next(_names)}"
        folder = Path(tempfile.mkdtemp(prefix="hq-template-"))
        route_folder(folder, server.create_database(template))
        try:
            upgrade(folder, PostgresDatabase.model_validate(
                {"type": "postgresql", "dsn": server.dsn(template)}))
        finally:
            unroute([folder])
        _TEMPLATES[id(server)] = template
    name = dsn.rsplit("dbname=", 1)[1]
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}"')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return dsn


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def backend_for(request: pytest.FixtureRequest) -> Backend:
    """The Backend a fixture parametrised over BACKENDS stands for (a fresh database)."""
    if request.param == "sqlite":
        return Backend("sqlite")
    server = request.getfixturevalue("postgres")
    return Backend("postgresql", server.create_database(f"t{next(_names)}"), server)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    """Run the test on SQLite files and again on a fresh PostgreSQL database."""
    b = backend_for(request)
    yield b
    b.close()
