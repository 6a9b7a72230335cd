"""A real HQ (uvicorn, TLS with client certificates) on loopback for tests."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hq.api.deps import HQLimits
from hq.server.embedded import EmbeddedHQ
from hq.server.embedded import running_hq as embedded_hq
from sync.identity import UnitIdentity


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
class HQServer(EmbeddedHQ):
    faults: HQFaults = field(default_factory=lambda: HQFaults(None))

    def enrolled_unit(self, unit_id: str) -> UnitIdentity:
        """A unit certified directly by the CA (the enrollment endpoint has its own tests)."""
        ident = UnitIdentity(self.root / "units" / unit_id)
        ident.generate_key()
        ident.install(self.deps.ca.sign_unit_csr(ident.csr(unit_id), unit_id),
                      self.deps.ca.cert_pem)
        return ident


@contextmanager
def running_hq(root: Path, limits: HQLimits | None = None) -> Iterator[HQServer]:
    """The embedded HQ (hq/server/embedded.py) with test-controlled faults in front of its app."""
    faults: list[HQFaults] = []

    def wrap(app: Any) -> HQFaults:
        faults.append(HQFaults(app))
        return faults[0]

    with embedded_hq(root, limits, wrap=wrap) as hq:
        yield HQServer(hq.deps, hq.port, root, faults[0])
