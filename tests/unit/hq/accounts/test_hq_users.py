"""HQ user accounts: roles, scrypt hashes, bearer tokens with explicit time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from hq.accounts.users import (
    PERMISSIONS,
    InvalidAccount,
    UnknownUser,
    UserExists,
    UserStore,
    allowed,
    hash_password,
    verify_password,
)
from hq.storage.sqlite import connect
from tests.servers.postgres_fixtures import Backend

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
PW = "correct horse battery"


@pytest.fixture
def store(tmp_path: Path, backend: Backend) -> Iterator[UserStore]:
    s = UserStore(backend.use(tmp_path) / "users.db")
    yield s
    s.close()


@pytest.mark.parametrize(("role", "action", "expected"), [
    ("admin", "manage_users", True),
    ("admin", "read_audit", True),
    ("admin", "search", True),  # admin: everything, over the whole tree (issue 14)
    ("admin", "download", True),
    ("admin", "play", True),
    ("hall_supervisor", "search", True),
    ("hall_supervisor", "view", True),
    ("hall_supervisor", "play", True),
    ("hall_supervisor", "download", True),
    ("hall_supervisor", "read_audit", False),
    ("hall_supervisor", "manage_users", False),
    ("branch_manager", "download", True),
    ("branch_manager", "manage_org", True),
    ("branch_manager", "manage_users", False),
    ("auditor", "download", True),
    ("auditor", "read_audit", True),
    ("auditor", "manage_users", False),
    ("viewer", "figures", True),
    ("viewer", "search", False),
    ("viewer", "play", False),
    ("viewer", "download", False),
    ("supervisor", "search", False),  # legacy name: migrated, never granted
    ("nobody", "search", False),
])
def test_permission_table(role: str, action: str, expected: bool) -> None:
    assert allowed(role, action) is expected


def test_the_five_roles_exist() -> None:
    assert set(PERMISSIONS) == {"admin", "branch_manager", "hall_supervisor", "auditor",
                                "viewer"}


def test_password_is_stored_as_salted_scrypt_not_plaintext(
        store: UserStore, tmp_path: Path) -> None:
    store.create_user("ann", PW, "hall_supervisor", now=T0)
    store.create_user("bob", PW, "hall_supervisor", now=T0)
    conn = connect(tmp_path / "users.db")  # the stored rows, on either back-end
    rows = dict(conn.execute("SELECT username, password FROM users").fetchall())
    conn.close()
    assert all(PW not in v for v in rows.values())
    assert all(v.startswith("scrypt$16384$8$1$") for v in rows.values())
    assert rows["ann"] != rows["bob"]  # per-user salt
    assert verify_password(PW, rows["ann"]) and not verify_password(PW + "x", rows["ann"])


@pytest.mark.parametrize("stored", ["", "md5$x", "scrypt$16384$8$1$!!$!!", "a$b$c$d$e$f"])
def test_malformed_stored_hash_never_verifies(stored: str) -> None:
    assert verify_password(PW, stored) is False


def test_same_salt_gives_the_same_hash_and_a_new_salt_another() -> None:
    salt = b"s" * 16
    assert hash_password(PW, salt=salt) == hash_password(PW, salt=salt)
    assert hash_password(PW) != hash_password(PW)


@pytest.mark.parametrize(("username", "password", "disable", "ok"), [
    ("ann", PW, False, True),
    ("ann", PW + "!", False, False),
    ("ann", "", False, False),
    ("nobody", PW, False, False),
    ("ann", PW, True, False),
    ("ann", "x" * 5000, False, False),
])
def test_authenticate(store: UserStore, username: str, password: str, disable: bool,
                      ok: bool) -> None:
    store.create_user("ann", PW, "auditor", now=T0)
    if disable:
        store.disable_user("ann")
    user = store.authenticate(username, password)
    assert (user is not None) is ok
    if user is not None:
        assert (user.username, user.role, user.enabled) == ("ann", "auditor", True)


@pytest.mark.parametrize(("username", "password", "role", "error"), [
    ("Ann", PW, "hall_supervisor", InvalidAccount),  # upper case
    ("a/b", PW, "hall_supervisor", InvalidAccount),
    ("", PW, "hall_supervisor", InvalidAccount),
    ("ann", "short", "hall_supervisor", InvalidAccount),
    ("ann", PW, "root", InvalidAccount),
    ("taken", PW, "hall_supervisor", UserExists),
])
def test_create_user_refuses_bad_accounts(store: UserStore, username: str, password: str,
                                          role: str, error: type[Exception]) -> None:
    store.create_user("taken", PW, "admin", now=T0)
    with pytest.raises(error):
        store.create_user(username, password, role)
    assert [u.username for u in store.users()] == ["taken"]


def test_set_password_replaces_it_and_revokes_tokens(store: UserStore) -> None:
    store.create_user("ann", PW, "hall_supervisor", now=T0)
    token = store.issue_token("ann", dt.timedelta(hours=1), now=T0).token
    store.set_password("ann", "another long password")
    assert store.authenticate("ann", PW) is None
    assert store.authenticate("ann", "another long password") is not None
    assert store.user_for_token(token, T0) is None
    with pytest.raises(UnknownUser):
        store.set_password("nobody", "another long password")


@pytest.mark.parametrize(("offset", "live"), [
    (dt.timedelta(0), True),
    (dt.timedelta(minutes=59, seconds=59), True),
    (dt.timedelta(hours=1), False),  # expiry is exclusive
    (dt.timedelta(days=2), False),
])
def test_token_expiry(store: UserStore, offset: dt.timedelta, live: bool) -> None:
    store.create_user("ann", PW, "hall_supervisor", now=T0)
    issued = store.issue_token("ann", dt.timedelta(hours=1), now=T0)
    assert issued.expires == T0 + dt.timedelta(hours=1)
    user = store.user_for_token(issued.token, T0 + offset)
    assert (user is not None) is live


def test_revoked_token_and_disabled_user_are_refused(store: UserStore) -> None:
    store.create_user("ann", PW, "hall_supervisor", now=T0)
    store.create_user("bob", PW, "auditor", now=T0)
    a = store.issue_token("ann", now=T0).token
    b = store.issue_token("bob", now=T0).token
    assert store.user_for_token(a, T0).username == "ann"  # type: ignore[union-attr]
    assert store.revoke_token(a) is True
    assert store.revoke_token(a) is False
    assert store.user_for_token(a, T0) is None
    store.disable_user("bob")
    assert store.user_for_token(b, T0) is None
    with pytest.raises(InvalidAccount):
        store.issue_token("bob", now=T0)


@pytest.mark.parametrize("token", ["", "x" * 300, "not-a-token", "' OR 1=1 --"])
def test_unknown_tokens_find_nobody(store: UserStore, token: str) -> None:
    store.create_user("ann", PW, "hall_supervisor", now=T0)
    store.issue_token("ann", now=T0)
    assert store.user_for_token(token, T0) is None


def test_token_is_stored_hashed(store: UserStore, tmp_path: Path) -> None:
    store.create_user("ann", PW, "hall_supervisor", now=T0)
    token = store.issue_token("ann", now=T0).token
    conn = connect(tmp_path / "users.db")  # the stored rows, on either back-end
    stored = [r[0] for r in conn.execute("SELECT token_sha256 FROM tokens")]
    conn.close()
    assert len(stored) == 1 and token not in stored[0] and len(stored[0]) == 64


@pytest.mark.parametrize("ttl", [dt.timedelta(0), dt.timedelta(seconds=-1),
                                 dt.timedelta(days=8)])
def test_token_lifetime_is_bounded(store: UserStore, ttl: dt.timedelta) -> None:
    store.create_user("ann", PW, "hall_supervisor", now=T0)
    with pytest.raises(InvalidAccount):
        store.issue_token("ann", ttl, now=T0)


def test_accounts_survive_reopening(tmp_path: Path) -> None:
    first = UserStore(tmp_path / "users.db")
    first.create_user("ann", PW, "auditor", now=T0)
    token = first.issue_token("ann", now=T0).token
    first.close()
    again = UserStore(tmp_path / "users.db")
    try:
        assert again.user("ann").role == "auditor"
        assert again.user_for_token(token, T0) is not None
    finally:
        again.close()
