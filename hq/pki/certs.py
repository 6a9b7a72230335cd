"""Certificate plumbing shared by HQ's CA: errors, unit ids, parsing, checks, private files."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

UNIT_URI_PREFIX = "urn:counterunit:unit:"
# Kept in step with sync/identity.py (sync must not import hq).
UNIT_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
MIN_RSA_BITS = 2048
ACCEPTED_CURVES: tuple[type[ec.EllipticCurve], ...] = (ec.SECP256R1, ec.SECP384R1)


class CAError(Exception):
    """Base of every error raised by the CA (expected failures, never a bug)."""


class InvalidUnitId(CAError):
    """A unit id that does not fit the allowed pattern."""


class CSRRefused(CAError):
    """A certificate request the CA will not sign; the message says why."""


class NotAUnitCertificate(CAError):
    """A certificate that does not identify exactly one unit of this CA."""


class UnitRevoked(CAError):
    """A unit certificate that HQ has revoked."""


def validate_unit_id(unit_id: str) -> str:
    """Return ``unit_id`` if it is 1-64 chars of ``A-Za-z0-9._-`` starting alphanumeric."""
    if not isinstance(unit_id, str) or not UNIT_ID_PATTERN.fullmatch(unit_id):
        raise InvalidUnitId(
            f"invalid unit id {unit_id!r}: use 1-64 characters A-Z a-z 0-9 . _ -, "
            "starting with a letter or digit"
        )
    return unit_id


def unit_id_from_cert(cert: x509.Certificate | bytes | str) -> str:
    """The unit id a unit certificate names (CN and SAN URI must agree), else NotAUnitCertificate.

    Accepts a parsed certificate, DER (as from ``getpeercert(binary_form=True)``) or PEM.
    """
    if not isinstance(cert, x509.Certificate):
        cert = load_certificate(cert)
    cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if len(cns) != 1:
        raise NotAUnitCertificate(f"expected exactly one subject CN, found {len(cns)}")
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        raise NotAUnitCertificate("no subjectAltName: not a counterunit unit certificate") from None
    uris = san.get_values_for_type(x509.UniformResourceIdentifier)
    if len(list(san)) != 1 or len(uris) != 1 or not uris[0].startswith(UNIT_URI_PREFIX):
        raise NotAUnitCertificate(
            f"subjectAltName must be exactly one {UNIT_URI_PREFIX}<unit id> URI, got {list(san)}")
    unit_id = uris[0].removeprefix(UNIT_URI_PREFIX)
    if cns[0].value != unit_id:
        raise NotAUnitCertificate(
            f"subject CN {cns[0].value!r} and SAN {uris[0]!r} name different units")
    try:
        return validate_unit_id(unit_id)
    except InvalidUnitId as exc:
        raise NotAUnitCertificate(str(exc)) from None


def load_certificate(data: bytes | str) -> x509.Certificate:
    """Parse a PEM or DER certificate; ``NotAUnitCertificate`` if it is neither."""
    raw = data.encode() if isinstance(data, str) else data
    try:
        if raw.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_certificate(raw)
        return x509.load_der_x509_certificate(raw)
    except ValueError as exc:
        raise NotAUnitCertificate(f"not a certificate: {exc}") from None


def write_new_file(path: Path, data: bytes, mode: int) -> None:
    """Write ``path`` atomically with ``mode``; raise FileExistsError rather than replace it."""
    # A random temp name: a stale temp file from a crash must not look like "key exists".
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)  # the umask must not widen or narrow the mode
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(tmp, path)  # link() never replaces: a concurrent writer loses instead of clobbers
    finally:
        tmp.unlink(missing_ok=True)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def read_private_file(path: Path) -> bytes:
    """Read a private key, refusing one that group or others can access."""
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise CAError(f"{path} has mode {mode:o}; private keys must be 600 (chmod 600 it)")
    return path.read_bytes()


def parse_csr(csr_pem: bytes | str) -> x509.CertificateSigningRequest:
    raw = csr_pem.encode() if isinstance(csr_pem, str) else csr_pem
    try:
        csr = x509.load_pem_x509_csr(raw)
    except ValueError as exc:
        raise CSRRefused(f"not a PEM certificate request: {exc}") from None
    if not csr.is_signature_valid:
        raise CSRRefused("the request's signature does not verify with the key it carries")
    return csr


def check_claims(csr: x509.CertificateSigningRequest, unit_id: str) -> None:
    cns = [attr.value for attr in csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    if cns != [unit_id]:
        raise CSRRefused(f"the request's subject CN {cns} does not name unit {unit_id!r}")
    try:
        names = list(csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)
    except x509.ExtensionNotFound:
        return
    except ValueError as exc:
        raise CSRRefused(f"the request's extensions are malformed: {exc}") from None
    if names != [x509.UniformResourceIdentifier(UNIT_URI_PREFIX + unit_id)]:
        raise CSRRefused(f"the request's subjectAltName {names} claims more than unit {unit_id!r}")


def check_public_key(key: object) -> None:
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            raise CSRRefused(f"RSA key of {key.key_size} bits is too weak; "
                             f"at least {MIN_RSA_BITS} bits are required")
        return
    if isinstance(key, ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, ACCEPTED_CURVES):
            raise CSRRefused(f"curve {key.curve.name} is not accepted; use P-256 or P-384")
        return
    raise CSRRefused(f"{type(key).__name__} keys are not accepted; use EC P-256")


def key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=not cert_sign, content_commitment=False,
                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                         key_cert_sign=cert_sign, crl_sign=cert_sign, encipher_only=False,
                         decipher_only=False)


def ec_numbers(cert: x509.Certificate) -> object:
    public = cert.public_key()
    return public.public_numbers() if isinstance(public, ec.EllipticCurvePublicKey) else None
