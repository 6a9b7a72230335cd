"""Login throttling and lockout: the rule as a table, then the store with explicit time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from hq.accounts.login_guard import GuardPolicy, Recent, decide
from hq.accounts.users import UserStore
from hq.storage.scope import Scope
from tests.servers.postgres_fixtures import Backend

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
PW = "a long enough password"
P = GuardPolicy()  # window 15 min, 5 per user, 20 per address, lock after 10
M = dt.timedelta(minutes=1)


@pytest.mark.parametrize(("recent", "reason", "retry"), [
    (Recent(0, None, 0, None, False), "ok", 0),
    (Recent(4, T0, 4, T0, False), "ok", 0),
    (Recent(5, T0, 5, T0, False), "throttled_user", 15 * 60),
    (Recent(5, T0 - 10 * M, 5, T0, False), "throttled_user", 5 * 60),
    (Recent(0, None, 20, T0 - 14 * M, False), "throttled_address", 60),
    (Recent(5, T0, 20, T0 - 14 * M, False), "throttled_address", 60),  # address first
    (Recent(0, None, 0, None, True), "locked", 0),
    (Recent(9, T0, 30, T0, True), "locked", 0),
])
def test_decide(recent: Recent, reason: str, retry: int) -> None:
    v = decide(P, recent, T0)
    assert (v.reason, v.retry_after_s) == (reason, retry)


@pytest.fixture
def users(tmp_path: Path, backend: Backend) -> Iterator[UserStore]:
    s = UserStore(backend.use(tmp_path) / "users.db")
    s.create_user("ann", PW, "viewer", scope=Scope.parse("branch:b1"))
    s.create_user("bob", PW, "viewer", scope=Scope.parse("branch:b1"))
    yield s
    s.close()


def test_sixty_fast_guesses_then_the_right_password_is_refused(users: UserStore) -> None:
    reasons = [users.login("ann", f"guess {i:04d} wrong", "10.0.0.9", T0 + i * dt.timedelta(
        milliseconds=45)).reason for i in range(60)]
    assert reasons == ["bad_credentials"] * 5 + ["throttled_user"] * 55
    right = users.login("ann", PW, "10.0.0.9", T0 + 3 * dt.timedelta(seconds=1))
    assert right.user is None and right.reason == "throttled_user"
    assert right.retry_after_s > 14 * 60
    # Another address is not let through either: the username's own limit holds.
    assert users.login("ann", PW, "10.0.0.10", T0 + 4 * dt.timedelta(seconds=1)).user is None
    # After the window the right password works (not locked: only 5 tested).
    later = users.login("ann", PW, "10.0.0.9", T0 + 16 * M)
    assert later.user is not None and later.reason == "ok"


def test_ten_consecutive_failures_lock_until_an_admin_unlocks(users: UserStore) -> None:
    t = T0
    outcomes = []
    for _ in range(2):
        outcomes += [users.login("ann", "wrong password!", "10.0.0.1", t).reason
                     for _ in range(5)]
        t += 16 * M
    assert outcomes == ["bad_credentials"] * 9 + ["locked_now"]
    assert users.guard.locked("ann")
    assert users.login("ann", PW, "10.0.0.1", t + 60 * M).reason == "locked"
    assert users.login("ann", PW, "10.0.0.1", t + 48 * 60 * M).reason == "locked"
    assert users.unlock("ann") is True and users.unlock("ann") is False
    assert users.login("ann", PW, "10.0.0.1", t + 61 * M).user is not None


def test_a_success_resets_the_consecutive_count(users: UserStore) -> None:
    t = T0
    for _ in range(3):
        for _ in range(4):
            users.login("ann", "wrong password!", "10.0.0.1", t)
        assert users.login("ann", PW, "10.0.0.1", t).user is not None
        t += 16 * M
    assert not users.guard.locked("ann")


def test_the_address_limit_holds_across_usernames(users: UserStore) -> None:
    names = [f"nobody{i}" for i in range(5)]
    for name in names:  # 4 failures each: under the per-user limit, 20 for the address
        for _ in range(4):
            assert users.login(name, "wrong password!", "10.0.0.66", T0).reason == \
                "bad_credentials"
    refused = users.login("bob", PW, "10.0.0.66", T0 + M)
    assert (refused.user, refused.reason) == (None, "throttled_address")
    assert users.login("bob", PW, "10.0.0.67", T0 + M).user is not None  # another address
    assert users.login("bob", PW, "10.0.0.66", T0 + 16 * M).user is not None


def test_unknown_names_never_lock_and_leave_no_lock_rows(users: UserStore) -> None:
    for i in range(12):
        users.login("ghost", "wrong password!", f"10.1.0.{i}", T0 + i * 2 * M)
    assert not users.guard.locked("ghost")
