"""A real HQ (uvicorn, TLS with client certificates) on loopback for tests."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from hq.api.app import create_app, server_config
from hq.api.deps import HQDeps, HQLimits
from sync.identity import UnitIdentity
from tests.conftest import wait_for


class HQFaults:
    """HQ misbehaving on purpose: the next N requests answer 5xx, every answer is late."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.fail_next = 0
        self.status = 500
        self.delay_s = 0.0
        self.failed = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            if self.fail_next > 0:
                self.fail_next -= 1
                self.failed += 1
                await send({"type": "http.response.start", "status": self.status,
                            "headers": [(b"content-type", b"text/plain")]})
                await send({"type": "http.response.body", "body": b"injected failure"})
                return
        await self.app(scope, receive, send)


@dataclass
class HQServer:
    deps: HQDeps
    port: int
    root: Path
    faults: HQFaults

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
    cert, key = root / "server" / "server.pem", root / "server" / "server.key"
    if not cert.exists():  # a restart on the same folder keeps HQ's identity
        cert, key = deps.ca.issue_server_cert(["localhost", "127.0.0.1"]).write(root / "server")
    faults = HQFaults(create_app(deps))
    config = server_config(faults, "127.0.0.1", 0, cert, key,
                           deps.ca.directory / "ca.pem", log_level="warning")
    # Idle keep-alive connections of test clients must not hold the shutdown up.
    config.timeout_graceful_shutdown = 1
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, 10, "uvicorn started")
    try:
        yield HQServer(deps, server.servers[0].sockets[0].getsockname()[1], root, faults)
    finally:
        server.should_exit = True
        thread.join(10)
        for store in (deps.events, deps.clips, deps.audit):
            store.close()
