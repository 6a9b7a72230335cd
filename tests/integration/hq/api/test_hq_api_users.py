"""The HQ-user API over real TLS on loopback: tokens, search, transaction detail, audit, users.

Clip playback (downloads, Range, audited reads) is in test_hq_api_clips.py. The server,
its users, transactions t1-t3 and t1's clip come from tests/helpers/hq/users.py.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import pytest
import requests

from hq.api.users.routes import build_users_router
from hq.storage.db.routes import routed
from hq.storage.scope import Scope
from tests.helpers.hq.api import hq_fixture
from tests.helpers.hq.users import HQ, PW, users_hq

hq = hq_fixture(users_hq, backends=True)


# ---- tokens ---------------------------------------------------------------------------

def test_token_flow_login_use_and_refusals(hq: HQ) -> None:
    r = hq.post("/v1/auth/token", {"username": "sue", "password": PW})
    assert r.status_code == 200
    token = r.json()["token"]
    assert dt.datetime.fromisoformat(r.json()["expires"]) > dt.datetime.now(dt.UTC)
    ok = requests.get(hq.url + "/v1/transactions", verify=str(hq.ca_pem), timeout=10,
                      headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200 and len(ok.json()) == 3
    wrong = hq.post("/v1/auth/token", {"username": "sue", "password": PW + "x"})
    unknown = hq.post("/v1/auth/token", {"username": "nobody", "password": PW})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"error": "bad_credentials",
                                              "detail": "wrong username or password"}
    extra = hq.post("/v1/auth/token", {"username": "sue", "password": PW, "admin": True})
    assert 400 <= extra.status_code < 500


def test_logout_revokes_the_token(hq: HQ) -> None:
    token = hq.post("/v1/auth/token", {"username": "aud", "password": PW}).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    r = requests.delete(hq.url + "/v1/auth/token", headers=auth, verify=str(hq.ca_pem),
                        timeout=10)
    assert r.status_code == 204
    again = hq.get("/v1/audit", role=None, headers=auth)
    assert again.status_code == 401


def test_default_user_store_lives_beside_the_config_folder(hq: HQ) -> None:
    build_users_router(hq.deps)
    users_db = hq.deps.config_dir.parent / "users.db"
    target = routed(users_db)  # on PostgreSQL: that file's schema, hq_users
    assert users_db.exists() if target is None else target.schema == "hq_users"


def test_disabled_user_cannot_log_in_and_loses_its_tokens(hq: HQ) -> None:
    hq.users.create_user("leaver", PW, "supervisor")
    token = hq.users.issue_token("leaver").token
    hq.users.disable_user("leaver")
    assert hq.post("/v1/auth/token", {"username": "leaver", "password": PW}).status_code == 401
    r = requests.get(hq.url + "/v1/transactions", verify=str(hq.ca_pem), timeout=10,
                     headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"},
                                     {"Authorization": "Basic c3VlOnB3"}])
@pytest.mark.parametrize("path", ["/v1/transactions", "/v1/transactions/unit-a/t1",
                                  "/v1/clips/unit-a/t1", "/v1/audit"])
def test_no_valid_token_is_401(hq: HQ, path: str, headers: dict[str, str]) -> None:
    r = hq.get(path, role=None, headers=headers)
    assert r.status_code == 401 and r.json()["error"] == "unauthenticated"
    assert r.headers["WWW-Authenticate"] == "Bearer"


# ---- search and detail ----------------------------------------------------------------

@pytest.mark.parametrize(("params", "expected"), [
    ({}, ["t3", "t2", "t1"]),
    ({"branch": "b1"}, ["t2", "t1"]),
    ({"counter": "c2"}, ["t3"]),
    ({"unit": "unit-b"}, ["t3"]),
    ({"staff": "s1"}, ["t3", "t1"]),
    ({"rating": 5}, ["t1"]),
    ({"rating_min": 4}, ["t3", "t1"]),
    ({"rating_max": 2}, ["t2"]),
    ({"suspect": "true"}, ["t2"]),
    ({"suspect": "false"}, ["t3", "t1"]),
    ({"from": "2026-03-02T09:05:00Z"}, ["t3", "t2"]),
    ({"to": "2026-03-02T09:10:00Z"}, ["t1"]),
    ({"limit": 1, "offset": 1}, ["t2"]),
    ({"branch": "b1' OR '1'='1"}, []),
    ({"staff": "s1; DROP TABLE transactions; --"}, []),
    ({"unit": "%' --"}, []),
])
def test_search_filters(hq: HQ, params: dict[str, Any], expected: list[str]) -> None:
    r = hq.get("/v1/transactions", params=params)
    assert r.status_code == 200
    assert [t["txn_id"] for t in r.json()] == expected
    # Whatever was sent, the tables are intact.
    assert len(hq.get("/v1/transactions").json()) == 3


@pytest.mark.parametrize("params", [{"rating": "1 OR 1=1"}, {"limit": 0},
                                    {"limit": 100000}, {"offset": -1},
                                    {"from": "yesterday'; --"}, {"suspect": "maybe"},
                                    {"rating": 10**30}, {"offset": 10**30},
                                    {"from": "9999-12-31T23:59:59-05:00"},
                                    {"to": "0001-01-01T00:00:00+05:00"}])
def test_malformed_search_params_are_4xx(hq: HQ, params: dict[str, Any]) -> None:
    r = hq.get("/v1/transactions", params=params)
    assert 400 <= r.status_code < 500


def test_search_is_audited_with_its_query(hq: HQ) -> None:
    hq.get("/v1/transactions", role="auditor", params={"staff": "s2"})
    last = hq.deps.audit.query(actor="aud", action="search", limit=1000)[-1]
    assert last.object_id == "staff=s2" and last.detail == "results=1"
    assert (last.role, last.client) == ("auditor", "127.0.0.1")


def test_transaction_detail_includes_the_clip_and_is_audited(hq: HQ) -> None:
    r = hq.get("/v1/transactions/unit-a/t1")
    assert r.status_code == 200
    body = r.json()
    assert (body["staff_id"], body["branch_id"], body["rating"]) == ("s1", "b1", 5)
    assert body["clip"] == {"clip_id": "t1", "state": "closed",
                            "sha256": hashlib.sha256(hq.clip).hexdigest(),
                            "size": len(hq.clip), "stored": True,
                            "url": "/v1/clips/unit-a/t1"}
    # t2's clip never reached HQ: known, but not playable.
    t2 = hq.get("/v1/transactions/unit-a/t2").json()
    assert t2["clip"]["stored"] is False and t2["clip"]["url"] is None
    assert [a.action for a in hq.audit("unit-a/t1")].count("transaction_view") >= 1


@pytest.mark.parametrize("path", ["/v1/transactions/unit-a/nope",
                                  "/v1/transactions/unit-b/t1"])
def test_unknown_transaction_is_404(hq: HQ, path: str) -> None:
    r = hq.get(path)
    assert r.status_code == 404 and r.json()["error"] == "not_found"


# ---- audit log and users --------------------------------------------------------------

@pytest.mark.parametrize(("role", "status"), [("auditor", 200), ("admin", 200),
                                               ("supervisor", 403)])
def test_audit_log_is_for_auditors_and_admins(hq: HQ, role: str, status: int) -> None:
    hq.get("/v1/clips/unit-a/t1", headers={"Range": "bytes=0-0"})
    r = hq.get("/v1/audit", role=role, params={"object_id": "unit-a/t1",
                                                "action": "clip_play", "limit": 1000})
    assert r.status_code == status
    if status == 200:
        rows = r.json()
        assert rows and all(a["object_id"] == "unit-a/t1" for a in rows)
        assert rows[-1]["actor"] == "sue" and rows[-1]["detail"].startswith("sent=0-0/")


def test_admin_creates_users_and_others_cannot(hq: HQ) -> None:
    body = {"username": "new-sup", "password": PW, "role": "hall_supervisor",
            "scope": "hall:h1"}
    assert hq.post("/v1/users", body, role="supervisor").status_code == 403
    assert hq.post("/v1/users", body).status_code == 401
    r = hq.post("/v1/users", body, role="admin")
    assert r.status_code == 201 and r.json()["role"] == "hall_supervisor"
    assert r.json()["scope"] == "hall:h1"
    unscoped = hq.post("/v1/users", {**body, "username": "new-sup2", "scope": None},
                       role="admin")
    assert unscoped.status_code == 400 and "needs a scope" in unscoped.json()["detail"]
    assert hq.post("/v1/users", body, role="admin").status_code == 409
    bad = hq.post("/v1/users", {**body, "username": "x", "role": "root"}, role="admin")
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_user"
    login = hq.post("/v1/auth/token", {"username": "new-sup", "password": PW})
    assert login.status_code == 200


def test_openapi_documents_the_routes(hq: HQ) -> None:
    paths = requests.get(hq.url + "/v1/openapi.json", verify=str(hq.ca_pem),
                         timeout=10).json()["paths"]
    assert {"/v1/auth/token", "/v1/transactions", "/v1/transactions/{unit_id}/{txn_id}",
            "/v1/clips/{unit_id}/{clip_id}", "/v1/audit", "/v1/users"} <= set(paths)


def test_admin_lists_disables_enables_unlocks_and_revokes(hq: HQ) -> None:
    hq.users.create_user("acct1", PW, "viewer", scope=Scope.parse("hall:h1"))
    token = hq.users.issue_token("acct1").token
    auth = {"Authorization": f"Bearer {token}"}
    listed = hq.get("/v1/users", role="admin")
    assert listed.status_code == 200
    assert {"username": "acct1", "role": "viewer", "scope": "hall:h1"}.items() <= next(
        u for u in listed.json() if u["username"] == "acct1").items()
    assert hq.get("/v1/users", role="auditor").status_code == 403
    r = hq.post("/v1/users/acct1/revoke", None, role="admin")
    assert r.status_code == 200 and r.json()["changed"] == 1
    assert hq.get("/v1/transactions", role=None, headers=auth).status_code == 401
    assert hq.post("/v1/users/acct1/disable", None, role="admin").status_code == 200
    assert hq.post("/v1/auth/token", {"username": "acct1", "password": PW}).status_code == 401
    assert hq.post("/v1/users/acct1/enable", None, role="admin").status_code == 200
    assert hq.post("/v1/auth/token", {"username": "acct1", "password": PW}).status_code == 200
    assert hq.post("/v1/users/acct1/unlock", None, role="admin").json()["changed"] == 0
    assert hq.post("/v1/users/acct1/revoke", None, role="supervisor").status_code == 403
    assert hq.post("/v1/users/nobody/revoke", None, role="admin").status_code == 404
    assert hq.post("/v1/users/acct1/explode", None, role="admin").status_code == 404
    assert hq.post("/v1/users/root/disable", None, role="admin").status_code == 400
    actions = [a.action for a in hq.deps.audit.query(object_id="acct1", actor="root",
                                                     limit=100)]
    assert actions == ["user_revoke", "user_disable", "user_enable", "user_unlock"]
