"""The scope is applied once, in the storage queries: a table of scopes x transactions.

Also who a node's alerts go to (UserStore.in_scope) and the role/scope rules.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hq.accounts.roles import covers, scope_rule
from hq.accounts.users import InvalidAccount, UserStore
from hq.storage import TransactionQuery
from hq.storage.events import SqliteEventStore
from hq.storage.scope import Scope
from tests.helpers.hq.scope import seed_transactions, seed_tree

PW = "a long enough password"


@pytest.fixture(scope="module")
def events(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SqliteEventStore]:
    path = tmp_path_factory.mktemp("scope") / "events.db"
    store = SqliteEventStore(path)
    seed_tree(path)
    seed_transactions(store)
    store.ingest("u-unbound", [])  # a unit with no window sends nothing here
    yield store
    store.close()


@pytest.mark.parametrize(("scope", "visible"), [
    ("all", ["t3", "t2", "t1"]),
    ("branch:b1", ["t2", "t1"]),
    ("branch:b2", ["t3"]),
    ("hall:h1", ["t1"]),
    ("hall:h3", ["t3"]),
    ("branch:nope", []),
    ("hall:b1", []),  # a branch id is not a hall id
    ("branch:b1' OR '1'='1", []),
])
def test_search_and_lookup_see_only_the_scope(events: SqliteEventStore, scope: str,
                                              visible: list[str]) -> None:
    s = Scope.parse(scope)
    assert [t.txn_id for t in events.search_transactions(TransactionQuery(), s)] == visible
    for txn, unit in (("t1", "u1"), ("t2", "u2"), ("t3", "u3")):
        found = events.transaction(txn, unit, s)
        assert (found is not None) is (txn in visible)
        assert (events.transaction(txn, None, s) is not None) is (txn in visible)
        assert events.clip_in_scope(unit, txn, s) is (txn in visible)


def test_filters_combine_with_the_scope(events: SqliteEventStore) -> None:
    b1 = Scope.parse("branch:b1")
    assert events.search_transactions(TransactionQuery(unit_id="u3"), b1) == []
    (t,) = events.search_transactions(TransactionQuery(unit_id="u2"), b1)
    assert t.txn_id == "t2"


@pytest.mark.parametrize(("role", "scope", "problem"), [
    ("admin", None, False), ("admin", "all", False), ("admin", "branch:b1", True),
    ("viewer", None, True), ("viewer", "hall:h1", False), ("branch_manager", "branch:b1", False),
    ("hall_supervisor", "all", False), ("auditor", None, True),
])
def test_scope_rule(role: str, scope: str | None, problem: bool) -> None:
    assert (scope_rule(role, Scope.parse(scope) if scope else None) is not None) is problem


@pytest.mark.parametrize(("scope", "branch", "hall", "expected"), [
    ("all", "b1", None, True), ("branch:b1", "b1", "h1", True), ("branch:b1", "b2", "h3", False),
    ("hall:h1", "b1", "h1", True), ("hall:h1", "b1", None, False), ("hall:h1", "b1", "h2", False),
])
def test_covers(scope: str, branch: str, hall: str | None, expected: bool) -> None:
    assert covers(Scope.parse(scope), branch, hall) is expected


def test_in_scope_finds_the_users_a_node_concerns(tmp_path: Path) -> None:
    users = UserStore(tmp_path / "users.db")
    try:
        for name, role, scope in (("hq", "branch_manager", "all"),
                                  ("m1", "branch_manager", "branch:b1"),
                                  ("m2", "branch_manager", "branch:b2"),
                                  ("s1", "hall_supervisor", "hall:h1"),
                                  ("s2", "hall_supervisor", "hall:h2"),
                                  ("off", "hall_supervisor", "hall:h1")):
            users.create_user(name, PW, role, scope=Scope.parse(scope))
        users.disable_user("off")
        names = lambda us: [u.username for u in us]  # noqa: E731
        assert names(users.in_scope("branch_manager", "b1", "h1")) == ["hq", "m1"]
        assert names(users.in_scope("hall_supervisor", "b1", "h1")) == ["s1"]
        assert names(users.in_scope("hall_supervisor", "b1", None)) == []
        assert names(users.in_scope("branch_manager", "b2")) == ["hq", "m2"]
        assert names(users.in_scope("viewer", "b1", "h1")) == []
        with pytest.raises(InvalidAccount):
            users.create_user("bad", PW, "admin", scope=Scope.parse("branch:b1"))
    finally:
        users.close()


def test_contact_and_language_are_checked_and_kept(tmp_path: Path) -> None:
    from hq.accounts.users import Contact

    users = UserStore(tmp_path / "users.db")
    try:
        u = users.create_user("ann", PW, "viewer", scope=Scope.parse("hall:h1"), language="en",
                              contact=Contact("ann@bank.example", "+86 138 0000 0000", "ann"))
        assert (u.language, u.contact.email, u.scope.text()) == ("en", "ann@bank.example",
                                                                 "hall:h1")
        for bad in (Contact(email="not-an-address"), Contact(phone="call me"),
                    Contact(im="x\u202e")):
            with pytest.raises(InvalidAccount):
                users.set_contact("ann", bad)
        with pytest.raises(InvalidAccount):
            users.set_language("ann", "fr")
    finally:
        users.close()


def test_an_old_users_db_is_migrated(tmp_path: Path) -> None:
    import sqlite3

    conn = sqlite3.connect(tmp_path / "users.db")
    conn.executescript(
        "CREATE TABLE users (username TEXT PRIMARY KEY, role TEXT NOT NULL, password TEXT "
        "NOT NULL, enabled INTEGER NOT NULL, created_utc TEXT NOT NULL);"
        "INSERT INTO users VALUES ('old', 'supervisor', 'x', 1, '2026-01-01T00:00:00.000000Z');")
    conn.close()
    users = UserStore(tmp_path / "users.db")
    try:
        u = users.user("old")
        assert (u.role, u.scope.text(), u.language) == ("hall_supervisor", "all", "zh-CN")
    finally:
        users.close()


def test_users_db_is_private(tmp_path: Path) -> None:
    users = UserStore(tmp_path / "users.db")
    try:
        users.create_user("ann", PW, "admin")
        for name in ("users.db", "users.db-wal"):
            assert (tmp_path / name).stat().st_mode & 0o777 == 0o600, name
    finally:
        users.close()
