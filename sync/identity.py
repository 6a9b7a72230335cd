"""The unit's own TLS identity: a key made on the unit, HQ's certificate for it, HQ's pinned CA.

Files in the identity directory: ``unit.key`` (0600, written once, never replaced silently),
``unit.pem`` (the certificate HQ issued) and ``hq-ca.pem`` (the pinned CA). The private key
never leaves this directory; HQ sees only the CSR.

Renewal rotates the key. ``unit.key.next`` (the new key) and ``unit.pem.next`` (HQ's
certificate for it) are written beside the working pair, which stays untouched until both are
durable; then ``unit.key.next`` is renamed over ``unit.key`` and ``unit.pem.next`` over
``unit.pem``. A power cut between those two renames leaves a new key with the old certificate,
so :meth:`UnitIdentity.recover` (run at start, and by every rotation step) finishes the second
rename: ``unit.pem.next`` present and matching ``unit.key`` means "roll forward". In every other
state the old pair is still whole and any leftover pending file is discarded.
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

from sync.durable import fsync_dir

log = logging.getLogger(__name__)

UNIT_URI_PREFIX = "urn:counterunit:unit:"
# Kept in step with hq/pki/ca.py (sync must not import hq).
UNIT_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
KEY_FILE, CERT_FILE, CA_FILE = "unit.key", "unit.pem", "hq-ca.pem"
NEXT_KEY_FILE, NEXT_CERT_FILE = "unit.key.next", "unit.pem.next"


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


class NoRotation(IdentityError):
    """No key rotation in progress: call :meth:`UnitIdentity.begin_rotation` first."""


class UnitIdentity:
    """Key pair, certificate and pinned HQ CA of this unit, kept in one directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.key_path = self.directory / KEY_FILE
        self.cert_path = self.directory / CERT_FILE
        self.ca_path = self.directory / CA_FILE
        self.next_key_path = self.directory / NEXT_KEY_FILE
        self.next_cert_path = self.directory / NEXT_CERT_FILE

    def has_key(self) -> bool:
        """Whether the unit key exists."""
        return self.key_path.exists()

    def is_enrolled(self) -> bool:
        """Whether a certificate and a pinned CA are installed."""
        return self.cert_path.exists() and self.ca_path.exists()

    def generate_key(self) -> None:
        """Generate the EC P-256 key on the unit and write it 0600; refuse if one exists."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            _write_file(self.key_path, _new_key_pem(), 0o600, replace=False)
        except FileExistsError:
            raise KeyExists(f"{self.key_path} already exists; refusing to replace the unit key "
                            "(delete it by hand to re-enroll from scratch)") from None
        log.info("generated unit key %s", self.key_path)

    def csr(self, unit_id: str) -> bytes:
        """A PEM certificate request for ``unit_id`` (CN and SAN URI), signed by our key."""
        return _csr(unit_id, self._key())

    def install(self, cert_pem: bytes, ca_pem: bytes, *, now: dt.datetime | None = None) -> None:
        """Install HQ's certificate for our key and pin HQ's CA.

        Refuses a certificate for another key, one not signed by ``ca_pem``, one not valid
        at ``now``, and (on renewal) a CA different from the one already pinned.
        """
        cert, ca = _parse_pair(cert_pem, ca_pem)
        if cert.public_key() != self._key().public_key():
            raise CertificateRejected("the certificate is not for this unit's key")
        _check_issued(cert, ca, now)
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

    # ---- key rotation (renewal) ------------------------------------------------------------

    def recover(self) -> str:
        """Finish or undo a rotation that a crash interrupted; return what was done.

        ``"clean"``: nothing was pending. ``"rolled_forward"``: a new key and its certificate
        were both durable, so the swap was completed. ``"discarded"``: a pending key or
        certificate that never became a pair was removed; the old pair is whole. Call at
        start-up (before building an HQ client); not while another process rotates this
        identity. Raises :class:`IdentityError` if the installed key and certificate do not
        match afterwards (nothing this module writes can cause that).
        """
        outcome = "discarded" if self._remove_stale_temps() else "clean"
        if self.next_cert_path.exists():
            if self.next_key_path.exists() and _matches(self.next_cert_path, self.next_key_path):
                self._commit()  # crashed after both were durable, before the key rename
                outcome = "rolled_forward"
            elif not self.next_key_path.exists() and self.key_path.exists() and _matches(
                    self.next_cert_path, self.key_path):
                _rename(self.next_cert_path, self.cert_path)  # crashed between the renames
                outcome = "rolled_forward"
            else:
                _unlink(self.next_cert_path)
                outcome = "discarded"
        if self.next_key_path.exists():  # a key HQ never certified (or whose answer was lost)
            _unlink(self.next_key_path)
            outcome = "discarded"
        if outcome == "rolled_forward":
            log.warning("completed a key rotation interrupted by a crash: now using "
                        "certificate serial %x", self.certificate().serial_number)
        elif outcome == "discarded":
            log.info("discarded an unfinished key rotation in %s; the current key and "
                     "certificate stay in use", self.directory)
        if self.is_enrolled() and self.has_key() and not _matches(self.cert_path,
                                                                 self.key_path):
            raise IdentityError(f"{self.cert_path} is not the certificate of {self.key_path}; "
                                "re-enroll this unit")
        return outcome

    def begin_rotation(self) -> None:
        """Start a key rotation: a fresh key in ``unit.key.next`` (0600).

        The working key and certificate stay in place (and in use) until
        :meth:`install_renewed` has HQ's certificate for the new key. Any earlier unfinished
        rotation is settled first (see :meth:`recover`), so every attempt gets a new key.
        """
        self.recover()
        if not self.is_enrolled():
            raise NotEnrolled(f"no certificate in {self.directory}: enroll before renewing")
        _write_file(self.next_key_path, _new_key_pem(), 0o600, replace=False)
        log.debug("generated the next unit key %s", self.next_key_path)

    def renewal_csr(self, unit_id: str) -> bytes:
        """A PEM certificate request for ``unit_id`` signed by the new (pending) key."""
        try:
            key = _load_key(self.next_key_path)
        except FileNotFoundError:
            raise NoRotation(f"no key rotation in progress in {self.directory}: "
                             "call begin_rotation() first") from None
        return _csr(unit_id, key)

    def install_renewed(self, cert_pem: bytes, ca_pem: bytes, *,
                        now: dt.datetime | None = None) -> x509.Certificate:
        """Swap in the new key and HQ's certificate for it, durably; return the certificate.

        Refuses (:class:`CertificateRejected`, nothing changed) a certificate that is not for
        the pending key, not signed by the pinned CA, not valid at ``now``, or that names
        something else than the current certificate does, and a CA other than the pinned one.
        """
        try:
            next_key = _load_key(self.next_key_path)
        except FileNotFoundError:
            raise NoRotation(f"no key rotation in progress in {self.directory}: "
                             "call begin_rotation() first") from None
        cert, ca = _parse_pair(cert_pem, ca_pem)
        current = self.certificate()
        pinned = x509.load_pem_x509_certificate(self.ca_path.read_bytes())
        if ca != pinned:
            raise CertificateRejected("HQ presented a CA different from the pinned one; "
                                      "refusing to re-pin (re-enroll from scratch to change)")
        if cert.public_key() != next_key.public_key():
            raise CertificateRejected("the certificate is not for the new key of this rotation")
        _check_issued(cert, pinned, now)
        if _names(cert) != _names(current):
            raise CertificateRejected(f"the certificate names {_names(cert)}, the current one "
                                      f"{_names(current)}")
        _write_file(self.next_cert_path, cert.public_bytes(serialization.Encoding.PEM), 0o644,
                    replace=True)
        self._commit()
        log.info("rotated the unit key; installed certificate serial %x valid until %s "
                 "(was serial %x until %s)", cert.serial_number,
                 cert.not_valid_after_utc.isoformat(), current.serial_number,
                 current.not_valid_after_utc.isoformat())
        return cert

    def _commit(self) -> None:
        # Key first, then certificate: the one order recover() rolls forward from (between the
        # two renames, unit.pem.next is the certificate of unit.key).
        _rename(self.next_key_path, self.key_path)
        _rename(self.next_cert_path, self.cert_path)

    def _remove_stale_temps(self) -> bool:
        # A crash inside _write_file can leave its temp file, possibly a copy of a private key.
        names = (KEY_FILE, CERT_FILE, CA_FILE)
        stale = [p for p in self.directory.glob(".*.tmp")
                 if any(p.name.startswith(f".{name}.") for name in names)]
        for path in stale:
            _unlink(path)
        return bool(stale)

    def _key(self) -> ec.EllipticCurvePrivateKey:
        try:
            return _load_key(self.key_path)
        except FileNotFoundError:
            raise NoKey(f"no unit key in {self.directory}: generate one first") from None


def _parse_pair(cert_pem: bytes, ca_pem: bytes) -> tuple[x509.Certificate, x509.Certificate]:
    try:
        return x509.load_pem_x509_certificate(cert_pem), x509.load_pem_x509_certificate(ca_pem)
    except ValueError as exc:
        raise CertificateRejected(f"HQ sent something that is not a PEM certificate: {exc}"
                                  ) from None


def _check_issued(cert: x509.Certificate, ca: x509.Certificate, now: dt.datetime | None) -> None:
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        raise CertificateRejected("the certificate is not signed by the given HQ CA") from None
    moment = _utc(now)
    if not cert.not_valid_before_utc <= moment <= cert.not_valid_after_utc:
        raise CertificateRejected(
            f"the certificate is valid {cert.not_valid_before_utc.isoformat()} to "
            f"{cert.not_valid_after_utc.isoformat()}, not now ({moment.isoformat()})")


def _names(cert: x509.Certificate) -> tuple[str, tuple[str, ...]]:
    """Subject and subjectAltName URIs: what a renewed certificate must keep."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        uris = tuple(san.get_values_for_type(x509.UniformResourceIdentifier))
    except x509.ExtensionNotFound:
        uris = ()
    return cert.subject.rfc4514_string(), uris


