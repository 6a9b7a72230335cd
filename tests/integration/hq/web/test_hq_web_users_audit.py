"""/users and /audit over real HTTPS: the admin's account actions, each audited, and the
audit log filtered, paged and scoped."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import requests

from hq.api.deps import HQDeps
from hq.server.embedded import EmbeddedHQ, running_hq
from hq.storage.scope import Scope
from tests.helpers.hq.scope import seed_transactions, seed_tree
from tests.helpers.hq.web import HTML, browser, login_response, page_session, post_form

PW = "a long enough password"


@pytest.fixture(scope="module")
def hq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedHQ]:
    with running_hq(tmp_path_factory.mktemp("users-page")) as server:
        seed_tree(server.root / "data" / "events.db")
        seed_transactions(server.deps.events)
        users = server.deps.user_store()
        users.create_user("root", PW, "admin", language="en")
        users.create_user("aud1", PW, "auditor", scope=Scope.parse("branch:b1"))
        users.create_user("audall", PW, "auditor", scope=Scope.everything())
        users.create_user("vic", PW, "viewer", scope=Scope.parse("branch:b1"))
        yield server


@pytest.fixture(scope="module")
def admin(hq: EmbeddedHQ) -> requests.Session:
    return page_session(hq, "root", PW)


def _users_page(admin: requests.Session, hq: EmbeddedHQ) -> str:
    r = admin.get(hq.url + "/users", timeout=10)
    assert r.status_code == 200
    return r.text


def test_admin_adds_a_user_and_a_bad_one_changes_nothing(admin: requests.Session,
                                                         hq: EmbeddedHQ) -> None:
    page = _users_page(admin, hq)
    r = post_form(admin, hq, "/users", {"username": "mgr1", "password": PW,
                                        "role": "branch_manager", "scope": "branch:b1",
                                        "language": "zh-CN", "email": "m@bank.example"}, page)
    assert r.status_code == 303 and r.headers["location"].startswith("/users?done=added")
    listed = admin.get(hq.url + r.headers["location"], timeout=10).text
    assert 'data-user="mgr1"' in listed and "User mgr1 added." in listed
    assert hq.deps.user_store().user("mgr1").contact.email == "m@bank.example"
    before = [u.username for u in hq.deps.user_store().users()]
    for bad in ({"role": "viewer", "scope": ""}, {"role": "viewer", "scope": "region:x"},
                {"role": "root", "scope": "all"}, {"password": "short", "role": "viewer",
                                                   "scope": "all"}):
        r = post_form(admin, hq, "/users", {"username": "bad1", "password": PW, **bad}, page)
        assert r.status_code == 400 and "Not added" in r.text, bad
    dup = post_form(admin, hq, "/users", {"username": "mgr1", "password": PW,
                                          "role": "viewer", "scope": "all"}, page)
    assert dup.status_code == 409
    assert [u.username for u in hq.deps.user_store().users()] == before
    created = hq.deps.audit.query(action="user_create", object_id="mgr1", limit=10)
    assert [(r.actor, r.detail) for r in created] == [("root",
                                                       "role=branch_manager; scope=branch:b1")]


def test_disable_revoke_password_unlock_and_enable(admin: requests.Session,
                                                   hq: EmbeddedHQ) -> None:
    users = hq.deps.user_store()
    users.create_user("tmp1", PW, "viewer", scope=Scope.parse("hall:h1"))
    theirs = page_session(hq, "tmp1", PW)
    page = _users_page(admin, hq)
    assert post_form(admin, hq, "/users/tmp1/revoke", {}, page).status_code == 303
    assert theirs.get(hq.url + "/", timeout=10, allow_redirects=False).status_code == 303
    theirs = page_session(hq, "tmp1", PW)
    assert post_form(admin, hq, "/users/tmp1/disable", {}, page).status_code == 303
    assert theirs.get(hq.url + "/", timeout=10, allow_redirects=False).status_code == 303
    assert login_response(browser(hq), hq, "tmp1", PW).status_code == 401
    assert post_form(admin, hq, "/users/tmp1/enable", {}, page).status_code == 303
    short = post_form(admin, hq, "/users/tmp1/password", {"password": "short"}, page)
    assert short.status_code == 400
    r = post_form(admin, hq, "/users/tmp1/password", {"password": "a new long password"}, page)
    assert r.status_code == 303
    assert login_response(browser(hq), hq, "tmp1", "a new long password").status_code == 303
    # Ten failures in a row, as test_hq_login_guard drives them in time, set this row.
    with users._lock:
        users._conn.execute("INSERT OR REPLACE INTO login_locks VALUES ('tmp1', 10, "
                            "'2026-01-01T00:00:00.000000Z')")
    assert "locked" in _users_page(admin, hq)
    assert login_response(browser(hq), hq, "tmp1", "a new long password").status_code == 429
    assert post_form(admin, hq, "/users/tmp1/unlock", {}, page).status_code == 303
    assert login_response(browser(hq), hq, "tmp1", "a new long password").status_code == 303
    r = post_form(admin, hq, "/users/tmp1/role", {"role": "hall_supervisor",
                                                   "scope": "hall:h2"}, page)
    assert r.status_code == 303 and users.user("tmp1").scope.text() == "hall:h2"
    actions = [r.action for r in hq.deps.audit.query(object_id="tmp1", object_type="user",
                                                     actor="root", limit=100)]
    assert actions == ["user_revoke", "user_disable", "user_enable", "user_password",
                       "user_unlock", "user_role"]


def test_admin_cannot_disable_itself_and_unknown_users_are_404(admin: requests.Session,
                                                               hq: EmbeddedHQ) -> None:
    page = _users_page(admin, hq)
    assert post_form(admin, hq, "/users/root/disable", {}, page).status_code == 400
    assert post_form(admin, hq, "/users/nobody/disable", {}, page).status_code == 404
    assert post_form(admin, hq, "/users/vic/explode", {}, page).status_code == 404
    no_csrf = admin.post(hq.url + "/users/vic/disable", allow_redirects=False, timeout=10)
    assert no_csrf.status_code == 403 and hq.deps.user_store().user("vic").enabled


@pytest.mark.parametrize("who", ["vic", "aud1"])
def test_users_page_is_for_admins_only(hq: EmbeddedHQ, who: str) -> None:
    s = page_session(hq, who, PW)
    assert s.get(hq.url + "/users", timeout=10).status_code == 403
    r = post_form(s, hq, "/users", {"username": "x1", "password": PW, "role": "admin"})
    assert r.status_code == 403


def _api_token(hq: EmbeddedHQ, who: str) -> str:
    r = requests.post(hq.url + "/v1/auth/token", json={"username": who, "password": PW},
                      verify=str(hq.ca_pem), timeout=30)
    return str(r.json()["token"])


def test_audit_page_lists_recording_views_within_the_readers_scope(hq: EmbeddedHQ) -> None:
    token = _api_token(hq, "audall")
    for path in ("/v1/transactions/u1/t1", "/v1/transactions/u3/t3"):
        assert requests.get(hq.url + path, headers={"Authorization": f"Bearer {token}"},
                            verify=str(hq.ca_pem), timeout=10).status_code == 200
    everything = page_session(hq, "audall", PW).get(
        hq.url + "/audit", params={"action": "recordings"}, timeout=10).text
    assert "u1/t1" in everything and "u3/t3" in everything
    narrow = page_session(hq, "aud1", PW).get(
        hq.url + "/audit", params={"action": "recordings"}, timeout=10).text
    assert "u1/t1" in narrow and "u3/t3" not in narrow
    api = requests.get(hq.url + "/v1/audit", params={"action": "transaction_view"},
                       headers={"Authorization": f"Bearer {_api_token(hq, 'aud1')}"},
                       verify=str(hq.ca_pem), timeout=10).json()
    assert {r["object_id"] for r in api} == {"u1/t1"}
    reads = hq.deps.audit.query(action="audit_read", actor="aud1", limit=10)
    assert reads and reads[0].object_id == "action=recordings"


def test_audit_page_filters_pages_and_refuses_bad_values(admin: requests.Session,
                                                         hq: EmbeddedHQ) -> None:
    for i in range(60):
        hq.deps.audit.append(actor="bulk", role="viewer", action="search",
                             object_type="transactions", object_id=f"q{i:02d}",
                             client="10.0.0.1", detail="results=0")
    first = admin.get(hq.url + "/audit", params={"actor": "bulk"}, timeout=10)
    assert first.status_code == 200
    assert len(re.findall(r"transactions q\d\d", first.text)) == 50
    assert "q59" in first.text and "q09" not in first.text  # newest first
    older = re.search(r'href="(/audit\?[^"]*page=1)"', first.text)
    assert older
    second = admin.get(hq.url + older.group(1).replace("&amp;", "&"), timeout=10)
    assert len(re.findall(r"transactions q\d\d", second.text)) == 10
    for params in ({"from": "yesterday"}, {"action": "drop_table"}, {"page": "-1"}):
        r = admin.get(hq.url + "/audit", params=params, timeout=10)
        assert r.status_code == 400, params
    assert page_session(hq, "vic", PW).get(hq.url + "/audit", timeout=10).status_code == 403
    anon = requests.get(hq.url + "/audit", headers=HTML, verify=str(hq.ca_pem), timeout=10,
                        allow_redirects=False)
    assert anon.status_code == 303


def test_page_audit_trail_records_and_fails_closed(hq: EmbeddedHQ) -> None:
    import dataclasses

    from starlette.requests import Request as StarletteRequest

    from hq.storage import SqliteAuditLog
    from hq.web.admin.audit_trail import record
    from hq.web.auth import PageError, WebContext

    users = hq.deps.user_store()
    user = users.user("aud1")

    def request(deps: HQDeps) -> StarletteRequest:
        app = type("App", (), {"state": type("S", (), {"web": WebContext(deps, users)})()})()
        return StarletteRequest({"type": "http", "app": app, "client": ("10.0.0.5", 1),
                                 "headers": [], "method": "GET", "path": "/x"})

    record(request(hq.deps), user, "transaction_view", "transaction", "u1/t1")
    last = hq.deps.audit.query(actor="aud1", action="transaction_view", limit=1000)[-1]
    assert (last.object_id, last.client, last.detail) == ("u1/t1", "10.0.0.5", "via=page")
    broken = SqliteAuditLog(hq.root / "broken.db")
    broken.close()
    with pytest.raises(PageError) as info:
        record(request(dataclasses.replace(hq.deps, audit=broken)), user, "clip_play", "clip",
               "u1/t1")
    assert info.value.status == 503
