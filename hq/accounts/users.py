"""HQ user accounts: roles with scopes, scrypt password hashes and bearer tokens, in users.db.

What each role may do is the table in :mod:`hq.accounts.roles`; where, is the account's
:class:`~hq.storage.scope.Scope`. Page sessions (:mod:`hq.accounts.sessions`) and the login
throttle (:mod:`hq.accounts.login_guard`) keep their state in the same file, so several HQ
workers share them; the store hands them its connection as ``.sessions`` and ``.guard``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from hq.accounts.fields import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    Contact,
    InvalidAccount,
    UnknownUser,
    UserError,
    UserExists,
    check_contact,
    check_language,
    check_password,
    check_role,
    check_username,
)
from hq.accounts.login_guard import GUARD_SCHEMA, OK, LoginGuard
from hq.accounts.passwords import (
    MAX_PASSWORD,
    MIN_PASSWORD,
    dummy_hash,
    hash_password,
    verify_password,
)
from hq.accounts.roles import LEGACY_ROLES, PERMISSIONS, ROLES, allowed, scope_rule
from hq.accounts.sessions import SESSION_SCHEMA, SessionStore
from hq.clock import utc_now
from hq.storage.models import parse_utc, utc_text
from hq.storage.scope import Scope
from hq.storage.sqlite import SqliteFile

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "MAX_PASSWORD", "MIN_PASSWORD", "PERMISSIONS",
           "ROLES", "Contact", "InvalidAccount", "UnknownUser", "UserError", "UserExists",
           "allowed", "check_contact", "check_language", "check_password", "check_role",
           "check_username", "hash_password", "verify_password"]

log = logging.getLogger(__name__)

DEFAULT_TOKEN_TTL = dt.timedelta(hours=8)  # one working shift
MAX_TOKEN_TTL = dt.timedelta(days=7)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY, role TEXT NOT NULL, password TEXT NOT NULL,
    enabled INTEGER NOT NULL, created_utc TEXT NOT NULL,
    scope TEXT NOT NULL DEFAULT 'all', language TEXT NOT NULL DEFAULT 'zh-CN',
    email TEXT, phone TEXT, im TEXT
);
CREATE TABLE IF NOT EXISTS tokens (
    token_sha256 TEXT PRIMARY KEY, username TEXT NOT NULL REFERENCES users (username),
    issued_utc TEXT NOT NULL, expires_utc TEXT NOT NULL, revoked INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS tokens_user ON tokens (username);
"""
# Columns added after the first release, for users.db files made before them.
_ADDED_COLUMNS = (("scope", "TEXT NOT NULL DEFAULT 'all'"),
                  ("language", "TEXT NOT NULL DEFAULT 'zh-CN'"),
                  ("email", "TEXT"), ("phone", "TEXT"), ("im", "TEXT"))


_ALL = Scope.everything()
_NO_CONTACT = Contact()


@dataclass(frozen=True)
class User:
    """An account as the API sees it; the password hash never leaves the store."""

    username: str
    role: str
    enabled: bool
    created_utc: dt.datetime
    scope: Scope = _ALL
    language: str = DEFAULT_LANGUAGE
    contact: Contact = _NO_CONTACT

    def may(self, action: str) -> bool:
        """Whether this user's role allows ``action``."""
        return allowed(self.role, action)


@dataclass(frozen=True)
class LoginOutcome:
    """A login attempt's result: the user, or why not (``reason``, for the audit log)."""

    user: User | None
    reason: str  # ok, bad_credentials, locked_now, or a refusal of hq.accounts.login_guard
    retry_after_s: int = 0


@dataclass(frozen=True)
class IssuedToken:
    """A bearer token as handed to the client once; only its sha256 is stored."""

    token: str
    username: str
    expires: dt.datetime


def _token_key(token: str) -> str:
    # Tokens carry 256 random bits, so a plain sha256 suffices (no salt or stretching).
    return hashlib.sha256(token.encode()).hexdigest()


def _user(row: sqlite3.Row) -> User:
    return User(row["username"], row["role"], bool(row["enabled"]),
                parse_utc(row["created_utc"]), Scope.parse(row["scope"]), row["language"],
                Contact(row["email"], row["phone"], row["im"]))


