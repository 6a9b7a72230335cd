"""Asking the bank's LDAP/Active Directory server who someone is and which groups they are in.

One sign-on is three exchanges on fresh connections (no pooled state, so any HQ worker
can serve any login): a search for the user's DN as the configured service account, a
bind as that DN with the typed password, and a search for the groups whose
``member_attribute`` names the DN. The typed name is escaped into the filter (RFC 4515)
and an empty password is refused before any bind (LDAP would take it as an anonymous,
"successful" bind). The directory being unreachable is logged once, and its return once.
"""

from __future__ import annotations

import logging
import ssl
import threading
from dataclasses import dataclass
from pathlib import Path

import ldap3
from ldap3.core import exceptions as ldap_exc
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import parse_dn

from hq.accounts.directory_config import USERNAME_SLOT, DirectoryConfig, GroupRole

log = logging.getLogger(__name__)

MAX_PASSWORD_FILE = 4096

# What an answer can be (DirectoryAnswer.status).
ACCEPTED = "accepted"  # right password, in a mapped group
NO_GROUP = "no_group"  # right password, in no mapped group
BAD_CREDENTIALS = "bad_credentials"  # wrong password (or an empty one)
UNKNOWN = "unknown"  # no such user, or the filter found several
UNAVAILABLE = "unavailable"  # the directory could not be asked


class DirectoryError(Exception):
    """The directory could not be reached or answered unexpectedly."""


@dataclass(frozen=True)
class DirectoryAnswer:
    """One sign-on's result; ``grant`` is set when ``status`` is ACCEPTED."""

    status: str
    dn: str | None = None
    grant: GroupRole | None = None
    group: str | None = None  # the mapped group that gave the grant


def user_filter(template: str, username: str) -> str:
    """The configured filter with ``username`` escaped into it (``*`` -> ``\\2a`` ...)."""
    return template.replace(USERNAME_SLOT, escape_filter_chars(username))


def normal_dn(dn: str) -> str:
    """A DN compared the way directories do: attribute names and values case-folded,
    spaces around separators dropped (``CN=A, OU=G`` equals ``cn=a,ou=g``)."""
    try:
        parts = parse_dn(dn, escape=False, strip=True)
    except ldap_exc.LDAPInvalidDnError:
        return dn.strip().lower()
    return ",".join(f"{attr.lower()}={value.lower()}" for attr, value, _sep in parts)


def pick_grant(groups: dict[str, GroupRole], member_of: list[str]
               ) -> tuple[str, GroupRole] | None:
    """The first mapped group (in the configuration's order) among ``member_of``."""
    have = {normal_dn(dn) for dn in member_of}
    for dn, grant in groups.items():
        if normal_dn(dn) in have:
            return dn, grant
    return None


def read_secret(path: Path) -> str:
    """A password file's first line; ValueError naming the file when it is unusable."""
    try:
        data = path.read_bytes()[:MAX_PASSWORD_FILE + 1]
    except OSError as exc:
        raise ValueError(f"directory.bind_password_file {path}: {exc.strerror}") from None
    if len(data) > MAX_PASSWORD_FILE:
        raise ValueError(f"directory.bind_password_file {path}: over {MAX_PASSWORD_FILE} bytes")
    text = data.decode("utf-8", "replace").splitlines()
    if not text or not text[0]:
        raise ValueError(f"directory.bind_password_file {path}: empty")
    return text[0]


