"""The directory's pure rules, table-first: filter escaping, DN comparison, group choice."""

from __future__ import annotations

import pytest

from hq.accounts.directory import normal_dn, pick_grant, user_filter
from hq.accounts.directory_config import GroupRole

MANAGERS = "cn=branch-b1-managers,ou=groups,dc=bank"
VIEWERS = "cn=hq-viewers,ou=groups,dc=bank"
GROUPS = {MANAGERS: GroupRole(role="branch_manager", scope="branch:B1"),
          VIEWERS: GroupRole(role="viewer", scope="all")}


@pytest.mark.parametrize(("name", "want"), [
    ("alice", "(uid=alice)"),
    ("*", r"(uid=\2a)"),
    ("*)(uid=*", r"(uid=\2a\29\28uid=\2a)"),
    ("a\\b", r"(uid=a\5cb)"),
    ("nul\x00", r"(uid=nul\00)"),
    ("o'brien.x@bank", "(uid=o'brien.x@bank)"),
])
def test_user_filter_escapes_rfc4515(name: str, want: str) -> None:
    assert user_filter("(uid={username})", name) == want


@pytest.mark.parametrize(("a", "b", "same"), [
    ("CN=Branch-B1-Managers, OU=Groups, DC=Bank", MANAGERS, True),
    ("cn=branch-b1-managers,ou=groups,dc=bank", MANAGERS, True),
    ("cn=branch-b2-managers,ou=groups,dc=bank", MANAGERS, False),
    ("cn=branch-b1-managers,ou=groups", MANAGERS, False),
])
def test_dns_compare_as_directories_do(a: str, b: str, same: bool) -> None:
    assert (normal_dn(a) == normal_dn(b)) is same


@pytest.mark.parametrize(("member_of", "want"), [
    ([], None),
    (["cn=canteen,ou=groups,dc=bank"], None),
    ([VIEWERS], ("viewer", "all")),
    ([VIEWERS, MANAGERS.upper()], ("branch_manager", "branch:B1")),  # the file's order wins
])
def test_first_mapped_group_in_file_order(member_of: list[str],
                                          want: tuple[str, str] | None) -> None:
    picked = pick_grant(GROUPS, member_of)
    assert (None if picked is None else (picked[1].role, picked[1].scope)) == want
