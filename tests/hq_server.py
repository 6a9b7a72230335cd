"""A real HQ (uvicorn, TLS with client certificates) on loopback for tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from hq.api.app import create_app, server_config
from hq.api.deps import HQDeps, HQLimits
from sync.identity import UnitIdentity
from tests.conftest import wait_for


@dataclass
class HQServer:
    deps: HQDeps
    port: int
    root: Path

    @property
    def url(self) -> str:
        return f"https://localhost:{self.port}"

    @property
    def ca_pem(self) -> Path:
        return self.deps.ca.directory / "ca.pem"

    def enrolled_unit(self, unit_id: str) -> UnitIdentity:
        """A unit certified directly by the CA (the enrollment endpoint has its own tests)."""
        ident = UnitIdentity(self.root / "units" / unit_id)
        ident.generate_key()
        ident.install(self.deps.ca.sign_unit_csr(ident.csr(unit_id), unit_id),
                      self.deps.ca.cert_pem)
        return ident


@contextmanager
def running_hq(root: Path, limits: HQLimits | None = None) -> Iterator[HQServer]:
    deps = HQDeps.open(root / "data", deployment="test")
    if limits is not None:
        deps.limits = limits
    cert, key = deps.ca.issue_server_cert(["localhost", "127.0.0.1"]).write(root / "server")
    config = server_config(create_app(deps), "127.0.0.1", 0, cert, key,
                           deps.ca.directory / "ca.pem", log_level="warning")
    # Idle keep-alive connections of test clients must not hold the shutdown up.
    config.timeout_graceful_shutdown = 1
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, 10, "uvicorn started")
    try:
        yield HQServer(deps, server.servers[0].sockets[0].getsockname()[1], root)
    finally:
        server.should_exit = True
        thread.join(10)