class _Health:
    """Whether the directory was last reachable, so failure and recovery log once each."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self.down = False
        self._lock = threading.Lock()

    def failed(self, why: str) -> None:
        with self._lock:
            first, self.down = not self.down, True
        if first:
            log.error("directory %s unreachable (%s); only local accounts can log in until "
                      "it answers again (said once)", self.uri, why)

    def answered(self) -> None:
        with self._lock:
            back, self.down = self.down, False
        if back:
            log.warning("directory %s answers again; directory sign-on works", self.uri)


class Directory:
    """The configured directory: :meth:`sign_on` checks a name and password."""

    def __init__(self, config: DirectoryConfig, bind_password: str | None) -> None:
        self.config = config
        self._bind_password = bind_password
        self.health = _Health(config.uri)
        self._tls = None
        if config.uri.startswith("ldaps://") or config.start_tls:
            try:
                self._tls = ldap3.Tls(
                    validate=ssl.CERT_REQUIRED, version=ssl.PROTOCOL_TLS_CLIENT,
                    ca_certs_file=str(config.ca_file) if config.ca_file else None)
            except ldap_exc.LDAPSSLConfigurationError as exc:
                raise ValueError(f"directory.ca_file {config.ca_file}: {exc}") from None

    def _server(self) -> ldap3.Server:
        # A fresh Server per sign-on: ldap3 remembers an address that failed as unavailable
        # for minutes, which would outlast the directory's own restart.
        return ldap3.Server(self.config.uri, get_info=ldap3.NONE, tls=self._tls,
                            connect_timeout=self.config.connect_timeout_s)

    @classmethod
    def from_config(cls, config: DirectoryConfig) -> Directory:
        """Read the bind password file now, so a wrong path stops HQ at start."""
        password = read_secret(config.bind_password_file) if config.bind_password_file \
            else None
        return cls(config, password)

    def _connection(self, server: ldap3.Server, user: str | None, password: str | None
                    ) -> ldap3.Connection:
        """An open (not yet bound) connection; DirectoryError if unreachable."""
        conn = ldap3.Connection(server, user=user, password=password,
                                receive_timeout=self.config.receive_timeout_s,
                                raise_exceptions=False, read_only=True,
                                client_strategy=ldap3.SYNC, auto_referrals=False)
        try:
            conn.open()
            if self.config.start_tls and not conn.start_tls():
                conn.unbind()
                raise DirectoryError(f"StartTLS refused: {conn.result.get('description')}")
        except (ldap_exc.LDAPException, OSError) as exc:  # OSError: ssl.SSLError too
            raise DirectoryError(f"{type(exc).__name__}: {exc}") from None
        return conn

    def _bind(self, conn: ldap3.Connection) -> bool:
        try:
            return bool(conn.bind())
        except (ldap_exc.LDAPException, OSError) as exc:  # OSError: ssl.SSLError too
            raise DirectoryError(f"{type(exc).__name__}: {exc}") from None

    def _search(self, conn: ldap3.Connection, base: str, flt: str) -> list[str]:
        try:
            ok = conn.search(base, flt, search_scope=ldap3.SUBTREE, attributes=[],
                             size_limit=1000, time_limit=self.config.receive_timeout_s + 1)
        except (ldap_exc.LDAPException, OSError) as exc:  # OSError: ssl.SSLError too
            raise DirectoryError(f"{type(exc).__name__}: {exc}") from None
        if not ok and conn.result.get("description") not in ("success", "noSuchObject"):
            raise DirectoryError(f"search under {base} failed: {conn.result.get('description')}")
        return [e.entry_dn for e in conn.entries]

    def _service(self, server: ldap3.Server) -> ldap3.Connection:
        conn = self._connection(server, self.config.bind_dn, self._bind_password)
        if not self._bind(conn):
            why = conn.result.get("description")
            conn.unbind()
            raise DirectoryError(f"the service bind as {self.config.bind_dn} failed: {why}")
        return conn

    def sign_on(self, username: str, password: str) -> DirectoryAnswer:
        """Check ``username``/``password`` and map the user's groups to a role and scope."""
        try:
            answer = self._sign_on(username, password)
        except DirectoryError as exc:
            self.health.failed(str(exc))
            return DirectoryAnswer(UNAVAILABLE)
        self.health.answered()
        return answer

    def _sign_on(self, username: str, password: str) -> DirectoryAnswer:
        cfg = self.config
        server = self._server()
        service = self._service(server)
        try:
            found = self._search(service, cfg.user_base, user_filter(cfg.user_filter, username))
        finally:
            service.unbind()
        if len(found) != 1:
            return DirectoryAnswer(UNKNOWN)
        dn = found[0]
        if not password:
            return DirectoryAnswer(BAD_CREDENTIALS, dn)
        user = self._connection(server, dn, password)
        try:
            if not self._bind(user):
                code = user.result.get("description")
                if code != "invalidCredentials":
                    log.warning("directory refused the bind of %s: %s", dn, code)
                return DirectoryAnswer(BAD_CREDENTIALS, dn)
        finally:
            user.unbind()
        service = self._service(server)
        try:
            member_of = self._search(service, cfg.group_base,
                                     f"({cfg.member_attribute}={escape_filter_chars(dn)})")
        finally:
            service.unbind()
        picked = pick_grant(cfg.groups, member_of)
        if picked is None:
            return DirectoryAnswer(NO_GROUP, dn)
        return DirectoryAnswer(ACCEPTED, dn, picked[1], picked[0])
