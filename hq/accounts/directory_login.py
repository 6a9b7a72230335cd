"""A page login that may be checked by the bank's directory: throttled, audited, shadowed.

A directory user gets a local *shadow* account (same name; role and scope of their
first mapped group, refreshed at every sign-on; no password: the ``password`` column
holds a marker no password matches), so sessions, the audit log and Scope work as for
any account. Signing on while in no mapped group disables the shadow and ends its
sessions. A local account is never turned into a shadow: a directory user whose name is
a local account is refused (``name_clash``).

The throttle of :mod:`hq.accounts.login_guard` applies first, to every name; a wrong
directory password counts as a failure like a wrong local one. While the directory is
unreachable local accounts still log in; directory users are told to try later (503).
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3

from hq.accounts.directory import (
    ACCEPTED,
    BAD_CREDENTIALS,
    NO_GROUP,
    UNAVAILABLE,
    UNKNOWN,
    Directory,
    DirectoryAnswer,
)
from hq.accounts.directory_config import GroupRole
from hq.accounts.fields import DEFAULT_LANGUAGE, InvalidAccount, check_username
from hq.accounts.login_guard import OK
from hq.accounts.logins import LOGIN, LOGIN_FAILED, attempt_login, printable
from hq.accounts.users import LoginOutcome, User, UserStore
from hq.clock import utc_now
from hq.storage import AuditLog, StorageError
from hq.storage.models import utc_text

log = logging.getLogger(__name__)

# Six '$'-separated fields like a real hash, but not the scrypt scheme: never matches.
SHADOW_PASSWORD = "directory$-$-$-$-$-"
NO_GROUP_REASON = "no_group"
UNAVAILABLE_REASON = "directory_unavailable"
NAME_CLASH = "name_clash"

NONE, LOCAL, SHADOW = "none", "local", "shadow"


def account_kind(users: UserStore, username: str) -> str:
    """Whether ``username`` is no account, a local one, or a directory user's shadow."""
    with users.writing() as conn:
        row = conn.execute("SELECT password FROM users WHERE username = ?",
                           [username]).fetchone()
    if row is None:
        return NONE
    return SHADOW if row[0] == SHADOW_PASSWORD else LOCAL


def refresh_shadow(users: UserStore, username: str, grant: GroupRole,
                   now: dt.datetime) -> User:
    """Create or update the shadow account with the grant's role and scope, enabled."""
    scope = grant.parsed_scope().text()
    with users.writing() as conn:
        row = conn.execute("SELECT role, scope, enabled, password FROM users "
                           "WHERE username = ?", [username]).fetchone()
        if row is None:
            conn.execute(
                "INSERT INTO users (username, role, password, enabled, created_utc, scope, "
                "language) VALUES (?, ?, ?, 1, ?, ?, ?)",
                [username, grant.role, SHADOW_PASSWORD, utc_text(now), scope,
                 DEFAULT_LANGUAGE])
        elif row[3] != SHADOW_PASSWORD:
            raise InvalidAccount(f"{username!r} is a local account")
        elif (row[0], row[1], bool(row[2])) != (grant.role, scope, True):
            conn.execute("UPDATE users SET role = ?, scope = ?, enabled = 1 "
                         "WHERE username = ?", [grant.role, scope, username])
        else:
            row = ()  # unchanged: nothing to log
    if row is None:
        log.info("directory user %s signed on first: role %s, scope %s", username,
                 grant.role, scope)
    elif row:
        log.info("directory user %s now has role %s, scope %s (was %s, %s%s)", username,
                 grant.role, scope, row[0], row[1], "" if row[2] else ", disabled")
    return users.user(username)


def withdraw_shadow(users: UserStore, username: str) -> None:
    """The user is in no mapped group any more: disable the shadow, end its sessions."""
    with users.writing() as conn:
        cur = conn.execute("UPDATE users SET enabled = 0 WHERE username = ? AND password = ? "
                           "AND enabled = 1", [username, SHADOW_PASSWORD])
    if cur.rowcount:
        users.revoke_access(username)
        log.info("directory user %s is in no mapped group any more: disabled, sessions "
                 "ended", username)


