"""The login form and the offline /v1/docs page in a real browser (Debian's Chromium via
Playwright, over the embedded HQ's HTTPS): the Secure, HttpOnly, SameSite=Strict cookie
is taken by the browser, and Swagger UI renders from HQ's own files with no other host.
The browser comes from tests/browser/conftest.py: one Playwright per test process.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser

from hq.server.embedded import EmbeddedHQ, running_hq

PW = "a long enough password"


@pytest.fixture(scope="module")
def hq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedHQ]:
    with running_hq(tmp_path_factory.mktemp("chromium")) as server:
        server.deps.user_store().create_user("root", PW, "admin")
        yield server


def test_login_logout_and_language_in_chromium(hq: EmbeddedHQ, browser: Browser) -> None:
    ctx = browser.new_context(ignore_https_errors=True)
    page = ctx.new_page()
    hosts: set[str] = set()
    page.on("request", lambda r: hosts.add(urlsplit(r.url).netloc))
    page.goto(hq.url + "/users")
    assert "/login?next=/users" in page.url
    page.fill("input[name=username]", "root")
    page.fill("input[name=password]", PW)
    page.click("button[type=submit]")
    page.wait_for_url("**/users")
    (cookie,) = [c for c in ctx.cookies() if c["name"] == "__Host-cu-session"]
    assert (cookie["secure"], cookie["httpOnly"], cookie["sameSite"]) == (True, True, "Strict")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    page.click("button[name=lang][value=en]")
    page.wait_for_function("document.documentElement.lang === 'en'")
    page.click("text=Log out")
    page.wait_for_url("**/login")
    assert hosts == {urlsplit(hq.url).netloc}
    ctx.close()


def test_openapi_page_renders_offline(hq: EmbeddedHQ, browser: Browser) -> None:
    ctx = browser.new_context(ignore_https_errors=True)
    page = ctx.new_page()
    hosts: set[str] = set()
    page.on("request", lambda r: hosts.add(urlsplit(r.url).netloc))
    page.goto(hq.url + "/v1/docs")
    page.wait_for_selector(".opblock", timeout=15000)
    assert page.locator(".opblock").count() >= 10
    assert "Unable to render" not in page.content()
    assert hosts == {urlsplit(hq.url).netloc}
    ctx.close()
