"""Certificate renewal that succeeds, with key rotation, over real mutual TLS on loopback.

Also the retirement of replaced certificates at the first use of their successor, and
recovery from a crash mid-install. Refusals are in test_renewal_refusals.py; the HQ and
the helpers in tests/helpers/hq/renewal.py.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from hq.api.units.auth import CERT_SUPERSEDED
from hq.api.units.certs import CERT_RENEW, renewal_opens
from hq.pki.ca import CertificateAuthority, UnitRevoked
from sync.hq_client import HQClient, HQRejected
from sync.identity import UNIT_URI_PREFIX, UnitIdentity
from sync.renew import maybe_renew
from tests.helpers.hq.renewal import (
    crafted_csr,
    event,
    hq_fixture,
    now,
    post_with_files,
    serial_of,
    unit_with_cert,
)
from tests.helpers.hq.server import HQServer

hq = hq_fixture()


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
