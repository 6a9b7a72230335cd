"""A real OpenLDAP ``slapd`` for the tests: a generated slapd.conf in a temporary folder.

Debian's ``slapd`` package provides the server (tests/ldap.mk installs it with
``ldap-utils``). The directory ``dc=bank`` is written with ``slapadd`` before the
server starts, from an LDIF of people, groups and HQ's service account; the server then
listens on loopback only (a free port, ldap:// with StartTLS offered, certificate from
a throwaway CA made here). Access rules as a bank would have them: nobody reads
anything anonymously, passwords are only ever compared by a bind.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import ldap3
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

SLAPD = "/usr/sbin/slapd"
SLAPADD = "/usr/sbin/slapadd"
SUFFIX = "dc=bank"
ROOT_DN = f"cn=admin,{SUFFIX}"
ROOT_PW = "root secret"
SERVICE_DN = f"cn=counterunit-hq,ou=services,{SUFFIX}"
SERVICE_PW = "service secret"
PEOPLE = f"ou=people,{SUFFIX}"
GROUPS = f"ou=groups,{SUFFIX}"

_CONF = """\
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
pidfile {dir}/slapd.pid
argsfile {dir}/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
TLSCACertificateFile {dir}/ca.pem
TLSCertificateFile {dir}/server.pem
TLSCertificateKeyFile {dir}/server.key
disallow bind_anon
database mdb
maxsize 16777216
suffix "{suffix}"
rootdn "{root_dn}"
rootpw "{root_pw}"
directory {dir}/db
access to attrs=userPassword by anonymous auth by * none
access to * by users read by * none
"""


def person(uid: str, password: str) -> str:
    """LDIF of one person under ou=people."""
    return (f"dn: uid={uid},{PEOPLE}\nobjectClass: inetOrgPerson\nuid: {uid}\n"
            f"cn: {uid}\nsn: {uid}\nuserPassword: {password}\n")


def group(cn: str, members: list[str]) -> str:
    """LDIF of one groupOfNames under ou=groups (member: the people's DNs).

    The root DN is a member too, since groupOfNames needs one and a test may remove
    every person."""
    lines = [f"dn: cn={cn},{GROUPS}", "objectClass: groupOfNames", f"cn: {cn}",
             f"member: {ROOT_DN}"]
    lines += [f"member: uid={m},{PEOPLE}" for m in members]
    return "\n".join(lines) + "\n"


def base_ldif() -> str:
    """The suffix, its organisational units and HQ's service account."""
    return (f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: bank\n"
            f"o: Bank\n\n"
            + "\n".join(f"dn: ou={ou},{SUFFIX}\nobjectClass: organizationalUnit\nou: {ou}\n"
                        for ou in ("people", "groups", "services"))
            + f"\ndn: {SERVICE_DN}\nobjectClass: person\ncn: counterunit-hq\n"
            f"sn: service\nuserPassword: {SERVICE_PW}\n")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tls_files(folder: Path) -> None:
    """A throwaway CA and a server certificate for 127.0.0.1/localhost."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test directory CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(hours=1))
          .not_valid_after(now + dt.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"),
                x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (folder / "server.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "server.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))


@dataclass
class SlapdServer:
    """One running slapd; ``uri`` to reach it, ``ca_pem`` to trust its StartTLS."""

    folder: Path
    port: int
    tls_port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def ldaps_uri(self) -> str:
        return f"ldaps://localhost:{self.tls_port}"

    @property
    def ca_pem(self) -> Path:
        return self.folder / "ca.pem"

    def start(self, timeout_s: float = 15.0) -> None:
        """Start (or start again) and wait until it answers a bind."""
        with open(self.folder / "slapd.log", "ab") as log:  # the child keeps its own copy
            self.process = subprocess.Popen(
                [SLAPD, "-d", "0", "-f", str(self.folder / "slapd.conf"), "-h",
                 f"{self.uri} ldaps://127.0.0.1:{self.tls_port}"],
                stdout=subprocess.DEVNULL, stderr=log)
        deadline = time.monotonic() + timeout_s
        while True:
            if self.process.poll() is not None:
                raise RuntimeError("slapd exited: "
                                   + (self.folder / "slapd.log").read_text()[-2000:])
            with contextlib.suppress(ldap3.core.exceptions.LDAPException):
                conn = ldap3.Connection(ldap3.Server(self.uri, connect_timeout=1), ROOT_DN,
                                        ROOT_PW, receive_timeout=2)
                if conn.bind():
                    conn.unbind()
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(f"slapd did not answer within {timeout_s} s")
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop it (SIGTERM, then wait)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(15)
        self.process = None

    def admin(self) -> ldap3.Connection:
        """A connection bound as the directory's root DN, to change entries in a test."""
        conn = ldap3.Connection(ldap3.Server(self.uri, connect_timeout=2), ROOT_DN, ROOT_PW,
                                receive_timeout=5, raise_exceptions=True)
        conn.bind()
        return conn

    def add_member(self, group_cn: str, uid: str) -> None:
        """Put a person (back) into a group."""
        conn = self.admin()
        try:
            conn.modify(f"cn={group_cn},{GROUPS}",
                        {"member": [(ldap3.MODIFY_ADD, [f"uid={uid},{PEOPLE}"])]})
        finally:
            conn.unbind()

    def remove_member(self, group_cn: str, uid: str) -> None:
        """Take a person out of a group."""
        conn = self.admin()
        try:
            conn.modify(f"cn={group_cn},{GROUPS}",
                        {"member": [(ldap3.MODIFY_DELETE, [f"uid={uid},{PEOPLE}"])]})
        finally:
            conn.unbind()


@contextlib.contextmanager
def running_slapd(ldif: str) -> Iterator[SlapdServer]:
    """slapd serving ``dc=bank``: :func:`base_ldif` plus ``ldif`` (people and groups)."""
    if not shutil.which(SLAPD):
        raise RuntimeError("slapd missing: apt-get install slapd ldap-utils (tests/ldap.mk)")
    folder = Path(tempfile.mkdtemp(prefix="cu-slapd-"))
    try:
        (folder / "db").mkdir()
        tls_files(folder)
        (folder / "slapd.conf").write_text(_CONF.format(
            dir=folder, suffix=SUFFIX, root_dn=ROOT_DN, root_pw=ROOT_PW))
        (folder / "seed.ldif").write_text(base_ldif() + "\n" + ldif)
        subprocess.run([SLAPADD, "-q", "-f", str(folder / "slapd.conf"), "-l",
                        str(folder / "seed.ldif")], check=True, capture_output=True,
                       timeout=60)
        server = SlapdServer(folder, _free_port(), _free_port())
        server.start()
        try:
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
