"""A real PostgreSQL 15 server for the tests: initdb + pg_ctl in a temporary folder.

Debian's ``postgresql`` package provides the binaries (the Makefile's set-up installs it).
initdb refuses to run as root, and CI runs the tests as root, so the server runs as the
``postgres`` system user the package creates (``runuser``); as any other user it runs as
that user. It listens on loopback only, on a free port, with trust authentication (the
folder is private to the test session), and fsync off: a crash of the test machine
loses nothing the tests need.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

BIN = Path("/usr/lib/postgresql/15/bin")
SUPERUSER = "hq"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_server_user(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", "postgres", "--", *argv]


@dataclass
class PostgresServer:
    """One running cluster; ``dsn(db)`` names a database on it."""

    folder: Path
    port: int

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def dsn(self, dbname: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname={dbname}"

    def _ctl(self, *args: str) -> None:
        subprocess.run(_as_server_user([str(BIN / "pg_ctl"), "-D", str(self.data), *args]),
                       check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        """Start (or start again) and wait until it accepts connections."""
        opts = f"-h 127.0.0.1 -p {self.port} -k {self.folder} -F -c max_connections=200"
        self._ctl("-o", opts, "-l", str(self.folder / "server.log"), "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop; ``fast`` ends open sessions (as an administrator's restart does)."""
        self._ctl("-m", mode, "-w", "stop")

    def restart(self) -> None:
        """What an operator's ``pg_ctl restart`` does: every session is cut."""
        self.stop()
        self.start()

    def create_database(self, name: str) -> str:
        """A new empty database; returns its DSN."""
        import psycopg

        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.dsn(name)


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """Run a fresh cluster for the duration of the block, then remove it."""
    if not (BIN / "initdb").exists():
        raise RuntimeError(f"{BIN}/initdb missing: install Debian's postgresql (make apt)")
    folder = Path(tempfile.mkdtemp(prefix="hq-pg-"))
    os.chmod(folder, 0o700)
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    server = PostgresServer(folder, _free_port())
    try:
        subprocess.run(_as_server_user([str(BIN / "initdb"), "-D", str(server.data),
                                        "-A", "trust", "-U", SUPERUSER, "-E", "UTF8",
                                        "--no-sync", "--locale=C.UTF-8"]),
                       check=True, capture_output=True, timeout=120)
        server.start()
        try:
            yield server
        finally:
            with contextlib.suppress(subprocess.SubprocessError):
                server.stop("immediate")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