def _matches(cert_path: Path, key_path: Path) -> bool:
    """Whether the certificate file is for the key file (False if either is unreadable)."""
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        return cert.public_key() == _load_key(key_path).public_key()
    except (OSError, ValueError, IdentityError):
        return False


def _load_key(path: Path) -> ec.EllipticCurvePrivateKey:
    """The EC key in ``path`` (FileNotFoundError if absent); refuses one others can read."""
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise IdentityError(f"{path} has mode {mode:o}; it must be 600")
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except ValueError as exc:
        raise IdentityError(f"{path} is not a PEM private key: {exc}") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise IdentityError(f"{path} is not an EC private key")
    return key


def _new_key_pem() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _csr(unit_id: str, key: ec.EllipticCurvePrivateKey) -> bytes:
    if not UNIT_ID_PATTERN.fullmatch(unit_id):
        raise IdentityError(f"invalid unit id {unit_id!r}: use 1-64 characters "
                            "A-Z a-z 0-9 . _ -, starting with a letter or digit")
    uri = x509.UniformResourceIdentifier(UNIT_URI_PREFIX + unit_id)
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, unit_id)]))
        .add_extension(x509.SubjectAlternativeName([uri]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return request.public_bytes(serialization.Encoding.PEM)


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
    fsync_dir(path.parent)


def _rename(src: Path, dst: Path) -> None:
    """Atomically replace ``dst`` by ``src`` and make the rename durable before returning."""
    os.replace(src, dst)
    fsync_dir(dst.parent)


def _unlink(path: Path) -> None:
    path.unlink(missing_ok=True)
    fsync_dir(path.parent)
