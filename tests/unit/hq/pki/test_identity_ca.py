"""HQ's CA: creation and persistence, CSR refusals, unit id parsing, revocation."""

from __future__ import annotations

import datetime as dt
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hq.pki.ca import (
    CAError,
    CertificateAuthority,
    CSRRefused,
    NotAUnitCertificate,
    UnitRevoked,
    load_certificate,
    unit_id_from_cert,
)

T0 = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)
URI = "urn:counterunit:unit:"


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> CertificateAuthority:
    return CertificateAuthority.create(tmp_path_factory.mktemp("ca"), "test")


def make_csr(key: object = None, cns: tuple[str, ...] = ("unit-a",),
             sans: list[x509.GeneralName] | None = None) -> bytes:
    private = key if key is not None else ec.generate_private_key(ec.SECP256R1())
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn) for cn in cns]))
    if sans is not None:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(private, None if isinstance(private, ed25519.Ed25519PrivateKey)  # type: ignore[arg-type]
                        else hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def tamper_signature(pem: bytes) -> bytes:
    csr = x509.load_pem_x509_csr(pem)
    der = bytearray(csr.public_bytes(serialization.Encoding.DER))
    der[-3] ^= 0x01  # inside the signature BIT STRING at the end
    return x509.load_der_x509_csr(bytes(der)).public_bytes(serialization.Encoding.PEM)


def test_create_writes_key_0600_and_load_round_trips(tmp_path: Path) -> None:
    ca = CertificateAuthority.create(tmp_path / "ca", "branch-net")
    assert stat.S_IMODE((tmp_path / "ca" / "ca.key").stat().st_mode) == 0o600
    assert ca.cert.subject.rfc4514_string() == "CN=counterunit HQ CA branch-net"
    assert ca.cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    again = CertificateAuthority.load(tmp_path / "ca")
    assert again.cert == ca.cert
    pem = again.sign_unit_csr(make_csr(), "unit-a")
    x509.load_pem_x509_certificate(pem).verify_directly_issued_by(ca.cert)


def test_create_never_overwrites_an_existing_ca(tmp_path: Path) -> None:
    first = CertificateAuthority.create(tmp_path, "one")
    key_before = (tmp_path / "ca.key").read_bytes()
    with pytest.raises(CAError, match="already exists"):
        CertificateAuthority.create(tmp_path, "two")
    assert (tmp_path / "ca.key").read_bytes() == key_before
    assert CertificateAuthority.load(tmp_path).cert == first.cert


def test_load_refuses_key_readable_by_others_and_missing_ca(tmp_path: Path) -> None:
    CertificateAuthority.create(tmp_path / "ca", "x")
    (tmp_path / "ca" / "ca.key").chmod(0o644)
    with pytest.raises(CAError, match="600"):
        CertificateAuthority.load(tmp_path / "ca")
    with pytest.raises(CAError, match="no CA"):
        CertificateAuthority.load(tmp_path / "empty")


def test_unit_certificate_names_the_unit_and_is_client_only(ca: CertificateAuthority) -> None:
    cert = x509.load_pem_x509_certificate(ca.sign_unit_csr(make_csr(), "unit-a", 30, now=T0))
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "unit-a"
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == [URI + "unit-a"]
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert cert.not_valid_after_utc == T0 + dt.timedelta(days=30)
    assert unit_id_from_cert(cert) == "unit-a"


def test_san_in_csr_matching_the_unit_is_accepted(ca: CertificateAuthority) -> None:
    csr = make_csr(sans=[x509.UniformResourceIdentifier(URI + "unit-a")])
    assert unit_id_from_cert(ca.sign_unit_csr(csr, "unit-a")) == "unit-a"


CSR_CASES: list[tuple[str, Callable[[], bytes], str, str]] = [
    ("cn of another unit", lambda: make_csr(cns=("unit-b",)), "unit-a", "does not name"),
    ("two cns", lambda: make_csr(cns=("unit-a", "unit-b")), "unit-a", "does not name"),
    ("no cn", lambda: make_csr(cns=()), "unit-a", "does not name"),
    ("san of another unit", lambda: make_csr(sans=[x509.UniformResourceIdentifier(URI + "unit-b")]),
     "unit-a", "claims more"),
    ("extra dns san", lambda: make_csr(sans=[x509.UniformResourceIdentifier(URI + "unit-a"),
                                             x509.DNSName("hq.example")]), "unit-a", "claims more"),
    ("bad signature", lambda: tamper_signature(make_csr()), "unit-a", "signature"),
    ("rsa 1024", lambda: make_csr(rsa.generate_private_key(65537, 1024)), "unit-a", "too weak"),
    ("secp256k1 curve", lambda: make_csr(ec.generate_private_key(ec.SECP256K1())), "unit-a",
     "not accepted"),
    ("ed25519", lambda: make_csr(ed25519.Ed25519PrivateKey.generate()), "unit-a", "not accepted"),
    ("not pem", lambda: b"hello", "unit-a", "not a PEM"),
    ("bad unit id", lambda: make_csr(cns=("../x",)), "../x", "invalid unit id"),
]


@pytest.mark.parametrize(("make", "unit_id", "words"), [c[1:] for c in CSR_CASES],
                         ids=[c[0] for c in CSR_CASES])
def test_csr_refusals(ca: CertificateAuthority, make: Callable[[], bytes], unit_id: str,
                      words: str) -> None:
    with pytest.raises(CSRRefused, match=words):
        ca.sign_unit_csr(make(), unit_id)


def test_rsa_2048_is_accepted(ca: CertificateAuthority) -> None:
    pem = ca.sign_unit_csr(make_csr(rsa.generate_private_key(65537, 2048)), "unit-a")
    assert unit_id_from_cert(pem) == "unit-a"


def forge(cns: list[str], sans: list[x509.GeneralName] | None) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, c) for c in cns]))
               .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "self")]))
               .public_key(key.public_key()).serial_number(1)
               .not_valid_before(T0).not_valid_after(T0 + dt.timedelta(days=1)))
    if sans is not None:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(key, hashes.SHA256())


