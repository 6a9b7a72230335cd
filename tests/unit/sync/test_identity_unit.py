"""The unit's identity: key made on the unit (0600, never replaced), CSR, install, renewal."""

from __future__ import annotations

import datetime as dt
import ssl
import stat
from pathlib import Path

import pytest
from cryptography import x509

from hq.pki.ca import CertificateAuthority, unit_id_from_cert
from sync.identity import (
    CertificateRejected,
    IdentityError,
    KeyExists,
    NoKey,
    NotEnrolled,
    UnitIdentity,
)

T0 = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> CertificateAuthority:
    return CertificateAuthority.create(tmp_path_factory.mktemp("ca"), "unit-tests", now=T0)


@pytest.fixture
def unit(tmp_path: Path) -> UnitIdentity:
    identity = UnitIdentity(tmp_path / "identity")
    identity.generate_key()
    return identity


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_key_is_0600_and_never_overwritten(unit: UnitIdentity) -> None:
    assert mode(unit.key_path) == 0o600
    before = unit.key_path.read_bytes()
    with pytest.raises(KeyExists, match="refusing to replace"):
        unit.generate_key()
    assert unit.key_path.read_bytes() == before
    assert [p.name for p in unit.directory.iterdir()] == ["unit.key"]  # no temp file left


def test_key_mode_ignores_a_permissive_umask(tmp_path: Path) -> None:
    import os

    old = os.umask(0)
    try:
        identity = UnitIdentity(tmp_path / "id")
        identity.generate_key()
    finally:
        os.umask(old)
    assert mode(identity.key_path) == 0o600


def test_csr_names_the_unit_and_ca_signs_it(unit: UnitIdentity, ca: CertificateAuthority) -> None:
    csr = x509.load_pem_x509_csr(unit.csr("unit-7"))
    assert csr.is_signature_valid
    assert csr.subject.rfc4514_string() == "CN=unit-7"
    assert unit_id_from_cert(ca.sign_unit_csr(unit.csr("unit-7"), "unit-7", now=T0)) == "unit-7"


@pytest.mark.parametrize("bad", ["", "../x", "a" * 65, "unit 7"])
def test_csr_refuses_bad_unit_id(unit: UnitIdentity, bad: str) -> None:
    with pytest.raises(IdentityError, match="invalid unit id"):
        unit.csr(bad)


def test_csr_without_key_and_context_before_enrollment(tmp_path: Path) -> None:
    identity = UnitIdentity(tmp_path)
    with pytest.raises(NoKey):
        identity.csr("unit-1")
    with pytest.raises(NotEnrolled):
        identity.client_ssl_context()
    with pytest.raises(NotEnrolled):
        identity.needs_renewal(T0)


def test_install_pins_ca_and_builds_a_pinned_context(unit: UnitIdentity,
                                                     ca: CertificateAuthority) -> None:
    unit.install(ca.sign_unit_csr(unit.csr("unit-1"), "unit-1"), ca.cert_pem)
    assert unit.is_enrolled()
    assert unit.ca_path.read_bytes() == ca.cert_pem
    ctx = unit.client_ssl_context()
    assert ctx.minimum_version == ssl.TLSVersion.TLSv1_2
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    # Only the pinned CA is trusted: nothing from the system store.
    assert [c["subject"] for c in ctx.get_ca_certs()] == [
        ((("commonName", "counterunit HQ CA unit-tests"),),)]


def test_install_refuses_mismatches(unit: UnitIdentity, ca: CertificateAuthority,
                                    tmp_path: Path) -> None:
    other = UnitIdentity(tmp_path / "other")
    other.generate_key()
    rogue = CertificateAuthority.create(tmp_path / "rogue", "rogue")
    good = ca.sign_unit_csr(unit.csr("unit-1"), "unit-1")
    cases = [
        (ca.sign_unit_csr(other.csr("unit-1"), "unit-1"), ca.cert_pem, "not for this unit's key"),
        (good, rogue.cert_pem, "not signed by"),
        (b"garbage", ca.cert_pem, "not a PEM"),
        (ca.sign_unit_csr(unit.csr("unit-1"), "unit-1", 1, now=T0 - dt.timedelta(days=9)),
         ca.cert_pem, "not now"),
    ]
    for cert_pem, ca_pem, words in cases:
        with pytest.raises(CertificateRejected, match=words):
            unit.install(cert_pem, ca_pem)
    assert not unit.is_enrolled()
    unit.install(good, ca.cert_pem)
    # Renewal from a different CA would silently re-pin: refused, old files kept.
    with pytest.raises(CertificateRejected, match="pinned"):
        unit.install(rogue.sign_unit_csr(unit.csr("unit-1"), "unit-1"), rogue.cert_pem)
    assert unit.cert_path.read_bytes() == good and unit.ca_path.read_bytes() == ca.cert_pem


def test_renewal_replaces_certificate_keeps_key(unit: UnitIdentity,
                                               ca: CertificateAuthority) -> None:
    key = unit.key_path.read_bytes()
    unit.install(ca.sign_unit_csr(unit.csr("unit-1"), "unit-1", 10, now=T0), ca.cert_pem, now=T0)
    unit.install(ca.sign_unit_csr(unit.csr("unit-1"), "unit-1", 90, now=T0), ca.cert_pem, now=T0)
    assert unit.certificate().not_valid_after_utc == T0 + dt.timedelta(days=90)
    assert unit.key_path.read_bytes() == key and mode(unit.key_path) == 0o600


@pytest.mark.parametrize(("days_after_issue", "margin_days", "expected"), [
    (0, 30, False),
    (59, 30, False),
    (60, 30, True),   # exactly at the margin
    (89, 30, True),
    (91, 30, True),   # already expired
    (89, 0, False),
    (1, 90, True),
])
def test_needs_renewal_table(unit: UnitIdentity, ca: CertificateAuthority,
                             days_after_issue: int, margin_days: int, expected: bool) -> None:
    unit.install(ca.sign_unit_csr(unit.csr("unit-1"), "unit-1", 90, now=T0), ca.cert_pem, now=T0)
    now = T0 + dt.timedelta(days=days_after_issue)
    assert unit.needs_renewal(now, margin_days) is expected


def test_key_readable_by_others_is_refused(unit: UnitIdentity, ca: CertificateAuthority) -> None:
    unit.key_path.chmod(0o644)
    with pytest.raises(IdentityError, match="600"):
        unit.csr("unit-1")
