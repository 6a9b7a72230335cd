"""HQ learns which unit is calling from its client certificate, over real TLS on loopback.

Real uvicorn with the TLS-extension protocol, real certificates from HQ's CA and
a unit identity enrolled the way a unit enrolls.
"""

from __future__ import annotations

import http.client
import json
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from hq.pki.ca import CAError, CertificateAuthority
from hq.server.tls import TLSExtensionH11Protocol
from sync.identity import UnitIdentity
from tests.conftest import wait_for


def make_app(ca: CertificateAuthority) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        chain = scope.get("extensions", {}).get("tls", {}).get("client_cert_chain", [])
        try:
            status, body = 200, {"unit_id": ca.authenticate_peer(chain[0].encode() if chain
                                                                  else None)}
        except CAError as exc:
            status, body = 401, {"error": str(exc)}
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": json.dumps(body).encode()})
    return app


HQ = tuple[CertificateAuthority, int, Path]


@pytest.fixture(scope="module")
def hq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HQ]:
    root = tmp_path_factory.mktemp("hq")
    ca = CertificateAuthority.create(root / "ca", "test")
    cert, key = ca.issue_server_cert(["localhost", "127.0.0.1"]).write(root / "server")
    config = uvicorn.Config(
        make_app(ca), host="127.0.0.1", port=0, http=TLSExtensionH11Protocol,
        ssl_certfile=str(cert), ssl_keyfile=str(key), ssl_ca_certs=str(root / "ca" / "ca.pem"),
        # Optional at the handshake: enrollment comes without a certificate; the app decides.
        ssl_cert_reqs=ssl.CERT_OPTIONAL, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, 10, "uvicorn started")
    port = server.servers[0].sockets[0].getsockname()[1]
    yield ca, port, root
    server.should_exit = True
    thread.join(10)


def enrolled(root: Path, ca: CertificateAuthority, unit_id: str) -> UnitIdentity:
    ident = UnitIdentity(root / unit_id)
    ident.generate_key()
    ident.install(ca.sign_unit_csr(ident.csr(unit_id), unit_id), ca.cert_pem)
    return ident


def get(port: int, context: ssl.SSLContext) -> tuple[int, dict[str, Any]]:
    conn = http.client.HTTPSConnection("localhost", port, context=context, timeout=10)
    try:
        conn.request("GET", "/v1/whoami")
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read())
    finally:
        conn.close()


def test_app_reads_the_unit_id_from_the_client_certificate(
        hq: HQ) -> None:
    ca, port, root = hq
    ident = enrolled(root, ca, "unit-0007")
    assert get(port, ident.client_ssl_context()) == (200, {"unit_id": "unit-0007"})


def test_no_client_certificate_reaches_the_app_as_anonymous(
        hq: HQ) -> None:
    _, port, root = hq
    context = ssl.create_default_context(cafile=str(root / "ca" / "ca.pem"))
    status, body = get(port, context)
    assert status == 401 and "no client certificate" in body["error"]


def test_revoked_unit_is_refused_by_the_app(hq: HQ) -> None:
    ca, port, root = hq
    ident = enrolled(root, ca, "unit-0666")
    ca.revoke_unit("unit-0666")
    status, body = get(port, ident.client_ssl_context())
    assert status == 401 and "revoked" in body["error"].lower()
