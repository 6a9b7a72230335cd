"""HQ user accounts: roles, scrypt password hashes and bearer tokens, in one SQLite file.

Roles follow least privilege: the admin manages accounts and reads the audit log but
cannot open recordings (customer data, PIPL art. 26); supervisors find, view, play and
download; auditors do that too and also read the audit log, because checking who opened
which recording means opening it.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from hq.storage.models import parse_utc, utc_text
from hq.storage.sqlite import SqliteFile

log = logging.getLogger(__name__)

SEARCH = "search"
VIEW = "view"
PLAY = "play"
DOWNLOAD = "download"
READ_AUDIT = "read_audit"
MANAGE_USERS = "manage_users"

PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset({MANAGE_USERS, READ_AUDIT}),
    "supervisor": frozenset({SEARCH, VIEW, PLAY, DOWNLOAD}),
    "auditor": frozenset({SEARCH, VIEW, PLAY, DOWNLOAD, READ_AUDIT}),
}
ROLES = frozenset(PERMISSIONS)

DEFAULT_TOKEN_TTL = dt.timedelta(hours=8)  # one working shift
MAX_TOKEN_TTL = dt.timedelta(days=7)
MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # scrypt hashes any length; the bound stops memory abuse

# scrypt at n=2**14, r=8 costs ~16 MiB and tens of milliseconds: cheap for a login, dear
# for a guesser. The parameters travel with each hash so they can be raised later.
SCRYPT_N, SCRYPT_R, SCRYPT_P, SCRYPT_LEN = 1 << 14, 8, 1, 32
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._@-]{0,63}")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY, role TEXT NOT NULL, password TEXT NOT NULL,
    enabled INTEGER NOT NULL, created_utc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    token_sha256 TEXT PRIMARY KEY, username TEXT NOT NULL REFERENCES users (username),
    issued_utc TEXT NOT NULL, expires_utc TEXT NOT NULL, revoked INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS tokens_user ON tokens (username);
"""


class UserError(ValueError):
    """Base of expected refusals about accounts (never a bug)."""


class InvalidAccount(UserError):
    """A malformed username, unknown role or unacceptable password (HTTP 400)."""


class UserExists(UserError):
    """The username is taken (HTTP 409)."""


class UnknownUser(UserError):
    """No such account (HTTP 404)."""


@dataclass(frozen=True)
class User:
    """An account as the API sees it; the password hash never leaves the store."""

    username: str
    role: str
    enabled: bool
    created_utc: dt.datetime

    def may(self, action: str) -> bool:
        """Whether this user's role allows ``action``."""
        return allowed(self.role, action)


@dataclass(frozen=True)
class IssuedToken:
    """A bearer token as handed to the client once; only its sha256 is stored."""

    token: str
    username: str
    expires: dt.datetime


def allowed(role: str, action: str) -> bool:
    """Whether ``role`` may perform ``action`` (unknown roles may do nothing)."""
    return action in PERMISSIONS.get(role, frozenset())


def check_username(value: str) -> str:
    """Return ``value`` if it is a well-formed username, else raise InvalidAccount."""
    if not isinstance(value, str) or not _USERNAME.fullmatch(value):
        raise InvalidAccount(f"username {value!r} must match {_USERNAME.pattern}")
    return value


def check_role(value: str) -> str:
    """Return ``value`` if it is a known role, else raise InvalidAccount."""
    if value not in ROLES:
        raise InvalidAccount(f"role {value!r} must be one of {sorted(ROLES)}")
    return value


