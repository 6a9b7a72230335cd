"""``counterunit hq user-*``: accounts from the terminal (the first admin, and recovery).

user-add, user-disable, user-enable, user-password, user-unlock and user-revoke work on
the data folder's users.db; each change is written to the audit log as done by
``cli`` (the operator at the server's terminal). Passwords are asked on the terminal
unless given (``--password`` is for scripts; it shows in the process list).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from pathlib import Path

from hq.accounts.roles import ROLES, scope_rule
from hq.accounts.users import LANGUAGES, Contact, UserError, UserStore
from hq.storage import SqliteAuditLog
from hq.storage.scope import Scope


def _audit(data: Path, action: str, username: str, detail: str = "") -> None:
    audit = SqliteAuditLog(data / "audit.db")
    try:
        audit.append(actor="cli", role="admin", action=action, object_type="user",
                     object_id=username, client="terminal", detail=detail)
    finally:
        audit.close()


def _password(args: argparse.Namespace) -> str:
    return args.password or getpass.getpass(f"password for {args.username}: ")


def _with_store(args: argparse.Namespace, work: Callable[[UserStore], str],
                failure: str = "refused") -> int:
    users = UserStore(args.data / "users.db")
    try:
        message = work(users)
    except UserError as exc:
        print(f"{args.command}: {failure}: {exc}", file=sys.stderr)
        return 1
    finally:
        users.close()
    print(message)
    return 0


def _add(args: argparse.Namespace) -> int:
    try:
        scope = Scope.parse(args.scope) if args.scope else None
    except ValueError as exc:
        print(f"user-add: cannot add user: {exc}", file=sys.stderr)
        return 1
    problem = scope_rule(args.role, scope)
    if problem:
        print(f"user-add: cannot add user: {problem} (--scope)", file=sys.stderr)
        return 1

    def work(users: UserStore) -> str:
        u = users.create_user(args.username, _password(args), args.role, scope=scope,
                              language=args.language,
                              contact=Contact(args.email, args.phone, args.im))
        _audit(args.data, "user_create", u.username, f"role={u.role}; scope={u.scope.text()}")
        return f"user {u.username} ({u.role}, scope {u.scope.text()}) added"

    return _with_store(args, work, "cannot add user")


def _disable(args: argparse.Namespace) -> int:
    def work(users: UserStore) -> str:
        users.disable_user(args.username)
        _audit(args.data, "user_disable", args.username)
        return f"user {args.username} disabled; their sessions and tokens are ended"

    return _with_store(args, work)


def _enable(args: argparse.Namespace) -> int:
    def work(users: UserStore) -> str:
        users.enable_user(args.username)
        _audit(args.data, "user_enable", args.username)
        return f"user {args.username} enabled"

    return _with_store(args, work)


def _set_password(args: argparse.Namespace) -> int:
    def work(users: UserStore) -> str:
        users.user(args.username)  # unknown names fail before a password is asked
        users.set_password(args.username, _password(args))
        _audit(args.data, "user_password", args.username)
        return f"password of {args.username} changed; their sessions and tokens are ended"

    return _with_store(args, work)


def _unlock(args: argparse.Namespace) -> int:
    def work(users: UserStore) -> str:
        was = users.unlock(args.username)
        _audit(args.data, "user_unlock", args.username, f"was_locked={int(was)}")
        return f"user {args.username} " + ("unlocked" if was else "was not locked")

    return _with_store(args, work)


def _revoke(args: argparse.Namespace) -> int:
    def work(users: UserStore) -> str:
        users.user(args.username)
        n = users.revoke_access(args.username)
        _audit(args.data, "user_revoke", args.username, f"ended={n}")
        return f"user {args.username}: {n} session(s)/token(s) ended"

    return _with_store(args, work)


def add_user_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The user-* subcommands of ``counterunit hq``."""
    p = sub.add_parser("user-add", help="add an HQ user (the first admin, typically)")
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--username", required=True)
    p.add_argument("--role", choices=sorted(ROLES), required=True)
    p.add_argument("--scope", help="all, branch:ID or hall:ID (admin: all, the default)")
    p.add_argument("--language", choices=LANGUAGES, default=LANGUAGES[0])
    p.add_argument("--email")
    p.add_argument("--phone")
    p.add_argument("--im", help="instant-messaging id (DingTalk/WeCom/Feishu...)")
    p.add_argument("--password", help="default: asked on the terminal")
    p.set_defaults(func=_add)
    for name, func, what in (
            ("user-disable", _disable, "stop a user logging in; end their sessions"),
            ("user-enable", _enable, "let a disabled user log in again"),
            ("user-password", _set_password, "set a user's password; end their sessions"),
            ("user-unlock", _unlock, "lift the lock after repeated failed logins"),
            ("user-revoke", _revoke, "end every session and token of a user")):
        p = sub.add_parser(name, help=what)
        p.add_argument("--data", type=Path, required=True)
        p.add_argument("--username", required=True)
        if name == "user-password":
            p.add_argument("--password", help="default: asked on the terminal")
        p.set_defaults(func=func)
