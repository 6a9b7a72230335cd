"""Every page and every /v1 user endpoint, for every role, inside and outside its scope.

The tree (tests/helpers/hq/scope.py): branch b1 with halls h1, h2; branch b2 with h3;
one transaction and clip per hall: t1 (unit u1, h1), t2 (u2, h2), t3 (u3, h3). Each role
has one user whose scope lies in b1 (the hall supervisor's is h1); "inside" is t1,
"outside" is t3 in b2. For each case the table says which permission it needs; then
- no permission: 403;
- a case naming one object (``node``): 200 inside, 404 outside unless the scope covers b2;
- a list: 200, showing the inside marker and never the outside one (unless covered).

TO ADD A PAGE OR ENDPOINT: append a Case to CASES (paths take {unit} and {txn}; the
markers take them too). Nothing else changes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import pytest
import requests

from hq.accounts import roles
from hq.accounts.roles import allowed
from hq.server.embedded import EmbeddedHQ, running_hq
from hq.storage.scope import Scope
from tests.helpers.hq.scope import seed_transactions, seed_tree
from tests.helpers.hq.web import page_session

PW = "a long enough password"
ROLE_SCOPES = {"admin": "all", "branch_manager": "branch:b1", "hall_supervisor": "hall:h1",
               "auditor": "branch:b1", "viewer": "branch:b1"}
INSIDE = {"unit": "u1", "txn": "t1", "branch": "b1"}
OUTSIDE = {"unit": "u3", "txn": "t3", "branch": "b2"}


@dataclass(frozen=True)
class Case:
    """One page or endpoint: how to ask, what it needs, how to tell whose rows it shows."""

    name: str
    kind: Literal["page", "api"]
    path: str  # may use {unit}, {txn}, {branch}
    permission: str  # from hq.accounts.roles
    node: bool = False  # names one object: 404 outside the scope
    marker: str | None = None  # text present for inside rows; for outside, never shown
    filtered: bool = False  # the path itself asks for the node's rows (e.g. ?branch=)
    headers: tuple[tuple[str, str], ...] = ()


CASES: list[Case] = [
    # /v1 user API (bearer tokens)
    Case("api search", "api", "/v1/transactions", roles.SEARCH, marker='"txn_id":"{txn}"'),
    Case("api search by branch", "api", "/v1/transactions?branch={branch}", roles.SEARCH,
         marker='"txn_id":"{txn}"', filtered=True),
    Case("api transaction", "api", "/v1/transactions/{unit}/{txn}", roles.VIEW, node=True),
    Case("api clip download", "api", "/v1/clips/{unit}/{txn}", roles.DOWNLOAD, node=True),
    Case("api clip play", "api", "/v1/clips/{unit}/{txn}", roles.PLAY, node=True,
         headers=(("Range", "bytes=0-9"),)),
    Case("api audit", "api", "/v1/audit?action=transaction_view", roles.READ_AUDIT,
         marker='"object_id":"{unit}/{txn}"'),
    Case("api users", "api", "/v1/users", roles.MANAGE_USERS),
    Case("api org tree", "api", "/v1/org/tree", roles.FIGURES, marker='"branch_id":"{branch}"'),
    Case("api org units", "api", "/v1/org/units", roles.FIGURES, marker='"unit_id":"{unit}"'),
    # pages (session cookie)
    Case("page home", "page", "/", roles.FIGURES),
    Case("page users", "page", "/users", roles.MANAGE_USERS),
    Case("page audit", "page", "/audit?action=recordings", roles.READ_AUDIT,
         marker="{unit}/{txn}"),
    Case("page org", "page", "/org", roles.MANAGE_ORG, marker='data-branch="{branch}"'),
    Case("page staff", "page", "/staff", roles.MANAGE_ORG),
    Case("page schedules", "page", "/schedules", roles.MANAGE_ORG),
    Case("page dashboard", "page", "/", roles.FIGURES, marker='data-branch="{branch}"'),
    Case("page transactions", "page", "/transactions", roles.SEARCH,
         marker='data-txn="{unit}/{txn}"'),
    Case("page transaction", "page", "/transactions/{unit}/{txn}", roles.VIEW, node=True),
    Case("page clip download", "page", "/transactions/{unit}/{txn}/clip?download=1",
         roles.DOWNLOAD, node=True),
    Case("page clip play", "page", "/transactions/{unit}/{txn}/clip", roles.PLAY, node=True,
         headers=(("Range", "bytes=0-9"),)),
    Case("page clip by id", "page", "/clips/{unit}/{txn}", roles.PLAY, node=True,
         headers=(("Range", "bytes=0-9"),)),
    Case("page clip by id download", "page", "/clips/{unit}/{txn}?download=1",
         roles.DOWNLOAD, node=True),
    Case("page windows", "page", "/windows?from=2026-03-01&to=2026-03-03", roles.FIGURES),
    Case("page events", "page", "/events?from=2026-03-01&to=2026-03-03", roles.FIGURES),
    Case("page units", "page", "/units", roles.FIGURES, marker='data-unit="{unit}"'),
    Case("page reports", "page", "/reports?period=month&on=2026-03-02&node={branch}",
         roles.FIGURES, node=True),
    Case("page report rated", "page", "/reports/rated?from=2026-03-01&to=2026-03-31",
         roles.FIGURES, marker="{unit}/{txn}"),
    Case("page report export", "page",
         "/reports/export/window?format=csv&period=month&on=2026-03-02&node={branch}",
         roles.FIGURES, node=True),
]


@dataclass
class World:
    hq: EmbeddedHQ
    tokens: dict[str, str]
    pages: dict[str, requests.Session]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with running_hq(tmp_path_factory.mktemp("scope")) as hq:
        seed_tree(hq.root / "data" / "events.db")
        seed_transactions(hq.deps.events)
        for unit, txn in (("u1", "t1"), ("u2", "t2"), ("u3", "t3")):
            body = f"clip {txn} ".encode() * 20
            up = hq.deps.clips.create(unit, txn, len(body), hashlib.sha256(body).hexdigest())
            hq.deps.clips.append(up.upload_id, unit, 0, body)
            hq.deps.audit.append(actor="seed", role="auditor", action="transaction_view",
                                 object_type="transaction", object_id=f"{unit}/{txn}",
                                 client="10.9.9.9")
        users = hq.deps.user_store()
        for role, scope in ROLE_SCOPES.items():
            users.create_user(f"r-{role}", PW, role, scope=Scope.parse(scope))
        tokens = {role: users.issue_token(f"r-{role}").token for role in ROLE_SCOPES}
        pages = {role: page_session(hq, f"r-{role}", PW) for role in ROLE_SCOPES}
        yield World(hq, tokens, pages)


def _covers_outside(role: str) -> bool:
    return Scope.parse(ROLE_SCOPES[role]).level == "all"


@pytest.mark.parametrize("where", ["inside", "outside"])
@pytest.mark.parametrize("role", sorted(ROLE_SCOPES))
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_scope_table(world: World, case: Case, role: str, where: str) -> None:
    node = INSIDE if where == "inside" else OUTSIDE
    url = world.hq.url + case.path.format(**node)
    headers = dict(case.headers)
    if case.kind == "api":
        headers["Authorization"] = f"Bearer {world.tokens[role]}"
        r = requests.get(url, headers=headers, verify=str(world.hq.ca_pem), timeout=10,
                         allow_redirects=False)
    else:
        r = world.pages[role].get(url, headers=headers, timeout=10, allow_redirects=False)
    visible = where == "inside" or _covers_outside(role)
    if not allowed(role, case.permission):
        expected = 403
    elif case.node and not visible:
        expected = 404
    else:
        expected = 206 if dict(case.headers).get("Range") else 200
    assert r.status_code == expected, (r.status_code, r.text[:300])
    if r.status_code in (200, 206) and case.marker:
        body = r.text.replace(": ", ":")
        if case.filtered:  # only the node asked for, and only if visible
            other = OUTSIDE if where == "inside" else INSIDE
            assert (case.marker.format(**node) in body) is visible
            assert case.marker.format(**other) not in body
        else:
            assert case.marker.format(**INSIDE) in body
            assert (case.marker.format(**OUTSIDE) in body) is _covers_outside(role)
    if r.status_code in (403, 404) and case.node:  # not one byte of any clip
        assert "clip t1 clip" not in r.text and "clip t3 clip" not in r.text


def test_every_role_and_case_is_in_the_table() -> None:
    assert set(ROLE_SCOPES) == roles.ROLES
    assert len({c.name for c in CASES}) == len(CASES)