def _audit(audit: AuditLog, name: str, outcome: LoginOutcome, *, client: str, via: str,
           source: str, now: dt.datetime) -> None:
    user = outcome.user
    detail = f"via={via}; source={source}" if user else \
        f"reason={outcome.reason}; via={via}; source={source}"
    try:
        audit.append(actor=name, role=user.role if user else "none",
                     action=LOGIN if user else LOGIN_FAILED, object_type="user",
                     object_id=name, client=client, detail=detail, utc=now)
    except (StorageError, sqlite3.Error) as exc:
        log.error("audit log write failed (%s) for a login of %r", exc, name)
    if user is None:
        log.info("login of %r from %s refused: %s (%s)", name, client, outcome.reason, source)


def _local(users: UserStore, name: str, password: str, client: str,
           at: dt.datetime) -> LoginOutcome:
    """The local password, the guard already consulted."""
    user = users.authenticate(name, password)
    if user is None:
        locked = users.guard.failed(name, client, at, known=True)
        return LoginOutcome(None, "locked_now" if locked else "bad_credentials")
    users.guard.succeeded(name)
    return LoginOutcome(user, OK)


def _ask(directory: Directory, name: str, password: str) -> DirectoryAnswer:
    try:
        check_username(name)  # a shadow account must be a valid HQ name; nothing else asks
    except InvalidAccount:
        return DirectoryAnswer(UNKNOWN)
    return directory.sign_on(name, password)


def _decide(users: UserStore, directory: Directory, name: str, password: str,
            client: str, at: dt.datetime) -> tuple[LoginOutcome, str]:
    """The outcome and which source decided it (local or directory)."""
    kind = account_kind(users, name)
    if kind == LOCAL and directory.config.order == "local_first":
        return _local(users, name, password, client, at), "local"
    answer = _ask(directory, name, password)
    if answer.status == ACCEPTED and answer.grant is not None:
        if kind == LOCAL:
            log.warning("directory user %s has the name of a local account; refused "
                        "(rename one of them)", name)
            return LoginOutcome(None, NAME_CLASH), "directory"
        user = refresh_shadow(users, name, answer.grant, at)
        users.guard.succeeded(name)
        return LoginOutcome(user, OK), "directory"
    if answer.status == NO_GROUP:
        if kind == SHADOW:
            withdraw_shadow(users, name)
        return LoginOutcome(None, NO_GROUP_REASON), "directory"
    if answer.status == BAD_CREDENTIALS:
        locked = users.guard.failed(name, client, at, known=kind != NONE)
        return LoginOutcome(None, "locked_now" if locked else "bad_credentials"), "directory"
    if kind == LOCAL:  # directory_first: unknown to the directory, or it is down
        return _local(users, name, password, client, at), "local"
    if answer.status == UNAVAILABLE:
        return LoginOutcome(None, UNAVAILABLE_REASON), "directory"
    users.guard.failed(name, client, at, known=kind != NONE)
    return LoginOutcome(None, "bad_credentials"), "directory"


def sign_on(users: UserStore, audit: AuditLog, directory: Directory | None, username: str,
            password: str, *, client: str, via: str, now: dt.datetime) -> LoginOutcome:
    """One login: local accounts only without a directory, else as ``directory.order`` says."""
    if directory is None:
        return attempt_login(users, audit, username, password, client=client, via=via, now=now)
    at = utc_now(now)
    name = username[:64] if isinstance(username, str) else ""
    verdict = users.guard.check(name, client, at)
    if not verdict.allowed:
        outcome, source = LoginOutcome(None, verdict.reason, verdict.retry_after_s), "guard"
    else:
        outcome, source = _decide(users, directory, name, password, client, at)
    _audit(audit, printable(name) or "-", outcome, client=client, via=via, source=source,
           now=at)
    return outcome
