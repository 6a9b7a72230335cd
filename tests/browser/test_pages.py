"""HQ's pages in a real browser: log in, find and play a transaction, download its clip,
and see nothing outside one's scope."""

from __future__ import annotations

import hashlib
import zoneinfo
from pathlib import Path

from playwright.sync_api import Page

from .conftest import log_in
from .site import TRAFFIC, Site


def test_login_lands_on_the_dashboard_in_chinese(site: Site, page: Page) -> None:
    page.goto(site.url + "/transactions")
    assert "/login" in page.url  # no session: the login form first
    log_in(page, site, "admin")
    assert page.url == site.url + "/"
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.locator("h1").inner_text() == "大厅实时看板"
    tiles = page.locator(".tile")
    assert tiles.count() == 3
    # Branch names come with their zones.
    halls = page.locator("section.hall h2").all_inner_texts()
    assert sorted(halls) == ["乌鲁木齐支行 · Asia/Urumqi — 营业厅",
                             "浦东支行 · Asia/Shanghai — 一楼大厅"]


def test_search_open_play_and_download_a_transaction(site: Site, page: Page,
                                                     tmp_path: Path) -> None:
    log_in(page, site, "auditor", "/transactions")
    page.select_option('select[name="branch"]', "A")
    page.select_option('select[name="window"]', "A-W1")  # (the live tests rate at A-W2)
    page.select_option('select[name="rating"]', "5")
    with page.expect_navigation():
        page.click('#txn-search button[type="submit"]')
    rows = page.locator("#txn-results tbody tr[data-txn]")
    assert rows.count() == 1
    assert rows.first.get_attribute("data-txn") == "unit-a1/a1-t1"
    assert "Asia/Shanghai" in rows.first.inner_text()
    with page.expect_navigation():
        rows.first.locator("a").click()
    assert page.url.endswith("/transactions/unit-a1/a1-t1")
    kinds = page.locator("#timeline li").evaluate_all("els => els.map(e => e.dataset.kind)")
    assert kinds == ["arrive", "prompt", "rating", "leave"]
    # Play until past two seconds, with no media error.
    page.evaluate("document.getElementById('clip').muted = true")
    page.evaluate("document.getElementById('clip').play()")
    page.wait_for_function("() => { const v = document.getElementById('clip');"
                           " return v.error || v.currentTime > 2; }", timeout=15_000)
    assert page.evaluate("document.getElementById('clip').error") is None
    assert page.evaluate("document.getElementById('clip').currentTime") > 2
    # Download it; the bytes are the unit's.
    with page.expect_download() as got:
        page.click("#clip-download")
    saved = tmp_path / "clip.mp4"
    got.value.save_as(saved)
    digest = hashlib.sha256(saved.read_bytes()).hexdigest()
    assert digest == site.units["unit-a1"].clips["a1-t1"]
    assert page.locator("#clip-sha256").inner_text() == digest
    # Every view, play and download is in the audit log.
    records = site.hq.deps.audit.query(actor="aud", limit=1000)
    actions = {(r.action, r.object_id) for r in records}
    assert ("transaction_view", "unit-a1/a1-t1") in actions
    assert ("clip_play", "unit-a1/a1-t1") in actions
    assert ("clip_download", "unit-a1/a1-t1") in actions
    assert any(r.action == "search" for r in records)


def test_branch_manager_of_a_sees_nothing_of_b(site: Site, page: Page) -> None:
    log_in(page, site, "manager_a")
    assert page.locator(".tile").count() == 2
    assert page.locator("#window-B-W1").count() == 0
    page.goto(site.url + "/transactions")
    found = page.locator("#txn-results tbody tr[data-txn]").evaluate_all(
        "els => els.map(e => e.dataset.txn)")
    # (The live-dashboard tests add rated transactions at A-W2 as they run.)
    assert {"unit-a1/a1-t1", "unit-a1/a1-t2", "unit-a2/a2-t1"} <= set(found)
    assert all(t.startswith(("unit-a1/", "unit-a2/")) for t in found), found
    assert "乌鲁木齐" not in page.content()
    # Guessed ids of branch B: the same 404 as ids that do not exist.
    for path in ("/transactions/unit-b1/b1-t1", "/transactions/unit-b1/b1-t1/clip",
                 "/transactions/nope/nothing"):
        resp = page.goto(site.url + path)
        assert resp is not None and resp.status == 404, path
        text = page.locator("main").inner_text()
        assert "乌鲁木齐" not in text and "阿依古丽" not in text
    resp = page.goto(site.url + "/transactions?branch=B")
    assert resp is not None and resp.status == 400


def test_english_and_a_bad_form_value(site: Site, page: Page) -> None:
    page.goto(site.url + "/login?lang=en")
    log_in(page, site, "admin", "/transactions")
    resp = page.goto(site.url + "/transactions?dmin=abc")
    assert resp is not None and resp.status == 400
    assert "dmin" in page.locator("main").inner_text()


def test_figures_pages_draw_their_charts(site: Site, page: Page) -> None:
    log_in(page, site, "manager_a", "/windows")
    # Days are read in the branch's zone (Asia/Shanghai), where the traffic may span two.
    tz = zoneinfo.ZoneInfo("Asia/Shanghai")
    first = (site.now - TRAFFIC).astimezone(tz).date().isoformat()
    day = site.now.astimezone(tz).date().isoformat()
    page.goto(f"{site.url}/windows?from={first}&to={day}")
    assert page.locator("h1").inner_text() == "窗口使用与资源配置"
    assert page.locator("svg.chart").count() == 3
    usage = page.locator("#usage-table tbody tr").all_inner_texts()
    assert len(usage) == 2 and all("浦东支行" in r for r in usage)  # branch A's windows
    page.goto(f"{site.url}/events?from={first}&to={day}")
    assert page.locator("svg.chart").count() >= 2
    bars = page.locator("svg.chart rect[data-category='5']")
    assert bars.count() == 1 and int(bars.get_attribute("data-value") or "0") >= 1
    page.goto(f"{site.url}/units")
    units = page.locator("#units tbody tr").evaluate_all("els => els.map(e => e.dataset.unit)")
    assert sorted(units) == ["unit-a1", "unit-a2"]
    assert page.locator("#units tr.silent").count() == 0  # all heard from just now
