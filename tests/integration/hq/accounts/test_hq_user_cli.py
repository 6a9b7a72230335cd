"""``counterunit hq user-*`` on a real data folder: add with scope, disable, enable,
password, unlock, revoke, each audited as done by ``cli``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from hq.accounts.users import UserStore
from hq.cli import main
from hq.storage import SqliteAuditLog

PW = "a long enough password"


def _users(data: Path) -> UserStore:
    return UserStore(data / "users.db")


def test_user_commands_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = str(tmp_path)
    assert main(["user-add", "--data", data, "--username", "mgr", "--role", "branch_manager",
                 "--scope", "branch:b1", "--email", "mgr@bank.example", "--language", "en",
                 "--password", PW]) == 0
    assert "scope branch:b1" in capsys.readouterr().out
    assert main(["user-add", "--data", data, "--username", "nos", "--role", "viewer",
                 "--password", PW]) == 1
    assert "needs a scope" in capsys.readouterr().err
    assert main(["user-add", "--data", data, "--username", "x", "--role", "viewer",
                 "--scope", "region:r1", "--password", PW]) == 1
    assert "must be 'all'" in capsys.readouterr().err

    users = _users(tmp_path)
    token = users.issue_token("mgr").token
    session, _ = users.sessions.create("mgr", "10.0.0.1", dt.datetime.now(dt.UTC))
    u = users.user("mgr")
    assert (u.role, u.scope.text(), u.contact.email, u.language) == (
        "branch_manager", "branch:b1", "mgr@bank.example", "en")
    users.close()

    assert main(["user-revoke", "--data", data, "--username", "mgr"]) == 0
    assert "2 session(s)/token(s) ended" in capsys.readouterr().out
    users = _users(tmp_path)
    assert users.user_for_token(token) is None and users.user_for_session(session) is None
    for i in range(10):  # lock it: 10 consecutive failures, time driven past the window
        users.login("mgr", "wrong password!", "10.0.0.1",
                    dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=16 * (i // 5)))
    assert users.guard.locked("mgr")
    users.close()

    assert main(["user-unlock", "--data", data, "--username", "mgr"]) == 0
    assert "unlocked" in capsys.readouterr().out
    assert main(["user-disable", "--data", data, "--username", "mgr"]) == 0
    assert _users(tmp_path).authenticate("mgr", PW) is None
    assert main(["user-enable", "--data", data, "--username", "mgr"]) == 0
    assert main(["user-password", "--data", data, "--username", "mgr", "--password",
                 "another long password"]) == 0
    users = _users(tmp_path)
    assert users.authenticate("mgr", "another long password") is not None
    assert users.authenticate("mgr", PW) is None
    users.close()
    assert main(["user-disable", "--data", data, "--username", "nobody"]) == 1
    assert "no user 'nobody'" in capsys.readouterr().err

    audit = SqliteAuditLog(tmp_path / "audit.db")
    actions = [r.action for r in audit.query(actor="cli", limit=100)]
    audit.close()
    assert actions == ["user_create", "user_revoke", "user_unlock", "user_disable",
                       "user_enable", "user_password"]
