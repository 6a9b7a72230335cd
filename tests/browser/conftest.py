"""Headless Chromium (Debian's /usr/bin/chromium) driven by Playwright, for tests/browser/.

Never ``playwright install``: the system browser is launched by path. Playwright's
``launch`` gives it a fresh temporary profile (user-data dir) each time and removes it
after; the flags switch off everything that would reach the network at start-up.
Each test gets its own browser context (own cookies), so two users never share a session.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from .site import Site, seeded_site

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--autoplay-policy=no-user-gesture-required"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/browser/ is marked ``browser``."""
    for item in items:
        if "/tests/browser/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """One headless Chromium per test process."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make apt` installs chromium (tests/browser.mk)")
    b = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
    try:
        yield b
    finally:
        b.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh context: no cookies, HQ's own CA not known (so HTTPS errors ignored)."""
    ctx = browser.new_context(ignore_https_errors=True, accept_downloads=True,
                              locale="zh-CN")
    ctx.set_default_timeout(10_000)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """One seeded HQ per test process (tests that change it use windows of their own)."""
    with seeded_site(tmp_path_factory.mktemp("site")) as s:
        yield s


def log_in(page: Page, site: Site, who: str, next_path: str = "/") -> None:
    """Log in through the login form, as a person would."""
    username, password = site.login(who)
    page.goto(f"{site.url}/login?next={next_path}")
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', password)
    with page.expect_navigation():
        page.click('form[action="/login"] button[type="submit"]')