def check_password(value: str) -> str:
    """Return ``value`` if its length is acceptable, else raise InvalidAccount."""
    if not isinstance(value, str) or not MIN_PASSWORD <= len(value) <= MAX_PASSWORD:
        raise InvalidAccount(
            f"password must be {MIN_PASSWORD}..{MAX_PASSWORD} characters long")
    return value


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """``scrypt$n$r$p$salt$hash`` (base64) of ``password`` with a fresh 16-byte salt."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P,
                            dklen=SCRYPT_LEN)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored``, compared in constant time."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        want = base64.b64decode(digest)
        got = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n),
                             r=int(r), p=int(p), dklen=len(want), maxmem=64 << 20)
    except ValueError:
        log.error("a stored password hash is malformed; that account cannot log in")
        return False
    return hmac.compare_digest(got, want)


@functools.cache
def _dummy_hash() -> str:
    """Checked when the username is unknown, so a miss costs as long as a wrong password."""
    return hash_password("not-a-password", salt=b"\x00" * 16)


def _token_key(token: str) -> str:
    # Tokens carry 256 random bits, so a plain sha256 suffices (no salt or stretching).
    return hashlib.sha256(token.encode()).hexdigest()


def _now(now: dt.datetime | None) -> dt.datetime:
    return now if now is not None else dt.datetime.now(dt.UTC)


class UserStore(SqliteFile):
    """Accounts and bearer tokens in one SQLite file (WAL, FULL sync)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, _SCHEMA)

    def create_user(self, username: str, password: str, role: str, *,
                    now: dt.datetime | None = None) -> User:
        """Add an enabled account; UserExists if the name is taken."""
        check_username(username)
        check_role(role)
        hashed = hash_password(check_password(password))
        created = utc_text(_now(now))
        with self._lock:
            if self._conn.execute("SELECT 1 FROM users WHERE username = ?",
                                  [username]).fetchone():
                raise UserExists(f"user {username!r} already exists")
            self._conn.execute("INSERT INTO users (username, role, password, enabled, "
                               "created_utc) VALUES (?, ?, ?, 1, ?)",
                               [username, role, hashed, created])
        log.info("user %s created with role %s", username, role)
        return User(username, role, True, parse_utc(created))

    def user(self, username: str) -> User:
        """One account; UnknownUser if there is none."""
        with self._lock:
            row = self._conn.execute("SELECT * FROM users WHERE username = ?",
                                     [username]).fetchone()
        if row is None:
            raise UnknownUser(f"no user {username!r}")
        return User(row["username"], row["role"], bool(row["enabled"]),
                    parse_utc(row["created_utc"]))

    def users(self) -> list[User]:
        """Every account, by name."""
        with self._lock:
            rows = self._conn.execute("SELECT * FROM users ORDER BY username").fetchall()
        return [User(r["username"], r["role"], bool(r["enabled"]), parse_utc(r["created_utc"]))
                for r in rows]

    def set_password(self, username: str, password: str) -> None:
        """Replace the password and revoke the user's tokens (a reset ends old sessions)."""
        hashed = hash_password(check_password(password))
        with self._lock:
            cur = self._conn.execute("UPDATE users SET password = ? WHERE username = ?",
                                     [hashed, username])
            if cur.rowcount == 0:
                raise UnknownUser(f"no user {username!r}")
            self._conn.execute("UPDATE tokens SET revoked = 1 WHERE username = ?", [username])
        log.info("password of user %s changed; their tokens are revoked", username)

    def disable_user(self, username: str) -> None:
        """Stop the account from logging in and revoke its tokens."""
        with self._lock:
            cur = self._conn.execute("UPDATE users SET enabled = 0 WHERE username = ?",
                                     [username])
            if cur.rowcount == 0:
                raise UnknownUser(f"no user {username!r}")
            self._conn.execute("UPDATE tokens SET revoked = 1 WHERE username = ?", [username])
        log.info("user %s disabled", username)

    def authenticate(self, username: str, password: str) -> User | None:
        """The account if the password is right and it is enabled, else ``None``.

        Unknown names, wrong passwords and disabled accounts look the same to the caller
        and cost about the same time.
        """
        with self._lock:
            row = self._conn.execute("SELECT * FROM users WHERE username = ?",
                                     [username]).fetchone()
        if row is None or not isinstance(password, str) or len(password) > MAX_PASSWORD:
            verify_password("not-the-password", _dummy_hash())
            return None
        if not verify_password(password, row["password"]) or not row["enabled"]:
            return None
        return User(row["username"], row["role"], True, parse_utc(row["created_utc"]))

    def issue_token(self, username: str, ttl: dt.timedelta = DEFAULT_TOKEN_TTL, *,
                    now: dt.datetime | None = None) -> IssuedToken:
        """A new random bearer token for an enabled account, valid for ``ttl``."""
        if not dt.timedelta(0) < ttl <= MAX_TOKEN_TTL:
            raise InvalidAccount(f"token lifetime {ttl} must be within 0..{MAX_TOKEN_TTL}")
        if not self.user(username).enabled:
            raise InvalidAccount(f"user {username!r} is disabled")
        issued = _now(now)
        expires = issued + ttl
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._conn.execute("INSERT INTO tokens (token_sha256, username, issued_utc, "
                               "expires_utc) VALUES (?, ?, ?, ?)",
                               [_token_key(token), username, utc_text(issued),
                                utc_text(expires)])
        return IssuedToken(token, username, parse_utc(utc_text(expires)))

    def user_for_token(self, token: str, now: dt.datetime | None = None) -> User | None:
        """The enabled account a live (unexpired, unrevoked) token belongs to, else None."""
        if not isinstance(token, str) or not token or len(token) > 256:
            return None
        with self._lock:
            row = self._conn.execute(
                "SELECT u.* FROM tokens t JOIN users u ON u.username = t.username "
                "WHERE t.token_sha256 = ? AND t.revoked = 0 AND t.expires_utc > ? "
                "AND u.enabled = 1", [_token_key(token), utc_text(_now(now))]).fetchone()
        if row is None:
            return None
        return User(row["username"], row["role"], True, parse_utc(row["created_utc"]))

    def revoke_token(self, token: str) -> bool:
        """End a token's validity; whether it existed and was live."""
        with self._lock:
            cur = self._conn.execute(
                "UPDATE tokens SET revoked = 1 WHERE token_sha256 = ? AND revoked = 0",
                [_token_key(token)])
        return cur.rowcount > 0