@pytest.mark.parametrize(("cns", "sans", "words"), [
    (["unit-a"], None, "no subjectAltName"),
    (["unit-a"], [x509.UniformResourceIdentifier(URI + "unit-b")], "different units"),
    (["unit-a", "unit-b"], [x509.UniformResourceIdentifier(URI + "unit-a")], "exactly one"),
    (["unit-a"], [x509.DNSName("unit-a")], "exactly one"),
    (["unit-a"], [x509.UniformResourceIdentifier(URI + "unit-a"), x509.DNSName("x")],
     "exactly one"),
    (["../etc"], [x509.UniformResourceIdentifier(URI + "../etc")], "invalid unit id"),
])
def test_unit_id_from_cert_refuses_anything_else(cns: list[str],
                                                 sans: list[x509.GeneralName] | None,
                                                 words: str) -> None:
    with pytest.raises(NotAUnitCertificate, match=words):
        unit_id_from_cert(forge(cns, sans))


def test_unit_id_from_cert_accepts_der_and_pem_and_refuses_garbage(
        ca: CertificateAuthority) -> None:
    pem = ca.sign_unit_csr(make_csr(), "unit-a")
    der = load_certificate(pem).public_bytes(serialization.Encoding.DER)
    assert unit_id_from_cert(der) == unit_id_from_cert(pem.decode()) == "unit-a"
    with pytest.raises(NotAUnitCertificate, match="not a certificate"):
        unit_id_from_cert(b"\x30\x03junk")
    with pytest.raises(NotAUnitCertificate, match="no subjectAltName"):
        unit_id_from_cert(ca.cert)  # the CA's own certificate names no unit


def test_server_certificate_is_not_a_unit_certificate(ca: CertificateAuthority) -> None:
    creds = ca.issue_server_cert(["localhost", "127.0.0.1"])
    cert = load_certificate(creds.cert_pem)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    with pytest.raises(NotAUnitCertificate):
        ca.authenticate_peer(creds.cert_pem)


def test_revocation_persists_and_authenticate_peer_refuses(tmp_path: Path) -> None:
    ca = CertificateAuthority.create(tmp_path, "rev")
    pem = ca.sign_unit_csr(make_csr(), "unit-a")
    serial = load_certificate(pem).serial_number
    assert not ca.is_revoked(serial)
    assert ca.authenticate_peer(pem) == "unit-a"
    ca.revoke(serial, "stolen")
    ca.revoke(serial, "twice is harmless")
    reloaded = CertificateAuthority.load(tmp_path)
    assert reloaded.is_revoked(serial)
    with pytest.raises(UnitRevoked, match="revoked"):
        reloaded.authenticate_peer(pem)
    with pytest.raises(CAError, match="not issued"):
        reloaded.revoke(serial + 1)


def test_revoke_unit_revokes_every_certificate_of_that_unit(ca: CertificateAuthority) -> None:
    serials = {load_certificate(ca.sign_unit_csr(make_csr(cns=("unit-r",)), "unit-r"))
               .serial_number for _ in range(2)}
    other = load_certificate(ca.sign_unit_csr(make_csr(cns=("unit-s",)), "unit-s")).serial_number
    assert set(ca.revoke_unit("unit-r")) == serials
    assert all(ca.is_revoked(s) for s in serials)
    assert not ca.is_revoked(other)


def test_authenticate_peer_refuses_foreign_missing_and_expired(
        ca: CertificateAuthority, tmp_path: Path) -> None:
    rogue = CertificateAuthority.create(tmp_path, "rogue")
    with pytest.raises(NotAUnitCertificate, match="not issued by this CA"):
        ca.authenticate_peer(rogue.sign_unit_csr(make_csr(), "unit-a"))
    with pytest.raises(NotAUnitCertificate, match="no client certificate"):
        ca.authenticate_peer(None)
    old = ca.sign_unit_csr(make_csr(), "unit-a", 1, now=T0 - dt.timedelta(days=10))
    with pytest.raises(NotAUnitCertificate, match="not valid now"):
        ca.authenticate_peer(old, now=T0)


def test_unit_certificate_never_outlives_the_ca(tmp_path: Path) -> None:
    short = CertificateAuthority.create(tmp_path, "short", validity_days=10, now=T0)
    cert = load_certificate(short.sign_unit_csr(make_csr(), "unit-a", 365, now=T0))
    assert cert.not_valid_after_utc == short.cert.not_valid_after_utc
