"""Certificate renewal with key rotation over real mutual TLS on loopback.

One HQ (uvicorn, TLS, client certificates) for the module; each test enrolls its own unit
directly with HQ's CA, with a certificate lifetime chosen to land inside or outside HQ's
renewal window (60 days here; renewed certificates last 90 days).
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, given, settings

from hq.api.app import OPENAPI_URL, create_app
from hq.api.deps import HQLimits
from hq.api.unit_auth import CERT_SUPERSEDED
from hq.api.units import CERT_RENEW, CERT_RENEW_REFUSED, renewal_opens
from hq.ca import CertificateAuthority, UnitRevoked
from sync.hq_client import HQClient, HQRejected
from sync.identity import UNIT_URI_PREFIX, UnitIdentity
from sync.renew import maybe_renew
from sync.schema import EventEnvelope
from tests.hq_server import HQServer, running_hq

LIMITS = HQLimits(unit_cert_days=90, renew_window_days=60)


@pytest.fixture(scope="module")
def hq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HQServer]:
    with running_hq(tmp_path_factory.mktemp("hq"), LIMITS) as server:
        yield server


def now() -> dt.datetime:
    # HQ signs and checks with its real clock, so the unit's "now" is the real one too.
    return dt.datetime.now(dt.UTC)


def unit_with_cert(hq: HQServer, unit_id: str, days: int) -> UnitIdentity:
    ident = UnitIdentity(hq.root / "units" / unit_id)
    ident.generate_key()
    ident.install(hq.deps.ca.sign_unit_csr(ident.csr(unit_id), unit_id, days),
                  hq.deps.ca.cert_pem)
    return ident


def event(unit_id: str) -> EventEnvelope:
    return EventEnvelope(uuid=str(uuid.uuid4()), type="login", unit_id=unit_id,
                         counter_id="counter-1", utc=now(), mono=1.0, boot_id="boot",
                         clock_synced=True, data={"staff_id": "s-1"})


def post_with_files(hq: HQServer, unit_id: str, cert: Path, key: Path) -> int:
    """Post one event with the given certificate and key files; the HTTP status."""
    resp = requests.post(f"{hq.url}/v1/events", json={
        "events": [event(unit_id).model_dump(mode="json")]}, verify=str(hq.ca_pem),
        cert=(str(cert), str(key)), timeout=10)
    return resp.status_code


def no_client() -> HQClient:
    raise AssertionError("no request was due")


def test_renewal_in_the_window_rotates_the_key_and_the_new_certificate_works(
        hq: HQServer, tmp_path: Path) -> None:
    unit_id = "unit-renew-ok"
    ident = unit_with_cert(hq, unit_id, 10)
    old = ident.certificate()
    kept = tmp_path / "old"
    kept.mkdir()
    old_cert, old_key = (Path(shutil.copy2(p, kept)) for p in (ident.cert_path, ident.key_path))
    client = HQClient.from_identity(hq.url, ident)
    assert client.post_events([event(unit_id)]) == (1, 0)  # a kept-alive old-cert connection

    result = maybe_renew(lambda: client, ident, unit_id, now(), margin_days=30)

    new = ident.certificate()
    assert result.renewed and result.serial == new.serial_number != old.serial_number
    assert result.not_after == new.not_valid_after_utc
    assert new.not_valid_after_utc - old.not_valid_after_utc > dt.timedelta(days=70)
    assert ident.key_path.read_bytes() != old_key.read_bytes()
    assert new.public_key() != old.public_key()
    # docs/hq-api-renewal.md: renewal itself revokes nothing, so a lost answer cannot lock
    # the unit out; the old certificate works until the new one is first used.
    assert post_with_files(hq, unit_id, old_cert, old_key) == 200
    assert not hq.deps.ca.is_revoked(old.serial_number)
    audit = hq.deps.audit.query(actor=unit_id, action=CERT_RENEW)
    assert [(r.role, r.object_id) for r in audit] == [("unit", f"{old.serial_number:x}")]
    assert f"new serial {new.serial_number:x}" in audit[0].detail
    # The reconnected client presents the new certificate: its first use retires the old.
    assert client.post_events([event(unit_id)]) == (1, 0)
    assert hq.deps.ca.is_revoked(old.serial_number)
    assert post_with_files(hq, unit_id, old_cert, old_key) == 403
    fresh = HQClient.from_identity(hq.url, ident)
    assert fresh.post_events([event(unit_id)]) == (1, 0)
    client.close()
    fresh.close()
    retired = hq.deps.audit.query(actor=unit_id, action=CERT_SUPERSEDED)
    assert [(r.object_id, r.detail) for r in retired] == [
        (f"{old.serial_number:x}", f"revoked on the first use of serial {new.serial_number:x}")]


def test_a_second_renewal_from_the_same_certificate_is_flagged(
        hq: HQServer, caplog: pytest.LogCaptureFixture) -> None:
    unit_id = "unit-renew-twice"
    ident = unit_with_cert(hq, unit_id, 10)
    serial = ident.certificate().serial_number
    caplog.set_level(logging.WARNING, logger="hq.api")
    # The same certificate renews twice: an answer lost on the way, or a copy of the key.
    client = HQClient.from_identity(hq.url, ident)
    client.renew(crafted_csr("valid", unit_id))
    assert not [r for r in caplog.records if "renews again" in r.getMessage()]
    client.renew(crafted_csr("valid", unit_id))
    client.close()
    flagged = [r.getMessage() for r in caplog.records if "renews again" in r.getMessage()]
    assert len(flagged) == 1 and f"serial {serial:x}" in flagged[0]
    assert len(hq.deps.audit.query(actor=unit_id, action=CERT_RENEW)) == 2


def renewed_pair(client: HQClient, unit_id: str, where: Path) -> tuple[Path, Path]:
    """Renew over ``client`` with a fresh key; the new certificate and key files."""
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, unit_id)]))
           .add_extension(x509.SubjectAlternativeName(
               [x509.UniformResourceIdentifier(UNIT_URI_PREFIX + unit_id)]), critical=False)
           .sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))
    cert_pem, _ = client.renew(csr)
    where.mkdir()
    (where / "unit.pem").write_bytes(cert_pem)
    (where / "unit.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return where / "unit.pem", where / "unit.key"


def serial_of(cert_path: Path) -> int:
    return x509.load_pem_x509_certificate(cert_path.read_bytes()).serial_number


def test_the_replaced_certificate_is_retired_once_however_often_the_new_one_is_used(
        hq: HQServer, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    unit_id = "unit-renew-retire"
    ident = unit_with_cert(hq, unit_id, 10)
    old = ident.certificate().serial_number
    client = HQClient.from_identity(hq.url, ident)
    new_cert, new_key = renewed_pair(client, unit_id, tmp_path / "new")
    caplog.set_level(logging.INFO, logger="hq")
    with ThreadPoolExecutor(4) as pool:  # concurrent first uses race for the retirement
        statuses = list(pool.map(lambda _: post_with_files(hq, unit_id, new_cert, new_key),
                                 range(8)))
    assert statuses == [200] * 8
    assert hq.deps.ca.is_revoked(old) and not hq.deps.ca.is_revoked(serial_of(new_cert))
    retired_logs = [r for r in caplog.records if "superseded" in r.getMessage()]
    assert len(retired_logs) == 1 and retired_logs[0].levelno == logging.INFO
    assert f"serial {old:x} revoked as superseded" in retired_logs[0].getMessage()
    assert len(hq.deps.audit.query(actor=unit_id, action=CERT_SUPERSEDED)) == 1
    # The kept-alive connection still presents the old certificate: refused like any revoked.
    with pytest.raises(HQRejected) as refused:
        client.post_events([event(unit_id)])
    assert (refused.value.status, refused.value.error) == (403, "unit_revoked")
    # ... and so is a renewal over it: a superseded certificate mints nothing.
    client.reconnect()
    with pytest.raises(HQRejected) as refused:
        renewed_pair(client, unit_id, tmp_path / "again")
    client.close()
    assert (refused.value.status, refused.value.error) == (403, "unit_revoked")
    assert len(hq.deps.audit.query(actor=unit_id, action=CERT_RENEW)) == 1


def test_using_one_renewal_retires_the_others_made_from_the_same_certificate(
        hq: HQServer, tmp_path: Path) -> None:
    # A lost answer (or a copy of the key) leaves two successors of one serial; the one
    # put to use first is the unit's, and nothing else renewed from that serial survives.
    unit_id = "unit-renew-siblings"
    ident = unit_with_cert(hq, unit_id, 10)
    old = ident.certificate().serial_number
    client = HQClient.from_identity(hq.url, ident)
    lost = renewed_pair(client, unit_id, tmp_path / "lost")
    used = renewed_pair(client, unit_id, tmp_path / "used")
    client.close()
    assert post_with_files(hq, unit_id, *used) == 200
    assert post_with_files(hq, unit_id, *lost) == 403
    assert post_with_files(hq, unit_id, ident.cert_path, ident.key_path) == 403
    assert post_with_files(hq, unit_id, *used) == 200
    retired = hq.deps.audit.query(actor=unit_id, action=CERT_SUPERSEDED)
    assert sorted(r.object_id for r in retired) == sorted([f"{old:x}",
                                                           f"{serial_of(lost[0]):x}"])


def test_a_ledger_from_before_retirement_is_upgraded_in_place(tmp_path: Path) -> None:
    ca = CertificateAuthority.create(tmp_path / "ca", "upgrade")
    first = UnitIdentity(tmp_path / "unit")
    first.generate_key()
    old_pem = ca.sign_unit_csr(first.csr("unit-up"), "unit-up", 10)
    with sqlite3.connect(tmp_path / "ca" / "ca.db") as conn:  # the ledger as it used to be
        conn.execute("DROP INDEX issued_replaces")
        conn.execute("ALTER TABLE issued DROP COLUMN replaces")
    upgraded = CertificateAuthority.load(tmp_path / "ca")
    assert upgraded.authenticate_unit(old_pem).retired == ()
    second = UnitIdentity(tmp_path / "renewed")
    second.generate_key()
    new_pem = upgraded.sign_unit_csr(second.csr("unit-up"), "unit-up", 90,
                                     replaces=serial_of_pem(old_pem))
    assert upgraded.authenticate_unit(new_pem).retired == (serial_of_pem(old_pem),)
    with pytest.raises(UnitRevoked):
        upgraded.authenticate_peer(old_pem)


def serial_of_pem(pem: bytes) -> int:
    return x509.load_pem_x509_certificate(pem).serial_number


def test_not_due_asks_nothing(hq: HQServer) -> None:
    ident = unit_with_cert(hq, "unit-renew-later", 10)
    serial = ident.certificate().serial_number
    result = maybe_renew(no_client, ident, "unit-renew-later", now(), margin_days=5)
    assert (result.renewed, result.serial, result.recovered) == (False, serial, "clean")


def test_too_early_is_409_and_the_identity_stays(hq: HQServer,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    unit_id = "unit-renew-early"
    ident = unit_with_cert(hq, unit_id, 300)
    before = ident.key_path.read_bytes(), ident.cert_path.read_bytes()
    caplog.set_level(logging.WARNING, logger="sync.renew")
    client = HQClient.from_identity(hq.url, ident)
    # A unit whose margin is wider than HQ's window asks too early.
    with pytest.raises(HQRejected) as refused:
        maybe_renew(lambda: client, ident, unit_id, now(), margin_days=400)
    client.close()
    assert (refused.value.status, refused.value.error) == (409, "too_early")
    assert "renewal opens" in str(refused.value)
    assert (ident.key_path.read_bytes(), ident.cert_path.read_bytes()) == before
    assert {p.name for p in ident.directory.iterdir()} == {"unit.key", "unit.pem", "hq-ca.pem"}
    warnings = [r.getMessage() for r in caplog.records if r.name == "sync.renew"]
    assert len(warnings) == 1 and "too_early" in warnings[0]


def test_a_csr_naming_another_unit_is_refused_logged_and_audited(
        hq: HQServer, caplog: pytest.LogCaptureFixture) -> None:
    unit_id = "unit-renew-thief"
    ident = unit_with_cert(hq, unit_id, 10)
    caplog.set_level(logging.WARNING, logger="hq.api")
    ident.begin_rotation()
    client = HQClient.from_identity(hq.url, ident)
    with pytest.raises(HQRejected) as refused:
        client.renew(ident.renewal_csr("unit-renew-victim"))
    client.close()
    assert (refused.value.status, refused.value.error) == (400, "csr_refused")
    logged = [r.getMessage() for r in caplog.records if r.name.startswith("hq.api")]
    assert any("POST /v1/renew from unit unit-renew-thief: 400 csr_refused" in m
               for m in logged), logged
    audit = hq.deps.audit.query(actor=unit_id, action=CERT_RENEW_REFUSED)
    assert len(audit) == 1 and "unit-renew-victim" in audit[0].detail
    assert not hq.deps.audit.query(actor=unit_id, action=CERT_RENEW)


def test_the_current_key_cannot_be_certified_again(hq: HQServer) -> None:
    unit_id = "unit-renew-samekey"
    ident = unit_with_cert(hq, unit_id, 10)
    client = HQClient.from_identity(hq.url, ident)
    with pytest.raises(HQRejected, match="reuses the key") as refused:
        client.renew(ident.csr(unit_id))
    client.close()
    assert refused.value.status == 400


def crafted_csr(case: str, unit_id: str) -> bytes:
    """A signature-valid CSR that is wrong in one way."""
    key: Any = ec.generate_private_key(ec.SECP256R1())
    names = [x509.NameAttribute(NameOID.COMMON_NAME, unit_id)]
    sans: list[x509.GeneralName] = [x509.UniformResourceIdentifier(UNIT_URI_PREFIX + unit_id)]
    algorithm: Any = hashes.SHA256()
    if case == "ed25519_key":
        key, algorithm = ed25519.Ed25519PrivateKey.generate(), None
    elif case == "weak_rsa_key":
        key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    elif case == "p192_key":
        key = ec.generate_private_key(ec.SECP192R1())
    elif case == "no_cn":
        names = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, unit_id)]
    elif case == "two_cns":
        names.append(x509.NameAttribute(NameOID.COMMON_NAME, "unit-other"))
    elif case == "extra_san":
        sans.append(x509.DNSName("hq.example"))
    builder = (x509.CertificateSigningRequestBuilder().subject_name(x509.Name(names))
               .add_extension(x509.SubjectAlternativeName(sans), critical=False))
    return builder.sign(key, algorithm).public_bytes(serialization.Encoding.PEM)


@pytest.mark.parametrize("case", ["ed25519_key", "weak_rsa_key", "p192_key", "no_cn",
                                  "two_cns", "extra_san"])
def test_odd_requests_are_refused(hq: HQServer, case: str) -> None:
    unit_id = f"unit-renew-{case.replace('_', '-')}"
    client = HQClient.from_identity(hq.url, unit_with_cert(hq, unit_id, 10))
    with pytest.raises(HQRejected) as refused:
        client.renew(crafted_csr(case, unit_id))
    client.close()
    assert (refused.value.status, refused.value.error) == (400, "csr_refused")
    assert len(hq.deps.audit.query(actor=unit_id, action=CERT_RENEW_REFUSED)) == 1


def test_a_revoked_unit_cannot_renew(hq: HQServer) -> None:
    unit_id = "unit-renew-revoked"
    ident = unit_with_cert(hq, unit_id, 10)
    before = ident.cert_path.read_bytes()
    hq.deps.ca.revoke_unit(unit_id, "test: stolen")
    client = HQClient.from_identity(hq.url, ident)
    with pytest.raises(HQRejected) as refused:
        maybe_renew(lambda: client, ident, unit_id, now(), margin_days=30)
    client.close()
    assert (refused.value.status, refused.value.error) == (403, "unit_revoked")
    assert ident.cert_path.read_bytes() == before and not ident.next_key_path.exists()
    assert not hq.deps.audit.query(actor=unit_id)


def test_no_client_certificate_is_401(hq: HQServer) -> None:
    ident = unit_with_cert(hq, "unit-renew-anon", 10)
    ident.begin_rotation()
    anonymous = HQClient(hq.url, cert=None, ca=hq.ca_pem)
    with pytest.raises(HQRejected) as refused:
        anonymous.renew(ident.renewal_csr("unit-renew-anon"))
    anonymous.close()
    assert (refused.value.status, refused.value.error) == (401, "not_a_unit")


def test_a_crash_between_the_renames_recovers_to_the_new_identity(
        hq: HQServer, monkeypatch: pytest.MonkeyPatch) -> None:
    unit_id = "unit-renew-crash"
    ident = unit_with_cert(hq, unit_id, 10)
    old_serial = ident.certificate().serial_number
    client = HQClient.from_identity(hq.url, ident)
    ident.begin_rotation()
    cert_pem, ca_pem = client.renew(ident.renewal_csr(unit_id))
    client.close()

    class PowerCut(BaseException):
        pass

    import sync.identity as identity_module

    real_rename = identity_module._rename

    def rename_once(src: Path, dst: Path) -> None:
        if dst == ident.cert_path:
            raise PowerCut  # the key is already swapped, the certificate not yet
        real_rename(src, dst)

    monkeypatch.setattr(identity_module, "_rename", rename_once)
    with pytest.raises(PowerCut):
        ident.install_renewed(cert_pem, ca_pem)
    monkeypatch.undo()
    rebooted = UnitIdentity(ident.directory)
    assert rebooted.recover() == "rolled_forward"
    hq.deps.ca.revoke(old_serial, "test: only the new certificate may work")
    restarted = HQClient.from_identity(hq.url, rebooted)
    assert restarted.post_events([event(unit_id)]) == (1, 0)
    restarted.close()


@pytest.mark.parametrize(("days_left", "open_"), [
    (90, False), (61, False), (60.01, False), (60, True), (59, True), (0.5, True)])
def test_renewal_window_table(days_left: float, open_: bool) -> None:
    moment = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    not_after = moment + dt.timedelta(days=days_left)
    assert (moment >= renewal_opens(not_after, 60)) is open_


def test_openapi_documents_renew(hq: HQServer) -> None:
    doc = requests.get(f"{hq.url}{OPENAPI_URL}", verify=str(hq.ca_pem), timeout=10).json()
    post = doc["paths"]["/v1/renew"]["post"]
    ok = post["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/RenewResponse"}
    assert {"400", "401", "403", "409", "422", "503"} <= set(post["responses"])
    assert set(doc["components"]["schemas"]["RenewResponse"]["required"]) == {"cert_pem",
                                                                              "ca_pem"}


class WithClientCert:
    """ASGI wrapper handing the app one unit certificate, as the TLS layer would."""

    def __init__(self, app: Any, cert_pem: str) -> None:
        self.app = app
        self.tls = {"client_cert_chain": [cert_pem]}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            scope = {**scope, "extensions": {**scope.get("extensions", {}), "tls": self.tls}}
        await self.app(scope, receive, send)


def test_no_renewal_input_makes_hq_fail(hq: HQServer) -> None:
    # The module-wide fuzz test reaches /v1/renew without a certificate (401 only); here
    # every generated body gets past authentication, as an enrolled unit in its window.
    ident = unit_with_cert(hq, "unit-renew-fuzz", 10)
    app = WithClientCert(create_app(hq.deps), ident.cert_path.read_text())
    schema = schemathesis.openapi.from_asgi("/v1/openapi.json", app)
    operations = [r.ok() for r in schema.get_all_operations()]  # type: ignore[union-attr]
    [renew] = [op for op in operations if op.path == "/v1/renew"]
    statuses: list[int] = []

    @given(case=renew.as_strategy())
    @settings(max_examples=60, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case: Any) -> None:
        statuses.append(case.call().status_code)

    check()
    assert statuses and all(400 <= s < 500 for s in statuses), sorted(set(statuses))
    assert not hq.deps.audit.query(actor="unit-renew-fuzz", action=CERT_RENEW)
