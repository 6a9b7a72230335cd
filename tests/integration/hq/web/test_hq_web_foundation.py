"""HQ's page foundation over real HTTPS: login form, session cookie, CSRF, language, docs.

One embedded HQ (hq/server/embedded.py, real uvicorn and TLS) for the module; users are made in
its own users.db; requests.Session plays the browser.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from hq.server.embedded import EmbeddedHQ, running_hq
from hq.storage.scope import Scope
from tests.helpers.hq.web import HTML, browser, csrf, login_response, page_session, post_form

PW = "a long enough password"


@pytest.fixture(scope="module")
def hq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedHQ]:
    with running_hq(tmp_path_factory.mktemp("web")) as server:
        users = server.deps.user_store()
        users.create_user("root", PW, "admin")
        users.create_user("vic", PW, "viewer", scope=Scope.parse("branch:b1"))
        users.create_user("eve", PW, "viewer", scope=Scope.parse("branch:b1"), language="en")
        yield server


def _cookie_attrs(resp: requests.Response, name: str) -> str:
    headers = resp.raw.headers.getlist("set-cookie")
    (line,) = [h for h in headers if h.startswith(name + "=")]
    return line.lower()


@pytest.mark.parametrize("path", ["/", "/?x=1", "/anything-later"])
def test_a_page_without_a_session_redirects_to_login(hq: EmbeddedHQ, path: str) -> None:
    r = requests.get(hq.url + path, headers=HTML, verify=str(hq.ca_pem), timeout=10,
                     allow_redirects=False)
    if path == "/anything-later":  # no such page: 404, still a page
        assert r.status_code == 404 and "text/html" in r.headers["content-type"]
        return
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login?next=/")


def test_json_without_a_session_is_401(hq: EmbeddedHQ) -> None:
    r = requests.get(hq.url + "/", headers={"Accept": "application/json"},
                     verify=str(hq.ca_pem), timeout=10, allow_redirects=False)
    assert r.status_code == 401 and r.json()["error"] == "unauthenticated"


def test_login_sets_a_strict_secure_httponly_session(hq: EmbeddedHQ) -> None:
    s = browser(hq)
    form = s.get(hq.url + "/login", timeout=10)
    assert form.status_code == 200
    assert 'name="username"' in form.text and 'name="password"' in form.text
    attrs = _cookie_attrs(form, "__Host-cu-login")
    assert "httponly" in attrs and "secure" in attrs and "samesite=strict" in attrs
    r = login_response(s, hq, "root", PW, next_url="/?from=login")
    assert r.status_code == 303 and r.headers["location"] == "/?from=login"
    attrs = _cookie_attrs(r, "__Host-cu-session")
    assert "httponly" in attrs and "secure" in attrs and "samesite=strict" in attrs
    assert "path=/" in attrs and "domain" not in attrs
    home = s.get(hq.url + "/", timeout=10)
    assert home.status_code == 200 and "root" in home.text


def test_wrong_password_and_foreign_next_are_refused(hq: EmbeddedHQ) -> None:
    s = browser(hq)
    r = login_response(s, hq, "root", PW + "x")
    assert r.status_code == 401 and "__Host-cu-session" not in r.cookies
    assert "用户名或密码错误" in r.text
    r = login_response(s, hq, "vic", PW, next_url="//evil.example/")
    assert r.status_code == 303 and r.headers["location"] == "/"


def test_login_form_needs_its_csrf_pair(hq: EmbeddedHQ) -> None:
    s = browser(hq)
    s.get(hq.url + "/login", timeout=10)
    r = s.post(hq.url + "/login", data={"username": "root", "password": PW,
                                        "csrf_token": "forged"}, allow_redirects=False)
    assert r.status_code == 403
    bare = requests.post(hq.url + "/login", data={"username": "root", "password": PW},
                         verify=str(hq.ca_pem), headers=HTML, allow_redirects=False)
    assert bare.status_code == 403


def test_post_without_csrf_is_refused_and_with_it_logs_out(hq: EmbeddedHQ) -> None:
    s = page_session(hq, "vic", PW)
    r = s.post(hq.url + "/logout", allow_redirects=False, timeout=10)
    assert r.status_code == 403
    assert s.get(hq.url + "/", timeout=10, allow_redirects=False).status_code == 200
    wrong = s.post(hq.url + "/logout", data={"csrf_token": "x" * 43}, allow_redirects=False)
    assert wrong.status_code == 403
    ok = post_form(s, hq, "/logout", {})
    assert ok.status_code == 303 and ok.headers["location"] == "/login"
    again = s.get(hq.url + "/", timeout=10, allow_redirects=False)
    assert again.status_code == 303


def test_csrf_header_works_for_scripts(hq: EmbeddedHQ) -> None:
    s = page_session(hq, "vic", PW)
    token = csrf(s.get(hq.url + "/", timeout=10).text)
    r = s.post(hq.url + "/logout", headers={"X-CSRF-Token": token}, allow_redirects=False)
    assert r.status_code == 303


def test_menu_follows_the_role(hq: EmbeddedHQ) -> None:
    admin = page_session(hq, "root", PW).get(hq.url + "/", timeout=10).text
    viewer = page_session(hq, "vic", PW).get(hq.url + "/", timeout=10).text
    for path in ("/transactions", "/users", "/audit", "/org"):
        assert f'href="{path}"' in admin
        assert f'href="{path}"' not in viewer
    for path in ("/windows", "/events", "/reports", "/units"):
        assert f'href="{path}"' in viewer


def test_language_default_chinese_then_per_user_and_switch(hq: EmbeddedHQ) -> None:
    s = page_session(hq, "vic", PW)
    page = s.get(hq.url + "/", timeout=10).text
    assert '<html lang="zh-CN">' in page and "退出登录" in page
    english = page_session(hq, "eve", PW).get(hq.url + "/", timeout=10).text
    assert '<html lang="en">' in english and "Log out" in english
    r = post_form(s, hq, "/lang", {"lang": "en", "next": "/"}, page)
    assert r.status_code == 303
    assert "Log out" in s.get(hq.url + "/", timeout=10).text
    assert hq.deps.user_store().user("vic").language == "en"
    post_form(s, hq, "/lang", {"lang": "zh-CN", "next": "/"})
    anon = browser(hq).get(hq.url + "/login", params={"lang": "en"}, timeout=10).text
    assert "Username" in anon


def test_pages_carry_security_headers_and_no_outside_urls(hq: EmbeddedHQ) -> None:
    s = page_session(hq, "root", PW)
    r = s.get(hq.url + "/", timeout=10)
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert r.headers["x-frame-options"] == "DENY"
    assert not re.search(r"(src|href)=\"(https?:)?//", r.text)
    css = s.get(hq.url + "/static/app.css", timeout=10)
    js = s.get(hq.url + "/static/app.js", timeout=10)
    assert css.status_code == js.status_code == 200
    assert "text/css" in css.headers["content-type"] and "X-CSRF-Token" in js.text


def test_openapi_page_loads_its_assets_from_hq(hq: EmbeddedHQ) -> None:
    page = requests.get(hq.url + "/v1/docs", verify=str(hq.ca_pem), timeout=10)
    assert page.status_code == 200
    urls = re.findall(r"(?:src|href)=['\"]([^'\"]+)['\"]", page.text)
    urls += re.findall(r"url: ?['\"]([^'\"]+)['\"]", page.text)
    assert urls and all(u.startswith("/v1/") for u in urls), urls
    assert "cdn" not in page.text.lower()
    for u in urls:
        r = requests.get(hq.url + u, verify=str(hq.ca_pem), timeout=10)
        assert r.status_code == 200, u
    assert len(requests.get(hq.url + "/v1/docs-assets/swagger-ui-bundle.js",
                            verify=str(hq.ca_pem), timeout=10).content) > 100_000


def test_sessions_are_rows_in_users_db(hq: EmbeddedHQ) -> None:
    # Sessions live in users.db (shared by HQ workers), never in worker memory.
    s = page_session(hq, "root", PW)
    assert s.get(hq.url + "/", timeout=10).status_code == 200
    live = hq.deps.user_store().sessions.live(dt.datetime.now(dt.UTC), "root")
    assert live and all(i.client == "127.0.0.1" for i in live)
    assert Path(hq.root / "data" / "users.db").exists()


def test_a_second_worker_on_the_same_data_honours_the_session(hq: EmbeddedHQ) -> None:
    # Two HQ processes' worth of app (own stores, own connections) on one data folder:
    # the session made by one is valid at the other, and its logout ends it for both.
    s = page_session(hq, "root", PW)
    cookie = str(s.cookies["__Host-cu-session"])
    with running_hq(hq.root) as second:
        other = f"https://localhost:{second.port}"
        assert s.get(other + "/", timeout=10, allow_redirects=False).status_code == 200
        token = csrf(s.get(other + "/", timeout=10).text)
        r = s.post(other + "/logout", data={"csrf_token": token}, allow_redirects=False)
        assert r.status_code == 303
    replay = requests.get(hq.url + "/", cookies={"__Host-cu-session": cookie}, headers=HTML,
                          verify=str(hq.ca_pem), timeout=10, allow_redirects=False)
    assert replay.status_code == 303  # ended at the first worker too, cookie or not
