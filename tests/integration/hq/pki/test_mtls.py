"""Mutual TLS on loopback with real handshakes: HQ's server context against unit identities.

Both ends run in the test (server in a worker thread, port 0). The server does what the HQ
HTTP layer must do per connection: take the DER peer certificate and ask the CA who it is.
"""

from __future__ import annotations

import datetime as dt
import socket
import ssl
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from hq.pki.ca import (
    CAError,
    CertificateAuthority,
    UnitRevoked,
    load_certificate,
    server_ssl_context,
)
from hq.pki.enrollment import EnrollmentCodes
from sync.identity import UnitIdentity

TIMEOUT_S = 5.0


@dataclass
class Served:
    """What the server saw on its one connection."""

    unit_id: str | None = None
    version: str | None = None
    error: BaseException | None = None


@dataclass
class Pki:
    ca: CertificateAuthority
    rogue: CertificateAuthority
    server_ctx: ssl.SSLContext
    rogue_server_ctx: ssl.SSLContext
    root: Path


def serve_once(listener: socket.socket, ctx: ssl.SSLContext, ca: CertificateAuthority) -> Served:
    served = Served()
    conn, _ = listener.accept()
    conn.settimeout(TIMEOUT_S)
    try:
        with ctx.wrap_socket(conn, server_side=True) as tls:
            served.version = tls.version()
            try:
                served.unit_id = ca.authenticate_peer(tls.getpeercert(binary_form=True))
                tls.sendall(f"unit {served.unit_id}\n".encode())
            except CAError as exc:
                served.error = exc
                tls.sendall(f"refused: {exc}\n".encode())
    except (ssl.SSLError, OSError) as exc:
        served.error = exc
    finally:
        conn.close()
    return served


def exchange(server_ctx: ssl.SSLContext, client_ctx: ssl.SSLContext,
             ca: CertificateAuthority) -> tuple[Served, bytes | BaseException]:
    """One connection: returns what the server saw and what the client read (or its error)."""
    with socket.create_server(("127.0.0.1", 0)) as listener, ThreadPoolExecutor(1) as pool:
        listener.settimeout(TIMEOUT_S)
        future = pool.submit(serve_once, listener, server_ctx, ca)
        port = listener.getsockname()[1]
        reply: bytes | BaseException
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT_S) as raw, \
                    client_ctx.wrap_socket(raw, server_hostname="localhost") as tls:
                reply = tls.recv(1024)
        except (ssl.SSLError, OSError) as exc:
            reply = exc
        return future.result(timeout=TIMEOUT_S), reply


def enroll(pki: Pki, unit_id: str, *, signer: CertificateAuthority | None = None,
           now: dt.datetime | None = None, days: int = 365) -> UnitIdentity:
    """The whole enrollment flow, minus HTTP: code, key on the unit, CSR, sign, install."""
    codes = EnrollmentCodes(pki.root / "codes.db")
    code = codes.issue(unit_id, dt.timedelta(hours=1))
    unit = UnitIdentity(pki.root / unit_id)
    unit.generate_key()
    codes.redeem(code, unit_id)
    cert = (signer or pki.ca).sign_unit_csr(unit.csr(unit_id), unit_id, days, now=now)
    if signer is None and now is None:
        unit.install(cert, pki.ca.cert_pem)
    else:  # certificates the unit itself would refuse to install: write them by hand
        unit.cert_path.write_bytes(cert)
        unit.ca_path.write_bytes(pki.ca.cert_pem)
    return unit


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pki]:
    root = tmp_path_factory.mktemp("pki")
    ca = CertificateAuthority.create(root / "ca", "mtls")
    rogue = CertificateAuthority.create(root / "rogue", "mtls")  # same name, other key
    hosts = ["localhost", "127.0.0.1"]
    ctxs = []
    for authority, where in ((ca, "hq"), (rogue, "rogue-hq")):
        cert_path, key_path = authority.issue_server_cert(hosts).write(root / where)
        ctxs.append(server_ssl_context(authority, cert_path, key_path))
    yield Pki(ca, rogue, ctxs[0], ctxs[1], root)


def pinned_client(pki: Pki, unit: UnitIdentity | None = None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cadata=pki.ca.cert_pem.decode())
    if unit is not None:
        ctx.load_cert_chain(unit.cert_path, unit.key_path)
    return ctx


@pytest.mark.parametrize("max_version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3],
                         ids=["tls1.2", "tls1.3"])
