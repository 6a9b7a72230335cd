"""HQ's own certificate authority: unit client certificates, HQ's server certificate, revocation.

A CA directory holds ``ca.key`` (0600), ``ca.pem`` and ``ca.db`` (issued and revoked serials).
The TLS handshake proves a unit holds a key certified by this CA; the application then calls
:meth:`CertificateAuthority.authenticate_peer` on the peer certificate to learn *which* unit it
is and to refuse revoked ones (there is no CRL/OCSP in the handshake).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import sqlite3
import ssl
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hq.clock import utc_now
from hq.pki.certs import (  # noqa: F401 (re-exported: the CA's public API)
    ACCEPTED_CURVES,
    MIN_RSA_BITS,
    UNIT_ID_PATTERN,
    UNIT_URI_PREFIX,
    CAError,
    CSRRefused,
    InvalidUnitId,
    NotAUnitCertificate,
    UnitRevoked,
    check_claims,
    check_public_key,
    ec_numbers,
    key_usage,
    load_certificate,
    parse_csr,
    read_private_file,
    unit_id_from_cert,
    validate_unit_id,
    write_new_file,
)

log = logging.getLogger(__name__)

KEY_FILE, CERT_FILE, DB_FILE = "ca.key", "ca.pem", "ca.db"
SUPERSEDED = "superseded"  # revocation reason of a serial whose renewed successor is in use
# Backdating absorbs small clock skew between HQ and a unit whose clock just synchronised.
_BACKDATE = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class ServerCredentials:
    """HQ's TLS server certificate and its private key, both PEM."""

    cert_pem: bytes
    key_pem: bytes

    def write(self, directory: Path) -> tuple[Path, Path]:
        """Write ``server.pem`` and ``server.key`` (0600); refuse to replace existing files."""
        directory.mkdir(parents=True, exist_ok=True)
        cert_path, key_path = directory / "server.pem", directory / "server.key"
        for path in (cert_path, key_path):
            if path.exists():
                raise CAError(f"{path} already exists; refusing to overwrite it")
        write_new_file(key_path, self.key_pem, 0o600)
        write_new_file(cert_path, self.cert_pem, 0o644)
        return cert_path, key_path


@dataclass(frozen=True)
class PeerIdentity:
    """An authenticated unit certificate, and what its use just retired.

    ``retired`` lists the serials this very authentication revoked as superseded (the
    serial the certificate renewed, and any sibling issued from that same serial); it is
    empty on every later use, so a caller can audit each retirement exactly once.
    """

    unit_id: str
    serial: int
    retired: tuple[int, ...] = ()


