"""Shared set-up of the unit-facing HQ API tests (test_hq_api_units/_uploads), and hq_fixture.

Each test module starts its own embedded HQ (real uvicorn, real mutual TLS, port 0) on a
fresh data folder with small limits, so oversize cases stay cheap; the helpers below make
unit identities and send requests the way a unit would.
"""

from __future__ import annotations

import http.client
import json
import ssl
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest

from hq.api.deps import HQLimits
from hq.server.embedded import EmbeddedHQ, running_hq
from sync.identity import UnitIdentity

LIMITS = HQLimits(max_event_batch=20, max_body_bytes=64 * 1024, max_chunk_bytes=128 * 1024)
MAX_CLIP = 4 * 1024 * 1024
TUS = {"Tus-Resumable": "1.0.0"}

HQ = EmbeddedHQ


@contextmanager
def small_limits_hq(root: Path) -> Iterator[HQ]:
    """The embedded HQ with the test limits above."""
    with running_hq(root, LIMITS) as server:
        server.deps.clips.max_length = MAX_CLIP
        yield server


def hq_fixture(serve: Callable[[Path], AbstractContextManager[Any]] = small_limits_hq,
               *, backends: bool = False, clip_stores: bool = False) -> Any:
    """A module-scoped ``hq`` fixture yielding ``serve(a fresh folder)``.

    A test module says ``hq = hq_fixture()`` (or passes another server, e.g. the users
    API's); each call makes a new fixture, so each module gets its own server.
    ``backends=True`` runs the module once on SQLite and once on PostgreSQL (hq.toml in
    the folder's ``data``, migrated, as an operator sets it up). ``clip_stores=True``
    makes the second run PostgreSQL with clips in S3 (the moto endpoint, a fresh bucket):
    a bank's deployment against the embedded default, not the full cross product.
    """
    from tests.servers.postgres_fixtures import BACKENDS, backend_for
    from tests.servers.s3_fixtures import BANK, with_s3_clips

    params = [BACKENDS[0], BANK] if clip_stores else BACKENDS if backends else ["sqlite"]

    @pytest.fixture(scope="module", name="hq", params=params)
    def fixture(request: pytest.FixtureRequest,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
        root = tmp_path_factory.mktemp("hq")
        db = backend_for(request)
        db.configure(root / "data")
        if request.param == BANK.values[0]:
            with_s3_clips(request, root / "data")
        try:
            with serve(root) as server:
                yield server
        finally:
            db.close()

    return fixture


def identity(hq: HQ, unit_id: str) -> UnitIdentity:
    """A unit with a fresh key and no certificate yet."""
    ident = UnitIdentity(hq.root / "units" / unit_id)
    ident.generate_key()
    return ident


def enrolled(hq: HQ, unit_id: str) -> UnitIdentity:
    """A unit certified directly by the CA (enrollment itself is tested separately)."""
    ident = identity(hq, unit_id)
    ident.install(hq.deps.ca.sign_unit_csr(ident.csr(unit_id), unit_id), hq.deps.ca.cert_pem)
    return ident


def tls(hq: HQ, ident: UnitIdentity | None) -> dict[str, Any]:
    """requests arguments: pin HQ's CA, present the unit's certificate if any."""
    args: dict[str, Any] = {"verify": str(hq.ca_pem), "timeout": 10}
    if ident is not None:
        args["cert"] = (str(ident.cert_path), str(ident.key_path))
    return args


def event(unit_id: str, txn_id: str | None = None) -> dict[str, Any]:
    """One valid event envelope of ``unit_id`` as JSON-ready data."""
    return {"uuid": uuid.uuid4().hex, "type": "transaction_started", "unit_id": unit_id,
            "counter_id": "c1", "utc": "2026-11-22T10:00:00Z", "mono": 12.5, "boot_id": "b1",
            "clock_synced": True, "data": {"txn_id": txn_id or uuid.uuid4().hex}}


def raw_request(hq: HQ, context: ssl.SSLContext, method: str, path: str,
                headers: dict[str, str], body: bytes = b"",
                chunked: bool = False) -> tuple[int, dict[str, Any]]:
    """A request with exactly these headers (no Content-Length filled in), optionally chunked.

    Returns the status and the JSON reply ({} when empty).
    """
    conn = http.client.HTTPSConnection("localhost", hq.port, context=context, timeout=10)
    try:
        conn.putrequest(method, path)
        for k, v in headers.items():
            conn.putheader(k, v)
        if chunked:
            conn.putheader("Transfer-Encoding", "chunked")
            conn.endheaders()
            for i in range(0, len(body), 8192):
                piece = body[i:i + 8192]
                conn.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            conn.send(b"0\r\n\r\n")
        else:
            conn.endheaders(body or None)
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read() or b"{}")
    finally:
        conn.close()
