"""A unit's certificate passed on by a trusted TLS-terminating proxy (hq/server/proxy_cert.py).

A real HQ on 127.0.0.1 with ``[proxy] trusted = ["127.0.0.1"]``. The "proxy" is this test
connecting from 127.0.0.1 without a client certificate of its own and sending the unit's
certificate URL-escaped in X-Client-Cert, as nginx's ``$ssl_client_escaped_cert`` does;
another peer is the same test connecting from 127.0.0.2 (loopback covers 127/8).
``GET /v1/config`` answers 404 naming the unit once the unit is authenticated (HQ has no
config for it) and 401 ``not_a_unit`` otherwise.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

from hq.pki.ca import CertificateAuthority
from hq.server.embedded import EmbeddedHQ, running_hq
from hq.server.proxy_cert import ProxyConfig, forwarded_certificate
from sync.identity import UnitIdentity
from tests.conftest import wait_for

PROXY, OTHER = "127.0.0.1", "127.0.0.2"
REPO = Path(__file__).resolve().parents[4]


@dataclass
class Setup:
    hq: EmbeddedHQ
    unit: UnitIdentity
    rogue_pem: str  # the same unit id and key, certified by another CA


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    root = tmp_path_factory.mktemp("proxy")
    (root / "data").mkdir()
    (root / "data" / "hq.toml").write_text(f'[proxy]\ntrusted = ["{PROXY}"]\n')
    with running_hq(root) as hq:
        unit = UnitIdentity(root / "units" / "u1")
        unit.generate_key()
        unit.install(hq.deps.ca.sign_unit_csr(unit.csr("u1"), "u1"), hq.deps.ca.cert_pem)
        rogue = CertificateAuthority.create(root / "rogue", "rogue")
        rogue_pem = rogue.sign_unit_csr(unit.csr("u1"), "u1").decode()
        yield Setup(hq, unit, rogue_pem)


def _get(hq: EmbeddedHQ, source: str, headers: dict[str, str], *,
         unit: UnitIdentity | None = None, path: str = "/v1/config") -> tuple[int, dict]:
    ctx = ssl.create_default_context(cafile=str(hq.ca_pem))
    if unit is not None:  # the peer's own TLS client certificate
        ctx.load_cert_chain(unit.cert_path, unit.key_path)
    conn = http.client.HTTPSConnection("localhost", hq.port, context=ctx, timeout=10,
                                       source_address=(source, 0))
    try:
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, json.loads(body) if body.startswith(b"{") else {}
    finally:
        conn.close()


def _escaped(pem: str) -> str:
    return quote(pem, safe="")  # what nginx's $ssl_client_escaped_cert carries


def test_unit_certificate_in_the_header_from_the_proxy_is_accepted(setup: Setup) -> None:
    pem = setup.unit.cert_path.read_text()
    status, body = _get(setup.hq, PROXY, {"X-Client-Cert": _escaped(pem)})
    assert status == 404 and "u1" in json.dumps(body), body


def test_no_header_from_the_proxy_is_no_certificate(setup: Setup) -> None:
    assert _get(setup.hq, PROXY, {})[0] == 401
    assert _get(setup.hq, PROXY, {"X-Client-Cert": ""})[0] == 401


def test_certificate_of_another_ca_in_the_header_is_refused(setup: Setup) -> None:
    status, body = _get(setup.hq, PROXY, {"X-Client-Cert": _escaped(setup.rogue_pem)})
    assert status == 401 and "not issued by this CA" in json.dumps(body), body
    status, _ = _get(setup.hq, PROXY, {"X-Client-Cert": "not%20a%20certificate"})
    assert status == 401


def test_header_from_any_other_peer_is_ignored(setup: Setup) -> None:
    pem = setup.unit.cert_path.read_text()
    status, body = _get(setup.hq, OTHER, {"X-Client-Cert": _escaped(pem)})
    assert status == 401, body
    # That peer's own TLS certificate still counts; a header cannot replace it.
    status, body = _get(setup.hq, OTHER, {"X-Client-Cert": _escaped(setup.rogue_pem)},
                        unit=setup.unit)
    assert status == 404 and "u1" in json.dumps(body), body


def test_forwarded_address_names_the_client_in_the_audit_log(setup: Setup) -> None:
    for source, claimed in ((PROXY, "203.0.113.7"), (OTHER, "198.51.100.9")):
        conn = http.client.HTTPSConnection(
            "localhost", setup.hq.port, timeout=10, source_address=(source, 0),
            context=ssl.create_default_context(cafile=str(setup.hq.ca_pem)))
        conn.request("POST", "/v1/auth/token", body=json.dumps(
            {"username": "nobody", "password": "wrong password here"}),
            headers={"Content-Type": "application/json", "X-Forwarded-For": claimed})
        assert conn.getresponse().status == 401
        conn.close()
    clients = {r.client for r in setup.hq.deps.audit.query(action="login_failed")}
    assert "203.0.113.7" in clients  # from the proxy: its word for the client
    assert OTHER in clients and "198.51.100.9" not in clients  # from others: the peer


def test_revoked_unit_in_the_header_is_refused(tmp_path: Path, setup: Setup) -> None:
    unit = UnitIdentity(tmp_path / "u2")
    unit.generate_key()
    unit.install(setup.hq.deps.ca.sign_unit_csr(unit.csr("u2"), "u2"),
                 setup.hq.deps.ca.cert_pem)
    setup.hq.deps.ca.revoke_unit("u2", "stolen")
    status, _ = _get(setup.hq, PROXY, {"X-Client-Cert": _escaped(unit.cert_path.read_text())})
    assert status == 403


@pytest.mark.parametrize(("value", "chain"), [
    (None, []), (b"", []), (b"%20", []),
    (b"-----BEGIN%20CERTIFICATE-----%0AMIIB%0A-----END%20CERTIFICATE-----%0A",
     ["-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"]),
])
def test_header_value_unescaped(value: bytes | None, chain: list[str]) -> None:
    assert forwarded_certificate(value) == chain


@pytest.mark.parametrize("trusted", [[], ["not-an-address"], ["10.0.0.0/33"]])
def test_bad_proxy_list_refused(trusted: list[str]) -> None:
    with pytest.raises(ValueError, match="trusted"):
        ProxyConfig.model_validate({"trusted": trusted})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def nginx(setup: Setup, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """docs/hq-deploy.nginx.conf, run by nginx itself in front of the HQ above."""
    if not shutil.which("nginx"):
        pytest.skip("nginx missing (apt nginx-light, systemd/hq.mk)")
    tmp = tmp_path_factory.mktemp("nginx")
    port = _free_port()
    hq = setup.hq
    server = hq.root / "server"
    site = (REPO / "docs" / "hq-deploy.nginx.conf").read_text()
    site = re.sub(r"upstream counterunit_hq \{.*?\n\}",
                  f"upstream counterunit_hq {{\n    server 127.0.0.1:{hq.port};\n}}", site,
                  flags=re.S)
    site = (site.replace("listen 443 ssl;", f"listen 127.0.0.1:{port} ssl;")
            .replace("/etc/nginx/tls/hq.pem", str(server / "server.pem"))
            .replace("/etc/nginx/tls/hq.key", str(server / "server.key"))
            .replace("/etc/nginx/tls/counterunit-units-ca.pem", str(hq.ca_pem)))
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers read the test's 0600 keys
    conf = tmp / "nginx.conf"
    conf.write_text(f"{user}daemon off;\npid {tmp}/nginx.pid;\nerror_log {tmp}/error.log;\n"
                    f"events {{}}\nhttp {{\naccess_log off;\n{site}\n}}\n")
    for name in ("client_body_temp", "proxy_temp"):
        (tmp / name).mkdir()
    proc = subprocess.Popen(["nginx", "-c", str(conf), "-p", str(tmp)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def listening() -> bool:
            assert proc.poll() is None, (tmp / "error.log").read_text()
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                return True
            return False

        wait_for(listening, 15, "nginx listening")
        yield port
    finally:
        proc.terminate()
        proc.wait(15)


def _via_nginx(setup: Setup, port: int, cert: tuple[Path, Path] | None,
               headers: dict[str, str] | None = None) -> tuple[int, str]:
    ctx = ssl.create_default_context(cafile=str(setup.hq.ca_pem))
    if cert is not None:
        ctx.load_cert_chain(*cert)
    conn = http.client.HTTPSConnection("localhost", port, context=ctx, timeout=10)
    try:
        conn.request("GET", "/v1/config", headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read().decode()
    finally:
        conn.close()


def test_through_the_documented_nginx(setup: Setup, nginx: int, tmp_path: Path) -> None:
    unit = (setup.unit.cert_path, setup.unit.key_path)
    status, body = _via_nginx(setup, nginx, unit)
    assert status == 404 and "u1" in body, body
    # A certificate of another CA gets through nginx (optional_no_ca) and HQ refuses it.
    rogue = tmp_path / "rogue.pem"
    rogue.write_text(setup.rogue_pem)
    status, body = _via_nginx(setup, nginx, (rogue, setup.unit.key_path))
    assert status == 401 and "not issued by this CA" in body, body
    # A client cannot send its own header through nginx: nginx always sets it.
    forged = {"X-Client-Cert": _escaped(setup.unit.cert_path.read_text())}
    assert _via_nginx(setup, nginx, None, forged)[0] == 401