class CertificateAuthority:
    """HQ's CA: an EC P-256 key and self-signed certificate, plus the issued/revoked ledger."""

    def __init__(self, key: ec.EllipticCurvePrivateKey, cert: x509.Certificate,
                 directory: Path) -> None:
        if key.public_key().public_numbers() != ec_numbers(cert):
            raise CAError("the CA key does not match the CA certificate")
        self._key = key
        self.cert = cert
        self.directory = Path(directory)

    @classmethod
    def create(cls, directory: Path, deployment: str, *, validity_days: int = 3650,
               now: dt.datetime | None = None) -> CertificateAuthority:
        """Generate a new CA named ``counterunit HQ CA <deployment>`` and save it."""
        if not deployment or len(deployment) > 40 or not deployment.isprintable():
            raise CAError(f"deployment name {deployment!r} must be 1-40 printable characters")
        now = utc_now(now)
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                             f"counterunit HQ CA {deployment}")])
        ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
        cert = (
            x509.CertificateBuilder()
            .subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _BACKDATE)
            .not_valid_after(now + dt.timedelta(days=validity_days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(key_usage(cert_sign=True), critical=True)
            .add_extension(ski, critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski),
                           critical=False)
            .sign(key, hashes.SHA256())
        )
        ca = cls(key, cert, Path(directory))
        ca.save()
        log.info("created HQ CA %r in %s", name.rfc4514_string(), directory)
        return ca

    @classmethod
    def load(cls, directory: Path) -> CertificateAuthority:
        """Load a CA saved by :meth:`save`; refuse a key file readable by others."""
        directory = Path(directory)
        key_path, cert_path = directory / KEY_FILE, directory / CERT_FILE
        try:
            key_pem = read_private_file(key_path)
            cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
            key = serialization.load_pem_private_key(key_pem, password=None)
        except FileNotFoundError as exc:
            raise CAError(f"no CA in {directory}: {exc.filename} is missing") from None
        except ValueError as exc:
            raise CAError(f"the CA files in {directory} are not valid PEM: {exc}") from None
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise CAError(f"{key_path} is not an EC private key")
        ca = cls(key, cert, directory)
        ca._init_db()
        return ca

    def save(self) -> None:
        """Write key (0600), certificate and ledger; never overwrite an existing CA key."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        key_path, cert_path = self.directory / KEY_FILE, self.directory / CERT_FILE
        if key_path.exists() or cert_path.exists():
            raise CAError(f"a CA already exists in {self.directory}; refusing to overwrite it")
        key_pem = self._key.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption())
        write_new_file(key_path, key_pem, 0o600)
        write_new_file(cert_path, self.cert_pem, 0o644)
        self._init_db()

    @property
    def cert_pem(self) -> bytes:
        """The CA certificate, PEM: what units pin."""
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def issue_server_cert(self, hosts: Sequence[str], *, validity_days: int = 397,
                          now: dt.datetime | None = None) -> ServerCredentials:
        """Issue HQ's TLS server certificate for DNS names and/or IP addresses."""
        if not hosts:
            raise CAError("a server certificate needs at least one host name or IP address")
        names: list[x509.GeneralName] = []
        for host in hosts:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        key = ec.generate_private_key(ec.SECP256R1())
        builder = self._leaf(hosts[0], key.public_key(), validity_days, utc_now(now))
        cert = self._sign(builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
                          .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                                         critical=False), "server", ",".join(hosts))
        key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        return ServerCredentials(cert.public_bytes(serialization.Encoding.PEM), key_pem)

    def sign_unit_csr(self, csr_pem: bytes | str, unit_id: str, validity_days: int = 365, *,
                      now: dt.datetime | None = None, replaces: int | None = None) -> bytes:
        """Sign a unit's CSR: subject CN = ``unit_id``, SAN URI ``urn:counterunit:unit:<id>``.

        ``replaces`` is the serial a renewal presented: the ledger keeps it so that the new
        certificate's first use retires that serial (see :meth:`authenticate_unit`).
        Refuses (``CSRRefused``) a request that is not PEM, whose signature does not verify,
        that claims another unit id in its CN or SAN, or whose key is weak. Only the public key
        is taken from the request; every extension is the CA's own.
        """
        try:
            validate_unit_id(unit_id)
        except InvalidUnitId as exc:
            raise CSRRefused(str(exc)) from None
        if validity_days <= 0:
            raise CSRRefused(f"validity_days must be positive, got {validity_days}")
        csr = parse_csr(csr_pem)
        check_claims(csr, unit_id)
        public_key = csr.public_key()
        check_public_key(public_key)
        builder = self._leaf(unit_id, public_key, validity_days, utc_now(now))
        uri = x509.UniformResourceIdentifier(UNIT_URI_PREFIX + unit_id)
        cert = self._sign(builder.add_extension(x509.SubjectAlternativeName([uri]), critical=False)
                          .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]),
                                         critical=False), "unit", unit_id, replaces)
        log.info("issued certificate serial %x to unit %s, valid until %s%s",
                 cert.serial_number, unit_id, cert.not_valid_after_utc.isoformat(),
                 "" if replaces is None else f", renewing serial {replaces:x}")
        return cert.public_bytes(serialization.Encoding.PEM)

    def revoke(self, serial: int, reason: str = "", *, now: dt.datetime | None = None) -> None:
        """Revoke a certificate this CA issued; revoking twice is harmless."""
        key = _serial_key(serial)
        with self._db() as conn:
            row = conn.execute("SELECT kind, subject FROM issued WHERE serial = ?",
                               (key,)).fetchone()
            if row is None:
                raise CAError(f"serial {key} was not issued by this CA; nothing revoked")
            done = _insert_revoked(conn, key, reason, utc_now(now))
        if done:
            log.warning("revoked %s certificate serial %s (%s): %s", row[0], key, row[1],
                        reason or "no reason given")

    def revoke_unit(self, unit_id: str, reason: str = "", *,
                    now: dt.datetime | None = None) -> list[int]:
        """Revoke every certificate issued to ``unit_id``; return their serials."""
        with self._db() as conn:
            rows = conn.execute("SELECT serial FROM issued WHERE kind = 'unit' AND subject = ?",
                                (unit_id,)).fetchall()
        serials = [int(row[0], 16) for row in rows]
        for serial in serials:
            self.revoke(serial, reason, now=now)
        return serials

    def is_revoked(self, serial: int) -> bool:
        """Whether ``serial`` has been revoked (persisted in ``ca.db``)."""
        with self._db() as conn:
            return conn.execute("SELECT 1 FROM revoked WHERE serial = ?",
                                (_serial_key(serial),)).fetchone() is not None

    def authenticate_peer(self, peer_cert: bytes | x509.Certificate | None, *,
                          now: dt.datetime | None = None) -> str:
        """Return the unit id of a TLS peer certificate, or raise a :class:`CAError`.

        Call per connection with ``ssl_object.getpeercert(binary_form=True)``. Same checks
        and side effect as :meth:`authenticate_unit`, which also says what was retired.
        """
        return self.authenticate_unit(peer_cert, now=now).unit_id

    def authenticate_unit(self, peer_cert: bytes | x509.Certificate | None, *,
                          now: dt.datetime | None = None) -> PeerIdentity:
        """Authenticate a unit certificate and retire the serial it renewed, on first use.

        Re-checks what the handshake already checked (issuer, validity) so a misconfigured
        server context cannot let a foreign certificate through, then checks revocation.
        A certificate issued by a renewal proves, by being used, that the unit installed
        it: the serial it replaced (and any other certificate renewed from that serial)
        is then revoked as ``superseded``. One indexed query per call; the revocation is
        written once, by whichever call finds it still pending.
        """
        if not peer_cert:
            raise NotAUnitCertificate("the connection presented no client certificate")
        cert = peer_cert if isinstance(peer_cert, x509.Certificate) else load_certificate(
            peer_cert)
        try:
            cert.verify_directly_issued_by(self.cert)
        except (ValueError, TypeError, InvalidSignature):
            raise NotAUnitCertificate("the client certificate was not issued by this CA") from None
        unit_id = unit_id_from_cert(cert)
        moment = utc_now(now)
        if not cert.not_valid_before_utc <= moment <= cert.not_valid_after_utc:
            raise NotAUnitCertificate(f"the certificate of unit {unit_id!r} is not valid now")
        serial = cert.serial_number
        key = _serial_key(serial)
        with self._db() as conn:
            revoked, pending = conn.execute(_STATUS_SQL, {"serial": key}).fetchone()
        if revoked:
            raise UnitRevoked(f"unit {unit_id!r} certificate serial {serial:x} "
                              "has been revoked")
        retired = () if pending is None else self._retire(key, pending, unit_id, moment)
        return PeerIdentity(unit_id, serial, retired)

    def _retire(self, successor: str, replaced: str, unit_id: str,
                moment: dt.datetime) -> tuple[int, ...]:
        # Siblings are other certificates renewed from the same serial: a lost answer the
        # unit will never use, or what a copy of its key minted; neither may outlive it.
        with self._db() as conn:
            siblings = [row[0] for row in conn.execute(
                "SELECT serial FROM issued WHERE replaces = ? AND serial != ?",
                (replaced, successor))]
            retired = tuple(int(key, 16) for key in [replaced, *siblings]
                            if _insert_revoked(conn, key, SUPERSEDED, moment))
        for serial in retired:
            log.info("unit %s: certificate serial %x revoked as superseded by serial %s, "
                     "now in use", unit_id, serial, successor)
        return retired

    def _leaf(self, common_name: str, public_key: object, validity_days: int,
              now: dt.datetime) -> x509.CertificateBuilder:
        # A leaf never outlives its CA: a unit would be refused by its own pinned CA anyway.
        not_after = min(now + dt.timedelta(days=validity_days), self.cert.not_valid_after_utc)
        ca_ski = self.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        return (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
            .issuer_name(self.cert.subject)
            .public_key(public_key)  # type: ignore[arg-type]
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _BACKDATE).not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(key_usage(cert_sign=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key),  # type: ignore[arg-type]
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
                           critical=False)
        )

    def _sign(self, builder: x509.CertificateBuilder, kind: str, subject: str,
              replaces: int | None = None) -> x509.Certificate:
        cert = builder.sign(self._key, hashes.SHA256())
        with self._db() as conn:
            conn.execute("INSERT INTO issued (serial, kind, subject, not_after, issued_at, "
                         "replaces) VALUES (?, ?, ?, ?, ?, ?)",
                         (_serial_key(cert.serial_number), kind, subject,
                          cert.not_valid_after_utc.isoformat(), utc_now(None).isoformat(),
                          None if replaces is None else _serial_key(replaces)))
        return cert

    def _init_db(self) -> None:
        with self._db() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS issued (serial TEXT PRIMARY KEY, "
                         "kind TEXT NOT NULL, subject TEXT NOT NULL, not_after TEXT NOT NULL, "
                         "issued_at TEXT NOT NULL)")
            conn.execute("CREATE TABLE IF NOT EXISTS revoked (serial TEXT PRIMARY KEY, "
                         "revoked_at TEXT NOT NULL, reason TEXT NOT NULL)")
            # Ledgers written before renewals retired their predecessors lack the column.
            columns = {row[1] for row in conn.execute("PRAGMA table_info(issued)")}
            if "replaces" not in columns:
                conn.execute("ALTER TABLE issued ADD COLUMN replaces TEXT")
            conn.execute("CREATE INDEX IF NOT EXISTS issued_replaces ON issued (replaces)")

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.directory / DB_FILE, timeout=10)) as conn, conn:
            yield conn


