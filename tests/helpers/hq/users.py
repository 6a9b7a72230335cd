"""Shared set-up of the HQ-user API tests (test_hq_api_users/_clips).

A real uvicorn (TLS-extension protocol) serves a FastAPI app holding only the users router
(and the same routes under ``/broken`` with an audit log that cannot be written); events go
in through the event store as a unit's would, the clip is a real H.264 MP4 uploaded through
the clip store, and `requests` pins HQ's CA. Each test module starts its own server
(``hq = hq_fixture(users_hq)``, hq_fixture from tests/helpers/hq/api.py).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import ssl
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import av
import numpy as np
import requests
import uvicorn
from fastapi import FastAPI

from hq.accounts.users import UserStore
from hq.api.deps import HQDeps
from hq.api.users.routes import build_users_router
from hq.server.tls import TLSExtensionH11Protocol
from hq.storage import SqliteAuditLog
from hq.storage.scope import Scope
from sync.schema import EventEnvelope
from tests.conftest import wait_for

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
PW = "a long enough password"


def ev(type_: str, unit: str, minute: float, counter: str, **data: Any) -> EventEnvelope:
    """An event ``minute`` minutes after T0, as the unit would send it."""
    return EventEnvelope(uuid=str(uuid.uuid4()), type=type_, unit_id=unit, counter_id=counter,
                         utc=T0 + dt.timedelta(minutes=minute), mono=minute * 60,
                         boot_id="boot-1", clock_synced=True, data=data)


def txn(txn_id: str, unit: str, minute: float, staff: str, counter: str, rating: int,
        suspect: bool = False) -> list[EventEnvelope]:
    """A whole rated transaction: started, ended three minutes later, rated."""
    return [
        ev("transaction_started", unit, minute, counter, txn_id=txn_id, staff_id=staff,
           session_id="sess", clip_id=txn_id),
        ev("transaction_ended", unit, minute + 3, counter, txn_id=txn_id, staff_id=staff,
           duration_s=180.0, reason="customer_left"),
        ev("rating", unit, minute + 3.1, counter, txn_id=txn_id, outcome="rated",
           rating=rating, suspect=suspect),
    ]


def noise_mp4(path: Path, frames: int = 12) -> bytes:
    """A real H.264 MP4 of noise: it compresses badly, so it spans many read chunks."""
    rng = np.random.default_rng(7)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=10, options={"preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for _ in range(frames):
            img = rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")))
        out.mux(stream.encode(None))
    return path.read_bytes()


@dataclasses.dataclass
class HQ:
    """The running server, its stores and one bearer token per role."""

    url: str
    deps: HQDeps
    users: UserStore
    ca_pem: Path
    clip: bytes
    tokens: dict[str, str]

    def get(self, path: str, role: str | None = "supervisor", **kw: Any) -> requests.Response:
        """GET as ``role`` (None: without a token)."""
        headers = dict(kw.pop("headers", {}))
        if role is not None:
            headers["Authorization"] = f"Bearer {self.tokens[role]}"
        return requests.get(self.url + path, headers=headers, verify=str(self.ca_pem),
                            timeout=10, **kw)

    def post(self, path: str, json: Any, role: str | None = None) -> requests.Response:
        """POST JSON as ``role`` (None: without a token)."""
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        return requests.post(self.url + path, json=json, headers=headers,
                             verify=str(self.ca_pem), timeout=10)

    def audit(self, object_id: str) -> list[Any]:
        """Every audit record about ``object_id``, oldest first."""
        return self.deps.audit.query(object_id=object_id, limit=1000)


@contextmanager
def users_hq(root: Path) -> Iterator[HQ]:
    """Four users (admin; hall supervisor, auditor and viewer of scope all), transactions t1-t3
    and t1's clip, served."""
    deps = HQDeps.open(root / "data", "test")
    users = UserStore(root / "users.db")
    # Keyed by the roles' old names; sue is the migrated supervisor (scope all).
    accounts = (("root", "admin", "admin"), ("sue", "hall_supervisor", "supervisor"),
                ("aud", "auditor", "auditor"), ("val", "viewer", "viewer"))
    for name, role, _key in accounts:
        users.create_user(name, PW, role, scope=Scope.everything())
    tokens = {key: users.issue_token(name).token for name, _role, key in accounts}
    deps.events.register_unit("unit-a", "b1")
    deps.events.register_unit("unit-b", "b2")
    deps.events.ingest("unit-a", txn("t1", "unit-a", 0, "s1", "c1", 5)
                       + txn("t2", "unit-a", 10, "s2", "c1", 2, suspect=True))
    deps.events.ingest("unit-b", txn("t3", "unit-b", 20, "s1", "c2", 4))
    clip = noise_mp4(root / "t1.mp4")
    digest = hashlib.sha256(clip).hexdigest()
    upload = deps.clips.create("unit-a", "t1", len(clip), digest)
    deps.clips.append(upload.upload_id, "unit-a", 0, clip)
    deps.events.ingest("unit-a", [ev("clip_closed", "unit-a", 3.2, "c1", clip_id="t1",
                                     sha256=digest, size=len(clip), duration_s=1.2)])

    app = FastAPI(openapi_url="/v1/openapi.json")
    app.include_router(build_users_router(deps, users))
    # The same routes with an audit log that cannot be written (its connection closed).
    broken = SqliteAuditLog(root / "broken-audit.db")
    broken.close()
    app.include_router(build_users_router(dataclasses.replace(deps, audit=broken), users),
                       prefix="/broken")

    cert, key = deps.ca.issue_server_cert(["localhost", "127.0.0.1"]).write(root / "server")
    ca_pem = root / "data" / "ca" / "ca.pem"
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, http=TLSExtensionH11Protocol, ssl_certfile=str(cert),
        ssl_keyfile=str(key), ssl_ca_certs=str(ca_pem), ssl_cert_reqs=ssl.CERT_OPTIONAL,
        log_level="warning", lifespan="off", timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, 10, "uvicorn started")
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield HQ(f"https://localhost:{port}", deps, users, ca_pem, clip, tokens)
    finally:
        server.should_exit = True
        thread.join(10)