class UserStore(SqliteFile):
    """Accounts and bearer tokens in one SQLite file (WAL, FULL sync).

    ``sessions`` (page sessions) and ``guard`` (login throttle and lockout) share the
    file and its lock.
    """

    def __init__(self, path: Path) -> None:
        super().__init__(path, _SCHEMA)
        # Password hashes and session keys: readable by HQ's own account only.
        for f in (Path(path), Path(f"{path}-wal"), Path(f"{path}-shm")):
            if f.exists():
                f.chmod(0o600)
        self._migrate()
        self._conn.executescript(SESSION_SCHEMA + GUARD_SCHEMA)
        self.sessions = SessionStore(self._conn, self._lock)
        self.guard = LoginGuard(self._conn, self._lock)

    def _migrate(self) -> None:
        with self._lock:
            have = {r["name"] for r in self._conn.execute("PRAGMA table_info(users)")}
            for name, decl in _ADDED_COLUMNS:
                if name not in have:
                    self._conn.execute(f"ALTER TABLE users ADD COLUMN {name} {decl}")
            for old, new in LEGACY_ROLES.items():
                names = [r[0] for r in self._conn.execute(
                    "SELECT username FROM users WHERE role = ?", [old])]
                if names:
                    self._conn.execute("UPDATE users SET role = ? WHERE role = ?", [new, old])
                    log.warning("users %s had role %s and now have role %s with the scope "
                                "they had (all); narrow it on /users", ", ".join(names),
                                old, new)

    def create_user(self, username: str, password: str, role: str, *,
                    scope: Scope | None = None, language: str = DEFAULT_LANGUAGE,
                    contact: Contact | None = None, now: dt.datetime | None = None) -> User:
        """Add an enabled account; UserExists if the name is taken.

        Without ``scope`` the account sees the whole organisation; the API, the CLI and
        the /users page ask for a scope explicitly (:func:`hq.accounts.roles.scope_rule`), this
        default is for code and tests. A legacy role name (``supervisor``) is migrated.
        """
        check_username(username)
        role = check_role(LEGACY_ROLES.get(role, role))
        scope = scope or Scope.everything()
        problem = scope_rule(role, scope)
        if problem:
            raise InvalidAccount(problem)
        check_language(language)
        contact = check_contact(contact or Contact())
        hashed = hash_password(check_password(password))
        created = utc_text(utc_now(now))
        with self._lock:
            if self._conn.execute("SELECT 1 FROM users WHERE username = ?",
                                  [username]).fetchone():
                raise UserExists(f"user {username!r} already exists")
            self._conn.execute(
                "INSERT INTO users (username, role, password, enabled, created_utc, scope, "
                "language, email, phone, im) VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?)",
                [username, role, hashed, created, scope.text(), language, contact.email,
                 contact.phone, contact.im])
        log.info("user %s created with role %s, scope %s", username, role, scope.text())
        return self.user(username)

    def user(self, username: str) -> User:
        """One account; UnknownUser if there is none."""
        with self._lock:
            row = self._conn.execute("SELECT * FROM users WHERE username = ?",
                                     [username]).fetchone()
        if row is None:
            raise UnknownUser(f"no user {username!r}")
        return _user(row)

    def users(self) -> list[User]:
        """Every account, by name."""
        with self._lock:
            rows = self._conn.execute("SELECT * FROM users ORDER BY username").fetchall()
        return [_user(r) for r in rows]

    def in_scope(self, role: str, branch_id: str | None,
                 hall_id: str | None = None) -> list[User]:
        """Enabled users of ``role`` whose scope covers the node, by name.

        The node is ``hall_id`` (of ``branch_id``) or, without a hall, the branch itself:
        scope ``all`` and ``branch:branch_id`` cover both; ``hall:hall_id`` only its hall.
        """
        with self._lock:
            rows = self._conn.execute(
                "SELECT * FROM users WHERE role = ? AND enabled = 1 AND (scope = 'all' "
                "OR scope = 'branch:' || ? OR scope = 'hall:' || ?) ORDER BY username",
                [role, branch_id, hall_id]).fetchall()
        return [_user(r) for r in rows]

    def _update(self, username: str, sql: str, args: list[object]) -> None:
        with self._lock:
            cur = self._conn.execute(f"UPDATE users SET {sql} WHERE username = ?",
                                     [*args, username])
        if cur.rowcount == 0:
            raise UnknownUser(f"no user {username!r}")

    def set_role(self, username: str, role: str, scope: Scope | None) -> None:
        """Change an account's role and scope together (the rule binds the two)."""
        check_role(role)
        problem = scope_rule(role, scope)
        if problem:
            raise InvalidAccount(problem)
        self._update(username, "role = ?, scope = ?",
                     [role, (scope or Scope.everything()).text()])
        log.info("user %s now has role %s, scope %s", username, role,
                 (scope or Scope.everything()).text())

    def set_language(self, username: str, language: str) -> None:
        """The language the user's pages and messages use."""
        self._update(username, "language = ?", [check_language(language)])

    def set_contact(self, username: str, contact: Contact) -> None:
        """Replace the user's contact fields."""
        c = check_contact(contact)
        self._update(username, "email = ?, phone = ?, im = ?", [c.email, c.phone, c.im])

    def set_password(self, username: str, password: str) -> None:
        """Replace the password and end the user's tokens and sessions."""
        hashed = hash_password(check_password(password))
        self._update(username, "password = ?", [hashed])
        self.revoke_access(username)
        log.info("password of user %s changed; their tokens and sessions are revoked",
                 username)

    def disable_user(self, username: str) -> None:
        """Stop the account from logging in and end its tokens and sessions."""
        self._update(username, "enabled = 0", [])
        self.revoke_access(username)
        log.info("user %s disabled", username)

    def enable_user(self, username: str) -> None:
        """Let a disabled account log in again (its old sessions stay ended)."""
        self._update(username, "enabled = 1", [])
        log.info("user %s enabled", username)

    def revoke_access(self, username: str) -> int:
        """End every token and page session of the user; how many were live."""
        with self._lock:
            n = self._conn.execute("UPDATE tokens SET revoked = 1 WHERE username = ? "
                                   "AND revoked = 0", [username]).rowcount
        return n + self.sessions.revoke_user(username)

    def authenticate(self, username: str, password: str) -> User | None:
        """The account if the password is right and it is enabled, else ``None``.

        Unknown names, wrong passwords and disabled accounts look the same to the caller
        and cost about the same time. Throttling and lockout are :meth:`LoginGuard.login`'s.
        """
        with self._lock:
            row = self._conn.execute("SELECT * FROM users WHERE username = ?",
                                     [username]).fetchone()
        if row is None or not isinstance(password, str) or len(password) > MAX_PASSWORD:
            verify_password("not-the-password", dummy_hash())
            return None
        if not verify_password(password, row["password"]) or not row["enabled"]:
            return None
        return _user(row)

    def login(self, username: str, password: str, client: str,
              now: dt.datetime | None = None) -> LoginOutcome:
        """:meth:`authenticate` behind the throttle and lockout (:mod:`hq.accounts.login_guard`)."""
        at = utc_now(now)
        name = username[:64] if isinstance(username, str) else ""
        verdict = self.guard.check(name, client, at)
        if not verdict.allowed:
            return LoginOutcome(None, verdict.reason, verdict.retry_after_s)
        user = self.authenticate(name, password)
        if user is None:
            with self._lock:
                known = self._conn.execute("SELECT 1 FROM users WHERE username = ?",
                                           [name]).fetchone() is not None
            locked = self.guard.failed(name, client, at, known=known)
            return LoginOutcome(None, "locked_now" if locked else "bad_credentials")
        self.guard.succeeded(name)
        return LoginOutcome(user, OK)

    def unlock(self, username: str) -> bool:
        """Lift a lockout (admin); UnknownUser if there is no such account."""
        self.user(username)
        return self.guard.unlock(username)

    def issue_token(self, username: str, ttl: dt.timedelta = DEFAULT_TOKEN_TTL, *,
                    now: dt.datetime | None = None) -> IssuedToken:
        """A new random bearer token for an enabled account, valid for ``ttl``."""
        if not dt.timedelta(0) < ttl <= MAX_TOKEN_TTL:
            raise InvalidAccount(f"token lifetime {ttl} must be within 0..{MAX_TOKEN_TTL}")
        if not self.user(username).enabled:
            raise InvalidAccount(f"user {username!r} is disabled")
        issued = utc_now(now)
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
                "AND u.enabled = 1", [_token_key(token), utc_text(utc_now(now))]).fetchone()
        return None if row is None else _user(row)

    def user_for_session(self, session_id: str, now: dt.datetime | None = None
                         ) -> tuple[User, str] | None:
        """The enabled account and CSRF token of a live page session, else None."""
        found = self.sessions.lookup(session_id, utc_now(now))
        if found is None:
            return None
        username, csrf = found
        try:
            user = self.user(username)
        except UnknownUser:
            return None
        return (user, csrf) if user.enabled else None

    def revoke_token(self, token: str) -> bool:
        """End a token's validity; whether it existed and was live."""
        with self._lock:
            cur = self._conn.execute(
                "UPDATE tokens SET revoked = 1 WHERE token_sha256 = ? AND revoked = 0",
                [_token_key(token)])
        return cur.rowcount > 0
