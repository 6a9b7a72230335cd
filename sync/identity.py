"""The unit's own TLS identity: a key made on the unit, HQ's certificate for it, HQ's pinned CA.

Files in the identity directory: ``unit.key`` (0600, written once, never replaced silently),
``unit.pem`` (the certificate HQ issued) and ``hq-ca.pem`` (the pinned CA). The private key
never leaves this directory; HQ sees only the CSR.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import ssl
import tempfile
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

log = logging.getLogger(__name__)

UNIT_URI_PREFIX = "urn:counterunit:unit:"
# Kept in step with hq/ca.py (sync must not import hq).
UNIT_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
KEY_FILE, CERT_FILE, CA_FILE = "unit.key", "unit.pem", "hq-ca.pem"


class IdentityError(Exception):
    """Base of every expected failure of the unit identity."""


class KeyExists(IdentityError):
    """A key is already there; generating another would orphan the installed certificate."""


class NoKey(IdentityError):
    """No key yet: call :meth:`UnitIdentity.generate_key` first."""


class NotEnrolled(IdentityError):
    """No certificate or pinned CA installed yet."""


class CertificateRejected(IdentityError):
    """A certificate/CA pair from HQ that the unit refuses to install."""


class UnitIdentity:
    """Key pair, certificate and pinned HQ CA of this unit, kept in one directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.key_path = self.directory / KEY_FILE
        self.cert_path = self.directory / CERT_FILE
        self.ca_path = self.directory / CA_FILE

    def has_key(self) -> bool:
        """Whether the unit key exists."""
        return self.key_path.exists()

    def is_enrolled(self) -> bool:
        """Whether a certificate and a pinned CA are installed."""
        return self.cert_path.exists() and self.ca_path.exists()

    def generate_key(self) -> None:
        """Generate the EC P-256 key on the unit and write it 0600; refuse if one exists."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        try:
            _write_file(self.key_path, pem, 0o600, replace=False)
        except FileExistsError:
            raise KeyExists(f"{self.key_path} already exists; refusing to replace the unit key "
                            "(delete it by hand to re-enroll from scratch)") from None
        log.info("generated unit key %s", self.key_path)

    def csr(self, unit_id: str) -> bytes:
        """A PEM certificate request for ``unit_id`` (CN and SAN URI), signed by our key."""
        if not UNIT_ID_PATTERN.fullmatch(unit_id):
            raise IdentityError(f"invalid unit id {unit_id!r}: use 1-64 characters "
                                "A-Z a-z 0-9 . _ -, starting with a letter or digit")
        uri = x509.UniformResourceIdentifier(UNIT_URI_PREFIX + unit_id)
        request = (
            x509.CertificateSigningRequestBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, unit_id)]))
            .add_extension(x509.SubjectAlternativeName([uri]), critical=False)
            .sign(self._key(), hashes.SHA256())
        )
        return request.public_bytes(serialization.Encoding.PEM)

    def install(self, cert_pem: bytes, ca_pem: bytes, *, now: dt.datetime | None = None) -> None:
        """Install HQ's certificate for our key and pin HQ's CA.

        Refuses a certificate for another key, one not signed by ``ca_pem``, one not valid
        at ``now``, and (on renewal) a CA different from the one already pinned.
        """
        try:
            cert = x509.load_pem_x509_certificate(cert_pem)
            ca = x509.load_pem_x509_certificate(ca_pem)
        except ValueError as exc:
            raise CertificateRejected(f"HQ sent something that is not a PEM certificate: {exc}"
                                      ) from None
        if cert.public_key() != self._key().public_key():
            raise CertificateRejected("the certificate is not for this unit's key")
        try:
            cert.verify_directly_issued_by(ca)
        except (ValueError, TypeError, InvalidSignature):
            raise CertificateRejected("the certificate is not signed by the given HQ CA") from None
        moment = _utc(now)
        if not cert.not_valid_before_utc <= moment <= cert.not_valid_after_utc:
            raise CertificateRejected(
                f"the certificate is valid {cert.not_valid_before_utc.isoformat()} to "
                f"{cert.not_valid_after_utc.isoformat()}, not now ({moment.isoformat()})")
        if self.ca_path.exists():
            pinned = x509.load_pem_x509_certificate(self.ca_path.read_bytes())
            if pinned != ca:
                raise CertificateRejected("HQ presented a CA different from the pinned one; "
                                          "refusing to re-pin (re-enroll from scratch to change)")
        else:
            _write_file(self.ca_path, ca.public_bytes(serialization.Encoding.PEM), 0o644,
                        replace=False)
        _write_file(self.cert_path, cert.public_bytes(serialization.Encoding.PEM), 0o644,
                    replace=True)
        log.info("installed unit certificate serial %x, valid until %s", cert.serial_number,
                 cert.not_valid_after_utc.isoformat())

    def certificate(self) -> x509.Certificate:
        """The installed certificate; :class:`NotEnrolled` if there is none."""
        try:
            return x509.load_pem_x509_certificate(self.cert_path.read_bytes())
        except FileNotFoundError:
            raise NotEnrolled(f"no certificate in {self.directory}: enroll first") from None

    def needs_renewal(self, now: dt.datetime | None = None, margin_days: float = 30) -> bool:
        """Whether the certificate expires within ``margin_days`` of ``now`` (or already has)."""
        expiry = self.certificate().not_valid_after_utc
        return _utc(now) + dt.timedelta(days=margin_days) >= expiry

    def client_ssl_context(self) -> ssl.SSLContext:
        """TLS 1.2+ client context: trusts only the pinned HQ CA, presents our certificate."""
        if not self.is_enrolled():
            raise NotEnrolled(f"no certificate or pinned CA in {self.directory}: enroll first")
        self._key()  # refuses a key file others can read before it goes into OpenSSL
        # No load_default_certs(): a public CA must not be able to vouch for "HQ".
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.verify_flags |= ssl.VERIFY_X509_STRICT
        ctx.load_verify_locations(cafile=self.ca_path)
        ctx.load_cert_chain(self.cert_path, self.key_path)
        return ctx

    def _key(self) -> ec.EllipticCurvePrivateKey:
        try:
            mode = self.key_path.stat().st_mode & 0o777
        except FileNotFoundError:
            raise NoKey(f"no unit key in {self.directory}: generate one first") from None
        if mode & 0o077:
            raise IdentityError(f"{self.key_path} has mode {mode:o}; it must be 600")
        try:
            key = serialization.load_pem_private_key(self.key_path.read_bytes(), password=None)
        except ValueError as exc:
            raise IdentityError(f"{self.key_path} is not a PEM private key: {exc}") from None
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise IdentityError(f"{self.key_path} is not an EC private key")
        return key


def _utc(now: dt.datetime | None) -> dt.datetime:
    if now is None:
        return dt.datetime.now(dt.UTC)
    if now.tzinfo is None:
        raise ValueError("naive datetime: pass an aware UTC time")
    return now.astimezone(dt.UTC)


def _write_file(path: Path, data: bytes, mode: int, *, replace: bool) -> None:
    """Write atomically (temp, fsync, link/rename, fsync dir); FileExistsError if not replace."""
    # A random temp name: a stale temp file from a crash must not look like "key exists".
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)  # the umask must not change the mode
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # link() never replaces an existing file
    finally:
        tmp.unlink(missing_ok=True)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