def test_enrolled_unit_is_identified_from_its_peer_certificate(
        pki: Pki, max_version: ssl.TLSVersion) -> None:
    unit = enroll(pki, f"unit-ok-{max_version.name}")
    ctx = unit.client_ssl_context()
    ctx.maximum_version = max_version
    served, reply = exchange(pki.server_ctx, ctx, pki.ca)
    assert served.error is None
    assert served.unit_id == f"unit-ok-{max_version.name}"
    assert served.version == {"TLSv1_2": "TLSv1.2", "TLSv1_3": "TLSv1.3"}[max_version.name]
    assert reply == f"unit unit-ok-{max_version.name}\n".encode()


@pytest.mark.parametrize("max_version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3],
                         ids=["tls1.2", "tls1.3"])
def test_client_without_certificate_is_refused_at_handshake(
        pki: Pki, max_version: ssl.TLSVersion) -> None:
    ctx = pinned_client(pki)
    ctx.maximum_version = max_version
    served, reply = exchange(pki.server_ctx, ctx, pki.ca)
    assert isinstance(served.error, ssl.SSLError)
    assert "certificate" in str(served.error).lower()
    assert served.unit_id is None and served.version is None
    assert not (isinstance(reply, bytes) and reply.startswith(b"unit"))


def test_certificate_from_another_ca_is_refused_at_handshake(pki: Pki) -> None:
    unit = enroll(pki, "unit-foreign", signer=pki.rogue)
    served, reply = exchange(pki.server_ctx, pinned_client(pki, unit), pki.ca)
    assert isinstance(served.error, ssl.SSLCertVerificationError)
    assert served.unit_id is None
    assert not (isinstance(reply, bytes) and reply.startswith(b"unit"))


def test_expired_certificate_is_refused_at_handshake(pki: Pki) -> None:
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
    unit = enroll(pki, "unit-expired", now=past, days=1)
    assert unit.needs_renewal(margin_days=0)
    served, reply = exchange(pki.server_ctx, pinned_client(pki, unit), pki.ca)
    assert isinstance(served.error, ssl.SSLCertVerificationError)
    assert "expired" in served.error.verify_message
    assert not (isinstance(reply, bytes) and reply.startswith(b"unit"))


def test_revoked_unit_passes_handshake_but_is_refused_by_the_app(pki: Pki) -> None:
    unit = enroll(pki, "unit-revoked")
    serial = load_certificate(unit.cert_path.read_bytes()).serial_number
    pki.ca.revoke(serial, "unit stolen from branch")
    assert pki.ca.is_revoked(serial)
    served, reply = exchange(pki.server_ctx, unit.client_ssl_context(), pki.ca)
    assert served.version is not None  # the handshake knows nothing of revocation
    assert isinstance(served.error, UnitRevoked)
    assert served.unit_id is None
    assert isinstance(reply, bytes) and reply.startswith(b"refused:")


def test_unit_refuses_a_server_certified_by_another_ca(pki: Pki) -> None:
    unit = enroll(pki, "unit-pinning")
    served, reply = exchange(pki.rogue_server_ctx, unit.client_ssl_context(), pki.ca)
    assert isinstance(reply, ssl.SSLCertVerificationError)
    assert served.unit_id is None


def test_server_certificate_cannot_be_used_as_a_unit_certificate(pki: Pki) -> None:
    # Both are signed by the same CA; only the EKU and SAN tell them apart.
    cert_path, key_path = pki.root / "hq" / "server.pem", pki.root / "hq" / "server.key"
    ctx = pinned_client(pki)
    ctx.load_cert_chain(cert_path, key_path)
    served, reply = exchange(pki.server_ctx, ctx, pki.ca)
    assert served.unit_id is None
    assert isinstance(served.error, ssl.SSLCertVerificationError)
    assert "purpose" in served.error.verify_message  # refused by the handshake, not the app
    assert not (isinstance(reply, bytes) and reply.startswith(b"unit"))


def test_unit_certificate_cannot_impersonate_hq(pki: Pki) -> None:
    unit = enroll(pki, "unit-evil")
    evil_server = server_ssl_context(pki.ca, unit.cert_path, unit.key_path)
    victim = enroll(pki, "unit-victim")
    served, reply = exchange(evil_server, victim.client_ssl_context(), pki.ca)
    assert isinstance(reply, ssl.SSLCertVerificationError)
    assert "purpose" in reply.verify_message
    assert served.unit_id is None