def server_ssl_context(ca: CertificateAuthority | bytes | str, server_cert: Path | str,
                       server_key: Path | str) -> ssl.SSLContext:
    """A TLS 1.2+ server context that requires a client certificate signed by ``ca``.

    The handshake verifies chain and validity; per connection the app must still call
    :meth:`CertificateAuthority.authenticate_peer` (unit id + revocation).
    """
    ca_pem = ca.cert_pem if isinstance(ca, CertificateAuthority) else ca
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.verify_flags |= ssl.VERIFY_X509_STRICT
    ctx.load_verify_locations(cadata=ca_pem.decode() if isinstance(ca_pem, bytes) else ca_pem)
    ctx.load_cert_chain(server_cert, server_key)
    return ctx


# Whether the serial is revoked, and the serial it renewed if that one is still valid:
# three primary-key lookups in one statement.
_STATUS_SQL = (
    "SELECT EXISTS (SELECT 1 FROM revoked WHERE serial = :serial), "
    "(SELECT replaces FROM issued WHERE serial = :serial AND replaces IS NOT NULL "
    " AND NOT EXISTS (SELECT 1 FROM revoked WHERE revoked.serial = issued.replaces))")


def _insert_revoked(conn: sqlite3.Connection, key: str, reason: str,
                    moment: dt.datetime) -> bool:
    """Record ``key`` as revoked; False if it already was (the first reason stays)."""
    return conn.execute(
        "INSERT OR IGNORE INTO revoked (serial, revoked_at, reason) VALUES (?, ?, ?)",
        (key, moment.isoformat(), reason)).rowcount == 1


def _serial_key(serial: int) -> str:
    # Serials are up to 159 bits, past SQLite's 64-bit integers: store them as hex.
    return f"{serial:x}"
